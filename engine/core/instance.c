/*
 * instance.c — creating instances and firing events at them: one
 * run-to-completion transition per transaction (guards, exit/transition/entry
 * actions, timers, linked events, history), plus the read-side queries.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

/* The text arguments of cf_instance_create: UTF-8, and one printable line for names. */
static int check_create_text(cf_engine *e, const char *workflow, const char *actor)
{
    int rc = cf__check_text(&e->err, "the workflow name", workflow, true);
    if (rc == CF_OK)
        rc = cf__check_text(&e->err, "the actor", actor, true);
    return rc;
}

/* The text arguments of cf_instance_fire: UTF-8, and one printable line for each. */
int cf__check_fire_text(cf_engine *e, const char *id, const char *event, const char *actor, const char *idem_key)
{
    int rc = cf__check_text(&e->err, "the instance id", id, true);
    if (rc == CF_OK)
        rc = cf__check_text(&e->err, "the event name", event, true);
    if (rc == CF_OK)
        rc = cf__check_text(&e->err, "the actor", actor, true);
    if (rc == CF_OK)
        rc = cf__check_text(&e->err, "the idempotency key", idem_key, true);
    return rc;
}

/* The data fields a workflow declares `owned` (workflow.c) are written only by
 * its policies and plugins: what the program publishes from them (the
 * registry's number, status, dates) is then never what a caller wrote. Create
 * and event data holding one are refused before anything is read or written. */
static int check_owned_fields(cf_engine *e, const cf__workflow *wf, json_t *data, const char *what)
{
    for (int i = 0; wf && i < wf->nowned; i++) {
        const cf__owned *o = &wf->owned[i];
        if (json_object_get(data, o->field))
            return cf__fail(&e->err, CF_EINVAL,
                            "%s holds '%s', a field workflow '%s' sets itself (set by the program %s); it "
                            "cannot be given: remove '%s' from the data",
                            what, o->field, wf->name, o->why, o->field);
    }
    return CF_OK;
}

/* A timer a transition schedules, written once nothing can fail any more. */
typedef struct due_timer {
    const cf__state *st;
    const cf__timer_def *td;
    cf_time due;
    bool chained; /* due at once: it continues the chain, whose count is n */
    int64_t n;
} due_timer;

/* The per-transition working set. */
typedef struct transit {
    cf_engine *e;
    const cf__workflow *wf;
    cf__instance_row *row;
    json_t *data; /* the instance data as it evolves */
    const cf__fire_in *in;
    const char *state; /* state name the policies see */
    bool acted;        /* an action ran: data may differ from the stored text */
    /* The timers scheduled so far (schedule_timers), written by write_timers. */
    due_timer *timers;
    int ntimers, captimers;
} transit;

/* The policy that decides, schedules and records: the fire's own (a change being
 * applied) or the engine's. */
static cf__policy *policy_of(const transit *t)
{
    return t->in && t->in->policy ? t->in->policy : t->e->policy;
}

static void fill_call(const transit *t, cf__decision_call *call)
{
    call->county = t->row->county;
    call->instance_id = t->row->id;
    call->workflow = t->wf->name;
    call->state = t->state;
    call->data = t->data;
    call->event = t->in ? t->in->event : NULL;
    call->event_data = t->in ? t->in->event_data : NULL;
    call->actor = t->in ? t->in->actor : NULL;
    call->now = t->in ? t->in->effective_at : t->row->created_at;
    call->serial = t->row->serial;
}

/* The instance data as a JSON object, parsed when a guard, an action, a timer's
 * deadline or a link first needs it (cf__fire_locked leaves it NULL): a fire that
 * runs none of them does not parse it. */
static int load_data(transit *t)
{
    if (t->data)
        return CF_OK;
    return cf__parse_object(&t->e->err, t->row->data, "stored instance data", &t->data);
}

static int run_guard(transit *t, const cf__fnref *fn, bool *ok, char **reason)
{
    int lrc = load_data(t);
    if (lrc != CF_OK)
        return lrc;
    cf__decision_call call;
    fill_call(t, &call);
    if (fn->kind == CF__FN_POLICY)
        return cf__policy_guard(policy_of(t), fn->index, &call, ok, reason, &t->e->err);
    if (fn->kind == CF__FN_PLUGIN) {
        /* A plugin runs its own SQL: in a batch, a savepoint from here on (see fire_apply). */
        int rc = cf__store_savepoint(t->e->store, &t->e->err);
        return rc == CF_OK ? cf__plugin_guard(t->e, fn->index, &call, ok, reason) : rc;
    }
    return cf__fail(&t->e->err, CF_EPLUGIN, "guard '%s' is provided by no loaded policy or plugin", fn->name);
}

static int run_action(transit *t, const cf__fnref *fn)
{
    int lrc = load_data(t);
    if (lrc != CF_OK)
        return lrc;
    t->acted = true;
    cf__decision_call call;
    fill_call(t, &call);
    if (fn->kind == CF__FN_PLUGIN) /* patches t->data in place */
        return cf__plugin_action(t->e, fn->index, &call);
    if (fn->kind != CF__FN_POLICY)
        return cf__fail(&t->e->err, CF_EPLUGIN, "action '%s' is provided by no loaded policy or plugin",
                        fn->name);
    json_t *patch = NULL;
    int rc = cf__policy_assign(policy_of(t), fn->index, &call, &patch, &t->e->err);
    if (rc != CF_OK)
        return rc;
    if (patch) {
        rc = cf__json_merge_patch(t->data, patch);
        json_decref(patch);
        if (rc != CF_OK)
            return cf__fail(&t->e->err, rc, "out of memory applying the patch of action '%s'", fn->name);
    }
    return CF_OK;
}

static int run_actions(transit *t, const cf__fnref *fns, int n)
{
    for (int i = 0; i < n; i++) {
        int rc = run_action(t, &fns[i]);
        if (rc != CF_OK)
            return rc;
    }
    return CF_OK;
}

/* Start the chain of the transition about to run on instance id, whose history
 * row will be number: the chain of the event, or a new one that it starts. */
static void chain_begin(cf_engine *e, const cf__fire_in *in, const char *id, int64_t number)
{
    cf__chain *c = &e->chain;
    if (in && in->chain_root && *in->chain_root)
        snprintf(c->root, sizeof c->root, "%s", in->chain_root);
    else
        snprintf(c->root, sizeof c->root, "%s#%lld", id, (long long)number);
    c->count = in ? in->chain_count : 0;
    c->timers = 0;
    e->chain_stopped = false;
    cf__store_chain_begin(e->store, c->root);
}

/* After the transition: linked events queued from here on (none should be) belong to no chain. */
static void chain_end(cf_engine *e)
{
    cf__store_chain_begin(e->store, NULL);
}

/* The chain's root "<id>#<number>" as words: "history row 3 of instance <id>". */
static void chain_origin(const cf__chain *c, char *buf, size_t size)
{
    const char *hash = strchr(c->root, '#');
    if (hash)
        snprintf(buf, size, "history row %s of instance %.*s", hash + 1, (int)(hash - c->root), c->root);
    else
        snprintf(buf, size, "%s", c->root);
}

/* Refuse a transition whose linked events and immediately due timers take its
 * chain past CF__CHAIN_MAX; otherwise record the chain's new count on its queued events. */
static int chain_check(transit *t, const cf__transition *tr)
{
    cf_engine *e = t->e;
    int64_t queued = cf__store_chain_queued(e->store);
    int64_t total = e->chain.count + queued + e->chain.timers;
    if (queued + e->chain.timers == 0)
        return CF_OK;
    if (total <= CF__CHAIN_MAX)
        return queued ? cf__store_chain_count(e->store, e->chain.root, total, &e->err) : CF_OK;
    cf__buf sends = {0};
    for (int i = 0; tr && i < tr->nsends; i++) {
        const cf__link *link = &t->wf->links[tr->sends[i].link];
        cf__buf_printf(&sends, "%s'%s' over link '%s' to workflow '%s'", i ? ", " : "", tr->sends[i].event,
                       link->name, link->workflow);
    }
    char origin[160], step[256];
    chain_origin(&e->chain, origin, sizeof origin);
    if (tr)
        snprintf(step, sizeof step, "%s --%s--> %s", t->wf->states[tr->from].name, t->wf->events[tr->event],
                 t->wf->states[tr->to].name);
    else
        snprintf(step, sizeof step, "creating the instance in state %s", t->state);
    e->chain_stopped = true;
    int rc = cf__fail(&e->err, CF_ELIMIT,
                      "runaway chain stopped: in workflow '%s', %s of instance %s (sending %s%s) "
                      "would make the chain of linked events and immediately due timers started by %s cause "
                      "%lld events, more than the %d one original event may cause. Workflows whose sends "
                      "answer each other (or an instance that sends to itself) loop forever: change the "
                      "workflows so the chain ends (a guard, or a state that does not send back), and give "
                      "timers a due time after the event that schedules them",
                      t->wf->name, step, t->row->id, sends.data ? sends.data : "nothing",
                      e->chain.timers ? ", and scheduling timers already due" : "", origin, (long long)total,
                      CF__CHAIN_MAX);
    cf__buf_free(&sends);
    return rc;
}

/* A transition fired by a timer schedules that timer again, due no later than
 * the instant it fired at: it would fire again at once, forever. */
static int runaway_timer(transit *t, const cf__state *st, const cf__timer_def *td, cf_time due)
{
    char due_iso[32], at_iso[32];
    cf_time_format(due, due_iso, sizeof due_iso);
    cf_time_format(t->in->effective_at, at_iso, sizeof at_iso);
    return cf__fail(&t->e->err, CF_ELIMIT,
                    "runaway timer stopped: in workflow '%s', timer '%s' of state '%s' (instance %s) fired at "
                    "%s and re-entered the state, and its deadline function '%s' gave it the due time %s "
                    "again, not after the instant it fired at, so it would fire at that instant forever. Fix "
                    "'%s' in the policy so that it returns a time after ctx.now (or nil for no timer) when "
                    "the timer re-enters the state; until then the timer stays pending",
                    t->wf->name, td->name, st->name, t->row->id, at_iso, td->after.name, due_iso, td->after.name);
}

/* Write the timers schedule_timers collected, and forget them. */
static int write_timers(transit *t)
{
    int rc = CF_OK;
    for (int i = 0; i < t->ntimers && rc == CF_OK; i++) {
        const due_timer *d = &t->timers[i];
        const char *event = t->wf->events[d->td->event];
        rc = d->chained ? cf__store_timer_add_chain(t->e->store, t->row->id, d->st->name, d->td->name, event, d->due,
                                                    t->e->chain.root, d->n, &t->e->err)
                        : cf__store_timer_add(t->e->store, t->row->id, d->st->name, d->td->name, event, d->due,
                                              &t->e->err);
    }
    t->ntimers = 0;
    return rc;
}

/* Schedule the timers of state s for the data as it is now: decided here,
 * written by write_timers. A timer already due at the transition's instant
 * continues its chain; one scheduled by a timer's transition is a runaway (see
 * cf__chain in internal.h). */
static int schedule_timers(transit *t, int s)
{
    const cf__state *st = &t->wf->states[s];
    for (int i = 0; i < st->ntimers; i++) {
        const cf__timer_def *td = &st->timers[i];
        int rc = load_data(t);
        if (rc != CF_OK)
            return rc;
        cf__decision_call call;
        fill_call(t, &call);
        call.event = NULL;
        call.event_data = NULL;
        bool has_due = false;
        cf_time due = 0;
        rc = cf__policy_deadline(policy_of(t), td->after.index, &call, &has_due, &due, &t->e->err);
        if (rc != CF_OK)
            return rc;
        if (!has_due)
            continue;
        if (t->ntimers == t->captimers) {
            int cap = t->captimers ? 2 * t->captimers : 4;
            due_timer *p = realloc(t->timers, (size_t)cap * sizeof *p);
            if (!p)
                return cf__fail(&t->e->err, CF_ENOMEM, "out of memory scheduling timer '%s'", td->name);
            t->timers = p;
            t->captimers = cap;
        }
        due_timer *d = &t->timers[t->ntimers++];
        *d = (due_timer){st, td, due, false, 0};
        if (t->in && due <= t->in->effective_at) {
            const cf__timer_row *fired = t->in->timer;
            if (fired && strcmp(fired->state, st->name) == 0 && strcmp(fired->name, td->name) == 0)
                return runaway_timer(t, st, td, due);
            cf__chain *c = &t->e->chain;
            c->timers++;
            d->chained = true;
            d->n = c->count + cf__store_chain_queued(t->e->store) + c->timers;
        }
    }
    return CF_OK;
}

/* Queue the events a transition sends over its links. */
static int queue_sends(transit *t, const cf__transition *tr)
{
    int lrc = tr->nsends > 0 ? load_data(t) : CF_OK;
    if (lrc != CF_OK)
        return lrc;
    for (int i = 0; i < tr->nsends; i++) {
        const cf__send_def *sd = &tr->sends[i];
        const cf__link *link = &t->wf->links[sd->link];
        json_t *ref = json_object_get(t->data, link->field);
        /* An array names every linked instance; an empty one means nobody to tell. */
        size_t n = json_is_array(ref) ? json_array_size(ref) : (ref && !json_is_null(ref) ? 1 : 0);
        if ((json_is_array(ref) && n == 0) || (n == 0 && link->optional))
            continue;
        if (n == 0)
            return cf__fail(&t->e->err, CF_EACTION,
                            "transition %s --%s--> %s sends '%s' over link '%s', but the instance data "
                            "has no '%s' (record the linked instance's id there first)",
                            t->wf->states[tr->from].name, t->wf->events[tr->event], t->wf->states[tr->to].name,
                            sd->event, link->name, link->field);
        json_t *msg = json_pack("{s:s, s:s, s:s}", "from", t->row->id, "from_workflow", t->wf->name,
                                "from_state", t->wf->states[tr->to].name);
        char *text = msg ? cf__json_canonical(msg) : NULL;
        json_decref(msg);
        if (!text)
            return cf__fail(&t->e->err, CF_ENOMEM, "out of memory queueing a linked event");
        int rc = CF_OK;
        for (size_t k = 0; k < n && rc == CF_OK; k++) {
            json_t *idv = json_is_array(ref) ? json_array_get(ref, k) : ref;
            if (!json_is_string(idv)) {
                rc = cf__fail(&t->e->err, CF_EACTION, "link '%s': data field '%s' must hold an instance id string",
                              link->name, link->field);
                break;
            }
            /* The same checks as a plugin's send: one path (send.c). */
            cf__send_msg m = {t->row->id, json_string_value(idv), link->workflow, sd->event, text,
                              t->in ? t->in->at : t->row->updated_at};
            bool refused = false;
            rc = cf__send(t->e, &m, &refused, &t->e->err);
            if (refused) {
                cf__err_prefix(&t->e->err, "link '%s' (fix data field '%s')", link->name, link->field);
                rc = CF_EACTION;
            }
        }
        free(text);
        if (rc != CF_OK)
            return rc;
    }
    return CF_OK;
}

/* The strings a cf_fire_result points at. Only a caller's own fire sets them:
 * deliveries and timers pass out = NULL and leave the caller's result intact. */
static int set_scratch(cf_engine *e, const cf_fire_result *out, const char *from, const char *to,
                       const char *reasons)
{
    if (!out)
        return CF_OK;
    free(e->scratch_from);
    free(e->scratch_to);
    free(e->scratch_reasons);
    e->scratch_from = cf__strdup(from);
    e->scratch_to = cf__strdup(to);
    e->scratch_reasons = cf__strdup(reasons);
    if (!e->scratch_from || !e->scratch_to || !e->scratch_reasons)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    return CF_OK;
}

static void fill_result(cf_engine *e, cf_fire_result *out, int applied, int replayed, int64_t seq)
{
    if (!out || out->size < sizeof(size_t))
        return;
    cf_fire_result r = {sizeof r, applied, replayed, e->scratch_from, e->scratch_to, e->scratch_reasons, seq};
    size_t n = out->size < sizeof r ? out->size : sizeof r;
    memcpy((char *)out + sizeof(size_t), (char *)&r + sizeof(size_t), n - sizeof(size_t));
}

static int append_history(transit *t, const char *outcome, const char *from, const char *to, const char *reasons,
                          int64_t *seq)
{
    cf__history_row h;
    memset(&h, 0, sizeof h);
    h.number = t->row->version + 1;
    h.instance_id = t->row->id;
    h.at = t->in->at;
    h.effective_at = t->in->effective_at;
    h.actor = t->in->actor;
    h.event = t->in->event;
    h.data = t->in->event_text;
    h.outcome = outcome;
    h.from_state = from;
    h.to_state = to;
    h.reasons = reasons;
    h.policy_hash = cf__policy_hash(policy_of(t), t->row->county);
    h.def_hash = t->wf->hash;
    h.idem_key = t->in->idem_key;
    h.result_data = t->row->data; /* what the row leaves behind, for verify */
    h.result_county = t->row->county;
    int rc = cf__audit_append(t->e->store, &h, &t->e->err);
    if (rc == CF_OK) {
        t->row->version = h.number;
        *seq = h.seq;
    }
    return rc;
}

/* Replay or refuse a fire whose idempotency key was seen before. */
static int replay(cf_engine *e, const cf__fire_in *in, cf_fire_result *out, bool *done)
{
    *done = false;
    if (!in->idem_key)
        return CF_OK;
    cf__history_row prev;
    cf__buf keep = {0};
    int rc = cf__audit_find_key(e->store, in->id, in->idem_key, &prev, &keep, &e->err);
    if (rc == CF_ENOTFOUND) {
        cf__buf_free(&keep);
        e->err.msg[0] = '\0';
        return CF_OK;
    }
    if (rc != CF_OK) {
        cf__buf_free(&keep);
        return rc;
    }
    *done = true;
    if (strcmp(prev.event, in->event) != 0 || strcmp(prev.data, in->event_text) != 0) {
        rc = cf__fail(&e->err, CF_ECONFLICT,
                      "idempotency key '%s' was already used on instance %s for event '%s' with data %s "
                      "(history row %lld); a new event needs a new key",
                      in->idem_key, in->id, prev.event, prev.data, (long long)prev.seq);
    } else {
        bool applied = strcmp(prev.outcome, "applied") == 0;
        rc = set_scratch(e, out, prev.from_state, prev.to_state, prev.reasons);
        if (rc == CF_OK) {
            fill_result(e, out, applied, 1, prev.seq);
            rc = applied ? CF_OK : CF_REJECTED;
        }
    }
    cf__buf_free(&keep);
    return rc;
}

/* The reasons array when no transition exists for (state, event). */
static json_t *no_transition_reason(const cf__workflow *wf, int s, int ev)
{
    cf__buf b = {0};
    if (wf->states[s].terminal) {
        cf__buf_printf(&b, "'%s' is a final state: no event moves it", wf->states[s].name);
    } else {
        cf__buf_printf(&b, "event '%s' does not apply in state '%s' (events that do:", wf->events[ev],
                       wf->states[s].name);
        int listed = 0;
        for (int k = 0; k < wf->nevents; k++) {
            if (wf->first[s * wf->nevents + k] >= 0) {
                cf__buf_printf(&b, " %s", wf->events[k]);
                listed++;
            }
        }
        cf__buf_puts(&b, listed ? ")" : " none)");
    }
    json_t *arr = json_array();
    if (arr && b.data)
        json_array_append_new(arr, json_string(b.data));
    cf__buf_free(&b);
    return arr;
}

static bool explainable_failure(int rc);

/* One reason a guard gave, and how many of the event's transitions it blocks. */
typedef struct reason_item {
    const char *text; /* borrowed from the reasons being sorted */
    int blocks;       /* transitions it blocks */
    int first;        /* order of first appearance */
    bool nearest;     /* given by a transition that fails the fewest guards */
} reason_item;

static int cmp_reason(const void *a, const void *b)
{
    const reason_item *x = a, *y = b;
    if (x->blocks != y->blocks)
        return y->blocks - x->blocks;
    return x->first - y->first;
}

/* The distinct reasons of the transition whose list starts at all[start]; *end gets its null. */
static int transition_failures(json_t *all, size_t start, size_t *end)
{
    int count = 0;
    size_t i = start;
    for (; i < json_array_size(all) && !json_is_null(json_array_get(all, i)); i++) {
        bool again = false;
        for (size_t k = start; k < i && !again; k++)
            again = strcmp(json_string_value(json_array_get(all, k)), json_string_value(json_array_get(all, i))) == 0;
        count += !again;
    }
    *end = i;
    return count;
}

/* The reasons of a refusal, each once, the decisive one first. They come from the
 * transitions nearest to passing (those that fail the fewest guards): a guard that
 * only routes between transitions (the exam was passed, or failed; the last attempt
 * or not) fails on the transitions the event was not meant for, which fail more.
 * Among them the reason that blocks the most of the event's transitions leads (a
 * guard every one of them fails, such as "no exam appointment is scheduled"), ties
 * in the order the workflow lists the transitions and their guards. `all` holds
 * every failing guard's reason, transition by transition, each transition's list
 * ended by a JSON null. */
static int order_reasons(cf_engine *e, json_t *all, json_t *out)
{
    size_t n = json_array_size(all);
    reason_item *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    int fewest = -1;
    for (size_t start = 0, end = 0; start < n; start = end + 1) {
        int f = transition_failures(all, start, &end);
        if (fewest < 0 || f < fewest)
            fewest = f;
    }
    int count = 0;
    for (size_t start = 0, end = 0; start < n; start = end + 1) {
        bool nearest = transition_failures(all, start, &end) == fewest;
        for (size_t i = start; i < end; i++) {
            const char *text = json_string_value(json_array_get(all, i));
            bool seen_here = false; /* a transition that gives the same reason twice blocks once */
            for (size_t k = start; k < i && !seen_here; k++)
                seen_here = strcmp(json_string_value(json_array_get(all, k)), text) == 0;
            int j = 0;
            while (j < count && strcmp(items[j].text, text) != 0)
                j++;
            if (j == count)
                items[count++] = (reason_item){text, 0, j, false};
            if (!seen_here)
                items[j].blocks++;
            items[j].nearest |= nearest;
        }
    }
    qsort(items, (size_t)count, sizeof *items, cmp_reason);
    int rc = CF_OK;
    for (int j = 0; j < count && rc == CF_OK; j++)
        if (items[j].nearest && json_array_append_new(out, json_string(items[j].text)) != 0)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    free(items);
    return rc;
}

/* Run the guards of the event's transitions from state s, in the workflow's
 * order; *chosen gets the first whose guards all pass (NULL if none), reasons
 * (when none passes) why each was refused, ordered by order_reasons. A fire
 * stops at the chosen transition; an explanation (x) evaluates every one and
 * records each guard's verdict. */
static int evaluate_guards(transit *t, int s, int ev, cf__explain *x, const cf__transition **chosen, json_t *reasons)
{
    cf_engine *e = t->e;
    const cf__workflow *wf = t->wf;
    *chosen = NULL;
    if (x)
        x->started = true;
    json_t *all = json_array();
    if (!all)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    int rc = CF_OK;
    for (int i = wf->first[s * wf->nevents + ev]; i >= 0 && (!*chosen || x); i = wf->trans[i].next) {
        const cf__transition *tr = &wf->trans[i];
        json_t *trace = NULL;
        if (x) {
            trace = json_pack("{s:s, s:s, s:b, s:[]}", "from", wf->states[tr->from].name, "to",
                              wf->states[tr->to].name, "reenter", tr->reenter, "guards");
            if (!trace || json_array_append_new(x->transitions, trace) != 0) {
                rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
                break;
            }
        }
        bool pass = true;
        for (int g = 0; g < tr->nguards && rc == CF_OK; g++) {
            bool ok = false;
            char *reason = NULL;
            rc = run_guard(t, &tr->guards[g], &ok, &reason);
            if (rc != CF_OK && trace && *chosen && explainable_failure(rc)) {
                /* A guard a fire would never run (an earlier transition is taken) fails to
                 * run: the explanation says so and goes on. */
                json_t *gv = json_pack("{s:s, s:b, s:n, s:s}", "guard", tr->guards[g].name, "passed", 0, "reason",
                                       "error", e->err.msg);
                e->err.msg[0] = '\0';
                rc = gv && json_array_append_new(json_object_get(trace, "guards"), gv) == 0
                         ? CF_OK
                         : cf__fail(&e->err, CF_ENOMEM, "out of memory");
                free(reason);
                pass = false;
                break;
            }
            if (rc == CF_OK && !ok) {
                pass = false;
                if (json_array_append_new(all, json_string(reason ? reason : tr->guards[g].name)) != 0)
                    rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
            }
            if (rc == CF_OK && trace) {
                json_t *gv = json_pack("{s:s, s:b, s:o}", "guard", tr->guards[g].name, "passed", ok, "reason",
                                       ok ? json_null() : json_string(reason ? reason : tr->guards[g].name));
                if (!gv || json_array_append_new(json_object_get(trace, "guards"), gv) != 0)
                    rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
            }
            free(reason);
        }
        if (rc != CF_OK)
            break;
        if (json_array_append_new(all, json_null()) != 0) {
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
            break;
        }
        if (trace && (json_object_set_new(trace, "passed", json_boolean(pass)) != 0 ||
                      json_object_set_new(trace, "taken", json_boolean(pass && !*chosen)) != 0)) {
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
            break;
        }
        if (pass && !*chosen)
            *chosen = tr;
    }
    if (rc == CF_OK && !*chosen)
        rc = order_reasons(e, all, reasons);
    json_decref(all);
    return rc;
}

/* Fire, step 1 (load): the instance row read, checked against its audit
 * hashes; the definition it runs; the event and the state it is in (the data is parsed later, when needed).
 * The chain of the transition begins here; the caller ends it whatever the
 * outcome. */
static int fire_load(cf_engine *e, const cf__fire_in *in, cf__instance_row *row, cf__workflow **wf, int *ev,
                     int *s)
{
    int rc = CF_OK;
    /* Never write over a change made outside certflow (verify.c). */
    if (!in->audited)
        rc = cf__audit_check_instance(e->store, row->id, row->version, row->state, row->county, row->data, &e->err);
    if (rc != CF_OK)
        return rc;
    chain_begin(e, in, row->id, row->version + 1);
    rc = cf__engine_definition(e, row->def_hash, wf);
    if (rc != CF_OK)
        return rc;
    *ev = cf__workflow_event(*wf, in->event);
    if (*ev < 0) {
        const char *hint = cf__closest(in->event, (*wf)->events, (size_t)(*wf)->nevents);
        return cf__fail(&e->err, CF_EEVENT, "workflow '%s' has no event '%s'%s%s%s (cf_workflow_dot of '%s' shows its events)",
                        (*wf)->name, in->event, hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "",
                        (*wf)->name);
    }
    if (in->from_caller && strcmp(in->event, "policy_changed") == 0) {
        /* The engine's own event: only cf_policy_apply fires it, under the new policy. */
        return cf__fail(&e->err, CF_EINVAL,
                        "'policy_changed' is fired by the engine when a county's policy change is applied "
                        "(cf_policy_apply); it cannot be fired on instance %s",
                        row->id);
    }
    if (in->from_caller) {
        /* The instance's own definition, and the one loaded now if it is newer. */
        rc = check_owned_fields(e, *wf, in->event_data, "event data");
        cf__workflow *current = cf__engine_workflow(e, (*wf)->name);
        if (rc == CF_OK && current && current != *wf)
            rc = check_owned_fields(e, current, in->event_data, "event data");
        if (rc != CF_OK)
            return rc;
    }
    *s = cf__workflow_state(*wf, row->state);
    if (*s < 0)
        return cf__fail(&e->err, CF_EWORKFLOW,
                        "instance %s is in state '%s', which workflow '%s' (%.12s) does not define", row->id,
                        row->state, (*wf)->name, (*wf)->hash);
    return CF_OK; /* the data is parsed when first needed (load_data) */
}

/* The first write of a fire: the timer that fired it (a tick's, in->timer) is
 * deleted; leaving its state would cancel it anyway, and a timer fires once. It
 * goes before the history row, which hashes the timers left behind. */
static int delete_fired_timer(transit *t)
{
    return t->in && t->in->timer ? cf__store_timer_delete(t->e->store, t->in->timer->id, &t->e->err) : CF_OK;
}

/* Fire, step 3 (reject): no transition passed its guards. The history records
 * why (the failing guards' reasons, or why no transition was there to try);
 * the instance keeps its state and data. reasons may be replaced; the caller
 * frees it. Returns CF_REJECTED once recorded. */
static int fire_reject(transit *t, int s, int ev, json_t **reasons, cf_fire_result *out)
{
    cf_engine *e = t->e;
    cf__instance_row *row = t->row;
    if (json_array_size(*reasons) == 0) {
        json_decref(*reasons);
        *reasons = no_transition_reason(t->wf, s, ev);
    }
    char *rtext = *reasons ? cf__json_canonical(*reasons) : NULL;
    if (!rtext)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    int64_t seq = 0;
    /* Everything that can fail but the writes comes first (see fire_apply). */
    int rc = set_scratch(e, out, row->state, row->state, rtext);
    if (rc == CF_OK)
        rc = delete_fired_timer(t);
    if (rc == CF_OK)
        rc = append_history(t, "rejected", row->state, row->state, rtext, &seq);
    if (rc == CF_OK)
        rc = cf__store_instance_update(e->store, row, &e->err);
    free(rtext);
    if (rc == CF_OK) {
        fill_result(e, out, 0, 0, seq);
        rc = CF_REJECTED;
    }
    return rc;
}

static bool any_plugin(const cf__fnref *fns, int n)
{
    for (int i = 0; i < n; i++)
        if (fns[i].kind == CF__FN_PLUGIN)
            return true;
    return false;
}

/* Whether transition tr writes before a later step of it can still fail: a
 * plugin's action runs its own SQL, a linked event goes to the outbox. */
static bool writes_early(const cf__workflow *wf, const cf__transition *tr)
{
    bool early = tr->nsends > 0 || any_plugin(tr->actions, tr->nactions);
    for (int k = 0; k < tr->nexits && !early; k++)
        early = any_plugin(wf->states[tr->exits[k]].on_exit, wf->states[tr->exits[k]].non_exit);
    for (int k = 0; k < tr->nenters && !early; k++)
        early = any_plugin(wf->states[tr->enters[k]].on_enter, wf->states[tr->enters[k]].non_enter);
    return early;
}

/* Fire, step 4 (apply): run the chosen transition to completion: exit actions,
 * the transition's actions, entry actions and the new timers, linked events, the
 * chain's limits; then the writes: the old state's timers cancelled, the new ones
 * added, the history row, the new data and state. Every decision that can fail
 * comes before the first write, so inside a batch (cf__store_begin_fire) only a
 * database error can fail a fire once it writes; a transition that writes
 * earlier (writes_early) takes a savepoint first. Any failure rolls the whole
 * event back. */
static int fire_apply(transit *t, const cf__transition *chosen, cf_fire_result *out)
{
    cf_engine *e = t->e;
    const cf__workflow *wf = t->wf;
    const cf__fire_in *in = t->in;
    cf__instance_row *row = t->row;
    int rc = CF_OK;
    const char *from_name = wf->states[chosen->from].name;
    const char *to_name = wf->states[chosen->to].name;
    if (writes_early(wf, chosen))
        rc = cf__store_savepoint(e->store, &e->err);
    /* The states left, innermost first, and entered, outermost first (hierarchy.c;
     * none for an internal transition). Only a state with timers has any: timers
     * are scheduled for the states of the instance's own definition (entering
     * them, or a policy change re-planning them), and an instance keeps its
     * definition. A parent's timers run until the parent itself is left. */
    for (int k = 0; k < chosen->nexits && rc == CF_OK; k++) {
        const cf__state *x = &wf->states[chosen->exits[k]];
        rc = run_actions(t, x->on_exit, x->non_exit);
    }
    if (rc == CF_OK)
        rc = run_actions(t, chosen->actions, chosen->nactions);
    t->state = to_name;
    for (int k = 0; k < chosen->nenters && rc == CF_OK; k++)
        rc = run_actions(t, wf->states[chosen->enters[k]].on_enter, wf->states[chosen->enters[k]].non_enter);
    for (int k = 0; k < chosen->nenters && rc == CF_OK; k++)
        rc = schedule_timers(t, chosen->enters[k]);
    if (rc == CF_OK)
        rc = queue_sends(t, chosen);
    if (rc == CF_OK)
        rc = chain_check(t, chosen);
    if (rc != CF_OK) {
        cf__err_prefix(&e->err, "event '%s' on instance %s (%s --%s--> %s) rolled back", in->event, row->id,
                       from_name, in->event, to_name);
        return rc;
    }
    /* Without an action the data is what was read, and the stored text stays. */
    if (t->acted) {
        char *dtext = cf__json_canonical(t->data);
        if (!dtext)
            return cf__fail(&e->err, CF_ENOMEM, "out of memory");
        free(row->data);
        row->data = dtext;
    }
    free(row->state);
    row->state = cf__strdup(to_name);
    row->updated_at = in->at;
    if (!row->state)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    rc = set_scratch(e, out, from_name, to_name, "[]");
    /* The writes. The timers go first: the history row hashes those left behind. */
    if (rc == CF_OK)
        rc = delete_fired_timer(t);
    for (int k = 0; k < chosen->nexits && rc == CF_OK; k++) {
        const cf__state *x = &wf->states[chosen->exits[k]];
        if (x->ntimers > 0)
            rc = cf__store_timer_cancel(e->store, row->id, x->name, &e->err);
    }
    if (rc == CF_OK)
        rc = write_timers(t);
    int64_t seq = 0;
    if (rc == CF_OK)
        rc = append_history(t, "applied", from_name, to_name, "[]", &seq);
    if (rc == CF_OK)
        rc = cf__store_instance_update(e->store, row, &e->err);
    if (rc == CF_OK)
        fill_result(e, out, 1, 0, seq);
    return rc;
}

/* One event on one instance, inside the caller's transaction: replay a
 * recorded outcome, or load (1), pick the transition whose guards pass (2,
 * evaluate_guards), and record a rejection (3) or apply it (4). */
int cf__fire_locked(cf_engine *e, const cf__fire_in *in, cf_fire_result *out)
{
    bool done = false;
    int rc = replay(e, in, out, &done);
    if (done || rc != CF_OK)
        return rc;

    cf__instance_row row = {0};
    rc = cf__store_instance_get(e->store, in->id, &row, &e->err);
    if (rc != CF_OK)
        return rc;
    cf__workflow *wf = NULL;
    int ev = -1, s = -1;
    json_t *reasons = NULL;
    rc = fire_load(e, in, &row, &wf, &ev, &s);
    if (rc == CF_OK && !(reasons = json_array()))
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    transit t = {e, wf, &row, NULL, in, row.state, false, NULL, 0, 0};
    const cf__transition *chosen = NULL;
    int bad_data = 0; /* the event's data as its workflow declares it (event_data.c): else rejected */
    if (rc == CF_OK && in->from_caller && wf->nevent_fields > 0 && wf->first[s * wf->nevents + ev] >= 0) {
        rc = load_data(&t); /* the reason says whether the instance's own copy holds the field */
        if (rc == CF_OK && (bad_data = cf__event_data_reasons(wf, ev, in->event_data, t.data, reasons)) < 0)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    if (rc == CF_OK && bad_data == 0)
        rc = evaluate_guards(&t, s, ev, in->explain, &chosen, reasons);
    if (rc == CF_OK)
        rc = chosen ? fire_apply(&t, chosen, out) : fire_reject(&t, s, ev, &reasons, out);
    json_decref(reasons);
    json_decref(t.data);
    free(t.timers);
    chain_end(e);
    cf__instance_row_clear(&row);
    return rc;
}

int cf__fire_refuse(cf_engine *e, const cf__fire_in *in, const char *reason)
{
    cf__instance_row row = {0};
    int rc = cf__store_instance_get(e->store, in->id, &row, &e->err);
    cf__workflow *wf = NULL;
    if (rc == CF_OK)
        rc = cf__engine_definition(e, row.def_hash, &wf);
    json_t *reasons = rc == CF_OK ? json_array() : NULL;
    json_t *why = json_string(reason);
    if (!why)
        why = json_string("runaway chain stopped");
    char *rtext = NULL;
    if (rc == CF_OK && reasons && why) {
        int arc = json_array_append_new(reasons, why); /* takes why, even when it fails */
        why = NULL;
        if (arc == 0)
            rtext = cf__json_canonical(reasons);
    }
    json_decref(why);
    if (rc == CF_OK && !rtext)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    int64_t seq = 0;
    if (rc == CF_OK) {
        transit t = {e, wf, &row, NULL, in, row.state, false, NULL, 0, 0};
        rc = append_history(&t, "rejected", row.state, row.state, rtext, &seq);
    }
    if (rc == CF_OK)
        rc = cf__store_instance_update(e->store, &row, &e->err);
    free(rtext);
    json_decref(reasons);
    cf__instance_row_clear(&row);
    return rc;
}

int cf_instance_create(cf_engine *e, const char *workflow, const char *county, const char *data_json,
                       const char *actor, char id_out[37])
{
    int rc = cf__engine_usable(e);
    if (rc == CF_OK) /* a database found corrupt takes no more writes (verify.c) */
        rc = cf__store_refuse_if_corrupt(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    if (!workflow || !county || !id_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_instance_create: workflow, county and id_out are required");
    id_out[0] = '\0';
    rc = check_create_text(e, workflow, actor);
    if (rc != CF_OK)
        return rc;
    if (!cf__valid_county(county))
        return cf__fail(&e->err, CF_EINVAL,
                        "county '%s' is not a county name: use lower case letters, digits and '_' (e.g. "
                        "san_diego)",
                        county);
    cf__workflow *wf = cf__engine_workflow(e, workflow);
    if (!wf)
        return cf__engine_unknown_workflow(e, workflow);
    json_t *data = NULL;
    rc = cf__parse_object(&e->err, data_json, "instance data", &data);
    if (rc == CF_OK)
        rc = check_owned_fields(e, wf, data, "instance data");
    if (rc != CF_OK) {
        json_decref(data);
        return rc;
    }
    uuid_t uu;
    uuid_generate_random(uu);
    cf__instance_row row = {0};
    uuid_unparse_lower(uu, row.id);
    cf_time now = cf_engine_now(e);
    json_t *empty = json_object();
    char *empty_text = empty ? cf__json_canonical(empty) : NULL;
    cf__fire_in in = {row.id, "", empty, empty_text, actor && *actor ? actor : "api", NULL, now, now, NULL, 0, NULL, false, false, NULL, NULL};
    row.workflow = wf->name;
    row.def_hash = wf->hash;
    row.county = (char *)county;
    row.state = wf->states[wf->initial].name ? (char *)wf->states[wf->initial].name : NULL;
    row.created_at = row.updated_at = now;
    row.version = 0;
    transit t = {e, wf, &row, data, &in, row.state, false, NULL, 0, 0};
    char *dtext = NULL;
    if (!empty_text) {
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
        goto out;
    }
    rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        goto out;
    chain_begin(e, &in, row.id, 1);
    rc = cf__store_next_serial(e->store, &row.serial, &e->err);
    const cf__state *init = &wf->states[wf->initial]; /* a leaf, entered from the top down */
    for (int k = 0; k < init->nchain && rc == CF_OK; k++)
        rc = run_actions(&t, wf->states[init->chain[k]].on_enter, wf->states[init->chain[k]].non_enter);
    if (rc == CF_OK) {
        dtext = cf__json_canonical(data);
        row.data = dtext;
        rc = dtext ? cf__store_instance_insert(e->store, &row, &e->err) : CF_ENOMEM;
    }
    /* Timers refer to the instance row, so they come after it. */
    for (int k = 0; k < init->nchain && rc == CF_OK; k++)
        rc = schedule_timers(&t, init->chain[k]);
    if (rc == CF_OK)
        rc = chain_check(&t, NULL);
    if (rc == CF_OK)
        rc = write_timers(&t);
    free(t.timers);
    chain_end(e);
    int64_t seq = 0;
    if (rc == CF_OK)
        rc = append_history(&t, "created", "", row.state, "[]", &seq);
    if (rc == CF_OK)
        rc = cf__store_instance_update(e->store, &row, &e->err);
    if (rc == CF_OK)
        rc = cf__store_commit(e->store, &e->err);
    else {
        cf__err_prefix(&e->err, "creating a '%s' instance", workflow);
        cf__store_rollback(e->store);
    }
    if (rc == CF_OK)
        memcpy(id_out, row.id, 37);
out:
    free(dtext);
    free(empty_text);
    json_decref(empty);
    json_decref(data);
    return rc;
}

static void info_from_row(cf_engine *e, const cf__instance_row *row, cf_instance_info *out)
{
    cf__workflow *wf = NULL;
    int terminal = 0;
    if (cf__engine_definition(e, row->def_hash, &wf) == CF_OK) {
        int s = cf__workflow_state(wf, row->state);
        terminal = s >= 0 && wf->states[s].terminal;
    }
    cf_instance_info info = {sizeof info, row->id,       row->workflow,   row->county,     row->state,
                             row->data,   row->def_hash, row->created_at, row->updated_at, row->version,
                             terminal};
    size_t n = out->size < sizeof info ? out->size : sizeof info;
    memcpy((char *)out + sizeof(size_t), (char *)&info + sizeof(size_t), n - sizeof(size_t));
}

int cf_instance_get(cf_engine *e, const char *id, cf_instance_info *out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!id || !out || out->size < sizeof(size_t))
        return cf__fail(&e->err, CF_EINVAL, "cf_instance_get: id and out (with out->size set) are required");
    cf__instance_row_clear(&e->row);
    rc = cf__store_instance_get(e->store, id, &e->row, &e->err);
    if (rc != CF_OK)
        return rc;
    info_from_row(e, &e->row, out);
    return CF_OK;
}

typedef struct list_ctx {
    cf_engine *e;
    cf_instance_fn fn;
    void *ud;
} list_ctx;

static int list_row(void *ud, const cf__instance_row *row)
{
    list_ctx *c = ud;
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    info_from_row(c->e, row, &info);
    return c->fn(c->ud, &info);
}

int cf_instance_list(cf_engine *e, const cf_instance_filter *filter, cf_instance_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_instance_list: no callback given");
    cf_instance_filter f = CF_INSTANCE_FILTER_INIT;
    if (filter && filter->size >= sizeof(size_t)) {
        size_t n = filter->size < sizeof f ? filter->size : sizeof f;
        memcpy((char *)&f + sizeof(size_t), (const char *)filter + sizeof(size_t), n - sizeof(size_t));
    }
    list_ctx c = {e, fn, ud};
    return cf__store_instance_list(e->store, f.workflow, f.state, f.county, list_row, &c, &e->err);
}

typedef struct history_ctx {
    cf_history_fn fn;
    void *ud;
} history_ctx;

static int history_row(void *ud, const cf__history_row *h)
{
    history_ctx *c = ud;
    cf_history_entry entry = {sizeof entry, h->seq,      h->number,      h->instance_id, h->at,
                              h->effective_at, h->actor, h->event,       h->data,        h->outcome,
                              h->from_state,   h->to_state, h->reasons,  h->policy_hash, h->def_hash,
                              h->idem_key,     h->hash};
    return c->fn(c->ud, &entry);
}

int cf_instance_history(cf_engine *e, const char *id, cf_history_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!id || !fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_instance_history: id and a callback are required");
    cf__instance_row row = {0};
    rc = cf__store_instance_get(e->store, id, &row, &e->err);
    cf__instance_row_clear(&row);
    if (rc != CF_OK)
        return rc;
    history_ctx c = {fn, ud};
    return cf__audit_each(e->store, id, history_row, &c, &e->err);
}

/* ---------- explaining an event without recording it ---------- */

/* Copy the caller's options (any size) over the defaults. */
static void explain_options(const cf_explain_options *opts, cf_explain_options *o)
{
    cf_explain_options d = CF_EXPLAIN_OPTIONS_INIT;
    *o = d;
    if (opts && opts->size >= sizeof(size_t)) {
        size_t n = opts->size < sizeof d ? opts->size : sizeof d;
        memcpy((char *)o + sizeof(size_t), (const char *)opts + sizeof(size_t), n - sizeof(size_t));
    }
}

static json_t *iso_time(cf_time t)
{
    char buf[32];
    return cf_time_format(t, buf, sizeof buf) == CF_OK ? json_string(buf) : json_null();
}

static int timer_to_json(void *ud, const cf__timer_row *t)
{
    json_t *obj = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)t->id, "state", t->state, "timer",
                            t->name, "event", t->event, "due", iso_time(t->due));
    return !obj || json_array_append_new(ud, obj) != 0;
}

/* Timers of `a` that `b` does not hold (same state, name, event and due time:
 * a timer cancelled and set again to the same instant does not change). */
static json_t *timers_minus(json_t *a, json_t *b)
{
    json_t *out = json_array();
    size_t i, k;
    json_t *ta, *tb;
    json_array_foreach(a, i, ta)
    {
        bool found = false;
        json_array_foreach(b, k, tb)
        {
            found |= json_equal(json_object_get(ta, "state"), json_object_get(tb, "state")) &&
                     json_equal(json_object_get(ta, "timer"), json_object_get(tb, "timer")) &&
                     json_equal(json_object_get(ta, "event"), json_object_get(tb, "event")) &&
                     json_equal(json_object_get(ta, "due"), json_object_get(tb, "due"));
        }
        if (found)
            continue;
        json_t *copy = json_copy(ta);
        if (copy)
            json_object_del(copy, "id");
        if (!copy || json_array_append_new(out, copy) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* {field: {from, to}} for each top-level field that differs between the texts. */
static json_t *data_changes(const char *before, const char *after)
{
    json_t *a = json_loads(before ? before : "{}", 0, NULL), *b = json_loads(after ? after : "{}", 0, NULL);
    json_t *out = json_object();
    if (!json_is_object(a) || !json_is_object(b) || !out) {
        json_decref(a);
        json_decref(b);
        json_decref(out);
        return NULL;
    }
    const char *key;
    json_t *v;
    int bad = 0;
    json_object_foreach(b, key, v)
    {
        json_t *old = json_object_get(a, key);
        if (!old || !json_equal(old, v))
            bad |= json_object_set_new(out, key, json_pack("{s:O, s:O}", "from", old ? old : json_null(), "to", v));
    }
    json_object_foreach(a, key, v)
    {
        if (!json_object_get(b, key))
            bad |= json_object_set_new(out, key, json_pack("{s:O, s:n}", "from", v, "to"));
    }
    json_decref(a);
    json_decref(b);
    if (bad) {
        json_decref(out);
        return NULL;
    }
    return out;
}

typedef struct watch_ctx {
    json_t *sends, *records;
    bool oom;
} watch_ctx;

/* Sort what the preview wrote: linked events queued, and the plugins' rows. The
 * engine's own rows (instance, history, timer) are shown in other forms. */
static int watched(void *ud, const char *table, const char *op, json_t *row)
{
    watch_ctx *w = ud;
    int bad = 0;
    if (strcmp(table, "outbox") == 0) {
        if (strcmp(op, "insert") == 0 && row)
            bad = json_array_append_new(w->sends,
                                        json_pack("{s:O, s:O}", "instance", json_object_get(row, "target_id") ? json_object_get(row, "target_id") : json_null(),
                                                  "event", json_object_get(row, "event") ? json_object_get(row, "event") : json_null()));
    } else if (strcmp(table, "instance") != 0 && strcmp(table, "history") != 0 && strcmp(table, "timer") != 0) {
        bad = json_array_append_new(w->records, json_pack("{s:s, s:s, s:O}", "table", table, "op", op, "row",
                                                          row ? row : json_null()));
    }
    if (bad)
        w->oom = true;
    return bad;
}

/* The outcome of a preview whose transition failed: only failures of the
 * transition itself (a guard or action's policy or plugin, a limit) are one. */
static bool explainable_failure(int rc)
{
    return rc == CF_EPOLICY || rc == CF_ELIMIT || rc == CF_EPLUGIN || rc == CF_EACTION;
}

int cf_instance_explain(cf_engine *e, const char *id, const char *event, const cf_explain_options *opts,
                        char **json_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (json_out)
        *json_out = NULL;
    if (!id || !event || !*event || !json_out)
        return cf__fail(&e->err, CF_EINVAL,
                        "cf_instance_explain: an instance id, an event name and json_out are required");
    cf_explain_options o;
    explain_options(opts, &o);
    rc = cf__check_fire_text(e, id, event, o.actor, NULL);
    if (rc != CF_OK)
        return rc;
    if (cf__store_read_only(e->store))
        return cf__fail(&e->err, CF_EREADONLY,
                        "explaining an event runs its transition and rolls it back, which needs the write lock: "
                        "open the database for writing (nothing is written), or list the events and their "
                        "guards with cf_instance_events, which only reads");
    json_t *data = NULL;
    rc = cf__parse_object(&e->err, o.data_json, "event data", &data);
    if (rc != CF_OK)
        return rc;
    char *text = cf__json_canonical(data);
    cf_time now = o.now ? o.now : cf_engine_now(e);
    cf__explain x = {json_array(), false};
    json_t *before = json_array(), *after = json_array(), *doc = NULL;
    watch_ctx w = {json_array(), json_array(), false};
    cf__instance_row row = {0}, post = {0};
    if (!text || !x.transitions || !before || !after || !w.sends || !w.records) {
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
        goto out;
    }
    cf__fire_in in = {id, event, data, text, o.actor && *o.actor ? o.actor : "api", NULL, now, now, NULL, 0, NULL,
                      true, false, &x, NULL};
    rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        goto out;
    rc = cf__store_instance_get(e->store, id, &row, &e->err);
    if (rc == CF_OK)
        rc = cf__store_timer_each(e->store, id, timer_to_json, before, &e->err);
    if (rc != CF_OK) {
        cf__store_rollback(e->store);
        goto out;
    }
    cf__store_watch_begin(e->store);
    e->previewing = true;
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    int frc = cf__fire_locked(e, &in, &res);
    e->previewing = false;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "instance", row.id, "workflow", row.workflow, "county",
                    row.county, "state", row.state, "event", event, "at", iso_time(now));
    if (!doc) {
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    } else if (frc == CF_OK || frc == CF_REJECTED) {
        json_t *reasons = json_loads(res.reasons ? res.reasons : "[]", 0, NULL);
        int bad = json_object_set_new(doc, "outcome", json_string(frc == CF_OK ? "applied" : "rejected"));
        bad |= json_object_set_new(doc, "to_state", json_string(res.to_state ? res.to_state : row.state));
        bad |= json_object_set_new(doc, "reasons", reasons ? reasons : json_array());
        rc = bad ? cf__fail(&e->err, CF_ENOMEM, "out of memory") : CF_OK;
    } else if (x.started && explainable_failure(frc)) {
        int bad = json_object_set_new(doc, "outcome", json_string("error"));
        bad |= json_object_set_new(doc, "to_state", json_string(row.state));
        bad |= json_object_set_new(doc, "reasons", json_array());
        bad |= json_object_set_new(doc, "error", json_string(e->err.msg));
        bad |= json_object_set_new(doc, "code", json_string(cf_result_name(frc)));
        rc = bad ? cf__fail(&e->err, CF_ENOMEM, "out of memory") : CF_OK;
    } else {
        rc = frc;
    }
    if (rc == CF_OK)
        rc = cf__store_watch_each(e->store, watched, &w, &e->err);
    if (rc == CF_OK && w.oom)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    if (rc == CF_OK && frc == CF_OK) {
        rc = cf__store_timer_each(e->store, id, timer_to_json, after, &e->err);
        if (rc == CF_OK)
            rc = cf__store_instance_get(e->store, id, &post, &e->err);
    } else if (rc == CF_OK) {
        /* Rejected or failed: the timers stay as they are. */
        json_decref(after);
        after = json_deep_copy(before);
    }
    cf__store_rollback(e->store);
    cf__store_watch_end(e->store);
    if (rc != CF_OK)
        goto out;
    json_t *set = timers_minus(after, before), *gone = timers_minus(before, after);
    json_t *changes = data_changes(row.data, post.data ? post.data : row.data);
    int bad = !set || !gone || !changes;
    bad |= json_object_set_new(doc, "transitions", x.transitions);
    x.transitions = NULL;
    bad |= json_object_set_new(doc, "data_changes", changes ? changes : json_object());
    bad |= json_object_set_new(doc, "deadlines", set ? set : json_array());
    bad |= json_object_set_new(doc, "cancelled", gone ? gone : json_array());
    bad |= json_object_set(doc, "sends", w.sends);
    bad |= json_object_set(doc, "records", w.records);
    *json_out = bad ? NULL : json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!*json_out)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
out:
    cf__instance_row_clear(&row);
    cf__instance_row_clear(&post);
    json_decref(doc);
    json_decref(x.transitions);
    json_decref(before);
    json_decref(after);
    json_decref(w.sends);
    json_decref(w.records);
    json_decref(data);
    free(text);
    return rc;
}

int cf_instance_events(cf_engine *e, const char *id, const cf_explain_options *opts, cf_event_choice_fn fn,
                       void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!id || !fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_instance_events: an instance id and a callback are required");
    cf_explain_options o;
    explain_options(opts, &o);
    rc = cf__check_text(&e->err, "the instance id", id, true);
    if (rc == CF_OK)
        rc = cf__check_text(&e->err, "the actor", o.actor, true);
    if (rc != CF_OK)
        return rc;
    json_t *event_data = NULL;
    rc = cf__parse_object(&e->err, o.data_json, "event data", &event_data);
    if (rc != CF_OK)
        return rc;
    char *event_text = cf__json_canonical(event_data);
    if (!event_text) {
        json_decref(event_data);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    cf_time now = o.now ? o.now : cf_engine_now(e);
    cf__instance_row row = {0};
    json_t *data = NULL;
    rc = cf__store_begin_read(e->store, &e->err);
    if (rc != CF_OK)
        goto out;
    rc = cf__store_instance_get(e->store, id, &row, &e->err);
    cf__workflow *wf = NULL;
    if (rc == CF_OK)
        rc = cf__engine_definition(e, row.def_hash, &wf);
    int s = rc == CF_OK ? cf__workflow_state(wf, row.state) : -1;
    if (rc == CF_OK && s < 0)
        rc = cf__fail(&e->err, CF_EWORKFLOW, "instance %s is in state '%s', which workflow '%s' does not define",
                      row.id, row.state, wf->name);
    if (rc == CF_OK)
        rc = cf__parse_object(&e->err, row.data, "stored instance data", &data);
    for (int k = 0; rc == CF_OK && k < wf->nevents; k++) {
        if (wf->first[s * wf->nevents + k] < 0)
            continue;
        cf__fire_in in = {row.id, wf->events[k], event_data, event_text, o.actor && *o.actor ? o.actor : "api",
                          NULL, now, now, NULL, 0, NULL, true, false, NULL, NULL};
        transit t = {e, wf, &row, data, &in, row.state, false, NULL, 0, 0};
        const cf__transition *chosen = NULL;
        json_t *reasons = json_array();
        char *rtext = NULL;
        rc = reasons ? evaluate_guards(&t, s, k, NULL, &chosen, reasons) : CF_ENOMEM;
        if (rc == CF_OK && !(rtext = cf__json_canonical(reasons)))
            rc = CF_ENOMEM;
        if (rc == CF_ENOMEM)
            cf__fail(&e->err, CF_ENOMEM, "out of memory");
        int by_timer = 0;
        for (int a = 0; a < wf->states[s].nchain; a++) /* the state's timers and its parents' */
            for (int i = 0; i < wf->states[wf->states[s].chain[a]].ntimers; i++)
                by_timer |= wf->states[wf->states[s].chain[a]].timers[i].event == k;
        const char *error = NULL;
        if (explainable_failure(rc)) {
            error = e->err.msg;
            chosen = NULL;
            rc = CF_OK;
        }
        if (rc == CF_OK) {
            cf_event_choice c = {sizeof c, wf->events[k], chosen != NULL,
                                 chosen ? wf->states[chosen->to].name : NULL, error ? "[]" : rtext, by_timer, error};
            if (fn(ud, &c) != 0)
                k = wf->nevents;
        } else {
            cf__err_prefix(&e->err, "event '%s' of instance %s", wf->events[k], row.id);
        }
        free(rtext);
        json_decref(reasons);
    }
    cf__store_rollback(e->store);
    if (rc == CF_OK)
        e->err.msg[0] = '\0'; /* a guard's failure was reported through its event */
out:
    json_decref(data);
    json_decref(event_data);
    free(event_text);
    cf__instance_row_clear(&row);
    return rc;
}
