/*
 * test_cli_ux.c — what the three kinds of user hit on their first day (issue 14),
 * through the built certflow command on the shipped program (workflows/, lua/ and
 * the shipped plugins of the build tree): errors under --json, the JSON output of
 * simulate and registry export, finding people.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "certflow/certflow.h"
#include "sqlite_peek.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKFLOWS CF_SOURCE_DIR "/workflows"
#define POLICIES CF_SOURCE_DIR "/lua"
#define T0 "2025-01-06T17:00:00Z"

typedef struct fx {
    char *dir;
    char *db;
} fx;

/* certflow --db DB --workflows WORKFLOWS --policies POLICIES args... (NULL-terminated). */
static cft_run cf(fx *f, ...)
{
    const char *args[60] = {"--db", f->db, "--workflows", WORKFLOWS, "--policies", POLICIES};
    size_t n = 6;
    va_list ap;
    va_start(ap, f);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < 59);
        args[n++] = s;
    }
    va_end(ap);
    args[n] = NULL;
    return cft_certflow(f->dir, args);
}
#define CF(f, ...) cf((f), __VA_ARGS__, (const char *)NULL)

static void expect(const cft_run *r, int code)
{
    if (r->code != code)
        fail_msg("exit %d, expected %d\n--- stdout:\n%s\n--- stderr:\n%s", r->code, code, r->out, r->err);
}

static void contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected to find \"%s\" in:\n%s", needle, text);
}

static void lacks(const char *text, const char *needle)
{
    if (strstr(text, needle))
        fail_msg("did not expect \"%s\" in:\n%s", needle, text);
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    if (!doc)
        fail_msg("not one JSON document (%s, line %d):\n%s", err.text, err.line, text);
    return doc;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "cf.db");
    unsetenv("CERTFLOW_DB");
    unsetenv("CERTFLOW_WORKFLOWS");
    unsetenv("CERTFLOW_POLICIES");
    unsetenv("CERTFLOW_PLUGINS");
    unsetenv("CERTFLOW_PLUGIN_CONFIG");
    setenv("USER", "tester", 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* The error object of a failed run under --json: {"error": {"code", "name", "message"}}. */
static void expect_json_error(const cft_run *r, int code, const char *name, const char *in_message)
{
    expect(r, code);
    json_t *doc = parse(r->err);
    json_t *e = json_object_get(doc, "error");
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
    assert_string_equal(json_string_value(json_object_get(e, "name")), name);
    const char *msg = json_string_value(json_object_get(e, "message"));
    assert_non_null(msg);
    contains(msg, in_message);
    lacks(msg, "certflow: ");
    json_decref(doc);
}

/* ---- Errors under --json (item 2) ---- */

static void test_json_error_not_found(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, "--json", "show", "no-such-id");
    expect_json_error(&r, 3, "not_found", "no instance 'no-such-id'");
    assert_string_equal(r.out, "");
    cft_run_free(&r);
}

static void test_json_error_usage(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, "--json", "no-such-command");
    expect_json_error(&r, 2, "usage", "unknown command 'no-such-command'");
    cft_run_free(&r);
    r = CF(f, "--json", "due", "--within", "soon");
    expect_json_error(&r, 2, "usage", "--within 'soon' is not a duration");
    cft_run_free(&r);
}

static void test_json_error_rejected_input(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, "--json", "new", "certification", "--county", "alameda", "--data", "[1]");
    assert_true(r.code == 4);
    json_t *doc = parse(r.err);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "error"), "name")), "invalid");
    json_decref(doc);
    cft_run_free(&r);
}

static void test_simulate_and_registry_export_json(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, "--json", "simulate", "--people", "20", "--years", "1");
    expect(&r, 0);
    json_t *doc = parse(r.out);
    assert_int_equal(json_integer_value(json_object_get(doc, "people")), 20);
    json_t *ev = json_object_get(doc, "events");
    assert_true(json_integer_value(json_object_get(ev, "fired")) > 0);
    assert_true(json_is_object(json_object_get(doc, "rejected_by_cause")));
    assert_true(json_integer_value(json_object_get(json_object_get(doc, "instances"), "certification")) > 0);
    json_t *reg = json_object_get(doc, "registry");
    json_int_t certified = json_integer_value(json_object_get(reg, "people"));
    assert_true(certified > 0);
    assert_int_equal(json_array_size(json_object_get(doc, "reports")), 1);
    json_decref(doc);
    cft_run_free(&r);

    r = CF(f, "--now", "2023-12-31T12:00:00Z", "--json", "registry", "export");
    expect(&r, 0);
    doc = parse(r.out);
    assert_true(json_is_array(doc));
    assert_int_equal((json_int_t)json_array_size(doc), certified);
    assert_non_null(json_string_value(json_object_get(json_array_get(doc, 0), "certification_number")));
    json_decref(doc);
    cft_run_free(&r);
}

/* ---- Finding people (item 3) ---- */

static json_t *run_json(fx *f, int code, ...)
{
    const char *args[60] = {"--db", f->db, "--workflows", WORKFLOWS, "--policies", POLICIES, "--json"};
    size_t n = 7;
    va_list ap;
    va_start(ap, code);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        args[n++] = s;
    va_end(ap);
    args[n] = NULL;
    cft_run r = cft_certflow(f->dir, args);
    expect(&r, code);
    json_t *doc = parse(r.out);
    cft_run_free(&r);
    return doc;
}
#define RUN_JSON(f, ...) run_json((f), 0, __VA_ARGS__, (const char *)NULL)

/* A small simulated year (2023, seed 1): people with names and certification numbers. */
static void simulate_year(fx *f)
{
    cft_run r = CF(f, "simulate", "--people", "20", "--years", "1");
    expect(&r, 0);
    cft_run_free(&r);
}

static void test_due_overdue_and_county(void **state)
{
    fx *f = *state;
    simulate_year(f);
    /* Five months after the run's last tick: timers of 2024 are overdue, not fired. */
    json_t *late = RUN_JSON(f, "--now", "2024-06-01T00:00:00Z", "due", "--overdue");
    assert_true(json_array_size(late) > 0);
    size_t i;
    json_t *t;
    json_array_foreach(late, i, t) {
        assert_true(strcmp(json_string_value(json_object_get(t, "due")), "2024-06-01T00:00:00Z") < 0);
        assert_non_null(json_string_value(json_object_get(t, "instance_id")));
    }
    /* The overdue ones are not in the window ahead. */
    json_t *ahead = RUN_JSON(f, "--now", "2024-06-01T00:00:00Z", "due", "--within", "2w");
    json_array_foreach(ahead, i, t)
        assert_true(strcmp(json_string_value(json_object_get(t, "due")), "2024-06-01T00:00:00Z") >= 0);
    /* Who each is: the person's name, with the certification number once issued. */
    int named = 0;
    json_array_foreach(late, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "workflow")), "certification") == 0) {
            assert_non_null(json_string_value(json_object_get(t, "who")));
            named++;
        }
    }
    assert_true(named > 0);
    /* --county: only that county's timers, and every one of them. */
    const char *county = json_string_value(json_object_get(json_array_get(late, 0), "county"));
    size_t in_county = 0;
    json_array_foreach(late, i, t)
        in_county += strcmp(json_string_value(json_object_get(t, "county")), county) == 0;
    json_t *only = RUN_JSON(f, "--now", "2024-06-01T00:00:00Z", "due", "--overdue", "--county", county);
    assert_int_equal(json_array_size(only), in_county);
    json_array_foreach(only, i, t)
        assert_string_equal(json_string_value(json_object_get(t, "county")), county);
    /* Text: the who column and how to fire them. */
    cft_run r = CF(f, "--now", "2024-06-01T00:00:00Z", "due", "--overdue");
    expect(&r, 0);
    contains(r.out, "who");
    contains(r.out, "overdue: `certflow tick` fires them");
    cft_run_free(&r);
    r = CF(f, "--now", "2023-01-01T00:00:00Z", "due", "--overdue");
    expect(&r, 0);
    contains(r.out, "no timers overdue");
    cft_run_free(&r);
    json_decref(late);
    json_decref(ahead);
    json_decref(only);
}

static void test_list_live_shows_who(void **state)
{
    fx *f = *state;
    simulate_year(f);
    json_t *all = RUN_JSON(f, "list");
    json_t *live = RUN_JSON(f, "list", "--live");
    size_t i, terminal = 0;
    json_t *x;
    json_array_foreach(all, i, x)
        terminal += json_is_true(json_object_get(x, "terminal"));
    assert_int_equal(json_array_size(live), json_array_size(all) - terminal);
    json_array_foreach(live, i, x)
        assert_false(json_is_true(json_object_get(x, "terminal")));
    /* A certified person is found by name and number. */
    json_t *numbered = NULL;
    json_array_foreach(all, i, x) {
        const char *who = json_string_value(json_object_get(x, "who"));
        if (who && strstr(who, "(CMPSS-")) {
            numbered = x;
            break;
        }
    }
    assert_non_null(numbered);
    cft_run r = CF(f, "list", "--workflow", "certification");
    expect(&r, 0);
    contains(r.out, json_string_value(json_object_get(numbered, "who")));
    cft_run_free(&r);
    json_decref(all);
    json_decref(live);
}

static void test_history_search(void **state)
{
    fx *f = *state;
    simulate_year(f);
    json_t *rej = RUN_JSON(f, "history", "--outcome", "rejected");
    assert_true(json_array_size(rej) > 0);
    size_t i;
    json_t *h;
    json_array_foreach(rej, i, h)
        assert_string_equal(json_string_value(json_object_get(h, "outcome")), "rejected");
    /* --event, --actor and --county narrow it; a row shows its instance and who. */
    json_t *first = json_array_get(rej, 0);
    const char *event = json_string_value(json_object_get(first, "event"));
    const char *actor = json_string_value(json_object_get(first, "actor"));
    json_t *narrow = RUN_JSON(f, "history", "--outcome", "rejected", "--event", event, "--actor", actor);
    assert_true(json_array_size(narrow) >= 1);
    json_array_foreach(narrow, i, h) {
        assert_string_equal(json_string_value(json_object_get(h, "event")), event);
        assert_string_equal(json_string_value(json_object_get(h, "actor")), actor);
    }
    json_t *nobody = RUN_JSON(f, "history", "--actor", "nobody-at-all");
    assert_int_equal(json_array_size(nobody), 0);
    json_t *alameda = RUN_JSON(f, "history", "--county", "alameda", "--event", "");
    json_t *created = RUN_JSON(f, "list", "--county", "alameda");
    assert_int_equal(json_array_size(alameda), json_array_size(created)); /* one creation row each */
    /* --from/--to bound the time the policies saw; a --to date includes its day. */
    json_t *march = RUN_JSON(f, "history", "--from", "2023-03-01", "--to", "2023-03-31");
    assert_true(json_array_size(march) > 0);
    json_array_foreach(march, i, h) {
        const char *t = json_string_value(json_object_get(h, "effective_at"));
        assert_true(strncmp(t, "2023-03", 7) == 0);
    }
    cft_run r = CF(f, "history", "--outcome", "rejected");
    expect(&r, 0);
    contains(r.out, "instance");
    contains(r.out, json_string_value(json_object_get(first, "instance_id")));
    cft_run_free(&r);
    r = CF(f, "history", "--outcome", "maybe");
    expect(&r, 2);
    cft_run_free(&r);
    r = CF(f, "history", json_string_value(json_object_get(first, "instance_id")), "--event", "x");
    expect(&r, 2);
    contains(r.err, "give it without an ID");
    cft_run_free(&r);
    json_decref(rej);
    json_decref(narrow);
    json_decref(nobody);
    json_decref(alameda);
    json_decref(created);
    json_decref(march);
}

/* Every command that names one instance shows who it is beside the id: fire, show,
 * explain and events print a "who:" line (name and certification number from the
 * instance's own data, escaped like every stored value), and their JSON a "who". */
static void test_commands_naming_an_instance_show_who(void **state)
{
    fx *f = *state;
    simulate_year(f);
    json_t *all = RUN_JSON(f, "list", "--workflow", "certification", "--state", "certified");
    json_t *held = NULL, *x;
    size_t i;
    json_array_foreach(all, i, x) {
        const char *who = json_string_value(json_object_get(x, "who"));
        if (who && strstr(who, "(CMPSS-")) {
            held = x;
            break;
        }
    }
    assert_non_null(held);
    const char *id = json_string_value(json_object_get(held, "id"));
    char line[400];
    snprintf(line, sizeof line, "\nwho: %s\n", json_string_value(json_object_get(held, "who")));

    cft_run r = CF(f, "show", id);
    expect(&r, 0);
    char show_line[400];
    snprintf(show_line, sizeof show_line, "\nwho:        %s\n", json_string_value(json_object_get(held, "who")));
    contains(r.out, show_line);
    cft_run_free(&r);
    r = CF(f, "--now", "2024-01-15T17:00:00Z", "events", id);
    expect(&r, 0);
    contains(r.out, line + 1); /* the first line */
    assert_true(strncmp(r.out, line + 1, strlen(line + 1)) == 0);
    cft_run_free(&r);
    r = CF(f, "--now", "2024-01-15T17:00:00Z", "explain", id, "submit");
    expect(&r, 1);
    contains(r.out, line);
    cft_run_free(&r);
    r = CF(f, "--now", "2024-01-15T17:00:00Z", "fire", id, "submit");
    expect(&r, 1);
    contains(r.out, "rejected: ");
    contains(r.out, line);
    cft_run_free(&r);

    /* JSON: "who" beside "id" for show, fire and explain. */
    json_t *doc = RUN_JSON(f, "show", id);
    assert_string_equal(json_string_value(json_object_get(doc, "who")), json_string_value(json_object_get(held, "who")));
    json_decref(doc);
    doc = run_json(f, 1, "--now", "2024-01-15T17:00:00Z", "fire", id, "submit", (const char *)NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "who")), json_string_value(json_object_get(held, "who")));
    json_decref(doc);
    doc = run_json(f, 1, "--now", "2024-01-15T17:00:00Z", "explain", id, "submit", (const char *)NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "who")), json_string_value(json_object_get(held, "who")));
    json_decref(doc);
    json_decref(all);

    /* A stored name cannot drive the terminal: it is escaped on every name line. */
    r = CF(f, "--now", "2024-01-15T17:00:00Z", "new", "certification", "--county", "alameda", "--data",
           "{\"name\": \"Ana\\u001b[31m Ruiz\\u2028x\"}");
    expect(&r, 0);
    char fresh[64];
    snprintf(fresh, sizeof fresh, "%.36s", r.out);
    cft_run_free(&r);
    const char *const cmds[][3] = {{"show", fresh, NULL}, {"events", fresh, NULL}, {"explain", fresh, "withdraw"},
                                   {"fire", fresh, "withdraw"}};
    for (i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        r = CF(f, "--now", "2024-01-16T17:00:00Z", cmds[i][0], cmds[i][1], cmds[i][2]);
        expect(&r, 0);
        contains(r.out, "Ana\\x1b[31m Ruiz\\u2028x\n");
        lacks(r.out, "\x1b");
        cft_run_free(&r);
    }
    /* An instance whose data names nobody yet gets no name line. */
    r = CF(f, "--now", "2024-01-15T17:00:00Z", "new", "certification", "--county", "alameda", "--data", "{}");
    expect(&r, 0);
    snprintf(fresh, sizeof fresh, "%.36s", r.out);
    cft_run_free(&r);
    for (i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        r = CF(f, "--now", "2024-01-16T17:00:00Z", cmds[i][0], cmds[i][1], cmds[i][2]);
        expect(&r, 0);
        lacks(r.out, "who:");
        cft_run_free(&r);
    }
}

/* ---- County administrator: check (item 4) ---- */

/* A copy of the shipped policy folder in f->dir/COPY (policy/ only), returned malloc'd. */
static char *copy_state_policy(fx *f, const char *copy)
{
    static const char *const files[] = {"state.lua", "certification.lua", "complaint.lua", "employment.lua",
                                        "scholarship.lua", "supervision.lua"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char src[512], dst[256];
        snprintf(src, sizeof src, "%s/policy/%s", POLICIES, files[i]);
        snprintf(dst, sizeof dst, "%s/policy/%s", copy, files[i]);
        char *text = cft_slurp(src);
        free(cft_write(f->dir, dst, text));
        free(text);
    }
    return cft_path(f->dir, copy);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void test_check_bad_county_reports_each_problem_once(void **state)
{
    fx *f = *state;
    char *pol = copy_state_policy(f, "bad");
    free(cft_write(f->dir, "bad/counties/alameda.lua",
                   "return {\n  params = {\n    hire_grace_days = 120,\n    exam_attempts_max = 9,\n"
                   "    renewal_period_years = 5,\n    ehr_restore_hours = -3,\n  },\n}\n"));
    const char *args[] = {"--workflows", WORKFLOWS, "--policies", pol, "check", NULL};
    cft_run r = cft_certflow(f->dir, args);
    expect(&r, 4);
    /* One line per problem of the file, each with its own path once, and nothing else. */
    assert_int_equal(count_lines(r.out), 3);
    char *path = cft_path(pol, "counties/alameda.lua");
    char line[1024];
    snprintf(line, sizeof line, "%s: params.ehr_restore_hours: ", path);
    contains(r.out, line);
    snprintf(line, sizeof line, "%s: params.exam_attempts_max: 'exam_attempts_max' is not a parameter", path);
    contains(r.out, line);
    snprintf(line, sizeof line, "%s: params.renewal_period_years: 'renewal_period_years' is not a parameter", path);
    contains(r.out, line);
    lacks(r.out, "alameda.lua: counties/alameda.lua");
    lacks(r.out, "unknown");
    contains(r.err, "check found 3 problems");
    cft_run_free(&r);
    free(path);
    free(pol);
}

/* ---- County administrator: policy test (item 4) ---- */

#define GRACE_CASES POLICIES "/tests/employment_grace.lua"
#define REFUSED_CASE "an extension to an earlier date is refused"

static json_t *uncovered_names(json_t *doc)
{
    json_t *names = json_object();
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(doc, "uncovered"), i, u) {
        assert_non_null(json_string_value(json_object_get(u, "kind")));
        assert_non_null(json_string_value(json_object_get(u, "file")));
        json_object_set_new(names, json_string_value(json_object_get(u, "name")), json_true());
    }
    return names;
}

static void test_policy_test_one_file_one_case_coverage(void **state)
{
    fx *f = *state;
    /* One file instead of a folder. */
    cft_run r = CF(f, "policy", "test", GRACE_CASES);
    expect(&r, 0);
    contains(r.out, "7 cases: 7 passed, 0 failed");
    lacks(r.out, "coverage");
    cft_run_free(&r);
    /* One named case. */
    r = CF(f, "policy", "test", GRACE_CASES, "--case", REFUSED_CASE);
    expect(&r, 0);
    contains(r.out, "PASS  employment_grace.lua  " REFUSED_CASE "\n1 case: 1 passed, 0 failed\n");
    cft_run_free(&r);
    r = CF(f, "policy", "test", POLICIES "/tests", "--case", "no such case");
    expect(&r, 3);
    contains(r.err, "no test case named 'no such case'");
    cft_run_free(&r);
    /* Coverage: the grace deadline runs in the file's cases, not in the refused extension alone. */
    json_t *all = RUN_JSON(f, "policy", "test", GRACE_CASES, "--coverage");
    json_t *one = RUN_JSON(f, "policy", "test", GRACE_CASES, "--coverage", "--case", REFUSED_CASE);
    json_t *u_all = uncovered_names(all), *u_one = uncovered_names(one);
    assert_null(json_object_get(u_all, "emp_grace_end"));
    assert_non_null(json_object_get(u_one, "emp_grace_end"));
    assert_non_null(json_object_get(u_all, "sch_pool_open")); /* no case of this file is about scholarships */
    assert_true(json_object_size(u_one) > json_object_size(u_all));
    r = CF(f, "policy", "test", GRACE_CASES, "--coverage");
    expect(&r, 0);
    contains(r.out, "not exercised (guard or deadline functions no case ran, parameters no case read):");
    contains(r.out, "  guard      sch_pool_open  (policy/scholarship.lua)");
    contains(r.out, "  parameter  renewal_fee  (policy/state.lua)\n"); /* no case here renews */
    lacks(r.out, "parameter  hire_grace_days"); /* every grace case reads it */
    cft_run_free(&r);
    json_decref(all);
    json_decref(one);
    json_decref(u_all);
    json_decref(u_one);
}

/* Parameter coverage: a parameter counts as exercised when a policy call of some case
 * read it (params.NAME, through a county's overlay too, or all of them by
 * pairs(params)); one the cases never read is listed with kind "parameter". */
static void test_policy_test_parameter_coverage(void **state)
{
    fx *f = *state;
    free(cft_write(f->dir, "pc/workflows/w.lua",
                   "return { name = 'w', initial = 'open', events = { 'go', 'scan' },\n"
                   "  states = { open = {}, done = { terminal = true } },\n"
                   "  transitions = { { from = 'open', event = 'go', to = 'done', guard = 'direct' },\n"
                   "                  { from = 'open', event = 'scan', to = 'done', guard = 'scan_all' } } }\n"));
    free(cft_write(f->dir, "pc/lua/policy/state.lua",
                   "return {\n"
                   "  params = { days = 10, unused_fee = 5, flag = true },\n"
                   "  overridable = { days = { kind = 'integer', min = 1, max = 99 } },\n"
                   "  guards = {\n"
                   "    direct = function(inst, ev, ctx) return params.days > 5, 'too few days' end,\n"
                   "    scan_all = function(inst, ev, ctx)\n"
                   "      local n = 0\n"
                   "      for k, v in pairs(params) do n = n + 1 end\n"
                   "      return n == 3, 'expected 3 parameters, saw ' .. n\n"
                   "    end,\n"
                   "  },\n"
                   "}\n"));
    free(cft_write(f->dir, "pc/lua/counties/kern.lua", "return { params = { days = 20 } }\n"));
    free(cft_write(f->dir, "pc/cases.lua",
                   "return {\n"
                   "  { name = 'direct in kern', county = 'kern', workflow = 'w', state = 'open', today = '2025-01-02',\n"
                   "    event = 'go', expect = { outcome = 'applied', to = 'done' } },\n"
                   "  { name = 'every parameter', county = 'alameda', workflow = 'w', state = 'open',\n"
                   "    today = '2025-01-02', event = 'scan', expect = { outcome = 'applied', to = 'done' } },\n"
                   "}\n"));
    char *wf = cft_path(f->dir, "pc/workflows"), *pol = cft_path(f->dir, "pc/lua"), *cases = cft_path(f->dir, "pc/cases.lua");
    const char *args[] = {"--db", f->db, "--workflows", wf, "--policies", pol, "policy", "test", cases, "--coverage",
                          "--case", "direct in kern", NULL};
    /* Only params.days read (in kern, through its overlay): the other two are listed. */
    cft_run r = cft_certflow(f->dir, args);
    expect(&r, 0);
    contains(r.out, "coverage: 3 not exercised (guard or deadline functions no case ran, parameters no case read):\n"
                    "  guard      scan_all  (policy/state.lua)\n"
                    "  parameter  flag  (policy/state.lua)\n"
                    "  parameter  unused_fee  (policy/state.lua)\n");
    lacks(r.out, "parameter  days");
    cft_run_free(&r);
    /* pairs(params) reads them all. */
    args[10] = NULL;
    r = cft_certflow(f->dir, args);
    expect(&r, 0);
    contains(r.out, "2 cases: 2 passed, 0 failed\n"
                    "coverage: every guard and deadline function ran, and every parameter was read, in some case\n");
    cft_run_free(&r);
    /* --json: {"kind": "parameter", "name", "file"} */
    const char *jargs[] = {"--db", f->db, "--workflows", wf, "--policies", pol, "--json", "policy", "test", cases,
                           "--coverage", "--case", "every parameter", NULL};
    r = cft_certflow(f->dir, jargs);
    expect(&r, 0);
    json_t *doc = parse(r.out);
    json_t *u = json_object_get(doc, "uncovered");
    assert_int_equal(json_array_size(u), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(u, 0), "kind")), "guard");
    json_decref(doc);
    cft_run_free(&r);
    /* The policies still cannot write params through the counting proxy. */
    free(cft_write(f->dir, "pc/lua/policy/state.lua",
                   "return {\n"
                   "  params = { days = 10, unused_fee = 5, flag = true },\n"
                   "  guards = {\n"
                   "    direct = function(inst, ev, ctx) params.days = 1; return true end,\n"
                   "    scan_all = function(inst, ev, ctx) return getmetatable(params) == false, 'metatable shown' end,\n"
                   "  },\n"
                   "}\n"));
    free(cft_write(f->dir, "pc/lua/counties/kern.lua", "return {}\n"));
    args[10] = NULL;
    r = cft_certflow(f->dir, args);
    expect(&r, 4);
    contains(r.out, "FAIL  cases.lua  direct in kern");
    contains(r.out, "params are read-only");
    contains(r.out, "PASS  cases.lua  every parameter");
    cft_run_free(&r);
    free(wf);
    free(pol);
    free(cases);
}

/* ---- Platform engineer: event data from one source (docs/events.md) ---- */

static void test_events_doc_is_generated(void **state)
{
    fx *f = *state;
    /* docs/events.md's tables are what the workflows declare */
    cft_run r = CF(f, "workflow", "fields", "--format", "markdown");
    expect(&r, 0);
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/events.md");
    const char *begin_mark = "<!-- generated by: certflow workflow fields --format markdown -->\n";
    char *begin = strstr(doc, begin_mark), *end = begin ? strstr(begin, "<!-- end of generated tables -->") : NULL;
    assert_non_null(begin);
    assert_non_null(end);
    begin += strlen(begin_mark);
    *end = '\0';
    if (strcmp(begin, r.out) != 0)
        fail_msg("docs/events.md's tables differ from `certflow workflow fields --format markdown`; the page shows\n%s\n"
                 "the workflows declare\n%s",
                 begin, r.out);
    assert_true(strstr(r.out, "### extend") != NULL);
    cft_run_free(&r);
    /* the page's example: a missing field is a rejection saying where it belongs */
    *end = '<';
    char *line = strstr(doc, "\nrejected: ");
    assert_non_null(line);
    line++;
    char *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    r = CF(f, "--now", T0, "new", "employment", "--county", "kern", "--data",
           "{\"hired_on\": \"2025-01-01\", \"approved_by\": \"an old note\"}");
    expect(&r, 0);
    char id[64];
    snprintf(id, sizeof id, "%.36s", r.out);
    cft_run_free(&r);
    r = CF(f, "--now", T0, "fire", id, "start");
    expect(&r, 0);
    cft_run_free(&r);
    r = CF(f, "--now", T0, "fire", id, "extend", "--data", "{\"new_date\": \"2025-05-01\"}");
    expect(&r, 1);
    /* the instance's own data holds an approved_by: the reason says it does not stand in */
    contains(r.out, "'approved_by' is missing from the event data of 'extend'");
    contains(r.out, "and the instance's own data holding it does not stand in");
    cft_run_free(&r);
    r = CF(f, "--now", T0, "new", "employment", "--county", "kern", "--data", "{\"hired_on\": \"2025-01-01\"}");
    expect(&r, 0);
    snprintf(id, sizeof id, "%.36s", r.out);
    cft_run_free(&r);
    r = CF(f, "--now", T0, "fire", id, "start");
    cft_run_free(&r);
    r = CF(f, "--now", T0, "fire", id, "extend", "--data", "{\"new_date\": \"2025-05-01\"}");
    expect(&r, 1);
    char want[2048];
    snprintf(want, sizeof want, "%s\n", line);
    assert_string_equal(r.out, want);
    cft_run_free(&r);
    free(doc);
    /* recorded like a guard's rejection */
    json_t *h = RUN_JSON(f, "history", id);
    json_t *last = json_array_get(h, json_array_size(h) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "outcome")), "rejected");
    json_decref(h);
    /* --json, one workflow, an unknown one */
    json_t *rows = RUN_JSON(f, "workflow", "fields", "employment");
    assert_true(json_array_size(rows) >= 5);
    json_t *first = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(first, "workflow")), "employment");
    assert_non_null(json_string_value(json_object_get(first, "example")));
    json_decref(rows);
    r = CF(f, "workflow", "fields", "nosuch");
    expect(&r, 3);
    cft_run_free(&r);
    r = CF(f, "workflow", "versions", "--format", "markdown");
    expect(&r, 2);
    cft_run_free(&r);
    /* a declaration the loader refuses names the place and says what fits */
    static const char *const bad[][2] = {
        {"{ nosuch = { x = { type = 'string', example = 'a', about = 'b' } } }", "event_data.nosuch: unknown event"},
        {"{ go = { x = { type = 'text', example = 'a', about = 'b' } } }", "event_data.go.x.type"},
        {"{ go = { x = { type = 'date', example = '2025-13-01', about = 'b' } } }", "event_data.go.x.example"},
        {"{ go = { x = { type = 'string', example = 'a' } } }", "event_data.go.x.about"},
        {"{ go = { x = { type = 'string', example = 'a', about = 'b', requried = true } } }", "did you mean 'required'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "return { name = 'w', initial = 'a', events = { 'go' }, states = { a = {}, b = {} },\n"
                 "  transitions = { { from = 'a', event = 'go', to = 'b' } }, event_data = %s }\n",
                 bad[i][0]);
        free(cft_write(f->dir, "ed/workflows/w.lua", text));
        free(cft_write(f->dir, "ed/lua/policy/state.lua", "return { params = {} }\n"));
        char *wf = cft_path(f->dir, "ed/workflows"), *pol = cft_path(f->dir, "ed/lua");
        const char *args[] = {"--workflows", wf, "--policies", pol, "--no-shipped-plugins", "check", NULL};
        r = cft_certflow(f->dir, args);
        expect(&r, 4);
        contains(r.out, bad[i][1]);
        cft_run_free(&r);
        free(wf);
        free(pol);
    }
}

/* ---- Plugin developer (item 5) ---- */

#define TEST_PLUGINS CF_BINARY_DIR "/tests/plugins"

static json_t *find_plugin(json_t *list, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(list, "plugins"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
            return p;
    return NULL;
}

static int has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

static void test_plugins_add_to_the_shipped_ones(void **state)
{
    fx *f = *state;
    /* The documented `certflow --plugins DIR check`: the shipped workflows still find their actions. */
    cft_run r = CF(f, "--plugins", TEST_PLUGINS "/good.so", "check");
    expect(&r, 0);
    contains(r.out, "ok: 5 workflows");
    cft_run_free(&r);
    /* plugin list: each loaded plugin's actions, guards and queries. */
    json_t *list = RUN_JSON(f, "--plugins", TEST_PLUGINS "/good.so", "plugin", "list");
    json_t *good = find_plugin(list, "good"), *fees = find_plugin(list, "fees");
    assert_non_null(good);
    assert_non_null(fees);
    assert_true(has_string(json_object_get(good, "actions"), "good_log"));
    assert_true(has_string(json_object_get(good, "guards"), "good_has_amount"));
    assert_true(has_string(json_object_get(fees, "guards"), "fees_cover_application"));
    assert_true(has_string(json_object_get(fees, "actions"), "fees_charge"));
    assert_true(has_string(json_object_get(fees, "queries"), "fees.statement"));
    json_decref(list);
    /* --no-shipped-plugins: only what --plugins gives, and the shipped workflows then miss theirs. */
    r = CF(f, "--no-shipped-plugins", "--plugins", TEST_PLUGINS "/good.so", "check");
    expect(&r, 4);
    contains(r.out, "unknown action");
    cft_run_free(&r);
}

static void test_plugin_list_shows_a_refusal(void **state)
{
    fx *f = *state;
    /* The refused plugin stops the open (the workflows miss the shipped actions): list still says why. */
    cft_run r = CF(f, "--no-shipped-plugins", "--plugins", TEST_PLUGINS "/bad_abi.so", "plugin", "list");
    expect(&r, 4);
    contains(r.out, "refused: " TEST_PLUGINS "/bad_abi.so: built for plugin ABI 2");
    cft_run_free(&r);
    /* Beside the shipped ones it opens, and the refusal is listed with the loaded ones. */
    r = CF(f, "--plugins", TEST_PLUGINS "/bad_abi.so", "plugin", "list");
    expect(&r, 0);
    contains(r.out, "refused: " TEST_PLUGINS "/bad_abi.so");
    contains(r.out, "  fees 1.0.0");
    cft_run_free(&r);
}

static void test_check_runs_plugin_migrations(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, "--plugins", TEST_PLUGINS "/nested/broken_migration.so", "check");
    expect(&r, 4);
    contains(r.out, TEST_PLUGINS "/nested/broken_migration.so: refused when a database is opened: migration 1 of "
                    "plugin 'broken_migration' failed");
    lacks(r.out, "ok:");
    cft_run_free(&r);
}

static void test_plugin_config_file(void **state)
{
    fx *f = *state;
    free(cft_write(f->dir, "registry/keep", "")); /* the folder */
    char *reg = cft_path(f->dir, "registry");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "{\"registry_export\": {\"dir\": \"%s\"}}", reg);
    char *file = cft_write(f->dir, "plugins.json", cfg);
    cft_run r = CF(f, "--plugin-config", file, "simulate", "--people", "10", "--years", "1");
    expect(&r, 0);
    cft_run_free(&r);
    char *csv = cft_path(reg, "registry.csv");
    char *text = cft_slurp(csv); /* written by the plugin, to the folder the file configured */
    contains(text, "certification_number");
    free(text);
    r = CF(f, "--plugin-config", "no-such-file.json", "check");
    expect(&r, 4);
    contains(r.err, "--plugin-config 'no-such-file.json' is neither JSON text");
    cft_run_free(&r);
    free(csv);
    free(file);
    free(reg);
}

/* The host functions added at the end of the table: plain values, NULL binds
 * (tests/plugins/host_ext.c), through a workflow of its own. */
static void test_host_plain_values_and_null(void **state)
{
    fx *f = *state;
    free(cft_write(f->dir, "ext/workflows/ext.lua",
                   "return {\n  name = \"ext\",\n  initial = \"open\",\n  events = { \"go\" },\n"
                   "  states = { open = {}, done = { terminal = true } },\n"
                   "  transitions = { { from = \"open\", event = \"go\", to = \"done\", actions = { \"host_ext_record\" } } },\n}\n"));
    free(cft_write(f->dir, "ext/lua/policy/state.lua", "return { params = {} }\n"));
    char *wf = cft_path(f->dir, "ext/workflows"), *pol = cft_path(f->dir, "ext/lua");
    const char *base[] = {"--db", f->db, "--workflows", wf, "--policies", pol, "--no-shipped-plugins",
                          "--plugins", TEST_PLUGINS "/nested/host_ext.so", "--now", T0};
    const char *create[20], *fire[20], *show[20];
    size_t n = sizeof base / sizeof *base;
    memcpy(create, base, sizeof base);
    memcpy(fire, base, sizeof base);
    memcpy(show, base, sizeof base);
    const char *c_tail[] = {"new", "ext", "--county", "alameda", "--data",
                            "{\"name\": \"Ana Ruiz\", \"amount\": 12.5, \"nothing\": null}", NULL};
    memcpy(create + n, c_tail, sizeof c_tail);
    cft_run r = cft_certflow(f->dir, create);
    expect(&r, 0);
    char id[64];
    snprintf(id, sizeof id, "%.36s", r.out);
    cft_run_free(&r);
    const char *f_tail[] = {"fire", id, "go", "--data", "{\"note\": \"hi\", \"count\": 3}", NULL};
    memcpy(fire + n, f_tail, sizeof f_tail);
    fire[n - 1] = "2025-01-07T03:00:00Z"; /* 19:00 on 2025-01-06 in Los Angeles: host->today is local */
    r = cft_certflow(f->dir, fire);
    expect(&r, 0);
    cft_run_free(&r);
    const char *s_tail[] = {"--json", "show", id, NULL};
    memcpy(show + n, s_tail, sizeof s_tail);
    r = cft_certflow(f->dir, show);
    expect(&r, 0);
    json_t *doc = parse(r.out);
    json_t *seen = json_object_get(json_object_get(doc, "data"), "seen");
    assert_non_null(seen);
    assert_string_equal(json_string_value(json_object_get(seen, "name")), "Ana Ruiz"); /* no JSON quoting */
    assert_string_equal(json_string_value(json_object_get(seen, "amount")), "12.5");
    assert_int_equal(json_integer_value(json_object_get(seen, "cents")), 1250);
    assert_string_equal(json_string_value(json_object_get(seen, "note")), "hi");
    assert_string_equal(json_string_value(json_object_get(seen, "today")), "2025-01-06");
    assert_true(json_is_true(json_object_get(seen, "today_small_einval")));
    assert_true(json_number_value(json_object_get(seen, "count")) == 3);
    assert_true(json_is_true(json_object_get(seen, "null_ok")));
    assert_true(json_is_true(json_object_get(seen, "missing_notfound")));
    assert_true(json_is_true(json_object_get(seen, "string_not_number")));
    assert_int_equal(json_integer_value(json_object_get(seen, "null_rows")), 1); /* the NULL was bound */
    /* a double bound and read back exactly, NULL and the column types, NaN refused */
    assert_true(json_is_true(json_object_get(seen, "ratio_exact")));
    assert_true(json_real_value(json_object_get(seen, "ratio")) == 12.5 / 8 + 1e-9);
    assert_string_equal(json_string_value(json_object_get(seen, "types")), "INTEGER,FLOAT,TEXT");
    assert_string_equal(json_string_value(json_object_get(seen, "null_types")), "INTEGER,NULL,TEXT");
    assert_true(json_number_value(json_object_get(seen, "null_ratio")) == 0);
    assert_int_equal(json_integer_value(json_object_get(seen, "past_end_type")), 0);
    assert_true(json_is_true(json_object_get(seen, "nan_refused")));
    json_decref(doc);
    cft_run_free(&r);
    free(wf);
    free(pol);
}

static void test_plugin_log_on_the_command_line(void **state)
{
    fx *f = *state;
    const char *cfg = "{\"good\": {\"label\": \"north\"}}";
    cft_run r = CF(f, "--plugins", TEST_PLUGINS "/good.so", "--plugin-config", cfg, "plugin", "list");
    expect(&r, 0);
    lacks(r.err, "loaded with label");
    cft_run_free(&r);
    r = CF(f, "--plugins", TEST_PLUGINS "/good.so", "--plugin-config", cfg, "--log-level", "info", "plugin", "list");
    expect(&r, 0);
    contains(r.err, "certflow: [info] plugin good: loaded with label north");
    cft_run_free(&r);
    r = CF(f, "--plugins", TEST_PLUGINS "/good.so", "--plugin-config", cfg, "--log-level", "warn", "plugin", "list");
    expect(&r, 0);
    lacks(r.err, "loaded with label");
    cft_run_free(&r);
    r = CF(f, "--plugins", TEST_PLUGINS "/good.so", "--plugin-config", cfg, "--verbose", "plugin", "list");
    expect(&r, 0);
    contains(r.err, "[info] plugin good: loaded with label north");
    cft_run_free(&r);
    r = CF(f, "--log-level", "loud", "plugin", "list");
    expect(&r, 2);
    cft_run_free(&r);
}

/* ---- Platform engineer (item 6) ---- */

/* From C the messages speak the API; the command rewords them into its commands. */
static void test_messages_speak_api_terms_from_c(void **state)
{
    fx *f = *state;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/cli/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/cli/lua";
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(":memory:", &o, &e), CF_OK);
    char id[37];
    assert_int_equal(cf_instance_create(e, "ticket", "alameda", NULL, "api", id), CF_OK);
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, id, "escalat", NULL, "api", NULL, &res), CF_EEVENT);
    contains(cf_errmsg(e), "cf_workflow_dot of 'ticket' shows its events");
    lacks(cf_errmsg(e), "certflow ");
    cf_engine_close(e);

    const char *args[] = {"--db", f->db, "--workflows", CF_TEST_FIXTURES "/cli/workflows", "--policies",
                          CF_TEST_FIXTURES "/cli/lua", "new", "ticket", "--county", "alameda", NULL};
    cft_run r = cft_certflow(f->dir, args);
    expect(&r, 0);
    char tid[64];
    snprintf(tid, sizeof tid, "%.36s", r.out);
    cft_run_free(&r);
    const char *fire[] = {"--db", f->db, "--workflows", CF_TEST_FIXTURES "/cli/workflows", "--policies",
                          CF_TEST_FIXTURES "/cli/lua", "fire", tid, "escalat", NULL};
    r = cft_certflow(f->dir, fire);
    expect(&r, 4);
    contains(r.err, "`certflow graph` of 'ticket' shows its events");
    lacks(r.err, "cf_workflow_dot");
    cft_run_free(&r);

    /* The storage backend's messages too: from C they name the API's functions, and the
     * command says its own commands. */
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_OK);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, "00000000-0000-4000-8000-000000000000", &info), CF_ENOTFOUND);
    contains(cf_errmsg(e), "(list instances with cf_instance_list)");
    lacks(cf_errmsg(e), "certflow ");
    assert_int_equal(cf_token_revoke(e, "nobody", "api"), CF_ENOTFOUND);
    contains(cf_errmsg(e), "(list them with cf_token_list;");
    lacks(cf_errmsg(e), "certflow ");
    cf_engine_close(e);
    const char *show[] = {"--db", f->db, "--workflows", CF_TEST_FIXTURES "/cli/workflows", "--policies",
                          CF_TEST_FIXTURES "/cli/lua", "show", "00000000-0000-4000-8000-000000000000", NULL};
    r = cft_certflow(f->dir, show);
    expect(&r, 3);
    contains(r.err, "(list instances with `certflow list`)");
    lacks(r.err, "cf_instance_list");
    cft_run_free(&r);
    const char *revoke[] = {"--db", f->db, "--workflows", CF_TEST_FIXTURES "/cli/workflows", "--policies",
                            CF_TEST_FIXTURES "/cli/lua", "token", "revoke", "nobody", NULL};
    r = cft_certflow(f->dir, revoke);
    expect(&r, 3);
    contains(r.err, "(list them with `certflow token list`;");
    lacks(r.err, "cf_token_list");
    cft_run_free(&r);
    /* a folder where the database should be: a read-only open names the API's function */
    free(cft_write(f->dir, "adir/keep", ""));
    char *folder = cft_path(f->dir, "adir");
    o.read_only = 1;
    assert_int_equal(cf_engine_open(folder, &o, &e), CF_EIO);
    contains(cf_errmsg(e), "it is not a regular file (give cf_engine_open a certflow database)");
    lacks(cf_errmsg(e), "--db");
    cf_engine_close(e);
    free(folder);
}

/* The shipped workflows without their plugins: the message names the plugin folder. */
static void test_unknown_action_names_the_plugin_folder(void **state)
{
    fx *f = *state;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = WORKFLOWS;
    o.policy_dir = POLICIES;
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(":memory:", &o, &e), CF_EWORKFLOW);
    contains(cf_errmsg(e), "unknown action '");
    contains(cf_errmsg(e), "options.plugin_dir is not set, so no plugin was loaded");
    cf_engine_close(e);
    free(cft_write(f->dir, "empty/README", "no plugins here\n"));
    char *empty = cft_path(f->dir, "empty");
    o.plugin_dir = empty;
    e = NULL;
    assert_int_equal(cf_engine_open(":memory:", &o, &e), CF_EWORKFLOW);
    char want[600];
    snprintf(want, sizeof want, "(plugins were loaded from options.plugin_dir = %s)", empty);
    contains(cf_errmsg(e), want);
    cf_engine_close(e);
    free(empty);
}

/* docs/schema.md describes exactly the tables and columns of a database opened with the
 * shipped workflows and plugins, and its schema version. */
static void test_schema_doc(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, "init");
    expect(&r, 0);
    cft_run_free(&r);
    char *real = cft_sql_column(f->db, "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                                       "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1");
    json_t *db_cols = json_object(), *doc_cols = json_object();
    for (char *line = strtok(real, "\n"); line; line = strtok(NULL, "\n"))
        json_object_set_new(db_cols, line, json_true());
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/schema.md");
    char table[128] = "";
    for (char *line = strtok(doc, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "### `", 5) == 0) {
            snprintf(table, sizeof table, "%.*s", (int)strcspn(line + 5, "`"), line + 5);
        } else if (table[0] && strncmp(line, "| `", 3) == 0) {
            char key[300];
            snprintf(key, sizeof key, "%s.%.*s", table, (int)strcspn(line + 3, "`"), line + 3);
            json_object_set_new(doc_cols, key, json_true());
        } else if (strncmp(line, "## ", 3) == 0) {
            table[0] = '\0';
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach(doc_cols, k, v)
        if (!json_object_get(db_cols, k))
            fail_msg("docs/schema.md describes %s, which the database does not have", k);
    json_object_foreach(db_cols, k, v)
        if (!json_object_get(doc_cols, k))
            fail_msg("the database has %s, which docs/schema.md does not describe", k);
    assert_true(json_object_size(doc_cols) > 100);
    int64_t version = cft_sql_int(f->db, "PRAGMA user_version", NULL);
    char want[64];
    snprintf(want, sizeof want, "**schema version %lld**", (long long)version);
    char *text = cft_slurp(CF_SOURCE_DIR "/docs/schema.md");
    contains(text, want);
    free(text);
    free(doc);
    free(real);
    json_decref(db_cols);
    json_decref(doc_cols);
}

/* ---- certflow graph (item 7) ---- */

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_graph_readable(void **state)
{
    fx *f = *state;
    cft_run all = CF(f, "graph", "certification", "--all-edges");
    expect(&all, 0);
    cft_run r = CF(f, "graph", "certification");
    expect(&r, 0);
    /* self-loops grouped: one plain and one dashed (timers) edge from active back to itself */
    assert_true(count(all.out, "\"certified.active\" -> \"certified.active\"") > 2);
    assert_int_equal(count(r.out, "\"certified.active\" -> \"certified.active\" [label="), 1);
    assert_int_equal(count(r.out, "\"certified.active\" -> \"certified.active\" [style=dashed"), 1);
    assert_true(count(r.out, " -> ") < count(all.out, " -> "));
    lacks(r.out, "\xe2\x8f\xb1"); /* the timer symbol many fonts lack: timers say "timer" */
    contains(r.out, "label=\"timer ");
    contains(r.out, "submit [");
    cft_run_free(&r);
    cft_run_free(&all);
    r = CF(f, "graph", "certification", "--no-guards");
    expect(&r, 0);
    lacks(r.out, "submit [");
    cft_run_free(&r);
    r = CF(f, "graph", "certification", "--phase", "certified");
    expect(&r, 0);
    contains(r.out, "\"certified.suspended\"");
    lacks(r.out, "\"draft\"");
    cft_run_free(&r);
    r = CF(f, "graph", "certification", "--phase", "nowhere");
    expect(&r, 3);
    cft_run_free(&r);
    /* an instance's state, filled */
    r = CF(f, "new", "certification", "--county", "alameda");
    expect(&r, 0);
    char id[64];
    snprintf(id, sizeof id, "%.36s", r.out);
    cft_run_free(&r);
    r = CF(f, "graph", "--instance", id);
    expect(&r, 0);
    contains(r.out, "\"draft\" [label=\"draft\", style=filled, fillcolor=gold");
    assert_int_equal(count(r.out, "fillcolor=gold"), 1);
    cft_run_free(&r);
    r = CF(f, "graph", "employment", "--instance", id);
    expect(&r, 4);
    contains(r.err, "runs workflow 'certification'");
    cft_run_free(&r);
    /* Mermaid beside DOT */
    r = CF(f, "graph", "--instance", id, "--format", "mermaid");
    expect(&r, 0);
    assert_int_equal(strncmp(r.out, "stateDiagram-v2\n", 16), 0);
    contains(r.out, "  [*] --> draft\n");
    contains(r.out, "  state certified {\n");
    contains(r.out, "  draft --> submitted : submit");
    contains(r.out, "  class draft current\n");
    cft_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_error_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_error_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_error_rejected_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate_and_registry_export_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_overdue_and_county, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_live_shows_who, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands_naming_an_instance_show_who, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_bad_county_reports_each_problem_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_test_one_file_one_case_coverage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_test_parameter_coverage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugins_add_to_the_shipped_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_list_shows_a_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_runs_plugin_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_plain_values_and_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_log_on_the_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_speak_api_terms_from_c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_action_names_the_plugin_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_doc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_doc_is_generated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
