/*
 * workflow_graph.c — cf_workflow_graph: a workflow drawn for people to read, as
 * Graphviz DOT or a Mermaid state diagram, with options: a state's transitions to
 * itself grouped into one edge, labels without guards, one lifecycle phase (a
 * state and the states inside it), and one state highlighted (an instance's).
 * cf_workflow_dot (workflow_dot.c) stays the complete, one-edge-per-transition
 * rendering.
 */
#include "wf_build.h"

#include <ctype.h>

typedef struct graph {
    const cf__workflow *wf;
    const cf_graph_options *o;
    bool mermaid;
    int highlight; /* state index or -1 */
    cf__buf *loops;  /* per state: labels of its self-loops (transitions), "\n"-separated */
    cf__buf *tloops; /* per state: labels of its self-loop timers */
    cf__buf out;
} graph;

static void quoted(cf__buf *b, const char *s)
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

/* A Mermaid state id: the name with every character but letters and digits as '_'. */
static void mid(cf__buf *b, const char *s)
{
    for (; *s; s++) {
        char c = isalnum((unsigned char)*s) ? *s : '_';
        cf__buf_append(b, &c, 1);
    }
}

/* A Mermaid label: no new lines (<br/>), no ';' or '#' (they end or escape a statement). */
static void mlabel(cf__buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            cf__buf_puts(b, "<br/>");
        else if (*s == ';' || *s == '#')
            cf__buf_puts(b, ",");
        else
            cf__buf_append(b, s, 1);
    }
}

static bool in_phase(const graph *g, int s)
{
    return !g->o->phase || cf_state_in(g->wf->states[s].name, g->o->phase);
}

static void label_of(const graph *g, cf__buf *label, const cf__transition *t)
{
    cf__buf_puts(label, g->wf->events[t->event]);
    if (t->nguards && !g->o->no_guards) {
        cf__buf_puts(label, " [");
        for (int k = 0; k < t->nguards; k++) {
            cf__buf_puts(label, k ? ", " : "");
            cf__buf_puts(label, t->guards[k].name);
        }
        cf__buf_puts(label, "]");
    }
}

static bool stays_in_parent(const cf__workflow *wf, const cf__transition *t)
{
    return wf->states[t->source].initial >= 0 && t->target == t->source;
}

static bool drawn(const cf__workflow *wf, const cf__transition *t)
{
    return t->from == wf->states[t->source].leaf;
}

static void ind(cf__buf *b, int depth)
{
    for (int i = 0; i <= depth; i++)
        cf__buf_puts(b, "  ");
}

static void node(graph *g, int s)
{
    const cf__state *st = &g->wf->states[s];
    cf__buf *b = &g->out;
    ind(b, st->depth);
    if (g->mermaid) {
        mid(b, st->name);
        cf__buf_puts(b, " : ");
        mlabel(b, st->key);
        cf__buf_puts(b, "\n");
        return;
    }
    quoted(b, st->name);
    cf__buf_puts(b, " [label=");
    quoted(b, st->key);
    if (st->terminal)
        cf__buf_puts(b, ", shape=doublecircle");
    if (s == g->highlight)
        cf__buf_puts(b, ", style=filled, fillcolor=gold, penwidth=3");
    cf__buf_puts(b, "];\n");
}

static void state_block(graph *g, int s)
{
    const cf__workflow *wf = g->wf;
    const cf__state *st = &wf->states[s];
    cf__buf *b = &g->out;
    if (st->initial < 0) {
        node(g, s);
        return;
    }
    ind(b, st->depth);
    if (g->mermaid) {
        cf__buf_puts(b, "state ");
        mid(b, st->name);
        cf__buf_puts(b, " {\n");
    } else {
        cf__buf_puts(b, "subgraph ");
        cf__buf tmp = {0};
        cf__buf_printf(&tmp, "cluster_%s", st->name);
        quoted(b, tmp.data ? tmp.data : "");
        if (tmp.oom)
            b->oom = true;
        cf__buf_free(&tmp);
        cf__buf_puts(b, " {\n");
        cf__buf label = {0};
        cf__buf_puts(&label, st->key);
        for (int i = 0; i < wf->ntrans; i++) {
            const cf__transition *t = &wf->trans[i];
            if (t->source != s || !stays_in_parent(wf, t) || !drawn(wf, t))
                continue;
            cf__buf_puts(&label, "\n");
            label_of(g, &label, t);
        }
        ind(b, st->depth + 1);
        cf__buf_puts(b, "label=");
        quoted(b, label.data ? label.data : "");
        cf__buf_puts(b, ";\n");
        if (label.oom)
            b->oom = true;
        cf__buf_free(&label);
    }
    for (int k = s + 1; k < wf->nstates; k++)
        if (wf->states[k].parent == s)
            state_block(g, k);
    ind(b, st->depth);
    cf__buf_puts(b, g->mermaid ? "}\n" : "}\n");
}

static void edge(graph *g, int from, int to, int source, int target, const char *label, bool dashed, bool bold)
{
    const cf__workflow *wf = g->wf;
    cf__buf *b = &g->out;
    if (g->mermaid) {
        cf__buf_puts(b, "  ");
        mid(b, wf->states[from].name);
        cf__buf_puts(b, " --> ");
        mid(b, wf->states[to].name);
        cf__buf_puts(b, " : ");
        mlabel(b, label);
        cf__buf_puts(b, "\n");
        return;
    }
    cf__buf_puts(b, "  ");
    quoted(b, wf->states[from].name);
    cf__buf_puts(b, " -> ");
    quoted(b, wf->states[to].name);
    cf__buf_puts(b, " [");
    if (dashed)
        cf__buf_puts(b, "style=dashed, ");
    cf__buf_puts(b, "label=");
    quoted(b, label);
    if (source >= 0 && wf->states[source].initial >= 0 && !wf_inside(wf, to, source)) {
        cf__buf_printf(b, ", ltail=");
        cf__buf tmp = {0};
        cf__buf_printf(&tmp, "cluster_%s", wf->states[source].name);
        quoted(b, tmp.data ? tmp.data : "");
        cf__buf_free(&tmp);
    }
    if (target >= 0 && wf->states[target].initial >= 0 && !wf_inside(wf, from, target)) {
        cf__buf_printf(b, ", lhead=");
        cf__buf tmp = {0};
        cf__buf_printf(&tmp, "cluster_%s", wf->states[target].name);
        quoted(b, tmp.data ? tmp.data : "");
        cf__buf_free(&tmp);
    }
    if (bold)
        cf__buf_puts(b, ", style=bold");
    cf__buf_puts(b, "];\n");
}

/* One edge, or a line of the state's group of self-loops. */
static void add_edge(graph *g, int from, int to, int source, int target, const char *label, bool timer, bool bold)
{
    if (!in_phase(g, from) || !in_phase(g, to))
        return;
    if (g->o->group_self_loops && from == to) {
        cf__buf *grp = timer ? &g->tloops[from] : &g->loops[from];
        cf__buf_puts(grp, grp->len ? "\n" : "");
        cf__buf_puts(grp, label);
        return;
    }
    edge(g, from, to, source, target, label, timer, bold);
}

static int render(graph *g)
{
    const cf__workflow *wf = g->wf;
    cf__buf *b = &g->out;
    if (g->mermaid) {
        cf__buf_puts(b, "stateDiagram-v2\n  direction LR\n");
    } else {
        cf__buf_puts(b, "digraph ");
        quoted(b, wf->name);
        cf__buf_puts(b, " {\n  rankdir=LR;\n  compound=true;\n  node [shape=circle];\n");
        if (wf->description) {
            cf__buf_puts(b, "  label=");
            quoted(b, wf->description);
            cf__buf_puts(b, ";\n  labelloc=t;\n");
        }
        cf__buf_puts(b, "  \"__start\" [shape=point];\n");
    }
    /* the states of the phase: each outermost one with what it holds */
    for (int s = 0; s < wf->nstates; s++)
        if (in_phase(g, s) && (wf->states[s].parent < 0 || !in_phase(g, wf->states[s].parent)))
            state_block(g, s);
    int start = wf->states[wf->initial].leaf;
    if (in_phase(g, start)) {
        if (g->mermaid) {
            cf__buf_puts(b, "  [*] --> ");
            mid(b, wf->states[start].name);
            cf__buf_puts(b, "\n");
        } else {
            cf__buf_puts(b, "  \"__start\" -> ");
            quoted(b, wf->states[wf->initial].name);
            cf__buf_puts(b, ";\n");
        }
    }
    for (int i = 0; i < wf->ntrans; i++) {
        const cf__transition *t = &wf->trans[i];
        if (!drawn(wf, t) || stays_in_parent(wf, t))
            continue;
        cf__buf label = {0};
        label_of(g, &label, t);
        add_edge(g, t->from, t->to, t->source, t->target, label.data ? label.data : "", false, t->reenter);
        if (label.oom)
            b->oom = true;
        cf__buf_free(&label);
    }
    for (int s = 0; s < wf->nstates; s++) {
        const cf__state *st = &wf->states[s];
        for (int k = 0; k < st->ntimers; k++) {
            const cf__timer_def *td = &st->timers[k];
            int first = wf->first[(size_t)st->leaf * (size_t)wf->nevents + (size_t)td->event];
            cf__buf label = {0};
            cf__buf_printf(&label, "timer %s: %s%s", td->name, wf->events[td->event],
                           first < 0 ? " (no transition)" : "");
            add_edge(g, st->leaf, first < 0 ? st->leaf : wf->trans[first].to, s,
                     first < 0 ? -1 : wf->trans[first].target, label.data ? label.data : "", true, false);
            if (label.oom)
                b->oom = true;
            cf__buf_free(&label);
        }
    }
    for (int s = 0; s < wf->nstates; s++) {
        if (g->loops[s].len)
            edge(g, s, s, -1, -1, g->loops[s].data, false, false);
        if (g->tloops[s].len)
            edge(g, s, s, -1, -1, g->tloops[s].data, true, false);
        if (g->loops[s].oom || g->tloops[s].oom)
            b->oom = true;
    }
    if (g->mermaid) {
        for (int s = 0; s < wf->nstates; s++) {
            if (!in_phase(g, s) || wf->states[s].initial >= 0 || !wf->states[s].terminal)
                continue;
            cf__buf_puts(b, "  ");
            mid(b, wf->states[s].name);
            cf__buf_puts(b, " --> [*]\n");
        }
        if (g->highlight >= 0) {
            cf__buf_puts(b, "  classDef current fill:#ffd700,stroke-width:3px\n  class ");
            mid(b, wf->states[g->highlight].name);
            cf__buf_puts(b, " current\n");
        }
    } else {
        cf__buf_puts(b, "}\n");
    }
    return b->oom ? CF_ENOMEM : CF_OK;
}

int cf__workflow_graph(const cf__workflow *wf, const cf_graph_options *o, char **out, cf__err *err)
{
    *out = NULL;
    graph g;
    memset(&g, 0, sizeof g);
    g.wf = wf;
    g.o = o;
    g.highlight = -1;
    if (o->format && strcmp(o->format, "dot") != 0 && strcmp(o->format, "mermaid") != 0)
        return cf__fail(err, CF_EINVAL, "graph format '%s' is not one of dot, mermaid", o->format);
    g.mermaid = o->format && strcmp(o->format, "mermaid") == 0;
    bool any = !o->phase;
    for (int s = 0; s < wf->nstates && !any; s++)
        any = in_phase(&g, s);
    if (!any)
        return cf__fail(err, CF_ENOTFOUND, "workflow '%s' has no state '%s' to draw (give a state or parent state "
                        "by its full path)", wf->name, o->phase);
    if (o->highlight) {
        for (int s = 0; s < wf->nstates; s++)
            if (strcmp(wf->states[s].name, o->highlight) == 0)
                g.highlight = s;
        if (g.highlight < 0)
            return cf__fail(err, CF_ENOTFOUND, "workflow '%s' has no state '%s' to highlight", wf->name, o->highlight);
    }
    g.loops = calloc((size_t)wf->nstates, sizeof *g.loops);
    g.tloops = calloc((size_t)wf->nstates, sizeof *g.tloops);
    int rc = g.loops && g.tloops ? render(&g) : CF_ENOMEM;
    for (int s = 0; g.loops && g.tloops && s < wf->nstates; s++) {
        cf__buf_free(&g.loops[s]);
        cf__buf_free(&g.tloops[s]);
    }
    free(g.loops);
    free(g.tloops);
    if (rc != CF_OK) {
        cf__buf_free(&g.out);
        return cf__fail(err, CF_ENOMEM, "out of memory rendering workflow '%s'", wf->name);
    }
    *out = g.out.data;
    return CF_OK;
}
