/*
 * test_program_dates.c — the program's date helpers (program/program.c), built
 * on the public calendar: the years its records may hold, and a year on from a
 * date the way the simulation and the report count years.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"

#include "../program/program.h"

#include <string.h>

static int64_t day_of(const char *text)
{
    int64_t day = 0;
    if (cf_date_parse(text, &day) != CF_OK)
        fail_msg("not a date: %s", text);
    return day;
}

static void test_parse_keeps_the_programs_years(void **state)
{
    (void)state;
    int64_t day = 99;
    assert_int_equal(prog_parse_date("1900-01-01", &day), 0);
    assert_int_equal(day, day_of("1900-01-01"));
    assert_int_equal(prog_parse_date("9999-12-31", &day), 0);
    /* the engine reads 1899 and 2025-02-29 is no date: the program refuses both */
    day = 99;
    assert_int_equal(prog_parse_date("1899-12-31", &day), -1);
    assert_int_equal(prog_parse_date("2025-02-29", &day), -1);
    assert_int_equal(prog_parse_date("2025-1-01", &day), -1);
    assert_int_equal(prog_parse_date(NULL, &day), -1);
    assert_int_equal(day, 99);
}

static void test_format_writes_the_date_or_nothing(void **state)
{
    (void)state;
    char buf[11];
    assert_string_equal(prog_format_date(day_of("2024-02-29"), buf), "2024-02-29");
    assert_string_equal(prog_format_date(2932897, buf), ""); /* 10000-01-01 */
}

static void test_years_on_run_past_a_short_month(void **state)
{
    (void)state;
    int64_t out = 0;
    char buf[11];
    assert_int_equal(prog_add_years(day_of("2023-01-01"), 3, &out), CF_OK);
    assert_string_equal(prog_format_date(out, buf), "2026-01-01");
    /* Feb 29 one year on is Mar 1, as the simulation has always counted its years */
    assert_int_equal(prog_add_years(day_of("2024-02-29"), 1, &out), CF_OK);
    assert_string_equal(prog_format_date(out, buf), "2025-03-01");
    assert_int_equal(prog_add_years(day_of("2024-02-29"), 4, &out), CF_OK);
    assert_string_equal(prog_format_date(out, buf), "2028-02-29");
    assert_int_equal(prog_add_years(day_of("2024-03-31"), -1, &out), CF_OK);
    assert_string_equal(prog_format_date(out, buf), "2023-03-31");
    /* past 9999-12-31 is refused, and out is left alone */
    out = 5;
    assert_int_equal(prog_add_years(day_of("9990-06-01"), 10, &out), CF_EINVAL);
    assert_int_equal(prog_add_years(day_of("9999-12-31"), 1, &out), CF_EINVAL);
    assert_int_equal(prog_add_years(day_of("2024-01-01"), 1 << 30, &out), CF_EINVAL);
    assert_int_equal(out, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_keeps_the_programs_years),
        cmocka_unit_test(test_format_writes_the_date_or_nothing),
        cmocka_unit_test(test_years_on_run_past_a_short_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
