/*
 * test_cli_program.c — the certflow registry, report and simulate commands, run
 * as a user would (fork + exec of the built binary) on the shipped workflows and
 * policies: simulation determinism and exit codes, usage errors, empty databases.
 * The registry's and the report's figures on known lifecycles are checked in
 * tests/scenarios/test_registry.c (REG_1..REG_4).
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BINARY CF_BINARY_DIR "/certflow"

typedef cft_run result;

/* certflow --db DIR/DB --workflows <shipped> --policies <shipped> args... (NULL-terminated), run in dir. */
static result cf(const char *dir, const char *db, ...)
{
    char *dbpath = cft_path(dir, db);
    const char *prefix[] = {"--db", dbpath, "--workflows", CF_SOURCE_DIR "/workflows", "--policies",
                            CF_SOURCE_DIR "/lua", NULL};
    va_list ap;
    va_start(ap, db);
    result r = cft_certflow_va(dir, prefix, ap);
    va_end(ap);
    free(dbpath);
    return r;
}

static void result_free(result *r)
{
    cft_run_free(r);
}

static int setup(void **state)
{
    *state = cft_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    cft_rmtree(*state);
    return 0;
}

/* The registry export as sorted lines of its rows without the certification number
 * (numbers come from the engine's random instance ids; everything else is seeded). */
/* The registry export as CSV: certification numbers are serials, so a replay matches byte for byte. */
static char *export_csv(const char *dir, const char *db)
{
    result r = cf(dir, db, "registry", "export", "--format", "csv", NULL);
    assert_int_equal(r.code, 0);
    char *out = r.out;
    r.out = NULL;
    result_free(&r);
    return out;
}

static void test_simulate_small_run_completes(void **state)
{
    const char *dir = *state;
    result r = cf(dir, "small.db", "simulate", "--people", "40", "--years", "1", NULL);
    if (r.code != 0)
        fail_msg("simulate exited %d: %s", r.code, r.err);
    assert_non_null(strstr(r.out, "certflow simulate: 40 people"));
    assert_non_null(strstr(r.out, "Events: "));
    assert_non_null(strstr(r.out, "Rejected: "));
    assert_non_null(strstr(r.out, "Registry on 2023-12-31"));
    assert_non_null(strstr(r.out, "==== Year 1 ===="));
    assert_null(strstr(r.out, "==== Year 2 ===="));
    assert_non_null(strstr(r.err, "day 365/365"));
    result_free(&r);
    /* the database it leaves is a normal one: the registry and verify read it */
    r = cf(dir, "small.db", "verify", NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = cf(dir, "small.db", "registry", "search", "--status", "active", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "active"));
    result_free(&r);
}

static void test_simulate_same_seed_same_output(void **state)
{
    const char *dir = *state;
    result a = cf(dir, "a.db", "simulate", "--people", "60", "--years", "2", "--seed", "7", NULL);
    result b = cf(dir, "b.db", "simulate", "--people", "60", "--years", "2", "--seed", "7", NULL);
    result c = cf(dir, "c.db", "simulate", "--people", "60", "--years", "2", "--seed", "8", NULL);
    assert_int_equal(a.code, 0);
    assert_int_equal(b.code, 0);
    assert_int_equal(c.code, 0);
    assert_string_equal(a.out, b.out); /* byte-identical stdout */
    assert_true(strcmp(a.out, c.out) != 0);
    char *ea = export_csv(dir, "a.db"), *eb = export_csv(dir, "b.db"), *ec = export_csv(dir, "c.db");
    assert_true(strlen(ea) > 10);
    assert_string_equal(ea, eb);
    assert_true(strcmp(ea, ec) != 0);
    free(ea);
    free(eb);
    free(ec);
    result_free(&a);
    result_free(&b);
    result_free(&c);
}

static void test_simulate_refuses_a_used_database(void **state)
{
    const char *dir = *state;
    result r = cf(dir, "used.db", "simulate", "--people", "5", "--years", "1", NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = cf(dir, "used.db", "simulate", "--people", "5", "--years", "1", NULL);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "empty database"));
    assert_string_equal(r.out, "");
    result_free(&r);
}

static void test_simulate_usage_errors(void **state)
{
    const char *dir = *state;
    static const char *const bad[][2] = {{"--people", "0"}, {"--people", "lots"}, {"--years", "0"},
                                         {"--years", "51"}, {"--seed", "-1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        result r = cf(dir, "u.db", "simulate", bad[i][0], bad[i][1], NULL);
        assert_int_equal(r.code, 2);
        assert_non_null(strstr(r.err, bad[i][0] + 2));
        result_free(&r);
    }
}

static void test_registry_and_report_on_an_empty_database(void **state)
{
    const char *dir = *state;
    result r = cf(dir, "empty.db", "registry", "export", NULL); /* csv by default */
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "certification_number,name,status,issued_on,expires_on,specializations,county\r\n");
    result_free(&r);
    r = cf(dir, "empty.db", "registry", "export", "--format", "json", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "[]\n");
    result_free(&r);
    r = cf(dir, "empty.db", "registry", "search", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "no certification matches\n");
    result_free(&r);
    r = cf(dir, "empty.db", "--now", "2026-03-01T12:00:00Z", "report", "--format", "json", NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    json_t *period = json_object_get(doc, "period");
    assert_string_equal(json_string_value(json_object_get(period, "from")), "2025-01-01");
    assert_string_equal(json_string_value(json_object_get(period, "to")), "2025-12-31");
    assert_true(json_is_null(json_object_get(json_object_get(doc, "exam"), "pass_rate_percent")));
    json_decref(doc);
    result_free(&r);
}

static void test_registry_and_report_usage_errors(void **state)
{
    const char *dir = *state;
    result r = cf(dir, "e.db", "registry", "list", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "search or export"));
    result_free(&r);
    r = cf(dir, "e.db", "registry", "export", "--format", "xml", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "csv, json"));
    result_free(&r);
    r = cf(dir, "e.db", "registry", "export", "--out", "/nonexistent-dir/x.csv", NULL);
    assert_int_equal(r.code, 5);
    assert_non_null(strstr(r.err, "/nonexistent-dir/x.csv"));
    result_free(&r);
    r = cf(dir, "e.db", "report", "--from", "2025-02-30", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "YYYY-MM-DD"));
    result_free(&r);
    r = cf(dir, "e.db", "report", "--from", "2025-03-01", "--to", "2025-02-01", NULL);
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = cf(dir, "e.db", "report", "--format", "pdf", NULL);
    assert_int_equal(r.code, 2);
    result_free(&r);
}

/* The report's csv is RFC 4180 and every figure's row has three fields. */
static void test_report_formats_agree(void **state)
{
    const char *dir = *state;
    result s = cf(dir, "r.db", "simulate", "--people", "30", "--years", "1", "--seed", "3", NULL);
    assert_int_equal(s.code, 0);
    result_free(&s);
    result j = cf(dir, "r.db", "report", "--from", "2023-01-01", "--to", "2023-12-31", "--format", "json", NULL);
    result c = cf(dir, "r.db", "report", "--from", "2023-01-01", "--to", "2023-12-31", "--format", "csv", NULL);
    result t = cf(dir, "r.db", "report", "--from", "2023-01-01", "--to", "2023-12-31", NULL);
    assert_int_equal(j.code, 0);
    assert_int_equal(c.code, 0);
    assert_int_equal(t.code, 0);
    json_t *doc = json_loads(j.out, 0, NULL);
    long long issued = json_integer_value(json_object_get(json_object_get(doc, "certifications"), "issued"));
    char line[64];
    snprintf(line, sizeof line, "certifications,issued,%lld\r\n", issued);
    assert_non_null(strstr(c.out, line));
    assert_non_null(strstr(t.out, "Certifications\n"));
    for (char *p = c.out; *p;) {
        char *end = strstr(p, "\r\n");
        assert_non_null(end);
        int commas = 0;
        for (char *q = p; q < end; q++)
            commas += *q == ',';
        assert_int_equal(commas, 2);
        p = end + 2;
    }
    json_decref(doc);
    result_free(&j);
    result_free(&c);
    result_free(&t);
}

/* certflow eligibility: one date (text and --json) and the bulk CSV form, one answer per
 * row, a row it cannot answer marked with its error (exit 4). */
static void test_eligibility_one_date_and_csv(void **state)
{
    const char *dir = *state;
    result r = cf(dir, "e.db", "--now", "2025-01-01T20:00:00Z", "new", "employment", "--county", "san_diego", "--data",
                  "{\"name\": \"Ana Ruiz\", \"hired_on\": \"2025-01-01\", \"program_type\": \"smhs\"}", NULL);
    assert_int_equal(r.code, 0);
    char id[37];
    snprintf(id, sizeof id, "%.36s", r.out);
    result_free(&r);
    r = cf(dir, "e.db", "--now", "2025-01-01T20:00:00Z", "fire", id, "start", NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = cf(dir, "e.db", "--now", "2025-01-15T20:00:00Z", "fire", id, "record_oqp", "--data",
           "{\"recorded_by\": \"program manager\", \"criteria\": \"OPOH Section M\"}", NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);

    r = cf(dir, "e.db", "eligibility", id, "--on", "2025-01-15", NULL);
    if (r.code != 0)
        fail_msg("eligibility exited %d: %s", r.code, r.err);
    assert_non_null(strstr(r.out, " on 2025-01-15: billable (peer codes: no, non-peer codes: yes)\n"));
    assert_non_null(strstr(r.out, "program type: smhs\n"));
    assert_non_null(strstr(r.out, "row 3: record_oqp -> grace"));
    result_free(&r);

    r = cf(dir, "e.db", "--json", "eligibility", id, "--on", "2024-12-31", NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_false(json_is_true(json_object_get(doc, "billable")));
    json_decref(doc);
    result_free(&r);

    char *csv = cft_path(dir, "dates.csv");
    FILE *fp = fopen(csv, "w");
    assert_non_null(fp);
    fprintf(fp, "employment,date\n%s,2025-01-14\n%s,2025-01-15\nnobody,2025-01-15\n", id, id);
    fclose(fp);
    r = cf(dir, "e.db", "eligibility", "--csv", csv, NULL);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.out, "employment,date,billable,peer_codes,non_peer_codes,employment_state,"
                                  "certification_state,program_type,reasons,rows\n"));
    char line[256];
    snprintf(line, sizeof line, "%s,2025-01-14,no,no,no,grace,,smhs,", id);
    assert_non_null(strstr(r.out, line));
    snprintf(line, sizeof line, "%s,2025-01-15,yes,no,yes,grace,,smhs,", id);
    assert_non_null(strstr(r.out, line));
    assert_non_null(strstr(r.out, "nobody,2025-01-15,,,,,,,no instance 'nobody'"));
    assert_non_null(strstr(r.err, "1 row could not be answered"));
    result_free(&r);
    r = cf(dir, "e.db", "--json", "eligibility", "--csv", csv, NULL);
    doc = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(doc), 3);
    json_decref(doc);
    result_free(&r);
    r = cf(dir, "e.db", "eligibility", id, NULL);
    assert_int_equal(r.code, 2);
    result_free(&r);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_simulate_small_run_completes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate_same_seed_same_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate_refuses_a_used_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry_and_report_on_an_empty_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry_and_report_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_formats_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eligibility_one_date_and_csv, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
