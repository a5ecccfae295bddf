/* test_policy_change.c — changing a county's policy: cf_policy_diff shows
 * exactly the live instances of the county whose deadlines or eligibility a
 * proposed overlay changes and writes nothing; cf_policy_apply moves them in
 * one transaction with a history row each, installs the file and decides with
 * it from then on; broken proposals change nothing; policy test cases pass and
 * fail as they should. Fixtures: tests/fixtures/policy_change/ (a small "hire"
 * workflow); the EMP_1 tests run the shipped employment workflow and policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "internal.h"

#include <dirent.h>
#include "sqlite_peek.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIX CF_TEST_FIXTURES "/policy_change"
#define PROPOSAL_120 FIX "/proposals/san_diego_120.lua"
#define NOW "2025-05-01T17:00:00Z" /* Thursday 10:00 in California */

typedef struct fx {
    char *dir;      /* scratch folder: lua/ is a copy the tests may change */
    char *policies; /* dir/lua */
    char *db;
    cft_clock clock;
    cf_engine *e;
    char a[37], b[37], c[37], d[37], f[37]; /* see setup */
} fx;

static void copy_fixture(const char *dir, const char *name)
{
    char *src = cft_path(FIX, name);
    char *text = cft_slurp(src);
    free(cft_write(dir, name, text));
    free(text);
    free(src);
}

static cf_engine *open_engine(fx *f)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = FIX "/workflows";
    o.policy_dir = f->policies;
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    cf_engine *e = NULL;
    int rc = cft_engine_open(f->db, &o, &e);
    if (rc != CF_OK)
        fail_msg("cf_engine_open: %s: %s", cf_result_name(rc), cf_errmsg(e));
    return e;
}

static void create(fx *f, const char *county, const char *hired_on, char id[37])
{
    char data[64];
    snprintf(data, sizeof data, "{\"hired_on\": \"%s\"}", hired_on);
    int rc = cf_instance_create(f->e, "hire", county, data, "test", id);
    if (rc != CF_OK)
        fail_msg("create: %s", cf_errmsg(f->e));
}

/* a: san_diego, hired 2025-03-01, in grace: its grace timer moves (05-31 -> 06-30).
 * b: san_diego, hired 2025-01-02, in grace past day 90: timer moves and certify becomes allowed.
 * c: san_diego, left (terminal): untouched.  d: alameda (no overlay): untouched.
 * f: san_diego, certified: no timer under 90 or 120 days. */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->policies = cft_path(f->dir, "lua");
    f->db = cft_path(f->dir, "cf.db");
    copy_fixture(f->dir, "lua/policy/state.lua");
    copy_fixture(f->dir, "lua/counties/san_diego.lua");
    f->clock.now = cft_time(NOW);
    f->e = open_engine(f);
    create(f, "san_diego", "2025-03-01", f->a);
    create(f, "san_diego", "2025-01-02", f->b);
    create(f, "san_diego", "2025-01-02", f->c);
    cft_fire(f->e, f->c, "leave", NULL, CF_OK);
    create(f, "alameda", "2025-03-01", f->d);
    create(f, "san_diego", "2025-03-01", f->f);
    cft_fire(f->e, f->f, "certify", NULL, CF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    free(f->policies);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- collecting what the engine reports ---- */

typedef struct row {
    char kind[16], id[37], state[32], name[64], event[64], old_value[160], new_value[160];
} row;

typedef struct rows {
    row r[64];
    int n;
} rows;

static int collect(void *ud, const cf_policy_change *c)
{
    rows *rs = ud;
    assert_true(rs->n < 64);
    assert_int_equal(c->size, sizeof *c);
    row *r = &rs->r[rs->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->kind, sizeof r->kind, "%s", c->kind);
    snprintf(r->id, sizeof r->id, "%s", c->instance_id ? c->instance_id : "");
    snprintf(r->state, sizeof r->state, "%s", c->state ? c->state : "");
    snprintf(r->name, sizeof r->name, "%s", c->name);
    snprintf(r->event, sizeof r->event, "%s", c->event ? c->event : "");
    snprintf(r->old_value, sizeof r->old_value, "%s", c->old_value);
    snprintf(r->new_value, sizeof r->new_value, "%s", c->new_value);
    return 0;
}

static const row *find(const rows *rs, const char *kind, const char *id)
{
    for (int i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].kind, kind) == 0 && strcmp(rs->r[i].id, id ? id : "") == 0)
            return &rs->r[i];
    return NULL;
}

static int count_for(const rows *rs, const char *id)
{
    int n = 0;
    for (int i = 0; i < rs->n; i++)
        n += strcmp(rs->r[i].id, id) == 0;
    return n;
}

/* Everything a policy change could touch, to compare before and after. */
typedef struct snapshot {
    int history[5];
    char timers[2048];
    char *overlay;
    int64_t rows;
} snapshot;

static int timer_text(void *ud, const cf_timer_info *t)
{
    char *buf = ud;
    char due[32];
    cf_time_format(t->due, due, sizeof due);
    size_t len = strlen(buf);
    snprintf(buf + len, 2048 - len, "%s %s %s %s\n", t->instance_id, t->state, t->name, due);
    return 0;
}

static void snap(fx *f, snapshot *s)
{
    const char *ids[5] = {f->a, f->b, f->c, f->d, f->f};
    for (int i = 0; i < 5; i++)
        s->history[i] = cft_history_count(f->e, ids[i]);
    s->timers[0] = '\0';
    assert_int_equal(cf_timer_list(f->e, INT64_MIN / 2, INT64_MAX / 2, timer_text, s->timers), CF_OK);
    char *path = cft_path(f->policies, "counties/san_diego.lua");
    s->overlay = cft_slurp(path);
    free(path);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(f->e, &rep), CF_OK);
    s->rows = rep.rows;
}

static void assert_same(const snapshot *x, const snapshot *y)
{
    for (int i = 0; i < 5; i++)
        assert_int_equal(x->history[i], y->history[i]);
    assert_string_equal(x->timers, y->timers);
    assert_string_equal(x->overlay, y->overlay);
    assert_int_equal(x->rows, y->rows);
}

/* No temporary files are left in the counties folder. */
static void assert_no_temp_files(fx *f)
{
    char *dir = cft_path(f->policies, "counties");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        if (ent->d_name[0] == '.' && strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
            fail_msg("a temporary file was left behind: %s", ent->d_name);
    closedir(d);
    free(dir);
}

typedef struct due_query {
    const char *id, *timer;
    cf_time due; /* -1: no such pending timer */
} due_query;

static int due_row(void *ud, const cf_timer_info *t)
{
    due_query *q = ud;
    if (strcmp(t->instance_id, q->id) == 0 && strcmp(t->name, q->timer) == 0)
        q->due = t->due;
    return 0;
}

static cf_time due_of(fx *f, const char *id, const char *timer)
{
    due_query q = {id, timer, -1};
    assert_int_equal(cf_timer_list(f->e, INT64_MIN / 2, INT64_MAX / 2, due_row, &q), CF_OK);
    return q.due;
}

/* ---- diff ---- */

static void test_diff_lists_exactly_the_changed_instances(void **state)
{
    fx *f = *state;
    rows rs = {0};
    int rc = cf_policy_diff(f->e, "san_diego", PROPOSAL_120, collect, &rs);
    if (rc != CF_OK)
        fail_msg("diff: %s", cf_errmsg(f->e));
    /* the policy row comes first, then the parameters */
    assert_string_equal(rs.r[0].kind, "policy");
    assert_string_equal(rs.r[0].old_value, cf__policy_hash(f->e->policy, "san_diego"));
    assert_string_not_equal(rs.r[0].old_value, rs.r[0].new_value);
    const row *p = find(&rs, "param", NULL);
    assert_non_null(p);
    assert_string_equal(p->name, "hire_grace_days");
    assert_string_equal(p->old_value, "90");
    assert_string_equal(p->new_value, "120");

    const row *r = find(&rs, "deadline", f->a);
    assert_non_null(r);
    assert_string_equal(r->state, "grace");
    assert_string_equal(r->name, "grace_end");
    assert_string_equal(r->event, "grace_expired");
    assert_string_equal(r->old_value, "2025-05-31T07:00:00Z"); /* day 91, local midnight (PDT) */
    assert_string_equal(r->new_value, "2025-06-30T07:00:00Z"); /* day 121 */
    assert_int_equal(count_for(&rs, f->a), 1);                 /* its eligibility does not change */

    r = find(&rs, "deadline", f->b);
    assert_non_null(r);
    assert_string_equal(r->old_value, "2025-04-03T07:00:00Z");
    assert_string_equal(r->new_value, "2025-05-03T07:00:00Z");
    r = find(&rs, "eligibility", f->b);
    assert_non_null(r);
    assert_string_equal(r->name, "within_grace");
    assert_string_equal(r->event, "certify");
    assert_string_equal(r->old_value, "no: the hire grace period ended on 2025-04-02");
    assert_string_equal(r->new_value, "ok");
    assert_int_equal(count_for(&rs, f->b), 2);

    /* not the terminal instance, not another county's, not one the change does not touch */
    assert_int_equal(count_for(&rs, f->c), 0);
    assert_int_equal(count_for(&rs, f->d), 0);
    assert_int_equal(count_for(&rs, f->f), 0);
    assert_int_equal(rs.n, 5);
}

static void test_diff_writes_nothing(void **state)
{
    fx *f = *state;
    snapshot before, after;
    snap(f, &before);
    rows rs = {0};
    assert_int_equal(cf_policy_diff(f->e, "san_diego", PROPOSAL_120, collect, &rs), CF_OK);
    snap(f, &after);
    assert_same(&before, &after);
    assert_no_temp_files(f);
    /* and the engine still decides with the installed overlay */
    cft_fire(f->e, f->b, "certify", NULL, CF_REJECTED);
    free(before.overlay);
    free(after.overlay);
}

static int stop_after_one(void *ud, const cf_policy_change *c)
{
    (void)c;
    ++*(int *)ud;
    return 1;
}

static void test_diff_callback_may_stop(void **state)
{
    fx *f = *state;
    int calls = 0;
    assert_int_equal(cf_policy_diff(f->e, "san_diego", PROPOSAL_120, stop_after_one, &calls), CF_OK);
    assert_int_equal(calls, 1);
}

static void test_diff_same_overlay_changes_nothing(void **state)
{
    fx *f = *state;
    rows rs = {0};
    assert_int_equal(cf_policy_diff(f->e, "san_diego", FIX "/lua/counties/san_diego.lua", collect, &rs), CF_OK);
    assert_int_equal(rs.n, 1); /* the policy row only */
    assert_string_equal(rs.r[0].old_value, rs.r[0].new_value);
}

static void test_diff_county_without_overlay(void **state)
{
    fx *f = *state;
    rows rs = {0};
    /* alameda has no overlay yet: the proposal becomes its first */
    assert_int_equal(cf_policy_diff(f->e, "alameda", PROPOSAL_120, collect, &rs), CF_OK);
    assert_non_null(find(&rs, "deadline", f->d));
    assert_null(find(&rs, "deadline", f->a));
}

/* ---- broken proposals ---- */

static void expect_refused(fx *f, const char *file, int rc_expected, const char *fragment1, const char *fragment2)
{
    snapshot before, after;
    snap(f, &before);
    for (int apply = 0; apply < 2; apply++) {
        rows rs = {0};
        int rc = apply ? cf_policy_apply(f->e, "san_diego", file, "ann", collect, &rs)
                       : cf_policy_diff(f->e, "san_diego", file, collect, &rs);
        if (rc != rc_expected || !strstr(cf_errmsg(f->e), fragment1) || !strstr(cf_errmsg(f->e), fragment2))
            fail_msg("%s %s: expected %s naming '%s' and '%s', got %s: %s", apply ? "apply" : "diff", file,
                     cf_result_name(rc_expected), fragment1, fragment2, cf_result_name(rc), cf_errmsg(f->e));
        assert_int_equal(rs.n, 0); /* the callback is never called on failure */
    }
    snap(f, &after);
    assert_same(&before, &after);
    assert_no_temp_files(f);
    free(before.overlay);
    free(after.overlay);
}

static void test_broken_proposals_change_nothing(void **state)
{
    fx *f = *state;
    expect_refused(f, FIX "/proposals/broken_syntax.lua", CF_EPOLICY, "broken_syntax.lua", "unexpected symbol");
    expect_refused(f, FIX "/proposals/not_overridable.lua", CF_EPOLICY, "not_overridable.lua",
                   "a county may not override 'review_sla_days'");
    expect_refused(f, FIX "/proposals/no_such_file.lua", CF_EIO, "no_such_file.lua", "proposed");
}

static void test_bad_arguments(void **state)
{
    fx *f = *state;
    assert_int_equal(cf_policy_diff(f->e, "San Diego", PROPOSAL_120, collect, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "not a county name"));
    assert_int_equal(cf_policy_apply(f->e, NULL, PROPOSAL_120, "ann", NULL, NULL), CF_EINVAL);
    assert_int_equal(cf_policy_diff(f->e, "san_diego", NULL, NULL, NULL), CF_EINVAL);
}

/* ---- apply ---- */

static int history_last(void *ud, const cf_history_entry *h)
{
    cf_history_entry *last = ud;
    size_t size = last->size;
    *last = *h;
    last->size = size;
    /* copy what the test reads after the callback */
    static char data[4096], event[64], outcome[16], from[32], to[32], hash[80], actor[64];
    snprintf(data, sizeof data, "%s", h->data);
    snprintf(event, sizeof event, "%s", h->event);
    snprintf(outcome, sizeof outcome, "%s", h->outcome);
    snprintf(from, sizeof from, "%s", h->from_state);
    snprintf(to, sizeof to, "%s", h->to_state);
    snprintf(hash, sizeof hash, "%s", h->policy_hash);
    snprintf(actor, sizeof actor, "%s", h->actor);
    last->data = data;
    last->event = event;
    last->outcome = outcome;
    last->from_state = from;
    last->to_state = to;
    last->policy_hash = hash;
    last->actor = actor;
    return 0;
}

static cf_history_entry last_row(fx *f, const char *id)
{
    cf_history_entry h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    assert_int_equal(cf_instance_history(f->e, id, history_last, &h), CF_OK);
    return h;
}

static void test_apply_moves_timers_and_records_the_change(void **state)
{
    fx *f = *state;
    if (cft_pg())
        skip(); /* it reads the file's tables through sqlite_peek */
    snapshot before;
    snap(f, &before);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->a, &info), CF_OK);
    char a_data[256];
    snprintf(a_data, sizeof a_data, "%s", info.data);
    cf_time a_updated = info.updated_at;
    cf_time d_due = due_of(f, f->d, "grace_end");
    char old_hash[160];
    snprintf(old_hash, sizeof old_hash, "%s", cf__policy_hash(f->e->policy, "san_diego"));

    f->clock.now += 3600;
    rows rs = {0};
    int rc = cf_policy_apply(f->e, "san_diego", PROPOSAL_120, "ann", collect, &rs);
    if (rc != CF_OK)
        fail_msg("apply: %s", cf_errmsg(f->e));
    const char *new_hash = rs.r[0].new_value;
    assert_string_equal(rs.r[0].old_value, old_hash);
    assert_string_equal(cf__policy_hash(f->e->policy, "san_diego"), new_hash);
    assert_non_null(find(&rs, "deadline", f->a));
    assert_non_null(find(&rs, "eligibility", f->b));

    /* the timers moved; alameda's did not */
    assert_int_equal(due_of(f, f->a, "grace_end"), cft_time("2025-06-30T07:00:00Z"));
    assert_int_equal(due_of(f, f->b, "grace_end"), cft_time("2025-05-03T07:00:00Z"));
    assert_int_equal(due_of(f, f->d, "grace_end"), d_due);

    /* one history row on each affected instance, none elsewhere */
    assert_int_equal(cft_history_count(f->e, f->a), before.history[0] + 1);
    assert_int_equal(cft_history_count(f->e, f->b), before.history[1] + 1);
    assert_int_equal(cft_history_count(f->e, f->c), before.history[2]);
    assert_int_equal(cft_history_count(f->e, f->d), before.history[3]);
    assert_int_equal(cft_history_count(f->e, f->f), before.history[4]);
    cf_history_entry h = last_row(f, f->a);
    assert_string_equal(h.event, "policy_changed");
    assert_string_equal(h.outcome, "applied");
    assert_string_equal(h.from_state, "grace");
    assert_string_equal(h.to_state, "grace");
    assert_string_equal(h.actor, "ann");
    assert_string_equal(h.policy_hash, new_hash);
    json_t *data = json_loads(h.data, 0, NULL);
    assert_non_null(data);
    assert_string_equal(json_string_value(json_object_get(data, "county")), "san_diego");
    assert_string_equal(json_string_value(json_object_get(data, "old_policy_hash")), old_hash);
    assert_string_equal(json_string_value(json_object_get(data, "new_policy_hash")), new_hash);
    json_t *change = json_array_get(json_object_get(data, "changes"), 0);
    assert_string_equal(json_string_value(json_object_get(change, "kind")), "deadline");
    assert_string_equal(json_string_value(json_object_get(change, "new")), "2025-06-30T07:00:00Z");
    json_t *param = json_array_get(json_object_get(data, "params"), 0);
    assert_string_equal(json_string_value(json_object_get(param, "name")), "hire_grace_days");
    json_decref(data);

    /* nothing else moved: state, data and updated_at are as they were */
    assert_int_equal(cf_instance_get(f->e, f->a, &info), CF_OK);
    assert_string_equal(info.state, "grace");
    assert_string_equal(info.data, a_data);
    assert_int_equal(info.updated_at, a_updated);

    /* the file is installed, and its text kept by hash */
    char *installed = cft_path(f->policies, "counties/san_diego.lua");
    char *got = cft_slurp(installed), *want = cft_slurp(PROPOSAL_120);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(installed);
    assert_no_temp_files(f);
    char *county = cft_sql_text(cf__store_path(f->e->store), "SELECT county FROM policy_text WHERE hash = ?1", new_hash);
    assert_non_null(county);
    assert_string_equal(county, "san_diego");
    free(county);

    /* the chain still verifies */
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(f->e, &rep), CF_OK);
    assert_int_equal(rep.rows, before.rows + 2);

    /* later fires decide with the new overlay and record its hash */
    cft_fire(f->e, f->b, "certify", NULL, CF_OK);
    h = last_row(f, f->b);
    assert_string_equal(h.event, "certify");
    assert_string_equal(h.policy_hash, new_hash);

    /* a fresh engine reads the installed file and arrives at the same hash */
    char keep[160];
    snprintf(keep, sizeof keep, "%s", new_hash);
    cf_engine_close(f->e);
    f->e = open_engine(f);
    assert_string_equal(cf__policy_hash(f->e->policy, "san_diego"), keep);
    rs.n = 0;
    assert_int_equal(cf_policy_diff(f->e, "san_diego", PROPOSAL_120, collect, &rs), CF_OK);
    assert_int_equal(rs.n, 1);
    free(before.overlay);
}

static void test_apply_adds_and_removes_timers(void **state)
{
    fx *f = *state;
    /* probation_review = true: the certified hire gets a timer it had none of */
    rows rs = {0};
    int rc = cf_policy_apply(f->e, "san_diego", FIX "/proposals/san_diego_probation.lua", "ann", collect, &rs);
    if (rc != CF_OK)
        fail_msg("apply: %s", cf_errmsg(f->e));
    const row *r = find(&rs, "deadline", f->f);
    assert_non_null(r);
    assert_string_equal(r->name, "probation");
    assert_string_equal(r->event, "review");
    assert_string_equal(r->old_value, "none");
    assert_string_equal(r->new_value, "2025-08-28T07:00:00Z"); /* hired 2025-03-01 + 180 days */
    assert_int_equal(due_of(f, f->f, "probation"), cft_time("2025-08-28T07:00:00Z"));
    assert_int_equal(count_for(&rs, f->a), 0);
    assert_int_equal(cft_history_count(f->e, f->a), 1);

    /* back to the 90-day overlay without probation: the timer goes again */
    rs.n = 0;
    rc = cf_policy_apply(f->e, "san_diego", FIX "/lua/counties/san_diego.lua", "ann", collect, &rs);
    if (rc != CF_OK)
        fail_msg("apply: %s", cf_errmsg(f->e));
    r = find(&rs, "deadline", f->f);
    assert_non_null(r);
    assert_string_equal(r->old_value, "2025-08-28T07:00:00Z");
    assert_string_equal(r->new_value, "none");
    assert_int_equal(due_of(f, f->f, "probation"), -1);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(f->e, &rep), CF_OK);
}

static void test_apply_rename_failure_after_commit(void **state)
{
    fx *f = *state;
    /* A folder where marin's overlay should go: the rename cannot replace it. */
    char *blocker = cft_path(f->policies, "counties/marin.lua");
    assert_int_equal(mkdir(blocker, 0755), 0);
    char id[37];
    create(f, "marin", "2025-03-01", id);
    int rc = cf_policy_apply(f->e, "marin", PROPOSAL_120, "ann", NULL, NULL);
    assert_int_equal(rc, CF_EIO);
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", cf_errmsg(f->e)); /* valid until the next call only */
    assert_non_null(strstr(msg, "recorded in the database"));
    assert_non_null(strstr(msg, "mv "));
    assert_non_null(strstr(msg, blocker));
    /* the database has the change; the engine keeps deciding with what is on disk */
    assert_int_equal(cft_history_count(f->e, id), 2);
    assert_string_equal(last_row(f, id).event, "policy_changed");
    /* marin decides with the state policy alone: no overlay of its own was loaded */
    assert_string_equal(cf__policy_hash(f->e->policy, "marin"), cf__policy_hash(f->e->policy, NULL));
    /* the temporary file named in the message holds the proposal */
    const char *tmp = strstr(msg, "is in ");
    assert_non_null(tmp);
    char path[1024];
    assert_int_equal(sscanf(tmp + 6, "%1023[^:]", path), 1);
    char *text = cft_slurp(path), *want = cft_slurp(PROPOSAL_120);
    assert_string_equal(text, want);
    free(text);
    free(want);
    remove(path);
    rmdir(blocker);
    free(blocker);
}

/* ---- policy test cases ---- */

typedef struct cases {
    int n, passed;
    char lines[32][512];
} cases;

static int collect_case(void *ud, const cf_policy_case *c)
{
    cases *cs = ud;
    assert_true(cs->n < 32);
    const char *base = strrchr(c->file, '/');
    snprintf(cs->lines[cs->n++], 512, "%s %s | %s | %s | %s", c->passed ? "PASS" : "FAIL", base ? base + 1 : c->file,
             c->name, c->expected, c->got);
    cs->passed += c->passed;
    return 0;
}

static bool has_line(const cases *cs, const char *fragment)
{
    for (int i = 0; i < cs->n; i++)
        if (strstr(cs->lines[i], fragment))
            return true;
    return false;
}

static void dump(const cases *cs)
{
    for (int i = 0; i < cs->n; i++)
        print_message("%s\n", cs->lines[i]);
}

static void test_policy_cases_pass(void **state)
{
    fx *f = *state;
    snapshot before, after;
    snap(f, &before);
    cases cs = {0};
    int failed = -1;
    assert_int_equal(cf_policy_test(f->e, FIX "/cases", NULL, NULL, collect_case, &cs, &failed), CF_OK);
    if (failed != 0)
        dump(&cs);
    assert_int_equal(failed, 0);
    assert_int_equal(cs.n, 4);
    assert_true(has_line(&cs, "PASS san_diego.lua | certified on day 91 is too late"));
    assert_true(has_line(&cs, "PASS state_default.lua | the grace timer fires on day 91 | grace_end due 2025-04-03"));
    /* the engine's own database is not touched */
    snap(f, &after);
    assert_same(&before, &after);
    free(before.overlay);
    free(after.overlay);
}

static void test_policy_cases_prove_a_proposal(void **state)
{
    fx *f = *state;
    cases cs = {0};
    int failed = -1;
    /* the cases of the proposed rule fail against the installed overlay ... */
    assert_int_equal(cf_policy_test(f->e, FIX "/cases_proposed", NULL, NULL, collect_case, &cs, &failed), CF_OK);
    assert_int_equal(failed, 3);
    assert_true(has_line(&cs, "FAIL san_diego.lua | certified on day 120 is in time | applied -> certified | "
                              "rejected: the hire grace period ended on 2025-04-02"));
    assert_true(has_line(&cs, "FAIL san_diego.lua | the grace timer fires on day 121 | grace_end due 2025-05-03 | "
                              "grace_end due 2025-04-03"));
    /* ... and pass with the proposal standing in for it */
    memset(&cs, 0, sizeof cs);
    assert_int_equal(cf_policy_test(f->e, FIX "/cases_proposed", "san_diego", PROPOSAL_120, collect_case, &cs,
                                    &failed),
                     CF_OK);
    if (failed != 0)
        dump(&cs);
    assert_int_equal(failed, 0);
    assert_int_equal(cs.n, 5);
}

static void test_policy_cases_fail_with_messages(void **state)
{
    fx *f = *state;
    cases cs = {0};
    int failed = -1;
    assert_int_equal(cf_policy_test(f->e, FIX "/cases_failing", NULL, NULL, collect_case, &cs, &failed), CF_OK);
    assert_int_equal(failed, 5);
    assert_int_equal(cs.passed, 0);
    assert_true(has_line(&cs, "wrong outcome | applied -> certified | rejected: the hire grace period ended"));
    assert_true(has_line(&cs, "wrong due date | grace_end due 2025-04-02 | grace_end due 2025-04-03"));
    assert_true(has_line(&cs, "misspelt key |  | case error: unknown key 'expekt' (did you mean 'expect'?)"));
    assert_true(has_line(&cs, "case error: workflow 'hire' has no state 'gracee' (did you mean 'grace'?)"));
    assert_true(has_line(&cs, "not_data.lua | (the file) | a list of cases | not_data.lua:3:"));
    assert_true(has_line(&cs, "data files have no globals"));
}

static void test_policy_test_arguments(void **state)
{
    fx *f = *state;
    int failed = -1;
    assert_int_equal(cf_policy_test(f->e, FIX "/no_such_folder", NULL, NULL, NULL, NULL, &failed), CF_EIO);
    assert_non_null(strstr(cf_errmsg(f->e), "no_such_folder"));
    assert_int_equal(cf_policy_test(f->e, FIX "/workflows/..", NULL, NULL, NULL, NULL, &failed), CF_ENOTFOUND);
    assert_int_equal(cf_policy_test(f->e, FIX "/cases", "san_diego", NULL, NULL, NULL, &failed), CF_EINVAL);
    assert_int_equal(cf_policy_test(f->e, FIX "/cases", "san_diego", FIX "/proposals/broken_syntax.lua", NULL,
                                    NULL, &failed),
                     CF_EPOLICY);
    assert_non_null(strstr(cf_errmsg(f->e), "broken_syntax.lua"));
}

/* The shipped program's cases (lua/tests/) against the shipped workflows and policies. */
static void test_EMP_1_shipped_policy_cases_pass(void **state)
{
    (void)state;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_SOURCE_DIR "/workflows";
    o.policy_dir = CF_SOURCE_DIR "/lua";
    o.plugin_dir = CF_BINARY_DIR "/plugins"; /* the shipped workflows need the shipped plugins */
    cf_engine *e = NULL;
    int rc = cft_engine_open(":memory:", &o, &e);
    if (rc != CF_OK)
        fail_msg("the shipped program does not open: %s", cf_errmsg(e));
    cases cs = {0};
    int failed = -1;
    rc = cf_policy_test(e, CF_SOURCE_DIR "/lua/tests", NULL, NULL, collect_case, &cs, &failed);
    if (rc != CF_OK)
        fail_msg("policy test: %s", cf_errmsg(e));
    if (failed != 0)
        dump(&cs);
    assert_int_equal(failed, 0);
    assert_true(has_line(&cs, "PASS employment_grace.lua | san_diego: the grace timer fires at the start of day 91"));
    assert_true(has_line(&cs, "PASS employment_grace.lua | example county (120 days)"));
    cf_engine_close(e);
}

/* A database written before policy changes existed (schema 1) gains the table on open. */
static void test_schema_1_database_migrates(void **state)
{
    fx *f = *state;
    if (cft_pg())
        skip(); /* SQLite's schema versions; PostgreSQL's start at its own version 1 */
    cf_engine_close(f->e);
    f->e = NULL;
    assert_true(cft_sql_tamper(f->db, "DROP TABLE policy_change; DROP TABLE policy_text; DROP INDEX history_by_time; DROP INDEX outbox_by_chain;"
                                         "ALTER TABLE outbox DROP COLUMN chain_root; ALTER TABLE outbox DROP COLUMN chain_count;"
                                         "ALTER TABLE timer DROP COLUMN chain_root; ALTER TABLE timer DROP COLUMN chain_count;"
                                         "ALTER TABLE history DROP COLUMN data_hash; ALTER TABLE history DROP COLUMN timers_hash;"
                                         "DROP TABLE cf_integrity_mark; ALTER TABLE instance DROP COLUMN last_seq;"
                                         "ALTER TABLE history DROP COLUMN prev_seq;"
                                         "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
                                         "PRAGMA user_version = 1;"));
    f->e = open_engine(f);
    assert_int_equal(cft_history_count(f->e, f->a), 1);
    assert_int_equal(cf_policy_apply(f->e, "san_diego", PROPOSAL_120, "ann", NULL, NULL), CF_OK);
    assert_int_equal(cft_sql_int(f->db, "SELECT count(*) FROM policy_text", NULL), 1);
}

/* expect.data compares keys of the instance data after the event. */
static void test_policy_case_expect_data(void **state)
{
    fx *f = *state;
    char *dir = cft_tmpdir();
    free(cft_write(dir, "data.lua",
                   "return {\n"
                   "  { name = 'kept', county = 'san_diego', workflow = 'hire', state = 'grace',\n"
                   "    data = { hired_on = '2025-01-02', note = 'x' }, today = '2025-02-01', event = 'certify',\n"
                   "    expect = { outcome = 'applied', to = 'certified', data = { note = 'x' } } },\n"
                   "  { name = 'differs', county = 'san_diego', workflow = 'hire', state = 'grace',\n"
                   "    data = { hired_on = '2025-01-02' }, today = '2025-02-01', event = 'certify',\n"
                   "    expect = { outcome = 'applied', data = { note = 'y' } } },\n"
                   "}\n"));
    cases cs = {0};
    int failed = -1;
    assert_int_equal(cf_policy_test(f->e, dir, NULL, NULL, collect_case, &cs, &failed), CF_OK);
    assert_int_equal(failed, 1);
    assert_true(has_line(&cs, "PASS data.lua | kept"));
    assert_true(has_line(&cs, "FAIL data.lua | differs | applied, data {\"note\":\"y\"} | "
                              "applied -> certified, data {\"note\":null}"));
    cft_rmtree(dir);
}

/* ---- docs/administrators.md quotes the fixtures it describes ---- */

static void assert_doc_quotes(const char *doc, const char *file)
{
    char *text = cft_slurp(file);
    if (!strstr(doc, text))
        fail_msg("docs/administrators.md does not quote %s exactly", file);
    free(text);
}

static void test_doc_quotes_the_fixtures(void **state)
{
    (void)state;
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/administrators.md");
    assert_doc_quotes(doc, FIX "/lua/policy/state.lua");
    assert_doc_quotes(doc, FIX "/lua/counties/san_diego.lua");
    assert_doc_quotes(doc, FIX "/proposals/san_diego_120.lua");
    assert_doc_quotes(doc, FIX "/proposals/not_overridable.lua");
    assert_doc_quotes(doc, FIX "/cases_proposed/san_diego.lua");
    free(doc);
}

/* ==== the shipped employment workflow and policy (EMP_1) ==== */

/* A folder whose policy/ is the shipped lua/policy and whose counties/ starts empty
 * (county kern runs on the state defaults: 90 days), the shipped workflows, a clock. */
typedef struct shipped {
    char *dir, *policies, *db, *proposal;
    cft_clock clock;
    cf_engine *e;
    char ana[37], bo[37], cy[37], dee[37];
} shipped;

static cf_engine *open_shipped(shipped *s)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_SOURCE_DIR "/workflows";
    o.policy_dir = s->policies;
    o.plugin_dir = CF_BINARY_DIR "/plugins"; /* the shipped plugins: the workflows need them */
    o.clock = cft_clock_now;
    o.clock_ud = &s->clock;
    cf_engine *e = NULL;
    int rc = cft_engine_open(s->db, &o, &e);
    if (rc != CF_OK)
        fail_msg("cf_engine_open: %s: %s", cf_result_name(rc), cf_errmsg(e));
    return e;
}

static void hire(shipped *s, const char *name, const char *hired_on, const char *start_at, char id[37])
{
    char data[128];
    snprintf(data, sizeof data, "{\"name\": \"%s\", \"hired_on\": \"%s\"}", name, hired_on);
    s->clock.now = cft_time(start_at);
    if (cf_instance_create(s->e, "employment", "kern", data, "test", id) != CF_OK)
        fail_msg("create: %s", cf_errmsg(s->e));
    cft_fire(s->e, id, "start", NULL, CF_OK);
}

/* Today is 2025-04-02 (10:00 in California). Under 90 days:
 *   Ana, hired 2025-01-01: the grace period ended yesterday (last day 04-01); EHR suspended.
 *       Under 120 days her last day is 05-01: back inside.
 *   Bo, hired 2025-02-01: in grace until 05-02; under 120, until 06-01.
 *   Cy, hired 2024-12-03: ended 03-03; under 120 the last day is 04-02, today: back inside.
 *   Dee, hired 2024-12-02: ended 03-02; under 120 the last day is 04-01, yesterday: stays out. */
static int shipped_setup(void **state)
{
    shipped *s = calloc(1, sizeof *s);
    s->dir = cft_tmpdir();
    s->policies = cft_path(s->dir, "lua");
    s->db = cft_path(s->dir, "cf.db");
    char *policy = cft_path(s->dir, "lua/policy");
    free(cft_write(s->dir, "lua/counties/README", "county overlays\n"));
    assert_int_equal(symlink(CF_SOURCE_DIR "/lua/policy", policy), 0);
    free(policy);
    s->proposal = cft_write(s->dir, "kern_120.lua", "return { params = { hire_grace_days = 120 } }\n");
    s->clock.now = cft_time("2024-12-01T17:00:00Z");
    s->e = open_shipped(s);
    hire(s, "Cy Park", "2024-12-03", "2024-12-03T17:00:00Z", s->cy);
    hire(s, "Dee Moss", "2024-12-02", "2024-12-03T17:00:00Z", s->dee);
    hire(s, "Ana Ruiz", "2025-01-01", "2025-01-02T17:00:00Z", s->ana);
    hire(s, "Bo Lee", "2025-02-01", "2025-02-03T17:00:00Z", s->bo);
    s->clock.now = cft_time("2025-04-02T17:00:00Z");
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(s->e, s->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 3);
    assert_string_equal(cft_state(s->e, s->ana), "ehr_suspended");
    assert_string_equal(cft_state(s->e, s->cy), "ehr_suspended");
    assert_string_equal(cft_state(s->e, s->dee), "ehr_suspended");
    assert_string_equal(cft_state(s->e, s->bo), "grace");
    *state = s;
    return 0;
}

static int shipped_teardown(void **state)
{
    shipped *s = *state;
    cf_engine_close(s->e);
    free(s->policies);
    free(s->db);
    free(s->proposal);
    cft_rmtree(s->dir);
    free(s);
    return 0;
}

typedef struct wide_row {
    char kind[16], id[37], who[64], county[32], name[64], old_value[64], new_value[64], effect[200];
} wide_row;

typedef struct wide {
    wide_row r[32];
    int n;
} wide;

static int collect_wide(void *ud, const cf_policy_change *c)
{
    wide *w = ud;
    if (strcmp(c->kind, "policy") == 0 || strcmp(c->kind, "param") == 0)
        return 0;
    assert_true(w->n < 32);
    wide_row *r = &w->r[w->n++];
    snprintf(r->kind, sizeof r->kind, "%s", c->kind);
    snprintf(r->id, sizeof r->id, "%s", c->instance_id);
    snprintf(r->who, sizeof r->who, "%s", c->who);
    snprintf(r->county, sizeof r->county, "%s", c->county);
    snprintf(r->name, sizeof r->name, "%s", c->name);
    snprintf(r->old_value, sizeof r->old_value, "%s", c->old_value);
    snprintf(r->new_value, sizeof r->new_value, "%s", c->new_value);
    snprintf(r->effect, sizeof r->effect, "%s", c->effect);
    return 0;
}

static const wide_row *wfind(const wide *w, const char *kind, const char *id)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->r[i].kind, kind) == 0 && strcmp(w->r[i].id, id) == 0)
            return &w->r[i];
    return NULL;
}

static int wcount(const wide *w, const char *id)
{
    int n = 0;
    for (int i = 0; i < w->n; i++)
        n += strcmp(w->r[i].id, id) == 0;
    return n;
}

static char *next_due(cf_engine *e, const char *id)
{
    char buf[2048] = "";
    assert_int_equal(cf_timer_list(e, INT64_MIN / 2, INT64_MAX / 2, timer_text, buf), CF_OK);
    char *line = strstr(buf, id);
    if (!line)
        return strdup("none");
    char *end = strchr(line, '\n');
    *end = '\0';
    return strdup(strrchr(line, ' ') + 1);
}

typedef struct logs {
    int n;
    char actor[32], county[32], applies_to[8], overlay[65], params[256];
    int64_t instances;
} logs;

static int collect_log(void *ud, const cf_policy_log_entry *l)
{
    logs *g = ud;
    assert_int_equal(l->size, sizeof *l);
    g->n++;
    snprintf(g->actor, sizeof g->actor, "%s", l->actor);
    snprintf(g->county, sizeof g->county, "%s", l->county);
    snprintf(g->applies_to, sizeof g->applies_to, "%s", l->applies_to);
    snprintf(g->overlay, sizeof g->overlay, "%s", l->overlay_hash);
    snprintf(g->params, sizeof g->params, "%s", l->params);
    g->instances = l->instances;
    return 0;
}

/* The case: raising hire_grace_days 90 -> 120 lists the hire whose grace ended
 * yesterday and who is back inside 120 days; apply brings her back into grace and moves
 * the deadlines; the boundary is exact on both sides (Cy: last day today, in; Dee: last
 * day yesterday, out). */
static void test_EMP_1_raising_grace_reaches_live_hires(void **state)
{
    shipped *s = *state;
    int before[4] = {cft_history_count(s->e, s->ana), cft_history_count(s->e, s->bo), cft_history_count(s->e, s->cy),
                     cft_history_count(s->e, s->dee)};
    wide w = {0};
    assert_int_equal(cf_policy_diff(s->e, "kern", s->proposal, collect_wide, &w), CF_OK);
    const wide_row *r = wfind(&w, "state", s->ana);
    assert_non_null(r);
    assert_string_equal(r->who, "Ana Ruiz");
    assert_string_equal(r->county, "kern");
    assert_string_equal(r->old_value, "ehr_suspended");
    assert_string_equal(r->new_value, "grace");
    r = wfind(&w, "deadline", s->ana);
    assert_non_null(r);
    assert_string_equal(r->old_value, "none");
    assert_string_equal(r->new_value, "2025-05-02T07:00:00Z"); /* the start of day 121 in California */
    assert_non_null(wfind(&w, "state", s->cy));
    assert_int_equal(wcount(&w, s->dee), 0);
    r = wfind(&w, "deadline", s->bo);
    assert_non_null(r);
    assert_string_equal(r->who, "Bo Lee");
    assert_string_equal(r->old_value, "2025-05-03T07:00:00Z");
    assert_string_equal(r->new_value, "2025-06-02T07:00:00Z");
    assert_string_equal(r->effect, "the timer moves later by 30 days");
    /* the diff wrote nothing */
    assert_int_equal(cft_history_count(s->e, s->ana), before[0]);
    assert_string_equal(cft_state(s->e, s->ana), "ehr_suspended");

    s->clock.now = cft_time("2025-04-02T18:00:00Z");
    wide applied = {0};
    assert_int_equal(cf_policy_apply(s->e, "kern", s->proposal, "ann", collect_wide, &applied), CF_OK);
    assert_int_equal(applied.n, w.n);
    assert_string_equal(cft_state(s->e, s->ana), "grace");
    assert_string_equal(cft_state(s->e, s->cy), "grace");
    assert_string_equal(cft_state(s->e, s->dee), "ehr_suspended");
    assert_string_equal(cft_state(s->e, s->bo), "grace");
    /* one history row per affected instance, none for Dee */
    assert_int_equal(cft_history_count(s->e, s->ana), before[0] + 1);
    assert_int_equal(cft_history_count(s->e, s->bo), before[1] + 1);
    assert_int_equal(cft_history_count(s->e, s->cy), before[2] + 1);
    assert_int_equal(cft_history_count(s->e, s->dee), before[3]);
    char *due = next_due(s->e, s->ana);
    assert_string_equal(due, "2025-05-02T07:00:00Z");
    free(due);
    due = next_due(s->e, s->bo);
    assert_string_equal(due, "2025-06-02T07:00:00Z");
    free(due);
    /* what was decided stays in the history: the suspension, then the return */
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(s->e, s->ana, &info), CF_OK);
    assert_non_null(strstr(info.data, "\"reopened\":[{\"grace_ends_on\":\"2025-05-01\",\"on\":\"2025-04-02\","
                                      "\"suspended_on\":\"2025-04-02\"}]"));
    assert_non_null(strstr(info.data, "\"ehr_access\":\"active\""));
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(s->e, &rep), CF_OK);

    /* the log */
    logs g = {0};
    assert_int_equal(cf_policy_log(s->e, NULL, collect_log, &g), CF_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.actor, "ann");
    assert_string_equal(g.county, "kern");
    assert_string_equal(g.applies_to, "all");
    assert_int_equal(g.instances, 3);
    assert_string_equal(g.params, "[{\"name\":\"hire_grace_days\",\"old\":90,\"new\":120}]");
    assert_int_equal(strlen(g.overlay), 64);

    /* Cy's new last day is today: the timer fires at the start of tomorrow */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(s->e, cft_time("2025-04-03T06:59:59Z"), &fired), CF_OK);
    assert_int_equal(fired, 0);
    assert_int_equal(cf_engine_tick(s->e, cft_time("2025-04-03T07:00:00Z"), &fired), CF_OK);
    assert_int_equal(fired, 1);
    assert_string_equal(cft_state(s->e, s->cy), "ehr_suspended");
    assert_string_equal(cft_state(s->e, s->ana), "grace");
}

/* --for new: the hires the change would move stay on 90 days, pinned and recorded;
 * a hire started after the change gets 120. */
static void test_EMP_1_apply_for_new_keeps_current_hires(void **state)
{
    shipped *s = *state;
    int before = cft_history_count(s->e, s->bo);
    wide w = {0};
    assert_int_equal(cf_policy_diff_for(s->e, "kern", s->proposal, "new", collect_wide, &w), CF_OK);
    const wide_row *r = wfind(&w, "pin", s->ana);
    assert_non_null(r);
    assert_string_equal(r->name, "hire_grace_days");
    assert_string_equal(r->old_value, "90");
    assert_null(wfind(&w, "state", s->ana));
    assert_null(wfind(&w, "deadline", s->bo));
    assert_int_equal(wcount(&w, s->dee), 0);

    assert_int_equal(cf_policy_apply_for(s->e, "kern", s->proposal, "ann", "new", NULL, NULL), CF_OK);
    assert_string_equal(cft_state(s->e, s->ana), "ehr_suspended");
    assert_int_equal(cft_history_count(s->e, s->bo), before + 1);
    char *due = next_due(s->e, s->bo);
    assert_string_equal(due, "2025-05-03T07:00:00Z");
    free(due);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(s->e, s->bo, &info), CF_OK);
    assert_non_null(strstr(info.data, "\"policy_pins\":{\"hire_grace_days\":90}"));
    /* the pinned hires decide with 90 days: the same overlay again moves none of them */
    wide again = {0};
    assert_int_equal(cf_policy_diff(s->e, "kern", s->proposal, collect_wide, &again), CF_OK);
    assert_int_equal(again.n, 0);
    /* nor can a caller fire the engine's own event to bring Ana back */
    cft_fire(s->e, s->ana, "policy_changed", NULL, CF_EINVAL);
    assert_string_equal(cft_state(s->e, s->ana), "ehr_suspended");
    /* the pin cannot be given by an event (the workflow owns it) */
    cft_fire(s->e, s->bo, "bill", "{\"code_type\": \"peer\", \"policy_pins\": {\"hire_grace_days\": 400}}", CF_EINVAL);

    char eve[37];
    hire(s, "Eve Diaz", "2025-04-01", "2025-04-02T17:00:00Z", eve);
    due = next_due(s->e, eve);
    assert_string_equal(due, "2025-07-31T07:00:00Z"); /* 2025-04-01 + 120 days = 07-30, fires 07-31 */
    free(due);

    logs g = {0};
    assert_int_equal(cf_policy_log(s->e, "kern", collect_log, &g), CF_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.applies_to, "new");
    assert_int_equal(g.instances, 3);

    /* a later change for all releases the pins: Bo takes 120 days */
    char *p150 = cft_write(s->dir, "kern_150.lua", "return { params = { hire_grace_days = 150 } }\n");
    wide all = {0};
    assert_int_equal(cf_policy_apply(s->e, "kern", p150, "ann", collect_wide, &all), CF_OK);
    r = wfind(&all, "pin", s->bo);
    assert_non_null(r);
    assert_string_equal(r->old_value, "90");
    assert_string_equal(r->new_value, "150");
    due = next_due(s->e, s->bo);
    assert_string_equal(due, "2025-07-02T07:00:00Z"); /* 2025-02-01 + 150 = 07-01 */
    free(due);
    assert_int_equal(cf_instance_get(s->e, s->bo, &info), CF_OK);
    assert_null(strstr(info.data, "policy_pins"));
    assert_string_equal(cft_state(s->e, s->ana), "grace"); /* 01-01 + 150 = 05-31 */
    free(p150);
}

/* Lowering the grace period: a hire whose new last day has passed falls out of grace at
 * the next tick (the diff says so); a change that moves nobody is still logged. */
static void test_EMP_1_lowering_grace_falls_out_at_the_next_tick(void **state)
{
    shipped *s = *state;
    /* 60 days: Bo's last day is 02-01 + 60 = 04-02, today: still inside, the timer moves earlier */
    char *p60 = cft_write(s->dir, "kern_60.lua", "return { params = { hire_grace_days = 60 } }\n");
    wide w = {0};
    assert_int_equal(cf_policy_diff(s->e, "kern", p60, collect_wide, &w), CF_OK);
    const wide_row *r = wfind(&w, "deadline", s->bo);
    assert_non_null(r);
    assert_string_equal(r->new_value, "2025-04-03T07:00:00Z");
    assert_string_equal(r->effect, "the timer moves earlier by 30 days");
    free(p60);
    /* 59 days: his last day was yesterday: he falls out of grace at the next tick */
    p60 = cft_write(s->dir, "kern_59.lua", "return { params = { hire_grace_days = 59 } }\n");
    w.n = 0;
    assert_int_equal(cf_policy_diff(s->e, "kern", p60, collect_wide, &w), CF_OK);
    r = wfind(&w, "deadline", s->bo);
    assert_non_null(r);
    assert_string_equal(r->new_value, "2025-04-02T07:00:00Z");
    assert_string_equal(r->effect, "due already under the new policy: 'grace_ended' fires at the next tick");
    assert_int_equal(cf_policy_apply(s->e, "kern", p60, "ann", NULL, NULL), CF_OK);
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(s->e, s->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 1);
    assert_string_equal(cft_state(s->e, s->bo), "ehr_suspended");
    /* the same overlay again moves nobody, and is logged */
    wide none = {0};
    assert_int_equal(cf_policy_apply(s->e, "kern", p60, "bea", collect_wide, &none), CF_OK);
    assert_int_equal(none.n, 0);
    logs g = {0};
    assert_int_equal(cf_policy_log(s->e, "kern", collect_log, &g), CF_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.actor, "bea");
    assert_int_equal(g.instances, 0);
    assert_string_equal(g.params, "[]");
    g.n = 0;
    assert_int_equal(cf_policy_log(s->e, "alameda", collect_log, &g), CF_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(cf_policy_log(s->e, "Not A County", collect_log, &g), CF_EINVAL);
    /* who a change is for: only all or new */
    assert_int_equal(cf_policy_apply_for(s->e, "kern", p60, "ann", "everyone", NULL, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(s->e), "\"all\""));
    assert_int_equal(cf_policy_diff_for(s->e, "kern", p60, "old", NULL, NULL), CF_EINVAL);
    g.n = 0;
    assert_int_equal(cf_policy_log(s->e, NULL, collect_log, &g), CF_OK);
    assert_int_equal(g.n, 2);
    free(p60);
}


/* EMP_3: a change of ehr_restore_hours moves the restore deadline of a hire whose EHR access
 * is being restored: the notification + the hours in force. */
static void test_EMP_3_restore_hours_change_moves_the_restore_deadline(void **state)
{
    shipped *s = *state;
    char cert[37], emp[37];
    s->clock.now = cft_time("2025-01-02T17:00:00Z");
    assert_int_equal(cf_instance_create(s->e, "certification", "kern", "{\"name\": \"Fay Wu\"}", "test", cert), CF_OK);
    char data[200];
    snprintf(data, sizeof data, "{\"name\": \"Fay Wu\", \"hired_on\": \"2025-01-01\", \"certification_id\": \"%s\"}",
             cert);
    assert_int_equal(cf_instance_create(s->e, "employment", "kern", data, "test", emp), CF_OK);
    cft_fire(s->e, emp, "start", NULL, CF_OK);
    uint64_t fired = 0;
    s->clock.now = cft_time("2025-04-10T17:00:00Z");
    assert_int_equal(cf_engine_tick(s->e, s->clock.now, &fired), CF_OK);
    assert_string_equal(cft_state(s->e, emp), "ehr_suspended");
    char from[200];
    snprintf(from, sizeof from, "{\"from\": \"%s\", \"from_workflow\": \"certification\", \"from_state\": \"certified\"}",
             cert);
    cft_fire(s->e, emp, "certification_granted", from, CF_OK);
    assert_string_equal(cft_state(s->e, emp), "ehr_restoring");
    char *due = next_due(s->e, emp);
    assert_string_equal(due, "2025-04-12T17:00:00Z"); /* notified + 48 hours */
    free(due);
    char *p24 = cft_write(s->dir, "kern_24h.lua", "return { params = { ehr_restore_hours = 24 } }\n");
    wide w = {0};
    assert_int_equal(cf_policy_diff(s->e, "kern", p24, collect_wide, &w), CF_OK);
    const wide_row *r = wfind(&w, "deadline", emp);
    assert_non_null(r);
    assert_string_equal(r->who, "Fay Wu");
    assert_string_equal(r->new_value, "2025-04-11T17:00:00Z");
    assert_string_equal(r->effect, "the timer moves earlier by 1 day");
    assert_int_equal(cf_policy_apply(s->e, "kern", p24, "ann", NULL, NULL), CF_OK);
    due = next_due(s->e, emp);
    assert_string_equal(due, "2025-04-11T17:00:00Z");
    free(due);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(s->e, emp, &info), CF_OK);
    assert_non_null(strstr(info.data, "\"ehr_restore_by\":\"2025-04-11T17:00:00Z\""));
    free(p24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_diff_lists_exactly_the_changed_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_callback_may_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_same_overlay_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_county_without_overlay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_proposals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_moves_timers_and_records_the_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_adds_and_removes_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_rename_failure_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_cases_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_cases_prove_a_proposal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_cases_fail_with_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_test_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_case_expect_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_1_database_migrates, setup, teardown),
        cmocka_unit_test(test_EMP_1_shipped_policy_cases_pass),
        cmocka_unit_test(test_doc_quotes_the_fixtures),
    };
    const struct CMUnitTest shipped_tests[] = {
        cmocka_unit_test_setup_teardown(test_EMP_1_raising_grace_reaches_live_hires, shipped_setup, shipped_teardown),
        cmocka_unit_test_setup_teardown(test_EMP_1_apply_for_new_keeps_current_hires, shipped_setup, shipped_teardown),
        cmocka_unit_test_setup_teardown(test_EMP_1_lowering_grace_falls_out_at_the_next_tick, shipped_setup,
                                        shipped_teardown),
        cmocka_unit_test_setup_teardown(test_EMP_3_restore_hours_change_moves_the_restore_deadline, shipped_setup,
                                        shipped_teardown),
    };
    int failed = cmocka_run_group_tests_name("fixture workflow", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("shipped employment workflow", shipped_tests, NULL, NULL);
}
