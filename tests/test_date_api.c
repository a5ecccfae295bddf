/*
 * test_date_api.c — the public calendar: day numbers (cf_date_parse, _format,
 * _from_civil, _to_civil) and local dates in the engine's time zone
 * (cf_local_date, cf_local_midnight), which the shipped program's commands use
 * instead of a calendar of their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static void test_day_numbers_round_trip(void **state)
{
    (void)state;
    int64_t day = -1;
    assert_int_equal(cf_date_parse("1970-01-01", &day), CF_OK);
    assert_int_equal(day, 0);
    assert_int_equal(cf_date_parse("2024-02-29", &day), CF_OK);
    assert_int_equal(day, 19782);
    char buf[11];
    assert_int_equal(cf_date_format(day, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "2024-02-29");
    assert_int_equal(cf_date_format(day + 1, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "2024-03-01");
    int y = 0, m = 0, d = 0;
    assert_int_equal(cf_date_to_civil(-1, &y, &m, &d), CF_OK);
    assert_true(y == 1969 && m == 12 && d == 31);
    assert_int_equal(cf_date_from_civil(1, 1, 1, &day), CF_OK);
    assert_int_equal(day, -719162);
    assert_int_equal(cf_date_format(day, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "0001-01-01");
    assert_int_equal(cf_date_from_civil(9999, 12, 31, &day), CF_OK);
    assert_int_equal(day, 2932896);
    assert_int_equal(cf_date_to_civil(day, NULL, NULL, NULL), CF_OK);
}

static void test_day_numbers_refuse_what_is_not_a_date(void **state)
{
    (void)state;
    int64_t day = 42;
    const char *bad[] = {"2025-02-29", "2025-13-01", "2025-1-01", "2025-01-01T00:00", "0000-01-01", "", "20250101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cf_date_parse(bad[i], &day), CF_EINVAL);
        assert_int_equal(day, 42); /* unchanged */
    }
    assert_int_equal(cf_date_parse(NULL, &day), CF_EINVAL);
    assert_int_equal(cf_date_parse("2025-01-01", NULL), CF_EINVAL);
    assert_int_equal(cf_date_from_civil(2023, 2, 29, &day), CF_EINVAL);
    assert_int_equal(cf_date_from_civil(10000, 1, 1, &day), CF_EINVAL);
    assert_int_equal(cf_date_from_civil(2023, 1, 1, NULL), CF_EINVAL);
    assert_int_equal(day, 42);
    char buf[11];
    assert_int_equal(cf_date_format(0, buf, 10), CF_EINVAL);
    assert_int_equal(cf_date_format(0, NULL, 11), CF_EINVAL);
    assert_int_equal(cf_date_format(2932897, buf, sizeof buf), CF_EINVAL);
    assert_int_equal(cf_date_format(-719163, buf, sizeof buf), CF_EINVAL);
    assert_int_equal(cf_date_to_civil(2932897, NULL, NULL, NULL), CF_EINVAL);
}

static cf_engine *open_in_zone(const char *db, const char *zone)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.time_zone = zone;
    cf_engine *e = NULL;
    int rc = cft_engine_open(db, &o, &e);
    if (rc != CF_OK)
        fail_msg("cft_engine_open(%s): %s: %s", db, cf_result_name(rc), cf_errmsg(e));
    return e;
}

/* The same instant is a different local date in another zone: the date follows
 * cf_options.time_zone, not a calendar fixed to California. */
static void test_local_date_follows_the_engines_zone(void **state)
{
    (void)state;
    cf_engine *pacific = open_in_zone(":memory:", NULL);
    cf_engine *utc = open_in_zone(":memory:", "UTC0");
    cf_engine *eastern = open_in_zone(":memory:", "EST5EDT,M3.2.0,M11.1.0");
    cf_time t = cft_time("2025-01-01T06:30:00Z");
    int64_t day;
    char buf[11];
    assert_int_equal(cf_local_date(pacific, t, &day), CF_OK);
    assert_int_equal(cf_date_format(day, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "2024-12-31");
    assert_int_equal(cf_local_date(eastern, t, &day), CF_OK);
    assert_int_equal(cf_date_format(day, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "2025-01-01");
    assert_int_equal(cf_local_date(utc, t, &day), CF_OK);
    assert_int_equal(cf_date_format(day, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "2025-01-01");

    /* midnight: 08:00Z in Pacific standard time, 07:00Z in daylight time, 00:00Z in UTC */
    cf_time m;
    assert_int_equal(cf_date_parse("2025-01-15", &day), CF_OK);
    assert_int_equal(cf_local_midnight(pacific, day, &m), CF_OK);
    assert_int_equal(m, cft_time("2025-01-15T08:00:00Z"));
    assert_int_equal(cf_local_midnight(utc, day, &m), CF_OK);
    assert_int_equal(m, cft_time("2025-01-15T00:00:00Z"));
    assert_int_equal(cf_date_parse("2025-07-04", &day), CF_OK);
    assert_int_equal(cf_local_midnight(pacific, day, &m), CF_OK);
    assert_int_equal(m, cft_time("2025-07-04T07:00:00Z"));
    assert_int_equal(cf_local_midnight(eastern, day, &m), CF_OK);
    assert_int_equal(m, cft_time("2025-07-04T04:00:00Z"));
    /* the first and last instants of a Pacific date around the spring change */
    assert_int_equal(cf_date_parse("2025-03-09", &day), CF_OK);
    assert_int_equal(cf_local_midnight(pacific, day, &m), CF_OK);
    int64_t back;
    assert_int_equal(cf_local_date(pacific, m, &back), CF_OK);
    assert_int_equal(back, day);
    assert_int_equal(cf_local_date(pacific, m - 1, &back), CF_OK);
    assert_int_equal(back, day - 1);
    cf_engine_close(pacific);
    cf_engine_close(utc);
    cf_engine_close(eastern);
}

static void test_local_date_refuses_bad_arguments(void **state)
{
    (void)state;
    int64_t day = 7;
    cf_time t = 5;
    assert_int_equal(cf_local_date(NULL, 0, &day), CF_EINVAL);
    assert_int_equal(cf_local_midnight(NULL, 0, &t), CF_EINVAL);
    cf_engine *e = open_in_zone(":memory:", NULL);
    assert_int_equal(cf_local_date(e, 0, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "cf_local_date"));
    assert_int_equal(cf_local_midnight(e, 0, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "cf_local_midnight"));
    assert_int_equal(cf_local_date(e, INT64_MAX, &day), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "outside years 1 to 9999"));
    assert_int_equal(cf_local_date(e, INT64_MIN, &day), CF_EINVAL);
    /* 0001-01-01T00:00Z is still year 0 in California */
    assert_int_equal(cf_local_date(e, cft_time("0001-01-01T00:00:00Z"), &day), CF_EINVAL);
    assert_int_equal(cf_local_midnight(e, 2932897, &t), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "outside years 1 to 9999"));
    assert_int_equal(day, 7);
    assert_int_equal(t, 5);
    cf_engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_numbers_round_trip),
        cmocka_unit_test(test_day_numbers_refuse_what_is_not_a_date),
        cmocka_unit_test(test_local_date_follows_the_engines_zone),
        cmocka_unit_test(test_local_date_refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
