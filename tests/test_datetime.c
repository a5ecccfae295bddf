/* test_datetime.c — calendar arithmetic, POSIX TZ rules and ISO 8601 text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "testutil.h"

#include <string.h>

static cf__date D(int y, int m, int d)
{
    cf__date r = {y, m, d};
    return r;
}

static void assert_date(cf__date got, int y, int m, int d)
{
    char a[11], b[11];
    cf__date_format(got, a);
    cf__date_format(D(y, m, d), b);
    assert_string_equal(a, b);
}

static cf__tz la(void)
{
    cf__tz tz;
    cf__err err;
    assert_int_equal(cf__tz_parse("PST8PDT,M3.2.0,M11.1.0", &tz, &err), CF_OK);
    return tz;
}

static void test_civil_round_trip(void **state)
{
    (void)state;
    assert_int_equal(cf__days_from_civil(D(1970, 1, 1)), 0);
    assert_int_equal(cf__days_from_civil(D(2000, 3, 1)), 11017);
    assert_int_equal(cf__days_from_civil(D(1969, 12, 31)), -1);
    for (int64_t day = -800000; day < 3000000; day += 997) {
        cf__date d = cf__civil_from_days(day);
        assert_true(d.year < 1 || d.year > 9999 || cf__date_valid(d));
        assert_int_equal(cf__days_from_civil(d), day);
    }
}

static void test_leap_years(void **state)
{
    (void)state;
    assert_int_equal(cf__days_in_month(2024, 2), 29);
    assert_int_equal(cf__days_in_month(2023, 2), 28);
    assert_int_equal(cf__days_in_month(2000, 2), 29);
    assert_int_equal(cf__days_in_month(1900, 2), 28);
    assert_int_equal(cf__days_in_month(2100, 2), 28);
    assert_int_equal(cf__days_in_month(2024, 4), 30);
    assert_int_equal(cf__days_in_month(2024, 13), 0);
    assert_true(cf__date_valid(D(2024, 2, 29)));
    assert_false(cf__date_valid(D(2023, 2, 29)));
    assert_false(cf__date_valid(D(2024, 0, 1)));
    assert_false(cf__date_valid(D(0, 1, 1)));
}

static void test_month_end_clamping(void **state)
{
    (void)state;
    assert_date(cf__date_add_months(D(2025, 1, 31), 1), 2025, 2, 28);
    assert_date(cf__date_add_months(D(2024, 1, 31), 1), 2024, 2, 29);
    assert_date(cf__date_add_months(D(2024, 3, 31), -1), 2024, 2, 29);
    assert_date(cf__date_add_months(D(2024, 5, 31), 1), 2024, 6, 30);
    assert_date(cf__date_add_months(D(2024, 11, 15), 2), 2025, 1, 15);
    assert_date(cf__date_add_months(D(2024, 1, 15), -13), 2022, 12, 15);
    assert_date(cf__date_add_months(D(2024, 12, 31), 12), 2025, 12, 31);
    assert_date(cf__date_add_days(D(2024, 2, 28), 1), 2024, 2, 29);
    assert_date(cf__date_add_days(D(2023, 12, 31), 1), 2024, 1, 1);
    assert_date(cf__date_add_days(D(2024, 3, 1), -1), 2024, 2, 29);
}

static void test_feb29_plus_years(void **state)
{
    (void)state;
    assert_date(cf__date_add_years(D(2024, 2, 29), 1), 2025, 2, 28);
    assert_date(cf__date_add_years(D(2024, 2, 29), 4), 2028, 2, 29);
    assert_date(cf__date_add_years(D(2024, 2, 29), -4), 2020, 2, 29);
    assert_date(cf__date_add_years(D(2024, 2, 29), 2), 2026, 2, 28);
    assert_date(cf__date_add_years(D(2096, 2, 29), 4), 2100, 2, 28);
}

static void test_weekday(void **state)
{
    (void)state;
    assert_int_equal(cf__date_weekday(D(1970, 1, 1)), 4);
    assert_int_equal(cf__date_weekday(D(2025, 3, 9)), 0);
    assert_int_equal(cf__date_weekday(D(2025, 3, 8)), 6);
    assert_int_equal(cf__date_weekday(D(2024, 2, 29)), 4);
    assert_int_equal(cf__date_weekday(D(1900, 1, 1)), 1);
}

static void test_strict_parse(void **state)
{
    (void)state;
    cf__date d;
    assert_true(cf__date_parse("2024-02-29", &d));
    assert_date(d, 2024, 2, 29);
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-04-31", "2024-01-01x",
                         "2024-1-01",  "24-01-01",   "2024/01/01", " 2024-01-01", "2024-01-01T00:00:00Z",
                         "",           "0000-01-01", "2024-01-0a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (cf__date_parse(bad[i], &d))
            fail_msg("accepted %s", bad[i]);
    }
    assert_false(cf__date_parse(NULL, &d));
    char buf[11];
    cf__date_format(D(7, 3, 5), buf);
    assert_string_equal(buf, "0007-03-05");
}

static void test_tz_parse_forms(void **state)
{
    (void)state;
    cf__tz tz;
    cf__err err;
    assert_int_equal(cf__tz_parse("UTC0", &tz, &err), CF_OK);
    assert_false(tz.has_dst);
    assert_int_equal(tz.std_offset, 0);
    assert_int_equal(cf__tz_parse("EST5EDT,M3.2.0,M11.1.0", &tz, &err), CF_OK);
    assert_int_equal(tz.std_offset, -5 * 3600);
    assert_int_equal(tz.dst_offset, -4 * 3600);
    assert_int_equal(cf__tz_parse("<+0530>-5:30", &tz, &err), CF_OK);
    assert_int_equal(tz.std_offset, 5 * 3600 + 1800);
    assert_int_equal(cf__tz_parse("CET-1CEST,M3.5.0,M10.5.0/3", &tz, &err), CF_OK);
    assert_int_equal(tz.end_time, 3 * 3600);
    assert_int_equal(cf__tz_parse("PST8PDT", &tz, &err), CF_OK); /* US rules assumed */
    assert_int_equal(tz.start_month, 3);
    const char *bad[] = {"", "P8", "PST", "PST8PDT,M3.2.0", "PST8PDT,J60,J300", "PST8PDT,M13.2.0,M11.1.0",
                         "PST8PDT,M3.2.0,M11.1.0junk", "PST99"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        if (cf__tz_parse(bad[i], &tz, &err) != CF_EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(err.msg, "time zone"));
    }
}

static void test_dst_offsets_2025(void **state)
{
    (void)state;
    cf__tz tz = la();
    /* Spring forward: 2025-03-09 02:00 PST = 10:00Z. */
    assert_int_equal(cf__tz_offset_at(&tz, cft_time("2025-03-09T09:59:59Z")), -8 * 3600);
    assert_int_equal(cf__tz_offset_at(&tz, cft_time("2025-03-09T10:00:00Z")), -7 * 3600);
    /* Fall back: 2025-11-02 02:00 PDT = 09:00Z. */
    assert_int_equal(cf__tz_offset_at(&tz, cft_time("2025-11-02T08:59:59Z")), -7 * 3600);
    assert_int_equal(cf__tz_offset_at(&tz, cft_time("2025-11-02T09:00:00Z")), -8 * 3600);
    assert_int_equal(cf__tz_offset_at(&tz, cft_time("2025-07-01T00:00:00Z")), -7 * 3600);
    assert_int_equal(cf__tz_offset_at(&tz, cft_time("2025-01-01T00:00:00Z")), -8 * 3600);
    cf__tz utc;
    cf__err err;
    assert_int_equal(cf__tz_parse("UTC0", &utc, &err), CF_OK);
    assert_int_equal(cf__tz_offset_at(&utc, cft_time("2025-07-01T00:00:00Z")), 0);
}

static void test_local_date_near_midnight(void **state)
{
    (void)state;
    cf__tz tz = la();
    assert_date(cf__tz_local_date(&tz, cft_time("2025-03-02T05:00:00Z")), 2025, 3, 1);
    assert_date(cf__tz_local_date(&tz, cft_time("2025-03-02T08:00:00Z")), 2025, 3, 2);
    assert_date(cf__tz_local_date(&tz, cft_time("2025-07-02T06:59:59Z")), 2025, 7, 1);
    assert_date(cf__tz_local_date(&tz, cft_time("2025-07-02T07:00:00Z")), 2025, 7, 2);
    assert_date(cf__tz_local_date(&tz, cft_time("1969-12-31T20:00:00Z")), 1969, 12, 31);
}

static void test_midnight_of_date(void **state)
{
    (void)state;
    cf__tz tz = la();
    assert_int_equal(cf__tz_midnight(&tz, D(2025, 3, 1)), cft_time("2025-03-01T08:00:00Z"));
    assert_int_equal(cf__tz_midnight(&tz, D(2025, 3, 9)), cft_time("2025-03-09T08:00:00Z"));
    assert_int_equal(cf__tz_midnight(&tz, D(2025, 3, 10)), cft_time("2025-03-10T07:00:00Z"));
    assert_int_equal(cf__tz_midnight(&tz, D(2025, 11, 2)), cft_time("2025-11-02T07:00:00Z"));
    assert_int_equal(cf__tz_midnight(&tz, D(2025, 11, 3)), cft_time("2025-11-03T08:00:00Z"));
    /* A zone that springs forward at midnight: the day starts at 01:00. */
    cf__tz sa;
    cf__err err;
    assert_int_equal(cf__tz_parse("XST3XDT,M9.1.6/24,M4.1.6/24", &sa, &err), CF_OK);
    cf_time m = cf__tz_midnight(&sa, D(2025, 9, 7));
    assert_date(cf__tz_local_date(&sa, m), 2025, 9, 7);
    assert_date(cf__tz_local_date(&sa, m - 1), 2025, 9, 6);
}

static void test_parse_instant_forms(void **state)
{
    (void)state;
    cf__tz tz = la();
    cf_time t;
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-03-01", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-03-01T08:00:00Z"));
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-03-01T12:00:00Z", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-03-01T12:00:00Z"));
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-03-01T12:00:00+02:00", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-03-01T10:00:00Z"));
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-07-01T09:30", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-07-01T16:30:00Z"));
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-01-01T09:30:15", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-01-01T17:30:15Z"));
    /* The repeated hour takes its first occurrence (PDT). */
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-11-02T01:30", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-11-02T08:30:00Z"));
    /* The skipped hour is read with the offset before the gap (PST). */
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-03-09T02:30", &t), CF_OK);
    assert_int_equal(t, cft_time("2025-03-09T10:30:00Z"));
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-03-01T25:00", &t), CF_EINVAL);
    assert_int_equal(cf__tz_parse_instant(&tz, "next tuesday", &t), CF_EINVAL);
    assert_int_equal(cf__tz_parse_instant(&tz, "2025-02-30", &t), CF_EINVAL);
}

static void test_time_parse_format(void **state)
{
    (void)state;
    cf_time t;
    assert_int_equal(cf_time_parse("1970-01-01", &t), CF_OK);
    assert_int_equal(t, 0);
    assert_int_equal(cf_time_parse("2025-03-01", &t), CF_OK);
    assert_int_equal(t, 1740787200);
    assert_int_equal(cf_time_parse("2025-03-01T08:00:00Z", &t), CF_OK);
    assert_int_equal(t, 1740787200 + 8 * 3600);
    assert_int_equal(cf_time_parse("2025-03-01T08:00:00-08:00", &t), CF_OK);
    assert_int_equal(t, 1740787200 + 16 * 3600);
    assert_int_equal(cf_time_parse("2025-03-01T08:00", &t), CF_OK);
    assert_int_equal(t, 1740787200 + 8 * 3600);
    assert_int_equal(cf_time_parse("2025-03-01T08:00:00", &t), CF_OK);
    assert_int_equal(t, 1740787200 + 8 * 3600);
    assert_int_equal(cf_time_parse("1969-12-31T23:59:59Z", &t), CF_OK);
    assert_int_equal(t, -1);

    const char *bad[] = {"", "2025-03-01T", "2025-03-01T8:00", "2025-03-01 08:00:00", "2025-03-01T08:00:00z",
                         "2025-03-01T08:00:00+8", "2025-03-01T08:00:60Z", "2025-03-01T08:00:00Zjunk",
                         "2025-02-29", "2025-03-01T08:00:00.5Z", "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (cf_time_parse(bad[i], &t) != CF_EINVAL)
            fail_msg("accepted %s", bad[i]);
    }
    assert_int_equal(cf_time_parse(NULL, &t), CF_EINVAL);
    assert_int_equal(cf_time_parse("2025-03-01", NULL), CF_EINVAL);

    char buf[32];
    assert_int_equal(cf_time_format(0, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(cf_time_format(-1, buf, sizeof buf), CF_OK);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(cf_time_format(1740787200 + 8 * 3600 + 61, buf, 21), CF_OK);
    assert_string_equal(buf, "2025-03-01T08:01:01Z");
    assert_int_equal(cf_time_format(0, buf, 20), CF_EINVAL);
    assert_int_equal(cf_time_format(0, NULL, 32), CF_EINVAL);
    assert_int_equal(cf_time_format(INT64_MAX / 2, buf, sizeof buf), CF_EINVAL);
    /* Round trips over a wide range, including leap days. */
    for (cf_time x = -62135596800; x < 253402300799; x += 86400 * 37 + 3631) {
        cf_time back;
        assert_int_equal(cf_time_format(x, buf, sizeof buf), CF_OK);
        assert_int_equal(cf_time_parse(buf, &back), CF_OK);
        assert_int_equal(back, x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_month_end_clamping),
        cmocka_unit_test(test_feb29_plus_years),
        cmocka_unit_test(test_weekday),
        cmocka_unit_test(test_strict_parse),
        cmocka_unit_test(test_tz_parse_forms),
        cmocka_unit_test(test_dst_offsets_2025),
        cmocka_unit_test(test_local_date_near_midnight),
        cmocka_unit_test(test_midnight_of_date),
        cmocka_unit_test(test_parse_instant_forms),
        cmocka_unit_test(test_time_parse_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
