/*
 * txn.c — the PostgreSQL backend's transactions (the integrity mark they refuse to write over is
 * conn.c's, kept with the connection it is loaded and saved on).
 *
 * A write transaction is READ COMMITTED and takes the lock of the chain head's row
 * first (pg_private.h says why); inside a batch each call is a savepoint. A
 * statement that fails aborts a PostgreSQL transaction, so the engine's rule that
 * a failed call rolls back holds here by itself.
 */
#include "store/pg/pg_private.h"

#include <stdio.h>
#include <string.h>

static int begin_write(cf__pg *s, cf__err *err)
{
    if (s->read_only)
        return cf__fail(err, CF_EREADONLY,
                        "%s was opened read-only (options.read_only): nothing can be changed through this handle; "
                        "open it without read_only, as a role that may write",
                        s->name);
    s->last_known = false;
    /* One round trip: the transaction and the writers' lock. */
    int rc = cf__pg_exec_const(s,
                               "BEGIN ISOLATION LEVEL READ COMMITTED;"
                               " SELECT id FROM certflow.chain_head WHERE id = 1 FOR UPDATE",
                               "starting a transaction (waiting for the other engine processes' writes)", err);
    if (rc != CF_OK && !s->lost && cf__pg_txn_open(s)) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

static int batch_lost(cf__err *err)
{
    return cf__fail(err, CF_ESTORE,
                    "the batch's transaction was ended by the server after an earlier error: nothing done in the "
                    "batch was applied; call cf_batch_rollback and run the batch again");
}

int cf__pg_begin(cf__pg *s, cf__err *err)
{
    if (!s->batch)
        return begin_write(s, err);
    if (s->lost || PQtransactionStatus(s->conn) != PQTRANS_INTRANS)
        return s->lost ? cf__pg_fail(s, NULL, "starting a savepoint in the batch", err) : batch_lost(err);
    int rc = cf__pg_exec_const(s, "SAVEPOINT cf_call", "starting a savepoint in the batch", err);
    s->savepoint = rc == CF_OK;
    return rc;
}

int cf__pg_begin_read(cf__pg *s, cf__err *err)
{
    if (!s->read_only)
        return cf__pg_begin(s, err);
    s->last_known = false;
    return cf__pg_exec_const(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting a read transaction", err);
}

int cf__pg_commit(cf__pg *s, cf__err *err)
{
    if (s->batch) {
        if (!s->savepoint)
            return cf__fail(err, CF_ESTORE, "no savepoint is open in the batch");
        int r = cf__pg_exec_const(s, "RELEASE SAVEPOINT cf_call", "releasing a savepoint in the batch", err);
        if (r != CF_OK)
            cf__pg_rollback(s);
        else
            s->savepoint = false;
        return r;
    }
    s->last_known = false;
    s->watch_armed = false;
    PGresult *res = s->lost ? NULL : PQexec(s->conn, "COMMIT");
    int r = CF_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        r = cf__pg_fail(s, res, "committing", err);
    else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) /* the transaction had failed: the server rolled it back */
        r = cf__fail(err, CF_ESTORE, "committing: the server rolled the transaction back after an earlier error; "
                     "nothing was applied; retry");
    PQclear(res);
    if (r != CF_OK)
        cf__pg_rollback(s);
    else if (s->mark_unsaved)
        cf__pg_mark_save(s);
    return r;
}

void cf__pg_rollback(cf__pg *s)
{
    if (!s)
        return;
    s->last_known = false;
    s->watch_armed = false; /* the temporary table goes with what is rolled back */
    if (s->lost || !s->conn || PQstatus(s->conn) == CONNECTION_BAD || !cf__pg_txn_open(s))
        return;
    if (s->batch) {
        if (s->savepoint) {
            PGresult *r = PQexec(s->conn, "ROLLBACK TO SAVEPOINT cf_call");
            PQclear(r);
            r = PQexec(s->conn, "RELEASE SAVEPOINT cf_call");
            PQclear(r);
            s->savepoint = false;
        }
        return;
    }
    PGresult *r = PQexec(s->conn, "ROLLBACK");
    PQclear(r);
    if (s->mark_unsaved)
        cf__pg_mark_save(s);
}

bool cf__pg_in_batch(const cf__pg *s)
{
    return s->batch != 0;
}

int cf__pg_batch_begin(cf__pg *s, cf__err *err)
{
    if (s->batch)
        return cf__fail(err, CF_EINVAL, "a batch is already open on this engine (batches do not nest)");
    int rc = begin_write(s, err);
    if (rc == CF_OK) {
        s->batch = 1;
        s->savepoint = false;
    }
    return rc;
}

int cf__pg_batch_commit(cf__pg *s, cf__err *err)
{
    if (!s->batch)
        return cf__fail(err, CF_EINVAL, "no batch is open on this engine (start one with cf_batch_begin)");
    s->batch = 0;
    s->savepoint = false;
    if (s->lost || PQtransactionStatus(s->conn) != PQTRANS_INTRANS) {
        s->last_known = false;
        int r = s->lost ? cf__pg_fail(s, NULL, "committing the batch", err) : batch_lost(err);
        cf__pg_rollback(s);
        return r;
    }
    return cf__pg_commit(s, err);
}

int cf__pg_batch_rollback(cf__pg *s, cf__err *err)
{
    if (!s->batch)
        return cf__fail(err, CF_EINVAL, "no batch is open on this engine (start one with cf_batch_begin)");
    (void)err;
    s->batch = 0;
    s->savepoint = false;
    cf__pg_rollback(s);
    return CF_OK;
}

bool cf__pg_in_transaction(cf__pg *s)
{
    return !s->lost && cf__pg_txn_open(s);
}
