/*
 * migrate.c — moving live instances to another version of their workflow:
 * cf_migrate_plan (the dry run: where each instance lands, its timers, and what
 * keeps an instance from moving) and cf_migrate_apply (the same, one
 * transaction and one history row per instance). docs/workflows.md, "Changing a
 * shipped workflow safely", is the user's side of this file.
 */
#include "core/versions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_EVENT "(migrate)" /* the history row's event: no workflow can declare it */

typedef struct state_pair {
    char *from, *to;
} state_pair;

typedef struct mig {
    cf_engine *e;
    const char *workflow;
    const char *county, *state;
    const char *actor;
    char to_hash[CF__HASH_HEX];
    char from_hash[CF__HASH_HEX]; /* "" = every version but the target */
    cf__workflow *to;             /* the target, compiled against the policy (the engine's cache) */
    state_pair *map;
    size_t nmap;
    cf_time now;
    /* counts */
    int64_t candidates, movable, blocked, ended, already;
} mig;

static void mig_free(mig *m)
{
    for (size_t i = 0; i < m->nmap; i++) {
        free(m->map[i].from);
        free(m->map[i].to);
    }
    free(m->map);
    m->map = NULL;
    m->nmap = 0;
}

/* ---- the options, checked before anything is read ---- */

static const char *state_list(const cf__workflow *wf, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < wf->nstates && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", wf->states[i].name);
    return buf;
}

/* A state of wf by full path or key; a path that names no state is tried by its
 * last key (a state that moved in or out of a parent keeps its key). -1: none. */
static int resolve_state(const cf__workflow *wf, const char *name)
{
    int s = cf__workflow_state(wf, name);
    const char *dot = s < 0 && name ? strrchr(name, '.') : NULL;
    return dot ? cf__workflow_state(wf, dot + 1) : s;
}

/* Does state a lie in state b (b itself or one of its ancestors)? */
static bool inside(const cf__workflow *wf, int a, int b)
{
    if (a < 0 || b < 0)
        return false;
    const cf__state *st = &wf->states[a];
    return wf->states[b].depth <= st->depth && st->chain[wf->states[b].depth] == b;
}

typedef struct source_scan {
    mig *m;
    char (*hashes)[CF__HASH_HEX];
    size_t n, cap;
    bool oom;
} source_scan;

static int source_row(void *ud, const char *hash, const char *name, cf_time first_seen)
{
    (void)name;
    (void)first_seen;
    source_scan *s = ud;
    if (strcmp(hash, s->m->to_hash) == 0 || (s->m->from_hash[0] && strcmp(hash, s->m->from_hash) != 0))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char(*p)[CF__HASH_HEX] = realloc(s->hashes, cap * sizeof *p);
        if (!p) {
            s->oom = true;
            return 1;
        }
        s->hashes = p;
        s->cap = cap;
    }
    snprintf(s->hashes[s->n++], CF__HASH_HEX, "%s", hash);
    return 0;
}

/* Every --map OLD=NEW: NEW a state of the target, OLD a state of some source version. */
static int check_map(mig *m, const cf_migrate_options *o)
{
    cf_engine *e = m->e;
    if (o->nmap && !o->map)
        return cf__fail(&e->err, CF_EINVAL, "cf_migrate_options.nmap is %zu but map is NULL", o->nmap);
    m->map = o->nmap ? calloc(o->nmap, sizeof *m->map) : NULL;
    if (o->nmap && !m->map)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->nmap; i++) {
        const char *p = o->map[i];
        int rc = cf__check_text(&e->err, "map", p, true);
        if (rc != CF_OK)
            return rc;
        const char *eq = p ? strchr(p, '=') : NULL;
        if (!eq || eq == p || !eq[1])
            return cf__fail(&e->err, CF_EINVAL, "map '%.80s' is not OLD_STATE=NEW_STATE (e.g. --map renewal_due=renewal_pending)",
                            p ? p : "(null)");
        m->map[i].from = strndup(p, (size_t)(eq - p));
        m->map[i].to = strdup(eq + 1);
        m->nmap = i + 1;
        if (!m->map[i].from || !m->map[i].to)
            return cf__fail(&e->err, CF_ENOMEM, "out of memory");
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->map[j].from, m->map[i].from) == 0)
                return cf__fail(&e->err, CF_EINVAL, "state '%s' is mapped twice (%s and %s): give one --map for it",
                                m->map[i].from, m->map[j].to, m->map[i].to);
        if (resolve_state(m->to, m->map[i].to) < 0) {
            char states[1024];
            return cf__fail(&e->err, CF_EINVAL,
                            "map %s=%s: the target version %.12s of '%s' has no state '%s' (its states: %s); "
                            "nothing was changed",
                            m->map[i].from, m->map[i].to, m->to_hash, m->workflow, m->map[i].to,
                            state_list(m->to, states, sizeof states));
        }
    }
    if (m->nmap == 0)
        return CF_OK;
    source_scan s = {m, NULL, 0, 0, false};
    int rc = cf__store_def_each(e->store, m->workflow, source_row, &s, &e->err);
    if (rc == CF_OK && s.oom)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    bool *found = rc == CF_OK ? calloc(m->nmap, sizeof *found) : NULL;
    if (rc == CF_OK && !found)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    for (size_t h = 0; rc == CF_OK && h < s.n; h++) {
        cf__workflow *wf = NULL;
        rc = cf__version_structure(e, s.hashes[h], &wf);
        for (size_t i = 0; rc == CF_OK && i < m->nmap; i++)
            found[i] = found[i] || resolve_state(wf, m->map[i].from) >= 0;
        cf__workflow_free(wf);
    }
    for (size_t i = 0; rc == CF_OK && i < m->nmap; i++)
        if (!found[i])
            rc = cf__fail(&e->err, CF_EINVAL,
                          "map %s=%s: no version of '%s' that would be migrated%s%.12s has a state '%s' (see `certflow "
                          "workflow diff %s OLD current`); nothing was changed",
                          m->map[i].from, m->map[i].to, m->workflow, m->from_hash[0] ? " (" : "", m->from_hash,
                          m->map[i].from, m->workflow);
    free(found);
    free(s.hashes);
    return rc;
}

static int mig_open(cf_engine *e, const cf_migrate_options *o, mig *m)
{
    memset(m, 0, sizeof *m);
    m->e = e;
    if (!o || o->size < sizeof(size_t))
        return cf__fail(&e->err, CF_EINVAL, "migrate options are required (start from CF_MIGRATE_OPTIONS_INIT)");
    cf_migrate_options opts = CF_MIGRATE_OPTIONS_INIT;
    size_t n = o->size < sizeof opts ? o->size : sizeof opts;
    memcpy((char *)&opts + sizeof(size_t), (const char *)o + sizeof(size_t), n - sizeof(size_t));
    if (!opts.workflow)
        return cf__fail(&e->err, CF_EINVAL, "cf_migrate_options.workflow is required");
    int rc;
    if ((rc = cf__check_text(&e->err, "workflow", opts.workflow, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "to", opts.to, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "from", opts.from, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "county", opts.county, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "state", opts.state, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "actor", opts.actor, true)) != CF_OK)
        return rc;
    m->workflow = opts.workflow;
    m->county = opts.county;
    m->state = opts.state;
    m->actor = opts.actor ? opts.actor : "api";
    m->now = cf_engine_now(e);
    if (!cf__engine_workflow(e, m->workflow))
        return cf__engine_unknown_workflow(e, m->workflow);
    rc = cf__version_resolve(e, m->workflow, opts.to, m->to_hash);
    if (rc == CF_OK && opts.from)
        rc = cf__version_resolve(e, m->workflow, opts.from, m->from_hash);
    if (rc == CF_OK && m->from_hash[0] && strcmp(m->from_hash, m->to_hash) == 0)
        rc = cf__fail(&e->err, CF_EINVAL, "--from and --to name the same version %.12s: nothing would move",
                      m->to_hash);
    if (rc == CF_OK)
        rc = cf__engine_definition(e, m->to_hash, &m->to);
    if (rc == CF_OK)
        rc = check_map(m, &opts);
    return rc;
}

/* ---- one instance ---- */

/* Where state `from` of version old lands in the target: a leaf index, or -1.
 * A --map whose OLD is the state or one of its parents (the innermost wins),
 * else the state of the same full path, else the one of the same key; a parent
 * as the landing state means its initial child, down to a leaf. */
static int map_index(const mig *m, const cf__workflow *old, const char *from)
{
    int os = cf__workflow_state(old, from), best = -1, depth = -1;
    for (size_t i = 0; i < m->nmap; i++) {
        int f = resolve_state(old, m->map[i].from);
        bool hit = os >= 0 ? inside(old, os, f) : strcmp(m->map[i].from, from) == 0;
        int d = f >= 0 ? old->states[f].depth : 0;
        if (hit && d > depth) {
            best = (int)i;
            depth = d;
        }
    }
    int ts = best >= 0 ? resolve_state(m->to, m->map[best].to) : resolve_state(m->to, from);
    return ts >= 0 ? m->to->states[ts].leaf : -1;
}

/* When the instance entered state n of the target (its landing leaf or one of
 * the leaf's parents), reading its history through the migration's state map:
 * its creation, or the newest applied row that came into n from outside it; for
 * the leaf also a row that moved between old states that both land in it, or
 * re-entered its state (a transition with reenter in the instance's own version).
 * A migration row is no entry: the instance stays where it was, under another
 * definition. */
typedef struct entry_scan {
    const mig *m;
    const cf__workflow *wf; /* the instance's definition, to recognise re-entering transitions */
    int n, leaf;            /* in the target */
    cf_time entered;
} entry_scan;

static int entry_row(void *ud, const cf__history_row *h)
{
    entry_scan *es = ud;
    if (strcmp(h->outcome, "created") == 0) {
        es->entered = h->effective_at;
        return 0;
    }
    if (strcmp(h->outcome, "applied") != 0 || strcmp(h->event, MIGRATE_EVENT) == 0)
        return 0;
    const cf__workflow *to = es->m->to;
    int fi = map_index(es->m, es->wf, h->from_state), ti = map_index(es->m, es->wf, h->to_state);
    if (!inside(to, ti, es->n))
        return 0;
    if (!inside(to, fi, es->n) || (es->n == es->leaf && strcmp(h->from_state, h->to_state) != 0)) {
        es->entered = h->effective_at;
        return 0;
    }
    if (es->n != es->leaf)
        return 0;
    int s = cf__workflow_state(es->wf, h->to_state), ev = cf__workflow_event(es->wf, h->event);
    for (int i = s >= 0 && ev >= 0 ? es->wf->first[s * es->wf->nevents + ev] : -1; i >= 0; i = es->wf->trans[i].next)
        if (es->wf->trans[i].reenter)
            es->entered = h->effective_at;
    return 0;
}

static bool same_guards(const cf__transition *a, const cf__transition *b)
{
    if (a->nguards != b->nguards)
        return false;
    for (int i = 0; i < a->nguards; i++)
        if (strcmp(a->guards[i].name, b->guards[i].name) != 0)
            return false;
    return true;
}

static void fill_call(const mig *m, const cf__instance_row *row, json_t *data, const char *state, const char *event,
                      json_t *evdata, cf_time now, cf__decision_call *call)
{
    call->county = row->county;
    call->instance_id = row->id;
    call->workflow = m->to->name;
    call->state = state;
    call->data = data;
    call->event = event;
    call->event_data = evdata;
    call->actor = m->actor;
    call->now = now;
    call->serial = row->serial;
}

/* Would the target's guards refuse the instance on entry into state ts?
 * docs/workflows.md ("Changing a shipped workflow safely") states the rule:
 * only when ts is not the initial state, no transition into ts is unguarded, none carries the same event and
 * guards as a transition into the instance's state in its own version (then it
 * entered that way), and every transition into ts has a guard that says no for
 * its data (empty event data, now). *why (malloc'd) says why; NULL when not refused. */
static int entry_refused(mig *m, const cf__instance_row *row, const cf__workflow *old, json_t *data, int ts,
                         char **why)
{
    *why = NULL;
    const cf__workflow *to = m->to;
    if (ts == to->initial) /* entered by creation, which no guard holds */
        return CF_OK;
    int os = cf__workflow_state(old, row->state);
    int incoming = 0;
    for (int i = 0; i < to->ntrans; i++) {
        const cf__transition *t = &to->trans[i];
        if (t->to != ts || (t->from == ts && t->to == ts))
            continue;
        incoming++;
        if (t->nguards == 0)
            return CF_OK;
        for (int j = 0; os >= 0 && j < old->ntrans; j++) {
            const cf__transition *u = &old->trans[j];
            if (u->to == os && !(u->from == os) && strcmp(old->events[u->event], to->events[t->event]) == 0 &&
                same_guards(t, u))
                return CF_OK;
        }
    }
    if (incoming == 0)
        return CF_OK;
    cf__buf b = {0};
    json_t *evdata = json_object();
    int rc = evdata ? CF_OK : cf__fail(&m->e->err, CF_ENOMEM, "out of memory");
    for (int i = 0; rc == CF_OK && i < to->ntrans; i++) {
        const cf__transition *t = &to->trans[i];
        if (t->to != ts || t->from == ts)
            continue;
        bool all = true;
        for (int g = 0; rc == CF_OK && all && g < t->nguards; g++) {
            cf__decision_call call;
            fill_call(m, row, data, to->states[t->from].name, to->events[t->event], evdata, m->now, &call);
            bool ok = false;
            char *reason = NULL;
            const cf__fnref *fn = &t->guards[g];
            int grc = fn->kind == CF__FN_POLICY ? cf__policy_guard(m->e->policy, fn->index, &call, &ok, &reason, &m->e->err)
                      : fn->kind == CF__FN_PLUGIN ? cf__plugin_guard(m->e, fn->index, &call, &ok, &reason)
                                                  : cf__fail(&m->e->err, CF_EPLUGIN, "guard '%s' is defined nowhere", fn->name);
            if (grc != CF_OK) {
                if (grc == CF_ENOMEM)
                    rc = grc;
                cf__buf_printf(&b, "%s%s --%s--> %s: guard %s failed: %s", b.len ? "; " : "",
                               to->states[t->from].name, to->events[t->event], to->states[ts].name, fn->name,
                               m->e->err.msg);
                m->e->err.msg[0] = '\0';
                all = false;
            } else if (!ok) {
                cf__buf_printf(&b, "%s%s --%s--> %s: %s", b.len ? "; " : "", to->states[t->from].name,
                               to->events[t->event], to->states[ts].name, reason ? reason : fn->name);
                all = false;
            }
            free(reason);
        }
        if (rc == CF_OK && all) {
            cf__buf_free(&b);
            json_decref(evdata);
            return CF_OK;
        }
    }
    json_decref(evdata);
    if (rc != CF_OK || b.oom) {
        cf__buf_free(&b);
        return rc != CF_OK ? rc : cf__fail(&m->e->err, CF_ENOMEM, "out of memory");
    }
    cf__buf c = {0};
    cf__buf_printf(&c, "the target's guards refuse its data on entry into '%s' (%s)", to->states[ts].name,
                   b.data ? b.data : "");
    cf__buf_free(&b);
    if (c.oom) {
        cf__buf_free(&c);
        return cf__fail(&m->e->err, CF_ENOMEM, "out of memory");
    }
    *why = c.data;
    return CF_OK;
}

/* A timer move: what happens to one timer of the instance. */
typedef struct move {
    const char *action; /* "cancel", "keep", "schedule" */
    int64_t id;         /* the pending timer (cancel, keep) */
    const char *state, *name, *event; /* as it will be (keep, schedule) or was (cancel) */
    const char *was;                  /* keep: the state it is stored under now */
    bool has_due;
    cf_time due;
} move;

/* The whole plan of one instance. */
typedef struct one {
    bool movable;
    char *why;
    int ts;          /* target state index, or -1 */
    move *moves;
    size_t nmoves;
    cf__pending_list pend;
    json_t *item;    /* the plan row */
} one;

static void one_free(one *x)
{
    free(x->why);
    free(x->moves);
    cf__pending_free(&x->pend);
    json_decref(x->item);
    memset(x, 0, sizeof *x);
}

static const char *who(json_t *data)
{
    const char *s = json_string_value(json_object_get(data, "name"));
    if (!s)
        s = json_string_value(json_object_get(data, "certification_number"));
    return s ? s : "";
}

static json_t *moves_json(const one *x)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < x->nmoves; i++) {
        const move *mv = &x->moves[i];
        char due[32] = "";
        if (mv->has_due)
            cf_time_format(mv->due, due, sizeof due);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "state", mv->state, "timer", mv->name, "event", mv->event,
                              "action", mv->action, "due", mv->has_due ? due : NULL);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Plan instance row (on version old): fills x. Errors only for failures. */
static int plan_one(mig *m, const cf__instance_row *row, const cf__workflow *old, one *x)
{
    cf_engine *e = m->e;
    memset(x, 0, sizeof *x);
    x->ts = -1;
    json_t *data = NULL;
    int rc = cf__parse_object(&e->err, row->data, "instance data", &data);
    if (rc != CF_OK)
        return rc;
    x->ts = map_index(m, old, row->state);
    if (x->ts < 0) {
        cf__buf b = {0};
        cf__buf_printf(&b, "state '%s' has no mapping: the target version has no state of that name or key (add --map %s=STATE)",
                       row->state, row->state);
        if (b.oom)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
        x->why = b.data;
    } else {
        rc = entry_refused(m, row, old, data, x->ts, &x->why);
    }
    if (rc == CF_OK && !x->why) /* a blocked instance keeps its timers */
        rc = cf__pending_load(e->store, row->id, &x->pend, &e->err);
    /* The timers that run in a state: its own and its parents' (nst, ost: the leaves). */
    const cf__state *nst = x->ts >= 0 && !x->why ? &m->to->states[x->ts] : NULL;
    int os = cf__workflow_state(old, row->state);
    const cf__state *ost = os >= 0 ? &old->states[os] : NULL;
    size_t ntd = 0; /* the target's timers that run in the landing leaf */
    for (int c = 0; nst && c < nst->nchain; c++)
        ntd += (size_t)m->to->states[nst->chain[c]].ntimers;
    x->moves = calloc(x->pend.n + ntd + 1, sizeof *x->moves);
    if (rc == CF_OK && !x->moves)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    /* kept[] follows the timers of the landing leaf's chain, outermost state first */
    bool *kept = calloc(ntd + 1, sizeof *kept);
    if (rc == CF_OK && !kept)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    /* what becomes of each pending timer: kept when the target declares the same
     * timer (name, event, deadline) on the landing leaf or a parent of it */
    for (size_t i = 0; rc == CF_OK && i < x->pend.n; i++) {
        const cf__pending *p = &x->pend.items[i];
        const char *old_after = NULL;
        int decl = cf__workflow_state(old, p->state);
        for (int c = 0; ost && decl >= 0 && c < ost->nchain; c++) {
            const cf__state *a = &old->states[ost->chain[c]];
            for (int k = 0; ost->chain[c] == decl && k < a->ntimers; k++)
                if (strcmp(a->timers[k].name, p->name) == 0 && strcmp(old->events[a->timers[k].event], p->event) == 0)
                    old_after = a->timers[k].after.name;
        }
        int keep = -1, owner = -1;
        for (int c = 0, at = 0; nst && c < nst->nchain; c++) {
            const cf__state *a = &m->to->states[nst->chain[c]];
            for (int k = 0; k < a->ntimers; k++, at++) {
                const cf__timer_def *td = &a->timers[k];
                if (!kept[at] && strcmp(td->name, p->name) == 0 && strcmp(m->to->events[td->event], p->event) == 0 &&
                    old_after && strcmp(old_after, td->after.name) == 0) {
                    keep = at;
                    owner = nst->chain[c];
                }
            }
        }
        move *mv = &x->moves[x->nmoves++];
        mv->id = p->id;
        mv->name = p->name;
        mv->event = p->event;
        mv->has_due = true;
        mv->due = p->due;
        if (keep >= 0) {
            kept[keep] = true;
            mv->action = "keep";
            mv->state = m->to->states[owner].name;
            mv->was = p->state;
        } else {
            mv->action = "cancel";
            mv->state = p->state;
        }
    }
    /* the target's other timers of the landing leaf and its parents, due as their
     * deadlines say for the instant the instance entered the state declaring them */
    for (int c = 0, at = 0; rc == CF_OK && nst && c < nst->nchain; c++) {
        int n = nst->chain[c];
        const cf__state *a = &m->to->states[n];
        entry_scan es = {m, old, n, x->ts, row->created_at};
        bool scanned = false;
        for (int k = 0; rc == CF_OK && k < a->ntimers; k++, at++) {
            if (kept[at])
                continue;
            const cf__timer_def *td = &a->timers[k];
            /* The instance's own state or a parent of it declared this very timer: none is
             * pending because it fired already, or its deadline said none. It is not armed again. */
            bool same = false;
            for (int oc = 0; ost && oc < ost->nchain; oc++) {
                const cf__state *o = &old->states[ost->chain[oc]];
                for (int j = 0; j < o->ntimers; j++)
                    same = same || (strcmp(o->timers[j].name, td->name) == 0 &&
                                    strcmp(old->events[o->timers[j].event], m->to->events[td->event]) == 0 &&
                                    strcmp(o->timers[j].after.name, td->after.name) == 0);
            }
            if (same)
                continue;
            if (!scanned) {
                rc = cf__audit_each(e->store, row->id, entry_row, &es, &e->err);
                scanned = true;
                if (rc != CF_OK)
                    break;
            }
            move *mv = &x->moves[x->nmoves++];
            mv->action = "schedule";
            mv->state = a->name;
            mv->name = td->name;
            mv->event = m->to->events[td->event];
            cf__decision_call call;
            fill_call(m, row, data, nst->name, NULL, NULL, es.entered, &call);
            if (td->after.kind != CF__FN_POLICY)
                rc = cf__fail(&e->err, CF_EPOLICY, "deadline '%s' is not a policy function", td->after.name);
            else
                rc = cf__policy_deadline(e->policy, td->after.index, &call, &mv->has_due, &mv->due, &e->err);
            if (rc != CF_OK)
                cf__err_prefix(&e->err, "instance %s, timer %s.%s", row->id, a->name, td->name);
        }
    }
    free(kept);
    x->movable = rc == CF_OK && !x->why;
    if (rc == CF_OK) {
        json_t *timers = moves_json(x);
        x->item = timers ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:b, s:s?, s:o}", "id", row->id, "county",
                                     row->county, "who", who(data), "from_definition", row->def_hash, "from_state",
                                     row->state, "to_state", x->ts >= 0 && x->movable ? m->to->states[x->ts].name : NULL,
                                     "movable", x->movable, "why", x->why, "timers", timers)
                         : NULL;
        if (!x->item)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    json_decref(data);
    return rc;
}

/* ---- the candidates ---- */

typedef struct cand {
    char id[37];
} cand;

typedef struct cand_scan {
    mig *m;
    cand *items;
    size_t n, cap;
    bool oom;
    int rc;
} cand_scan;

/* Is the instance one the migration concerns? *ended: it is, but has ended. */
static int concerns(mig *m, const cf__instance_row *row, bool *yes, bool *ended, bool *already)
{
    *yes = *ended = *already = false;
    if (strcmp(row->workflow, m->workflow) != 0 || (m->county && strcmp(row->county, m->county) != 0) ||
        !cf__state_in(row->state, m->state))
        return CF_OK;
    if (strcmp(row->def_hash, m->to_hash) == 0) {
        *already = !m->from_hash[0];
        return CF_OK;
    }
    if (m->from_hash[0] && strcmp(row->def_hash, m->from_hash) != 0)
        return CF_OK;
    cf__workflow *old = NULL;
    int rc = cf__engine_definition(m->e, row->def_hash, &old);
    if (rc != CF_OK)
        return rc;
    int s = cf__workflow_state(old, row->state);
    if (s >= 0 && old->states[s].terminal)
        *ended = true;
    else
        *yes = true;
    return CF_OK;
}

static int cand_row(void *ud, const cf__instance_row *row)
{
    cand_scan *c = ud;
    bool yes, ended, already;
    c->rc = concerns(c->m, row, &yes, &ended, &already);
    if (c->rc != CF_OK)
        return 1;
    c->m->ended += ended;
    c->m->already += already;
    if (!yes)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        cand *p = realloc(c->items, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return 1;
        }
        c->items = p;
        c->cap = cap;
    }
    memcpy(c->items[c->n++].id, row->id, 37);
    return 0;
}

/* The ids of the instances to migrate, in creation order (inside the caller's read). */
static int candidates(mig *m, cand_scan *c)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    int rc = cf__store_instance_list(m->e->store, m->workflow, m->state, m->county, cand_row, c, &m->e->err);
    if (rc == CF_OK)
        rc = c->rc;
    if (rc == CF_OK && c->oom)
        rc = cf__fail(&m->e->err, CF_ENOMEM, "out of memory listing the instances to migrate");
    m->candidates = (int64_t)c->n;
    return rc;
}

static json_t *doc_new(const mig *m)
{
    char at[32];
    cf_time_format(m->now, at, sizeof at);
    json_t *map = json_object();
    for (size_t i = 0; map && i < m->nmap; i++)
        if (json_object_set_new(map, m->map[i].from, json_string(m->map[i].to)) != 0) {
            json_decref(map);
            map = NULL;
        }
    return map ? json_pack("{s:s, s:s, s:s, s:o, s:[]}", "workflow", m->workflow, "to", m->to_hash, "at", at, "map",
                           map, "instances")
               : NULL;
}

static int doc_finish(mig *m, json_t *doc, char **json_out)
{
    if (json_object_set_new(doc, "candidates", json_integer(m->candidates)) != 0 ||
        json_object_set_new(doc, "movable", json_integer(m->movable)) != 0 ||
        json_object_set_new(doc, "blocked", json_integer(m->blocked)) != 0 ||
        json_object_set_new(doc, "ended", json_integer(m->ended)) != 0 ||
        json_object_set_new(doc, "already", json_integer(m->already)) != 0 ||
        !(*json_out = json_dumps(doc, JSON_COMPACT)))
        return cf__fail(&m->e->err, CF_ENOMEM, "out of memory");
    return CF_OK;
}

/* Read instance id and plan it (inside the caller's transaction). *skip: it no
 * longer concerns the migration (moved or changed since it was listed). */
static int read_and_plan(mig *m, const char *id, cf__instance_row *row, one *x, bool *skip)
{
    *skip = false;
    int rc = cf__store_instance_get(m->e->store, id, row, &m->e->err);
    bool yes = false, ended = false, already = false;
    if (rc == CF_OK)
        rc = concerns(m, row, &yes, &ended, &already);
    if (rc != CF_OK || !yes) {
        *skip = rc == CF_OK;
        return rc;
    }
    cf__workflow *old = NULL;
    rc = cf__engine_definition(m->e, row->def_hash, &old);
    if (rc == CF_OK)
        rc = plan_one(m, row, old, x);
    return rc;
}

int cf_migrate_plan(cf_engine *e, const cf_migrate_options *opts, char **json_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!json_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_migrate_plan: json_out is required");
    *json_out = NULL;
    mig m;
    rc = cf__store_begin_read(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    rc = mig_open(e, opts, &m);
    cand_scan c = {0};
    if (rc == CF_OK)
        rc = candidates(&m, &c);
    json_t *doc = rc == CF_OK ? doc_new(&m) : NULL;
    if (rc == CF_OK && !doc)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    for (size_t i = 0; rc == CF_OK && i < c.n; i++) {
        cf__instance_row row = {0};
        one x;
        memset(&x, 0, sizeof x);
        bool skip = false;
        rc = read_and_plan(&m, c.items[i].id, &row, &x, &skip);
        if (rc == CF_OK && !skip) {
            m.movable += x.movable;
            m.blocked += !x.movable;
            if (json_array_append(json_object_get(doc, "instances"), x.item) != 0)
                rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
        }
        one_free(&x);
        cf__instance_row_clear(&row);
    }
    cf__store_rollback(e->store);
    if (rc == CF_OK)
        rc = doc_finish(&m, doc, json_out);
    json_decref(doc);
    free(c.items);
    mig_free(&m);
    return rc;
}

/* The history row's data: what the migration did to this instance. */
static char *record_text(const mig *m, const cf__instance_row *row, const one *x)
{
    json_t *timers = moves_json(x);
    json_t *o = timers ? json_pack("{s:s, s:s, s:{s:s}, s:o}", "from_definition", row->def_hash, "to_definition",
                                   m->to_hash, "state_map", row->state, m->to->states[x->ts].name, "timers", timers)
                       : NULL;
    char *text = o ? cf__json_canonical(o) : NULL;
    json_decref(o);
    return text;
}

/* Migrate one instance inside the caller's transaction. */
static int apply_one(mig *m, cf__instance_row *row, one *x, int64_t *seq)
{
    cf_engine *e = m->e;
    int rc = cf__audit_check_instance(e->store, row->id, row->version, row->state, row->county, row->data, &e->err);
    for (size_t i = 0; rc == CF_OK && i < x->nmoves; i++) {
        const move *mv = &x->moves[i];
        if (strcmp(mv->action, "cancel") == 0)
            rc = cf__store_timer_delete(e->store, mv->id, &e->err);
        else if (strcmp(mv->action, "keep") == 0 && strcmp(mv->state, mv->was) != 0)
            rc = cf__store_timer_set_state(e->store, mv->id, mv->state, &e->err);
        else if (strcmp(mv->action, "schedule") == 0 && mv->has_due)
            rc = cf__store_timer_add(e->store, row->id, mv->state, mv->name, mv->event, mv->due, &e->err);
    }
    char *text = rc == CF_OK ? record_text(m, row, x) : NULL;
    if (rc == CF_OK && !text)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory recording the migration");
    cf__history_row h;
    memset(&h, 0, sizeof h);
    h.number = row->version + 1;
    h.instance_id = row->id;
    h.at = m->now;
    h.effective_at = m->now;
    h.actor = m->actor;
    h.event = MIGRATE_EVENT;
    h.data = text;
    h.outcome = "applied";
    h.from_state = row->state;
    h.to_state = m->to->states[x->ts].name;
    h.reasons = "[]";
    h.policy_hash = cf__policy_hash(e->policy, row->county);
    h.def_hash = m->to_hash;
    h.result_data = row->data; /* unchanged: verify compares it, and the timers as they are now */
    h.result_county = row->county;
    if (rc == CF_OK) {
        cf__instance_row moved = *row;
        moved.def_hash = m->to_hash;
        moved.state = (char *)m->to->states[x->ts].name;
        moved.updated_at = m->now;
        moved.version = h.number;
        rc = cf__store_instance_redefine(e->store, &moved, &e->err);
    }
    if (rc == CF_OK)
        rc = cf__audit_append(e->store, &h, &e->err);
    if (rc == CF_OK)
        *seq = h.seq;
    free(text);
    return rc;
}

int cf_migrate_apply(cf_engine *e, const cf_migrate_options *opts, char **json_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (json_out)
        *json_out = NULL;
    if ((rc = cf__store_refuse_if_corrupt(e->store, &e->err)) != CF_OK)
        return rc;
    if (cf__store_in_batch(e->store))
        return cf__fail(&e->err, CF_EINVAL, "cf_migrate_apply runs one transaction per instance: commit or roll "
                        "back the open batch first");
    mig m;
    rc = cf__store_begin_read(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    rc = mig_open(e, opts, &m);
    cand_scan c = {0};
    if (rc == CF_OK)
        rc = candidates(&m, &c);
    cf__store_rollback(e->store);
    json_t *doc = rc == CF_OK ? doc_new(&m) : NULL;
    if (rc == CF_OK && !doc)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    int64_t migrated = 0;
    for (size_t i = 0; rc == CF_OK && i < c.n; i++) {
        rc = cf__store_begin(e->store, &e->err);
        if (rc != CF_OK)
            break;
        cf__instance_row row = {0};
        one x;
        memset(&x, 0, sizeof x);
        bool skip = false;
        int64_t seq = 0;
        rc = read_and_plan(&m, c.items[i].id, &row, &x, &skip);
        if (rc == CF_OK && !skip && x.movable)
            rc = apply_one(&m, &row, &x, &seq);
        if (rc == CF_OK && !skip && x.movable)
            rc = cf__store_commit(e->store, &e->err);
        else
            cf__store_rollback(e->store);
        if (rc == CF_OK && !skip) {
            m.movable += x.movable;
            m.blocked += !x.movable;
            migrated += x.movable;
            if (json_object_set_new(x.item, "migrated", json_boolean(x.movable)) != 0 ||
                json_object_set_new(x.item, "seq", x.movable ? json_integer(seq) : json_null()) != 0 ||
                json_array_append(json_object_get(doc, "instances"), x.item) != 0)
                rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
        }
        if (rc != CF_OK)
            cf__err_prefix(&e->err, "migrating instance %s (%" PRId64 " migrated before it stay migrated; run the "
                           "migration again to go on)", c.items[i].id, migrated);
        one_free(&x);
        cf__instance_row_clear(&row);
    }
    if (rc == CF_OK && json_object_set_new(doc, "migrated", json_integer(migrated)) != 0)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    char *text = NULL;
    if (rc == CF_OK)
        rc = doc_finish(&m, doc, &text);
    if (rc == CF_OK && json_out)
        *json_out = text;
    else
        free(text);
    json_decref(doc);
    free(c.items);
    mig_free(&m);
    return rc;
}
