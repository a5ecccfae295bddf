/* test_audit.c — the hash-chained history: append, lookups, and finding tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "store/sqlite/sqlite_private.h" /* the SQLite backend's own tests: triggers on its connection */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_contains(hay, needle)                                                     \
    do {                                                                                 \
        if (!strstr((hay), (needle)))                                                    \
            fail_msg("expected \"%s\" in message:\n  %s", (needle), (hay));              \
    } while (0)

#define DEF "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define POL "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct fixture {
    char *dir;
    char *path;
    cf__store *s;
} fixture;

static void add_instance(cf__store *s, const char *id)
{
    cf__instance_row row = {0};
    snprintf(row.id, sizeof row.id, "%s", id);
    row.workflow = (char *)"cert";
    row.def_hash = (char *)DEF;
    row.county = (char *)"san_diego";
    row.state = (char *)"applied";
    row.data = (char *)"{}";
    cf__err err = {{0}};
    assert_int_equal(cf__store_instance_insert(s, &row, &err), CF_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->path = cft_path(f->dir, "cf.db");
    cf__err err = {{0}};
    if (cf__store_open(f->path, 0, &f->s, &err) != CF_OK)
        fail_msg("open: %s", err.msg);
    assert_int_equal(cf__store_def_put(f->s, DEF, "cert", "return {}", 1, &err), CF_OK);
    add_instance(f->s, "inst-a");
    add_instance(f->s, "inst-b");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cf__store_close(f->s);
    free(f->path);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static cf__history_row make_row(const char *id, int64_t number, const char *event, const char *outcome,
                                const char *key)
{
    cf__history_row r;
    memset(&r, 0, sizeof r);
    r.number = number;
    r.instance_id = id;
    r.at = 1000 + number;
    r.effective_at = 900 + number;
    r.actor = "clerk";
    r.event = event;
    r.data = "{\"n\":1}";
    r.outcome = outcome;
    r.from_state = number == 1 ? "" : "applied";
    r.to_state = strcmp(outcome, "applied") == 0 ? "active" : "applied";
    r.reasons = "[]";
    r.policy_hash = POL;
    r.def_hash = DEF;
    r.idem_key = key;
    return r;
}

static void append_ok(cf__store *s, cf__history_row *r)
{
    cf__err err = {{0}};
    int rc = cf__audit_append(s, r, &err);
    if (rc != CF_OK)
        fail_msg("append: %s", err.msg);
}

/* The five rows every test starts from: seq 1..5 across two instances. */
static void append_five(cf__store *s, char hashes[5][CF__HASH_HEX])
{
    cf__history_row rows[5] = {
        make_row("inst-a", 1, "", "created", NULL),
        make_row("inst-b", 1, "", "created", NULL),
        make_row("inst-a", 2, "approve", "applied", "k1"),
        make_row("inst-b", 2, "approve", "rejected", "k1"),
        make_row("inst-a", 3, "renew", "applied", NULL),
    };
    for (int i = 0; i < 5; i++) {
        append_ok(s, &rows[i]);
        assert_int_equal(rows[i].seq, i + 1);
        assert_string_equal(rows[i].prev_hash, i ? rows[i - 1].hash : ZEROS);
        assert_int_equal(strlen(rows[i].hash), 64);
        if (hashes)
            memcpy(hashes[i], rows[i].hash, CF__HASH_HEX);
    }
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql failed: %s: %s", sql, msg);
    sqlite3_close(db);
}

static int64_t count_rows(cf__store *s)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(cf__store_db(s), "SELECT count(*) FROM history", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* ---- tests ---- */

static void test_hash_format(void **state)
{
    fixture *f = *state;
    cf__history_row r = make_row("inst-a", 1, "", "created", NULL);
    append_ok(f->s, &r);
    /* The documented audit format, spelled out by hand. */
    char text[1024];
    snprintf(text, sizeof text,
             "%s"
             "1:1,1:1,6:inst-a,4:1001,3:901,5:clerk,0:,7:{\"n\":1},7:created,0:,7:applied,2:[],64:%s,64:%s,~,",
             ZEROS, POL, DEF);
    char expect[CF__HASH_HEX];
    cf__sha256_hex(text, strlen(text), expect);
    assert_string_equal(r.hash, expect);
    assert_string_equal(r.prev_hash, ZEROS);

    cf__history_row r2 = make_row("inst-a", 2, "approve", "applied", "key-1");
    append_ok(f->s, &r2);
    snprintf(text, sizeof text,
             "%s"
             "1:2,1:2,6:inst-a,4:1002,3:902,5:clerk,7:approve,7:{\"n\":1},7:applied,7:applied,6:active,2:[],"
             "64:%s,64:%s,5:key-1,",
             r.hash, POL, DEF);
    cf__sha256_hex(text, strlen(text), expect);
    assert_string_equal(r2.hash, expect);
}

/* Since schema 4: a row given the instance's data also records data_hash and
 * timers_hash, and its preimage goes on with them (store_history.c's header), spelled
 * out by hand here. */
static void test_hash_format_with_results(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    assert_int_equal(cf__store_timer_add(f->s, "inst-a", "applied", "remind", "nudge", 5000, &err), CF_OK);
    assert_int_equal(cf__store_timer_add(f->s, "inst-a", "applied", "expire", "lapse", 4000, &err), CF_OK);
    cf__history_row r = make_row("inst-a", 1, "", "created", NULL);
    r.result_data = "{\"x\":1}";
    r.result_county = "san_diego";
    append_ok(f->s, &r);
    char text[1024], dh[CF__HASH_HEX], th[CF__HASH_HEX], expect[CF__HASH_HEX];
    snprintf(text, sizeof text, "9:san_diego,7:{\"x\":1},");
    cf__sha256_hex(text, strlen(text), dh);
    /* ordered by state, then id: remind (id 1) before expire (id 2) */
    snprintf(text, sizeof text, "7:applied,6:remind,5:nudge,4:5000,7:applied,6:expire,5:lapse,4:4000,");
    cf__sha256_hex(text, strlen(text), th);
    assert_string_equal(r.data_hash, dh);
    assert_string_equal(r.timers_hash, th);
    snprintf(text, sizeof text,
             "%s"
             "1:1,1:1,6:inst-a,4:1001,3:901,5:clerk,0:,7:{\"n\":1},7:created,0:,7:applied,2:[],64:%s,64:%s,~,"
             "64:%s,64:%s,",
             ZEROS, POL, DEF, dh, th);
    cf__sha256_hex(text, strlen(text), expect);
    assert_string_equal(r.hash, expect);
    /* stored as written, and the chain verifies */
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 1);
    /* what a later write checks: the instance as this row left it (the fixture's
     * row says applied / {} / san_diego: not what the row recorded) */
    assert_int_equal(cf__audit_check_instance(f->s, "inst-a", 1, "applied", "san_diego", "{\"x\":1}", &err), CF_OK);
    assert_int_equal(cf__audit_check_instance(f->s, "inst-a", 1, "applied", "san_diego", "{}", &err), CF_ECORRUPT);
    assert_contains(err.msg, "the data or county of instance inst-a is not what its history row 1 recorded");
    assert_true(cf__store_corrupt(f->s));
}

typedef struct collected {
    int64_t seq[8];
    char events[8][32];
    char keys[8][32];
    int n;
    int stop_after;
} collected;

static int collect(void *ud, const cf__history_row *row)
{
    collected *c = ud;
    c->seq[c->n] = row->seq;
    snprintf(c->events[c->n], 32, "%s", row->event);
    snprintf(c->keys[c->n], 32, "%s", row->idem_key ? row->idem_key : "(null)");
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void test_chain_find_each_verify(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    int64_t rows = -1, bad = -1;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK); /* empty chain */
    assert_int_equal(rows, 0);
    assert_int_equal(bad, 0);

    char hashes[5][CF__HASH_HEX];
    append_five(f->s, hashes);

    /* find_key copies into keep, which already holds text and must grow. */
    cf__buf keep = {0};
    cf__buf_puts(&keep, "something the caller kept before");
    cf__history_row r;
    assert_int_equal(cf__audit_find_key(f->s, "inst-b", "k1", &r, &keep, &err), CF_OK);
    assert_int_equal(r.seq, 4);
    assert_int_equal(r.number, 2);
    assert_string_equal(r.instance_id, "inst-b");
    assert_int_equal(r.at, 1002);
    assert_int_equal(r.effective_at, 902);
    assert_string_equal(r.actor, "clerk");
    assert_string_equal(r.event, "approve");
    assert_string_equal(r.data, "{\"n\":1}");
    assert_string_equal(r.outcome, "rejected");
    assert_string_equal(r.from_state, "applied");
    assert_string_equal(r.to_state, "applied");
    assert_string_equal(r.reasons, "[]");
    assert_string_equal(r.policy_hash, POL);
    assert_string_equal(r.def_hash, DEF);
    assert_string_equal(r.idem_key, "k1");
    assert_string_equal(r.prev_hash, hashes[2]);
    assert_string_equal(r.hash, hashes[3]);
    assert_memory_equal(keep.data, "something the caller kept before", 32);
    /* A second lookup into the same buffer keeps the first one's strings valid. */
    cf__history_row r2;
    assert_int_equal(cf__audit_find_key(f->s, "inst-a", "k1", &r2, &keep, &err), CF_OK);
    assert_int_equal(r2.seq, 3);
    assert_string_equal(r2.instance_id, "inst-a");
    assert_string_equal(r2.outcome, "applied");
    cf__buf_free(&keep);

    assert_int_equal(cf__audit_find_key(f->s, "inst-a", "nope", &r, &keep, &err), CF_ENOTFOUND);
    assert_contains(err.msg, "nope");
    assert_int_equal(cf__audit_find_key(f->s, "inst-c", "k1", &r, &keep, &err), CF_ENOTFOUND);
    cf__buf_free(&keep);

    collected c = {0};
    assert_int_equal(cf__audit_each(f->s, "inst-a", collect, &c, &err), CF_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.seq[0], 1);
    assert_int_equal(c.seq[1], 3);
    assert_int_equal(c.seq[2], 5);
    assert_string_equal(c.events[0], "");
    assert_string_equal(c.events[1], "approve");
    assert_string_equal(c.events[2], "renew");
    assert_string_equal(c.keys[0], "(null)");
    assert_string_equal(c.keys[1], "k1");
    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    assert_int_equal(cf__audit_each(f->s, "inst-b", collect, &c, &err), CF_OK);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__audit_each(f->s, "inst-b", collect, &c, &err), CF_OK);
    assert_int_equal(c.n, 2);

    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 5);
    assert_int_equal(bad, 0);

    /* Through certflow's own connection, the triggers refuse edits. */
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(cf__store_db(f->s), "UPDATE history SET actor = 'x' WHERE seq = 1", NULL, NULL,
                                      &msg),
                         SQLITE_OK);
    assert_contains(msg, "history is append-only");
    sqlite3_free(msg);
    assert_int_not_equal(sqlite3_exec(cf__store_db(f->s), "DELETE FROM history", NULL, NULL, &msg), SQLITE_OK);
    assert_contains(msg, "history is append-only");
    sqlite3_free(msg);
}

static void test_duplicate_key_conflict(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    cf__history_row dup = make_row("inst-a", 4, "renew", "applied", "k1");
    assert_int_equal(cf__audit_append(f->s, &dup, &err), CF_ECONFLICT);
    assert_contains(err.msg, "idempotency key 'k1' was already used for instance inst-a");
    assert_int_equal(count_rows(f->s), 5);
    /* The same key on another instance is its own key. */
    cf__history_row other = make_row("inst-b", 3, "renew", "applied", "k2");
    append_ok(f->s, &other);
    assert_int_equal(other.seq, 6);
    /* A duplicate number is a plain store error, not a key conflict. */
    cf__history_row again = make_row("inst-b", 3, "renew", "applied", NULL);
    assert_int_equal(cf__audit_append(f->s, &again, &err), CF_ESTORE);
    assert_contains(err.msg, "recording event 'renew' in the history of instance inst-b");
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 6);
}

static void test_rollback_leaves_no_row(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    assert_int_equal(cf__store_begin(f->s, &err), CF_OK);
    cf__history_row r = make_row("inst-a", 4, "renew", "applied", NULL);
    append_ok(f->s, &r);
    assert_int_equal(r.seq, 6);
    cf__store_rollback(f->s);
    assert_int_equal(count_rows(f->s), 5);
    /* The next append reuses seq 6 and links to row 5. */
    cf__history_row r2 = make_row("inst-a", 4, "renew", "applied", NULL);
    append_ok(f->s, &r2);
    assert_int_equal(r2.seq, 6);
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 6);
}

static void test_edited_row_found(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    /* Behind the engine's back: a second connection drops the guard and edits row 3. */
    raw_exec(f->path, "DROP TRIGGER history_no_update; UPDATE history SET data = '{\"n\":2}' WHERE seq = 3");
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_ECORRUPT);
    assert_int_equal(bad, 3);
    assert_int_equal(rows, 3);
    assert_string_equal(err.msg, "history row 3 (instance inst-a, event 'approve') does not match its hash: it was "
                                 "changed outside certflow; restore the database from a backup; the rows before 3 "
                                 "are intact");
}

static void test_edited_hash_found(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    /* Rewriting a row and its own hash still breaks the link of the row after it. */
    raw_exec(f->path, "DROP TRIGGER history_no_update; UPDATE history SET hash = '" ZEROS "' WHERE seq = 2");
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_ECORRUPT);
    assert_int_equal(bad, 2);
    raw_exec(f->path, "UPDATE history SET hash = (SELECT prev_hash FROM history WHERE seq = 3) WHERE seq = 2");
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
}

static void test_deleted_row_found(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    raw_exec(f->path, "DROP TRIGGER history_no_delete; DELETE FROM history WHERE seq = 3");
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_ECORRUPT);
    assert_int_equal(bad, 4);
    assert_string_equal(err.msg, "history row 4 does not follow row 2: a row was removed or inserted outside "
                                 "certflow; restore the database from a backup; the rows before 4 are intact");

    raw_exec(f->path, "DELETE FROM history WHERE seq = 1");
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_ECORRUPT);
    assert_int_equal(bad, 2);
    assert_contains(err.msg, "history row 2 does not follow the start of the chain");
}

static void test_reordered_rows_found(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    /* Swap rows 2 and 4 by moving their seq numbers. */
    raw_exec(f->path, "DROP TRIGGER history_no_update;"
                      "UPDATE history SET seq = 100 WHERE seq = 2;"
                      "UPDATE history SET seq = 2 WHERE seq = 4;"
                      "UPDATE history SET seq = 4 WHERE seq = 100;");
    int64_t rows = 0, bad = 0;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_ECORRUPT);
    assert_int_equal(bad, 2);
}

/* Schema 9 rebuilt history with its outcome CHECK as `outcome = ... OR ...`: a
 * database made at schema 8 (the old CHECK written with IN) migrates keeping every
 * row, the chain verifies unchanged and goes on, the triggers still refuse edits
 * and the CHECK still refuses an outcome outside the three. */
static void test_schema_8_history_migrates(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    char hashes[5][CF__HASH_HEX];
    append_five(f->s, hashes);
    cf__store_close(f->s);
    f->s = NULL;
    /* The history table exactly as schema 8 had it (the columns of 1 and 4). */
    raw_exec(f->path,
             "CREATE TABLE h8(seq INTEGER PRIMARY KEY, instance_id TEXT NOT NULL REFERENCES instance(id),"
             " number INTEGER NOT NULL, at INTEGER NOT NULL, effective_at INTEGER NOT NULL, actor TEXT NOT NULL,"
             " event TEXT NOT NULL, data TEXT NOT NULL,"
             " outcome TEXT NOT NULL CHECK(outcome IN ('created','applied','rejected')),"
             " from_state TEXT NOT NULL, to_state TEXT NOT NULL, reasons TEXT NOT NULL, policy_hash TEXT NOT NULL,"
             " def_hash TEXT NOT NULL, idem_key TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, data_hash TEXT,"
             " timers_hash TEXT);"
             "INSERT INTO h8 SELECT seq, instance_id, number, at, effective_at, actor, event, data, outcome,"
             " from_state, to_state, reasons, policy_hash, def_hash, idem_key, prev_hash, hash, data_hash, timers_hash"
             " FROM history; DROP TABLE history; ALTER TABLE h8 RENAME TO history;"
             "ALTER TABLE instance DROP COLUMN last_seq;"
             "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
             "CREATE UNIQUE INDEX history_by_key ON history(instance_id, idem_key) WHERE idem_key IS NOT NULL;"
             "CREATE INDEX history_by_time ON history(effective_at);"
             "CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
             "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
             "CREATE TRIGGER history_no_delete BEFORE DELETE ON history"
             "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
             "PRAGMA user_version = 8;");
    {
        sqlite3 *raw = NULL;
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(raw, "SELECT instr(sql, 'outcome IN') > 0 FROM sqlite_master"
                                                 " WHERE name = 'history'", -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), 1); /* really the old CHECK */
        sqlite3_finalize(q);
        sqlite3_close(raw);
    }
    if (cf__store_open(f->path, 0, &f->s, &err) != CF_OK)
        fail_msg("open: %s", err.msg);
    sqlite3 *db = cf__store_db(f->s);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
                                            " (SELECT sql FROM sqlite_master WHERE name = 'history'),"
                                            " (SELECT count(*) FROM sqlite_master WHERE tbl_name = 'history')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), cf__sqlite_schema_version); /* 9, then the later ones */
    const char *sql = (const char *)sqlite3_column_text(st, 1);
    assert_non_null(strstr(sql, "outcome = 'created' OR outcome = 'applied' OR outcome = 'rejected'"));
    assert_null(strstr(sql, "outcome IN"));
    assert_int_equal(sqlite3_column_int(st, 2), 5); /* table, 2 indexes (history_by_number went at 10), 2 triggers */
    sqlite3_finalize(st);

    int64_t rows = -1, bad = -1;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 5);
    assert_int_equal(bad, 0);
    cf__buf keep = {0};
    cf__history_row r;
    assert_int_equal(cf__audit_find_key(f->s, "inst-b", "k1", &r, &keep, &err), CF_OK);
    assert_int_equal(r.seq, 4);
    assert_string_equal(r.hash, hashes[3]);
    cf__buf_free(&keep);

    /* The guarantees stay: no edit, no removal, no other outcome. */
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "UPDATE history SET actor = 'x' WHERE seq = 1", NULL, NULL, &msg), SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM history WHERE seq = 5", NULL, NULL, &msg), SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO history(instance_id, number, at, effective_at, actor, event, data,"
                                      " outcome, from_state, to_state, reasons, policy_hash, def_hash, prev_hash, hash)"
                                      " VALUES('inst-a', 9, 1, 1, 'a', 'e', '{}', 'forged', '', '', '[]', 'p', 'd',"
                                      " 'x', 'y')",
                                      NULL, NULL, &msg),
                         SQLITE_OK);
    assert_non_null(strstr(msg, "CHECK"));
    sqlite3_free(msg);

    /* The chain goes on from the migrated rows. */
    cf__history_row next = make_row("inst-a", 4, "renew", "applied", NULL);
    append_ok(f->s, &next);
    assert_int_equal(next.seq, 6);
    assert_string_equal(next.prev_hash, hashes[4]);
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 6);
    assert_int_equal(count_rows(f->s), 6);
}

/* Schema 10 dropped instance_by_workflow(workflow, state, county), which every fire
 * rewrote (the state changes) and no query read. A database made at schema 9 migrates:
 * the index goes, instance_by_definition (which opening reads) stays, every history row
 * is kept, the chain verifies unchanged and goes on. */
static void test_schema_9_instance_index_migrates(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    char hashes[5][CF__HASH_HEX];
    append_five(f->s, hashes);
    cf__store_close(f->s);
    f->s = NULL;
    raw_exec(f->path, "CREATE INDEX instance_by_workflow ON instance(workflow, state, county);"
                      "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
                      "ALTER TABLE history DROP COLUMN prev_seq; ALTER TABLE instance DROP COLUMN last_seq;"
                      "PRAGMA user_version = 9;");
    if (cf__store_open(f->path, 0, &f->s, &err) != CF_OK)
        fail_msg("open: %s", err.msg);
    sqlite3 *db = cf__store_db(f->s);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
                                            " (SELECT count(*) FROM sqlite_master WHERE name = 'instance_by_workflow'),"
                                            " (SELECT sql FROM sqlite_master WHERE name = 'instance_by_definition')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int(st, 0) >= 10);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 2), "(def_hash, state)"));
    sqlite3_finalize(st);
    /* history_by_number gave way to the back-links, made from it for the old rows */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'history_by_number'),"
                                            " (SELECT group_concat(seq || ':' || coalesce(prev_seq, 0), ' ')"
                                            "  FROM (SELECT seq, prev_seq FROM history ORDER BY seq)),"
                                            " (SELECT group_concat(id || ':' || last_seq, ' ')"
                                            "  FROM (SELECT id, last_seq FROM instance ORDER BY id))",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "1:0 2:0 3:1 4:2 5:3");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "inst-a:5 inst-b:4");
    sqlite3_finalize(st);
    collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__audit_each(f->s, "inst-a", collect, &c, &err), CF_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.seq[0], 1);
    assert_int_equal(c.seq[2], 5);

    int64_t rows = -1, bad = -1;
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 5);
    assert_int_equal(bad, 0);
    cf__history_row next = make_row("inst-a", 4, "renew", "applied", NULL);
    append_ok(f->s, &next);
    assert_int_equal(next.seq, 6);
    assert_string_equal(next.prev_hash, hashes[4]);
    assert_int_equal(cf__audit_verify(f->s, &rows, &bad, &err), CF_OK);
    assert_int_equal(rows, 6);
}

static int count_instances(void *ud, const cf__verify_inst *inst)
{
    (void)inst;
    ++*(int *)ud;
    return 0;
}

/* Schema 10 reads an instance's history by its back-links: a row they do not reach
 * (inserted outside certflow, or its links changed) is found by verify, and a link
 * changed to point forward ends the walk instead of looping. */
static void test_unlinked_row_found(void **state)
{
    fixture *f = *state;
    cf__err err = {{0}};
    append_five(f->s, NULL);
    int n = 0;
    int64_t seq = -1;
    char id[37];
    assert_int_equal(cf__audit_instances(f->s, count_instances, &n, &err), CF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(cf__audit_orphan_row(f->s, &seq, id, &err), CF_OK);
    assert_int_equal(seq, 0); /* every row reached */

    /* inst-a's newest row moved back to 3: row 5 is reached by no walk. */
    raw_exec(f->path, "UPDATE instance SET last_seq = 3 WHERE id = 'inst-a'");
    assert_int_equal(cf__audit_instances(f->s, count_instances, &n, &err), CF_OK);
    assert_int_equal(cf__audit_orphan_row(f->s, &seq, id, &err), CF_OK);
    assert_int_equal(seq, 5);
    assert_string_equal(id, "inst-a");

    /* A link pointing forward (3 -> 5) ends the walk at 3: row 1 is missed, nothing loops. */
    raw_exec(f->path, "UPDATE instance SET last_seq = 5 WHERE id = 'inst-a'; DROP TRIGGER history_no_update;"
                      "UPDATE history SET prev_seq = 5 WHERE seq = 3");
    collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__audit_each(f->s, "inst-a", collect, &c, &err), CF_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(cf__audit_instances(f->s, count_instances, &n, &err), CF_OK);
    assert_int_equal(cf__audit_orphan_row(f->s, &seq, id, &err), CF_OK);
    assert_int_equal(seq, 1);
    assert_string_equal(id, "inst-a");

    /* A row inserted with the next number but not linked is refused by the append
     * itself: its number must follow the instance's newest row. */
    cf__history_row skip = make_row("inst-b", 4, "renew", "applied", NULL);
    assert_int_equal(cf__audit_append(f->s, &skip, &err), CF_ESTORE);
    assert_contains(err.msg, "its number 4 does not follow the instance's newest history row");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_format_with_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_find_each_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_no_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_row_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_hash_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_row_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reordered_rows_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_8_history_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_9_instance_index_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlinked_row_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
