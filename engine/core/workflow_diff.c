/*
 * workflow_diff.c — cf_workflow_diff: what changed between two versions of a
 * workflow, compared by name (states, events, transitions, their guards and
 * actions, entry and exit actions, timers), as a flat list of rows.
 */
#include "core/versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_STATE, K_TERMINAL, K_INITIAL, K_EVENT, K_TRANSITION, K_GUARD, K_ACTION, K_TIMER, K_COUNT };
static const char *const KIND_NAMES[K_COUNT] = {"state",      "terminal", "initial", "event",
                                                "transition", "guard",    "action",  "timer"};

typedef struct differ {
    json_t *rows[K_COUNT];
    bool oom;
} differ;

static void row(differ *d, int kind, const char *change, const char *name, const char *old, const char *new_)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "kind", KIND_NAMES[kind], "change", change, "name", name,
                          "old", old, "new", new_);
    if (!o || json_array_append_new(d->rows[kind], o) != 0)
        d->oom = true;
}

static bool has_name(const cf__fnref *fns, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fns[i].name, name) == 0)
            return true;
    return false;
}

static char *fn_list_text(const cf__fnref *fns, int n)
{
    cf__buf b = {0};
    cf__buf_puts(&b, "");
    for (int i = 0; i < n; i++)
        cf__buf_printf(&b, "%s%s", i ? ", " : "", fns[i].name);
    return b.oom ? (cf__buf_free(&b), NULL) : b.data;
}

/* Guards or actions (role noun `what`) added and removed between two lists used at `where`. */
static void diff_fns(differ *d, int kind, const cf__fnref *a, int na, const cf__fnref *b, int nb, const char *where)
{
    char name[512];
    for (int i = 0; i < na; i++)
        if (!has_name(b, nb, a[i].name)) {
            snprintf(name, sizeof name, "%s in %s", a[i].name, where);
            row(d, kind, "removed", name, a[i].name, NULL);
        }
    for (int i = 0; i < nb; i++)
        if (!has_name(a, na, b[i].name)) {
            snprintf(name, sizeof name, "%s in %s", b[i].name, where);
            row(d, kind, "added", name, NULL, b[i].name);
        }
    /* the same names in another order */
    if (na == nb) {
        bool same_set = true, same_order = true;
        for (int i = 0; i < na; i++) {
            same_set = same_set && has_name(b, nb, a[i].name);
            same_order = same_order && strcmp(a[i].name, b[i].name) == 0;
        }
        if (same_set && !same_order) {
            char *o = fn_list_text(a, na), *n = fn_list_text(b, nb);
            snprintf(name, sizeof name, "order in %s", where);
            if (!o || !n)
                d->oom = true;
            else
                row(d, kind, "changed", name, o, n);
            free(o);
            free(n);
        }
    }
}

static char *transition_text(const cf__workflow *wf, const cf__transition *t)
{
    cf__buf b = {0};
    char *g = fn_list_text(t->guards, t->nguards), *a = fn_list_text(t->actions, t->nactions);
    cf__buf_printf(&b, "guards: %s; actions: %s", g && *g ? g : "none", a && *a ? a : "none");
    if (t->reenter)
        cf__buf_puts(&b, "; reenter");
    for (int i = 0; i < t->nsends; i++)
        cf__buf_printf(&b, "; sends %s over %s", t->sends[i].event, wf->links[t->sends[i].link].name);
    bool oom = !g || !a || b.oom;
    free(g);
    free(a);
    return oom ? (cf__buf_free(&b), NULL) : b.data;
}

/* Transitions are compared as declared: a transition declared on a parent is
 * compiled once per leaf it applies in, and only its first copy (head[i]; a from
 * list gives one per source) is
 * looked at; it is named by its declared source and target (full paths) and
 * matched by their keys, so a state that moved under a parent keeps its
 * transitions. */
static bool *declared_heads(const cf__workflow *wf)
{
    bool *head = calloc((size_t)wf->ntrans + 1, sizeof *head);
    for (int i = 0; head && i < wf->ntrans; i++) {
        head[i] = true;
        for (int j = 0; j < i && head[i]; j++)
            head[i] = wf->trans[j].decl != wf->trans[i].decl || wf->trans[j].source != wf->trans[i].source;
    }
    return head;
}

static void declared_name(const cf__workflow *wf, const cf__transition *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s --%s--> %s", wf->states[t->source].name, wf->events[t->event], wf->states[t->target].name);
}

static bool same_declared(const cf__workflow *wf, const cf__transition *t, const char *from, const char *event,
                          const char *to)
{
    return strcmp(wf->states[t->source].key, from) == 0 && strcmp(wf->events[t->event], event) == 0 &&
           strcmp(wf->states[t->target].key, to) == 0;
}

/* The k-th declared transition (0-based, in declaration order) of wf with these source and target keys and event. */
static const cf__transition *find_transition(const cf__workflow *wf, const bool *head, const char *from,
                                             const char *event, const char *to, int k)
{
    for (int i = 0; i < wf->ntrans; i++)
        if (head[i] && same_declared(wf, &wf->trans[i], from, event, to) && k-- == 0)
            return &wf->trans[i];
    return NULL;
}

/* Which occurrence of its (source, event, target) declared transition t is in wf. */
static int occurrence(const cf__workflow *wf, const bool *head, const cf__transition *t)
{
    int k = 0;
    for (const cf__transition *p = wf->trans; p < t; p++)
        k += head[p - wf->trans] && p->source == t->source && p->event == t->event && p->target == t->target;
    return k;
}

static bool sends_equal(const cf__workflow *a, const cf__transition *ta, const cf__workflow *b,
                        const cf__transition *tb)
{
    if (ta->nsends != tb->nsends)
        return false;
    for (int i = 0; i < ta->nsends; i++)
        if (strcmp(ta->sends[i].event, tb->sends[i].event) != 0 ||
            strcmp(a->links[ta->sends[i].link].name, b->links[tb->sends[i].link].name) != 0)
            return false;
    return true;
}

static void diff_transitions(differ *d, const cf__workflow *a, const cf__workflow *b)
{
    char name[320];
    bool *ha = declared_heads(a), *hb = declared_heads(b);
    if (!ha || !hb) {
        d->oom = true;
        free(ha);
        free(hb);
        return;
    }
    for (int i = 0; i < a->ntrans; i++) {
        const cf__transition *ta = &a->trans[i];
        if (!ha[i])
            continue;
        declared_name(a, ta, name, sizeof name);
        const cf__transition *tb = find_transition(b, hb, a->states[ta->source].key, a->events[ta->event],
                                                   a->states[ta->target].key, occurrence(a, ha, ta));
        if (!tb) {
            char *text = transition_text(a, ta);
            if (!text)
                d->oom = true;
            row(d, K_TRANSITION, "removed", name, text, NULL);
            free(text);
            continue;
        }
        char bname[320];
        declared_name(b, tb, bname, sizeof bname);
        if (strcmp(name, bname) != 0) /* a state it names moved in or out of a parent */
            row(d, K_TRANSITION, "changed", bname, name, bname);
        diff_fns(d, K_GUARD, ta->guards, ta->nguards, tb->guards, tb->nguards, bname);
        diff_fns(d, K_ACTION, ta->actions, ta->nactions, tb->actions, tb->nactions, bname);
        if (ta->reenter != tb->reenter || !sends_equal(a, ta, b, tb)) {
            char *o = transition_text(a, ta), *n = transition_text(b, tb);
            if (!o || !n)
                d->oom = true;
            row(d, K_TRANSITION, "changed", bname, o, n);
            free(o);
            free(n);
        }
    }
    for (int i = 0; i < b->ntrans; i++) {
        const cf__transition *tb = &b->trans[i];
        if (!hb[i] || find_transition(a, ha, b->states[tb->source].key, b->events[tb->event],
                                      b->states[tb->target].key, occurrence(b, hb, tb)))
            continue;
        declared_name(b, tb, name, sizeof name);
        char *text = transition_text(b, tb);
        if (!text)
            d->oom = true;
        row(d, K_TRANSITION, "added", name, NULL, text);
        free(text);
    }
    free(ha);
    free(hb);
}

static const cf__timer_def *find_timer(const cf__state *st, const char *name)
{
    for (int i = 0; st && i < st->ntimers; i++)
        if (strcmp(st->timers[i].name, name) == 0)
            return &st->timers[i];
    return NULL;
}

static void timer_text(const cf__workflow *wf, const cf__timer_def *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s after %s", wf->events[t->event], t->after.name);
}

/* The timers of state `name` in a (sa, may be NULL) and b (sb, may be NULL). */
static void diff_timers(differ *d, const cf__workflow *a, const cf__state *sa, const cf__workflow *b,
                        const cf__state *sb, const char *state)
{
    char name[320], o[320], n[320];
    for (int i = 0; sa && i < sa->ntimers; i++) {
        const cf__timer_def *ta = &sa->timers[i], *tb = find_timer(sb, ta->name);
        snprintf(name, sizeof name, "%s.%s", state, ta->name);
        timer_text(a, ta, o, sizeof o);
        if (!tb) {
            row(d, K_TIMER, "removed", name, o, NULL);
            continue;
        }
        timer_text(b, tb, n, sizeof n);
        if (strcmp(o, n) != 0)
            row(d, K_TIMER, "changed", name, o, n);
    }
    for (int i = 0; sb && i < sb->ntimers; i++) {
        if (find_timer(sa, sb->timers[i].name))
            continue;
        snprintf(name, sizeof name, "%s.%s", state, sb->timers[i].name);
        timer_text(b, &sb->timers[i], n, sizeof n);
        row(d, K_TIMER, "added", name, NULL, n);
    }
}

/* The state of wf that st (of the other version) is: the same full path, else the same key. */
static int same_state(const cf__workflow *wf, const cf__state *st)
{
    int j = cf__workflow_state(wf, st->name);
    return j >= 0 ? j : cf__workflow_state(wf, st->key);
}

static void diff_states(differ *d, const cf__workflow *a, const cf__workflow *b)
{
    char where[320];
    for (int i = 0; i < a->nstates; i++) {
        const cf__state *sa = &a->states[i];
        int j = same_state(b, sa);
        const cf__state *sb = j >= 0 ? &b->states[j] : NULL;
        if (!sb) {
            row(d, K_STATE, "removed", sa->name, sa->terminal ? "terminal" : "state", NULL);
        } else {
            /* moved in or out of a parent: the same state (its key), another path */
            if (strcmp(sa->name, sb->name) != 0)
                row(d, K_STATE, "changed", sb->name, sa->name, sb->name);
            const char *ia = sa->initial >= 0 ? a->states[sa->initial].name : NULL;
            const char *ib = sb->initial >= 0 ? b->states[sb->initial].name : NULL;
            if ((ia || ib) && (!ia || !ib || strcmp(ia, ib) != 0))
                row(d, K_INITIAL, "changed", sb->name, ia ? ia : "(none: not a parent)",
                    ib ? ib : "(none: not a parent)");
            if (sa->terminal != sb->terminal)
                row(d, K_TERMINAL, "changed", sb->name, sa->terminal ? "true" : "false",
                    sb->terminal ? "true" : "false");
            snprintf(where, sizeof where, "%s.on_enter", sb->name);
            diff_fns(d, K_ACTION, sa->on_enter, sa->non_enter, sb->on_enter, sb->non_enter, where);
            snprintf(where, sizeof where, "%s.on_exit", sb->name);
            diff_fns(d, K_ACTION, sa->on_exit, sa->non_exit, sb->on_exit, sb->non_exit, where);
        }
        diff_timers(d, a, sa, b, sb, sb ? sb->name : sa->name);
    }
    for (int j = 0; j < b->nstates; j++) {
        const cf__state *sb = &b->states[j];
        if (same_state(a, sb) >= 0)
            continue;
        row(d, K_STATE, "added", sb->name, NULL, sb->terminal ? "terminal" : "state");
        if (sb->initial >= 0)
            row(d, K_INITIAL, "added", sb->name, NULL, b->states[sb->initial].name);
        diff_timers(d, a, NULL, b, sb, sb->name);
    }
    if (strcmp(a->states[a->initial].name, b->states[b->initial].name) != 0)
        row(d, K_INITIAL, "changed", a->name, a->states[a->initial].name, b->states[b->initial].name);
    for (int i = 0; i < a->nevents; i++)
        if (cf__workflow_event(b, a->events[i]) < 0)
            row(d, K_EVENT, "removed", a->events[i], a->events[i], NULL);
    for (int j = 0; j < b->nevents; j++)
        if (cf__workflow_event(a, b->events[j]) < 0)
            row(d, K_EVENT, "added", b->events[j], NULL, b->events[j]);
}

/* The compiled definition `hash`: the engine's own when it is current (*owned
 * NULL), else its structure from the store (*owned: free it). */
static int definition_shape(cf_engine *e, const char *hash, const cf__workflow **wf, cf__workflow **owned)
{
    *owned = NULL;
    for (size_t i = 0; i < e->defs.ncurrent; i++)
        if (strcmp(e->defs.items[i]->hash, hash) == 0) {
            *wf = e->defs.items[i];
            return CF_OK;
        }
    int rc = cf__version_structure(e, hash, owned);
    *wf = *owned;
    return rc;
}

int cf_workflow_diff(cf_engine *e, const char *workflow, const char *old_version, const char *new_version,
                     char **json_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!workflow || !old_version || !new_version || !json_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_workflow_diff: workflow, old_version, new_version and json_out are required");
    *json_out = NULL;
    if ((rc = cf__check_text(&e->err, "workflow", workflow, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "old version", old_version, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "new version", new_version, true)) != CF_OK)
        return rc;
    char old_hash[CF__HASH_HEX], new_hash[CF__HASH_HEX];
    bool began = false;
    rc = cf__audit_read_begin(e->store, &began, &e->err);
    if (rc != CF_OK)
        return rc;
    rc = cf__version_resolve(e, workflow, old_version, old_hash);
    if (rc == CF_OK)
        rc = cf__version_resolve(e, workflow, new_version, new_hash);
    const cf__workflow *a = NULL, *b = NULL;
    cf__workflow *own_a = NULL, *own_b = NULL;
    if (rc == CF_OK)
        rc = definition_shape(e, old_hash, &a, &own_a);
    if (rc == CF_OK)
        rc = definition_shape(e, new_hash, &b, &own_b);
    cf__audit_read_end(e->store, began);
    differ d = {{NULL}, false};
    for (int k = 0; k < K_COUNT; k++)
        if (!(d.rows[k] = json_array()))
            d.oom = true;
    if (rc == CF_OK) {
        diff_states(&d, a, b);
        diff_transitions(&d, a, b);
    }
    json_t *all = json_array();
    for (int k = 0; k < K_COUNT; k++)
        if (!all || (d.rows[k] && json_array_extend(all, d.rows[k]) != 0))
            d.oom = true;
    if (rc == CF_OK && !d.oom) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:O}", "workflow", workflow, "old", old_hash, "new", new_hash,
                                "changes", all);
        *json_out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
    }
    if (rc == CF_OK && !*json_out)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory comparing two versions of '%s'", workflow);
    json_decref(all);
    for (int k = 0; k < K_COUNT; k++)
        json_decref(d.rows[k]);
    cf__workflow_free(own_a);
    cf__workflow_free(own_b);
    return rc;
}
