/*
 * test_query.c — cf_history_between (engine/core/query.c): rows of many instances in a
 * period, half-open bounds on the effective time, filters, chain order, stopping
 * early, and argument checks; cf_history_after: the rows after a cursor, paged by
 * limit with the last row read as the next cursor, filters, stopping early. Runs on the engine fixtures (tests/fixtures/engine).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
    char *dir;
    cf_engine *e;
    cft_clock clock;
    char a[37], b[37];
    cf_time t0, t1, t2;
} fx;

typedef struct rows {
    int n;
    int64_t last_seq;
    int ordered;
    int stop_after;
    char events[16][32];
    char ids[16][37];
} rows;

static int collect(void *ud, const cf_history_entry *h)
{
    rows *r = ud;
    if (r->n && h->seq <= r->last_seq)
        r->ordered = 0;
    r->last_seq = h->seq;
    if (r->n < 16) {
        snprintf(r->events[r->n], sizeof r->events[0], "%s", h->event);
        snprintf(r->ids[r->n], sizeof r->ids[0], "%s", h->instance_id);
    }
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

static int grab_name(void *ud, const char *name)
{
    char *buf = ud;
    if (!buf[0])
        snprintf(buf, 64, "%s", name);
    return 0;
}

/* Two instances: a created at t0, b created at t1; an event fired on a at t2. */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = cft_tmpdir();
    char *db = cft_path(f->dir, "q.db");
    f->t0 = cft_time("2025-01-06T17:00:00Z");
    f->t1 = f->t0 + 86400;
    f->t2 = f->t0 + 2 * 86400;
    f->clock.now = f->t0;
    f->e = cft_open_fixture(db, &f->clock);
    free(db);
    char wf[64] = "";
    assert_int_equal(cf_workflow_names(f->e, grab_name, wf), CF_OK);
    assert_true(wf[0]);
    assert_int_equal(cf_instance_create(f->e, wf, "alameda", NULL, "t", f->a), CF_OK);
    f->clock.now = f->t1;
    assert_int_equal(cf_instance_create(f->e, wf, "san_diego", NULL, "t", f->b), CF_OK);
    f->clock.now = f->t2;
    assert_int_equal(cf_instance_fire(f->e, f->a, "close", NULL, "t", NULL, NULL), CF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void test_rows_in_period_half_open(void **state)
{
    fx *f = *state;
    rows r = {.ordered = 1};
    assert_int_equal(cf_history_between(f->e, f->t0, f->t1 + 1, NULL, collect, &r), CF_OK);
    assert_int_equal(r.n, 2); /* the event at t2 is outside */
    assert_true(r.ordered);
    assert_string_equal(r.ids[0], f->a);
    assert_string_equal(r.ids[1], f->b);
    assert_string_equal(r.events[0], ""); /* creation rows */

    rows r2 = {.ordered = 1};
    assert_int_equal(cf_history_between(f->e, f->t0, f->t1, NULL, collect, &r2), CF_OK); /* to is excluded */
    assert_int_equal(r2.n, 1);
    assert_string_equal(r2.ids[0], f->a);

    rows r3 = {.ordered = 1};
    assert_int_equal(cf_history_between(f->e, f->t1, f->t1 + 1, NULL, collect, &r3), CF_OK); /* from is included */
    assert_int_equal(r3.n, 1);
    assert_string_equal(r3.ids[0], f->b);

    rows r4 = {0};
    assert_int_equal(cf_history_between(f->e, f->t1, f->t0, NULL, collect, &r4), CF_OK); /* empty period */
    assert_int_equal(r4.n, 0);
}

/* A period that starts no later than the oldest row is walked by the history's key
 * (history.c's SCAN_SQL, streaming), a later one through the time index: the same
 * rows, in seq order, with the bounds and filters, on both sides of the switch. */
static void test_period_from_the_oldest_row(void **state)
{
    fx *f = *state;
    const cf_time froms[] = {INT64_MIN, f->t0 - 1, f->t0, f->t0 + 1};
    const int want[] = {3, 3, 3, 2};
    for (size_t i = 0; i < sizeof froms / sizeof froms[0]; i++) {
        rows r = {.ordered = 1};
        assert_int_equal(cf_history_between(f->e, froms[i], f->t2 + 1, NULL, collect, &r), CF_OK);
        assert_int_equal(r.n, want[i]);
        assert_true(r.ordered);
        rows to = {.ordered = 1}; /* to stays excluded on the walk too */
        assert_int_equal(cf_history_between(f->e, froms[i], f->t2, NULL, collect, &to), CF_OK);
        assert_int_equal(to.n, want[i] - 1);
        cf_history_filter flt = CF_HISTORY_FILTER_INIT;
        flt.county = "alameda";
        rows a = {.ordered = 1};
        assert_int_equal(cf_history_between(f->e, froms[i], f->t2 + 1, &flt, collect, &a), CF_OK);
        assert_int_equal(a.n, i == 3 ? 1 : 2);
        assert_true(a.ordered);
        assert_string_equal(a.ids[0], f->a);
    }
}

static void test_filters(void **state)
{
    fx *f = *state;
    cf_history_filter flt = CF_HISTORY_FILTER_INIT;
    flt.county = "san_diego";
    rows r = {.ordered = 1};
    assert_int_equal(cf_history_between(f->e, INT64_MIN, INT64_MAX, &flt, collect, &r), CF_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ids[0], f->b);

    cf_history_filter none = CF_HISTORY_FILTER_INIT;
    none.workflow = "no_such_workflow";
    rows r2 = {0};
    assert_int_equal(cf_history_between(f->e, INT64_MIN, INT64_MAX, &none, collect, &r2), CF_OK);
    assert_int_equal(r2.n, 0);

    cf_history_filter created = CF_HISTORY_FILTER_INIT;
    created.outcome = "created";
    created.event = "";
    rows r3 = {0};
    assert_int_equal(cf_history_between(f->e, INT64_MIN, INT64_MAX, &created, collect, &r3), CF_OK);
    assert_int_equal(r3.n, 2);

    cf_history_filter closing = CF_HISTORY_FILTER_INIT;
    closing.event = "close";
    closing.outcome = "applied";
    rows r5 = {0};
    assert_int_equal(cf_history_between(f->e, f->t2, f->t2 + 1, &closing, collect, &r5), CF_OK);
    assert_int_equal(r5.n, 1);
    assert_string_equal(r5.ids[0], f->a);

    cf_history_filter rejected = CF_HISTORY_FILTER_INIT;
    rejected.outcome = "rejected";
    rows r4 = {0};
    assert_int_equal(cf_history_between(f->e, INT64_MIN, INT64_MAX, &rejected, collect, &r4), CF_OK);
    assert_int_equal(r4.n, 0);
}

static void test_stop_early_and_bad_arguments(void **state)
{
    fx *f = *state;
    rows r = {.ordered = 1, .stop_after = 1};
    assert_int_equal(cf_history_between(f->e, INT64_MIN, INT64_MAX, NULL, collect, &r), CF_OK);
    assert_int_equal(r.n, 1);

    assert_int_equal(cf_history_between(f->e, 0, 1, NULL, NULL, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "callback"));
    cf_history_filter bad = CF_HISTORY_FILTER_INIT;
    bad.size = 0;
    assert_int_equal(cf_history_between(f->e, 0, 1, &bad, collect, &r), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "CF_HISTORY_FILTER_INIT"));
    assert_int_equal(cf_history_between(NULL, 0, 1, NULL, collect, &r), CF_EINVAL);
}

/* A filter from an older caller (smaller size) still works: missing fields match everything. */
static void test_older_filter_size(void **state)
{
    fx *f = *state;
    cf_history_filter flt = CF_HISTORY_FILTER_INIT;
    flt.workflow = NULL;
    flt.county = "alameda";
    flt.event = "this-is-beyond-the-old-size";
    flt.size = offsetof(cf_history_filter, event);
    rows r = {0};
    assert_int_equal(cf_history_between(f->e, INT64_MIN, INT64_MAX, &flt, collect, &r), CF_OK);
    assert_int_equal(r.n, 2); /* a's creation and its close */
    assert_string_equal(r.ids[0], f->a);
}

/* cf_history_after: from a cursor, limit rows at a time, *last continues exactly after. */
static void test_after_cursor(void **state)
{
    fx *f = *state;
    rows all = {.ordered = 1};
    int64_t last = -1;
    assert_int_equal(cf_history_after(f->e, 0, 0, NULL, collect, &all, &last), CF_OK);
    assert_int_equal(all.n, 3); /* a created, b created, a closed */
    assert_true(all.ordered);
    assert_int_equal(last, all.last_seq);
    assert_string_equal(all.events[2], "close");

    /* one row a page: each page's *last is the next cursor; nothing missed or read twice */
    int64_t cur = 0;
    rows paged = {.ordered = 1};
    for (int page = 0; page < 5; page++) {
        int before = paged.n;
        int64_t next = -1;
        assert_int_equal(cf_history_after(f->e, cur, 1, NULL, collect, &paged, &next), CF_OK);
        if (paged.n == before) {
            assert_int_equal(next, cur); /* nothing after: the cursor stays */
            break;
        }
        assert_int_equal(paged.n, before + 1);
        assert_true(next > cur);
        cur = next;
    }
    assert_int_equal(paged.n, 3);
    assert_true(paged.ordered);
    for (int i = 0; i < 3; i++)
        assert_string_equal(paged.ids[i], all.ids[i]);

    /* after the last row: nothing */
    rows none = {0};
    assert_int_equal(cf_history_after(f->e, all.last_seq, 10, NULL, collect, &none, &last), CF_OK);
    assert_int_equal(none.n, 0);
    assert_int_equal(last, all.last_seq);

    /* filters: the county's rows only; *last is the last of those */
    cf_history_filter flt = CF_HISTORY_FILTER_INIT;
    flt.county = "alameda";
    flt.outcome = "applied";
    rows mine = {0};
    assert_int_equal(cf_history_after(f->e, 0, 0, &flt, collect, &mine, &last), CF_OK);
    assert_int_equal(mine.n, 1);
    assert_string_equal(mine.events[0], "close");
    assert_int_equal(last, all.last_seq);

    /* stop early: *last is the row the callback stopped on */
    rows one = {.stop_after = 1};
    assert_int_equal(cf_history_after(f->e, 0, 0, NULL, collect, &one, &last), CF_OK);
    assert_int_equal(one.n, 1);
    assert_int_equal(last, one.last_seq);

    /* bad arguments change nothing and say what to do */
    assert_int_equal(cf_history_after(f->e, -1, 0, NULL, collect, &one, &last), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "start from 0"));
    assert_int_equal(last, -1);
    assert_int_equal(cf_history_after(f->e, 0, 0, NULL, NULL, NULL, NULL), CF_EINVAL);
    cf_history_filter bad = CF_HISTORY_FILTER_INIT;
    bad.size = 0;
    assert_int_equal(cf_history_after(f->e, 0, 0, &bad, collect, &one, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "CF_HISTORY_FILTER_INIT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_in_period_half_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_from_the_oldest_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_early_and_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_filter_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_cursor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
