/*
 * workflow_dot.c — a compiled workflow as Graphviz DOT: states as nodes, parents
 * as clusters (subgraph cluster_...), one edge per transition as declared, and a
 * dashed edge per timer.
 */
#include "internal.h"

#include <stdbool.h>
#include <string.h>

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

int cf__workflow_dot(const cf__workflow *wf, char **out, cf__err *err)
{
    *out = NULL;
    if (!wf)
        return cf__fail(err, CF_EINVAL, "no workflow given");
    cf__buf b = {0};
    cf__buf_puts(&b, "digraph ");
    dot_quoted(&b, wf->name);
    cf__buf_puts(&b, " {\n  rankdir=LR;\n");
    if (wf->description) {
        cf__buf_puts(&b, "  label=");
        dot_quoted(&b, wf->description);
        cf__buf_puts(&b, ";\n  labelloc=t;\n");
    }
    cf__buf_puts(&b, "  node [shape=circle];\n");
    /* "__start" cannot clash with a state: state names start with a letter. */
    cf__buf_puts(&b, "  \"__start\" [shape=point];\n");
    for (int s = 0; s < wf->nstates; s++) {
        cf__buf_puts(&b, "  ");
        dot_quoted(&b, wf->states[s].name);
        cf__buf_puts(&b, wf->states[s].terminal ? " [shape=doublecircle];\n" : ";\n");
    }
    cf__buf_puts(&b, "  \"__start\" -> ");
    dot_quoted(&b, wf->states[wf->initial].name);
    cf__buf_puts(&b, ";\n");
    for (int i = 0; i < wf->ntrans; i++) {
        const cf__transition *t = &wf->trans[i];
        cf__buf label = {0};
        cf__buf_puts(&label, wf->events[t->event]);
        if (t->nguards) {
            cf__buf_puts(&label, " [");
            for (int g = 0; g < t->nguards; g++) {
                cf__buf_puts(&label, g ? ", " : "");
                cf__buf_puts(&label, t->guards[g].name);
            }
            cf__buf_puts(&label, "]");
        }
        cf__buf_puts(&b, "  ");
        dot_quoted(&b, wf->states[t->from].name);
        cf__buf_puts(&b, " -> ");
        dot_quoted(&b, wf->states[t->to].name);
        cf__buf_puts(&b, " [label=");
        dot_quoted(&b, label.data ? label.data : "");
        cf__buf_puts(&b, t->reenter ? ", style=bold];\n" : "];\n");
        if (label.oom)
            b.oom = true;
        cf__buf_free(&label);
    }
    for (int s = 0; s < wf->nstates; s++) {
        const cf__state *st = &wf->states[s];
        for (int k = 0; k < st->ntimers; k++) {
            const cf__timer_def *td = &st->timers[k];
            int first = wf->first[(size_t)s * (size_t)wf->nevents + (size_t)td->event];
            cf__buf label = {0};
            cf__buf_printf(&label, DOT_TIMER " %s " DOT_ARROW " %s%s", td->name, wf->events[td->event],
                           first < 0 ? " (no transition)" : "");
            cf__buf_puts(&b, "  ");
            dot_quoted(&b, st->name);
            cf__buf_puts(&b, " -> ");
            dot_quoted(&b, wf->states[first < 0 ? s : wf->trans[first].to].name);
            cf__buf_puts(&b, " [style=dashed, label=");
            dot_quoted(&b, label.data ? label.data : "");
            cf__buf_puts(&b, "];\n");
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
