/*
 * wf_build.h — what the files that compile a workflow share: the arena
 * that owns a compiled workflow's strings and arrays, the validation context and
 * its messages, and the transitions as read from the file. workflow.c reads and
 * checks the file's table; hierarchy.c builds the tree of nested states;
 * workflow_compile.c turns the transitions into the arrays firing walks;
 * workflow_dot.c renders the result. Nothing here is used outside those files.
 */
#ifndef CF_WF_BUILD_H
#define CF_WF_BUILD_H

#include "internal.h"
#include "policy/sandbox.h"

#include <lua.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WF_NAME_MAX 64 /* longest state/event/link/timer/workflow name */
#define TP_MAX 512     /* longest path in the table quoted in a message */
/* Most entries in any one list or map of a workflow (states, events, transitions,
 * from, guards, ...), and most (from-state, event) pairs the transitions expand to.
 * Found while fuzzing the loader: without them a file of a few lines could make
 * loading quadratic (200,000 events took minutes) or allocate states x events
 * cells far past the Lua state's memory cap. */
#define WF_MAX_ENTRIES 1000
#define WF_MAX_EXPANDED 10000
/* Deepest nesting of states (a state at the top is at depth 0): keeps a full
 * path ("a.b.c") short enough for every message and row that quotes it. */
#define WF_MAX_DEPTH 8
#define WF_PATH_MAX 255 /* longest full path ("certified.suspended"): a name on the command line */

/* ---------- the arena: every string and array of a compiled workflow ---------- */

typedef struct arena_node {
    struct arena_node *next;
    max_align_t mem[]; /* the allocation itself, suitably aligned */
} arena_node;

typedef struct wf_arena {
    arena_node *nodes;
    int *event_by_name; /* event indices sorted by name, for cf__workflow_event */
    int *state_by_key;  /* state indices sorted by key, for cf__workflow_state */
} wf_arena;

static inline void *arena_alloc(wf_arena *a, size_t size)
{
    arena_node *n = malloc(sizeof *n + (size ? size : 1));
    if (!n)
        return NULL;
    n->next = a->nodes;
    a->nodes = n;
    memset(n->mem, 0, size ? size : 1);
    return n->mem;
}

static inline char *arena_strdup(wf_arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* ---------- validation context and messages ---------- */

typedef struct ctx {
    lua_State *L;
    const char *path;
    cf__err *err;
    cf__resolve_fn resolve;
    void *resolve_ud;
    cf__workflow *wf;
    wf_arena *arena;
    cf__sandbox *lim;
    uint32_t time_ms; /* wall-clock limit of running the file */
    int rc; /* result of the walk, read after the protected call returns */
    const char **state_names; /* sorted, for hints */
} ctx;

static inline int oom(ctx *c)
{
    return cf__fail(c->err, CF_ENOMEM, "%s: out of memory while compiling the workflow", c->path);
}

/* snprintf that may truncate on purpose: paths and hints are bounded. */
static inline void sfmt(char *out, size_t size, const char *fmt, ...) CF__PRINTF(3, 4);
static inline void sfmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

/* "<file>: <path in table>: <problem> (hint: <hint>)" */
static inline int bad(ctx *c, const char *tp, const char *hint, const char *fmt, ...) CF__PRINTF(4, 5);
static inline int bad(ctx *c, const char *tp, const char *hint, const char *fmt, ...)
{
    char problem[CF__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return cf__fail(c->err, CF_EWORKFLOW, "%s: %s: %s (hint: %s)", c->path, tp, problem, hint);
}

static inline void join_key(char *out, const char *tp, const char *key)
{
    if (*tp)
        sfmt(out, TP_MAX, "%s.%s", tp, key);
    else
        sfmt(out, TP_MAX, "%s", key);
}

static inline void join_index(char *out, const char *tp, long long i)
{
    sfmt(out, TP_MAX, "%s[%lld]", tp, i);
}

/* "did you mean 'x'? <where>" or just "<where>", into hint. */
static inline void closest_hint(char *hint, size_t size, const char *name, const char *const *cands, size_t n,
                                const char *where)
{
    const char *best = cf__closest(name, cands, n);
    if (best)
        sfmt(hint, size, "did you mean '%s'? %s", best, where);
    else
        sfmt(hint, size, "%s", where);
}

/* event_data.c: the workflow's optional `event_data` (table at absolute index t). */
int cf__wf_load_event_data(ctx *c, int t);

/* One transition as written in the file, before expanding `from`. */
typedef struct file_trans {
    int *froms;
    int nfrom;
    int event, to;
    bool reenter;
    cf__fnref *guards;
    int nguards;
    cf__fnref *actions;
    int nactions;
    cf__send_def *sends;
    int nsends;
} file_trans;

/* ---------- hierarchy.c: the tree of nested states ---------- */

/* Is state s strictly inside state p (p one of its ancestors)? Once the tree is built. */
static inline bool wf_inside(const cf__workflow *wf, int s, int p)
{
    int d = wf->states[p].depth;
    return wf->states[s].depth > d && wf->states[s].chain[d] == p;
}

/* Build the tree once the states' keys are known (wf->states[i].key, sorted by key,
 * and c->state_names): parents[i] and initials[i] are what state i declares as
 * `parent` and `initial` (NULL: nothing). Checks the tree (unknown parent, a cycle,
 * too deep, a parent without an initial child or with one that is not its child,
 * `initial` on a state without children), then gives each state its full path,
 * re-sorts the states by path and fills parent, initial, leaf, depth, chain and
 * leaves. */
int cf__wf_tree(ctx *c, const char **parents, const char **initials);
/* Fill tr->to, exits and enters from tr->from (a leaf), source, target and
 * reenter (see docs/workflows.md, "Nested states"). */
int cf__wf_transition_path(ctx *c, cf__transition *tr);

/* ---------- workflow_compile.c: the arrays firing walks ---------- */

/* Expand the file's n transitions into the compiled ones (one per leaf they apply
 * in), chain the candidates of each (leaf, event) innermost source first, and
 * refuse duplicates and transitions that can never be chosen. */
int cf__wf_link_transitions(ctx *c, file_trans *fts, int n);
/* Every state can be reached from the initial state. */
int cf__wf_check_reachable(ctx *c);

#endif
