/*
 * test_pg_backend.c — the PostgreSQL backend's own behaviour, on a real server
 * (run by ctest under scripts/pg-test-cluster.sh, label "pg"): the refusals at open
 * (no server, another program's schema, a newer schema, a role that may only read),
 * a server that drops the connection mid-transaction or restarts, several engine processes
 * firing and ticking at the same instances, and engine processes killed with SIGKILL
 * while they write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const cf_time START = 1736208000; /* 2025-01-07T00:00:00Z */

static cf_options fixture_options(cft_clock *clock)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.clock = cft_clock_now;
    o.clock_ud = clock;
    o.busy_timeout_ms = 30000;
    o.lua_time_limit_ms = 600000;
    return o;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected \"%s\" in: %s", part, text);
}

/* Open on uri (a connection string, used as it is) and expect code with message parts. */
static void assert_open_fails(const char *uri, bool read_only, int code, const char *part1, const char *part2)
{
    cft_clock clock = {START};
    cf_options o = fixture_options(&clock);
    o.read_only = read_only;
    cf_engine *e = NULL;
    int rc = cf_engine_open(uri, &o, &e);
    if (rc != code)
        fail_msg("open %s: got %s, expected %s: %s", uri, cf_result_name(rc), cf_result_name(code), cf_errmsg(e));
    assert_contains(cf_errmsg(e), part1);
    if (part2)
        assert_contains(cf_errmsg(e), part2);
    cf_engine_close(e);
}

static void test_refused_connection(void **state)
{
    (void)state;
    assert_open_fails("postgresql://nobody@/certflow?host=/nonexistent-folder&connect_timeout=2", false, CF_EIO,
                      "cannot connect to PostgreSQL", "nothing was changed");
}

static void test_another_programs_schema(void **state)
{
    (void)state;
    const char *db = cft_db("other.db");
    assert_true(cft_pg_sql("other.db", "CREATE SCHEMA certflow; CREATE TABLE certflow.things(x integer)"));
    assert_open_fails(db, false, CF_ESCHEMA, "another program", "nothing was changed");
    /* Nothing was added to it. */
    assert_true(cft_pg_sql("other.db", "DO $$BEGIN IF to_regclass('certflow.schema_version') IS NOT NULL"
                                       " OR to_regclass('certflow.history') IS NOT NULL"
                                       " THEN RAISE EXCEPTION 'changed'; END IF; END$$"));
}

static void test_newer_schema(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("newer.db", &clock);
    cf_engine_close(e);
    assert_true(cft_pg_sql("newer.db", "UPDATE certflow.schema_version SET version = 99"));
    assert_open_fails(cft_db("newer.db"), false, CF_ESCHEMA, "newer certflow (schema 99", "upgrade certflow");
    assert_open_fails(cft_db("newer.db"), true, CF_ESCHEMA, "newer certflow", NULL);
}

/* Schema 5 (webhook subscriptions): a version-4 database with data gets
 * certflow.webhook, empty, its rows untouched; the cf_webhook_* calls work on it. */
static int count_hooks(void *ud, const cf_webhook_info *w)
{
    int64_t *cursor = ud;
    *cursor = w->cursor;
    return 0;
}

static void test_schema_5_webhooks(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("hooks.db", &clock);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    cf_engine_close(e);
    assert_true(cft_pg_sql("hooks.db", "DROP TABLE certflow.webhook; UPDATE certflow.schema_version SET version = 4"));
    e = cft_open_fixture("hooks.db", &clock);
    assert_int_equal(cft_history_count(e, id), 1);
    char secret[CF_WEBHOOK_SECRET_SIZE];
    assert_int_equal(cf_webhook_create(e, "kern-hr", "kern", "https://hr.example.org/", -1, "t", secret), CF_OK);
    int64_t cursor = -1;
    assert_int_equal(cf_webhook_list(e, count_hooks, &cursor), CF_OK);
    assert_true(cursor >= 1); /* from the head: the instance's creation row */
    assert_int_equal(cf_webhook_progress(e, 1, cursor + 1, 0, NULL), CF_OK);
    assert_int_equal(cf_webhook_progress(e, 1, 0, 1, "refused"), CF_OK); /* never back */
    int64_t after = -1;
    assert_int_equal(cf_webhook_list(e, count_hooks, &after), CF_OK);
    assert_int_equal(after, cursor + 1);
    assert_int_equal(cf_webhook_create(e, "kern-hr", NULL, "https://x.org/", 0, "t", secret), CF_ECONFLICT);
    assert_int_equal(cf_webhook_remove(e, "kern-hr", "t"), CF_OK);
    assert_int_equal(cf_webhook_remove(e, "kern-hr", "t"), CF_ENOTFOUND);
    cf_engine_close(e);
}

static void test_read_only_role(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("roles.db", &clock);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    cf_engine_close(e);
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE ROLE cft_reader_%ld LOGIN; GRANT USAGE ON SCHEMA certflow TO cft_reader_%ld;"
             " GRANT SELECT ON ALL TABLES IN SCHEMA certflow TO cft_reader_%ld",
             (long)getpid(), (long)getpid(), (long)getpid());
    assert_true(cft_pg_sql("roles.db", sql));
    char uri[256];
    snprintf(uri, sizeof uri, "%s?user=cft_reader_%ld", cft_db("roles.db"), (long)getpid());
    assert_open_fails(uri, false, CF_EREADONLY, "may only read", "open read-only");
    /* Read-only, it reads. */
    cf_options o = fixture_options(&clock);
    o.read_only = 1;
    assert_int_equal(cf_engine_open(uri, &o, &e), CF_OK);
    assert_string_equal(cft_state(e, id), "pending");
    assert_int_equal(cf_instance_fire(e, id, "bump", NULL, "t", NULL, NULL), CF_EREADONLY);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_int_equal(rep.rows, 1);
    cf_engine_close(e);
}

/* The server ends the session while a batch is open: the batch fails with CF_EIO saying
 * what happened, and nothing of it was applied. */
static void test_server_gone_mid_transaction(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("gone.db", &clock);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    assert_int_equal(cf_batch_begin(e), CF_OK);
    cft_fire(e, id, "bump", NULL, CF_OK);
    assert_true(cft_pg_sql("gone.db", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                      " WHERE datname = current_database() AND pid <> pg_backend_pid()"));
    int rc = cf_batch_commit(e);
    assert_int_equal(rc, CF_EIO);
    assert_contains(cf_errmsg(e), "connection");
    assert_contains(cf_errmsg(e), "open the engine again");
    /* Every later call says so too, without crashing. */
    assert_int_equal(cf_instance_fire(e, id, "bump", NULL, "t", NULL, NULL), CF_EIO);
    cf_engine_close(e);
    e = cft_open_fixture("gone.db", &clock);
    assert_int_equal(cft_history_count(e, id), 1);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    cf_engine_close(e);
}

/* The server restarts under a connected engine: the next call fails with CF_EIO saying
 * the server went away and what to do, every later one too, and an engine opened again
 * works on the data as it was. */
static void test_server_restarted(void **state)
{
    (void)state;
    const char *restart = getenv("CERTFLOW_PG_RESTART");
    assert_non_null(restart);
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("restart.db", &clock);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    cft_fire(e, id, "bump", NULL, CF_OK);
    assert_int_equal(system(restart), 0);
    int rc = cf_instance_fire(e, id, "bump", NULL, "t", NULL, NULL);
    assert_int_equal(rc, CF_EIO);
    assert_contains(cf_errmsg(e), "open the engine again");
    assert_int_equal(cf_instance_fire(e, id, "bump", NULL, "t", NULL, NULL), CF_EIO);
    cf_engine_close(e);
    e = cft_open_fixture("restart.db", &clock);
    assert_int_equal(cft_history_count(e, id), 2);
    cft_fire(e, id, "bump", NULL, CF_OK);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_int_equal(rep.rows, 3);
    cf_engine_close(e);
}

/* The server keeps each plugin to its own schema: the roles the host runs plugin SQL
 * as reach nothing else (the engine's tables, another plugin's), and the reading role
 * of guards writes nothing. */
static void test_plugin_roles_reach_only_their_schema(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_options o = fixture_options(&clock);
    o.workflow_dir = CF_SOURCE_DIR "/workflows";
    o.policy_dir = CF_SOURCE_DIR "/lua";
    o.plugin_dir = CF_BINARY_DIR "/plugins";
    cf_engine *e = NULL;
    if (cft_engine_open("plugins.db", &o, &e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    cf_engine_close(e);
    /* what the host's own use needs works */
    assert_true(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees; SELECT count(*) FROM fees.fees_ledger;"
                                         " INSERT INTO fees.fees_awards VALUES ('a', 'p', 'h', 's', 'e')"));
    assert_true(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees_read; SELECT count(*) FROM fees.fees_awards"));
    /* and nothing else */
    assert_false(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees; SELECT count(*) FROM certflow.history"));
    assert_false(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees; DELETE FROM certflow.instance"));
    assert_false(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees; SELECT count(*) FROM notices.notices_outbox"));
    assert_false(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees_read; DELETE FROM fees.fees_awards"));
    assert_false(cft_pg_sql("plugins.db", "SET ROLE cf_plugin_fees_read; CREATE TABLE fees.x(y integer)"));
}

/* A plugin with tables that never asks the host's SQL dialect (the template plugin)
 * knows only SQLite's SQL: on PostgreSQL it is refused, saying so, and the engine works. */
static int find_template(void *ud, const cf_plugin_status *st)
{
    if (strcmp(st->name, "template") == 0)
        *(cf_plugin_status *)ud = *st;
    return 0;
}

static void test_sqlite_only_plugin_refused(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_options o = fixture_options(&clock);
    o.plugin_dir = CF_TEMPLATE_PLUGIN;
    cf_engine *e = NULL;
    if (cft_engine_open("template.db", &o, &e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    cf_plugin_status st = {0};
    assert_int_equal(cf_plugin_list(e, find_template, &st), CF_OK);
    assert_non_null(st.name);
    assert_int_equal(st.loaded, 0);
    assert_contains(st.message, "knows only SQLite's");
    assert_contains(st.message, "refused on a postgresql database");
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    cf_engine_close(e);
    /* it made nothing on the server */
    assert_true(cft_pg_sql("template.db", "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'template')"
                                          " THEN RAISE EXCEPTION 'made'; END IF; END$$"));
}

/* The host table's later members work on PostgreSQL as on SQLite (test_cli_ux,
 * test_host_plain_values_and_null): plain values, a NULL bound, a double bound and
 * read back exactly, and each column's type (the plugin tests/plugins/host_ext.c). */
static void test_plugin_host_numbers_and_types(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    free(cft_write(dir, "workflows/ext.lua",
                   "return { name = 'ext', initial = 'open', events = { 'go' },\n"
                   "  states = { open = {}, done = { terminal = true } },\n"
                   "  transitions = { { from = 'open', event = 'go', to = 'done', actions = { 'host_ext_record' } } } }\n"));
    free(cft_write(dir, "lua/policy/state.lua", "return { params = {} }\n"));
    char *wf = cft_path(dir, "workflows"), *pol = cft_path(dir, "lua");
    cft_clock clock = {START};
    cf_options o = fixture_options(&clock);
    o.workflow_dir = wf;
    o.policy_dir = pol;
    o.plugin_dir = CF_BINARY_DIR "/tests/plugins/nested/host_ext.so";
    cf_engine *e = NULL;
    if (cft_engine_open("hostext.db", &o, &e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    char id[37];
    assert_int_equal(cf_instance_create(e, "ext", "kern", "{\"name\": \"Ana Ruiz\", \"amount\": 12.5, \"nothing\": null}",
                                        "t", id),
                     CF_OK);
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    if (cf_instance_fire(e, id, "go", "{\"note\": \"hi\", \"count\": 3}", "t", NULL, &res) != CF_OK)
        fail_msg("fire: %s", cf_errmsg(e));
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    json_t *data = json_loads(info.data, 0, NULL), *seen = json_object_get(data, "seen");
    assert_non_null(seen);
    assert_string_equal(json_string_value(json_object_get(seen, "name")), "Ana Ruiz");
    assert_int_equal(json_integer_value(json_object_get(seen, "null_rows")), 1);
    assert_true(json_is_true(json_object_get(seen, "ratio_exact")));
    assert_true(json_real_value(json_object_get(seen, "ratio")) == 12.5 / 8 + 1e-9);
    assert_string_equal(json_string_value(json_object_get(seen, "types")), "INTEGER,FLOAT,TEXT");
    assert_string_equal(json_string_value(json_object_get(seen, "null_types")), "INTEGER,NULL,TEXT");
    assert_int_equal(json_integer_value(json_object_get(seen, "past_end_type")), 0);
    assert_true(json_is_true(json_object_get(seen, "nan_refused")));
    json_decref(data);
    cf_engine_close(e);
    free(wf);
    free(pol);
    cft_rmtree(dir);
}

/* ---- several engine processes ---- */

enum { INSTANCES = 6, PROCS = 4, BUMPS = 15 };

typedef struct hist_count {
    int rows, applied, rejected;
} hist_count;

static int count_rows(void *ud, const cf_history_entry *h)
{
    hist_count *c = ud;
    c->rows++;
    if (strcmp(h->outcome, "applied") == 0)
        c->applied++;
    if (strcmp(h->outcome, "rejected") == 0)
        c->rejected++;
    return 0;
}

/* Four processes bump every instance, then tick after the pending deadline: every
 * bump is recorded once, every timer fires exactly once (auto_deny), the chain verifies,
 * and the outcome is the serial run's: each instance denied, with 1 + 4 x 15 bumps + 1 rows
 * (a bump that comes after another process's tick is rejected, and recorded as such). */
static void test_four_processes_fire_and_tick(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("four.db", &clock);
    char ids[INSTANCES][37];
    for (int i = 0; i < INSTANCES; i++)
        assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", ids[i]), CF_OK);
    int pipes[PROCS][2];
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        assert_int_equal(pipe(pipes[k]), 0);
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            close(pipes[k][0]);
            cft_clock c = {START + 3600};
            cf_options o = fixture_options(&c);
            cf_engine *ce = NULL;
            if (cft_engine_open("four.db", &o, &ce) != CF_OK)
                _exit(10);
            for (int b = 0; b < BUMPS; b++)
                for (int i = 0; i < INSTANCES; i++) {
                    char key[48];
                    snprintf(key, sizeof key, "p%d-b%d-i%d", k, b, i);
                    int rc = cf_instance_fire(ce, ids[(i + k) % INSTANCES], "bump", NULL, "proc", key, NULL);
                    /* Rejected once another process's tick has denied the instance: recorded all the same. */
                    if (rc != CF_OK && rc != CF_REJECTED) {
                        fprintf(stderr, "process %d: %s\n", k, cf_errmsg(ce));
                        _exit(11);
                    }
                }
            c.now = START + 400 * 86400; /* past every pending deadline */
            uint64_t fired = 0;
            if (cf_engine_tick(ce, c.now, &fired) != CF_OK) {
                fprintf(stderr, "process %d: tick: %s\n", k, cf_errmsg(ce));
                _exit(12);
            }
            if (write(pipes[k][1], &fired, sizeof fired) != (ssize_t)sizeof fired)
                _exit(13);
            cf_engine_close(ce);
            _exit(0);
        }
        close(pipes[k][1]);
    }
    uint64_t total = 0;
    for (int k = 0; k < PROCS; k++) {
        int status = 0;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        uint64_t fired = 0;
        assert_int_equal(read(pipes[k][0], &fired, sizeof fired), (ssize_t)sizeof fired);
        close(pipes[k][0]);
        total += fired;
    }
    assert_int_equal(total, INSTANCES); /* each auto_deny fired once, by one of the four */
    for (int i = 0; i < INSTANCES; i++) {
        hist_count c = {0};
        assert_int_equal(cf_instance_history(e, ids[i], count_rows, &c), CF_OK);
        assert_int_equal(c.rows, 1 + PROCS * BUMPS + 1);
        assert_int_equal(c.applied + c.rejected, PROCS * BUMPS + 1); /* every row but the creation */
        assert_string_equal(cft_state(e, ids[i]), "denied");
    }
    assert_int_equal(cft_timer_count(e, START + 4000 * 86400LL), 0);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_int_equal(rep.rows, INSTANCES * (2 + PROCS * BUMPS));
    cf_engine_close(e);
}

/* Engine processes killed with SIGKILL while they write: every event they were told
 * was applied is in the history, and the chain verifies. */
static int collect_key(void *ud, const cf_history_entry *h)
{
    char *keys = ud;
    if (h->idem_key) {
        strcat(keys, h->idem_key);
        strcat(keys, "\n");
    }
    return 0;
}

static void test_killed_writers_lose_nothing_acknowledged(void **state)
{
    (void)state;
    cft_clock clock = {START};
    cf_engine *e = cft_open_fixture("kill.db", &clock);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "kern", NULL, "t", id), CF_OK);
    int ack[2];
    assert_int_equal(pipe(ack), 0);
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            close(ack[0]);
            cft_clock c = {START + 60};
            cf_options o = fixture_options(&c);
            cf_engine *ce = NULL;
            if (cft_engine_open("kill.db", &o, &ce) != CF_OK)
                _exit(10);
            for (int b = 0;; b++) {
                char key[32];
                snprintf(key, sizeof key, "k%d-%d", k, b);
                if (cf_instance_fire(ce, id, "bump", NULL, "proc", key, NULL) == CF_OK) {
                    char line[40];
                    int n = snprintf(line, sizeof line, "%-31s\n", key); /* one atomic write per key */
                    if (write(ack[1], line, (size_t)n) != n)
                        _exit(12);
                }
            }
        }
    }
    close(ack[1]);
    /* Let them write a while: until 200 acknowledgements arrived. */
    char acked[200][33];
    for (int n = 0; n < 200; n++) {
        char line[33];
        assert_int_equal(read(ack[0], line, 32), 32);
        line[31] = '\0';
        sscanf(line, "%32s", acked[n]);
    }
    for (int k = 0; k < PROCS; k++)
        kill(kids[k], SIGKILL);
    for (int k = 0; k < PROCS; k++)
        waitpid(kids[k], NULL, 0);
    close(ack[0]);
    cf_engine_close(e);
    e = cft_open_fixture("kill.db", &clock);
    char *keys = calloc(1, 64 * 10000);
    assert_non_null(keys);
    assert_int_equal(cf_instance_history(e, id, collect_key, keys), CF_OK);
    for (int n = 0; n < 200; n++) {
        char want[64];
        snprintf(want, sizeof want, "%.32s\n", acked[n]);
        if (!strstr(keys, want))
            fail_msg("acknowledged event %s is not in the history", acked[n]);
    }
    free(keys);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_true(rep.rows >= 201);
    /* It still takes writes. */
    cft_fire(e, id, "bump", NULL, CF_OK);
    cf_engine_close(e);
}

int main(void)
{
    if (!cft_pg()) {
        fprintf(stderr, "test_pg_backend runs on PostgreSQL only: scripts/pg-test-cluster.sh %s\n", "test_pg_backend");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_connection),
        cmocka_unit_test(test_another_programs_schema),
        cmocka_unit_test(test_newer_schema),
        cmocka_unit_test(test_schema_5_webhooks),
        cmocka_unit_test(test_read_only_role),
        cmocka_unit_test(test_server_gone_mid_transaction),
        cmocka_unit_test(test_server_restarted),
        cmocka_unit_test(test_plugin_roles_reach_only_their_schema),
        cmocka_unit_test(test_sqlite_only_plugin_refused),
        cmocka_unit_test(test_plugin_host_numbers_and_types),
        cmocka_unit_test(test_four_processes_fire_and_tick),
        cmocka_unit_test(test_killed_writers_lose_nothing_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
