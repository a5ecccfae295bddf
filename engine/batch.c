/*
 * batch.c — batches: many fires in one SQLite transaction, each still
 * all-or-nothing through a savepoint (see store.c), with linked events
 * delivered once the batch is committed.
 */
#include "internal.h"

#include <string.h>

int cf_batch_begin(cf_engine *e)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    return cf__store_batch_begin(e->store, &e->err);
}

int cf_batch_commit(cf_engine *e)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    rc = cf__store_batch_commit(e->store, &e->err);
    if (rc == CF_OK && cf__store_queued(e->store)) {
        /* Committed; linked events that fail to deliver stay queued for the next tick. */
        char saved[CF__MSG_MAX];
        memcpy(saved, e->err.msg, sizeof saved);
        cf__engine_deliver(e);
        if (e->chain_stopped) {
            cf__err_prefix(&e->err, "the batch was committed, but a chain of linked events it started was stopped");
            return CF_ELIMIT;
        }
        memcpy(e->err.msg, saved, sizeof saved);
    }
    return rc;
}

int cf_batch_rollback(cf_engine *e)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    return cf__store_batch_rollback(e->store, &e->err);
}

int cf_batch_active(const cf_engine *e)
{
    return e && e->open_rc == CF_OK && e->store && cf__store_in_batch(e->store);
}
