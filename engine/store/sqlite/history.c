/*
 * history.c — the SQLite backend's history: an append-only table of every
 * event, each row chained to the one before it by SHA-256 so that `verify` finds
 * any change made outside certflow.
 *
 * The audit format (what a row hashes) is engine/history_hash.c's, the same on every
 * backend; this file keeps the rows in SQLite.
 */
#include "store/sqlite/sqlite_private.h"
#include "integrity/history_hash.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading rows ---- */

/* Point row at the current result of a statement reading HISTORY_COLS (store.c); lens (may be
 * NULL) gets the stored length of each text field. */
static void row_borrow(sqlite3_stmt *st, cf__history_row *row, size_t lens[CF__HF_COUNT])
{
    static const int col[CF__HF_COUNT] = {2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    const char *f[CF__HF_COUNT];
    size_t n[CF__HF_COUNT];
    for (int i = 0; i < CF__HF_COUNT; i++) {
        f[i] = (const char *)sqlite3_column_text(st, col[i]);
        n[i] = (size_t)sqlite3_column_bytes(st, col[i]);
    }
    memset(row, 0, sizeof *row);
    row->seq = sqlite3_column_int64(st, 0);
    row->number = sqlite3_column_int64(st, 1);
    row->at = sqlite3_column_int64(st, 3);
    row->effective_at = sqlite3_column_int64(st, 4);
    row->instance_id = f[CF__HF_INSTANCE];
    row->actor = f[CF__HF_ACTOR];
    row->event = f[CF__HF_EVENT];
    row->data = f[CF__HF_DATA];
    row->outcome = f[CF__HF_OUTCOME];
    row->from_state = f[CF__HF_FROM];
    row->to_state = f[CF__HF_TO];
    row->reasons = f[CF__HF_REASONS];
    row->policy_hash = f[CF__HF_POLICY];
    row->def_hash = f[CF__HF_DEF];
    row->idem_key = f[CF__HF_KEY];
    const char *prev = (const char *)sqlite3_column_text(st, 15);
    const char *hash = (const char *)sqlite3_column_text(st, 16);
    snprintf(row->prev_hash, sizeof row->prev_hash, "%s", prev ? prev : "");
    snprintf(row->hash, sizeof row->hash, "%s", hash ? hash : "");
    const char *dh = (const char *)sqlite3_column_text(st, 17);
    const char *th = (const char *)sqlite3_column_text(st, 18);
    snprintf(row->data_hash, sizeof row->data_hash, "%s", dh ? dh : "");
    snprintf(row->timers_hash, sizeof row->timers_hash, "%s", th ? th : "");
    if (lens)
        memcpy(lens, n, sizeof n);
}

/* ---- append ---- */

/* Hex SHA-256 of an instance's pending timers ordered by state then id (see the top of this file). */
static int timers_hash(cf__sqlite *s, const char *instance_id, char out[CF__HASH_HEX], cf__err *err)
{
    sqlite3_stmt *st = s->audit[CF__AUDIT_TIMERS];
    cf__preimage b;
    cf__preimage_init(&b);
    int rc = sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 3; c++)
            cf__preimage_bytes(&b, (const char *)sqlite3_column_text(st, c), (size_t)sqlite3_column_bytes(st, c));
        cf__preimage_int(&b, sqlite3_column_int64(st, 3));
        rc = SQLITE_OK;
    }
    int r = CF_OK;
    if (rc != SQLITE_DONE)
        r = cf__sqlite_fail(s, rc, "reading an instance's timers", err);
    else if (cf__preimage_finish(&b, out) != CF_OK)
        r = cf__fail(err, CF_ENOMEM, "out of memory hashing an instance's timers");
    cf__preimage_free(&b);
    cf__sqlite_done(st);
    return r;
}

int cf__sqlite_audit_result_hashes(cf__sqlite *s, const char *instance_id, const char *county, const char *data,
                            char data_hashed[CF__HASH_HEX], char timers[CF__HASH_HEX], cf__err *err)
{
    int rc = cf__history_data_hash(county, data, data_hashed, err);
    return rc == CF_OK ? timers_hash(s, instance_id, timers, err) : rc;
}

int cf__sqlite_audit_check_instance(cf__sqlite *s, const char *id, int64_t version, const char *state, const char *county,
                             const char *data, cf__err *err)
{
    /* Version 0: no history yet (cf_policy_test's scratch instances). Setting it to 0
     * skips nothing an attacker wants: the next row would be number 1 again,
     * which the append refuses (a number must follow the instance's newest row),
     * and verify names the version. */
    if (version == 0)
        return CF_OK;
    sqlite3_stmt *st = s->audit[CF__AUDIT_AT];
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, version);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        int r = cf__sqlite_fail(s, rc, "reading an instance's newest history row", err);
        cf__sqlite_done(st);
        return r;
    }
    const char *what = NULL;
    int64_t seq = 0;
    int r = CF_OK;
    if (rc == SQLITE_DONE) {
        what = "version";
    } else {
        seq = sqlite3_column_int64(st, 0);
        const char *to = (const char *)sqlite3_column_text(st, 1);
        const char *recorded = (const char *)sqlite3_column_text(st, 2);
        char now[CF__HASH_HEX];
        if (!to || strcmp(to, state) != 0)
            what = "state";
        else if (recorded && *recorded && (r = cf__history_data_hash(county, data, now, err)) == CF_OK && strcmp(now, recorded) != 0)
            what = "data or county";
    }
    cf__sqlite_done(st);
    if (r != CF_OK || !what)
        return r;
    char why[200];
    snprintf(why, sizeof why, "the %s of instance %.36s was changed outside certflow", what, id);
    cf__sqlite_mark_set(s, why);
    if (seq)
        return cf__fail(err, CF_ECORRUPT,
                        "the %s of instance %s is not what its history row %lld recorded: it was changed outside "
                        "certflow, and certflow does not write over it; restore the database from a backup "
                        "(cf_engine_verify_full shows everything that is wrong)",
                        what, id, (long long)seq);
    return cf__fail(err, CF_ECORRUPT,
                    "instance %s is at version %lld, which its history does not have: it was changed outside "
                    "certflow, and certflow does not write over it; restore the database from a backup "
                    "(cf_engine_verify_full shows everything that is wrong)",
                    id, (long long)version);
}

int cf__sqlite_audit_append(cf__sqlite *s, cf__history_row *row, cf__err *err)
{
    sqlite3_stmt *st = s->audit[CF__AUDIT_LAST];
    int64_t last = 0;
    int rc = cf__sqlite_refuse_if_corrupt(s, err);
    if (rc != CF_OK)
        return rc;
    row->data_hash[0] = row->timers_hash[0] = '\0';
    if (row->result_data) {
        rc = cf__sqlite_audit_result_hashes(s, row->instance_id, row->result_county, row->result_data, row->data_hash,
                                     row->timers_hash, err);
        if (rc != CF_OK)
            return rc;
    }
    if (s->last_known) {
        /* Appended by this handle earlier in the same write transaction: nobody
         * else can have appended since (see cf__sqlite.last_known). */
        last = s->last_seq;
        memcpy(row->prev_hash, s->last_hash, sizeof row->prev_hash);
    } else {
        memcpy(row->prev_hash, cf__history_genesis, sizeof cf__history_genesis);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            last = sqlite3_column_int64(st, 0);
            const char *h = (const char *)sqlite3_column_text(st, 1);
            snprintf(row->prev_hash, sizeof row->prev_hash, "%s", h ? h : "");
        } else if (rc != SQLITE_DONE) {
            int r = cf__sqlite_fail(s, rc, "reading the last history row", err);
            cf__sqlite_done(st);
            return r;
        }
        cf__sqlite_done(st);
    }
    row->seq = last + 1;
    if (cf__history_hash(row, NULL, row->hash) != CF_OK)
        return cf__fail(err, CF_ENOMEM, "out of memory hashing a history row");

    st = s->audit[CF__AUDIT_INSERT];
    const char *f[CF__HF_COUNT];
    cf__history_text_fields(row, f);
    rc = SQLITE_OK;
    int64_t ints[] = {row->seq, row->number};
    for (int i = 0; i < 2 && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_int64(st, i + 1, ints[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, f[CF__HF_INSTANCE], -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, row->at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, row->effective_at);
    for (int i = CF__HF_ACTOR; i < CF__HF_COUNT && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_text(st, 6 + (i - CF__HF_ACTOR), f[i], -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 16, row->prev_hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 17, row->hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && row->data_hash[0])
        rc = sqlite3_bind_text(st, 18, row->data_hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && row->timers_hash[0])
        rc = sqlite3_bind_text(st, 19, row->timers_hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE && sqlite3_changes(s->db) != 1) {
        /* The instance is missing, or its newest row is not number - 1 (what the unique
         * index history_by_number refused before schema 11). */
        cf__sqlite_done(st);
        return cf__fail(err, CF_ESTORE,
                        "recording event '%s' in the history of instance %s: its number %" PRId64 " does not follow "
                        "the instance's newest history row, or the instance does not exist; nothing was written "
                        "(`certflow verify` checks the database)",
                        row->event ? row->event : "", row->instance_id ? row->instance_id : "", row->number);
    }
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        sqlite3_stmt *link = s->audit[CF__AUDIT_LINK];
        rc = sqlite3_bind_text(link, 1, row->instance_id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(link, 2, row->seq);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(link);
        if (rc != SQLITE_DONE) {
            int r = cf__sqlite_fail(s, rc, "linking an instance to its newest history row", err);
            cf__sqlite_done(link);
            return r;
        }
        cf__sqlite_done(link);
        s->last_known = true;
        s->last_seq = row->seq;
        memcpy(s->last_hash, row->hash, sizeof s->last_hash);
        return CF_OK;
    }
    int r;
    if (rc == SQLITE_CONSTRAINT_UNIQUE && row->idem_key && strstr(sqlite3_errmsg(s->db), "idem_key")) {
        r = cf__fail(err, CF_ECONFLICT,
                     "idempotency key '%s' was already used for instance %s; use a new key for a new event",
                     row->idem_key, row->instance_id);
    } else {
        char what[128];
        snprintf(what, sizeof what, "recording event '%s' in the history of instance %s", row->event ? row->event : "",
                 row->instance_id ? row->instance_id : "");
        r = cf__sqlite_fail(s, rc, what, err);
    }
    cf__sqlite_done(st);
    return r;
}

/* ---- queries ---- */

int cf__sqlite_audit_find_key(cf__sqlite *s, const char *instance_id, const char *key, cf__history_row *row,
                       cf__buf *keep, cf__err *err)
{
    sqlite3_stmt *st = s->audit[CF__AUDIT_FIND_KEY];
    int rc = sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return cf__fail(err, CF_ENOTFOUND, "idempotency key '%s' has not been used for instance %s", key,
                        instance_id);
    }
    if (rc != SQLITE_ROW) {
        int r = cf__sqlite_fail(s, rc, "looking up an idempotency key", err);
        cf__sqlite_done(st);
        return r;
    }
    size_t lens[CF__HF_COUNT];
    row_borrow(st, row, lens);
    const char *f[CF__HF_COUNT];
    cf__history_text_fields(row, f);
    /* Appending may move keep->data: record offsets now, make pointers after. */
    size_t off[CF__HF_COUNT];
    for (int i = 0; i < CF__HF_COUNT; i++) {
        off[i] = keep->len;
        if (f[i])
            cf__buf_append(keep, f[i], lens[i] + 1); /* with its NUL */
    }
    cf__sqlite_done(st);
    if (keep->oom || !keep->data)
        return cf__fail(err, CF_ENOMEM, "out of memory reading the history of instance %s", instance_id);
    const char *p[CF__HF_COUNT];
    for (int i = 0; i < CF__HF_COUNT; i++)
        p[i] = f[i] ? keep->data + off[i] : NULL;
    row->instance_id = p[CF__HF_INSTANCE];
    row->actor = p[CF__HF_ACTOR];
    row->event = p[CF__HF_EVENT];
    row->data = p[CF__HF_DATA];
    row->outcome = p[CF__HF_OUTCOME];
    row->from_state = p[CF__HF_FROM];
    row->to_state = p[CF__HF_TO];
    row->reasons = p[CF__HF_REASONS];
    row->policy_hash = p[CF__HF_POLICY];
    row->def_hash = p[CF__HF_DEF];
    row->idem_key = p[CF__HF_KEY];
    return CF_OK;
}

int cf__sqlite_audit_each(cf__sqlite *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = s->audit[CF__AUDIT_EACH];
    int rc = sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__history_row row;
        row_borrow(st, &row, NULL);
        rc = fn(ud, &row) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    int r = CF_OK;
    if (rc != SQLITE_DONE)
        r = cf__sqlite_fail(s, rc, "reading the history", err);
    cf__sqlite_done(st);
    return r;
}

int cf__sqlite_audit_verify(cf__sqlite *s, int64_t *rows, int64_t *first_bad, cf__err *err)
{
    sqlite3_stmt *st = s->audit[CF__AUDIT_ALL];
    char expect[CF__HASH_HEX];
    memcpy(expect, cf__history_genesis, sizeof cf__history_genesis);
    int64_t prev_seq = 0, count = 0;
    *rows = 0;
    *first_bad = 0;
    int rc, r = CF_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__history_row row;
        size_t lens[CF__HF_COUNT];
        row_borrow(st, &row, lens);
        count++;
        char again[CF__HASH_HEX];
        if (strcmp(row.prev_hash, expect) != 0) {
            *first_bad = row.seq;
            if (prev_seq)
                r = cf__fail(err, CF_ECORRUPT,
                             "history row %" PRId64 " does not follow row %" PRId64
                             ": a row was removed or inserted outside certflow; restore the database from a "
                             "backup; the rows before %" PRId64 " are intact",
                             row.seq, prev_seq, row.seq);
            else
                r = cf__fail(err, CF_ECORRUPT,
                             "history row %" PRId64 " does not follow the start of the chain: a row was removed "
                             "or inserted outside certflow; restore the database from a backup",
                             row.seq);
            break;
        }
        if (cf__history_hash(&row, lens, again) != CF_OK) {
            r = cf__fail(err, CF_ENOMEM, "out of memory verifying the history");
            break;
        }
        if (strcmp(again, row.hash) != 0) {
            *first_bad = row.seq;
            r = cf__fail(err, CF_ECORRUPT,
                         "history row %" PRId64 " (instance %s, event '%s') does not match its hash: it was "
                         "changed outside certflow; restore the database from a backup; the rows before %" PRId64
                         " are intact",
                         row.seq, row.instance_id ? row.instance_id : "?", row.event ? row.event : "?", row.seq);
            break;
        }
        memcpy(expect, row.hash, sizeof expect);
        prev_seq = row.seq;
    }
    if (r == CF_OK && rc != SQLITE_DONE)
        r = cf__sqlite_fail(s, rc, "reading the history to verify it", err);
    cf__sqlite_done(st);
    *rows = count;
    return r;
}

/* ---- what verify reads (engine/verify.c decides what is wrong) ---- */

int cf__sqlite_audit_read_begin(cf__sqlite *s, bool *began, cf__err *err)
{
    *began = false;
    if (!sqlite3_get_autocommit(s->db))
        return CF_OK; /* a batch is open: verify sees it as this handle does */
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return cf__sqlite_fail(s, rc, "starting the read transaction of verify", err);
    *began = true;
    return CF_OK;
}

void cf__sqlite_audit_read_end(cf__sqlite *s, bool began)
{
    if (began && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

/* Prepare a statement of verify's (run once per verify). */
static int prepare_verify(cf__sqlite *s, const char *sql, sqlite3_stmt **st, const char *what, cf__err *err)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc == SQLITE_OK)
        return CF_OK;
    sqlite3_finalize(*st);
    *st = NULL;
    return cf__sqlite_fail(s, rc, what, err);
}

int cf__sqlite_audit_integrity(cf__sqlite *s, bool quick, cf__text_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    const char *what = "checking the file's integrity";
    int r = prepare_verify(s, quick ? "PRAGMA quick_check(100)" : "PRAGMA integrity_check(100)", &st, what, err);
    if (r != CF_OK)
        return r;
    int rc;
    bool stop = false;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        if (line && strcmp(line, "ok") != 0)
            stop = fn(ud, line) != 0;
    }
    if (!stop && rc != SQLITE_DONE)
        r = cf__sqlite_fail(s, rc, what, err);
    sqlite3_finalize(st);
    return r;
}

enum { VI_INST, VI_COUNT, VI_LAST, VI_SCAN_COUNT, VI_SCAN_LAST, VI_NSTMT };

int cf__sqlite_audit_instances(cf__sqlite *s, cf__verify_inst_fn fn, void *ud, cf__err *err)
{
    static const char *const sql[VI_NSTMT] = {
        [VI_INST] = "SELECT i.id, i.workflow, i.def_hash, i.county, i.state, i.data, i.version, d.name,"
                    " i.last_seq IS NOT NULL FROM instance i LEFT JOIN workflow_def d ON d.hash = i.def_hash"
                    " ORDER BY i.rowid",
        [VI_COUNT] = "WITH RECURSIVE " CF__SQLITE_CHAIN " SELECT count(*), coalesce(min(number), 0),"
                     " coalesce(max(number), 0) FROM history WHERE seq IN (SELECT s FROM chain) AND instance_id = ?1",
        [VI_LAST] = "SELECT h.seq, h.outcome, h.to_state, h.def_hash, h.data_hash, h.timers_hash FROM instance i"
                    " JOIN history h ON h.seq = i.last_seq AND h.instance_id = i.id WHERE i.id = ?1",
        /* An instance that names a newest row its links do not reach (the row was removed
         * outside certflow): its rows are found by reading the whole history, so that the
         * finding says how many are left. Only a tampered database gets here. */
        [VI_SCAN_COUNT] = "SELECT count(*), coalesce(min(number), 0), coalesce(max(number), 0) FROM history"
                          " NOT INDEXED WHERE instance_id = ?1",
        [VI_SCAN_LAST] = "SELECT seq, outcome, to_state, def_hash, data_hash, timers_hash FROM history NOT INDEXED"
                         " WHERE instance_id = ?1 ORDER BY number DESC, seq DESC LIMIT 1",
    };
    const char *what = "reading the instances to verify them";
    sqlite3_stmt *st[VI_NSTMT] = {NULL};
    int r = CF_OK;
    for (int i = 0; i < VI_NSTMT && r == CF_OK; i++)
        r = prepare_verify(s, sql[i], &st[i], what, err);
    int rc = SQLITE_OK;
    int64_t reached = 0;
    s->verify_reached = -1;
    while (r == CF_OK && (rc = sqlite3_step(st[VI_INST])) == SQLITE_ROW) {
        cf__verify_inst v;
        memset(&v, 0, sizeof v);
        sqlite3_stmt *q = st[VI_INST];
        v.id = (const char *)sqlite3_column_text(q, 0);
        v.workflow = (const char *)sqlite3_column_text(q, 1);
        v.def_hash = (const char *)sqlite3_column_text(q, 2);
        v.county = (const char *)sqlite3_column_text(q, 3);
        v.state = (const char *)sqlite3_column_text(q, 4);
        const char *data = (const char *)sqlite3_column_text(q, 5);
        v.version = sqlite3_column_int64(q, 6);
        v.def_name = (const char *)sqlite3_column_text(q, 7);
        if (!v.id || !v.workflow || !v.def_hash || !v.county || !v.state || !data) {
            r = cf__fail(err, CF_ENOMEM, "out of memory reading the instances to verify them");
            break;
        }
        bool linked = sqlite3_column_int(q, 8) != 0;
        for (int k = VI_COUNT; k < VI_NSTMT && rc == SQLITE_ROW; k++)
            rc = sqlite3_bind_text(st[k], 1, v.id, -1, SQLITE_STATIC) == SQLITE_OK ? SQLITE_ROW : SQLITE_NOMEM;
        int count = VI_COUNT, last = VI_LAST;
        int crc = rc == SQLITE_ROW ? sqlite3_step(st[VI_COUNT]) : rc;
        if (crc == SQLITE_ROW && linked && sqlite3_column_int64(st[VI_COUNT], 0) == 0) {
            count = VI_SCAN_COUNT;
            last = VI_SCAN_LAST;
            crc = sqlite3_step(st[count]);
        }
        if (crc == SQLITE_ROW) {
            v.rows = sqlite3_column_int64(st[count], 0);
            v.min_number = sqlite3_column_int64(st[count], 1);
            v.max_number = sqlite3_column_int64(st[count], 2);
            if (count == VI_COUNT)
                reached += v.rows;
            crc = sqlite3_step(st[last]);
        }
        if (crc == SQLITE_ROW) {
            sqlite3_stmt *l = st[last];
            v.last_seq = sqlite3_column_int64(l, 0);
            v.last_outcome = (const char *)sqlite3_column_text(l, 1);
            v.last_to_state = (const char *)sqlite3_column_text(l, 2);
            v.last_def_hash = (const char *)sqlite3_column_text(l, 3);
            const char *rd = (const char *)sqlite3_column_text(l, 4);
            const char *rt = (const char *)sqlite3_column_text(l, 5);
            v.proven = rd && rt && *rd && *rt;
            if (v.proven) {
                char now_d[CF__HASH_HEX], now_t[CF__HASH_HEX];
                r = cf__sqlite_audit_result_hashes(s, v.id, v.county, data, now_d, now_t, err);
                v.data_ok = r == CF_OK && strcmp(now_d, rd) == 0;
                v.timers_ok = r == CF_OK && strcmp(now_t, rt) == 0;
            }
            crc = SQLITE_DONE;
        }
        if (r == CF_OK && crc != SQLITE_DONE)
            r = cf__sqlite_fail(s, crc, what, err);
        if (r == CF_OK && fn(ud, &v) != 0)
            rc = SQLITE_DONE;
        else
            rc = SQLITE_ROW;
        for (int k = VI_COUNT; k < VI_NSTMT; k++)
            cf__sqlite_done(st[k]);
        if (rc == SQLITE_DONE)
            break;
    }
    if (r == CF_OK && rc != SQLITE_DONE)
        r = cf__sqlite_fail(s, rc, what, err);
    if (r == CF_OK && sqlite3_stmt_busy(st[VI_INST]) == 0)
        s->verify_reached = reached; /* every instance walked */
    for (int i = 0; i < VI_NSTMT; i++)
        sqlite3_finalize(st[i]);
    return r;
}

int cf__sqlite_audit_orphan_row(cf__sqlite *s, int64_t *seq, char id[37], cf__err *err)
{
    *seq = 0;
    id[0] = '\0';
    sqlite3_stmt *st = NULL;
    const char *what = "looking for history rows without an instance";
    int r = prepare_verify(s,
                           "SELECT seq, instance_id FROM history WHERE instance_id NOT IN (SELECT id FROM instance)"
                           " ORDER BY seq LIMIT 1",
                           &st, what, err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 1);
        *seq = sqlite3_column_int64(st, 0);
        snprintf(id, 37, "%s", t ? t : "");
    } else if (rc != SQLITE_DONE) {
        r = cf__sqlite_fail(s, rc, what, err);
    }
    sqlite3_finalize(st);
    if (r != CF_OK || *seq || s->verify_reached < 0)
        return r;
    /* Every row belongs to an instance that exists: the instances' back-links must reach
     * them all (a row no walk reaches was inserted, or its links changed, outside
     * certflow). The walks of cf__sqlite_audit_instances counted what they reached; only
     * when that falls short is the first row they miss looked for. */
    int64_t total = 0;
    r = prepare_verify(s, "SELECT count(*) FROM history", &st, what, err);
    if (r != CF_OK)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        total = sqlite3_column_int64(st, 0);
    else
        r = cf__sqlite_fail(s, rc, what, err);
    sqlite3_finalize(st);
    if (r != CF_OK || total == s->verify_reached)
        return r;
    r = prepare_verify(s,
                       "WITH RECURSIVE reach(s, id) AS (SELECT last_seq, id FROM instance WHERE last_seq IS NOT NULL"
                       " UNION ALL SELECT h.prev_seq, r.id FROM reach r JOIN history h ON h.seq = r.s"
                       " AND h.instance_id = r.id WHERE h.prev_seq < h.seq)"
                       " SELECT seq, instance_id FROM history WHERE seq NOT IN (SELECT r.s FROM reach r"
                       " JOIN history h ON h.seq = r.s AND h.instance_id = r.id) ORDER BY seq LIMIT 1",
                       &st, what, err);
    if (r != CF_OK)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 1);
        *seq = sqlite3_column_int64(st, 0);
        snprintf(id, 37, "%s", t ? t : "");
    } else if (rc != SQLITE_DONE) {
        r = cf__sqlite_fail(s, rc, what, err);
    }
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_audit_timers(cf__sqlite *s, cf__verify_timer_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    const char *what = "reading the timers to verify them";
    int r = prepare_verify(s,
                           "SELECT t.id, t.instance_id, t.state, t.name, t.event, t.due, i.state, i.def_hash"
                           " FROM timer t LEFT JOIN instance i ON i.id = t.instance_id ORDER BY t.id",
                           &st, what, err);
    if (r != CF_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__timer_row t;
        const char *iid = (const char *)sqlite3_column_text(st, 1);
        t.id = sqlite3_column_int64(st, 0);
        snprintf(t.instance_id, sizeof t.instance_id, "%s", iid ? iid : "");
        t.state = (char *)sqlite3_column_text(st, 2);
        t.name = (char *)sqlite3_column_text(st, 3);
        t.event = (char *)sqlite3_column_text(st, 4);
        t.due = sqlite3_column_int64(st, 5);
        if (!t.state || !t.name || !t.event) {
            r = cf__fail(err, CF_ENOMEM, "out of memory reading the timers to verify them");
            break;
        }
        if (fn(ud, &t, (const char *)sqlite3_column_text(st, 6), (const char *)sqlite3_column_text(st, 7)) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (r == CF_OK && rc != SQLITE_DONE)
        r = cf__sqlite_fail(s, rc, what, err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_audit_head(cf__sqlite *s, int64_t *seq, char hash[CF__HASH_HEX], cf__err *err)
{
    sqlite3_stmt *st = s->audit[CF__AUDIT_LAST];
    *seq = 0;
    memcpy(hash, cf__history_genesis, sizeof cf__history_genesis);
    int rc = sqlite3_step(st);
    int r = CF_OK;
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 1);
        *seq = sqlite3_column_int64(st, 0);
        snprintf(hash, CF__HASH_HEX, "%s", h ? h : "");
    } else if (rc != SQLITE_DONE) {
        r = cf__sqlite_fail(s, rc, "reading the newest history row", err);
    }
    cf__sqlite_done(st);
    return r;
}

int cf__sqlite_audit_row_hash(cf__sqlite *s, int64_t seq, bool *found, char hash[CF__HASH_HEX], cf__err *err)
{
    *found = false;
    hash[0] = '\0';
    sqlite3_stmt *st = NULL;
    const char *what = "reading the history row an anchor names";
    int r = prepare_verify(s, "SELECT hash FROM history WHERE seq = ?1", &st, what, err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_int64(st, 1, seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 0);
        *found = true;
        snprintf(hash, CF__HASH_HEX, "%s", h ? h : "");
    } else if (rc != SQLITE_DONE) {
        r = cf__sqlite_fail(s, rc, what, err);
    }
    sqlite3_finalize(st);
    return r;
}

/* ---- queries across instances (cf_history_between) ---- */

/* The index history_by_time serves the period; the join with instance filters
 * by workflow and county. The rows come out in seq order, so SQLite sorts what the
 * index found (in memory: temp_store=MEMORY), which is fine for a period that holds
 * a part of the history. */
static const char QUERY_SQL[] =
    "SELECT h.seq, h.number, h.instance_id, h.at, h.effective_at, h.actor, h.event, h.data,"
    " h.outcome, h.from_state, h.to_state, h.reasons, h.policy_hash, h.def_hash, h.idem_key, h.hash"
    " FROM history h JOIN instance i ON i.id = h.instance_id"
    " WHERE h.effective_at >= ?1 AND h.effective_at < ?2"
    " AND (?3 IS NULL OR i.workflow = ?3) AND (?4 IS NULL OR i.county = ?4)"
    " AND (?5 IS NULL OR h.event = ?5) AND (?6 IS NULL OR h.outcome = ?6)"
    " ORDER BY h.seq";

/* QUERY_SQL walked by the history's key: the unary + keeps SQLite off
 * history_by_time, so the rows stream in seq order with no sort. */
static const char SCAN_SQL[] =
    "SELECT h.seq, h.number, h.instance_id, h.at, h.effective_at, h.actor, h.event, h.data,"
    " h.outcome, h.from_state, h.to_state, h.reasons, h.policy_hash, h.def_hash, h.idem_key, h.hash"
    " FROM history h JOIN instance i ON i.id = h.instance_id"
    " WHERE +h.effective_at >= ?1 AND +h.effective_at < ?2"
    " AND (?3 IS NULL OR i.workflow = ?3) AND (?4 IS NULL OR i.county = ?4)"
    " AND (?5 IS NULL OR h.event = ?5) AND (?6 IS NULL OR h.outcome = ?6)"
    " ORDER BY h.seq";

static const char *query_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* The row st stands on as a public entry (QUERY_SQL's and AFTER_SQL's columns). */
static void query_entry(sqlite3_stmt *st, cf_history_entry *h)
{
    memset(h, 0, sizeof *h);
    h->size = sizeof *h;
    h->seq = sqlite3_column_int64(st, 0);
    h->number = sqlite3_column_int64(st, 1);
    h->instance_id = query_text(st, 2);
    h->at = sqlite3_column_int64(st, 3);
    h->effective_at = sqlite3_column_int64(st, 4);
    h->actor = query_text(st, 5);
    h->event = query_text(st, 6);
    h->data = query_text(st, 7);
    h->outcome = query_text(st, 8);
    h->from_state = query_text(st, 9);
    h->to_state = query_text(st, 10);
    h->reasons = query_text(st, 11);
    h->policy_hash = query_text(st, 12);
    h->definition = query_text(st, 13);
    h->idem_key = sqlite3_column_type(st, 14) == SQLITE_NULL ? NULL : query_text(st, 14);
    h->hash = query_text(st, 15);
}

int cf__sqlite_history_between(cf__sqlite *s, cf_time from, cf_time to, const cf_history_filter *f,
                              cf_history_fn fn, void *ud, cf__err *err)
{
    sqlite3 *db = s->db;
    sqlite3_stmt *st = NULL;
    /* A period that starts no later than the oldest row (a report "to the end of the
     * year", cf_history_between(INT64_MIN, to)) holds most of the history: walk it by
     * its key instead, streaming, so memory does not grow with the history. */
    bool from_start = from == INT64_MIN;
    int src = SQLITE_OK;
    if (!from_start) {
        src = sqlite3_prepare_v2(db, "SELECT min(effective_at) FROM history", -1, &st, NULL);
        if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
            from_start = sqlite3_column_type(st, 0) == SQLITE_NULL || from <= sqlite3_column_int64(st, 0);
            src = SQLITE_OK;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(db, from_start ? SCAN_SQL : QUERY_SQL, -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_bind_int64(st, 1, from);
    if (src == SQLITE_OK)
        src = sqlite3_bind_int64(st, 2, to);
    const char *texts[4] = {f->workflow, f->county, f->event, f->outcome};
    for (int i = 0; i < 4 && src == SQLITE_OK; i++)
        src = texts[i] ? sqlite3_bind_text(st, 3 + i, texts[i], -1, SQLITE_STATIC) : sqlite3_bind_null(st, 3 + i);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        cf_history_entry h;
        query_entry(st, &h);
        src = fn(ud, &h) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    int r = CF_OK;
    if (src != SQLITE_DONE)
        r = cf__sqlite_fail(s, src, "reading the history for a period", err);
    sqlite3_finalize(st);
    return r;
}

/* The rows after a cursor (cf_history_after): the seq key bounds the walk to
 * the rows after it, whatever the history's size. */
static const char AFTER_SQL[] =
    "SELECT h.seq, h.number, h.instance_id, h.at, h.effective_at, h.actor, h.event, h.data,"
    " h.outcome, h.from_state, h.to_state, h.reasons, h.policy_hash, h.def_hash, h.idem_key, h.hash"
    " FROM history h JOIN instance i ON i.id = h.instance_id"
    " WHERE h.seq > ?1"
    " AND (?3 IS NULL OR i.workflow = ?3) AND (?4 IS NULL OR i.county = ?4)"
    " AND (?5 IS NULL OR h.event = ?5) AND (?6 IS NULL OR h.outcome = ?6)"
    " ORDER BY h.seq LIMIT ?2";

int cf__sqlite_history_after(cf__sqlite *s, int64_t after, size_t limit, const cf_history_filter *f,
                             cf_history_fn fn, void *ud, int64_t *last, cf__err *err)
{
    *last = after;
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(s->db, AFTER_SQL, -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_bind_int64(st, 1, after);
    if (src == SQLITE_OK)
        src = sqlite3_bind_int64(st, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    const char *texts[4] = {f->workflow, f->county, f->event, f->outcome};
    for (int i = 0; i < 4 && src == SQLITE_OK; i++)
        src = texts[i] ? sqlite3_bind_text(st, 3 + i, texts[i], -1, SQLITE_STATIC) : sqlite3_bind_null(st, 3 + i);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        cf_history_entry h;
        query_entry(st, &h);
        *last = h.seq;
        src = fn(ud, &h) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    int r = CF_OK;
    if (src != SQLITE_DONE)
        r = cf__sqlite_fail(s, src, "reading the history after a cursor", err);
    sqlite3_finalize(st);
    return r;
}
