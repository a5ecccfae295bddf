/*
 * test_text_output.c — text output escapes control characters (issue 8): a
 * certified person whose name holds a newline, a colour escape and a
 * right-to-left override must not forge a row of `certflow registry search` nor
 * reach the terminal raw; the CSV export quotes the field (RFC 4180) and the JSON
 * export keeps the name as it was given.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scenario.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name as JSON text: a newline followed by what looks like a second registry
 * row, red colour, and U+202E (which reverses the text after it on screen). */
#define NAME_JSON "Ana\\nCMPSS-999999  Forged Person  active\\u001b[31m \\u202eRed"
/* The same name as bytes. */
#define NAME_RAW "Ana\nCMPSS-999999  Forged Person  active\x1b[31m \xe2\x80\xaeRed"
/* ... and as the text table shows it. */
#define NAME_SHOWN "Ana\\nCMPSS-999999  Forged Person  active\\x1b[31m \\u202eRed"

typedef cft_run out;

static out run(sc *s, ...)
{
    char *db = cft_path(s->dir, "scenario.db");
    const char *prefix[] = {"--workflows", CF_SOURCE_DIR "/workflows", "--policies", CF_SOURCE_DIR "/lua",
                            "--now", "2025-06-01T20:00:00Z", "--db", db, NULL};
    va_list ap;
    va_start(ap, s);
    out r = cft_certflow_va(s->dir, prefix, ap);
    va_end(ap);
    free(db);
    return r;
}

/* Apply, train, pass the exam: certified on 2025-02-04 (as in test_registry.c). */
static void certify(sc *s)
{
    sc_at(s, "2025-01-06T20:00:00Z");
    const char *id = sc_new(s, "certification", "san_diego",
                            "{\"name\":\"" NAME_JSON "\",\"birth_date\":\"1984-04-12\",\"email\":\"a@example.org\","
                            "\"phone\":\"619-555-0142\",\"address\":\"1 Main St\",\"education\":\"high_school\","
                            "\"lived_experience\":\"family_member\",\"attests_willingness\":true,"
                            "\"ethics_version\":\"2021-07-26\",\"ethics_signed_on\":\"2025-01-06\"}");
    sc_expect(s, id, "submit", "{\"fee_paid\":100}", CF_OK);
    sc_expect(s, id, "approve", NULL, CF_OK);
    sc_at(s, "2025-01-10T20:00:00Z");
    sc_expect(s, id, "upload_training",
              "{\"provider\":\"Peer Academy\",\"provider_approved_from\":\"2022-07-01\",\"hours\":80,"
              "\"completed_on\":\"2025-01-08\",\"competencies\":[\"hope_recovery_wellness\",\"advocacy\","
              "\"consumers_and_family_members\",\"rehabilitation_and_recovery_practices\","
              "\"cultural_and_structural_competence\",\"trauma_informed_care\",\"group_facilitation\","
              "\"self_awareness_and_self_care\",\"co_occurring_disorders\",\"conflict_resolution\","
              "\"professional_boundaries_and_ethics\",\"employment_preparation\",\"safety_and_crisis_planning\","
              "\"navigation_and_referral\",\"documentation\",\"confidentiality\",\"digital_literacy\"]}",
              CF_OK);
    sc_at(s, "2025-01-12T20:00:00Z");
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    sc_at(s, "2025-01-13T20:00:00Z");
    sc_expect(s, id, "schedule_exam", "{\"at\":\"2025-02-03T17:00:00Z\",\"mode\":\"online\",\"fee_paid\":150}", CF_OK);
    sc_at(s, "2025-02-04T20:00:00Z");
    sc_expect(s, id, "exam_result", "{\"result\":\"pass\",\"score\":84,\"taken_on\":\"2025-02-03\"}", CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void test_registry_search_escapes_a_forged_row(void **state)
{
    (void)state;
    sc *s = sc_open("2025-01-06T20:00:00Z", NULL);
    certify(s);

    out r = run(s, "registry", "search", NULL);
    assert_int_equal(r.code, 0);
    if (count_lines(r.out) != 2) /* the header and one row */
        fail_msg("registry search printed a forged row:\n%s", r.out);
    assert_non_null(strstr(r.out, NAME_SHOWN));
    assert_null(strchr(r.out, '\x1b'));
    assert_null(strstr(r.out, "\xe2\x80\xae"));
    cft_run_free(&r);

    /* CSV: the field is quoted, so the newline stays inside it. */
    r = run(s, "registry", "export", "--format", "csv", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, ",\"" NAME_RAW "\",active,"));
    cft_run_free(&r);

    /* JSON: the name reads back exactly as given. */
    r = run(s, "registry", "export", "--format", "json", NULL);
    assert_int_equal(r.code, 0);
    assert_null(strchr(r.out, '\x1b'));
    json_t *rows = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")), NAME_RAW);
    json_decref(rows);
    cft_run_free(&r);
    sc_close(s);
}

static int first_query(void *ud, const char *name)
{
    snprintf(ud, 128, "%s", name);
    return 1;
}

/* cf_plugin_query: "" is not {} (give a JSON object), and arguments are one complete object. */
static void test_plugin_query_args_checked(void **state)
{
    (void)state;
    sc *s = sc_open("2025-01-06T20:00:00Z", NULL);
    char name[128] = "";
    assert_int_equal(cf_plugin_queries(s->e, first_query, name), CF_OK);
    assert_true(name[0] != '\0');
    char *answer = NULL;
    assert_int_equal(cf_plugin_query(s->e, name, "", &answer), CF_EJSON);
    assert_non_null(strstr(cf_errmsg(s->e), "give a JSON object such as {}"));
    assert_null(answer);
    assert_int_equal(cf_plugin_query(s->e, name, "{\"a\":\"\xff\"}", &answer), CF_EJSON);
    assert_int_equal(cf_plugin_query(s->e, name, "{} junk", &answer), CF_EJSON);
    assert_null(answer);
    sc_close(s);

    /* The command line refuses an empty --data before asking the plugin. */
    sc *t = sc_open("2025-01-06T20:00:00Z", NULL);
    out r = run(t, "plugin", "query", name, "--data", "", NULL);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "--data is empty: give a JSON object such as {}"));
    cft_run_free(&r);
    sc_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_search_escapes_a_forged_row),
        cmocka_unit_test(test_plugin_query_args_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
