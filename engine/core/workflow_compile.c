/*
 * workflow_compile.c — the compiled form of a workflow: the arena that owns it,
 * the lookups by name, and the transitions expanded into one compiled transition
 * per leaf state they apply in, chained per (leaf, event) with the innermost
 * source first, so that firing walks arrays of indices and never compares
 * strings. Reading and checking the file is workflow.c's; the tree of nested
 * states is hierarchy.c's.
 */
#include "wf_build.h"

static void arena_free(wf_arena *a)
{
    if (!a)
        return;
    arena_node *n = a->nodes;
    while (n) {
        arena_node *next = n->next;
        free(n);
        n = next;
    }
    free(a);
}

void cf__workflow_free(cf__workflow *wf)
{
    if (!wf)
        return;
    arena_free(wf->arena);
    free(wf->name);
    free(wf->path);
    free(wf->source);
    free(wf);
}

/* ---------- lookups (also used after compiling) ---------- */

static int cmp_state(const void *key, const void *elem)
{
    return strcmp(key, ((const cf__state *)elem)->name);
}

/* By full path (states are sorted by it), then by key: keys are unique in a
 * workflow, so "suspended" finds "certified.suspended". */
int cf__workflow_state(const cf__workflow *wf, const char *name)
{
    if (!wf || !name || !wf->states)
        return -1;
    const cf__state *s = bsearch(name, wf->states, (size_t)wf->nstates, sizeof *wf->states, cmp_state);
    if (s)
        return (int)(s - wf->states);
    const int *order = wf->arena ? ((const wf_arena *)wf->arena)->state_by_key : NULL;
    int lo = 0, hi = wf->nstates - 1;
    while (order && lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, wf->states[order[mid]].key);
        if (cmp == 0)
            return order[mid];
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

int cf__workflow_event(const cf__workflow *wf, const char *name)
{
    if (!wf || !name || !wf->arena)
        return -1;
    const int *order = ((const wf_arena *)wf->arena)->event_by_name;
    int lo = 0, hi = wf->nevents - 1;
    while (order && lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, wf->events[order[mid]]);
        if (cmp == 0)
            return order[mid];
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

static int cmp_link(const void *key, const void *elem)
{
    return strcmp(key, ((const cf__link *)elem)->name);
}

int cf__workflow_link(const cf__workflow *wf, const char *name)
{
    if (!wf || !name || !wf->links)
        return -1;
    const cf__link *l = bsearch(name, wf->links, (size_t)wf->nlinks, sizeof *wf->links, cmp_link);
    return l ? (int)(l - wf->links) : -1;
}

/* FNV-1a over a transition's guard names: duplicate checks compare these first,
 * so that many transitions with long, nearly equal guard lists stay linear to check
 * (found while fuzzing: 1,000 transitions of 1,000 guards took close to a minute). */
static uint64_t guards_hash(const cf__fnref *guards, int n)
{
    uint64_t h = 14695981039346656037u;
    for (int i = 0; i < n; i++) {
        for (const char *s = guards[i].name; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211u;
        h = (h ^ 0xff) * 1099511628211u; /* separator: {"ab"} and {"a", "b"} differ */
    }
    return h;
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

int cf__wf_link_transitions(ctx *c, file_trans *fts, int n)
{
    cf__workflow *wf = c->wf;
    size_t total = 0;
    int maxdepth = 0;
    for (int i = 0; i < n; i++)
        for (int f = 0; f < fts[i].nfrom; f++)
            total += (size_t)wf->states[fts[i].froms[f]].nleaves;
    for (int s = 0; s < wf->nstates; s++)
        if (wf->states[s].depth > maxdepth)
            maxdepth = wf->states[s].depth;

    /* Expand `from`: one compiled transition per leaf it applies in, in file order
     * (a from-list in its order, a parent's leaves in state order). */
    size_t cells = (size_t)wf->nstates * (size_t)wf->nevents;
    wf->trans = arena_alloc(c->arena, sizeof *wf->trans * (total ? total : 1));
    uint64_t *ghash = arena_alloc(c->arena, sizeof *ghash * (size_t)(n ? n : 1));
    int *last = arena_alloc(c->arena, sizeof *last * (cells ? cells : 1));
    wf->first = arena_alloc(c->arena, sizeof *wf->first * (cells ? cells : 1));
    if (!wf->trans || !ghash || !last || !wf->first)
        return oom(c);
    for (int i = 0; i < n; i++)
        ghash[i] = guards_hash(fts[i].guards, fts[i].nguards);
    for (size_t k = 0; k < cells; k++)
        wf->first[k] = last[k] = -1;
    int m = 0, rc = CF_OK;
    for (int i = 0; i < n && rc == CF_OK; i++) {
        const file_trans *ft = &fts[i];
        for (int f = 0; f < ft->nfrom && rc == CF_OK; f++) {
            const cf__state *src = &wf->states[ft->froms[f]];
            for (int l = 0; l < src->nleaves && rc == CF_OK; l++) {
                cf__transition *tr = &wf->trans[m++];
                tr->from = src->leaves[l];
                tr->source = ft->froms[f];
                tr->target = ft->to;
                tr->decl = i + 1;
                tr->event = ft->event;
                tr->reenter = ft->reenter;
                tr->guards = ft->guards;
                tr->nguards = ft->nguards;
                tr->actions = ft->actions;
                tr->nactions = ft->nactions;
                tr->sends = ft->sends;
                tr->nsends = ft->nsends;
                tr->next = -1;
                rc = cf__wf_transition_path(c, tr);
            }
        }
    }
    if (rc != CF_OK)
        return rc;
    wf->ntrans = m;

    /* Chain the candidates of each (leaf, event): the leaf's own first, then its
     * parent's, up to the top (innermost first), each level in file order. A leaf
     * has one ancestor per depth, so the transitions of one source are adjacent in
     * its chain: duplicates and shadowed ones are looked for among them only (a
     * child's transition overriding its parent's is the point of nesting). */
    for (int d = maxdepth; d >= 0 && rc == CF_OK; d--) {
        for (int k = 0; k < m && rc == CF_OK; k++) {
            cf__transition *tr = &wf->trans[k];
            if (wf->states[tr->source].depth != d)
                continue;
            size_t cell = (size_t)tr->from * (size_t)wf->nevents + (size_t)tr->event;
            char p[TP_MAX];
            join_index(p, "transitions", tr->decl);
            const char *sname = wf->states[tr->source].name, *ename = wf->events[tr->event];
            for (int j = wf->first[cell]; j >= 0 && rc == CF_OK; j = wf->trans[j].next) {
                const cf__transition *o = &wf->trans[j];
                if (o->source != tr->source)
                    continue;
                if (ghash[o->decl - 1] == ghash[tr->decl - 1] && same_guards(o, tr)) {
                    rc = bad(c, p, "remove one of them, or give them different guards",
                             "duplicate transition: same from '%s', event '%s' and guards as transitions[%d]",
                             sname, ename, o->decl);
                } else if (o->nguards == 0) {
                    char hint[256];
                    sfmt(hint, sizeof hint, "move it above transitions[%d], or give transitions[%d] a guard",
                         o->decl, o->decl);
                    rc = bad(c, p, hint,
                             "can never be chosen: transitions[%d] has no guard and takes event '%s' from '%s' first",
                             o->decl, ename, sname);
                }
            }
            if (rc != CF_OK)
                break;
            if (last[cell] < 0)
                wf->first[cell] = k;
            else
                wf->trans[last[cell]].next = k;
            last[cell] = k;
        }
    }
    return rc;
}

int cf__wf_check_reachable(ctx *c)
{
    cf__workflow *wf = c->wf;
    bool *seen = arena_alloc(c->arena, sizeof *seen * (size_t)wf->nstates);
    if (!seen)
        return oom(c);
    seen[wf->initial] = true;
    for (bool grew = true; grew;) {
        grew = false;
        for (int i = 0; i < wf->ntrans; i++) {
            if (seen[wf->trans[i].from] && !seen[wf->trans[i].to]) {
                seen[wf->trans[i].to] = true;
                grew = true;
            }
        }
    }
    /* A parent is reached when one of its leaves is. */
    for (int s = 0; s < wf->nstates; s++)
        for (int k = 0; seen[s] && k < wf->states[s].nchain; k++)
            seen[wf->states[s].chain[k]] = true;
    for (int s = 0; s < wf->nstates; s++) {
        if (!seen[s]) {
            char p[TP_MAX];
            join_key(p, "states", wf->states[s].key);
            return bad(c, p, "add a transition into it or remove it",
                       "state '%s' cannot be reached from the initial state '%s'", wf->states[s].name,
                       wf->states[wf->initial].name);
        }
    }
    return CF_OK;
}
