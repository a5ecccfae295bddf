/* test_cert_nested.c — the shipped certification workflow nests active and suspended
 * in `certified` (docs/lifecycles.md). A database whose instances started on the
 * earlier, flat definition (tests/fixtures/nested/certification_flat.lua, the file as
 * it was shipped) keeps working after the workflow file changed: those instances stay
 * on their own definition, keep their flat state names, fire, run their timers and
 * show in the registry, while new instances take the nested one; queries naming the
 * parent find both; verify passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const char *from_complaint(const char *complaint)
{
    return jf("{\"from\": \"%s\", \"from_workflow\": \"complaint\", \"from_state\": \"decided\"}", complaint);
}

/* A workflow folder with the flat certification workflow and the other shipped ones. */
static char *flat_workflows(void)
{
    char *dir = cft_tmpdir();
    static const char *const shipped[] = {"employment.lua", "supervision.lua", "complaint.lua", "scholarship.lua"};
    for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++) {
        char *from = cft_path(CF_SOURCE_DIR "/workflows", shipped[i]);
        char *text = cft_slurp(from);
        free(cft_write(dir, shipped[i], text));
        free(text);
        free(from);
    }
    char *flat = cft_slurp(CF_TEST_FIXTURES "/nested/certification_flat.lua");
    free(cft_write(dir, "certification.lua", flat));
    free(flat);
    return dir;
}

/* Certified on the day after its exam; returns the state it is in. */
static const char *certify(sc *s, char id[64], const char *approve_day, const char *exam_day, const char *issue_day)
{
    on_day(s, approve_day);
    snprintf(id, 64, "%s", approved_app(s, NULL));
    trained(s, id);
    schedule(s, id, jf("%sT17:00:00Z", exam_day), "in_person");
    on_day(s, issue_day);
    assert_int_equal(result(s, id, "pass", 88, exam_day), CF_OK);
    return sc_state(s, id);
}

static int count(void *ud, const cf_instance_info *info)
{
    (void)info;
    ++*(int *)ud;
    return 0;
}

static int listed(sc *s, const char *state)
{
    cf_instance_filter f = CF_INSTANCE_FILTER_INIT;
    f.workflow = "certification";
    f.state = state;
    int n = 0;
    assert_int_equal(cf_instance_list(s->e, &f, count, &n), CF_OK);
    return n;
}

static void test_old_definition_keeps_firing_after_the_workflow_changed(void **state)
{
    (void)state;
    char *flat = flat_workflows();
    sc *s = sc_open_workflows("2024-02-01T17:00:00Z", flat);
    char a[64], b[64], c[64];
    assert_string_equal(certify(s, a, "2024-02-01", "2024-02-10", "2024-02-12"), "certified");
    assert_string_equal(certify(s, b, "2024-02-01", "2024-02-10", "2024-02-12"), "certified");
    on_day(s, "2024-03-01");
    sc_expect(s, a, "suspend", from_complaint("complaint-1"), CF_OK);
    assert_string_equal(sc_state(s, a), "suspended");
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(s->e, b, &info), CF_OK);
    char flat_hash[65];
    snprintf(flat_hash, sizeof flat_hash, "%s", info.definition);

    /* the shipped, nested workflow replaces the flat one */
    sc_reopen(s, NULL);
    assert_int_equal(cf_instance_get(s->e, b, &info), CF_OK);
    assert_string_equal(info.definition, flat_hash); /* still on the definition it started on */
    assert_string_equal(sc_state(s, a), "suspended");
    assert_string_equal(sc_state(s, b), "certified");
    assert_string_equal(dget(s, a, "registry_status"), "suspended");

    /* old instances fire on their own definition, with the flat names; the policy reads both */
    on_day(s, "2024-04-01");
    sc_expect(s, a, "restore", from_complaint("complaint-1"), CF_OK); /* was_certified: "certified" */
    assert_string_equal(sc_state(s, a), "certified");
    assert_string_equal(dget(s, a, "registry_status"), "active");
    sc_expect(s, b, "suspend", from_complaint("complaint-2"), CF_OK);
    assert_string_equal(sc_state(s, b), "suspended");
    sc_expect(s, b, "lift_suspension", from_complaint("complaint-2"), CF_OK);
    assert_string_equal(sc_state(s, b), "certified");

    /* a new instance takes the nested definition */
    assert_string_equal(certify(s, c, "2024-06-03", "2024-06-10", "2024-06-12"), "certified.active");
    assert_int_equal(cf_instance_get(s->e, c, &info), CF_OK);
    assert_string_not_equal(info.definition, flat_hash);
    on_day(s, "2024-07-01");
    sc_expect(s, c, "suspend", from_complaint("complaint-3"), CF_OK);
    assert_string_equal(sc_state(s, c), "certified.suspended");
    assert_string_equal(dget(s, c, "registry_status"), "suspended");
    /* the parent's corrective action applies in its suspended child */
    sc_expect(s, c, "corrective_action", from_complaint("complaint-3"), CF_OK);
    assert_string_equal(sc_state(s, c), "certified.suspended");
    sc_expect(s, c, "restore", from_complaint("complaint-3"), CF_OK);
    assert_string_equal(sc_state(s, c), "certified.active");

    /* "certified" names the parent: the new instance and the flat ones in "certified" */
    assert_int_equal(listed(s, "certified"), 3);
    assert_int_equal(listed(s, "certified.active"), 1);

    /* the old instances' timers (scheduled under the flat state "certified") fire on their
     * definition: the certifications issued 2024-02-12 expire two years later */
    sc_tick(s, "2026-02-20T17:00:00Z");
    assert_string_equal(sc_state(s, a), "expired");
    assert_string_equal(sc_state(s, b), "expired");
    assert_string_equal(sc_state(s, c), "certified.active");
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(s->e, &rep) != CF_OK)
        fail_msg("verify: %s", cf_errmsg(s->e));
    assert_int_equal(rep.problems, 0);
    sc_close(s);
    cft_rmtree(flat);
}

/* The n-th ```dot block after the heading of docs/lifecycles.md's diagrams (malloc'd). */
static char *diagram_block(const char *doc, int n)
{
    const char *p = strstr(doc, "### The certification diagram, before and after nested states");
    assert_non_null(p);
    for (int i = 0; i <= n; i++) {
        p = strstr(p, "```dot\n");
        assert_non_null(p);
        p += 7;
    }
    const char *end = strstr(p, "```");
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

/* Every line of block is a line of the workflow's DOT as the engine renders it. */
static void lines_in_dot(sc *s, const char *block)
{
    char *dot = NULL;
    assert_int_equal(cf_workflow_dot(s->e, "certification", &dot), CF_OK);
    const char *line = block;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *want = strndup(line, len + (nl ? 1 : 0)); /* with its new line: whole lines only */
        const char *at = strstr(dot, want);
        if (!at || (at != dot && at[-1] != '\n'))
            fail_msg("docs/lifecycles.md shows a line the DOT of the certification workflow lacks:\n%s", want);
        free(want);
        line += len + (nl ? 1 : 0);
    }
    cf_free(dot);
}

static void test_lifecycles_diagram_excerpts(void **state)
{
    (void)state;
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/lifecycles.md");
    char *before = diagram_block(doc, 0), *after = diagram_block(doc, 1);
    char *flat = flat_workflows();
    sc *s = sc_open_workflows("2024-02-01T17:00:00Z", flat);
    lines_in_dot(s, before);
    sc_reopen(s, NULL);
    lines_in_dot(s, after);
    /* a child's edge into its own parent is not drawn into the cluster (Graphviz refuses it) */
    char *dot = NULL;
    assert_int_equal(cf_workflow_dot(s->e, "certification", &dot), CF_OK);
    assert_null(strstr(dot, "\"certified.suspended\" -> \"certified.active\" [label=\"restore [was_certified]\", "
                            "lhead"));
    cf_free(dot);
    sc_close(s);
    cft_rmtree(flat);
    free(before);
    free(after);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_definition_keeps_firing_after_the_workflow_changed),
        cmocka_unit_test(test_lifecycles_diagram_excerpts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
