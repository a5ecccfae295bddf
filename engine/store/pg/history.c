/*
 * history.c — the PostgreSQL backend's history: the append-only table chained by
 * SHA-256 (the audit format is engine/integrity/history_hash.c's, the same on every
 * backend), the idempotency lookup, the reads verify needs, and the history of a
 * period. The chain head is read under the head lock every write transaction
 * holds (txn.c), so two processes never link to the same predecessor.
 */
#include "store/pg/pg_private.h"
#include "integrity/history_hash.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Point row at row i of a HIST_COLS result; lens (may be NULL) gets each text field's length. */
static void row_borrow(const PGresult *r, int i, cf__history_row *row, size_t lens[CF__HF_COUNT])
{
    static const int col[CF__HF_COUNT] = {2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    const char *f[CF__HF_COUNT];
    size_t n[CF__HF_COUNT];
    for (int k = 0; k < CF__HF_COUNT; k++) {
        f[k] = cf__pg_text(r, i, col[k]);
        n[k] = f[k] ? (size_t)PQgetlength(r, i, col[k]) : 0;
    }
    memset(row, 0, sizeof *row);
    row->seq = cf__pg_int(r, i, 0);
    row->number = cf__pg_int(r, i, 1);
    row->at = cf__pg_int(r, i, 3);
    row->effective_at = cf__pg_int(r, i, 4);
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
    snprintf(row->prev_hash, sizeof row->prev_hash, "%s", PQgetvalue(r, i, 15));
    snprintf(row->hash, sizeof row->hash, "%s", PQgetvalue(r, i, 16));
    snprintf(row->data_hash, sizeof row->data_hash, "%s", PQgetvalue(r, i, 17));
    snprintf(row->timers_hash, sizeof row->timers_hash, "%s", PQgetvalue(r, i, 18));
    if (lens)
        memcpy(lens, n, sizeof n);
}

static int timers_hash(cf__pg *s, const char *instance_id, char out[CF__HASH_HEX], cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_TIMERS, &p, &r, "reading an instance's timers", err);
    if (rc != CF_OK)
        return rc;
    cf__preimage b;
    cf__preimage_init(&b);
    for (int i = 0; i < PQntuples(r); i++) {
        for (int c = 0; c < 3; c++)
            cf__preimage_bytes(&b, PQgetvalue(r, i, c), (size_t)PQgetlength(r, i, c));
        cf__preimage_int(&b, cf__pg_int(r, i, 3));
    }
    PQclear(r);
    if (cf__preimage_finish(&b, out) != CF_OK)
        rc = cf__fail(err, CF_ENOMEM, "out of memory hashing an instance's timers");
    cf__preimage_free(&b);
    return rc;
}

int cf__pg_audit_result_hashes(cf__pg *s, const char *instance_id, const char *county, const char *data,
                               char data_hash[CF__HASH_HEX], char timers[CF__HASH_HEX], cf__err *err)
{
    int rc = cf__history_data_hash(county, data, data_hash, err);
    return rc == CF_OK ? timers_hash(s, instance_id, timers, err) : rc;
}

int cf__pg_audit_check_instance(cf__pg *s, const char *id, int64_t version, const char *state, const char *county,
                                const char *data, cf__err *err)
{
    if (version == 0) /* see the SQLite backend: no history yet */
        return CF_OK;
    cf__pgp p = {0};
    cf__pgp_text(&p, id);
    cf__pgp_int(&p, version);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_AT, &p, &r, "reading an instance's newest history row", err);
    if (rc != CF_OK)
        return rc;
    const char *what = NULL;
    int64_t seq = 0;
    if (PQntuples(r) == 0) {
        what = "version";
    } else {
        seq = cf__pg_int(r, 0, 0);
        const char *to = cf__pg_text(r, 0, 1);
        const char *recorded = cf__pg_text(r, 0, 2);
        char now[CF__HASH_HEX];
        if (!to || strcmp(to, state) != 0)
            what = "state";
        else if (recorded && *recorded && (rc = cf__history_data_hash(county, data, now, err)) == CF_OK &&
                 strcmp(now, recorded) != 0)
            what = "data or county";
    }
    PQclear(r);
    if (rc != CF_OK || !what)
        return rc;
    char why[200];
    snprintf(why, sizeof why, "the %s of instance %.36s was changed outside certflow", what, id);
    cf__pg_mark_set(s, why);
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

int cf__pg_audit_head(cf__pg *s, int64_t *seq, char hash[CF__HASH_HEX], cf__err *err)
{
    *seq = 0;
    memcpy(hash, cf__history_genesis, sizeof cf__history_genesis);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_LAST, NULL, &r, "reading the newest history row", err);
    if (rc == CF_OK && PQntuples(r) > 0) {
        *seq = cf__pg_int(r, 0, 0);
        snprintf(hash, CF__HASH_HEX, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

int cf__pg_audit_append(cf__pg *s, cf__history_row *row, cf__err *err)
{
    int rc = cf__pg_refuse_if_corrupt(s, err);
    if (rc != CF_OK)
        return rc;
    row->data_hash[0] = row->timers_hash[0] = '\0';
    if (row->result_data) {
        rc = cf__pg_audit_result_hashes(s, row->instance_id, row->result_county, row->result_data, row->data_hash,
                                        row->timers_hash, err);
        if (rc != CF_OK)
            return rc;
    }
    int64_t last = 0;
    if (s->last_known) {
        last = s->last_seq;
        memcpy(row->prev_hash, s->last_hash, sizeof row->prev_hash);
    } else {
        /* The head lock of this write transaction (txn.c) keeps every other writer out. */
        rc = cf__pg_audit_head(s, &last, row->prev_hash, err);
        if (rc != CF_OK)
            return rc;
    }
    row->seq = last + 1;
    if (cf__history_hash(row, NULL, row->hash) != CF_OK)
        return cf__fail(err, CF_ENOMEM, "out of memory hashing a history row");
    const char *f[CF__HF_COUNT];
    cf__history_text_fields(row, f);
    cf__pgp p = {0};
    cf__pgp_int(&p, row->seq);
    cf__pgp_int(&p, row->number);
    cf__pgp_text(&p, f[CF__HF_INSTANCE]);
    cf__pgp_int(&p, row->at);
    cf__pgp_int(&p, row->effective_at);
    for (int i = CF__HF_ACTOR; i < CF__HF_COUNT; i++)
        cf__pgp_text(&p, f[i]);
    cf__pgp_text(&p, row->prev_hash);
    cf__pgp_text(&p, row->hash);
    cf__pgp_text(&p, row->data_hash[0] ? row->data_hash : NULL);
    cf__pgp_text(&p, row->timers_hash[0] ? row->timers_hash : NULL);
    PGresult *r = NULL;
    char name[16];
    snprintf(name, sizeof name, "cf%d", PG_H_INSERT);
    r = s->lost ? NULL : PQexecPrepared(s->conn, name, p.n, p.v, NULL, NULL, 0);
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        s->last_known = true;
        s->last_seq = row->seq;
        memcpy(s->last_hash, row->hash, sizeof s->last_hash);
        cf__pg_watch_note(s, "history", p.v[0], 'i');
        return CF_OK;
    }
    const char *constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    if (r && !strcmp(cf__pg_state(r), "23505") && row->idem_key && constraint && !strcmp(constraint, "history_by_key")) {
        rc = cf__fail(err, CF_ECONFLICT,
                      "idempotency key '%s' was already used for instance %s; use a new key for a new event",
                      row->idem_key, row->instance_id);
    } else {
        char what[128];
        snprintf(what, sizeof what, "recording event '%s' in the history of instance %s", row->event ? row->event : "",
                 row->instance_id ? row->instance_id : "");
        rc = cf__pg_fail(s, r, what, err);
    }
    PQclear(r);
    return rc;
}

int cf__pg_audit_find_key(cf__pg *s, const char *instance_id, const char *key, cf__history_row *row, cf__buf *keep,
                          cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    cf__pgp_text(&p, key);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_FIND_KEY, &p, &r, "looking up an idempotency key", err);
    if (rc != CF_OK)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cf__fail(err, CF_ENOTFOUND, "idempotency key '%s' has not been used for instance %s", key,
                        instance_id);
    }
    size_t lens[CF__HF_COUNT];
    row_borrow(r, 0, row, lens);
    const char *f[CF__HF_COUNT];
    cf__history_text_fields(row, f);
    size_t off[CF__HF_COUNT];
    for (int i = 0; i < CF__HF_COUNT; i++) {
        off[i] = keep->len;
        if (f[i])
            cf__buf_append(keep, f[i], lens[i] + 1);
    }
    PQclear(r);
    if (keep->oom || !keep->data)
        return cf__fail(err, CF_ENOMEM, "out of memory reading the history of instance %s", instance_id);
    const char *q[CF__HF_COUNT];
    for (int i = 0; i < CF__HF_COUNT; i++)
        q[i] = f[i] ? keep->data + off[i] : NULL;
    row->instance_id = q[CF__HF_INSTANCE];
    row->actor = q[CF__HF_ACTOR];
    row->event = q[CF__HF_EVENT];
    row->data = q[CF__HF_DATA];
    row->outcome = q[CF__HF_OUTCOME];
    row->from_state = q[CF__HF_FROM];
    row->to_state = q[CF__HF_TO];
    row->reasons = q[CF__HF_REASONS];
    row->policy_hash = q[CF__HF_POLICY];
    row->def_hash = q[CF__HF_DEF];
    row->idem_key = q[CF__HF_KEY];
    return CF_OK;
}

int cf__pg_audit_each(cf__pg *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_EACH, &p, &r, "reading the history", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__history_row row;
        row_borrow(r, i, &row, NULL);
        if (fn(ud, &row) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

int cf__pg_audit_moves(cf__pg *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_MOVES, &p, &r, "reading an instance's moves", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__history_row h;
        memset(&h, 0, sizeof h);
        h.instance_id = instance_id;
        h.number = cf__pg_int(r, i, 0);
        h.effective_at = cf__pg_int(r, i, 1);
        h.event = cf__pg_text(r, i, 2);
        h.outcome = cf__pg_text(r, i, 3);
        h.from_state = cf__pg_text(r, i, 4);
        h.to_state = cf__pg_text(r, i, 5);
        h.def_hash = cf__pg_text(r, i, 6);
        if (fn(ud, &h) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

/* Verify walks the chain a page at a time, so that a long history needs little memory. */
#define VERIFY_PAGE 5000

int cf__pg_audit_verify(cf__pg *s, int64_t *rows, int64_t *first_bad, cf__err *err)
{
    char expect[CF__HASH_HEX];
    memcpy(expect, cf__history_genesis, sizeof cf__history_genesis);
    int64_t prev_seq = 0, count = 0;
    *rows = 0;
    *first_bad = 0;
    int rc = CF_OK;
    bool done = false;
    while (!done && rc == CF_OK) {
        cf__pgp p = {0};
        cf__pgp_int(&p, prev_seq);
        cf__pgp_int(&p, VERIFY_PAGE);
        PGresult *r = NULL;
        rc = cf__pg_run(s, PG_H_PAGE, &p, &r, "reading the history to verify it", err);
        if (rc != CF_OK)
            break;
        int n = PQntuples(r);
        done = n < VERIFY_PAGE;
        for (int i = 0; i < n && rc == CF_OK; i++) {
            cf__history_row row;
            size_t lens[CF__HF_COUNT];
            row_borrow(r, i, &row, lens);
            count++;
            char again[CF__HASH_HEX];
            if (strcmp(row.prev_hash, expect) != 0) {
                *first_bad = row.seq;
                if (prev_seq)
                    rc = cf__fail(err, CF_ECORRUPT,
                                  "history row %" PRId64 " does not follow row %" PRId64
                                  ": a row was removed or inserted outside certflow; restore the database from a "
                                  "backup; the rows before %" PRId64 " are intact",
                                  row.seq, prev_seq, row.seq);
                else
                    rc = cf__fail(err, CF_ECORRUPT,
                                  "history row %" PRId64 " does not follow the start of the chain: a row was "
                                  "removed or inserted outside certflow; restore the database from a backup",
                                  row.seq);
                break;
            }
            if (cf__history_hash(&row, lens, again) != CF_OK) {
                rc = cf__fail(err, CF_ENOMEM, "out of memory verifying the history");
                break;
            }
            if (strcmp(again, row.hash) != 0) {
                *first_bad = row.seq;
                rc = cf__fail(err, CF_ECORRUPT,
                              "history row %" PRId64 " (instance %s, event '%s') does not match its hash: it was "
                              "changed outside certflow; restore the database from a backup; the rows before "
                              "%" PRId64 " are intact",
                              row.seq, row.instance_id ? row.instance_id : "?", row.event ? row.event : "?", row.seq);
                break;
            }
            memcpy(expect, row.hash, sizeof expect);
            prev_seq = row.seq;
        }
        PQclear(r);
    }
    *rows = count;
    return rc;
}

/* ---- what verify reads ---- */

int cf__pg_audit_read_begin(cf__pg *s, bool *began, cf__err *err)
{
    *began = false;
    if (cf__pg_in_transaction(s))
        return CF_OK;
    int rc = cf__pg_exec_const(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                               "starting the read transaction of verify", err);
    *began = rc == CF_OK;
    return rc;
}

void cf__pg_audit_read_end(cf__pg *s, bool began)
{
    if (began && cf__pg_in_transaction(s)) {
        PGresult *r = PQexec(s->conn, "COMMIT");
        PQclear(r);
    }
}

/* PostgreSQL checks its own pages (data checksums, initdb -k); certflow's check on a
 * server is that every table of its schema is there. */
int cf__pg_audit_integrity(cf__pg *s, bool quick, cf__text_fn fn, void *ud, cf__err *err)
{
    (void)quick;
    static const char *const tables[] = {"schema_version", "chain_head", "workflow_def", "instance", "history",
                                         "timer", "outbox", "policy_text", "integrity_mark", "policy_change",
                                         "plugin_schema"};
    int rc = CF_OK;
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char q[64];
        snprintf(q, sizeof q, "certflow.%s", tables[i]);
        cf__pgp t = {0};
        cf__pgp_text(&t, q);
        PGresult *x = PQexecParams(s->conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, t.v, NULL, NULL, 0);
        if (!x || PQresultStatus(x) != PGRES_TUPLES_OK) {
            rc = cf__pg_fail(s, x, "checking the schema", err);
            PQclear(x);
            return rc;
        }
        bool there = strcmp(PQgetvalue(x, 0, 0), "t") == 0;
        PQclear(x);
        if (!there) {
            char line[128];
            snprintf(line, sizeof line, "table certflow.%s is missing", tables[i]);
            if (fn(ud, line) != 0)
                break;
        }
    }
    return CF_OK;
}

int cf__pg_audit_instances(cf__pg *s, cf__verify_inst_fn fn, void *ud, cf__err *err)
{
    const char *what = "reading the instances to verify them";
    PGresult *q = NULL;
    int rc = cf__pg_run(s, PG_V_INST, NULL, &q, what, err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(q) && rc == CF_OK; i++) {
        cf__verify_inst v;
        memset(&v, 0, sizeof v);
        v.id = PQgetvalue(q, i, 0);
        v.workflow = PQgetvalue(q, i, 1);
        v.def_hash = PQgetvalue(q, i, 2);
        v.county = PQgetvalue(q, i, 3);
        v.state = PQgetvalue(q, i, 4);
        const char *data = PQgetvalue(q, i, 5);
        v.version = cf__pg_int(q, i, 6);
        v.def_name = cf__pg_text(q, i, 7);
        cf__pgp p = {0};
        cf__pgp_text(&p, v.id);
        PGresult *c = NULL, *l = NULL;
        rc = cf__pg_run(s, PG_V_COUNT, &p, &c, what, err);
        if (rc == CF_OK) {
            v.rows = cf__pg_int(c, 0, 0);
            v.min_number = cf__pg_int(c, 0, 1);
            v.max_number = cf__pg_int(c, 0, 2);
            rc = cf__pg_run(s, PG_V_LAST, &p, &l, what, err);
        }
        if (rc == CF_OK && PQntuples(l) > 0) {
            v.last_seq = cf__pg_int(l, 0, 0);
            v.last_outcome = cf__pg_text(l, 0, 1);
            v.last_to_state = cf__pg_text(l, 0, 2);
            v.last_def_hash = cf__pg_text(l, 0, 3);
            const char *rd = cf__pg_text(l, 0, 4);
            const char *rt = cf__pg_text(l, 0, 5);
            v.proven = rd && rt && *rd && *rt;
            if (v.proven) {
                char now_d[CF__HASH_HEX], now_t[CF__HASH_HEX];
                rc = cf__pg_audit_result_hashes(s, v.id, v.county, data, now_d, now_t, err);
                v.data_ok = rc == CF_OK && strcmp(now_d, rd) == 0;
                v.timers_ok = rc == CF_OK && strcmp(now_t, rt) == 0;
            }
        }
        bool stop = rc == CF_OK && fn(ud, &v) != 0;
        PQclear(c);
        PQclear(l);
        if (stop)
            break;
    }
    PQclear(q);
    return rc;
}

int cf__pg_audit_orphan_row(cf__pg *s, int64_t *seq, char id[37], cf__err *err)
{
    *seq = 0;
    id[0] = '\0';
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_V_ORPHAN, NULL, &r, "looking for history rows without an instance", err);
    if (rc == CF_OK && PQntuples(r) > 0) {
        *seq = cf__pg_int(r, 0, 0);
        snprintf(id, 37, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

int cf__pg_audit_timers(cf__pg *s, cf__verify_timer_fn fn, void *ud, cf__err *err)
{
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_V_TIMERS, NULL, &r, "reading the timers to verify them", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__timer_row t;
        cf__pg_timer_borrow(r, i, &t);
        if (fn(ud, &t, cf__pg_text(r, i, 6), cf__pg_text(r, i, 7)) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

int cf__pg_audit_row_hash(cf__pg *s, int64_t seq, bool *found, char hash[CF__HASH_HEX], cf__err *err)
{
    *found = false;
    hash[0] = '\0';
    cf__pgp p = {0};
    cf__pgp_int(&p, seq);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_V_ROW_HASH, &p, &r, "reading the history row an anchor names", err);
    if (rc == CF_OK && PQntuples(r) > 0) {
        *found = true;
        snprintf(hash, CF__HASH_HEX, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

/* ---- the history of a period (cf_history_between) ---- */

static const char *text_or_empty(const PGresult *r, int i, int c)
{
    return PQgetvalue(r, i, c);
}

/* Row i of PG_H_BETWEEN's or PG_H_AFTER's answer as a public entry. */
static void query_entry(const PGresult *r, int i, cf_history_entry *h)
{
    memset(h, 0, sizeof *h);
    h->size = sizeof *h;
    h->seq = cf__pg_int(r, i, 0);
    h->number = cf__pg_int(r, i, 1);
    h->instance_id = text_or_empty(r, i, 2);
    h->at = cf__pg_int(r, i, 3);
    h->effective_at = cf__pg_int(r, i, 4);
    h->actor = text_or_empty(r, i, 5);
    h->event = text_or_empty(r, i, 6);
    h->data = text_or_empty(r, i, 7);
    h->outcome = text_or_empty(r, i, 8);
    h->from_state = text_or_empty(r, i, 9);
    h->to_state = text_or_empty(r, i, 10);
    h->reasons = text_or_empty(r, i, 11);
    h->policy_hash = text_or_empty(r, i, 12);
    h->definition = text_or_empty(r, i, 13);
    h->idem_key = cf__pg_text(r, i, 14);
    h->hash = text_or_empty(r, i, 15);
}

int cf__pg_history_between(cf__pg *s, cf_time from, cf_time to, const cf_history_filter *f, cf_history_fn fn,
                           void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, from);
    cf__pgp_int(&p, to);
    cf__pgp_text(&p, f->workflow);
    cf__pgp_text(&p, f->county);
    cf__pgp_text(&p, f->event);
    cf__pgp_text(&p, f->outcome);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_BETWEEN, &p, &r, "reading the history for a period", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf_history_entry h;
        query_entry(r, i, &h);
        if (fn(ud, &h) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

/* ---- the rows after a cursor (cf_history_after) ---- */

int cf__pg_history_after(cf__pg *s, int64_t after, size_t limit, const cf_history_filter *f, cf_history_fn fn,
                         void *ud, int64_t *last, cf__err *err)
{
    *last = after;
    cf__pgp p = {0};
    cf__pgp_int(&p, after);
    cf__pgp_int(&p, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    cf__pgp_text(&p, f->workflow);
    cf__pgp_text(&p, f->county);
    cf__pgp_text(&p, f->event);
    cf__pgp_text(&p, f->outcome);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_H_AFTER, &p, &r, "reading the history after a cursor", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf_history_entry h;
        query_entry(r, i, &h);
        *last = h.seq;
        if (fn(ud, &h) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}
