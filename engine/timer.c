/*
 * timer.c — durable timers and linked-event delivery: tick fires due timers in
 * due order, each as an ordinary transition in its own transaction, and
 * delivers events that transitions queued for linked instances.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deliver one queued linked event. *none = true when the queue is empty. */
static int deliver_one(cf_engine *e, bool *none)
{
    *none = false;
    int rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    cf__outbox_row msg = {0};
    rc = cf__store_outbox_next(e->store, &msg, &e->err);
    if (rc == CF_ENOTFOUND) {
        *none = true;
        cf__store_rollback(e->store);
        e->err.msg[0] = '\0';
        return CF_OK;
    }
    if (rc != CF_OK) {
        cf__store_rollback(e->store);
        return rc;
    }
    json_error_t jerr;
    json_t *data = json_loads(msg.data, 0, &jerr);
    char actor[64];
    snprintf(actor, sizeof actor, "link:%s", msg.source_id);
    cf_time now = cf_engine_now(e);
    cf__fire_in in = {msg.target_id, msg.event, data, msg.data, actor, NULL, now, now};
    if (!data)
        rc = cf__fail(&e->err, CF_EJSON, "queued event %lld has malformed data: %s", (long long)msg.id, jerr.text);
    else
        rc = cf__fire_locked(e, &in, NULL);
    if (rc == CF_OK || rc == CF_REJECTED)
        rc = cf__store_outbox_delete(e->store, msg.id, &e->err);
    if (rc == CF_OK)
        rc = cf__store_commit(e->store, &e->err);
    else {
        cf__err_prefix(&e->err, "delivering event '%s' from %s to %s (it stays queued; the next tick retries)",
                       msg.event, msg.source_id, msg.target_id);
        cf__store_rollback(e->store);
    }
    json_decref(data);
    cf__outbox_row_clear(&msg);
    return rc;
}

int cf__engine_deliver(cf_engine *e)
{
    for (;;) {
        bool none = false;
        int rc = deliver_one(e, &none);
        if (rc != CF_OK || none)
            return rc;
    }
}

/* Fire the earliest due timer. *none = true when nothing is due. */
static int fire_next_timer(cf_engine *e, cf_time now, bool *none)
{
    *none = false;
    int rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    cf__timer_row timer = {0};
    rc = cf__store_timer_next(e->store, now, &timer, &e->err);
    if (rc == CF_ENOTFOUND) {
        *none = true;
        cf__store_rollback(e->store);
        e->err.msg[0] = '\0';
        return CF_OK;
    }
    char due_iso[32];
    cf_time_format(timer.due, due_iso, sizeof due_iso);
    json_t *data = NULL;
    char *text = NULL;
    if (rc == CF_OK) {
        data = json_pack("{s:s, s:s}", "timer", timer.name, "due", due_iso);
        text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!text)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    /* Delete first: leaving the state would cancel it anyway, and a timer fires once. */
    if (rc == CF_OK)
        rc = cf__store_timer_delete(e->store, timer.id, &e->err);
    if (rc == CF_OK) {
        cf__fire_in in = {timer.instance_id, timer.event, data, text, "timer", NULL, cf_engine_now(e), timer.due};
        rc = cf__fire_locked(e, &in, NULL);
    }
    if (rc == CF_OK || rc == CF_REJECTED)
        rc = cf__store_commit(e->store, &e->err);
    else {
        cf__err_prefix(&e->err,
                       "timer '%s' of instance %s (due %s, event '%s') could not fire and stays pending; "
                       "fix the cause and tick again",
                       timer.name ? timer.name : "?", timer.instance_id, due_iso, timer.event ? timer.event : "?");
        cf__store_rollback(e->store);
    }
    free(text);
    json_decref(data);
    cf__timer_row_clear(&timer);
    return rc;
}

int cf_engine_tick(cf_engine *e, cf_time now, uint64_t *fired)
{
    uint64_t count = 0;
    if (fired)
        *fired = 0;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    rc = cf__engine_deliver(e);
    while (rc == CF_OK) {
        if (count >= e->opts.max_tick_fires) {
            rc = cf__fail(&e->err, CF_ELIMIT,
                          "tick stopped after firing %llu timers (max_tick_fires); timers that keep "
                          "re-arming in the past suggest a deadline policy bug; tick again to continue",
                          (unsigned long long)count);
            break;
        }
        bool none = false;
        rc = fire_next_timer(e, now, &none);
        if (rc != CF_OK || none)
            break;
        count++;
        rc = cf__engine_deliver(e);
    }
    if (fired)
        *fired = count;
    return rc;
}

typedef struct timer_ctx {
    cf_timer_fn fn;
    void *ud;
} timer_ctx;

static int timer_row(void *ud, const cf__timer_row *t, const char *workflow, const char *county)
{
    timer_ctx *c = ud;
    cf_timer_info info = {sizeof info, t->id, t->instance_id, workflow, county, t->state, t->name, t->event, t->due};
    return c->fn(c->ud, &info);
}

int cf_timer_list(cf_engine *e, cf_time from, cf_time to, cf_timer_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_timer_list: no callback given");
    if (to < from)
        return cf__fail(&e->err, CF_EINVAL, "cf_timer_list: the window ends before it starts");
    timer_ctx c = {fn, ud};
    return cf__store_timer_list(e->store, from, to, timer_row, &c, &e->err);
}
