/* test_engine.c — the engine handle: opening with good and bad inputs, result
 * codes, definitions by content hash, check, graph, and verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "sqlite_peek.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_result_table(void **state)
{
    (void)state;
    assert_string_equal(cf_result_name(CF_OK), "CF_OK");
    assert_string_equal(cf_result_name(CF_EJSON), "CF_EJSON");
    assert_string_equal(cf_strerror(CF_EJSON), "malformed JSON");
    assert_string_equal(cf_result_name(999), "CF_UNKNOWN");
    assert_string_equal(cf_strerror(-5), "unknown result code");
    assert_non_null(strstr(cf_errmsg(NULL), "no engine handle"));
    assert_int_equal(cf_engine_close(NULL), CF_OK);
}

static void test_open_memory_without_workflows(void **state)
{
    (void)state;
    cf_engine *e = NULL;
    assert_int_equal(cft_engine_open(":memory:", NULL, &e), CF_OK);
    assert_string_equal(cf_errmsg(e), "");
    char id[37];
    assert_int_equal(cf_instance_create(e, "certification", "kern", NULL, "t", id), CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(e), "check options.workflow_dir"));
    cf_engine_close(e);
}

static void expect_open_failure(const cf_options *o, int expect_rc, const char *fragment)
{
    cf_engine *e = NULL;
    int rc = cft_engine_open(":memory:", o, &e);
    assert_non_null(e);
    if (rc != expect_rc || !strstr(cf_errmsg(e), fragment))
        fail_msg("expected %s with '%s', got %s: %s", cf_result_name(expect_rc), fragment, cf_result_name(rc),
                 cf_errmsg(e));
    /* A failed handle refuses every call and keeps its message. */
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), expect_rc);
    assert_non_null(strstr(cf_errmsg(e), fragment));
    cf_engine_close(e);
}

static void test_open_failures_name_the_cause(void **state)
{
    (void)state;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = "/nonexistent/workflows";
    expect_open_failure(&o, CF_EIO, "cannot open folder /nonexistent/workflows");

    char *dir = cft_tmpdir();
    free(cft_write(dir, "workflows/broken.lua", "return { name = 'broken', initial = 'a', events = {},"
                                                "states = { a = {} }, transitions = {}, bogus = 1 }"));
    char *wdir = cft_path(dir, "workflows");
    o.workflow_dir = wdir;
    o.policy_dir = NULL;
    expect_open_failure(&o, CF_EWORKFLOW, "broken.lua");

    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = NULL; /* the permit's guards are then defined nowhere */
    expect_open_failure(&o, CF_EWORKFLOW, "unknown action 'count_entry'");

    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.time_zone = "not a zone";
    expect_open_failure(&o, CF_EINVAL, "options.time_zone");

    cf_options unsized = CF_OPTIONS_INIT;
    unsized.size = 0;
    expect_open_failure(&unsized, CF_EINVAL, "CF_OPTIONS_INIT");
    free(wdir);
    cft_rmtree(dir);
}

static void test_definitions_are_versioned_by_content(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "v.db");
    char *permit = cft_slurp(CF_TEST_FIXTURES "/engine/workflows/permit.lua");
    char *ledger = cft_slurp(CF_TEST_FIXTURES "/engine/workflows/ledger.lua");
    free(cft_write(dir, "wf/permit.lua", permit));
    free(cft_write(dir, "wf/ledger.lua", ledger));
    char *wdir = cft_path(dir, "wf");
    cft_clock clock = {cft_time("2025-01-06T17:00:00Z")};
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = wdir;
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &clock;

    cf_engine *e = NULL;
    assert_int_equal(cft_engine_open(db, &o, &e), CF_OK);
    char old_id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", old_id), CF_OK);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, old_id, &info), CF_OK);
    char old_hash[65];
    snprintf(old_hash, sizeof old_hash, "%s", info.definition);
    cf_engine_close(e);

    /* A new version of the file: a comment changes the content hash; 'deny' now goes to a new state. */
    const char *from = "{ from = \"pending\", event = \"deny\", to = \"denied\" }";
    const char *to = "{ from = \"pending\", event = \"deny\", to = \"expired\" },"
                     "{ from = \"expired\", event = \"deny\", to = \"denied\" }";
    char *p = strstr(permit, from);
    assert_non_null(p);
    char *edited = malloc(strlen(permit) + 200);
    sprintf(edited, "-- version 2\n%.*s%s%s", (int)(p - permit), permit, to, p + strlen(from));
    free(cft_write(dir, "wf/permit.lua", edited));

    if (cft_engine_open(db, &o, &e) != CF_OK)
        fail_msg("reopen: %s", cf_errmsg(e));
    char new_id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", new_id), CF_OK);
    assert_int_equal(cf_instance_get(e, new_id, &info), CF_OK);
    assert_string_not_equal(info.definition, old_hash);
    /* The old instance still runs on the definition it began with. */
    assert_int_equal(cf_instance_get(e, old_id, &info), CF_OK);
    assert_string_equal(info.definition, old_hash);
    cft_fire(e, old_id, "deny", NULL, CF_OK);
    assert_string_equal(cft_state(e, old_id), "denied");
    cft_fire(e, new_id, "deny", NULL, CF_OK);
    assert_string_equal(cft_state(e, new_id), "expired");
    cf_engine_close(e);
    free(edited);
    free(permit);
    free(ledger);
    free(wdir);
    free(db);
    cft_rmtree(dir);
}

static void test_verify_finds_an_edited_row(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "audit.db");
    cft_clock clock = {cft_time("2025-01-06T17:00:00Z")};
    cf_engine *e = cft_open_fixture(db, &clock);
    /* the backend the runner chose is the one the engine reports */
    assert_string_equal(cf_engine_backend(e), cft_pg() ? "postgresql" : "sqlite");
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "bump", NULL, CF_OK);
    cft_fire(e, id, "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_int_equal(rep.rows, 3);
    assert_int_equal(rep.first_bad, 0);

    /* Someone edits row 2 behind the engine's back. */
    if (cft_pg())
        assert_true(cft_pg_sql(db, "ALTER TABLE certflow.history DISABLE TRIGGER history_no_change;"
                                   "UPDATE certflow.history SET actor = 'mallory' WHERE seq = 2"));
    else
        assert_true(cft_sql_tamper(db, "DROP TRIGGER IF EXISTS history_no_update;"
                                       "UPDATE history SET actor = 'mallory' WHERE seq = 2"));

    assert_int_equal(cf_engine_verify(e, &rep), CF_ECORRUPT);
    assert_int_equal(rep.first_bad, 2);
    assert_non_null(strstr(cf_errmsg(e), "row 2"));
    cf_engine_close(e);
    free(db);
    cft_rmtree(dir);
}

typedef struct diags {
    int n;
    char text[4096];
} diags;

static int collect_diag(void *ud, const cf_diagnostic *d)
{
    diags *c = ud;
    c->n++;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s\n", d->message);
    return 0;
}

static void test_check_without_a_database(void **state)
{
    (void)state;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    diags d = {0, ""};
    int problems = -1;
    assert_int_equal(cf_check(&o, collect_diag, &d, &problems), CF_OK);
    assert_int_equal(problems, 0);

    char *dir = cft_tmpdir();
    free(cft_write(dir, "wf/a.lua", "return { name = 'a', initial = 'x', events = { 'go' }, states = { x = {} },"
                                    " transitions = { { from = 'x', event = 'go', to = 'y' } } }"));
    free(cft_write(dir, "wf/b.lua", "return { name = "));
    char *wdir = cft_path(dir, "wf");
    o.workflow_dir = wdir;
    assert_int_equal(cf_check(&o, collect_diag, &d, &problems), CF_EWORKFLOW);
    assert_int_equal(problems, 2);
    assert_non_null(strstr(d.text, "a.lua"));
    assert_non_null(strstr(d.text, "b.lua"));
    free(wdir);
    cft_rmtree(dir);
}


/* Two files may not define one workflow: open stops, check reports it, both say which files. */
static void test_duplicate_workflow_names(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    const char *wf = "return { name = 'twin', initial = 'a', events = { 'go' }, states = { a = {}, b = { terminal = true } },"
                     " transitions = { { from = 'a', event = 'go', to = 'b' } } }";
    free(cft_write(dir, "wf/one.lua", wf));
    free(cft_write(dir, "wf/two.lua", wf));
    char *wdir = cft_path(dir, "wf");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = wdir;
    cf_engine *e = NULL;
    assert_int_equal(cft_engine_open(":memory:", &o, &e), CF_EWORKFLOW);
    assert_non_null(strstr(cf_errmsg(e), "two.lua: name: workflow 'twin' is also defined by"));
    assert_non_null(strstr(cf_errmsg(e), "one.lua (hint: give each workflow its own name)"));
    cf_engine_close(e);
    diags d = {0, ""};
    int problems = 0;
    assert_int_equal(cf_check(&o, collect_diag, &d, &problems), CF_EWORKFLOW);
    assert_int_equal(problems, 1);
    assert_non_null(strstr(d.text, "workflow 'twin' is also defined by"));
    free(wdir);
    cft_rmtree(dir);
}

static int collect_name(void *ud, const char *name)
{
    strcat((char *)ud, name);
    strcat((char *)ud, " ");
    return 0;
}

static void test_names_and_graph(void **state)
{
    (void)state;
    cft_clock clock = {0};
    cf_engine *e = cft_open_fixture(":memory:", &clock);
    char names[128] = "";
    assert_int_equal(cf_workflow_names(e, collect_name, names), CF_OK);
    assert_string_equal(names, "ledger permit ");
    char *dot = NULL;
    assert_int_equal(cf_workflow_dot(e, "permit", &dot), CF_OK);
    assert_non_null(dot);
    assert_non_null(strstr(dot, "digraph"));
    assert_non_null(strstr(dot, "pending"));
    cf_free(dot);
    assert_int_equal(cf_workflow_dot(e, "nope", &dot), CF_ENOTFOUND);
    cf_engine_close(e);
}


/* A failed open leaves no trace: a database it created is gone, one that existed stays as it was. */
static void test_failed_open_leaves_no_new_database(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    free(cft_write(dir, "wf/broken.lua", "return { name = 'broken' }"));
    char *wdir = cft_path(dir, "wf");
    char *db = cft_path(dir, "new.db");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = wdir;
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(db, &o, &e), CF_EWORKFLOW);
    cf_engine_close(e);
    assert_int_equal(access(db, F_OK), -1);
    char *wal = cft_path(dir, "new.db-wal");
    assert_int_equal(access(wal, F_OK), -1);
    /* An existing database is kept. */
    cf_options good = CF_OPTIONS_INIT;
    assert_int_equal(cf_engine_open(db, &good, &e), CF_OK);
    cf_engine_close(e);
    assert_int_equal(cf_engine_open(db, &o, &e), CF_EWORKFLOW);
    cf_engine_close(e);
    assert_int_equal(access(db, F_OK), 0);
    free(wal);
    free(db);
    free(wdir);
    cft_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_table),
        cmocka_unit_test(test_open_memory_without_workflows),
        cmocka_unit_test(test_open_failures_name_the_cause),
        cmocka_unit_test(test_failed_open_leaves_no_new_database),
        cmocka_unit_test(test_definitions_are_versioned_by_content),
        cmocka_unit_test(test_verify_finds_an_edited_row),
        cmocka_unit_test(test_check_without_a_database),
        cmocka_unit_test(test_duplicate_workflow_names),
        cmocka_unit_test(test_names_and_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
