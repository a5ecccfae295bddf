/*
 * fire.c — the public calls that fire and commit: cf_instance_fire (one event,
 * one transaction) and batches (many fires in one transaction, each still
 * all-or-nothing: a savepoint only for a fire that writes before it can still
 * fail, see cf__store_begin_fire in store.h). After each commit they
 * deliver the linked events it queued (cf__engine_deliver, timer.c). The
 * transition itself, inside the caller's transaction, is instance.c's
 * cf__fire_locked, which knows nothing of delivery.
 */
#include "internal.h"

#include <string.h>

int cf_instance_fire(cf_engine *e, const char *id, const char *event, const char *data_json, const char *actor,
                     const char *idem_key, cf_fire_result *out)
{
    int rc = cf__engine_usable(e);
    if (rc == CF_OK) /* a database found corrupt takes no more writes (verify.c) */
        rc = cf__store_refuse_if_corrupt(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    if (!id || !event || !*event)
        return cf__fail(&e->err, CF_EINVAL, "cf_instance_fire: an instance id and an event name are required");
    if (idem_key && !*idem_key)
        return cf__fail(&e->err, CF_EINVAL, "an empty idempotency key is not allowed; pass NULL for none");
    rc = cf__check_fire_text(e, id, event, actor, idem_key);
    if (rc != CF_OK)
        return rc;
    json_t *data = NULL;
    rc = cf__parse_object(&e->err, data_json, "event data", &data);
    if (rc != CF_OK)
        return rc;
    /* No data: the canonical text of {} without asking jansson for it. */
    char *text = data_json ? cf__json_canonical(data) : cf__strdup("{}");
    if (!text) {
        json_decref(data);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    cf_time now = cf_engine_now(e);
    cf__fire_in in = {id, event, data, text, actor && *actor ? actor : "api", idem_key, now, now, NULL, 0, NULL, true, false, NULL, NULL};
    /* In a batch, no savepoint unless the transition needs one (store.h). */
    rc = cf__store_begin_fire(e->store, &e->err);
    if (rc == CF_OK) {
        rc = cf__fire_locked(e, &in, out);
        if (rc == CF_OK || rc == CF_REJECTED) {
            int crc = cf__store_commit(e->store, &e->err);
            if (crc != CF_OK)
                rc = crc;
        } else {
            cf__store_rollback_fire(e->store, &e->err);
        }
    }
    free(text);
    json_decref(data);
    if (rc == CF_OK && cf__store_queued(e->store) && !cf__store_in_batch(e->store)) {
        /* The event is committed; linked events still queued are retried by the next tick.
         * In a batch they wait for cf_batch_commit. A fire that sent nothing skips
         * the delivery's transaction. */
        char saved[CF__MSG_MAX];
        memcpy(saved, e->err.msg, sizeof saved);
        cf__engine_deliver(e);
        if (e->chain_stopped) {
            /* Applied and committed, but the chain it started ran away: say so. */
            cf__err_prefix(&e->err, "event '%s' on instance %s was applied, but a chain of linked events it "
                           "started was stopped", event, id);
            return CF_ELIMIT;
        }
        memcpy(e->err.msg, saved, sizeof saved);
    }
    return rc;
}


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
