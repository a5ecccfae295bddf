/*
 * test_plugin_exam_results.c — the exam_results plugin and `certflow exam
 * import`: the administrator's results file (EX_4) applied whole or not at all,
 * every bad row reported with its line, and the same file imported twice
 * changing nothing; the results kept with their domain scores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plugin_helpers.h"

#include <string.h>

#define HEADER "candidate_id,date,result,score,recovery,ethics,advocacy\n"

/* Two candidates with exams on 2024-04-02 (approved, trained, scheduled). */
typedef struct world {
    sc *s;
    char a[37], b[37];
    char *file;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->s = sc_open(noon("2024-03-02"), NULL);
    snprintf(w->a, sizeof w->a, "%s", approved_app(w->s, NULL));
    trained(w->s, w->a);
    schedule(w->s, w->a, "2024-04-02T17:00:00Z", "in_person");
    snprintf(w->b, sizeof w->b, "%s", approved_app(w->s, "{\"name\": \"Ben Ortiz\"}"));
    trained(w->s, w->b);
    schedule(w->s, w->b, "2024-04-02T18:00:00Z", "online");
    w->file = cft_path(w->s->dir, "results.csv");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    free(w->file);
    sc_close(w->s);
    free(w);
    return 0;
}

static cft_run import(world *w)
{
    return run_cli(w->s, noon("2024-04-09"), "exam", "import", w->file, NULL);
}

static void test_EX_4_import_applies_every_row_and_twice_changes_nothing(void **state)
{
    world *w = *state;
    spit(w->file, jf(HEADER "%s,2024-04-02,pass,88,31,29,28\r\n\"%s\",2024-04-02,FAIL,61.5,20,21,20.5\n", w->a, w->b));
    cft_run r = import(w);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, jf("line 2: %s applied: approved -> certified", w->a)));
    assert_non_null(strstr(r.out, jf("line 3: %s applied: approved -> approved", w->b)));
    assert_non_null(strstr(r.out, "2 rows: 2 applied, 0 already imported, 0 rejected"));
    cft_run_free(&r);
    assert_string_equal(sc_state(w->s, w->a), "certified.active");
    assert_string_equal(dget(w->s, w->a, "last_exam"), "{\"result\":\"pass\",\"score\":88,\"taken_on\":\"2024-04-02\"}");
    assert_string_equal(sc_state(w->s, w->b), "approved");
    assert_string_equal(dget(w->s, w->b, "last_exam.result"), "fail");
    assert_string_equal(dget(w->s, w->b, "exam_attempts"), "1");
    /* the plugin keeps the administrator's results, domain scores included */
    json_t *kept = sc_query(w->s, "exam_results.list", jf("{\"instance\": \"%s\"}", w->b));
    assert_int_equal(json_array_size(kept), 1);
    char *dom = json_dumps(json_object_get(json_array_get(kept, 0), "domain_scores"), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(dom, "{\"advocacy\":20.5,\"ethics\":21.0,\"recovery\":20.0}");
    free(dom);
    json_decref(kept);

    int ha = history_len(w->s, w->a), hb = history_len(w->s, w->b);
    r = import(w);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "2 rows: 0 applied, 2 already imported, 0 rejected"));
    cft_run_free(&r);
    assert_int_equal(history_len(w->s, w->a), ha);
    assert_int_equal(history_len(w->s, w->b), hb);
    assert_string_equal(dget(w->s, w->b, "exam_attempts"), "1");
    kept = sc_query(w->s, "exam_results.list", NULL);
    assert_int_equal(json_array_size(kept), 2);
    json_decref(kept);
}

static void test_EX_4_any_bad_row_imports_nothing(void **state)
{
    world *w = *state;
    spit(w->file, jf(HEADER "%s,2024-04-02,pass,88,31,29,28\n"      /* 2: good */
                            "%s,2024-04-31,fail,61,20,20,20\n"      /* 3: no such date */
                            "00000000-0000-4000-8000-000000000000,2024-04-02,pass,80,20,20,20\n" /* 4: unknown */
                            "%s,2024-04-02,absent,,20,20,20\n"      /* 5: result and score */
                            "%s,2024-04-02,fail\n"                  /* 6: too few fields */
                            "\n"                                    /* 7: blank, skipped */
                            "%s,2024-04-02,fail,61,20,x,20\n"       /* 8: a domain score */
                            "%s,2024-04-02,pass,90,20,20,20\n",     /* 9: the same candidate and date as line 2 */
                     w->a, w->b, w->b, w->b, w->b, w->a));
    cft_run r = import(w);
    assert_int_equal(r.code, 4);
    const char *f = w->file;
    assert_non_null(strstr(r.err, jf("%s:3: date '2024-04-31' is not a date (YYYY-MM-DD)", f)));
    assert_non_null(strstr(r.err, jf("%s:4: unknown candidate '00000000-0000-4000-8000-000000000000'", f)));
    assert_non_null(strstr(r.err, jf("%s:5: result 'absent' is not pass or fail; score '' is not a number", f)));
    assert_non_null(strstr(r.err, jf("%s:6: has 3 fields, the header has 7", f)));
    assert_non_null(strstr(r.err, jf("%s:8: domain score ethics 'x' is not a number", f)));
    assert_non_null(strstr(r.err, jf("%s:9: candidate %s has another result for 2024-04-02 on line 2", f, w->a)));
    assert_null(strstr(r.err, ":7:"));
    assert_null(strstr(r.err, ":2:"));
    assert_non_null(strstr(r.err, "6 bad rows"));
    assert_non_null(strstr(r.err, "nothing was imported"));
    /* the reports come in line order */
    assert_true(strstr(r.err, ":3:") < strstr(r.err, ":4:") && strstr(r.err, ":4:") < strstr(r.err, ":9:"));
    cft_run_free(&r);
    assert_string_equal(sc_state(w->s, w->a), "approved");
    assert_string_equal(dget(w->s, w->a, "exam_attempts"), "0");
    json_t *kept = sc_query(w->s, "exam_results.list", NULL);
    assert_int_equal(json_array_size(kept), 0);
    json_decref(kept);
}

static void test_EX_4_header_must_name_the_columns(void **state)
{
    world *w = *state;
    spit(w->file, jf("candidate,date,score\n%s,2024-04-02,88\n", w->a));
    cft_run r = import(w);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, jf("%s:1: the header has no 'candidate_id' column", w->file)));
    assert_non_null(strstr(r.err, jf("%s:1: the header has no 'result' column", w->file)));
    cft_run_free(&r);
    spit(w->file, "");
    r = import(w);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, ":1: the file is empty"));
    cft_run_free(&r);
    assert_string_equal(sc_state(w->s, w->a), "approved");
}

/* A well-formed row the policy refuses (no appointment) is recorded as a rejection, reported, exit 1. */
static void test_EX_4_policy_decides_each_result(void **state)
{
    world *w = *state;
    sc_expect(w->s, w->b, "cancel_exam", NULL, CF_OK); /* more than 48 hours before: no appointment now */
    spit(w->file, jf(HEADER "%s,2024-04-02,pass,88,31,29,28\n%s,2024-04-02,pass,90,30,30,30\n", w->a, w->b));
    cft_run r = import(w);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, jf("line 3: %s rejected: no exam appointment is scheduled", w->b)));
    assert_non_null(strstr(r.out, "2 rows: 1 applied, 0 already imported, 1 rejected"));
    cft_run_free(&r);
    assert_string_equal(sc_state(w->s, w->a), "certified.active");
    r = import(w); /* the rejection is replayed too: nothing new, nothing wrong */
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, jf("line 3: %s already imported (rejected): no exam appointment", w->b)));
    assert_non_null(strstr(r.out, "2 rows: 0 applied, 2 already imported, 0 rejected"));
    cft_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_EX_4_import_applies_every_row_and_twice_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_EX_4_any_bad_row_imports_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_EX_4_header_must_name_the_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_EX_4_policy_decides_each_result, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
