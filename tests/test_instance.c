/* test_instance.c — creating instances and firing events: guards, actions,
 * rejections, idempotency, rollback, links, queries, and two processes at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
    char *dir;
    char *db;
    cft_clock clock;
    cf_engine *e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "test.db");
    f->clock.now = cft_time("2025-01-06T17:00:00Z");
    f->e = cft_open_fixture(f->db, &f->clock);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cf_engine_close(f->e);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void create(fixture *f, const char *wf, const char *data, char id[37])
{
    int rc = cf_instance_create(f->e, wf, "alameda", data, "tester", id);
    if (rc != CF_OK)
        fail_msg("create %s: %s", wf, cf_errmsg(f->e));
}

static json_t *data_of(fixture *f, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    json_t *v = json_loads(info.data, 0, NULL);
    assert_non_null(v);
    return v;
}

static void test_create_and_get(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", "{\"holder\":\"Ana\"}", id);
    assert_int_equal(strlen(id), 36);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    assert_string_equal(info.workflow, "permit");
    assert_string_equal(info.county, "alameda");
    assert_string_equal(info.state, "pending");
    assert_int_equal(info.version, 1);
    assert_int_equal(info.terminal, 0);
    assert_int_equal(strlen(info.definition), 64);
    assert_int_equal(info.created_at, f->clock.now);
    assert_non_null(strstr(info.data, "\"holder\":\"Ana\""));
    assert_int_equal(cft_history_count(f->e, id), 1);
    /* The county overlay sets pending_days = 45: the auto-deny timer is 45 days out. */
    assert_int_equal(cft_timer_count(f->e, cft_time("2025-02-19T07:59:59Z")), 0);
    assert_int_equal(cft_timer_count(f->e, cft_time("2025-02-20T08:00:00Z")), 1);
}

static void test_applied_transition_runs_actions(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, id, "approve", "{\"reviewer\":\"rosa\"}", "rosa", NULL, &r), CF_OK);
    assert_int_equal(r.applied, 1);
    assert_int_equal(r.replayed, 0);
    assert_string_equal(r.from_state, "pending");
    assert_string_equal(r.to_state, "active");
    assert_string_equal(r.reasons, "[]");
    json_t *d = data_of(f, id);
    assert_string_equal(json_string_value(json_object_get(d, "approved_by")), "rosa");
    assert_string_equal(json_string_value(json_object_get(d, "approved_on")), "2025-01-06");
    assert_string_equal(json_string_value(json_object_get(d, "until")), "2026-01-06");
    assert_string_equal(json_string_value(json_object_get(d, "active_since")), "2025-01-06");
    json_decref(d);
    /* pending's timer was cancelled; active's expiry timer replaced it. */
    assert_int_equal(cft_timer_count(f->e, cft_time("2025-12-31T00:00:00Z")), 0);
    assert_int_equal(cft_timer_count(f->e, cft_time("2030-01-01T00:00:00Z")), 1);
}

static void test_rejection_is_recorded_with_reasons(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, id, "approve", "{}", "rosa", NULL, &r), CF_REJECTED);
    assert_int_equal(r.applied, 0);
    assert_string_equal(r.to_state, "pending");
    assert_string_equal(r.reasons, "[\"no reviewer named\"]");
    assert_string_equal(cft_state(f->e, id), "pending");
    assert_int_equal(cft_history_count(f->e, id), 2);
    /* An event that does not apply in this state is also a recorded rejection. */
    assert_int_equal(cf_instance_fire(f->e, id, "expire", NULL, "rosa", NULL, &r), CF_REJECTED);
    assert_non_null(strstr(r.reasons, "does not apply in state 'pending'"));
    assert_int_equal(cft_history_count(f->e, id), 3);
}

static void test_unknown_instance_workflow_event(void **state)
{
    fixture *f = *state;
    char id[37];
    assert_int_equal(cf_instance_create(f->e, "permt", "alameda", NULL, "t", id), CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(f->e), "no workflow named 'permt'; did you mean 'permit'?"));
    assert_int_equal(cf_instance_fire(f->e, "00000000-0000-0000-0000-000000000000", "approve", NULL, "t", NULL, NULL),
                     CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(f->e), "no instance '00000000-0000-0000-0000-000000000000'"));
    create(f, "permit", NULL, id);
    assert_int_equal(cf_instance_fire(f->e, id, "aprove", NULL, "t", NULL, NULL), CF_EEVENT);
    assert_non_null(strstr(cf_errmsg(f->e), "workflow 'permit' has no event 'aprove'; did you mean 'approve'?"));
    /* None of these left a trace. */
    assert_int_equal(cft_history_count(f->e, id), 1);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, "nope", &info), CF_ENOTFOUND);
    assert_int_equal(cf_instance_create(f->e, "permit", "San Diego", NULL, "t", id), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "not a county name"));
}

static void test_malformed_json_changes_nothing(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    assert_int_equal(cf_instance_fire(f->e, id, "approve", "{\"reviewer\": ", "t", NULL, NULL), CF_EJSON);
    assert_non_null(strstr(cf_errmsg(f->e), "event data is not valid JSON"));
    assert_int_equal(cf_instance_fire(f->e, id, "approve", "[1,2]", "t", NULL, NULL), CF_EJSON);
    assert_non_null(strstr(cf_errmsg(f->e), "must be a JSON object"));
    assert_int_equal(cf_instance_fire(f->e, id, "approve", "{\"a\":1,\"a\":2}", "t", NULL, NULL), CF_EJSON);
    char id2[37];
    assert_int_equal(cf_instance_create(f->e, "permit", "alameda", "{oops}", "t", id2), CF_EJSON);
    assert_non_null(strstr(cf_errmsg(f->e), "instance data is not valid JSON"));
    assert_int_equal(cft_history_count(f->e, id), 1);
    assert_string_equal(cft_state(f->e, id), "pending");
    int n = 0;
    cf_instance_filter flt = CF_INSTANCE_FILTER_INIT;
    flt.workflow = "permit";
    assert_int_equal(cf_instance_list(f->e, &flt, NULL, &n), CF_EINVAL);
}

static void test_idempotency_key_replays_and_conflicts(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, id, "bump", "{\"n\":1}", "t", "k-1", &r), CF_OK);
    int64_t seq = r.seq;
    assert_int_equal(cf_instance_fire(f->e, id, "bump", "{\"n\":1}", "t", "k-1", &r), CF_OK);
    assert_int_equal(r.replayed, 1);
    assert_int_equal(r.seq, seq);
    json_t *d = data_of(f, id);
    assert_int_equal(json_integer_value(json_object_get(d, "count")), 1);
    json_decref(d);
    /* Same key, other data: refused, nothing recorded. */
    assert_int_equal(cf_instance_fire(f->e, id, "bump", "{\"n\":2}", "t", "k-1", &r), CF_ECONFLICT);
    assert_non_null(strstr(cf_errmsg(f->e), "idempotency key 'k-1' was already used"));
    assert_int_equal(cft_history_count(f->e, id), 2);
    /* A rejected outcome replays as rejected. */
    assert_int_equal(cf_instance_fire(f->e, id, "approve", NULL, "t", "k-2", &r), CF_REJECTED);
    assert_int_equal(cf_instance_fire(f->e, id, "approve", NULL, "t", "k-2", &r), CF_REJECTED);
    assert_int_equal(r.replayed, 1);
    assert_string_equal(r.reasons, "[\"no reviewer named\"]");
    assert_int_equal(cft_history_count(f->e, id), 3);
    /* Keys are per instance. */
    char other[37];
    create(f, "permit", NULL, other);
    assert_int_equal(cf_instance_fire(f->e, other, "bump", "{\"n\":9}", "t", "k-1", &r), CF_OK);
    assert_int_equal(r.replayed, 0);
}

static void test_action_failure_rolls_back_everything(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", "{\"count\":5}", id);
    int timers_before = cft_timer_count(f->e, INT64_MAX / 2);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    char *data_before = strdup(info.data);
    int rc = cf_instance_fire(f->e, id, "explode", NULL, "t", "boom", NULL);
    assert_int_equal(rc, CF_EPOLICY);
    const char *msg = cf_errmsg(f->e);
    assert_non_null(strstr(msg, "rolled back"));
    assert_non_null(strstr(msg, "fail_action"));
    assert_non_null(strstr(msg, "the fee service is down"));
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    assert_string_equal(info.state, "pending");
    assert_string_equal(info.data, data_before);
    assert_int_equal(info.version, 1);
    assert_int_equal(cft_history_count(f->e, id), 1);
    assert_int_equal(cft_timer_count(f->e, INT64_MAX / 2), timers_before);
    /* The key was not consumed: after the failure the same key may be used again. */
    assert_int_equal(cf_instance_fire(f->e, id, "bump", NULL, "t", "boom", NULL), CF_OK);
    free(data_before);
}

static void test_runaway_guard_is_stopped(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    assert_int_equal(cf_instance_fire(f->e, id, "spin", NULL, "t", NULL, NULL), CF_ELIMIT);
    assert_non_null(strstr(cf_errmsg(f->e), "spin_forever"));
    assert_non_null(strstr(cf_errmsg(f->e), "instruction budget"));
    assert_int_equal(cft_history_count(f->e, id), 1);
    /* The engine keeps serving. */
    cft_fire(f->e, id, "bump", NULL, CF_OK);
}

static void test_linked_events_are_delivered_in_order(void **state)
{
    fixture *f = *state;
    char ledger[37], a[37], b[37];
    create(f, "ledger", NULL, ledger);
    char data[128];
    snprintf(data, sizeof data, "{\"ledger_id\":\"%s\"}", ledger);
    create(f, "permit", data, a);
    create(f, "permit", data, b);
    cft_fire(f->e, a, "post", NULL, CF_OK);
    cft_fire(f->e, b, "post", NULL, CF_OK);
    /* The delivery runs after the fire; the caller's result must still be its own. */
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, a, "post", NULL, "t", NULL, &r), CF_OK);
    assert_string_equal(r.from_state, "pending");
    assert_string_equal(r.to_state, "pending");
    assert_string_equal(r.reasons, "[]");
    json_t *d = data_of(f, ledger);
    assert_int_equal(json_integer_value(json_object_get(d, "entries")), 3);
    assert_string_equal(json_string_value(json_object_get(d, "last_from")), a);
    json_decref(d);
    assert_int_equal(cft_history_count(f->e, ledger), 4);
    /* An empty list of ledgers means nobody to tell. */
    char none[37];
    create(f, "permit", "{\"ledger_id\": []}", none);
    cft_fire(f->e, none, "post", NULL, CF_OK);
    assert_int_equal(cft_history_count(f->e, ledger), 4);
    /* Without a ledger id the sending transition fails whole. */
    char lonely[37];
    create(f, "permit", NULL, lonely);
    assert_int_equal(cf_instance_fire(f->e, lonely, "post", NULL, "t", NULL, NULL), CF_EACTION);
    assert_non_null(strstr(cf_errmsg(f->e), "has no 'ledger_id'"));
    assert_int_equal(cft_history_count(f->e, lonely), 1);
}

static int collect_states(void *ud, const cf_instance_info *info)
{
    char *buf = ud;
    strcat(buf, info->state);
    strcat(buf, ",");
    return 0;
}

static void test_list_filters(void **state)
{
    fixture *f = *state;
    char a[37], b[37], c[37];
    create(f, "permit", NULL, a);
    create(f, "permit", NULL, b);
    create(f, "ledger", NULL, c);
    cft_fire(f->e, b, "approve", "{\"reviewer\":\"x\"}", CF_OK);
    char buf[256] = "";
    cf_instance_filter flt = CF_INSTANCE_FILTER_INIT;
    flt.workflow = "permit";
    assert_int_equal(cf_instance_list(f->e, &flt, collect_states, buf), CF_OK);
    assert_string_equal(buf, "pending,active,");
    buf[0] = '\0';
    flt.state = "active";
    assert_int_equal(cf_instance_list(f->e, &flt, collect_states, buf), CF_OK);
    assert_string_equal(buf, "active,");
    buf[0] = '\0';
    flt.workflow = NULL;
    flt.state = NULL;
    flt.county = "alameda";
    assert_int_equal(cf_instance_list(f->e, &flt, collect_states, buf), CF_OK);
    assert_string_equal(buf, "pending,active,open,");
    buf[0] = '\0';
    flt.county = "kern";
    assert_int_equal(cf_instance_list(f->e, &flt, collect_states, buf), CF_OK);
    assert_string_equal(buf, "");
}

typedef struct hist {
    int rows;
    char last_event[32];
    char last_outcome[16];
    char policy_hash[65];
} hist;

static int collect_history(void *ud, const cf_history_entry *h)
{
    hist *c = ud;
    c->rows++;
    snprintf(c->last_event, sizeof c->last_event, "%s", h->event);
    snprintf(c->last_outcome, sizeof c->last_outcome, "%s", h->outcome);
    snprintf(c->policy_hash, sizeof c->policy_hash, "%s", h->policy_hash);
    assert_int_equal(h->number, c->rows);
    return 0;
}

static void test_history_records_policy_hash(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    cft_fire(f->e, id, "approve", NULL, CF_REJECTED);
    hist h = {0};
    assert_int_equal(cf_instance_history(f->e, id, collect_history, &h), CF_OK);
    assert_int_equal(h.rows, 2);
    assert_string_equal(h.last_event, "approve");
    assert_string_equal(h.last_outcome, "rejected");
    assert_int_equal(strlen(h.policy_hash), 64);
    assert_int_equal(cf_instance_history(f->e, "missing", collect_history, &h), CF_ENOTFOUND);
}

/* Two processes bump the same instance; every bump must count (no lost update). */
static void test_two_processes_no_lost_update(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    enum { PER_CHILD = 60 };
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            cft_clock clock = {cft_time("2025-01-07T00:00:00Z")};
            cf_options o = CF_OPTIONS_INIT;
            o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
            o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
            o.clock = cft_clock_now;
            o.clock_ud = &clock;
            o.busy_timeout_ms = 20000;
            cf_engine *e = NULL;
            if (cft_engine_open(f->db, &o, &e) != CF_OK)
                _exit(10);
            for (int i = 0; i < PER_CHILD; i++) {
                char key[32];
                snprintf(key, sizeof key, "child%d-%d", k, i);
                if (cf_instance_fire(e, id, "bump", NULL, "child", key, NULL) != CF_OK) {
                    fprintf(stderr, "child %d: %s\n", k, cf_errmsg(e));
                    _exit(11);
                }
            }
            cf_engine_close(e);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    json_t *d = data_of(f, id);
    assert_int_equal(json_integer_value(json_object_get(d, "count")), 2 * PER_CHILD);
    json_decref(d);
    assert_int_equal(cft_history_count(f->e, id), 1 + 2 * PER_CHILD);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(f->e, &rep), CF_OK);
}

/* A workflow of its own for the owned-field tests, with or without `owned`. */
static cf_engine *open_badge(const char *dir, const char *db, cft_clock *clock, int owned)
{
    char *wfdir = cft_path(dir, owned ? "owned" : "plain");
    char *text = cft_write(dir, owned ? "owned/badge.lua" : "plain/badge.lua",
                           owned ? "return { name = 'badge', initial = 'pending', events = { 'bump' },\n"
                                   "  states = { pending = {} },\n"
                                   "  transitions = { { from = 'pending', event = 'bump', to = 'pending', actions = "
                                   "{ 'increment' } } },\n"
                                   "  owned = { count = 'when the badge is bumped', level = 'never' } }\n"
                                 : "return { name = 'badge', initial = 'pending', events = { 'bump' },\n"
                                   "  states = { pending = {} },\n"
                                   "  transitions = { { from = 'pending', event = 'bump', to = 'pending', actions = "
                                   "{ 'increment' } } } }\n");
    free(text);
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = wfdir;
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.clock = cft_clock_now;
    o.clock_ud = clock;
    cf_engine *e = NULL;
    if (cft_engine_open(db, &o, &e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    free(wfdir);
    return e;
}

static int count_instances(void *ud, const cf_instance_info *info)
{
    (void)info;
    (*(int *)ud)++;
    return 0;
}

static int badge_count(cf_engine *e)
{
    int n = 0;
    cf_instance_filter flt = CF_INSTANCE_FILTER_INIT;
    flt.workflow = "badge";
    assert_int_equal(cf_instance_list(e, &flt, count_instances, &n), CF_OK);
    return n;
}

/* ISSUE8: fields a workflow declares owned are written by its policies and
 * plugins only: create and fire data (in a batch too) holding one are refused,
 * nothing written; an instance created before the declaration is covered. */
static void test_owned_fields_cannot_be_given(void **state)
{
    fixture *f = *state;
    char *db = cft_path(f->dir, "owned.db");
    /* before the declaration: anything goes */
    cf_engine *e = open_badge(f->dir, db, &f->clock, 0);
    char old[37];
    assert_int_equal(cf_instance_create(e, "badge", "alameda", "{\"count\": 40}", "t", old), CF_OK);
    cf_engine_close(e);

    e = open_badge(f->dir, db, &f->clock, 1);
    char id[37];
    assert_int_equal(cf_instance_create(e, "badge", "alameda", "{\"name\": \"x\", \"count\": 5}", "t", id), CF_EINVAL);
    assert_string_equal(cf_errmsg(e), "instance data holds 'count', a field workflow 'badge' sets itself (set by "
                                      "the program when the badge is bumped); it cannot be given: remove 'count' "
                                      "from the data");
    assert_string_equal(id, "");
    assert_int_equal(cf_instance_create(e, "badge", "alameda", "{\"level\": null}", "t", id), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "holds 'level'"));
    assert_int_equal(badge_count(e), 1);
    /* nested or similar keys are the caller's */
    assert_int_equal(cf_instance_create(e, "badge", "alameda", "{\"x\": {\"count\": 1}, \"counts\": 2}", "t", id),
                     CF_OK);

    /* fire: refused, nothing recorded; the policy itself writes the field */
    cft_fire(e, id, "bump", "{\"count\": 99}", CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "event data holds 'count', a field workflow 'badge' sets itself"));
    assert_int_equal(cft_history_count(e, id), 1);
    cft_fire(e, id, "bump", NULL, CF_OK);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    assert_non_null(strstr(info.data, "\"count\":1"));

    /* in a batch: the refused fire changes nothing, the batch goes on */
    assert_int_equal(cf_batch_begin(e), CF_OK);
    cft_fire(e, id, "bump", "{\"level\": 3}", CF_EINVAL);
    cft_fire(e, id, "bump", NULL, CF_OK);
    assert_int_equal(cf_batch_commit(e), CF_OK);
    assert_int_equal(cft_history_count(e, id), 3);

    /* the instance of the older definition: checked against the one loaded now */
    cft_fire(e, old, "bump", "{\"count\": 7}", CF_EINVAL);
    assert_int_equal(cft_history_count(e, old), 1);
    cft_fire(e, old, "bump", NULL, CF_OK);
    assert_int_equal(cf_instance_get(e, old, &info), CF_OK);
    assert_non_null(strstr(info.data, "\"count\":41"));
    cf_engine_close(e);
    free(db);
}


/* Everything an explanation could have written, as text: the instance row, its
 * history, the database-wide chain, the pending timers and what a tick would deliver. */
typedef struct snapshot {
    char *state, *data;
    int64_t version;
    cf_time updated_at;
    int history;
    int64_t chain_rows;
    int timers;
} snapshot;

static void snap(fixture *f, const char *id, snapshot *s)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    s->state = strdup(info.state);
    s->data = strdup(info.data);
    s->version = info.version;
    s->updated_at = info.updated_at;
    s->history = cft_history_count(f->e, id);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(f->e, &rep), CF_OK);
    s->chain_rows = rep.rows;
    s->timers = cft_timer_count(f->e, INT64_MAX / 2);
}

static void assert_unchanged(fixture *f, const char *id, snapshot *before)
{
    snapshot now;
    snap(f, id, &now);
    assert_string_equal(now.state, before->state);
    assert_string_equal(now.data, before->data);
    assert_int_equal(now.version, before->version);
    assert_int_equal(now.updated_at, before->updated_at);
    assert_int_equal(now.history, before->history);
    assert_int_equal(now.chain_rows, before->chain_rows);
    assert_int_equal(now.timers, before->timers);
    free(now.state);
    free(now.data);
    free(before->state);
    free(before->data);
}

static json_t *explain(fixture *f, const char *id, const char *event, const char *data)
{
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = data;
    char *text = NULL;
    int rc = cf_instance_explain(f->e, id, event, &o, &text);
    if (rc != CF_OK)
        fail_msg("explain %s: %s", event, cf_errmsg(f->e));
    json_t *doc = json_loads(text, 0, NULL);
    cf_free(text);
    assert_non_null(doc);
    return doc;
}

static const char *jstr(json_t *doc, const char *path)
{
    json_t *v = doc;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, ".")) {
        if (json_is_array(v))
            v = json_array_get(v, (size_t)atoi(tok));
        else
            v = json_object_get(v, tok);
    }
    static char out[4][512];
    static int k;
    k = (k + 1) % 4;
    if (json_is_string(v))
        snprintf(out[k], sizeof out[k], "%s", json_string_value(v));
    else if (v) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        snprintf(out[k], sizeof out[k], "%s", t ? t : "");
        free(t);
    } else
        out[k][0] = '\0';
    return out[k];
}

/* Explaining an approval shows the guard, the data, the deadline it would set and the
 * one it would cancel, exactly as a fire then does, and records nothing. */
static void test_explain_applied_records_nothing(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    snapshot before;
    snap(f, id, &before);
    json_t *doc = explain(f, id, "approve", "{\"reviewer\":\"Kim\"}");
    assert_string_equal(jstr(doc, "outcome"), "applied");
    assert_string_equal(jstr(doc, "state"), "pending");
    assert_string_equal(jstr(doc, "to_state"), "active");
    assert_string_equal(jstr(doc, "transitions.0.guards"),
                        "[{\"guard\":\"has_reviewer\",\"passed\":true,\"reason\":null}]");
    assert_string_equal(jstr(doc, "transitions.0.taken"), "true");
    assert_string_equal(jstr(doc, "data_changes.approved_by.to"), "Kim");
    assert_string_equal(jstr(doc, "data_changes.until.to"), "2026-01-06");
    assert_string_equal(jstr(doc, "data_changes.active_since.to"), "2025-01-06");
    /* The expiry timer it would set (the day after "until", local midnight), the auto-deny it cancels. */
    assert_string_equal(jstr(doc, "deadlines"),
                        "[{\"due\":\"2026-01-07T08:00:00Z\",\"event\":\"expire\",\"state\":\"active\",\"timer\":\"expiry\"}]");
    assert_string_equal(jstr(doc, "cancelled.0.timer"), "auto_deny");
    assert_string_equal(jstr(doc, "reasons"), "[]");
    assert_string_equal(jstr(doc, "records"), "[]");
    json_decref(doc);
    assert_unchanged(f, id, &before);
    /* The fire then does what the explanation said. */
    cft_fire(f->e, id, "approve", "{\"reviewer\":\"Kim\"}", CF_OK);
    assert_int_equal(cft_timer_count(f->e, cft_time("2026-01-07T08:00:00Z")), 1);
}

/* A rejection: each guard's verdict and reason, the reasons a fire would record. */
static void test_explain_rejected_and_failing(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", "{\"count\":5}", id);
    snapshot before;
    snap(f, id, &before);
    json_t *doc = explain(f, id, "approve", NULL);
    assert_string_equal(jstr(doc, "outcome"), "rejected");
    assert_string_equal(jstr(doc, "to_state"), "pending");
    assert_string_equal(jstr(doc, "transitions.0.guards.0.reason"), "no reviewer named");
    assert_string_equal(jstr(doc, "transitions.0.taken"), "false");
    assert_string_equal(jstr(doc, "reasons"), "[\"no reviewer named\"]");
    assert_string_equal(jstr(doc, "deadlines"), "[]");
    assert_string_equal(jstr(doc, "cancelled"), "[]");
    json_decref(doc);
    /* A guard a fire would never run (an earlier transition is taken) that fails to run
     * is shown as that guard's error; the explanation goes on. */
    char ledger0[37];
    create(f, "ledger", NULL, ledger0);
    char withlink[96];
    snprintf(withlink, sizeof withlink, "{\"ledger_id\":\"%s\"}", ledger0);
    char linked[37];
    create(f, "permit", withlink, linked);
    doc = explain(f, linked, "post", NULL);
    assert_string_equal(jstr(doc, "outcome"), "applied");
    assert_string_equal(jstr(doc, "transitions.0.taken"), "true");
    assert_string_equal(jstr(doc, "transitions.1.passed"), "false");
    assert_string_equal(jstr(doc, "transitions.1.guards.0.guard"), "spin_forever");
    assert_non_null(strstr(jstr(doc, "transitions.1.guards.0.error"), "spin_forever"));
    json_decref(doc);
    /* An action that fails is the outcome, with the message a fire would give. */
    doc = explain(f, id, "explode", NULL);
    assert_string_equal(jstr(doc, "outcome"), "error");
    assert_string_equal(jstr(doc, "code"), "CF_EPOLICY");
    assert_non_null(strstr(jstr(doc, "error"), "the fee service is down"));
    json_decref(doc);
    /* A linked event it would queue is shown, not queued. */
    char ledger[37];
    create(f, "ledger", NULL, ledger);
    cft_fire(f->e, id, "bump", NULL, CF_OK);
    snapshot lb;
    snap(f, ledger, &lb);
    free(before.state);
    free(before.data);
    snap(f, id, &before);
    /* No ledger_id yet: the send would fail the transition. */
    doc = explain(f, id, "post", NULL);
    assert_string_equal(jstr(doc, "outcome"), "error");
    assert_string_equal(jstr(doc, "code"), "CF_EACTION");
    json_decref(doc);
    assert_unchanged(f, id, &before);
    assert_unchanged(f, ledger, &lb);
}

static void test_explain_bad_input_changes_nothing(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    snapshot before;
    snap(f, id, &before);
    char *text = (char *)"untouched";
    assert_int_equal(cf_instance_explain(f->e, id, "aprove", NULL, &text), CF_EEVENT);
    assert_null(text);
    assert_non_null(strstr(cf_errmsg(f->e), "did you mean 'approve'"));
    assert_int_equal(cf_instance_explain(f->e, "no-such-id", "approve", NULL, &text), CF_ENOTFOUND);
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = "[1]";
    assert_int_equal(cf_instance_explain(f->e, id, "approve", &o, &text), CF_EJSON);
    assert_int_equal(cf_instance_explain(f->e, id, "approve", NULL, NULL), CF_EINVAL);
    assert_unchanged(f, id, &before);
}

/* The events the instance accepts now, with their verdicts; the options' data counts. */
typedef struct choices {
    char text[1024];
} choices;

static int add_choice(void *ud, const cf_event_choice *c)
{
    choices *x = ud;
    size_t n = strlen(x->text);
    snprintf(x->text + n, sizeof x->text - n, "%s%s:%s:%s:%s%s%s", n ? "|" : "", c->event,
             c->allowed ? "yes" : "no", c->to_state ? c->to_state : "-", c->reasons, c->by_timer ? ":timer" : "",
             c->error && strstr(c->error, "spin_forever") ? ":error spin_forever" : "");
    return 0;
}

static void test_events_lists_verdicts(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    snapshot before;
    snap(f, id, &before);
    choices c = {""};
    assert_int_equal(cf_instance_events(f->e, id, NULL, add_choice, &c), CF_OK);
    assert_string_equal(c.text, "approve:no:-:[\"no reviewer named\"]|deny:yes:denied:[]:timer|bump:yes:pending:[]"
                                "|explode:yes:active:[]|spin:no:-:[]:error spin_forever|post:yes:pending:[]"
                                "|note:yes:pending:[]");
    /* With the data the approval needs, it is allowed. */
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = "{\"reviewer\":\"Kim\"}";
    c.text[0] = '\0';
    assert_int_equal(cf_instance_events(f->e, id, &o, add_choice, &c), CF_OK);
    assert_non_null(strstr(c.text, "approve:yes:active:[]|"));
    assert_int_equal(cf_instance_events(f->e, "no-such-id", NULL, add_choice, &c), CF_ENOTFOUND);
    assert_unchanged(f, id, &before);
}

/* In a batch the preview is a savepoint rolled back, and the batch goes on; on a
 * read-only handle explain is refused (it needs the write lock) and events works. */
static void test_explain_in_batch_and_read_only(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    snapshot before;
    snap(f, id, &before);
    assert_int_equal(cf_batch_begin(f->e), CF_OK);
    cft_fire(f->e, id, "bump", NULL, CF_OK);
    json_t *doc = explain(f, id, "approve", "{\"reviewer\":\"Kim\"}");
    assert_string_equal(jstr(doc, "outcome"), "applied");
    assert_string_equal(jstr(doc, "data_changes.count"), "");
    json_decref(doc);
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    assert_unchanged(f, id, &before);

    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    o.read_only = 1;
    cf_engine *ro = NULL;
    assert_int_equal(cft_engine_open(f->db, &o, &ro), CF_OK);
    char *text = NULL;
    assert_int_equal(cf_instance_explain(ro, id, "approve", NULL, &text), CF_EREADONLY);
    assert_non_null(strstr(cf_errmsg(ro), "cf_instance_events"));
    choices c = {""};
    assert_int_equal(cf_instance_events(ro, id, NULL, add_choice, &c), CF_OK);
    assert_non_null(strstr(c.text, "approve:no:-:[\"no reviewer named\"]|"));
    cf_engine_close(ro);
}

/* A linked event the transition would queue is shown and not queued: a tick after the
 * preview delivers nothing, and the ledger's history does not move. */
static void test_explain_shows_sends_queues_nothing(void **state)
{
    fixture *f = *state;
    char ledger[37], id[37];
    create(f, "ledger", NULL, ledger);
    char data[96];
    snprintf(data, sizeof data, "{\"ledger_id\":\"%s\"}", ledger);
    create(f, "permit", data, id);
    snapshot lb, pb;
    snap(f, ledger, &lb);
    snap(f, id, &pb);
    json_t *doc = explain(f, id, "post", NULL);
    assert_string_equal(jstr(doc, "outcome"), "applied");
    assert_string_equal(jstr(doc, "sends.0.instance"), ledger);
    assert_string_equal(jstr(doc, "sends.0.event"), "entry");
    json_decref(doc);
    uint64_t fired = 99;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 0);
    assert_unchanged(f, ledger, &lb);
    assert_unchanged(f, id, &pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_applied_transition_runs_actions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejection_is_recorded_with_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_instance_workflow_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_json_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key_replays_and_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_failure_rolls_back_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runaway_guard_is_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linked_events_are_delivered_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_records_policy_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_no_lost_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owned_fields_cannot_be_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_applied_records_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_rejected_and_failing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_bad_input_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_lists_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_in_batch_and_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_shows_sends_queues_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
