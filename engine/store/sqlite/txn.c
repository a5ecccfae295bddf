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
static int batch_lost(cf__err *err)
{
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
        return batch_lost(err);
    return step_txn(s, ST_SAVEPOINT, "starting a savepoint in the batch", err);
}

int cf__sqlite_commit(cf__sqlite *s, cf__err *err)
{
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
    if (rc == CF_OK)
        s->batch = 1;
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
        return batch_lost(err);
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
    cf__sqlite_rollback(s); /* saves a mark found inside the batch */
    return CF_OK;
}

