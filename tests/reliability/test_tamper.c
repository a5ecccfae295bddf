/* test_tamper.c — `verify` means the whole database is sound (issue 8). Each
 * tamper is done as an attacker would, with SQLite directly on the file (triggers
 * dropped first where they stand in the way): a zeroed page; an UPDATE of an
 * instance's state, data, version or county, or of a timer; the newest history
 * rows deleted; a forged last row with a recomputed hash. Each must be found and
 * named by its kind, and writing refused afterwards with how to recover; a clean
 * database still verifies, and the anchor catches what nothing inside the file can. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include "internal.h" /* the forger uses the store's own append, as someone who read store_history.c would */

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 "2025-05-01T09:00:00Z"
#define N_JOBS 4

typedef struct fx {
    char *dir;
    char *db;
    cft_clock clock;
    char ids[N_JOBS][37];
    char *anchor; /* taken on the clean database */
} fx;

/* ---- raw SQLite, for the attacker and for counting ---- */

static void tamper(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("tampering with %s failed: %s (%s)", db, err ? err : "?", sql);
    sqlite3_close(h);
}

static int64_t raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Overwrite page `page` (1-based) of the file with zeros. */
static void zero_page(const char *db, int64_t page)
{
    int64_t size = raw_int(db, "PRAGMA page_size");
    FILE *f = fopen(db, "r+b");
    assert_non_null(f);
    char *zeros = calloc(1, (size_t)size);
    assert_int_equal(fseek(f, (long)((page - 1) * size), SEEK_SET), 0);
    assert_int_equal(fwrite(zeros, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    free(zeros);
}

/* ---- the engine's view ---- */

typedef struct found {
    char kinds[16][16];
    char messages[16][1024];
    char ids[16][37];
    int n;
} found;

static int collect(void *ud, const cf_verify_finding *f)
{
    found *fd = ud;
    if (fd->n < 16) {
        snprintf(fd->kinds[fd->n], sizeof fd->kinds[0], "%s", f->kind);
        snprintf(fd->messages[fd->n], sizeof fd->messages[0], "%s", f->message);
        snprintf(fd->ids[fd->n], sizeof fd->ids[0], "%s", f->instance_id ? f->instance_id : "");
        fd->n++;
    }
    return 0;
}

/* Index of the first finding of kind whose message holds needle, or fail. */
static int expect_finding(const found *fd, const char *kind, const char *needle)
{
    for (int i = 0; i < fd->n; i++)
        if (strcmp(fd->kinds[i], kind) == 0 && strstr(fd->messages[i], needle))
            return i;
    fprintf(stderr, "findings (%d):\n", fd->n);
    for (int i = 0; i < fd->n; i++)
        fprintf(stderr, "  %s: %s\n", fd->kinds[i], fd->messages[i]);
    fail_msg("no '%s' finding mentioning \"%s\"", kind, needle);
    return -1;
}

static bool has_kind(const found *fd, const char *kind)
{
    for (int i = 0; i < fd->n; i++)
        if (strcmp(fd->kinds[i], kind) == 0)
            return true;
    return false;
}

/* Verify db in a fresh engine with opts (NULL: defaults); the findings go to fd. */
static int verify_db(fx *f, const cf_verify_options *opts, found *fd, cf_verify_report *rep, char *msg, size_t n)
{
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    memset(fd, 0, sizeof *fd);
    int rc = cf_engine_verify_full(e, opts, collect, fd, rep);
    if (msg)
        snprintf(msg, n, "%s", cf_errmsg(e));
    cf_engine_close(e);
    return rc;
}

/* Every write is refused with how to recover, and changes nothing. */
static void expect_writes_refused(fx *f)
{
    int64_t rows = raw_int(f->db, "SELECT count(*) FROM history");
    int64_t insts = raw_int(f->db, "SELECT count(*) FROM instance");
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    char id[37];
    assert_int_equal(cf_instance_create(e, "job", "alameda", NULL, "test", id), CF_ECORRUPT);
    const char *m = cf_errmsg(e);
    assert_non_null(strstr(m, "found corrupt or tampered with"));
    assert_non_null(strstr(m, "restore the database from a backup"));
    assert_non_null(strstr(m, "cf_engine_verify_full shows what is wrong")); /* API terms, not the command's */
    assert_null(strstr(m, "`certflow"));
    assert_non_null(strstr(m, ".recover"));
    assert_int_equal(cf_instance_fire(e, f->ids[1], "bump", NULL, "test", NULL, NULL), CF_ECORRUPT);
    f->clock.now += 30 * 86400;
    assert_int_equal(cf_engine_tick(e, f->clock.now, NULL), CF_ECORRUPT);
    f->clock.now -= 30 * 86400;
    cf_engine_close(e);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM history"), rows);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM instance"), insts);
}

/* ---- fixture: four jobs with applied and rejected rows and pending timers ---- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "tamper.db");
    f->clock.now = cft_time(T0);
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    for (int i = 0; i < N_JOBS; i++) {
        assert_int_equal(cf_instance_create(e, "job", "alameda", "{\"owner\":\"ann\"}", "test", f->ids[i]), CF_OK);
        f->clock.now += 60;
    }
    cft_fire(e, f->ids[0], "start", NULL, CF_OK);   /* busy, deadline timer */
    cft_fire(e, f->ids[0], "bump", "{\"n\":1}", CF_OK);
    cft_fire(e, f->ids[1], "finish", NULL, CF_REJECTED); /* no transition: a rejected row */
    cft_fire(e, f->ids[2], "start", NULL, CF_OK);
    cft_fire(e, f->ids[2], "pause", NULL, CF_OK);   /* paused: no timer */
    cft_fire(e, f->ids[3], "bump", "{\"n\":2}", CF_OK); /* idle, its nudge stays */
    assert_int_equal(cf_engine_anchor(e, NULL, 0, &f->anchor), CF_OK);
    cf_engine_close(e);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_free(f->anchor);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void test_clean_database_verifies(void **state)
{
    fx *f = *state;
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    cf_verify_options o = CF_VERIFY_OPTIONS_INIT;
    o.anchor = f->anchor;
    char msg[CF__MSG_MAX];
    assert_int_equal(verify_db(f, &o, &fd, &rep, msg, sizeof msg), CF_OK);
    assert_int_equal(fd.n, 0);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(rep.instances, N_JOBS);
    assert_int_equal(rep.unproven, 0); /* every row of this version records what it left */
    assert_int_equal(rep.timers, 3);   /* two nudges and a deadline */
    assert_int_equal(rep.rows, raw_int(f->db, "SELECT count(*) FROM history"));
    assert_int_equal(rep.anchor_seq, rep.rows);
    /* The old call says the same, and an older caller's smaller report is filled as far as it goes. */
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    struct {
        size_t size;
        int64_t rows, first_bad;
    } old = {sizeof old, -1, -1};
    assert_int_equal(cf_engine_verify(e, (cf_verify_report *)&old), CF_OK);
    assert_int_equal(old.rows, rep.rows);
    assert_int_equal(old.first_bad, 0);
    /* ... and writing goes on */
    cft_fire(e, f->ids[3], "start", NULL, CF_OK);
    cf_engine_close(e);
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_OK);
}

static void test_zeroed_page_small_file_refused_at_open(void **state)
{
    fx *f = *state;
    int64_t root = raw_int(f->db, "SELECT rootpage FROM sqlite_master WHERE name = 'outbox'");
    assert_true(root > 1);
    zero_page(f->db, root);
    /* The file is small: the quick check at open finds it before anything writes. */
    expect_writes_refused(f);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    char msg[CF__MSG_MAX];
    assert_int_equal(verify_db(f, NULL, &fd, &rep, msg, sizeof msg), CF_ECORRUPT);
    expect_finding(&fd, "integrity", "the database file is damaged");
    assert_non_null(strstr(msg, "restore the database from a backup"));
    assert_non_null(strstr(msg, "integrity"));
}

static void test_zeroed_page_large_file_found_by_verify(void **state)
{
    fx *f = *state;
    /* A file past the open-time check's size: only verify, or a read that meets the page, finds it. */
    tamper(f->db, "CREATE TABLE filler(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
                  " INSERT INTO filler SELECT randomblob(1000) FROM n;");
    assert_true(raw_int(f->db, "PRAGMA page_count") > 256);
    int64_t root = raw_int(f->db, "SELECT rootpage FROM sqlite_master WHERE name = 'outbox'");
    zero_page(f->db, root);
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    char id[37];
    assert_int_equal(cf_instance_create(e, "job", "alameda", NULL, "test", id), CF_OK); /* not seen yet */
    found fd;
    memset(&fd, 0, sizeof fd);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify_full(e, NULL, collect, &fd, &rep), CF_ECORRUPT);
    expect_finding(&fd, "integrity", "the database file is damaged");
    assert_false(has_kind(&fd, "chain"));
    /* This handle refuses at once; every later one too (the mark is in the file). */
    assert_int_equal(cf_instance_create(e, "job", "alameda", NULL, "test", id), CF_ECORRUPT);
    cf_engine_close(e);
    expect_writes_refused(f);
}

static void test_state_update_found(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE instance SET state = 'paused' WHERE id = '%s'", f->ids[1]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    int i = expect_finding(&fd, "instance", "is in state 'paused', but its history");
    assert_string_equal(fd.ids[i], f->ids[1]);
    /* its nudge timer no longer belongs to the state it is in */
    expect_finding(&fd, "timer", "belongs to state 'idle', but the instance is in state 'paused'");
    assert_false(has_kind(&fd, "chain"));
    expect_writes_refused(f);
}

static void test_data_update_found(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE instance SET data = json_set(data, '$.owner', 'mallory') WHERE id = '%s'",
             f->ids[0]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    int i = expect_finding(&fd, "instance", "the data or county of instance");
    assert_string_equal(fd.ids[i], f->ids[0]);
    assert_int_equal(rep.problems, 1);
    expect_writes_refused(f);
}

static void test_county_update_found(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE instance SET county = 'fresno' WHERE id = '%s'", f->ids[2]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    int i = expect_finding(&fd, "instance", "the data or county of instance");
    assert_string_equal(fd.ids[i], f->ids[2]);
}

static void test_version_update_found(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE instance SET version = version - 1 WHERE id = '%s'", f->ids[0]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    int i = expect_finding(&fd, "instance", "is at version 2, but its history has 3 rows");
    assert_string_equal(fd.ids[i], f->ids[0]);
    expect_writes_refused(f);
}

static void test_timer_update_found(void **state)
{
    fx *f = *state;
    char sql[256];
    /* A day's grace nobody granted: the due time alone. */
    snprintf(sql, sizeof sql, "UPDATE timer SET due = due + 86400 WHERE instance_id = '%s'", f->ids[0]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    int i = expect_finding(&fd, "timer", "the pending timers of instance");
    assert_string_equal(fd.ids[i], f->ids[0]);
    assert_int_equal(rep.problems, 1);
    expect_writes_refused(f);
}

static void test_timer_insert_found(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO timer(instance_id, state, name, event, due) VALUES('%s', 'paused', 'wake', 'resume', 1)",
             f->ids[2]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_finding(&fd, "timer", "the pending timers of instance");
    expect_finding(&fd, "timer", "declares no such timer");
}

static void test_newest_rows_deleted_found(void **state)
{
    fx *f = *state;
    /* The newest two rows (ids[2]'s pause, ids[3]'s bump), triggers dropped first. */
    tamper(f->db, "DROP TRIGGER history_no_delete;"
                  " DELETE FROM history WHERE seq > (SELECT max(seq) - 2 FROM history);");
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    assert_false(has_kind(&fd, "chain")); /* what is left is a valid chain ... */
    int i = expect_finding(&fd, "instance", "but its history has");
    assert_string_equal(fd.ids[i], f->ids[2]); /* ... but the instances say more happened */
    expect_writes_refused(f);
}

static void test_newest_instance_removed_needs_the_anchor(void **state)
{
    fx *f = *state;
    /* The thorough attacker removes a whole instance whose rows are the newest. */
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    char late[37];
    assert_int_equal(cf_instance_create(e, "job", "alameda", NULL, "test", late), CF_OK);
    char *anchor = NULL;
    assert_int_equal(cf_engine_anchor(e, NULL, 0, &anchor), CF_OK);
    cf_engine_close(e);
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP TRIGGER history_no_delete; DELETE FROM timer WHERE instance_id = '%s';"
             " DELETE FROM history WHERE instance_id = '%s'; DELETE FROM instance WHERE id = '%s';",
             late, late, late);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    /* Inside the file nothing is left to see: what verify cannot prove without an anchor. */
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_OK);
    cf_verify_options o = CF_VERIFY_OPTIONS_INIT;
    o.anchor = anchor;
    char msg[CF__MSG_MAX];
    assert_int_equal(verify_db(f, &o, &fd, &rep, msg, sizeof msg), CF_ECORRUPT);
    expect_finding(&fd, "anchor", "the newest rows were removed");
    assert_non_null(strstr(msg, "the anchor names row"));
    cf_free(anchor);
    expect_writes_refused(f);
}

/* Delete the newest row and append a forged one in its place through the store's
 * own append: its hash, link and result hashes are all as certflow would write them. */
static void forge_last_row(fx *f)
{
    tamper(f->db, "DROP TRIGGER history_no_delete; DELETE FROM history WHERE seq = (SELECT max(seq) FROM history);"
                  /* and the instance's link to its newest row (SQLite schema 11), as certflow would leave it */
                  "UPDATE instance SET last_seq = (SELECT max(h.seq) FROM history h WHERE h.instance_id = instance.id);");
    cf__store *s = NULL;
    cf__err err = {{0}};
    if (cf__store_open(f->db, 0, &s, &err) != CF_OK)
        fail_msg("open: %s", err.msg);
    cf__instance_row inst;
    assert_int_equal(cf__store_instance_get(s, f->ids[3], &inst, &err), CF_OK);
    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    cf__history_row h;
    memset(&h, 0, sizeof h);
    h.number = 2;
    h.instance_id = f->ids[3];
    h.at = h.effective_at = cft_time(T0);
    h.actor = "supervisor"; /* the forgery: someone else did it */
    h.event = "bump";
    h.data = "{}";
    h.outcome = "applied";
    h.from_state = h.to_state = "idle";
    h.reasons = "[]";
    h.policy_hash = "0000000000000000000000000000000000000000000000000000000000000000";
    h.def_hash = inst.def_hash;
    h.result_data = inst.data;
    h.result_county = inst.county;
    assert_int_equal(cf__audit_append(s, &h, &err), CF_OK);
    assert_int_equal(cf__store_commit(s, &err), CF_OK);
    cf__instance_row_clear(&inst);
    cf__store_close(s);
}

static void test_forged_last_row_needs_the_anchor(void **state)
{
    fx *f = *state;
    forge_last_row(f);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    /* Chain, instances and timers are all consistent: the forgery is complete inside the file. */
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_OK);
    cf_verify_options o = CF_VERIFY_OPTIONS_INIT;
    o.anchor = f->anchor;
    assert_int_equal(verify_db(f, &o, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_finding(&fd, "anchor", "does not have the hash the anchor recorded");
    expect_writes_refused(f);
}

static void test_signed_anchor(void **state)
{
    fx *f = *state;
    static const char key[] = "kept-by-the-operator";
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    char *anchor = NULL;
    assert_int_equal(cf_engine_anchor(e, key, sizeof key - 1, &anchor), CF_OK);
    assert_non_null(strstr(anchor, " hmac-sha256="));
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    cf_verify_options o = CF_VERIFY_OPTIONS_INIT;
    o.anchor = anchor;
    /* A signed anchor needs its key; a key needs a signed anchor; malformed text is refused. */
    assert_int_equal(cf_engine_verify_full(e, &o, NULL, NULL, &rep), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "give the key"));
    o.anchor = f->anchor;
    o.key = key;
    o.key_len = sizeof key - 1;
    assert_int_equal(cf_engine_verify_full(e, &o, NULL, NULL, &rep), CF_EINVAL);
    o.anchor = "certflow-anchor-v1 seq=2 hash=abc";
    assert_int_equal(cf_engine_verify_full(e, &o, NULL, NULL, &rep), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "the anchor is not one certflow wrote"));
    cf_engine_close(e);

    o.anchor = anchor;
    assert_int_equal(verify_db(f, &o, &fd, &rep, NULL, 0), CF_OK);
    /* A wrong key, or an anchor edited to match a forged head, fails its signature. */
    o.key = "guess";
    o.key_len = 5;
    assert_int_equal(verify_db(f, &o, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_finding(&fd, "anchor", "signature does not match");
    /* (that finding marked the file: a correct verify clears the mark again) */
    o.key = key;
    o.key_len = sizeof key - 1;
    assert_int_equal(verify_db(f, &o, &fd, &rep, NULL, 0), CF_OK);
    forge_last_row(f);
    assert_int_equal(verify_db(f, &o, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_finding(&fd, "anchor", "does not have the hash the anchor recorded");
    cf_free(anchor);
}

static void test_result_hash_cannot_be_dropped(void **state)
{
    fx *f = *state;
    /* Clearing what a row recorded would make it an unprovable "old" row: it breaks its hash instead. */
    tamper(f->db, "DROP TRIGGER history_no_update;"
                  " UPDATE history SET data_hash = NULL, timers_hash = NULL WHERE seq = (SELECT max(seq) FROM history);");
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_finding(&fd, "chain", "does not match its hash");
    assert_int_equal(rep.first_bad, raw_int(f->db, "SELECT max(seq) FROM history"));
}

static void test_restored_database_writes_again(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE instance SET state = 'busy' WHERE id = '%s'", f->ids[3]);
    tamper(f->db, sql);
    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_writes_refused(f);
    /* Put right (as a restore would), a verify that finds nothing lifts the refusal. */
    snprintf(sql, sizeof sql, "UPDATE instance SET state = 'idle' WHERE id = '%s'", f->ids[3]);
    tamper(f->db, sql);
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_OK);
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    cft_fire(e, f->ids[3], "start", NULL, CF_OK);
    cf_engine_close(e);
}

static void test_corruption_met_while_writing_refuses_more(void **state)
{
    fx *f = *state;
    /* A large file (no check at open) whose history's page is zeroed: the write meets it. */
    tamper(f->db, "CREATE TABLE filler(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
                  " INSERT INTO filler SELECT randomblob(1000) FROM n;");
    assert_true(raw_int(f->db, "PRAGMA page_count") > 256);
    int64_t root = raw_int(f->db, "SELECT rootpage FROM sqlite_master WHERE name = 'history'");
    zero_page(f->db, root);
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    int rc = cf_instance_fire(e, f->ids[3], "start", NULL, "test", NULL, NULL);
    assert_int_equal(rc, CF_ECORRUPT);
    assert_non_null(strstr(cf_errmsg(e), "malformed")); /* SQLite's own words, met by the append */
    char id[37];
    assert_int_equal(cf_instance_create(e, "job", "alameda", NULL, "test", id), CF_ECORRUPT);
    assert_non_null(strstr(cf_errmsg(e), "found corrupt or tampered with"));
    cf_engine_close(e);
    expect_writes_refused(f);
}

/* Without any verify: the next write to a changed instance refuses to record
 * the change as if certflow had made it. */
static void test_changed_instance_is_not_written_over(void **state)
{
    fx *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE instance SET data = json_set(data, '$.owner', 'mallory') WHERE id = '%s'",
             f->ids[0]);
    tamper(f->db, sql);
    int64_t rows = raw_int(f->db, "SELECT count(*) FROM history");
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    assert_int_equal(cf_instance_fire(e, f->ids[0], "finish", NULL, "test", NULL, NULL), CF_ECORRUPT);
    assert_non_null(strstr(cf_errmsg(e), "the data or county of instance"));
    assert_non_null(strstr(cf_errmsg(e), "certflow does not write over it"));
    cf_engine_close(e);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM history"), rows);
    expect_writes_refused(f);
}

static void test_changed_state_stops_its_timer(void **state)
{
    fx *f = *state;
    char sql[256];
    /* ids[3] idles with a nudge due in two hours; someone moves it to busy */
    snprintf(sql, sizeof sql, "UPDATE instance SET state = 'busy' WHERE id = '%s'", f->ids[3]);
    tamper(f->db, sql);
    char count[160];
    snprintf(count, sizeof count, "SELECT count(*) FROM history WHERE instance_id = '%s'", f->ids[3]);
    int64_t rows = raw_int(f->db, count);
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    uint64_t fired = 0;
    /* (ids[1]'s nudge, due first, fires as usual) */
    assert_int_equal(cf_engine_tick(e, f->clock.now + 86400, &fired), CF_ECORRUPT);
    assert_non_null(strstr(cf_errmsg(e), "the state of instance"));
    cf_engine_close(e);
    assert_int_equal(raw_int(f->db, count), rows);
    snprintf(count, sizeof count, "SELECT count(*) FROM timer WHERE instance_id = '%s'", f->ids[3]);
    assert_int_equal(raw_int(f->db, count), 1); /* its nudge stays pending */
    expect_writes_refused(f);
}

/* An instance whose newest row was written before schema 4 (no result hashes):
 * its state and version are checked, its data cannot be, and verify says how many. */
static void test_rows_from_before_schema_4_still_verify(void **state)
{
    fx *f = *state;
    cf__store *s = NULL;
    cf__err err = {{0}};
    if (cf__store_open(f->db, 0, &s, &err) != CF_OK)
        fail_msg("open: %s", err.msg);
    cf__instance_row inst;
    assert_int_equal(cf__store_instance_get(s, f->ids[0], &inst, &err), CF_OK);
    cf__instance_row old = {0};
    snprintf(old.id, sizeof old.id, "00000000-0000-4000-8000-000000000077");
    old.workflow = inst.workflow;
    old.def_hash = inst.def_hash;
    old.county = inst.county;
    old.state = (char *)"paused";
    old.data = (char *)"{\"owner\":\"old\"}";
    old.created_at = old.updated_at = cft_time(T0);
    old.version = 1;
    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    assert_int_equal(cf__store_instance_insert(s, &old, &err), CF_OK);
    cf__history_row h;
    memset(&h, 0, sizeof h);
    h.number = 1;
    h.instance_id = old.id;
    h.at = h.effective_at = cft_time(T0);
    h.actor = "test";
    h.event = "";
    h.data = "{}";
    h.outcome = "created";
    h.from_state = "";
    h.to_state = "paused";
    h.reasons = "[]";
    h.policy_hash = inst.def_hash;
    h.def_hash = inst.def_hash; /* result_data NULL: a row as schema 2 wrote it */
    assert_int_equal(cf__audit_append(s, &h, &err), CF_OK);
    assert_int_equal(cf__store_commit(s, &err), CF_OK);
    cf__instance_row_clear(&inst);
    cf__store_close(s);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM history WHERE data_hash IS NULL"), 1);

    found fd;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_OK);
    assert_int_equal(rep.unproven, 1);
    assert_int_equal(rep.instances, N_JOBS + 1);
    /* its data is beyond proof; its state is not */
    tamper(f->db, "UPDATE instance SET data = '{\"owner\":\"mallory\"}' WHERE id = '00000000-0000-4000-8000-000000000077'");
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_OK);
    tamper(f->db, "UPDATE instance SET state = 'busy' WHERE id = '00000000-0000-4000-8000-000000000077'");
    assert_int_equal(verify_db(f, NULL, &fd, &rep, NULL, 0), CF_ECORRUPT);
    expect_finding(&fd, "instance", "is in state 'busy'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_database_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_page_small_file_refused_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_page_large_file_found_by_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_update_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_update_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_county_update_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_update_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_update_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_insert_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_rows_deleted_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_instance_removed_needs_the_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_last_row_needs_the_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_hash_cannot_be_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restored_database_writes_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corruption_met_while_writing_refuses_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_instance_is_not_written_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_state_stops_its_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_from_before_schema_4_still_verify, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
