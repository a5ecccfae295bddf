/*
 * fuzz_workflow.c — fuzz target for the workflow loader: the input is a workflow
 * file's text, compiled with a resolver that knows every guard, assign and action
 * name except those starting with "no_" (so the unknown-name paths run too); a
 * workflow that compiles is then rendered as DOT and looked up by name.
 */
#include "cf_fuzz.h"

#include "internal.h"

#include <stdlib.h>
#include <string.h>

static bool fuzz_resolve(void *ud, cf__role role, const char *name, cf__fnref *out)
{
    (void)ud;
    if (strncmp(name, "no_", 3) == 0)
        return false;
    out->kind = CF__FN_POLICY;
    out->index = (int)(strlen(name) % 7) + (int)role;
    return true;
}

int cf_fuzz_workflow(const uint8_t *data, size_t size)
{
    cf__workflow *wf = NULL;
    cf__err err;
    err.msg[0] = '\0';
    int rc = cf__workflow_compile("fuzz.lua", (const char *)data, size, fuzz_resolve, NULL, &wf, &err);
    if (rc != CF_OK) {
        /* Every failure says why. */
        if (wf || !err.msg[0] || strlen(err.msg) >= sizeof err.msg)
            abort();
        return 0;
    }
    if (!wf || wf->initial < 0 || wf->initial >= wf->nstates)
        abort();
    for (int i = 0; i < wf->nstates; i++) {
        const cf__state *st = &wf->states[i];
        if (cf__workflow_state(wf, st->name) != i || cf__workflow_state(wf, st->key) != i)
            abort();
        /* nested states: the chain ends with the state, the leaf it enters is a leaf below it */
        if (st->nchain != st->depth + 1 || st->chain[st->depth] != i || st->leaf < 0 || st->leaf >= wf->nstates ||
            wf->states[st->leaf].initial >= 0 || wf->states[st->leaf].chain[st->depth] != i)
            abort();
    }
    if (wf->states[wf->initial].initial >= 0)
        abort();
    for (int i = 0; i < wf->nevents; i++)
        if (cf__workflow_event(wf, wf->events[i]) != i)
            abort();
    for (int i = 0; i < wf->nlinks; i++)
        if (cf__workflow_link(wf, wf->links[i].name) != i)
            abort();
    /* owned fields: sorted, distinct, each with its sentence */
    for (int i = 0; i < wf->nowned; i++)
        if (!wf->owned[i].field || !wf->owned[i].why || !*wf->owned[i].why ||
            (i > 0 && strcmp(wf->owned[i - 1].field, wf->owned[i].field) >= 0))
            abort();
    for (int i = 0; i < wf->ntrans; i++) {
        const cf__transition *t = &wf->trans[i];
        if (t->from < 0 || t->from >= wf->nstates || t->to < 0 || t->to >= wf->nstates || t->event < 0 ||
            t->event >= wf->nevents)
            abort();
        if (t->next < -1 || t->next >= wf->ntrans)
            abort();
        /* a transition applies in a leaf and lands in one; what it leaves and enters are states */
        if (wf->states[t->from].initial >= 0 || wf->states[t->to].initial >= 0)
            abort();
        for (int k = 0; k < t->nexits; k++)
            if (t->exits[k] < 0 || t->exits[k] >= wf->nstates)
                abort();
        for (int k = 0; k < t->nenters; k++)
            if (t->enters[k] < 0 || t->enters[k] >= wf->nstates)
                abort();
        if (t->nenters > 0 && t->enters[t->nenters - 1] != t->to)
            abort();
    }
    for (int i = 0; i < wf->nstates * wf->nevents; i++)
        if (wf->first[i] < -1 || wf->first[i] >= wf->ntrans)
            abort();
    char *dot = NULL;
    if (cf__workflow_dot(wf, &dot, &err) == CF_OK && (!dot || strncmp(dot, "digraph ", 8) != 0))
        abort();
    free(dot);
    cf__workflow_free(wf);
    return 0;
}
