/* test_plugin.c — the plugin host: load errors naming the file and what to do,
 * the engine working on without refused plugins, registration rollback, guards
 * and actions inside the transaction with the plugin's own tables, migrations,
 * events queued by a plugin, unloading only at close, and the documented
 * template plugin (plugins/template) fired through a workflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "internal.h"
#include "sqlite_peek.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLUGINS CF_TEST_PLUGINS
#define SO(name) PLUGINS "/" name ".so"

typedef struct fixture {
    char *dir;   /* temporary folder: database, broken plugin files */
    char *db;
    char *paths; /* options.plugin_dir */
    cft_clock clock;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "plugin.db");
    char *garbage = cft_write(f->dir, "garbage.so", "this is not a shared object\n");
    char *missing = cft_path(f->dir, "missing.so");
    size_t n = strlen(PLUGINS) + strlen(garbage) + strlen(missing) + 8;
    f->paths = malloc(n);
    snprintf(f->paths, n, "%s:%s:%s", PLUGINS, garbage, missing);
    free(garbage);
    free(missing);
    f->clock.now = cft_time("2025-03-01T10:00:00Z");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->db);
    free(f->paths);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static cf_options options(fixture *f, const char *workflows, const char *plugins)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = workflows;
    o.policy_dir = CF_TEST_FIXTURES "/plugin/lua";
    o.plugin_dir = plugins;
    o.plugin_config = "{\"good\": {\"label\": \"north\"}}";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    return o;
}

/* Every plugin in tests/plugins plus a file that is no shared object and one that does not exist. */
static cf_engine *open_all(fixture *f)
{
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/workflows", f->paths);
    cf_engine *e = NULL;
    int rc = cf_engine_open(f->db, &o, &e);
    if (rc != CF_OK)
        fail_msg("open: %s: %s", cf_result_name(rc), cf_errmsg(e));
    return e;
}

typedef struct status_list {
    int n;
    char path[16][512];
    char name[16][64];
    char version[16][32];
    int loaded[16];
    char message[16][CF__MSG_MAX];
} status_list;

static int collect(void *ud, const cf_plugin_status *st)
{
    status_list *l = ud;
    if (l->n == 16)
        return 1;
    snprintf(l->path[l->n], sizeof l->path[0], "%s", st->path);
    snprintf(l->name[l->n], sizeof l->name[0], "%s", st->name);
    snprintf(l->version[l->n], sizeof l->version[0], "%s", st->version);
    snprintf(l->message[l->n], sizeof l->message[0], "%s", st->message);
    l->loaded[l->n] = st->loaded;
    l->n++;
    return 0;
}

/* The status of the plugin whose file ends in `file`; fails if there is none. */
static int find_status(const status_list *l, const char *file)
{
    for (int i = 0; i < l->n; i++) {
        size_t a = strlen(l->path[i]), b = strlen(file);
        if (a >= b && strcmp(l->path[i] + a - b, file) == 0)
            return i;
    }
    fail_msg("no plugin status for %s", file);
    return -1;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected \"%s\" in: %s", part, text);
}

static void assert_refused(const status_list *l, const char *file, const char *part)
{
    int i = find_status(l, file);
    assert_int_equal(l->loaded[i], 0);
    assert_contains(l->message[i], file); /* every message names the file */
    assert_contains(l->message[i], part);
}

static int64_t query_int(cf_engine *e, const char *sql)
{
    return cft_sql_int(cf__store_path(e->store), sql, NULL);
}

static void get_data(cf_engine *e, const char *id, char *buf, size_t size)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    snprintf(buf, size, "%s", info.data);
}

static void test_load_errors_name_file_and_fix(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    status_list l = {0};
    assert_int_equal(cf_plugin_list(e, collect, &l), CF_OK);
    assert_int_equal(l.n, 11);

    int good = find_status(&l, "/good.so");
    assert_int_equal(l.loaded[good], 1);
    assert_string_equal(l.name[good], "good");
    assert_string_equal(l.version[good], "2.1.0");
    assert_string_equal(l.message[good], "");
    assert_int_equal(l.loaded[find_status(&l, "/dup_a.so")], 1);

    assert_refused(&l, "/bad_abi.so",
                   "built for plugin ABI 2, this engine speaks ABI 1: rebuild it against include/certflow/plugin.h "
                   "of certflow " CF_VERSION_STRING " (CF_PLUGIN_ABI_VERSION 1), or upgrade certflow");
    assert_refused(&l, "/no_info.so", "not a certflow plugin: it exports no certflow_plugin_info function (hint:");
    assert_refused(&l, "/failing_init.so",
                   "certflow_plugin_init of plugin 'failing_init' failed: cannot reach the fee service at "
                   "fees.example");
    assert_refused(&l, "/failing_init.so", "its registrations were rolled back and the engine runs without it");
    assert_refused(&l, "/dup_b.so",
                   "action 'dup_action' is already registered by plugin 'dup_a' (" PLUGINS "/dup_a.so); rename one");
    assert_refused(&l, "/dup_twice.so", "guard 'twice_guard' is registered twice by this plugin");
    assert_refused(&l, "/clash.so",
                   "action 'increment' is also defined by the state policy's assigns table; a name may be defined "
                   "once: rename one of them");
    assert_refused(&l, "/bad_migration.so",
                   "migration 1 of plugin 'bad_migration' failed: table 'outbox' is not this plugin's: plugin "
                   "'bad_migration' may only use tables and indexes named bad_migration_...");
    assert_refused(&l, "/garbage.so", "cannot be loaded: ");
    assert_refused(&l, "/garbage.so", "check `ldd -r");
    assert_refused(&l, "/missing.so", "no such plugin file");

    /* Registrations of refused plugins were rolled back; the others stay. */
    assert_true(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "good_log") >= 0);
    assert_true(cf__plugins_find(e->plugins, CF__ROLE_GUARD, "good_has_amount") >= 0);
    assert_true(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "dup_a_own") >= 0);
    assert_true(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "dup_action") >= 0);
    assert_int_equal(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "failing_action"), -1);
    assert_int_equal(cf__plugins_find(e->plugins, CF__ROLE_GUARD, "failing_guard"), -1);
    assert_int_equal(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "dup_b_own"), -1);
    assert_int_equal(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "bad_migration_action"), -1);
    assert_int_equal(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "increment"), -1);
    /* A failed migration keeps nothing: not its own table, and the engine's is intact. */
    assert_int_equal(query_int(e, "SELECT count(*) FROM sqlite_master WHERE name = 'bad_migration_ok'"), 0);
    assert_int_equal(query_int(e, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox'"), 1);
    assert_int_equal(query_int(e, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'failing_init%'"), 0);
    cf_engine_close(e);
}

/* Issue 8: a plugin guard's reason that is not UTF-8 fails the fire, naming the guard; nothing is recorded. */
static void test_plugin_guard_reason_must_be_utf8(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    char id[37];
    assert_int_equal(cf_instance_create(e, "order", "alameda", NULL, "t", id), CF_OK);
    assert_int_equal(cf_instance_fire(e, id, "pay", "{\"bad_reason\": true}", "t", NULL, NULL), CF_EPLUGIN);
    assert_contains(cf_errmsg(e), "guard 'good_has_amount' of plugin 'good'");
    assert_contains(cf_errmsg(e), "its reason is not valid UTF-8 (byte 0xFF at offset 3)");
    assert_int_equal(cft_history_count(e, id), 1);
    cf_engine_close(e);
}

static void test_engine_works_without_refused_plugins(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    char id[37], data[1024];
    assert_int_equal(cf_instance_create(e, "order", "alameda", NULL, "t", id), CF_OK);
    /* A plugin guard says no: recorded with its reason. */
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, id, "pay", NULL, "t", NULL, &r), CF_REJECTED);
    assert_string_equal(r.reasons, "[\"no amount given\"]");
    /* The plugin action and the policy's entry action both run. */
    cft_fire(e, id, "pay", "{\"amount\": 100}", CF_OK);
    assert_string_equal(cft_state(e, id), "paid");
    get_data(e, id, data, sizeof data);
    assert_contains(data, "\"logged\":1");
    assert_contains(data, "\"last_event\":\"pay\"");
    assert_contains(data, "\"label\":\"north\""); /* its configuration */
    assert_contains(data, "\"count\":1");         /* the policy's increment */
    char at[32];
    snprintf(at, sizeof at, "\"at\":%lld", (long long)f->clock.now); /* the event's time */
    assert_contains(data, at);
    assert_int_equal(query_int(e, "SELECT sum(amount) FROM good_ledger"), 100);
    cf_engine_close(e);
}

static void test_workflow_naming_missing_action_fails(void **state)
{
    fixture *f = *state;
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/missing", SO("failing_init") ":" SO("good"));
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_EWORKFLOW);
    assert_contains(cf_errmsg(e), "uses_failing.lua: transitions[1].actions[1]: unknown action 'failing_action'");
    assert_contains(cf_errmsg(e), "note: plugins refused at open, one of which may provide it: " SO("failing_init"));
    assert_contains(cf_errmsg(e), "cannot reach the fee service");
    /* The refusal is still there to read on the handle whose open failed. */
    status_list l = {0};
    assert_int_equal(cf_plugin_list(e, collect, &l), CF_OK);
    assert_int_equal(l.n, 2);
    cf_engine_close(e);

    /* Without any plugin the message names the action all the same. */
    o.plugin_dir = NULL;
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_EWORKFLOW);
    assert_contains(cf_errmsg(e), "unknown action 'failing_action' (hint: define it in the state policy's assigns "
                                  "table, or load the plugin that provides it)");
    cf_engine_close(e);
}

static void test_duplicate_name_first_plugin_keeps_it(void **state)
{
    fixture *f = *state;
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/dup", SO("dup_b") ":" SO("dup_a"));
    cf_engine *e = NULL;
    /* Load order is the list's: dup_b first, so dup_a is the one refused. */
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_OK);
    status_list l = {0};
    cf_plugin_list(e, collect, &l);
    assert_refused(&l, "/dup_a.so", "action 'dup_action' is already registered by plugin 'dup_b'");
    char id[37], data[256];
    assert_int_equal(cf_instance_create(e, "uses_dup", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "go", NULL, CF_OK);
    get_data(e, id, data, sizeof data);
    assert_string_equal(data, "{\"dup_by\":\"dup_b\"}");
    cf_engine_close(e);
}


/* "good" owns the tables named good_...: a plugin named good_extra would reach them. */
static void test_nested_plugin_names_are_refused(void **state)
{
    fixture *f = *state;
    cf_options o = options(f, NULL, SO("good") ":" PLUGINS "/nested/good_extra.so");
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_OK);
    status_list l = {0};
    cf_plugin_list(e, collect, &l);
    assert_int_equal(l.loaded[find_status(&l, "/good.so")], 1);
    assert_refused(&l, "/good_extra.so", "plugin 'good_extra' and plugin 'good' (loaded from");
    assert_refused(&l, "/good_extra.so", "would share tables");
    cf_engine_close(e);
}

static void test_failed_action_rolls_back_plugin_writes(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    char id[37], before[1024], after[1024];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "pay", "{\"amount\": 40}", CF_OK);
    int history = cft_history_count(e, id);
    get_data(e, id, before, sizeof before);
    assert_int_equal(query_int(e, "SELECT count(*) FROM good_ledger"), 1);

    /* good_log writes a row, then good_fail writes one and fails: both go. */
    assert_int_equal(cf_instance_fire(e, id, "fail", "{\"amount\": 7}", "t", NULL, NULL), CF_EACTION);
    assert_contains(cf_errmsg(e), "event 'fail' on instance");
    assert_contains(cf_errmsg(e), "rolled back: action 'good_fail' of plugin 'good' (" SO("good")
                                  ") failed: the ledger refused the entry");
    assert_int_equal(query_int(e, "SELECT count(*) FROM good_ledger"), 1);
    assert_string_equal(cft_state(e, id), "paid");
    assert_int_equal(cft_history_count(e, id), history);
    get_data(e, id, after, sizeof after);
    assert_string_equal(before, after);

    /* A guard reading the plugin's table, beside a policy guard. */
    cft_fire(e, id, "check", NULL, CF_OK);
    assert_string_equal(cft_state(e, id), "closed");
    char other[37];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", other), CF_OK);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, other, "check", NULL, "t", NULL, &r), CF_REJECTED);
    assert_string_equal(r.reasons, "[\"the ledger is empty\"]");
    cf_engine_close(e);
}

static void test_plugin_sql_confined_to_own_tables(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    char id[37];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "pay", "{\"amount\": 1}", CF_OK);

    assert_int_equal(cf_instance_fire(e, id, "touch", NULL, "t", NULL, NULL), CF_EACTION);
    assert_contains(cf_errmsg(e), "action 'good_touch' of plugin 'good'");
    assert_contains(cf_errmsg(e), "table 'instance' is not this plugin's: plugin 'good' may only use tables and "
                                  "indexes named good_...");
    assert_string_equal(cft_state(e, id), "paid");

    assert_int_equal(cf_instance_fire(e, id, "guard_write", NULL, "t", NULL, NULL), CF_EPLUGIN);
    assert_contains(cf_errmsg(e), "guard 'good_guard_writes' of plugin 'good'");
    assert_contains(cf_errmsg(e), "a guard may only read its tables; write in an action instead");
    assert_int_equal(query_int(e, "SELECT count(*) FROM good_ledger"), 1);

    /* OR ROLLBACK would end the engine's transaction: the transition fails instead of going on half done. */
    assert_int_equal(cf_instance_fire(e, id, "or_rollback", NULL, "t", NULL, NULL), CF_EACTION);
    assert_contains(cf_errmsg(e), "ended the transition's transaction");
    assert_string_equal(cft_state(e, id), "paid");
    assert_int_equal(query_int(e, "SELECT count(*) FROM good_ledger"), 1);
    /* ... and the engine goes on working. */
    cft_fire(e, id, "pay", "{\"amount\": 2}", CF_OK);
    assert_int_equal(query_int(e, "SELECT sum(amount) FROM good_ledger"), 3);
    cf_verify_report v = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &v), CF_OK);
    cf_engine_close(e);
}

static void test_migrations_run_once_in_same_database(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    assert_int_equal(query_int(e, "SELECT version FROM plugin_schema WHERE plugin = 'good'"), 2);
    assert_int_equal(query_int(e, "SELECT count(*) FROM sqlite_master WHERE name = 'good_ledger_by_instance'"), 1);
    char id[37];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "pay", "{\"amount\": 5}", CF_OK);
    int64_t migrated_at = query_int(e, "SELECT migrated_at FROM plugin_schema WHERE plugin = 'good'");
    cf_engine_close(e);

    f->clock.now += 3600;
    e = open_all(f); /* running version 1 again would fail: good_ledger exists */
    status_list l = {0};
    cf_plugin_list(e, collect, &l);
    assert_int_equal(l.loaded[find_status(&l, "/good.so")], 1);
    assert_int_equal(query_int(e, "SELECT migrated_at FROM plugin_schema WHERE plugin = 'good'"), migrated_at);
    assert_int_equal(query_int(e, "SELECT sum(amount) FROM good_ledger"), 5);
    cf_engine_close(e);

    /* A database migrated further than this build of the plugin knows: refused. */
    assert_true(cft_sql_tamper(f->db, "UPDATE plugin_schema SET version = 3 WHERE plugin = 'good'"));
    cf_options o = options(f, NULL, SO("good"));
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_OK);
    memset(&l, 0, sizeof l);
    cf_plugin_list(e, collect, &l);
    assert_refused(&l, "/good.so", "the database is at schema version 3 of plugin 'good', but this build of the "
                                   "plugin (version 2.1.0) knows only up to 2: use the newer build of the plugin");
    assert_int_equal(cf__plugins_find(e->plugins, CF__ROLE_ASSIGN, "good_log"), -1);
    cf_engine_close(e);
}

static void test_plugin_queues_event_to_other_instance(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    char a[37], b[37], data[512];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", b), CF_OK);
    snprintf(data, sizeof data, "{\"peer\": \"%s\"}", b);
    assert_int_equal(cf_instance_create(e, "order", "kern", data, "t", a), CF_OK);
    cft_fire(e, a, "pay", "{\"amount\": 1}", CF_OK);
    cft_fire(e, a, "poke", NULL, CF_OK);
    /* Delivered after the commit, as its own transition of b. */
    get_data(e, b, data, sizeof data);
    assert_contains(data, "\"entries\":1");
    char from[64];
    snprintf(from, sizeof from, "\"last_from\":\"%s\"", a);
    assert_contains(data, from);
    assert_int_equal(query_int(e, "SELECT count(*) FROM outbox"), 0);

    /* An event the target's workflow does not know is refused at once, not queued forever. */
    assert_int_equal(cf_instance_fire(e, a, "poke_bad", NULL, "t", NULL, NULL), CF_EACTION);
    assert_contains(cf_errmsg(e), "send: workflow 'order' of instance");
    assert_contains(cf_errmsg(e), "has no event 'no_such_event'");
    assert_int_equal(query_int(e, "SELECT count(*) FROM outbox"), 0);
    cf_engine_close(e);
}

static void test_plugins_unloaded_only_at_close(void **state)
{
    fixture *f = *state;
    cf_engine *e = open_all(f);
    /* Loaded and refused plugins alike stay mapped while the engine is open. */
    const char *paths[] = {SO("good"), SO("failing_init"), SO("bad_abi")};
    for (size_t i = 0; i < 3; i++) {
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_NOLOAD);
        if (!h)
            fail_msg("%s is not loaded while the engine is open", paths[i]);
        dlclose(h);
    }
    char id[37];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "pay", "{\"amount\": 3}", CF_OK);
    cf_engine_close(e);
    for (size_t i = 0; i < 3; i++) {
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_NOLOAD);
        if (h) {
            dlclose(h);
            fail_msg("%s is still loaded after cf_engine_close", paths[i]);
        }
    }
}

static void test_two_engines_share_a_plugin(void **state)
{
    fixture *f = *state;
    cf_engine *e1 = open_all(f);
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/workflows", SO("good"));
    cf_engine *e2 = NULL;
    char *db2 = cft_path(f->dir, "second.db");
    assert_int_equal(cf_engine_open(db2, &o, &e2), CF_OK);
    char id1[37], id2[37];
    assert_int_equal(cf_instance_create(e1, "order", "kern", NULL, "t", id1), CF_OK);
    assert_int_equal(cf_instance_create(e2, "order", "kern", NULL, "t", id2), CF_OK);
    cf_engine_close(e1); /* e2's plugin stays loaded and working */
    cft_fire(e2, id2, "pay", "{\"amount\": 9}", CF_OK);
    assert_int_equal(query_int(e2, "SELECT sum(amount) FROM good_ledger"), 9);
    cf_engine_close(e2);
    free(db2);
}

typedef struct log_sink {
    int n;
    char text[8][256];
} log_sink;

static void on_log(void *ud, int level, const char *source, const char *message)
{
    log_sink *s = ud;
    if (s->n < 8)
        snprintf(s->text[s->n++], sizeof s->text[0], "%d %s: %s", level, source, message);
}

static void test_config_and_log(void **state)
{
    fixture *f = *state;
    log_sink sink = {0};
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/workflows", SO("good"));
    o.log = on_log;
    o.log_ud = &sink;
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(":memory:", &o, &e), CF_OK);
    char id[37];
    assert_int_equal(cf_instance_create(e, "order", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "pay", "{\"amount\": 1}", CF_OK);
    cf_engine_close(e);
    assert_int_equal(sink.n, 2);
    assert_string_equal(sink.text[0], "1 plugin good: loaded with label north");
    assert_string_equal(sink.text[1], "1 plugin good: logged an entry");

    o.log = NULL;
    o.plugin_config = "{\"good\": ";
    assert_int_equal(cf_engine_open(":memory:", &o, &e), CF_EJSON);
    assert_contains(cf_errmsg(e), "loading plugins: options.plugin_config is not valid JSON");
    cf_engine_close(e);

    o.workflow_dir = NULL;
    o.plugin_config = "{\"good\": 3}";
    assert_int_equal(cf_engine_open(":memory:", &o, &e), CF_OK);
    status_list l = {0};
    cf_plugin_list(e, collect, &l);
    assert_refused(&l, "/good.so", "plugin 'good': its member of options.plugin_config must be a JSON object");
    cf_engine_close(e);
}

static int count_diag(void *ud, const cf_diagnostic *d)
{
    (void)d;
    ++*(int *)ud;
    return 0;
}

static void test_check_reports_refused_plugins(void **state)
{
    fixture *f = *state;
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/workflows", f->paths);
    int seen = 0, problems = 0;
    assert_int_equal(cf_check(&o, count_diag, &seen, &problems), CF_EPLUGIN);
    /* All refusals but bad_migration's: cf_check opens no database, so runs no migration. */
    assert_int_equal(problems, 8);
    assert_int_equal(seen, 8);
    o.plugin_dir = SO("good");
    assert_int_equal(cf_check(&o, count_diag, &seen, &problems), CF_OK);
    assert_int_equal(problems, 0);
}

/* The host table's last member tells a plugin which SQL dialect the store speaks
 * (docs/plugins.md, "Your SQL on another backend"). */
static void test_host_reports_sql_dialect(void **state)
{
    fixture *f = *state;
    log_sink sink = {0};
    cf_options o = options(f, NULL, PLUGINS "/nested/dialect.so");
    o.log = on_log;
    o.log_ud = &sink;
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_OK);
    cf_engine_close(e);
    assert_int_equal(sink.n, 1);
    assert_string_equal(sink.text[0], "1 plugin dialect: sql dialect: sqlite");
}

/* A plugin's name prefixes its tables: no name may reach one of the engine's. */
static void test_reserved_names_cover_engine_tables(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "names.db");
    cf_engine *e = NULL;
    assert_int_equal(cf_engine_open(db, NULL, &e), CF_OK);
    char *names = cft_sql_column(db, "SELECT name FROM sqlite_master");
    int n = 0;
    for (char *line = names, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        *end = '\0';
        char word[128];
        snprintf(word, sizeof word, "%s", line);
        char *us = strchr(word, '_');
        if (us)
            *us = '\0';
        if (!cf__plugin_name_reserved(word))
            fail_msg("engine table %s: add '%s' to reserved_names in engine/plugin/plugin.c", line, word);
        n++;
    }
    free(names);
    assert_true(n > 5);
    assert_true(cf__plugin_name_reserved("plugin"));     /* plugin_schema */
    assert_true(cf__plugin_name_reserved("instance_by")); /* instance_by_county */
    assert_false(cf__plugin_name_reserved("fees"));
    assert_false(cf__plugin_name_reserved("timers"));
    cf_engine_close(e);
    free(db);
    cft_rmtree(dir);
}

/* docs/plugins.md quotes plugins/template/template.c; this builds it and fires it. */
static void test_template_plugin_documented_example(void **state)
{
    fixture *f = *state;
    cf_options o = options(f, CF_TEST_FIXTURES "/plugin/template", CF_TEMPLATE_PLUGIN);
    o.policy_dir = NULL;
    o.plugin_config = "{\"template\": {\"min_records\": 2}}";
    cf_engine *e = NULL;
    int rc = cf_engine_open(f->db, &o, &e);
    if (rc != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    char id[37], data[256];
    assert_int_equal(cf_instance_create(e, "doc", "kern", NULL, "t", id), CF_OK);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, id, "publish", NULL, "t", NULL, &r), CF_REJECTED);
    assert_string_equal(r.reasons, "[\"0 of 2 records so far\"]");
    cft_fire(e, id, "note", NULL, CF_OK);
    cft_fire(e, id, "note", NULL, CF_OK);
    get_data(e, id, data, sizeof data);
    assert_string_equal(data, "{\"template_records\":2}");
    cft_fire(e, id, "publish", NULL, CF_OK);
    assert_string_equal(cft_state(e, id), "published");
    get_data(e, id, data, sizeof data);
    assert_string_equal(data, "{\"template_records\":3}");
    assert_int_equal(query_int(e, "SELECT count(*) FROM template_records WHERE event = 'publish'"), 1);
    cf_engine_close(e);

    o.plugin_config = "{\"template\": {\"min_records\": \"lots\"}}";
    o.workflow_dir = NULL;
    assert_int_equal(cf_engine_open(f->db, &o, &e), CF_OK);
    status_list l = {0};
    cf_plugin_list(e, collect, &l);
    assert_refused(&l, "/template.so", "min_records must be a whole number, 0 or more");
    cf_engine_close(e);
}

/* A FIFO given as a plugin made dlopen wait for a writer forever; a device
 * would be read without end. Refused before dlopen, naming the file and what
 * it is; one in a plugin folder is not taken for a plugin. An alarm turns a
 * hang into a failure. */
static void test_non_regular_plugin_files_are_refused(void **state)
{
    fixture *f = *state;
    char *fifo = cft_path(f->dir, "fifo.so");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    char *folder = cft_path(f->dir, "plugins");
    assert_int_equal(mkdir(folder, 0700), 0);
    char *inner = cft_path(folder, "x.so");
    assert_int_equal(mkfifo(inner, 0600), 0);
    size_t n = strlen(fifo) + strlen(folder) + strlen(SO("good")) + 32;
    char *paths = malloc(n);
    snprintf(paths, n, "%s:/dev/null:%s:%s", fifo, folder, SO("good"));
    alarm(60);
    cf_options o = options(f, NULL, paths);
    cf_engine *e = NULL;
    int rc = cf_engine_open(f->db, &o, &e);
    if (rc != CF_OK)
        fail_msg("open: %s: %s", cf_result_name(rc), cf_errmsg(e));
    status_list l;
    memset(&l, 0, sizeof l);
    assert_int_equal(cf_plugin_list(e, collect, &l), CF_OK);
    alarm(0);
    assert_refused(&l, fifo, "is a FIFO (named pipe), not a plugin file");
    assert_refused(&l, "/dev/null", "is a character device, not a plugin file");
    for (int i = 0; i < l.n; i++)
        assert_null(strstr(l.path[i], "x.so")); /* the folder's FIFO is no plugin */
    assert_int_equal(l.loaded[find_status(&l, "good.so")], 1);
    cf_engine_close(e);
    free(paths);
    free(inner);
    free(folder);
    free(fifo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_errors_name_file_and_fix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_works_without_refused_plugins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_guard_reason_must_be_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workflow_naming_missing_action_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_name_first_plugin_keeps_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_plugin_names_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_action_rolls_back_plugin_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_sql_confined_to_own_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_run_once_in_same_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_queues_event_to_other_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugins_unloaded_only_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_engines_share_a_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_and_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_reports_refused_plugins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_regular_plugin_files_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_reports_sql_dialect, setup, teardown),
        cmocka_unit_test(test_reserved_names_cover_engine_tables),
        cmocka_unit_test_setup_teardown(test_template_plugin_documented_example, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
