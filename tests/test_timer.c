/* test_timer.c — durable timers on a virtual clock: due order, the local-midnight
 * boundary, catch-up after downtime, three virtual years, and the due list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    cft_clock clock;
    cf_engine *e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    char *db = cft_path(f->dir, "t.db");
    f->clock.now = cft_time("2025-01-06T17:00:00Z");
    f->e = cft_open_fixture(db, &f->clock);
    free(db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cf_engine_close(f->e);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void approved_permit(fixture *f, char id[37])
{
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", id), CF_OK);
    cft_fire(f->e, id, "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
}

static uint64_t tick(fixture *f, const char *iso)
{
    uint64_t fired = 0;
    f->clock.now = cft_time(iso);
    int rc = cf_engine_tick(f->e, f->clock.now, &fired);
    if (rc != CF_OK)
        fail_msg("tick %s: %s", iso, cf_errmsg(f->e));
    return fired;
}

static void test_timer_fires_at_local_midnight_after_deadline(void **state)
{
    fixture *f = *state;
    char id[37];
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", id), CF_OK);
    /* kern has no overlay: pending_days = 30 from 2025-01-06 -> due 2025-02-05 00:00 Pacific (08:00Z). */
    assert_int_equal(tick(f, "2025-02-05T07:59:59Z"), 0);
    assert_string_equal(cft_state(f->e, id), "pending");
    assert_int_equal(tick(f, "2025-02-05T08:00:00Z"), 1);
    assert_string_equal(cft_state(f->e, id), "denied");
    assert_int_equal(tick(f, "2025-03-01T00:00:00Z"), 0);
}

typedef struct trail {
    char text[4096];
} trail;

static int record_row(void *ud, const cf_history_entry *h)
{
    trail *t = ud;
    char at[32];
    cf_time_format(h->effective_at, at, sizeof at);
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%s %s %s->%s\n", at, h->event, h->from_state, h->to_state);
    return 0;
}

static const char three_years[] =
    "2026-01-07T08:00:00Z expire active->expired\n"
    "2026-02-06T08:00:00Z renew expired->active\n"
    "2027-01-07T08:00:00Z expire active->expired\n"
    "2027-02-06T08:00:00Z renew expired->active\n"
    "2028-01-07T08:00:00Z expire active->expired\n"
    "2028-02-06T08:00:00Z renew expired->active\n";

static void test_three_virtual_years_of_daily_ticks(void **state)
{
    fixture *f = *state;
    char id[37];
    approved_permit(f, id);
    cf_time start = cft_time("2025-01-07T12:00:00Z");
    uint64_t total = 0;
    for (int day = 0; day < 3 * 365 + 40; day++) {
        f->clock.now = start + (cf_time)day * 86400;
        uint64_t fired = 0;
        assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
        total += fired;
    }
    /* expiry and auto-renew, once a year for three years */
    assert_int_equal(total, 6);
    assert_string_equal(cft_state(f->e, id), "active");
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    json_t *d = json_loads(info.data, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(d, "until")), "2029-01-06");
    assert_int_equal(json_integer_value(json_object_get(d, "renewals")), 3);
    json_decref(d);
    trail t = {{0}};
    assert_int_equal(cf_instance_history(f->e, id, record_row, &t), CF_OK);
    assert_non_null(strstr(t.text, three_years));
}

static void test_downtime_catch_up_in_due_order(void **state)
{
    fixture *f = *state;
    char id[37];
    approved_permit(f, id);
    /* The engine was down for three years: one tick replays every deadline in order,
     * each transition seeing its own due time as today. */
    assert_int_equal(tick(f, "2028-06-01T00:00:00Z"), 6);
    trail t = {{0}};
    assert_int_equal(cf_instance_history(f->e, id, record_row, &t), CF_OK);
    /* the same trail as three years of daily ticks */
    assert_non_null(strstr(t.text, three_years));
    assert_string_equal(cft_state(f->e, id), "active");
    assert_int_equal(cft_history_count(f->e, id), 8);
}

static void test_reenter_resets_timers_and_internal_keeps_them(void **state)
{
    fixture *f = *state;
    char id[37];
    approved_permit(f, id);
    assert_int_equal(cft_timer_count(f->e, cft_time("2026-01-07T08:00:00Z")), 1);
    /* renew re-enters active: the expiry moves one year out. */
    cft_fire(f->e, id, "renew", NULL, CF_OK);
    assert_int_equal(cft_timer_count(f->e, cft_time("2026-12-31T00:00:00Z")), 0);
    assert_int_equal(cft_timer_count(f->e, cft_time("2027-01-07T08:00:00Z")), 1);
    /* An internal transition (pending -> pending) keeps the pending timer. */
    char p[37];
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", p), CF_OK);
    cft_fire(f->e, p, "bump", NULL, CF_OK);
    assert_int_equal(cft_timer_count(f->e, cft_time("2025-02-05T08:00:00Z")), 1);
}

typedef struct due_list {
    int n;
    char names[256];
} due_list;

static int collect_due(void *ud, const cf_timer_info *t)
{
    due_list *l = ud;
    l->n++;
    size_t n = strlen(l->names);
    snprintf(l->names + n, sizeof l->names - n, "%s:%s:%s,", t->workflow, t->state, t->name);
    assert_string_equal(t->county, "kern");
    return 0;
}

static void test_due_window(void **state)
{
    fixture *f = *state;
    char a[37], b[37];
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", a), CF_OK);
    approved_permit(f, b);
    due_list l = {0, ""};
    assert_int_equal(cf_timer_list(f->e, cft_time("2025-01-06"), cft_time("2025-03-01"), collect_due, &l), CF_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.names, "permit:pending:auto_deny,");
    memset(&l, 0, sizeof l);
    assert_int_equal(cf_timer_list(f->e, cft_time("2025-01-06"), cft_time("2027-01-01"), collect_due, &l), CF_OK);
    assert_string_equal(l.names, "permit:pending:auto_deny,permit:active:expiry,");
    assert_int_equal(cf_timer_list(f->e, 10, 5, collect_due, &l), CF_EINVAL);
}

static void test_tick_limit(void **state)
{
    fixture *f = *state;
    char a[37], b[37];
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", a), CF_OK);
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", b), CF_OK);
    f->e->opts.max_tick_fires = 1;
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, cft_time("2025-06-01"), &fired), CF_ELIMIT);
    assert_int_equal(fired, 1);
    assert_non_null(strstr(cf_errmsg(f->e), "max_tick_fires"));
    f->e->opts.max_tick_fires = 100;
    assert_int_equal(cf_engine_tick(f->e, cft_time("2025-06-01"), &fired), CF_OK);
    assert_int_equal(fired, 1);
}

/* The runaway boundary, on tests/reliability/fixtures/runaway: the echo's timer
 * re-enters its state with the due time ctx.now + data.offset_s. */
static int setup_echo(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    char *db = cft_path(f->dir, "t.db");
    f->clock.now = cft_time("2025-01-06T17:00:00Z");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/../reliability/fixtures/runaway/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/../reliability/fixtures/runaway/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    int rc = cft_engine_open(db, &o, &f->e);
    free(db);
    if (rc != CF_OK)
        fail_msg("cf_engine_open: %s", cf_errmsg(f->e));
    *state = f;
    return 0;
}

static void test_timer_rearmed_one_second_later_fires_at_the_same_instant_refused(void **state)
{
    fixture *f = *state;
    cf_time t0 = f->clock.now;
    char id[37];
    /* Entered from an ordinary event, a timer due now is fine: the next tick fires it. */
    assert_int_equal(cf_instance_create(f->e, "echo", "kern", "{\"offset_s\": 0}", "t", id), CF_OK);
    cft_fire(f->e, id, "ok", "{\"offset_s\": 1}", CF_OK); /* internal: the timer stays due at t0 */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, t0, &fired), CF_OK);
    assert_int_equal(fired, 1);
    /* Re-armed one second after the instant it fired at: not due yet at t0. */
    assert_int_equal(cft_timer_count(f->e, t0), 0);
    assert_int_equal(cft_timer_count(f->e, t0 + 1), 1);
    /* Catch-up: each fire re-arms one second later, in order, until the tick's time. */
    assert_int_equal(cf_engine_tick(f->e, t0 + 3, &fired), CF_OK);
    assert_int_equal(fired, 3);
    assert_int_equal(cft_history_count(f->e, id), 6);
    /* Due at the very instant it fired at: refused, nothing written, still pending. */
    cft_fire(f->e, id, "ok", "{\"offset_s\": 0}", CF_OK);
    assert_int_equal(cf_engine_tick(f->e, t0 + 4, &fired), CF_ELIMIT);
    assert_int_equal(fired, 0);
    assert_non_null(strstr(cf_errmsg(f->e), "deadline function 'rw_now'"));
    assert_int_equal(cft_history_count(f->e, id), 7);
    assert_int_equal(cft_timer_count(f->e, t0 + 4), 1);
    assert_int_equal(cft_timer_count(f->e, t0 + 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timer_fires_at_local_midnight_after_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_virtual_years_of_daily_ticks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downtime_catch_up_in_due_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reenter_resets_timers_and_internal_keeps_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_rearmed_one_second_later_fires_at_the_same_instant_refused,
                                        setup_echo, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
