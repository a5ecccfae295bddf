/*
 * test_cli.c — runs the built certflow command (fork + exec, capturing stdout,
 * stderr and the exit code) in a fresh folder against the ticket fixture in
 * tests/fixtures/cli/, as a user would. docs/cli.md mirrors these runs.
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
#include "sqlite_peek.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BINARY CF_BINARY_DIR "/certflow"
#define FIX_WORKFLOWS CF_TEST_FIXTURES "/cli/workflows"
#define FIX_POLICIES CF_TEST_FIXTURES "/cli/lua"

#define T0 "2025-01-06T17:00:00Z" /* Monday 09:00 in California */

typedef struct fx {
    char *dir; /* the working folder of every run */
    char *db;
} fx;

typedef cft_run result;

static void result_free(result *r)
{
    cft_run_free(r);
}

/* Run certflow with argv (NULL-terminated, without the program name) in f->dir. */
static result run_argv(fx *f, const char *const *args)
{
    return cft_certflow(f->dir, args);
}

/* certflow --db DB --workflows FIX --policies FIX args... (NULL-terminated). */
static result cf(fx *f, ...)
{
    const char *args[60] = {"--db", f->db, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES};
    size_t n = 6;
    va_list ap;
    va_start(ap, f);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < 59);
        args[n++] = s;
    }
    va_end(ap);
    args[n] = NULL;
    return run_argv(f, args);
}

/* certflow args... with nothing added. */
static result cf_bare(fx *f, ...)
{
    const char *args[60];
    size_t n = 0;
    va_list ap;
    va_start(ap, f);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < 59);
        args[n++] = s;
    }
    va_end(ap);
    args[n] = NULL;
    return run_argv(f, args);
}

#define CF(f, ...) cf((f), __VA_ARGS__, (const char *)NULL)
#define CF_BARE(f, ...) cf_bare((f), __VA_ARGS__, (const char *)NULL)

/* Fail with both streams shown when the exit code is not the expected one. */
static void expect(const result *r, int code)
{
    if (r->code != code)
        fail_msg("exit %d, expected %d\n--- stdout:\n%s\n--- stderr:\n%s", r->code, code, r->out, r->err);
}

static void contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected to find \"%s\" in:\n%s", needle, text);
}

static json_t *parse_json(const result *r)
{
    json_error_t err;
    json_t *doc = json_loads(r->out, 0, &err);
    if (!doc)
        fail_msg("stdout is not one JSON document (%s, line %d):\n%s", err.text, err.line, r->out);
    return doc;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
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

/* Create a ticket at T0 in county and return its id (malloc'd). */
static char *new_ticket(fx *f, const char *county, const char *data)
{
    result r = data ? CF(f, "--now", T0, "new", "ticket", "--county", county, "--data", data)
                    : CF(f, "--now", T0, "new", "ticket", "--county", county);
    expect(&r, 0);
    size_t n = strlen(r.out);
    assert_int_equal(n, 37); /* a UUID and a newline */
    r.out[36] = '\0';
    char *id = strdup(r.out);
    result_free(&r);
    return id;
}

/* ---- Tests ---- */

static void test_help_everywhere(void **state)
{
    fx *f = *state;
    static const char *const cmds[] = {"init", "new",   "fire",  "show",   "history", "list", "tick",
                                       "due",  "check", "graph", "verify", "help"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        result r = CF_BARE(f, cmds[i], "--help");
        expect(&r, 0);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: certflow %s", cmds[i]);
        contains(r.out, usage);
        result_free(&r);
        r = CF_BARE(f, "help", cmds[i]);
        expect(&r, 0);
        contains(r.out, usage);
        result_free(&r);
    }
    result r = CF_BARE(f, "--help");
    expect(&r, 0);
    contains(r.out, "usage: certflow [options] COMMAND");
    contains(r.out, "Exit codes:");
    contains(r.out, "the database is corrupt or was tampered with");
    result_free(&r);
    r = CF_BARE(f, "-h");
    expect(&r, 0);
    result_free(&r);
    r = CF_BARE(f, "--version");
    expect(&r, 0);
    contains(r.out, "certflow " CF_VERSION_STRING);
    result_free(&r);
    assert_false(exists(f->db));
    char *dflt = cft_path(f->dir, "certflow.db");
    assert_false(exists(dflt));
    free(dflt);
}

static void test_usage_errors(void **state)
{
    fx *f = *state;
    result r = CF_BARE(f, "frobnicate");
    expect(&r, 2);
    contains(r.err, "certflow: unknown command 'frobnicate'");
    contains(r.err, "see certflow --help");
    result_free(&r);

    r = cf_bare(f, (const char *)NULL);
    expect(&r, 2);
    contains(r.err, "no command given");
    result_free(&r);

    r = CF(f, "list", "--bogus");
    expect(&r, 2);
    contains(r.err, "unknown option '--bogus'");
    contains(r.err, "usage: certflow list");
    contains(r.err, "see certflow list --help");
    result_free(&r);

    r = CF(f, "fire", "only-an-id");
    expect(&r, 2);
    contains(r.err, "usage: certflow fire ID EVENT");
    result_free(&r);

    r = CF(f, "new", "ticket");
    expect(&r, 2);
    contains(r.err, "needs --county");
    result_free(&r);

    r = CF(f, "show", "a", "b");
    expect(&r, 2);
    contains(r.err, "unexpected argument 'b'");
    result_free(&r);

    r = CF(f, "show", "x", "--county", "alameda");
    expect(&r, 2);
    contains(r.err, "--county does not apply to 'show'");
    result_free(&r);

    r = CF(f, "list", "--db");
    expect(&r, 2);
    contains(r.err, "--db needs a value");
    result_free(&r);

    r = CF(f, "due", "--within", "3x");
    expect(&r, 2);
    contains(r.err, "not a duration");
    result_free(&r);

    r = CF(f, "--now", "yesterday", "list");
    expect(&r, 2);
    contains(r.err, "not an ISO 8601 time");
    result_free(&r);

    r = CF(f, "--json=1", "list");
    expect(&r, 2);
    result_free(&r);

    r = CF_BARE(f, "help", "nope");
    expect(&r, 2);
    result_free(&r);

    /* None of these may create a database. */
    assert_false(exists(f->db));
}

static void test_init(void **state)
{
    fx *f = *state;
    result r = CF(f, "init");
    expect(&r, 0);
    contains(r.out, f->db);
    contains(r.out, "ticket");
    result_free(&r);
    assert_true(exists(f->db));

    r = CF(f, "--json", "init");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "database")), f->db);
    assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "workflows"), 0)), "ticket");
    json_decref(doc);
    result_free(&r);

    /* Without --db: ./certflow.db in the working folder (or $CERTFLOW_DB). */
    r = CF_BARE(f, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "init");
    expect(&r, 0);
    result_free(&r);
    char *dflt = cft_path(f->dir, "certflow.db");
    assert_true(exists(dflt));
    free(dflt);

    /* $CERTFLOW_DB names the database when --db does not. */
    char *env_db = cft_path(f->dir, "from-env.db");
    setenv("CERTFLOW_DB", env_db, 1);
    r = CF_BARE(f, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "init");
    unsetenv("CERTFLOW_DB");
    expect(&r, 0);
    contains(r.out, env_db);
    result_free(&r);
    assert_true(exists(env_db));
    free(env_db);
}

static void test_new_show_list(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", "{\"title\":\"printer jam\"}");

    result r = CF(f, "show", id);
    expect(&r, 0);
    contains(r.out, id);
    contains(r.out, "state:      open");
    contains(r.out, "printer jam");
    result_free(&r);

    r = CF(f, "show", id, "--json");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), id);
    assert_string_equal(json_string_value(json_object_get(doc, "workflow")), "ticket");
    assert_string_equal(json_string_value(json_object_get(doc, "county")), "alameda");
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "open");
    assert_string_equal(json_string_value(json_object_get(doc, "created_at")), T0);
    assert_false(json_is_true(json_object_get(doc, "terminal")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "data"), "title")), "printer jam");
    json_decref(doc);
    result_free(&r);

    /* new --json prints the whole instance. */
    r = CF(f, "--now", "2025-01-06T18:00:00Z", "--json", "new", "ticket", "--county", "contra_costa", "--actor",
           "dispatcher");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "open");
    assert_string_equal(json_string_value(json_object_get(doc, "county")), "contra_costa");
    json_decref(doc);
    result_free(&r);

    r = CF(f, "list", "--json");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_true(json_is_array(doc));
    assert_int_equal(json_array_size(doc), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 0), "id")), id);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "list", "--county", "alameda", "--json");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 1);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "list", "--state", "closed", "--json");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 0);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "list", "--workflow", "ticket");
    expect(&r, 0);
    contains(r.out, "state");
    contains(r.out, id);
    contains(r.out, "alameda");
    result_free(&r);

    r = CF(f, "list", "--state", "closed");
    expect(&r, 0);
    contains(r.out, "no instances");
    result_free(&r);
    free(id);
}

static void test_fire_applied_and_rejected(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);

    result r = CF(f, "--now", "2025-01-07T17:00:00Z", "fire", id, "assign");
    expect(&r, 1);
    contains(r.out, "rejected: no assignee given");
    result_free(&r);

    r = CF(f, "--now", "2025-01-07T18:00:00Z", "fire", id, "assign", "--data", "{\"assignee\":\"ana\"}", "--actor",
           "lead");
    expect(&r, 0);
    contains(r.out, "applied: open -> assigned");
    result_free(&r);

    r = CF(f, "show", id, "--json");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    json_t *data = json_object_get(doc, "data");
    assert_string_equal(json_string_value(json_object_get(data, "assignee")), "ana");
    assert_string_equal(json_string_value(json_object_get(data, "assigned_on")), "2025-01-07");
    json_decref(doc);
    result_free(&r);

    /* Event data from a file, and --json on fire. */
    free(cft_write(f->dir, "close.json", "{\"note\":\"fixed\"}"));
    r = CF(f, "--json", "fire", id, "close", "--data", "@close.json");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "applied");
    assert_string_equal(json_string_value(json_object_get(doc, "from")), "assigned");
    assert_string_equal(json_string_value(json_object_get(doc, "to")), "closed");
    json_decref(doc);
    result_free(&r);

    /* Closed is terminal: reopen has no transition; rejected with a reason, exit 1. */
    r = CF(f, "--json", "fire", id, "reopen");
    expect(&r, 1);
    doc = parse_json(&r);
    assert_false(json_is_true(json_object_get(doc, "applied")));
    assert_true(json_array_size(json_object_get(doc, "reasons")) >= 1);
    json_decref(doc);
    result_free(&r);
    free(id);
}

static void test_idempotency_key(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);
    result r = CF(f, "fire", id, "close", "--key", "close-1");
    expect(&r, 0);
    contains(r.out, "applied: open -> closed");
    assert_null(strstr(r.out, "replayed"));
    result_free(&r);

    r = CF(f, "fire", id, "close", "--key", "close-1");
    expect(&r, 0);
    contains(r.out, "applied: open -> closed");
    contains(r.out, "replayed");
    result_free(&r);

    r = CF(f, "--json", "fire", id, "close", "--key", "close-1");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_true(json_is_true(json_object_get(doc, "replayed")));
    json_decref(doc);
    result_free(&r);

    /* The same key for another event is a conflict (invalid input). */
    r = CF(f, "fire", id, "assign", "--key", "close-1");
    expect(&r, 4);
    contains(r.err, "certflow: ");
    result_free(&r);

    r = CF(f, "--json", "history", id);
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 2); /* created, close once */
    json_decref(doc);
    result_free(&r);
    free(id);
}

static void test_not_found(void **state)
{
    fx *f = *state;
    const char *ghost = "00000000-0000-4000-8000-000000000000";
    result r = CF(f, "show", ghost);
    expect(&r, 3);
    contains(r.err, "certflow: ");
    assert_true(strlen(r.err) > strlen("certflow: \n"));
    assert_string_equal(r.out, "");
    result_free(&r);

    r = CF(f, "fire", ghost, "close");
    expect(&r, 3);
    contains(r.err, "certflow: ");
    result_free(&r);

    r = CF(f, "history", ghost);
    expect(&r, 3);
    result_free(&r);

    r = CF(f, "new", "tickte", "--county", "alameda");
    expect(&r, 3);
    contains(r.err, "tickte");
    contains(r.err, "ticket"); /* did you mean */
    result_free(&r);

    r = CF(f, "graph", "nosuch");
    expect(&r, 3);
    result_free(&r);
}

static void test_bad_json(void **state)
{
    fx *f = *state;
    result r = CF(f, "new", "ticket", "--county", "alameda", "--data", "{\"title\": ");
    expect(&r, 4);
    contains(r.err, "certflow: ");
    result_free(&r);

    char *id = new_ticket(f, "alameda", NULL);
    r = CF(f, "fire", id, "assign", "--data", "[1, 2]");
    expect(&r, 4);
    result_free(&r);

    r = CF(f, "fire", id, "assign", "--data", "@does-not-exist.json");
    expect(&r, 4);
    contains(r.err, "does-not-exist.json");
    result_free(&r);

    /* Nothing was recorded by the failures. */
    r = CF(f, "--json", "history", id);
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 1);
    json_decref(doc);
    result_free(&r);
    free(id);
}

static void test_tick_and_due(void **state)
{
    fx *f = *state;
    /* Alameda escalates after 5 days: local midnight starting 2025-01-11 = 08:00Z.
     * Contra Costa has no overlay: the state's 3 days, 2025-01-09T08:00:00Z. */
    char *a = new_ticket(f, "alameda", NULL);
    char *b = new_ticket(f, "contra_costa", NULL);

    result r = CF(f, "--now", T0, "due", "--within", "2d");
    expect(&r, 0);
    contains(r.out, "no timers due");
    result_free(&r);

    r = CF(f, "--now", T0, "due", "--within", "4d");
    expect(&r, 0);
    contains(r.out, "2025-01-09T08:00:00Z");
    contains(r.out, b);
    contains(r.out, "escalation");
    assert_null(strstr(r.out, a));
    result_free(&r);

    r = CF(f, "--now", T0, "--json", "due", "--within", "1w");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 2);
    json_t *first = json_array_get(doc, 0), *second = json_array_get(doc, 1);
    assert_string_equal(json_string_value(json_object_get(first, "due")), "2025-01-09T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(second, "due")), "2025-01-11T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(second, "instance_id")), a);
    assert_string_equal(json_string_value(json_object_get(second, "event")), "escalate");
    json_decref(doc);
    result_free(&r);

    /* The default window is 30 days. */
    r = CF(f, "--now", T0, "--json", "due");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 2);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "--now", "2025-01-08T00:00:00Z", "tick");
    expect(&r, 0);
    contains(r.out, "fired 0 timers");
    result_free(&r);

    r = CF(f, "tick", "--until", "2025-01-10T00:00:00Z");
    expect(&r, 0);
    contains(r.out, "fired 1 timer ");
    result_free(&r);

    r = CF(f, "--now", "2025-01-12T00:00:00Z", "--json", "tick");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_integer_value(json_object_get(doc, "fired")), 1);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "--json", "list", "--state", "escalated");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 2);
    json_decref(doc);
    result_free(&r);

    /* The timer's transition saw its due time. */
    r = CF(f, "--json", "history", a);
    expect(&r, 0);
    doc = parse_json(&r);
    json_t *last = json_array_get(doc, json_array_size(doc) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "event")), "escalate");
    assert_string_equal(json_string_value(json_object_get(last, "effective_at")), "2025-01-11T08:00:00Z");
    json_decref(doc);
    result_free(&r);

    r = CF(f, "--now", "2025-01-12T00:00:00Z", "due");
    expect(&r, 0);
    contains(r.out, "no timers due");
    result_free(&r);
    free(a);
    free(b);
}

static void test_history(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);
    result r = CF(f, "--now", "2025-01-07T17:00:00Z", "fire", id, "assign");
    expect(&r, 1);
    result_free(&r);
    r = CF(f, "--now", "2025-01-07T18:00:00Z", "fire", id, "assign", "--data", "{\"assignee\":\"ana\"}");
    expect(&r, 0);
    result_free(&r);

    r = CF(f, "history", id, "--json");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 3);
    json_t *h0 = json_array_get(doc, 0), *h1 = json_array_get(doc, 1), *h2 = json_array_get(doc, 2);
    assert_string_equal(json_string_value(json_object_get(h0, "outcome")), "created");
    assert_int_equal(json_integer_value(json_object_get(h0, "number")), 1);
    assert_string_equal(json_string_value(json_object_get(h1, "outcome")), "rejected");
    assert_string_equal(json_string_value(json_object_get(h1, "actor")), "tester"); /* $USER */
    assert_string_equal(json_string_value(json_array_get(json_object_get(h1, "reasons"), 0)), "no assignee given");
    assert_string_equal(json_string_value(json_object_get(h2, "outcome")), "applied");
    assert_string_equal(json_string_value(json_object_get(h2, "from")), "open");
    assert_string_equal(json_string_value(json_object_get(h2, "to")), "assigned");
    assert_string_equal(json_string_value(json_object_get(h2, "at")), "2025-01-07T18:00:00Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(h2, "data"), "assignee")), "ana");
    assert_true(json_string_length(json_object_get(h2, "hash")) == 64);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "history", id);
    expect(&r, 0);
    contains(r.out, "from -> to");
    contains(r.out, "no assignee given");
    contains(r.out, "open -> assigned");
    contains(r.out, "2025-01-07T18:00:00Z");
    result_free(&r);
    free(id);
}

static void test_check(void **state)
{
    fx *f = *state;
    result r = CF(f, "check");
    expect(&r, 0);
    contains(r.out, "ok: 1 workflow (ticket)");
    contains(r.out, "alameda");
    result_free(&r);
    assert_false(exists(f->db));

    r = CF(f, "check", "--json");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_int_equal(json_array_size(json_object_get(doc, "problems")), 0);
    json_decref(doc);
    result_free(&r);

    /* A workflow whose transition goes to a state that does not exist. */
    char *bad = cft_write(f->dir, "broken/broken.lua",
                          "return { name = 'broken', initial = 'a', events = { 'go' },\n"
                          "  states = { a = {} },\n"
                          "  transitions = { { from = 'a', event = 'go', to = 'nowhere' } } }\n");
    char *bad_dir = cft_path(f->dir, "broken");
    r = CF_BARE(f, "--db", f->db, "--workflows", bad_dir, "--policies", FIX_POLICIES, "check");
    expect(&r, 4);
    contains(r.out, "broken.lua");
    contains(r.out, "nowhere");
    contains(r.err, "check found 1 problem");
    result_free(&r);

    r = CF_BARE(f, "--db", f->db, "--workflows", bad_dir, "--policies", FIX_POLICIES, "--json", "check");
    expect(&r, 4);
    doc = parse_json(&r);
    assert_false(json_is_true(json_object_get(doc, "ok")));
    json_t *p0 = json_array_get(json_object_get(doc, "problems"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(p0, "file")), "broken.lua"));
    json_decref(doc);
    result_free(&r);
    assert_false(exists(f->db));

    /* A broken workflow dir stops every command that opens the engine, naming the file. */
    r = CF_BARE(f, "--db", f->db, "--workflows", bad_dir, "--policies", FIX_POLICIES, "list");
    expect(&r, 4);
    contains(r.err, "broken.lua");
    result_free(&r);
    free(bad);
    free(bad_dir);
}

static void test_graph(void **state)
{
    fx *f = *state;
    result r = CF(f, "graph", "ticket");
    expect(&r, 0);
    assert_int_equal(strncmp(r.out, "digraph", 7), 0);
    contains(r.out, "escalated");
    result_free(&r);
    assert_false(exists(f->db)); /* graph reads definitions only */
}

static void test_verify(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);
    result r = CF(f, "fire", id, "close");
    expect(&r, 0);
    result_free(&r);

    r = CF(f, "verify");
    expect(&r, 0);
    contains(r.out, "ok: 2 history rows checked");
    result_free(&r);

    r = CF(f, "verify", "--json");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_int_equal(json_integer_value(json_object_get(doc, "rows")), 2);
    assert_int_equal(json_integer_value(json_object_get(doc, "first_bad")), 0);
    json_decref(doc);
    result_free(&r);
    free(id);
}

static void test_verify_broken(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);
    result r = CF(f, "fire", id, "close");
    expect(&r, 0);
    result_free(&r);

    /* Someone edits the history behind the engine's back. */
    assert_true(cft_sql_tamper(f->db, "DROP TRIGGER IF EXISTS history_no_update;"
                                      "UPDATE history SET actor = 'mallory' WHERE seq = (SELECT max(seq) FROM history);"));

    r = CF(f, "verify");
    expect(&r, 6);
    contains(r.out, "broken: the hash chain breaks at history row 2");
    contains(r.err, "certflow: ");
    result_free(&r);

    r = CF(f, "--json", "verify");
    expect(&r, 6);
    json_t *doc = parse_json(&r);
    assert_false(json_is_true(json_object_get(doc, "ok")));
    assert_int_equal(json_integer_value(json_object_get(doc, "first_bad")), 2);
    json_decref(doc);
    result_free(&r);
    free(id);
}

/* ---- Text checked at the door, and escaped on the way out (issue 8) ---- */

#define FIX_TEXT CF_TEST_FIXTURES "/text"

/* certflow --db DB with the text fixture (tests/fixtures/text) and args... */
static result cf_text(fx *f, ...)
{
    const char *args[60] = {"--db", f->db, "--workflows", FIX_TEXT "/workflows", "--policies", FIX_TEXT "/lua",
                            "--now", T0};
    size_t n = 8;
    va_list ap;
    va_start(ap, f);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < 59);
        args[n++] = s;
    }
    va_end(ap);
    args[n] = NULL;
    return run_argv(f, args);
}

#define CF_TEXT(f, ...) cf_text((f), __VA_ARGS__, (const char *)NULL)

static int history_rows(fx *f, const char *id)
{
    result r = CF(f, "--json", "history", id);
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    int n = (int)json_array_size(doc);
    json_decref(doc);
    result_free(&r);
    return n;
}

/* Exit 4 with needle in stderr, and the instance's history as it was. */
static void refused(fx *f, const char *id, result r, const char *needle)
{
    expect(&r, 4);
    contains(r.err, needle);
    assert_string_equal(r.out, "");
    result_free(&r);
    assert_int_equal(history_rows(f, id), 1);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void test_text_refused_at_the_door(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);
    static const char *const bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80"};
    for (size_t i = 0; i < 3; i++) {
        refused(f, id, CF(f, "fire", id, "assign", "--actor", bad[i]), "the actor is not valid UTF-8");
        refused(f, id, CF(f, "fire", id, "assign", "--key", bad[i]), "the idempotency key is not valid UTF-8");
        char data[64];
        snprintf(data, sizeof data, "{\"assignee\":\"%s\"}", bad[i]);
        refused(f, id, CF(f, "fire", id, "assign", "--data", data), "event data is not valid JSON");
    }
    refused(f, id, CF(f, "fire", id, "assign", "--actor", "ops\x1b[31m"), "the actor holds the control character U+001B");
    refused(f, id, CF(f, "fire", id, "assign", "--key", "k\nforged"), "the idempotency key holds the control character");
    refused(f, id, CF(f, "fire", id, "assign", "--data", "{\"a\\u0000b\":1}"), "it holds \\u0000 (a NUL character)");
    refused(f, id, CF(f, "fire", id, "assign", "--data", "{\"assignee\":\"x\\u0000y\"}"), "event data is not valid JSON");

    refused(f, id, CF(f, "fire", id, "assign", "--data", ""), "--data is empty: give a JSON object such as {}");
    char *empty = cft_write(f->dir, "empty.json", "");
    refused(f, id, CF(f, "fire", id, "assign", "--data", "@empty.json"),
            "--data file 'empty.json' is empty: give a JSON object such as {}");
    char *blank = cft_write(f->dir, "blank.json", " \n");
    refused(f, id, CF(f, "fire", id, "assign", "--data", "@blank.json"), "give a JSON object such as {}");
    char *nul = cft_path(f->dir, "nul.json");
    write_bytes(nul, "{\"assignee\":\"ana\"}\0junk", 23);
    refused(f, id, CF(f, "fire", id, "assign", "--data", "@nul.json"),
            "--data file 'nul.json' has a NUL byte after the JSON value, at offset 18");
    char *junk = cft_write(f->dir, "junk.json", "{\"assignee\":\"ana\"}\n}x");
    refused(f, id, CF(f, "fire", id, "assign", "--data", "@junk.json"),
            "--data file 'junk.json' has bytes after the JSON value, at offset 19");
    char *lead = cft_path(f->dir, "lead.json");
    write_bytes(lead, "\0{}", 3);
    refused(f, id, CF(f, "fire", id, "assign", "--data", "@lead.json"), "holds a NUL byte at offset 0");

    /* new is held to the same: nothing is created. */
    result r = CF(f, "new", "ticket", "--county", "alameda", "--data", "@nul.json");
    expect(&r, 4);
    contains(r.err, "nul.json");
    result_free(&r);
    r = CF(f, "new", "ticket", "--county", "alameda", "--actor", "\xed\xa0\x80");
    expect(&r, 4);
    contains(r.err, "the actor is not valid UTF-8");
    result_free(&r);
    r = CF(f, "--json", "list");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 1);
    json_decref(doc);
    result_free(&r);

    /* A file of one object followed by blanks is fine. */
    char *ok = cft_write(f->dir, "ok.json", "{\"assignee\":\"ana\"}\n\n");
    r = CF(f, "fire", id, "assign", "--data", "@ok.json");
    expect(&r, 0);
    result_free(&r);
    free(ok);
    free(lead);
    free(junk);
    free(nul);
    free(blank);
    free(empty);
    free(id);
}

static void test_text_guard_reason_refused(void **state)
{
    fx *f = *state;
    result r = CF_TEXT(f, "new", "note", "--county", "alameda");
    expect(&r, 0);
    r.out[36] = '\0';
    char *id = strdup(r.out);
    result_free(&r);
    r = CF_TEXT(f, "fire", id, "nul_reason");
    expect(&r, 4);
    contains(r.err, "policy guard 'nul_reason'");
    contains(r.err, "NUL byte");
    result_free(&r);
    r = CF_TEXT(f, "fire", id, "bad_reason");
    expect(&r, 4);
    contains(r.err, "policy guard 'bad_reason'");
    contains(r.err, "not valid UTF-8");
    result_free(&r);
    r = CF_TEXT(f, "--json", "history", id);
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 1);
    json_decref(doc);
    result_free(&r);
    free(id);
}

/* No byte that drives a terminal reaches it: ESC, CR, other C0 and C1, DEL, U+202E, U+2028. */
static void no_raw_controls(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            fail_msg("raw control byte 0x%02x in:\n%s", *p, text);
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            fail_msg("raw C1 control in:\n%s", text);
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xae || p[2] == 0xa8))
            fail_msg("raw U+202E or U+2028 in:\n%s", text);
    }
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void test_text_output_escaped(void **state)
{
    fx *f = *state;
    /* A reason that echoes the caller's text: a newline that would forge a row, colour, and an override. */
    static const char why[] = "{\"why\":\"x\\n2  2025-01-06T17:00:00Z  admin  approve  applied\\u001b[31m\\u202e\\u0085\"}";
    result r = CF_TEXT(f, "new", "note", "--county", "alameda", "--data", "{\"text\":\"a\\u202eb\\u2028c\\u007f\"}");
    expect(&r, 0);
    r.out[36] = '\0';
    char *id = strdup(r.out);
    result_free(&r);

    r = CF_TEXT(f, "fire", id, "echo", "--data", why);
    expect(&r, 1);
    no_raw_controls(r.out);
    contains(r.out, "rejected: x\\n2  2025-01-06T17:00:00Z  admin  approve  applied\\x1b[31m\\u202e\\u0085\n");
    assert_int_equal(count_lines(r.out), 1);
    result_free(&r);

    r = CF_TEXT(f, "history", id);
    expect(&r, 0);
    no_raw_controls(r.out);
    contains(r.out, "x\\n2  2025-01-06T17:00:00Z  admin  approve  applied\\x1b[31m\\u202e\\u0085");
    assert_int_equal(count_lines(r.out), 3); /* the header, created, rejected: no forged row */
    result_free(&r);

    r = CF_TEXT(f, "show", id);
    expect(&r, 0);
    no_raw_controls(r.out);
    contains(r.out, "\"text\": \"a\\u202eb\\u2028c\\x7f\"");
    result_free(&r);

    /* JSON output is for programs: jansson escapes C0 and quotes, and the text reads back as it was. */
    r = CF_TEXT(f, "--json", "history", id);
    expect(&r, 0);
    assert_null(strchr(r.out, '\x1b'));
    json_t *doc = parse_json(&r);
    const char *reason = json_string_value(json_array_get(json_object_get(json_array_get(doc, 1), "reasons"), 0));
    assert_non_null(reason);
    assert_string_equal(reason, "x\n2  2025-01-06T17:00:00Z  admin  approve  applied\x1b[31m\xe2\x80\xae\xc2\x85");
    json_decref(doc);
    result_free(&r);

    /* A usage error quotes what was typed, escaped. */
    r = CF_TEXT(f, "\x1b]0;pwned\x07");
    expect(&r, 2);
    no_raw_controls(r.err);
    contains(r.err, "unknown command '\\x1b]0;pwned\\x07'");
    result_free(&r);
    free(id);
}

/* A row stored before text was checked (an actor that is not UTF-8) is shown escaped, not as null. */
static void test_text_old_rows_shown_escaped(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);
    assert_true(cft_sql_tamper(f->db, "DROP TRIGGER IF EXISTS history_no_update;"
                                      "UPDATE history SET actor = 'ops' || CAST(X'FF1B' AS TEXT);"));

    result r = CF(f, "--json", "history", id);
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 0), "actor")), "ops\\xff\\x1b");
    json_decref(doc);
    result_free(&r);

    r = CF(f, "history", id);
    expect(&r, 0);
    no_raw_controls(r.out);
    contains(r.out, "ops\\xff\\x1b");
    result_free(&r);
    free(id);
}

/* --lua-time-limit / --lua-load-time-limit: checked as usage, passed to the
 * engine; a policy file whose top level would run for minutes fails check
 * (exit 4) and every command (exit 7) quickly, naming the file and the flag. */
static void test_lua_time_limits(void **state)
{
    fx *f = *state;
    result r = CF(f, "--lua-time-limit", "0", "list");
    expect(&r, 2);
    contains(r.err, "--lua-time-limit '0' is not a time limit");
    result_free(&r);
    r = CF(f, "--lua-load-time-limit", "5s", "list");
    expect(&r, 2);
    contains(r.err, "--lua-load-time-limit '5s' is not a time limit");
    result_free(&r);
    r = CF(f, "--lua-time-limit", "60000", "--lua-load-time-limit", "60000", "check");
    expect(&r, 0);
    result_free(&r);

    char *state_path = cft_path(FIX_POLICIES, "policy/state.lua");
    char *state_text = cft_slurp(state_path);
    assert_non_null(state_text);
    free(cft_write(f->dir, "slow/policy/state.lua", state_text));
    free(cft_write(f->dir, "slow/counties/evil.lua",
                   "local a, b = string.rep('a', 4*2^20), string.rep('a', 4*2^20)\n"
                   "while true do if a == b then end end\nreturn {}\n"));
    char *slow = cft_path(f->dir, "slow");
    r = CF_BARE(f, "--db", f->db, "--workflows", FIX_WORKFLOWS, "--policies", slow, "--lua-load-time-limit", "100",
                "check");
    expect(&r, 4);
    contains(r.out, "counties/evil.lua: ran past its load time limit of 100 ms");
    contains(r.out, "--lua-load-time-limit");
    result_free(&r);
    r = CF_BARE(f, "--db", f->db, "--workflows", FIX_WORKFLOWS, "--policies", slow, "--lua-load-time-limit", "100",
                "list");
    expect(&r, 7);
    contains(r.err, "counties/evil.lua: ran past its load time limit of 100 ms");
    result_free(&r);
    free(slow);
    free(state_text);
    free(state_path);
}

/* verify --anchor prints a line to keep; --since-anchor finds the newest
 * instance removed whole (nothing inside the file shows it); --key-file signs. */
static void test_verify_anchor(void **state)
{
    fx *f = *state;
    char *first = new_ticket(f, "alameda", NULL);
    char *late = new_ticket(f, "alameda", NULL);
    char *key = cft_write(f->dir, "anchor.key", "a secret the operator keeps elsewhere\n");
    result r = CF(f, "verify", "--anchor", "--key-file", key);
    expect(&r, 0);
    assert_int_equal(strncmp(r.out, "certflow-anchor-v1 seq=2 hash=", 30), 0);
    contains(r.out, " hmac-sha256=");
    assert_int_equal(strchr(r.out, '\n') - r.out + 1, (long)strlen(r.out)); /* one line, nothing else */
    char *anchor = cft_write(f->dir, "anchor.txt", r.out);
    result_free(&r);
    r = CF(f, "verify", "--since-anchor", anchor, "--key-file", key);
    expect(&r, 0);
    contains(r.out, "anchor: the history still holds row 2");
    result_free(&r);

    /* The newest instance, removed with its rows and timers: the file alone looks sound. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP TRIGGER history_no_delete; DELETE FROM timer WHERE instance_id = '%s';"
             " DELETE FROM history WHERE instance_id = '%s'; DELETE FROM instance WHERE id = '%s';",
             late, late, late);
    assert_true(cft_sql_tamper(f->db, sql));
    r = CF(f, "verify");
    expect(&r, 0);
    result_free(&r);
    r = CF(f, "verify", "--since-anchor", anchor, "--key-file", key);
    expect(&r, 6);
    contains(r.out, "anchor: the history ends at row 1, but the anchor names row 2");
    contains(r.err, "certflow: ");
    result_free(&r);
    r = CF(f, "--json", "verify", "--since-anchor", anchor, "--key-file", key);
    expect(&r, 6);
    json_t *doc = parse_json(&r);
    assert_false(json_is_true(json_object_get(doc, "ok")));
    json_t *f0 = json_array_get(json_object_get(doc, "findings"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "kind")), "anchor");
    json_decref(doc);
    result_free(&r);
    /* Writing is refused now, with how to recover; the exit code is the table's. */
    r = CF(f, "--now", T0, "fire", first, "close");
    expect(&r, 6);
    contains(r.err, "restore the database from a backup");
    result_free(&r);
    /* A malformed anchor is a usage problem of the input, not a finding. */
    r = CF(f, "verify", "--since-anchor", "certflow-anchor-v1 seq=x");
    expect(&r, 4);
    contains(r.err, "the anchor is not one certflow wrote");
    result_free(&r);
    free(anchor);
    free(key);
    free(first);
    free(late);
}

/* explain shows each guard, what a rejection would record and the deadline a move
 * cancels, and records nothing; events lists what the ticket accepts now. */
static void test_explain_and_events(void **state)
{
    fx *f = *state;
    char *id = new_ticket(f, "alameda", NULL);

    result r = CF(f, "--now", "2025-01-07T17:00:00Z", "explain", id, "assign");
    expect(&r, 1);
    contains(r.out, "would be rejected");
    contains(r.out, "  FAIL  has_assignee: no assignee given");
    contains(r.out, "a rejection would record, decisive first:\n  no assignee given\n");
    contains(r.out, "nothing was recorded");
    result_free(&r);

    r = CF(f, "--now", "2025-01-07T17:00:00Z", "explain", id, "assign", "--data", "{\"assignee\":\"ana\"}");
    expect(&r, 0);
    contains(r.out, "would apply: open -> assigned");
    contains(r.out, "  pass  has_assignee");
    contains(r.out, "deadlines it would cancel:");
    contains(r.out, "  assigned_on: null -> 2025-01-07");
    result_free(&r);

    r = CF(f, "--json", "--now", "2025-01-07T17:00:00Z", "explain", id, "assign", "--data", "{\"assignee\":\"ana\"}");
    expect(&r, 0);
    json_t *doc = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "applied");
    assert_string_equal(json_string_value(json_object_get(doc, "to_state")), "assigned");
    assert_int_equal(json_array_size(json_object_get(doc, "cancelled")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "fees")), 0);
    json_decref(doc);
    result_free(&r);

    /* Nothing was recorded: one history row (the creation), still open. */
    r = CF(f, "history", id, "--json");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 1);
    json_decref(doc);
    result_free(&r);

    r = CF(f, "--now", "2025-01-07T17:00:00Z", "events", id);
    expect(&r, 0);
    contains(r.out, "event     allowed  to         fired by  why not\n");
    contains(r.out, "assign    no                            no assignee given\n");
    contains(r.out, "close     yes      closed\n");
    contains(r.out, "escalate  yes      escalated  timer\n");
    result_free(&r);

    r = CF(f, "--json", "events", id, "--data", "{\"assignee\":\"ana\"}");
    expect(&r, 0);
    doc = parse_json(&r);
    assert_int_equal(json_array_size(doc), 3);
    assert_true(json_is_true(json_object_get(json_array_get(doc, 0), "allowed")));
    json_decref(doc);
    result_free(&r);

    r = CF(f, "explain", id, "asign");
    expect(&r, 4);
    contains(r.err, "did you mean 'assign'");
    result_free(&r);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_show_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fire_applied_and_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_and_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_time_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_refused_at_the_door, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_guard_reason_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_output_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_old_rows_shown_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_anchor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
