/*
 * timer.c — durable timers and linked-event delivery: tick fires due timers in
 * due order, each as an ordinary all-or-nothing transition (in runs of up to a
 * thousand per transaction), and delivers events that transitions
 * queued for linked instances.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The event `in` was refused for taking its chain past CF__CHAIN_MAX (the
 * transition is rolled back; the message is in e->err): record it as rejected
 * at its instance and consume it (the queued event msg_id, or the timer
 * timer_id), so that the chain ends. CF_ELIMIT with the message, or the store's failure. */
static int stop_chain(cf_engine *e, const cf__fire_in *in, int64_t msg_id, int64_t timer_id)
{
    char why[CF__MSG_MAX];
    memcpy(why, e->err.msg, sizeof why);
    int rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    rc = cf__fire_refuse(e, in, why);
    if (rc == CF_OK)
        rc = msg_id ? cf__store_outbox_delete(e->store, msg_id, &e->err)
                    : cf__store_timer_delete(e->store, timer_id, &e->err);
    if (rc == CF_OK)
        rc = cf__store_commit(e->store, &e->err);
    else
        cf__store_rollback(e->store);
    if (rc != CF_OK)
        return rc;
    memcpy(e->err.msg, why, sizeof why);
    e->chain_stopped = true;
    return CF_ELIMIT;
}

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
    cf__fire_in in = {msg.target_id, msg.event, data, msg.data, actor, NULL, now, now, msg.chain_root,
                      msg.chain_count, NULL, false, false, NULL, NULL};
    if (!data)
        rc = cf__fail(&e->err, CF_EJSON, "queued event %lld has malformed data: %s", (long long)msg.id, jerr.text);
    else
        rc = cf__fire_locked(e, &in, NULL);
    if (rc == CF_OK || rc == CF_REJECTED)
        rc = cf__store_outbox_delete(e->store, msg.id, &e->err);
    if (rc == CF_OK)
        rc = cf__store_commit(e->store, &e->err);
    else if (rc == CF_ELIMIT && e->chain_stopped) {
        cf__store_rollback(e->store);
        cf__err_prefix(&e->err, "delivering event '%s' from %s to %s (recorded there as rejected and dropped)",
                       msg.event, msg.source_id, msg.target_id);
        rc = stop_chain(e, &in, msg.id, 0);
    } else {
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
    cf__store_clear_queued(e->store); /* what stays queued after a failure waits for the next tick */
    char stopped[CF__MSG_MAX];
    stopped[0] = '\0';
    int rc;
    for (;;) {
        bool none = false;
        e->chain_stopped = false;
        rc = deliver_one(e, &none);
        if (rc == CF_ELIMIT && e->chain_stopped) {
            /* That chain is over; the other queued events are still delivered. */
            if (!stopped[0])
                memcpy(stopped, e->err.msg, sizeof stopped);
            continue;
        }
        if (rc != CF_OK || none)
            break;
    }
    e->chain_stopped = false;
    if (rc == CF_OK && stopped[0]) {
        memcpy(e->err.msg, stopped, sizeof stopped);
        e->chain_stopped = true;
        rc = CF_ELIMIT;
    }
    return rc;
}

/* Fire the earliest due timer. *none = true when nothing is due. */
static int fire_next_timer(cf_engine *e, cf_time now, bool *none)
{
    *none = false;
    /* A fire's transaction: in a run, a savepoint only when the transition needs one (store.h). */
    int rc = cf__store_begin_fire(e->store, &e->err);
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
        text = data ? cf__json_canonical(data) : NULL;
        if (!text)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    /* The fire deletes the timer with its first write (delete_fired_timer, instance.c). */
    cf__fire_in in = {timer.instance_id, timer.event, data, text, "timer", NULL, cf_engine_now(e), timer.due,
                      timer.chain_root, timer.chain_count, &timer, false, false, NULL, NULL};
    e->chain_stopped = false;
    if (rc == CF_OK)
        rc = cf__fire_locked(e, &in, NULL);
    if (rc == CF_OK || rc == CF_REJECTED)
        rc = cf__store_commit(e->store, &e->err);
    else if (rc == CF_ELIMIT && e->chain_stopped) {
        cf__store_rollback_fire(e->store, &e->err);
        cf__err_prefix(&e->err, "timer '%s' of instance %s (due %s, event '%s'; recorded there as rejected and "
                       "dropped)", timer.name, timer.instance_id, due_iso, timer.event);
        rc = stop_chain(e, &in, 0, timer.id);
    } else {
        cf__err_prefix(&e->err,
                       "timer '%s' of instance %s (due %s, event '%s') could not fire and stays pending; "
                       "fix the cause and tick again",
                       timer.name ? timer.name : "?", timer.instance_id, due_iso, timer.event ? timer.event : "?");
        cf__store_rollback_fire(e->store, &e->err);
    }
    free(text);
    json_decref(data);
    cf__timer_row_clear(&timer);
    return rc;
}

/* A tick fires its timers in runs, each run one transaction of up to RUN_FIRES
 * timers or RUN_NS of work: the commit, which dominates a single fire, is paid
 * once per run. Each timer and each delivery in a run is all-or-nothing on its
 * own (a savepoint, or for a timer whose fire decides everything before writing
 * none: see cf__store_begin_fire), so one that fails undoes only itself, and the
 * run before it is still committed; a database error after such a fire wrote
 * rolls the run back whole, and its commit says so. */
#define RUN_FIRES 1000
#define RUN_NS (50 * 1000000LL)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Commit the run in progress; keeps the message of the failure rc that ended it. */
static int end_run(cf_engine *e, int rc, uint64_t *count, uint64_t *in_run)
{
    char saved[CF__MSG_MAX];
    memcpy(saved, e->err.msg, sizeof saved);
    int crc = cf__store_batch_commit(e->store, &e->err);
    uint64_t n = *in_run;
    *in_run = 0;
    if (crc != CF_OK)
        return crc; /* none of the run's timers fired */
    *count += n;
    memcpy(e->err.msg, saved, sizeof saved);
    return rc;
}

/* A stopped runaway chain (see cf__chain) ends only that chain: keep its message
 * for the end of the tick (the first one stopped) and carry on. */
static int note_stopped(cf_engine *e, int rc, char stopped[CF__MSG_MAX])
{
    if (rc != CF_ELIMIT || !e->chain_stopped)
        return rc;
    e->chain_stopped = false;
    if (!stopped[0])
        memcpy(stopped, e->err.msg, CF__MSG_MAX);
    e->err.msg[0] = '\0';
    return CF_OK;
}

int cf_engine_tick(cf_engine *e, cf_time now, uint64_t *fired)
{
    uint64_t count = 0, in_run = 0;
    if (fired)
        *fired = 0;
    int rc = cf__engine_usable(e);
    if (rc == CF_OK) /* a database found corrupt takes no more writes (verify.c) */
        rc = cf__store_refuse_if_corrupt(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    /* Inside the caller's batch: its savepoints, no runs of our own, and linked
     * events wait for its commit. */
    bool outer = cf__store_in_batch(e->store);
    bool run = false;
    int64_t run_start = 0;
    char stopped[CF__MSG_MAX];
    stopped[0] = '\0';
    if (!outer)
        rc = note_stopped(e, cf__engine_deliver(e), stopped);
    while (rc == CF_OK) {
        if (count + in_run >= e->opts.max_tick_fires) {
            rc = cf__fail(&e->err, CF_ELIMIT,
                          "tick stopped after firing %llu timers (max_tick_fires); timers that keep "
                          "re-arming in the past suggest a deadline policy bug; tick again to continue",
                          (unsigned long long)(count + in_run));
            break;
        }
        if (!outer && !run) {
            rc = cf__store_batch_begin(e->store, &e->err);
            if (rc != CF_OK)
                break;
            run = true;
            run_start = mono_ns();
        }
        bool none = false;
        e->chain_stopped = false;
        rc = fire_next_timer(e, now, &none);
        if (rc == CF_ELIMIT && e->chain_stopped) {
            rc = note_stopped(e, rc, stopped);
            continue;
        }
        if (rc != CF_OK || none)
            break;
        if (outer) {
            count++;
            continue;
        }
        in_run++;
        rc = note_stopped(e, cf__engine_deliver(e), stopped);
        if (rc == CF_OK && (in_run >= RUN_FIRES || mono_ns() - run_start > RUN_NS)) {
            rc = end_run(e, rc, &count, &in_run);
            run = false;
        }
    }
    if (run)
        rc = end_run(e, rc, &count, &in_run);
    if (fired)
        *fired = count;
    if (rc == CF_OK && stopped[0]) {
        memcpy(e->err.msg, stopped, sizeof stopped);
        rc = CF_ELIMIT;
    }
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

/* ---- an instance's pending timers in memory ---- */

static int pending_row(void *ud, const cf__timer_row *t)
{
    cf__pending_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        cf__pending *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            l->oom = true;
            return 1;
        }
        l->items = items;
        l->cap = cap;
    }
    cf__pending *p = &l->items[l->n++];
    p->id = t->id;
    p->due = t->due;
    p->state = cf__strdup(t->state);
    p->name = cf__strdup(t->name);
    p->event = cf__strdup(t->event);
    if (!p->state || !p->name || !p->event)
        l->oom = true;
    return l->oom;
}

int cf__pending_load(cf__store *s, const char *instance_id, cf__pending_list *l, cf__err *err)
{
    int rc = cf__store_timer_each(s, instance_id, pending_row, l, err);
    if (rc == CF_OK && l->oom)
        rc = cf__fail(err, CF_ENOMEM, "out of memory");
    return rc;
}

void cf__pending_free(cf__pending_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].state);
        free(l->items[i].name);
        free(l->items[i].event);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
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
