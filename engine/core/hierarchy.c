/*
 * hierarchy.c — nested states. A state may name a `parent`; a parent names its
 * `initial` child. Here the tree is checked and compiled into index arrays (each
 * state's full path, parent, initial child, the leaf entering it ends in, its
 * chain of ancestors and the leaves it holds), and each compiled transition gets
 * the states it leaves and enters, so that firing only walks arrays. Also the
 * small helpers the rest of the engine uses to read states as a tree: does a
 * state path lie in another (queries that match a parent), and which timer of a
 * leaf or of its ancestors has a name. docs/workflows.md, "Nested states".
 */
#include "wf_build.h"

/* ---------- for the rest of the engine ---------- */

bool cf__state_in(const char *state, const char *filter)
{
    if (!filter)
        return true;
    if (!state)
        return false;
    size_t n = strlen(filter);
    return strncmp(state, filter, n) == 0 && (state[n] == '\0' || state[n] == '.');
}

int cf_state_in(const char *state, const char *filter)
{
    return cf__state_in(state, filter) ? 1 : 0;
}

const cf__timer_def *cf__workflow_timer(const cf__workflow *wf, int s, const char *name, int *owner)
{
    if (!wf || s < 0 || s >= wf->nstates || !name)
        return NULL;
    const cf__state *leaf = &wf->states[s];
    for (int k = leaf->nchain - 1; k >= 0; k--) {
        const cf__state *st = &wf->states[leaf->chain[k]];
        for (int i = 0; i < st->ntimers; i++) {
            if (strcmp(st->timers[i].name, name) == 0) {
                if (owner)
                    *owner = leaf->chain[k];
                return &st->timers[i];
            }
        }
    }
    return NULL;
}

/* ---------- building the tree ---------- */

/* Index of a key among the sorted keys, or -1. */
static int key_index(ctx *c, const char *key)
{
    int lo = 0, hi = c->wf->nstates - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = strcmp(key, c->state_names[mid]);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

static int unknown_state(ctx *c, const char *tp, const char *what, const char *name)
{
    char hint[512];
    closest_hint(hint, sizeof hint, name, c->state_names, (size_t)c->wf->nstates,
                 "states are declared under 'states'");
    return bad(c, tp, hint, "unknown %s '%s'", what, name);
}

/* "a, b, c": the children of parent p (keys), into out. */
static void children_list(ctx *c, const int *par, int p, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c->wf->nstates && used < size; i++)
        if (par[i] == p)
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", c->state_names[i]);
}

/* Parents named, no cycle, not too deep. par[] is filled (key order). */
static int check_parents(ctx *c, const char **parents, int *par)
{
    int n = c->wf->nstates;
    for (int i = 0; i < n; i++) {
        par[i] = -1;
        if (!parents[i])
            continue;
        char p[TP_MAX], tp[TP_MAX];
        join_key(tp, "states", c->state_names[i]);
        join_key(p, tp, "parent");
        par[i] = key_index(c, parents[i]);
        if (par[i] < 0)
            return unknown_state(c, p, "parent state", parents[i]);
    }
    for (int i = 0; i < n; i++) {
        int j = par[i], steps = 0;
        while (j >= 0 && j != i && steps++ < n)
            j = par[j];
        if (j != i)
            continue;
        cf__buf cycle = {0};
        cf__buf_puts(&cycle, c->state_names[i]);
        for (j = par[i];; j = par[j]) { /* i is on the cycle: the walk comes back to it */
            cf__buf_printf(&cycle, " -> %s", c->state_names[j]);
            if (j == i)
                break;
        }
        char p[TP_MAX], tp[TP_MAX];
        join_key(tp, "states", c->state_names[i]);
        join_key(p, tp, "parent");
        int rc = cycle.oom ? oom(c)
                           : bad(c, p, "a state cannot contain itself: remove one of these parents",
                                 "the parents form a cycle: %s", cycle.data);
        cf__buf_free(&cycle);
        return rc;
    }
    for (int i = 0; i < n; i++) {
        int depth = 0;
        for (int j = par[i]; j >= 0; j = par[j])
            depth++;
        if (depth > WF_MAX_DEPTH) {
            char p[TP_MAX], tp[TP_MAX];
            join_key(tp, "states", c->state_names[i]);
            join_key(p, tp, "parent");
            return bad(c, p, "nest fewer levels: a parent's children can be listed as siblings",
                       "state '%s' is nested %d levels deep, more than the limit of %d", c->state_names[i], depth,
                       WF_MAX_DEPTH);
        }
    }
    return CF_OK;
}

/* Every parent names one of its children as `initial`; only parents do. */
static int check_initials(ctx *c, const char **initials, const int *par, int *init)
{
    int n = c->wf->nstates;
    for (int i = 0; i < n; i++) {
        bool has_children = false;
        for (int k = 0; k < n && !has_children; k++)
            has_children = par[k] == i;
        char tp[TP_MAX], p[TP_MAX], hint[1024], kids[512];
        join_key(tp, "states", c->state_names[i]);
        join_key(p, tp, "initial");
        init[i] = -1;
        if (!has_children && initials[i]) {
            sfmt(hint, sizeof hint, "remove initial, or give its children parent = \"%s\"", c->state_names[i]);
            return bad(c, p, hint, "state '%s' has no children, so it has no initial child", c->state_names[i]);
        }
        if (!has_children)
            continue;
        children_list(c, par, i, kids, sizeof kids);
        if (!initials[i]) {
            const char *first = c->state_names[0];
            for (int k = 0; k < n; k++)
                if (par[k] == i) {
                    first = c->state_names[k];
                    break;
                }
            sfmt(hint, sizeof hint, "add initial = \"%s\" (one of %s): the child a transition into '%s' enters",
                 first, kids, c->state_names[i]);
            return bad(c, tp, hint, "state '%s' has children (%s) but no initial child", c->state_names[i], kids);
        }
        init[i] = key_index(c, initials[i]);
        if (init[i] < 0)
            return unknown_state(c, p, "initial child", initials[i]);
        if (par[init[i]] != i) {
            sfmt(hint, sizeof hint, "name one of its children (%s), or give '%s' parent = \"%s\"", kids,
                 initials[i], c->state_names[i]);
            return bad(c, p, hint, "initial child '%s' is not a child of '%s'", initials[i], c->state_names[i]);
        }
    }
    return CF_OK;
}

typedef struct sort_item {
    const char *path;
    int old;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const sort_item *)a)->path, ((const sort_item *)b)->path);
}

static int build_path(ctx *c, const int *par, const char **paths, int i)
{
    if (paths[i])
        return CF_OK;
    const char *key = c->state_names[i];
    if (par[i] < 0) {
        paths[i] = key;
        return CF_OK;
    }
    int rc = build_path(c, par, paths, par[i]); /* depth is bounded by WF_MAX_DEPTH */
    if (rc != CF_OK)
        return rc;
    size_t lp = strlen(paths[par[i]]), lk = strlen(key);
    char *p = arena_alloc(c->arena, lp + lk + 2);
    if (!p)
        return oom(c);
    memcpy(p, paths[par[i]], lp);
    p[lp] = '.';
    memcpy(p + lp + 1, key, lk + 1);
    paths[i] = p;
    return CF_OK;
}

int cf__wf_tree(ctx *c, const char **parents, const char **initials)
{
    cf__workflow *wf = c->wf;
    int n = wf->nstates;
    size_t sz = (size_t)(n ? n : 1);
    int *par = arena_alloc(c->arena, sizeof *par * sz), *init = arena_alloc(c->arena, sizeof *init * sz);
    int *inv = arena_alloc(c->arena, sizeof *inv * sz);
    const char **paths = arena_alloc(c->arena, sizeof *paths * sz);
    sort_item *items = arena_alloc(c->arena, sizeof *items * sz);
    cf__state *states = arena_alloc(c->arena, sizeof *states * sz);
    int *by_key = arena_alloc(c->arena, sizeof *by_key * sz);
    if (!par || !init || !inv || !paths || !items || !states || !by_key)
        return oom(c);
    int rc = check_parents(c, parents, par);
    if (rc == CF_OK)
        rc = check_initials(c, initials, par, init);
    for (int i = 0; i < n && rc == CF_OK; i++) {
        rc = build_path(c, par, paths, i);
        if (rc == CF_OK && strlen(paths[i]) > WF_PATH_MAX) {
            char tp[TP_MAX], p[TP_MAX];
            join_key(tp, "states", c->state_names[i]);
            join_key(p, tp, "parent");
            rc = bad(c, p, "use shorter names, or nest fewer levels",
                     "the full path of state '%s' has %zu characters, more than the limit of %d",
                     c->state_names[i], strlen(paths[i]), WF_PATH_MAX);
        }
    }
    if (rc != CF_OK)
        return rc;

    /* Sorted by full path: a parent comes right before its descendants. */
    for (int i = 0; i < n; i++)
        items[i] = (sort_item){paths[i], i};
    qsort(items, (size_t)n, sizeof *items, cmp_item);
    for (int k = 0; k < n; k++)
        inv[items[k].old] = k;
    for (int k = 0; k < n; k++) {
        int i = items[k].old;
        states[k] = wf->states[i];
        states[k].key = c->state_names[i];
        states[k].name = paths[i];
        states[k].parent = par[i] < 0 ? -1 : inv[par[i]];
        states[k].initial = init[i] < 0 ? -1 : inv[init[i]];
        by_key[i] = k;
    }
    wf->states = states;
    ((wf_arena *)wf->arena)->state_by_key = by_key;

    for (int s = 0; s < n; s++) {
        cf__state *st = &states[s];
        st->depth = 0;
        for (int j = st->parent; j >= 0; j = states[j].parent)
            st->depth++;
        st->nchain = st->depth + 1;
        st->chain = arena_alloc(c->arena, sizeof *st->chain * (size_t)st->nchain);
        if (!st->chain)
            return oom(c);
        for (int j = s, d = st->depth; j >= 0; j = states[j].parent, d--)
            st->chain[d] = j;
        st->leaf = s;
        while (states[st->leaf].initial >= 0)
            st->leaf = states[st->leaf].initial;
    }
    /* The leaves each state holds, in state order. */
    for (int s = 0; s < n; s++)
        if (states[s].initial < 0)
            for (int k = 0; k < states[s].nchain; k++)
                states[states[s].chain[k]].nleaves++;
    for (int s = 0; s < n; s++) {
        states[s].leaves = arena_alloc(c->arena, sizeof *states[s].leaves * (size_t)states[s].nleaves);
        if (!states[s].leaves)
            return oom(c);
        states[s].nleaves = 0;
    }
    for (int s = 0; s < n; s++)
        if (states[s].initial < 0)
            for (int k = 0; k < states[s].nchain; k++) {
                cf__state *a = &states[states[s].chain[k]];
                a->leaves[a->nleaves++] = s;
            }
    return CF_OK;
}

/* ---------- what a transition leaves and enters ---------- */

/* The deepest state holding both a and b (each counting as holding itself), or -1. */
static int common_ancestor(const cf__workflow *wf, int a, int b)
{
    const cf__state *sa = &wf->states[a], *sb = &wf->states[b];
    int d = sa->depth < sb->depth ? sa->depth : sb->depth, common = -1;
    for (int k = 0; k <= d && sa->chain[k] == sb->chain[k]; k++)
        common = sa->chain[k];
    return common;
}

int cf__wf_transition_path(ctx *c, cf__transition *tr)
{
    const cf__workflow *wf = c->wf;
    tr->nexits = tr->nenters = 0;
    tr->exits = tr->enters = NULL;
    if (tr->target == tr->source && !tr->reenter) {
        tr->to = tr->from; /* internal: nothing is left or entered, the leaf stays */
        return CF_OK;
    }
    /* The domain: the state the transition stays inside of (-1: the top). */
    int domain;
    if (tr->target == tr->source)
        domain = wf->states[tr->source].parent; /* re-entering: left and entered again */
    else if (wf_inside(wf, tr->source, tr->target))
        domain = wf->states[tr->target].parent; /* to an ancestor: it is left and entered again */
    else if (wf_inside(wf, tr->target, tr->source))
        domain = tr->source; /* to a descendant of the source: the source is not left */
    else
        domain = common_ancestor(wf, tr->source, tr->target);
    tr->to = wf->states[tr->target].leaf;
    const cf__state *from = &wf->states[tr->from], *to = &wf->states[tr->to];
    int ddom = domain < 0 ? -1 : wf->states[domain].depth;
    tr->nexits = from->depth - ddom;
    tr->nenters = to->depth - ddom;
    tr->exits = arena_alloc(c->arena, sizeof *tr->exits * (size_t)(tr->nexits ? tr->nexits : 1));
    tr->enters = arena_alloc(c->arena, sizeof *tr->enters * (size_t)(tr->nenters ? tr->nenters : 1));
    if (!tr->exits || !tr->enters)
        return oom(c);
    for (int k = 0; k < tr->nexits; k++)
        tr->exits[k] = from->chain[from->depth - k];
    for (int k = 0; k < tr->nenters; k++)
        tr->enters[k] = to->chain[ddom + 1 + k];
    return CF_OK;
}
