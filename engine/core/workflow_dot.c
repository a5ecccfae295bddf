/*
 * workflow_dot.c — a compiled workflow as Graphviz DOT: states as nodes, parents
 * as clusters (subgraph cluster_...), one edge per transition as declared, and a
 * dashed edge per timer.
 */
#include "wf_build.h"

static void dot_quoted(cf__buf *b, const char *s)
{
    cf__buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            cf__buf_append(b, "\\", 1);
        if (*s == '\n')
            cf__buf_puts(b, "\\n");
        else if (*s != '\r')
            cf__buf_append(b, s, 1);
    }
    cf__buf_puts(b, "\"");
}

#define DOT_TIMER "\xe2\x8f\xb1" /* U+23F1 stopwatch */
#define DOT_ARROW "\xe2\x86\x92" /* U+2192 rightwards arrow */

/* "event [guard1, guard2]" */
static void transition_label(cf__buf *label, const cf__workflow *wf, const cf__transition *t)
{
    cf__buf_puts(label, wf->events[t->event]);
    if (t->nguards) {
        cf__buf_puts(label, " [");
        for (int g = 0; g < t->nguards; g++) {
            cf__buf_puts(label, g ? ", " : "");
            cf__buf_puts(label, t->guards[g].name);
        }
        cf__buf_puts(label, "]");
    }
}

/* A transition declared on a parent that stays in it (internal, or re-entering
 * the parent itself): a line of the parent's cluster label, not an edge. */
static bool stays_in_parent(const cf__workflow *wf, const cf__transition *t)
{
    return wf->states[t->source].initial >= 0 && t->target == t->source;
}

/* A transition declared on a parent is expanded per leaf it holds: it is drawn
 * once, from the parent's entry leaf, leaving its cluster (ltail). */
static bool drawn(const cf__workflow *wf, const cf__transition *t)
{
    return t->from == wf->states[t->source].leaf;
}

static void indent(cf__buf *b, int depth)
{
    for (int i = 0; i <= depth; i++)
        cf__buf_puts(b, "  ");
}

static void cluster_name(cf__buf *b, const cf__state *st)
{
    cf__buf tmp = {0};
    cf__buf_printf(&tmp, "cluster_%s", st->name);
    dot_quoted(b, tmp.data ? tmp.data : "");
    if (tmp.oom)
        b->oom = true;
    cf__buf_free(&tmp);
}

/* State s: a leaf is a node; a parent is a cluster holding its children. */
static void dot_state(cf__buf *b, const cf__workflow *wf, int s)
{
    const cf__state *st = &wf->states[s];
    if (st->initial < 0) {
        indent(b, st->depth);
        dot_quoted(b, st->name);
        if (st->parent >= 0) {
            cf__buf_puts(b, " [label=");
            dot_quoted(b, st->key);
            cf__buf_puts(b, st->terminal ? ", shape=doublecircle];\n" : "];\n");
        } else {
            cf__buf_puts(b, st->terminal ? " [shape=doublecircle];\n" : ";\n");
        }
        return;
    }
    indent(b, st->depth);
    cf__buf_puts(b, "subgraph ");
    cluster_name(b, st);
    cf__buf_puts(b, " {\n");
    cf__buf label = {0};
    cf__buf_puts(&label, st->key);
    for (int i = 0; i < wf->ntrans; i++) {
        const cf__transition *t = &wf->trans[i];
        if (t->source != s || !stays_in_parent(wf, t) || !drawn(wf, t))
            continue;
        cf__buf_puts(&label, "\n");
        transition_label(&label, wf, t);
        cf__buf_puts(&label, t->reenter ? " (re-enters)" : "");
    }
    indent(b, st->depth + 1);
    cf__buf_puts(b, "label=");
    dot_quoted(b, label.data ? label.data : "");
    cf__buf_puts(b, ";\n");
    if (label.oom)
        b->oom = true;
    cf__buf_free(&label);
    for (int k = s + 1; k < wf->nstates; k++) /* sorted by path: the descendants follow */
        if (wf->states[k].parent == s)
            dot_state(b, wf, k);
    indent(b, st->depth);
    cf__buf_puts(b, "}\n");
}

/* from -> to [<pre>label=..., ltail/lhead when a parent is the source or target<post>] */
static void dot_edge(cf__buf *b, const cf__workflow *wf, int from, int to, int source, int target,
                     const char *label, const char *pre, const char *post)
{
    cf__buf_puts(b, "  ");
    dot_quoted(b, wf->states[from].name);
    cf__buf_puts(b, " -> ");
    dot_quoted(b, wf->states[to].name);
    cf__buf_puts(b, " [");
    cf__buf_puts(b, pre);
    cf__buf_puts(b, "label=");
    dot_quoted(b, label);
    /* Graphviz draws an edge from or to a cluster only when the other end is outside it. */
    if (source >= 0 && wf->states[source].initial >= 0 && !wf_inside(wf, to, source)) {
        cf__buf_puts(b, ", ltail=");
        cluster_name(b, &wf->states[source]);
    }
    if (target >= 0 && wf->states[target].initial >= 0 && !wf_inside(wf, from, target)) {
        cf__buf_puts(b, ", lhead=");
        cluster_name(b, &wf->states[target]);
    }
    cf__buf_puts(b, post);
    cf__buf_puts(b, "];\n");
}

int cf__workflow_dot(const cf__workflow *wf, char **out, cf__err *err)
{
    *out = NULL;
    if (!wf)
        return cf__fail(err, CF_EINVAL, "no workflow given");
    bool nested = false;
    for (int s = 0; s < wf->nstates; s++)
        nested |= wf->states[s].parent >= 0;
    cf__buf b = {0};
    cf__buf_puts(&b, "digraph ");
    dot_quoted(&b, wf->name);
    cf__buf_puts(&b, " {\n  rankdir=LR;\n");
    if (nested) /* edges may start or end at a cluster (ltail, lhead) */
        cf__buf_puts(&b, "  compound=true;\n");
    if (wf->description) {
        cf__buf_puts(&b, "  label=");
        dot_quoted(&b, wf->description);
        cf__buf_puts(&b, ";\n  labelloc=t;\n");
    }
    cf__buf_puts(&b, "  node [shape=circle];\n");
    /* "__start" cannot clash with a state: state names start with a letter. */
    cf__buf_puts(&b, "  \"__start\" [shape=point];\n");
    for (int s = 0; s < wf->nstates; s++)
        if (wf->states[s].parent < 0)
            dot_state(&b, wf, s);
    cf__buf_puts(&b, "  \"__start\" -> ");
    dot_quoted(&b, wf->states[wf->initial].name);
    cf__buf_puts(&b, ";\n");
    for (int i = 0; i < wf->ntrans; i++) {
        const cf__transition *t = &wf->trans[i];
        if (!drawn(wf, t) || stays_in_parent(wf, t))
            continue;
        cf__buf label = {0};
        transition_label(&label, wf, t);
        dot_edge(&b, wf, t->from, t->to, t->source, t->target, label.data ? label.data : "",
                 "", t->reenter ? ", style=bold" : "");
        if (label.oom)
            b.oom = true;
        cf__buf_free(&label);
    }
    for (int s = 0; s < wf->nstates; s++) {
        const cf__state *st = &wf->states[s];
        for (int k = 0; k < st->ntimers; k++) {
            const cf__timer_def *td = &st->timers[k];
            /* a parent's timer, drawn from the leaf it enters first */
            int first = wf->first[(size_t)st->leaf * (size_t)wf->nevents + (size_t)td->event];
            cf__buf label = {0};
            cf__buf_printf(&label, DOT_TIMER " %s " DOT_ARROW " %s%s", td->name, wf->events[td->event],
                           first < 0 ? " (no transition)" : "");
            dot_edge(&b, wf, st->leaf, first < 0 ? st->leaf : wf->trans[first].to, s,
                     first < 0 ? -1 : wf->trans[first].target, label.data ? label.data : "", "style=dashed, ", "");
            if (label.oom)
                b.oom = true;
            cf__buf_free(&label);
        }
    }
    cf__buf_puts(&b, "}\n");
    if (b.oom) {
        cf__buf_free(&b);
        return cf__fail(err, CF_ENOMEM, "out of memory rendering workflow '%s'", wf->name);
    }
    *out = b.data;
    return CF_OK;
}
