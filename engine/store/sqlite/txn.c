/*
 * txn.c — the SQLite backend's transactions: BEGIN IMMEDIATE, COMMIT and ROLLBACK,
 * savepoints inside a batch, and the batches themselves.
 */
#include "store/sqlite/sqlite_private.h"

/* ---- transactions ---- */

/* Step one of the transaction statements; CF_OK or a message naming `what`. */
static int step_txn(cf__sqlite *s, int which, const char *what, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[which];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return CF_OK;
    }
    return cf__sqlite_step_fail(s, st, rc, what, err);
}

/* SQLite rolls the whole transaction back by itself after some errors (a full
 * disk, an I/O error): a batch then has nothing left to add to or commit. */
static int batch_lost(const cf__sqlite *s, cf__err *err)
{
    if (s->poisoned)
        return cf__fail(err, CF_ESTORE,
                        "the batch's transaction was rolled back whole after a fire in it failed part-way on a "
                        "database error (that fire's error said why): nothing done in the batch was applied; call "
                        "cf_batch_rollback and run the batch again");
    return cf__fail(err, CF_ESTORE,
                    "the batch's transaction was rolled back by the database after an earlier error (a full disk "
                    "or an I/O error): nothing done in the batch was applied; call cf_batch_rollback and run the "
                    "batch again");
}

static int begin_immediate(cf__sqlite *s, cf__err *err)
{
    if (s->read_only)
        return cf__fail(err, CF_EREADONLY,
                        "%s was opened read-only (options.read_only): nothing can be changed through this handle; "
                        "open it without read_only, where the file and its folder are writable",
                        s->path);
    s->last_known = false; /* another process may have appended since our last transaction */
    sqlite3_stmt *st = s->stmt[ST_BEGIN];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return CF_OK;
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        cf__sqlite_done(st);
        return cf__fail(err, CF_EBUSY,
                        "database is locked by another process for more than %d ms; retry, or raise busy_timeout_ms",
                        s->busy_timeout_ms);
    }
    return cf__sqlite_step_fail(s, st, rc, "starting a transaction", err);
}

int cf__sqlite_begin(cf__sqlite *s, cf__err *err)
{
    if (!s->batch)
        return begin_immediate(s, err);
    if (sqlite3_get_autocommit(s->db))
        return batch_lost(s, err);
    return step_txn(s, ST_SAVEPOINT, "starting a savepoint in the batch", err);
}

/* A fire inside a batch starts without a savepoint (see store.h). */
int cf__sqlite_begin_fire(cf__sqlite *s, cf__err *err)
{
    if (!s->batch)
        return begin_immediate(s, err);
    if (sqlite3_get_autocommit(s->db))
        return batch_lost(s, err);
    s->lean = true;
    s->sp_late = false;
    s->changes0 = sqlite3_total_changes64(s->db);
    return CF_OK;
}

/* The savepoint of a lean fire, before the first write that a later step may
 * still undo; nothing outside a lean fire. */
int cf__sqlite_savepoint(cf__sqlite *s, cf__err *err)
{
    if (!s->batch || !s->lean)
        return CF_OK;
    int rc = step_txn(s, ST_SAVEPOINT, "starting a savepoint in the batch", err);
    if (rc == CF_OK) {
        s->lean = false;
        s->sp_late = sqlite3_total_changes64(s->db) != s->changes0;
    }
    return rc;
}

/* A fire that wrote and cannot be undone alone: the whole batch goes. */
static void poison(cf__sqlite *s, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_ROLLBACK];
    sqlite3_step(st);
    cf__sqlite_done(st);
    s->poisoned = true;
    if (s->mark_unsaved)
        cf__sqlite_mark_save(s);
    if (err)
        cf__err_prefix(err, "the batch was rolled back whole, nothing done in it was applied (call "
                            "cf_batch_rollback and run the batch again), because a fire failed after it had "
                            "written");
}

void cf__sqlite_rollback_fire(cf__sqlite *s, cf__err *err)
{
    if (!s)
        return;
    if (!s->batch) {
        cf__sqlite_rollback(s);
        return;
    }
    s->last_known = false;
    if (sqlite3_get_autocommit(s->db)) { /* SQLite rolled the batch back already */
        s->lean = false;
        return;
    }
    bool wrote = s->lean ? sqlite3_total_changes64(s->db) != s->changes0 : s->sp_late;
    if (!s->lean)
        cf__sqlite_rollback(s); /* undoes what the savepoint covers */
    s->lean = s->sp_late = false;
    if (wrote)
        poison(s, err);
}

int cf__sqlite_commit(cf__sqlite *s, cf__err *err)
{
    if (s->batch && s->lean) { /* a lean fire: nothing to release */
        s->lean = false;
        return CF_OK;
    }
    if (s->batch) {
        int r = step_txn(s, ST_RELEASE, "releasing a savepoint in the batch", err);
        if (r != CF_OK)
            cf__sqlite_rollback(s);
        return r;
    }
    s->last_known = false; /* once committed, other handles may append */
    sqlite3_stmt *st = s->stmt[ST_COMMIT];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return CF_OK;
    }
    int r = cf__sqlite_step_fail(s, st, rc, "committing", err);
    /* A failed COMMIT can leave the transaction open: undo it so nothing half-done stays. */
    cf__sqlite_rollback(s);
    return r;
}

int cf__sqlite_begin_read(cf__sqlite *s, cf__err *err)
{
    if (!s->read_only)
        return cf__sqlite_begin(s, err);
    s->last_known = false;
    /* A deferred BEGIN: our own constant text. */
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    return rc == SQLITE_OK ? CF_OK : cf__sqlite_fail(s, rc, "starting a read transaction", err);
}

void cf__sqlite_rollback(cf__sqlite *s)
{
    if (!s)
        return;
    s->last_known = false; /* the rows appended since are gone */
    if (sqlite3_get_autocommit(s->db))
        return;
    if (s->batch && s->lean) { /* a lean fire (cf__sqlite_rollback_fire) */
        cf__sqlite_rollback_fire(s, NULL);
        return;
    }
    if (s->batch) {
        /* Undo this call's work and drop its savepoint; the batch goes on. */
        cf__err ignored;
        step_txn(s, ST_ROLLBACK_TO, "rolling back a savepoint", &ignored);
        step_txn(s, ST_RELEASE, "releasing a savepoint", &ignored);
        return;
    }
    sqlite3_stmt *st = s->stmt[ST_ROLLBACK];
    sqlite3_step(st);
    cf__sqlite_done(st);
    if (s->mark_unsaved)
        cf__sqlite_mark_save(s);
}

bool cf__sqlite_in_batch(const cf__sqlite *s)
{
    return s->batch != 0;
}

int cf__sqlite_batch_begin(cf__sqlite *s, cf__err *err)
{
    if (s->batch)
        return cf__fail(err, CF_EINVAL, "a batch is already open on this engine (batches do not nest)");
    int rc = begin_immediate(s, err);
    if (rc == CF_OK) {
        s->batch = 1;
        s->lean = s->sp_late = s->poisoned = false;
    }
    return rc;
}

int cf__sqlite_batch_commit(cf__sqlite *s, cf__err *err)
{
    if (!s->batch)
        return cf__fail(err, CF_EINVAL, "no batch is open on this engine (start one with cf_batch_begin)");
    s->batch = 0;
    if (sqlite3_get_autocommit(s->db)) {
        s->last_known = false;
        cf__sqlite_mark_save(s);
        int r = batch_lost(s, err);
        s->poisoned = false;
        return r;
    }
    int r = cf__sqlite_commit(s, err);
    if (s->mark_unsaved) /* found inside the batch (a savepoint rolled back) */
        cf__sqlite_mark_save(s);
    return r;
}

int cf__sqlite_batch_rollback(cf__sqlite *s, cf__err *err)
{
    if (!s->batch)
        return cf__fail(err, CF_EINVAL, "no batch is open on this engine (start one with cf_batch_begin)");
    s->batch = 0;
    s->lean = s->poisoned = false;
    cf__sqlite_rollback(s); /* saves a mark found inside the batch */
    return CF_OK;
}

