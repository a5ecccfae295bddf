/*
 * test_store_copy.c — cf_store_copy (certflow store copy): a whole database copied
 * keeps every row as stored (serials, the history's chain, timers, tokens, plugin
 * schema versions and tables), verifies on the target, keeps firing there (serials
 * continue, idempotency keys replay), and a target that holds anything is refused
 * with nothing written. Under the pg label (CERTFLOW_TEST_DB=postgresql) the same
 * tests run PostgreSQL to PostgreSQL, and the round trip SQLite -> PostgreSQL ->
 * SQLite runs too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal.h"
#include "store/store.h"
#include "sqlite_peek.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
    char *dir, *a, *b, *c; /* a, b, c: file paths (cft_db makes them PostgreSQL databases under pg) */
    cft_clock clock;
    char ids[3][37];
} fx;

static cf_options fixture_opts(fx *f)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.plugin_dir = CF_BINARY_DIR "/plugins";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    o.lua_time_limit_ms = 600000;
    return o;
}

static cf_engine *open_on(fx *f, const char *db)
{
    cf_options o = fixture_opts(f);
    cf_engine *e = NULL;
    int rc = cf_engine_open(db, &o, &e);
    if (rc != CF_OK)
        fail_msg("cf_engine_open(%s): %s: %s", db, cf_result_name(rc), cf_errmsg(e));
    return e;
}

/* Three permits (one approved, so a timer of another state is pending), a fire
 * under an idempotency key, a rejection, and a token. */
/* path: as given to cft_db (under pg, db is cft_db(path)), or db itself for a SQLite file. */
static void fill(fx *f, const char *db, const char *path)
{
    cf_engine *e = open_on(f, db);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cf_instance_create(e, "permit", "alameda", "{\"until\":\"2026-01-01\"}", "t", f->ids[i]),
                         CF_OK);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, f->ids[0], "approve", "{\"reviewer\":\"ann\"}", "t", "key-1", &r), CF_OK);
    assert_int_equal(cf_instance_fire(e, f->ids[1], "approve", NULL, "t", NULL, NULL), CF_REJECTED);
    assert_int_equal(cf_instance_fire(e, f->ids[2], "bump", NULL, "t", NULL, NULL), CF_OK);
    char secret[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(e, "alameda-staff", "county", "alameda", 0, "admin", secret), CF_OK);
    char hook_secret[CF_WEBHOOK_SECRET_SIZE];
    assert_int_equal(cf_webhook_create(e, "alameda-hr", "alameda", "https://hr.example.org/", 2, "admin", hook_secret),
                     CF_OK);
    cf_engine_close(e);
    /* A row in a plugin table (the fixture's workflows charge no fee): written as the plugin would. */
    const char *cols = "(id, instance, workflow, county, payer, type, amount, reason, covered_by, charged_at, charged_on,"
                       " event) VALUES (7, 'x', 'permit', 'alameda', 'p', 'application', 2500, 'r', NULL, 1735689600,"
                       " '2025-01-01', 'approve')";
    char sql[512];
    if (!strncmp(db, "postgresql:", 11)) {
        snprintf(sql, sizeof sql, "INSERT INTO fees.fees_ledger %s", cols);
        assert_true(cft_pg_sql(path, sql));
    } else {
        snprintf(sql, sizeof sql, "INSERT INTO fees_ledger %s", cols);
        assert_true(cft_sql_tamper(db, sql));
    }
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    char *a = cft_path(f->dir, "a.db"), *b = cft_path(f->dir, "b.db"), *c = cft_path(f->dir, "c.db");
    f->a = a;
    f->b = b;
    f->c = c;
    f->clock.now = cft_time("2025-01-01T00:00:00Z");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->a);
    free(f->b);
    free(f->c);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

typedef struct counts {
    int64_t instance, history, timer, api_token, webhook, plugin_schema, fees_ledger, tables;
} counts;

static int note(void *ud, const char *table, int64_t rows)
{
    counts *c = ud;
    c->tables++;
    if (!strcmp(table, "instance"))
        c->instance = rows;
    else if (!strcmp(table, "history"))
        c->history = rows;
    else if (!strcmp(table, "timer"))
        c->timer = rows;
    else if (!strcmp(table, "api_token"))
        c->api_token = rows;
    else if (!strcmp(table, "webhook"))
        c->webhook = rows;
    else if (!strcmp(table, "plugin_schema"))
        c->plugin_schema = rows;
    else if (!strcmp(table, "fees_ledger"))
        c->fees_ledger = rows;
    return 0;
}

static void head_of(const char *db, int64_t *seq, char hash[CF__HASH_HEX])
{
    cf__store *s = NULL;
    cf__err err;
    assert_int_equal(cf__store_open_read_only(db, 1000, &s, &err), CF_OK);
    assert_int_equal(cf__audit_head(s, seq, hash, &err), CF_OK);
    cf__store_close(s);
}

static int64_t serial_of(const char *db, const char *id)
{
    cf__store *s = NULL;
    cf__err err;
    cf__instance_row row;
    memset(&row, 0, sizeof row);
    assert_int_equal(cf__store_open_read_only(db, 1000, &s, &err), CF_OK);
    assert_int_equal(cf__store_instance_get(s, id, &row, &err), CF_OK);
    int64_t serial = row.serial;
    cf__instance_row_clear(&row);
    cf__store_close(s);
    return serial;
}

static void copy_ok(fx *f, const char *from, const char *to, counts *c)
{
    cf_options o = fixture_opts(f);
    char msg[1024];
    memset(c, 0, sizeof *c);
    int rc = cf_store_copy(from, to, &o, note, c, msg, sizeof msg);
    if (rc != CF_OK)
        fail_msg("cf_store_copy(%s, %s): %s: %s", from, to, cf_result_name(rc), msg);
}

/* Every row arrives, the chain's head is the same, and the copy verifies. */
static void test_copy_keeps_everything(void **state)
{
    fx *f = *state;
    const char *a = cft_db(f->a), *b = cft_db(f->b);
    fill(f, a, f->a);
    counts c;
    copy_ok(f, a, b, &c);
    assert_int_equal(c.instance, 3);
    assert_int_equal(c.history, 6); /* 3 created, 1 applied, 1 rejected, 1 bump */
    assert_true(c.timer >= 3);
    assert_int_equal(c.api_token, 1);
    assert_int_equal(c.webhook, 1); /* with its secret and cursor: deliveries go on from where they were */
    assert_true(c.plugin_schema >= 1); /* the shipped plugins' versions */
    assert_true(c.tables > 10);        /* and their tables */
    assert_int_equal(c.fees_ledger, 1);
    int64_t sa, sb;
    char ha[CF__HASH_HEX], hb[CF__HASH_HEX];
    head_of(a, &sa, ha);
    head_of(b, &sb, hb);
    assert_int_equal(sa, sb);
    assert_string_equal(ha, hb);
    for (int i = 0; i < 3; i++)
        assert_int_equal(serial_of(b, f->ids[i]), serial_of(a, f->ids[i]));
    cf_engine *e = open_on(f, b);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_int_equal(rep.rows, 6);
    assert_int_equal(rep.instances, 3);
    cf_engine_close(e);
}

/* The copy keeps firing: a key replays its first outcome, serials continue, timers fire. */
static void test_copy_keeps_firing(void **state)
{
    fx *f = *state;
    const char *a = cft_db(f->a), *b = cft_db(f->b);
    fill(f, a, f->a);
    counts c;
    copy_ok(f, a, b, &c);
    cf_engine *e = open_on(f, b);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, f->ids[0], "approve", "{\"reviewer\":\"ann\"}", "t", "key-1", &r), CF_OK);
    assert_int_equal(r.replayed, 1);
    assert_int_equal(cf_instance_fire(e, f->ids[0], "renew", NULL, "t", "key-1", &r), CF_ECONFLICT);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "alameda", NULL, "t", id), CF_OK);
    assert_int_equal(cf_instance_fire(e, id, "bump", NULL, "t", "key-2", NULL), CF_OK);
    f->clock.now = cft_time("2027-01-01T00:00:00Z");
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(e, f->clock.now, &fired), CF_OK);
    assert_true(fired > 0);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    cf_engine_close(e);
    assert_int_equal(serial_of(b, id), 4);
}

/* A target that holds anything is refused, naming what it holds, and is left as it was. */
static void test_refuses_non_empty_target(void **state)
{
    fx *f = *state;
    const char *a = cft_db(f->a), *b = cft_db(f->b);
    fill(f, a, f->a);
    cf_engine *e = open_on(f, b);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "alameda", NULL, "t", id), CF_OK);
    cf_engine_close(e);
    cf_options o = fixture_opts(f);
    char msg[1024];
    assert_int_equal(cf_store_copy(a, b, &o, NULL, NULL, msg, sizeof msg), CF_EINVAL);
    assert_non_null(strstr(msg, "is not empty"));
    assert_non_null(strstr(msg, "nothing was copied"));
    int64_t seq;
    char hash[CF__HASH_HEX];
    head_of(b, &seq, hash);
    assert_int_equal(seq, 1);
    /* and the same database on both sides */
    assert_int_equal(cf_store_copy(a, a, &o, NULL, NULL, msg, sizeof msg), CF_EINVAL);
    assert_non_null(strstr(msg, "same database"));
}

/* Plugin tables in the source and no plugins given: refused, naming the plugin; nothing copied. */
static void test_refuses_plugin_not_given(void **state)
{
    fx *f = *state;
    const char *a = cft_db(f->a), *b = cft_db(f->b);
    fill(f, a, f->a);
    cf_options o = fixture_opts(f);
    o.plugin_dir = NULL;
    char msg[1024];
    assert_int_equal(cf_store_copy(a, b, &o, NULL, NULL, msg, sizeof msg), CF_EINVAL);
    assert_non_null(strstr(msg, "of the plugin '"));
    assert_non_null(strstr(msg, "nothing was copied"));
    int64_t seq;
    char hash[CF__HASH_HEX];
    head_of(b, &seq, hash);
    assert_int_equal(seq, 0);
    /* given the plugins, the same target then takes the copy */
    counts c;
    copy_ok(f, a, b, &c);
    assert_int_equal(c.fees_ledger, 1);
}

/* SQLite -> PostgreSQL -> SQLite: the chain survives both ways (pg label only). */
static void test_round_trip_through_postgresql(void **state)
{
    fx *f = *state;
    if (!cft_pg())
        skip();
    fill(f, f->a, f->a); /* a SQLite file */
    const char *pg = cft_db(f->b);
    counts c1, c2;
    copy_ok(f, f->a, pg, &c1);
    copy_ok(f, pg, f->c, &c2); /* back into a SQLite file */
    assert_int_equal(c1.tables, c2.tables);
    assert_int_equal(c1.history, c2.history);
    assert_int_equal(c1.timer, c2.timer);
    assert_int_equal(c1.fees_ledger, 1);
    assert_int_equal(c2.fees_ledger, 1);
    assert_int_equal(cft_sql_int(f->c, "SELECT id FROM fees_ledger", NULL), 7);
    int64_t sa, sc;
    char ha[CF__HASH_HEX], hc[CF__HASH_HEX];
    head_of(f->a, &sa, ha);
    head_of(f->c, &sc, hc);
    assert_int_equal(sa, sc);
    assert_string_equal(ha, hc);
    for (int i = 0; i < 3; i++)
        assert_int_equal(serial_of(f->c, f->ids[i]), serial_of(f->a, f->ids[i]));
    cf_engine *e = open_on(f, pg);
    char id[37];
    assert_int_equal(cf_instance_create(e, "permit", "alameda", NULL, "t", id), CF_OK);
    cf_engine_close(e);
    assert_int_equal(serial_of(pg, id), 4);
}

/* The command: --json counts, then exit 4 and the reason for a target that is not empty. */
static void test_cli_store_copy(void **state)
{
    fx *f = *state;
    const char *a = cft_db(f->a), *b = cft_db(f->b);
    fill(f, a, f->a);
    const char *args[] = {"store", "copy", "--from", a, "--to", b, "--json",
                          "--workflows", CF_TEST_FIXTURES "/engine/workflows", "--policies", CF_TEST_FIXTURES "/engine/lua",
                          "--plugins", CF_BINARY_DIR "/plugins", NULL};
    cft_run r = cft_certflow(f->dir, args);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\"verified\": true"));
    assert_non_null(strstr(r.out, "\"instance\": 3"));
    assert_non_null(strstr(r.out, "\"history\": 6"));
    assert_non_null(strstr(r.out, "\"fees_ledger\": 1"));
    cft_run_free(&r);
    r = cft_certflow(f->dir, args);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "is not empty"));
    cft_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_keeps_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_non_empty_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_through_postgresql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_store_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_plugin_not_given, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
