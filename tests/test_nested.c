/* test_nested.c — nested states (docs/workflows.md, "Nested states"): the tree's
 * validation messages, the compiled form (candidates innermost first, exit and
 * entry sets as indices), and an engine running tests/fixtures/nested/licence.lua
 * on a virtual clock: entering a parent enters its initial child, a parent's
 * transitions apply in its children (a child's own first), a parent's timers run
 * until the parent is left, full paths in the API and history, queries that
 * match a parent, verify, and DOT clusters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N(a) (sizeof(a) / sizeof *(a))
#define FIX CF_TEST_FIXTURES "/nested"

/* ---- the compiled form and its validation (no engine) ---- */

/* Every guard, action and deadline name is defined. */
static bool any_name(void *ud, cf__role role, const char *name, cf__fnref *out)
{
    (void)ud;
    (void)role;
    (void)name;
    out->kind = CF__FN_POLICY;
    out->index = 0;
    return true;
}

static cf__workflow *compile(const char *src, cf__err *err, int expect)
{
    cf__workflow *wf = NULL;
    int rc = cf__workflow_compile("t.lua", src, strlen(src), any_name, NULL, &wf, err);
    if (rc != expect)
        fail_msg("compile: got %s, expected %s: %s", cf_result_name(rc), cf_result_name(expect), err->msg);
    return wf;
}

static cf__workflow *licence(void)
{
    cf__err err = {""};
    cf__workflow *wf = NULL;
    int rc = cf__workflow_load_file(FIX "/workflows/licence.lua", any_name, NULL, &wf, &err);
    if (rc != CF_OK)
        fail_msg("%s", err.msg);
    return wf;
}

static int st(const cf__workflow *wf, const char *name)
{
    int s = cf__workflow_state(wf, name);
    if (s < 0)
        fail_msg("no state %s", name);
    return s;
}

static void test_tree_compiled(void **state)
{
    (void)state;
    cf__workflow *wf = licence();
    /* sorted by full path: a parent right before its children */
    static const char *const paths[] = {"applied", "held", "held.active", "held.suspended", "lapsed", "revoked"};
    assert_int_equal(wf->nstates, (int)N(paths));
    for (int i = 0; i < wf->nstates; i++)
        assert_string_equal(wf->states[i].name, paths[i]);
    int held = st(wf, "held"), active = st(wf, "held.active"), susp = st(wf, "held.suspended");
    /* by key or by path */
    assert_int_equal(st(wf, "active"), active);
    assert_int_equal(st(wf, "suspended"), susp);
    assert_int_equal(cf__workflow_state(wf, "held.nope"), -1);
    assert_int_equal(cf__workflow_state(wf, "applied.active"), -1);
    assert_string_equal(wf->states[active].key, "active");
    assert_int_equal(wf->states[active].parent, held);
    assert_int_equal(wf->states[held].initial, active);
    assert_int_equal(wf->states[held].leaf, active);
    assert_int_equal(wf->states[susp].depth, 1);
    assert_int_equal(wf->states[susp].nchain, 2);
    assert_int_equal(wf->states[susp].chain[0], held);
    assert_int_equal(wf->states[susp].chain[1], susp);
    assert_int_equal(wf->states[held].nleaves, 2);
    assert_int_equal(wf->initial, st(wf, "applied"));

    /* revoke in held.active: the child's transition first, then the parent's */
    int ev = cf__workflow_event(wf, "revoke");
    int k = wf->first[active * wf->nevents + ev];
    assert_true(k >= 0);
    assert_int_equal(wf->trans[k].source, active);
    assert_int_equal(wf->trans[k].decl, 6);
    k = wf->trans[k].next;
    assert_true(k >= 0);
    assert_int_equal(wf->trans[k].source, held);
    assert_int_equal(wf->trans[k].from, active);
    assert_int_equal(wf->trans[k].decl, 7);
    assert_int_equal(wf->trans[k].next, -1);
    /* ... and in held.suspended only the parent's, which leaves suspended then held */
    k = wf->first[susp * wf->nevents + ev];
    assert_int_equal(wf->trans[k].source, held);
    assert_int_equal(wf->trans[k].next, -1);
    assert_int_equal(wf->trans[k].nexits, 2);
    assert_int_equal(wf->trans[k].exits[0], susp);
    assert_int_equal(wf->trans[k].exits[1], held);
    assert_int_equal(wf->trans[k].nenters, 1);
    assert_int_equal(wf->trans[k].to, st(wf, "revoked"));
    /* grant enters held then its initial child */
    k = wf->first[st(wf, "applied") * wf->nevents + cf__workflow_event(wf, "grant")];
    assert_int_equal(wf->trans[k].to, active);
    assert_int_equal(wf->trans[k].nenters, 2);
    assert_int_equal(wf->trans[k].enters[0], held);
    assert_int_equal(wf->trans[k].enters[1], active);
    /* between siblings: held is neither left nor entered */
    k = wf->first[active * wf->nevents + cf__workflow_event(wf, "suspend")];
    assert_int_equal(wf->trans[k].nexits, 1);
    assert_int_equal(wf->trans[k].exits[0], active);
    assert_int_equal(wf->trans[k].nenters, 1);
    assert_int_equal(wf->trans[k].enters[0], susp);
    /* internal on the parent: stays in the leaf, nothing left or entered */
    k = wf->first[susp * wf->nevents + cf__workflow_event(wf, "note")];
    assert_int_equal(wf->trans[k].to, susp);
    assert_int_equal(wf->trans[k].nexits + wf->trans[k].nenters, 0);
    /* re-entering the parent from suspended: out to held and back in to active */
    k = wf->first[susp * wf->nevents + cf__workflow_event(wf, "reset")];
    assert_int_equal(wf->trans[k].to, active);
    assert_int_equal(wf->trans[k].nexits, 2);
    assert_int_equal(wf->trans[k].nenters, 2);
    assert_int_equal(wf->trans[k].enters[0], held);
    /* a parent is never the current state: no candidates of its own */
    for (int e = 0; e < wf->nevents; e++)
        assert_int_equal(wf->first[held * wf->nevents + e], -1);
    const cf__timer_def *td = cf__workflow_timer(wf, susp, "term", &k);
    assert_non_null(td);
    assert_int_equal(k, held);
    assert_null(cf__workflow_timer(wf, susp, "warning", NULL));
    cf__workflow_free(wf);
}

/* The messages of the tree's mistakes, each exactly as docs/workflows.md quotes it. */
static const struct {
    const char *src, *message;
} tree_errors[] = {
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'hld' }, "
     "held = { initial = 'a' } }, transitions = {} }",
     "t.lua: states.b.parent: unknown parent state 'hld' (hint: did you mean 'held'? states are declared under "
     "'states')"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'held' }, "
     "held = {} }, transitions = {} }",
     "t.lua: states.held: state 'held' has children (b) but no initial child (hint: add initial = \"b\" (one of "
     "b): the child a transition into 'held' enters)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'held' }, "
     "held = { initial = 'a' } }, transitions = {} }",
     "t.lua: states.held.initial: initial child 'a' is not a child of 'held' (hint: name one of its children "
     "(b), or give 'a' parent = \"held\")"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = { initial = 'b' }, b = {} }, "
     "transitions = {} }",
     "t.lua: states.a.initial: state 'a' has no children, so it has no initial child (hint: remove initial, or "
     "give its children parent = \"a\")"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = { parent = 'b', initial = 'b' }, "
     "b = { parent = 'a', initial = 'a' } }, transitions = {} }",
     "t.lua: states.a.parent: the parents form a cycle: a -> b -> a (hint: a state cannot contain itself: "
     "remove one of these parents)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = { parent = 'a', initial = 'a' } }, "
     "transitions = {} }",
     "t.lua: states.a.parent: the parents form a cycle: a -> a (hint: a state cannot contain itself: remove one "
     "of these parents)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'p' }, "
     "p = { initial = 'b', terminal = true } }, transitions = { { from = 'a', event = 'go', to = 'p' } } }",
     "t.lua: states.p.terminal: state 'p' has children and cannot be terminal (hint: remove terminal from 'p', "
     "and add a terminal state outside it)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'p' }, "
     "done = { parent = 'p', terminal = true }, p = { initial = 'b' } }, transitions = { { from = 'a', event = "
     "'go', to = 'p' }, { from = 'b', event = 'go', to = 'done' } } }",
     "t.lua: states.done.terminal: terminal state 'p.done' cannot be inside a parent (hint: put 'done' at the top "
     "level (remove its parent): a parent's transitions and timers apply in every state inside it)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'p' }, "
     "p = { initial = 'b' } }, transitions = { { from = 'a', event = 'go', to = 'p' }, "
     "{ from = { 'b', 'p' }, event = 'go', to = 'a' } } }",
     "t.lua: transitions[2].from[2]: state 'p.b' is inside 'p', which the list names too (hint: list only 'p': a "
     "transition declared on a parent applies in its children)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 7 } }, "
     "transitions = {} }",
     "t.lua: states.b.parent: expected a string, got number (hint: write parent = \"name\": the state this one is "
     "a child of)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'p' }, "
     "c = { parent = 'p' }, p = { initial = 'b' } },"
     " transitions = { { from = 'a', event = 'go', to = 'p' }, { from = 'p', event = 'go', to = 'a' },"
     " { from = 'p', event = 'go', to = 'c', guard = 'g' } } }",
     "t.lua: transitions[3]: can never be chosen: transitions[2] has no guard and takes event 'go' from 'p' first "
     "(hint: move it above transitions[2], or give transitions[2] a guard)"},
    {"return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = { parent = 'p' }, "
     "c = { parent = 'p' }, p = { initial = 'b' } }, transitions = { { from = 'a', event = 'go', to = 'p' } } }",
     "t.lua: states.c: state 'p.c' cannot be reached from the initial state 'a' (hint: add a transition into "
     "it or remove it)"},
};

static void test_tree_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(tree_errors); i++) {
        cf__err err = {""};
        cf__workflow *wf = NULL;
        int rc = cf__workflow_compile("t.lua", tree_errors[i].src, strlen(tree_errors[i].src), any_name, NULL, &wf,
                                      &err);
        if (rc != CF_EWORKFLOW || strcmp(err.msg, tree_errors[i].message) != 0)
            fail_msg("case %zu:\n  got:      %s\n  expected: %s", i + 1, err.msg, tree_errors[i].message);
        assert_null(wf);
    }
}

/* Nine levels of parents are one too many; so is a full path past 255 characters. */
static void test_tree_limits(void **state)
{
    (void)state;
    char src[8192];
    /* s<i> has parent s<i-1>, and each parent starts at its child */
    size_t n = (size_t)snprintf(src, sizeof src, "return { name = 'm', initial = 's0', events = { 'go' }, states = {");
    for (int i = 0; i <= 9; i++) {
        char parent[32] = "", initial[32] = "";
        if (i)
            snprintf(parent, sizeof parent, "parent = 's%d',", i - 1);
        if (i < 9)
            snprintf(initial, sizeof initial, "initial = 's%d'", i + 1);
        n += (size_t)snprintf(src + n, sizeof src - n, " s%d = { %s %s },", i, parent, initial);
    }
    snprintf(src + n, sizeof src - n, " }, transitions = {} }");
    cf__err err = {""};
    assert_null(compile(src, &err, CF_EWORKFLOW));
    assert_string_equal(err.msg, "t.lua: states.s9.parent: state 's9' is nested 9 levels deep, more than the limit "
                                 "of 8 (hint: nest fewer levels: a parent's children can be listed as siblings)");

    char a[65], b[65], c[65], d[65];
    memset(a, 'a', 64), memset(b, 'b', 64), memset(c, 'c', 64), memset(d, 'd', 64);
    a[64] = b[64] = c[64] = d[64] = '\0';
    snprintf(src, sizeof src,
             "return { name = 'm', initial = '%s', events = { 'go' }, states = { %s = { initial = '%s' }, "
             "%s = { parent = '%s', initial = '%s' }, %s = { parent = '%s', initial = '%s' }, %s = { parent = '%s' } "
             "}, transitions = {} }",
             a, a, b, b, a, c, c, b, d, d, c);
    assert_null(compile(src, &err, CF_EWORKFLOW));
    assert_non_null(strstr(err.msg, "characters, more than the limit of 255"));
}

/* A flat workflow compiles as before: every state is its own leaf and path. */
static void test_flat_unchanged(void **state)
{
    (void)state;
    cf__err err = {""};
    cf__workflow *wf = compile("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, "
                               "b = { terminal = true } }, transitions = { { from = '*', event = 'go', to = 'b' } } }",
                               &err, CF_OK);
    for (int s = 0; s < wf->nstates; s++) {
        assert_string_equal(wf->states[s].name, wf->states[s].key);
        assert_int_equal(wf->states[s].leaf, s);
        assert_int_equal(wf->states[s].nchain, 1);
        assert_int_equal(wf->states[s].parent, -1);
    }
    assert_int_equal(wf->ntrans, 1);
    assert_int_equal(wf->trans[0].source, wf->trans[0].from);
    assert_int_equal(wf->trans[0].target, wf->trans[0].to);
    char *dot = NULL;
    assert_int_equal(cf__workflow_dot(wf, &dot, &err), CF_OK);
    assert_null(strstr(dot, "cluster"));
    assert_null(strstr(dot, "compound"));
    free(dot);
    cf__workflow_free(wf);
}

/* "*" means every non-terminal leaf, not a parent: a parent's leaves get it once each. */
static void test_star_means_leaves(void **state)
{
    (void)state;
    cf__err err = {""};
    cf__workflow *wf = compile("return { name = 'm', initial = 'p', events = { 'go', 'x' }, states = { a = { parent "
                               "= 'p' }, b = { parent = 'p' }, p = { initial = 'a' }, z = { terminal = true } }, "
                               "transitions = { { from = 'a', event = 'x', to = 'b' }, "
                               "{ from = '*', event = 'go', to = 'z' } } }",
                               &err, CF_OK);
    assert_int_equal(wf->ntrans, 3); /* a->b, then go from p.a and p.b */
    assert_int_equal(wf->trans[1].source, st(wf, "p.a"));
    assert_int_equal(wf->trans[2].source, st(wf, "p.b"));
    cf__workflow_free(wf);
}

/* ---- the engine on the licence workflow ---- */

typedef struct fixture {
    char *dir;
    cft_clock clock;
    cf_engine *e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    char *db = cft_path(f->dir, "t.db");
    f->clock.now = cft_time("2025-03-03T17:00:00Z");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = FIX "/workflows";
    o.policy_dir = FIX "/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    o.lua_time_limit_ms = 600000;
    int rc = cf_engine_open(db, &o, &f->e);
    if (rc != CF_OK)
        fail_msg("open: %s", cf_errmsg(f->e));
    free(db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cf_engine_close(f->e);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static char *data_of(fixture *f, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    return strdup(info.data);
}

/* The data's log, "" if none. */
static void expect_log(fixture *f, const char *id, const char *want)
{
    char *d = data_of(f, id);
    char needle[512];
    snprintf(needle, sizeof needle, "\"log\":\"%s\"", want);
    if (!strstr(d, needle))
        fail_msg("data %s lacks %s", d, needle);
    free(d);
}

typedef struct timers {
    int n;
    char text[1024];
} timers;

static int timer_row(void *ud, const cf_timer_info *t)
{
    timers *ts = ud;
    char due[32];
    cf_time_format(t->due, due, sizeof due);
    size_t used = strlen(ts->text);
    snprintf(ts->text + used, sizeof ts->text - used, "%s%s/%s@%s", ts->n++ ? " " : "", t->state, t->name, due);
    return 0;
}

static void expect_timers(fixture *f, const char *want)
{
    timers ts = {0, ""};
    assert_int_equal(cf_timer_list(f->e, 0, cft_time("2100-01-01T00:00:00Z"), timer_row, &ts), CF_OK);
    assert_string_equal(ts.text, want);
}

/* verify passes, and checked the parent's timers against the instance's state */
static void verified(fixture *f)
{
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(f->e, &rep) != CF_OK)
        fail_msg("verify: %s", cf_errmsg(f->e));
    assert_int_equal(rep.problems, 0);
    assert_true(rep.timers > 0);
}

static void granted(fixture *f, char id[37])
{
    assert_int_equal(cf_instance_create(f->e, "licence", "kern", NULL, "t", id), CF_OK);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, id, "grant", NULL, "t", NULL, &r), CF_OK);
    assert_string_equal(r.from_state, "applied");
    assert_string_equal(r.to_state, "held.active"); /* the full path, in the API */
}

static void test_entering_parent_enters_initial_child(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id);
    assert_string_equal(cft_state(f->e, id), "held.active");
    expect_log(f, id, "enter held,enter active");
    /* the parent's timer and the child's, each recorded with the state that declares it */
    expect_timers(f, "held.active/warning@2025-03-13T07:00:00Z held/term@2025-06-11T07:00:00Z");
    verified(f);
}

static void test_sibling_keeps_parent_timers(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id);
    f->clock.now = cft_time("2025-03-05T17:00:00Z");
    cft_fire(f->e, id, "suspend", NULL, CF_OK);
    assert_string_equal(cft_state(f->e, id), "held.suspended");
    /* active was left, held was not: its term stays where it was */
    expect_log(f, id, "enter held,enter active,exit active,enter suspended");
    expect_timers(f, "held/term@2025-06-11T07:00:00Z");
    cft_fire(f->e, id, "lift", NULL, CF_OK);
    expect_timers(f, "held.active/warning@2025-03-15T07:00:00Z held/term@2025-06-11T07:00:00Z");
    verified(f);
}

static void test_parent_transition_applies_in_children(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id);
    cft_fire(f->e, id, "suspend", NULL, CF_OK);
    /* internal on the parent: the leaf stays, nothing is left or entered, the policy sees the full path */
    cft_fire(f->e, id, "note", NULL, CF_OK);
    assert_string_equal(cft_state(f->e, id), "held.suspended");
    char *d = data_of(f, id);
    assert_non_null(strstr(d, "\"notes\":1"));
    assert_non_null(strstr(d, "\"noted_in\":\"held.suspended\""));
    free(d);
    expect_log(f, id, "enter held,enter active,exit active,enter suspended");
    expect_timers(f, "held/term@2025-06-11T07:00:00Z");
    /* the parent's revoke, in a child that has none: suspended then held are left */
    cft_fire(f->e, id, "revoke", NULL, CF_OK);
    assert_string_equal(cft_state(f->e, id), "revoked");
    expect_log(f, id, "enter held,enter active,exit active,enter suspended,exit suspended,exit held");
    expect_timers(f, "");
    /* an event no state of the chain takes is refused, naming the full path */
    char id2[37];
    assert_int_equal(cf_instance_create(f->e, "licence", "kern", NULL, "t", id2), CF_OK);
    cft_fire(f->e, id2, "grant", NULL, CF_OK);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, id2, "lift", NULL, "t", NULL, &r), CF_REJECTED);
    assert_non_null(strstr(r.reasons, "event 'lift' does not apply in state 'held.active'"));
    /* the parent's events are listed among those that do */
    assert_non_null(strstr(r.reasons, "note"));
    assert_non_null(strstr(r.reasons, "lapse"));
}

static void test_child_transition_wins(void **state)
{
    fixture *f = *state;
    char b[37];
    granted(f, b);
    /* c is flagged: the child's own revoke passes its guard and is taken */
    char c[37];
    assert_int_equal(cf_instance_create(f->e, "licence", "kern", "{\"flagged\":true}", "t", c), CF_OK);
    cft_fire(f->e, c, "grant", NULL, CF_OK);
    cft_fire(f->e, c, "revoke", NULL, CF_OK);
    /* every state left runs its exit actions before the transition's own */
    expect_log(f, c, "enter held,enter active,exit active,exit held,child revoke");
    /* b is not flagged: the child's guard fails, the parent's revoke is taken */
    cft_fire(f->e, b, "revoke", NULL, CF_OK);
    expect_log(f, b, "enter held,enter active,exit active,exit held");
    assert_string_equal(cft_state(f->e, b), "revoked");
}

static void test_parent_timer_fires_in_child(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id);
    cft_fire(f->e, id, "suspend", NULL, CF_OK);
    uint64_t fired = 0;
    f->clock.now = cft_time("2025-06-11T07:00:00Z");
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 1);
    assert_string_equal(cft_state(f->e, id), "lapsed");
    expect_log(f, id, "enter held,enter active,exit active,enter suspended,exit suspended,exit held");
}

static void test_reenter_parent(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id);
    cft_fire(f->e, id, "suspend", NULL, CF_OK);
    f->clock.now = cft_time("2025-04-01T17:00:00Z");
    cft_fire(f->e, id, "reset", NULL, CF_OK);
    /* out to held and back in to its initial child; the term starts again */
    assert_string_equal(cft_state(f->e, id), "held.active");
    expect_log(f, id,
               "enter held,enter active,exit active,enter suspended,exit suspended,exit held,enter held,enter active");
    expect_timers(f, "held.active/warning@2025-04-11T07:00:00Z held/term@2025-07-10T07:00:00Z");
    verified(f);
}

static int count_instance(void *ud, const cf_instance_info *i)
{
    (void)i;
    ++*(int *)ud;
    return 0;
}

static int count_list(fixture *f, const char *state)
{
    cf_instance_filter filter = CF_INSTANCE_FILTER_INIT;
    filter.state = state;
    int n = 0;
    assert_int_equal(cf_instance_list(f->e, &filter, count_instance, &n), CF_OK);
    return n;
}

static int count_history(void *ud, const cf_history_entry *h)
{
    (void)h;
    ++*(int *)ud;
    return 0;
}

static void test_queries_match_parent(void **state)
{
    fixture *f = *state;
    char a[37], b[37], c[37];
    granted(f, a);
    granted(f, b);
    cft_fire(f->e, b, "suspend", NULL, CF_OK);
    assert_int_equal(cf_instance_create(f->e, "licence", "kern", NULL, "t", c), CF_OK);
    assert_int_equal(count_list(f, "held"), 2);
    assert_int_equal(count_list(f, "held.active"), 1);
    assert_int_equal(count_list(f, "held.suspended"), 1);
    assert_int_equal(count_list(f, "hel"), 0);
    assert_int_equal(count_list(f, "applied"), 1);
    assert_int_equal(count_list(f, NULL), 3);
    /* history rows that end inside held: two grants and one suspend */
    cf_history_filter hf = CF_HISTORY_FILTER_INIT;
    hf.state = "held";
    int n = 0;
    assert_int_equal(cf_history_between(f->e, 0, cft_time("2100-01-01T00:00:00Z"), &hf, count_history, &n), CF_OK);
    assert_int_equal(n, 3);
    assert_int_equal(cf_state_in("held.active", "held"), 1);
    assert_int_equal(cf_state_in("held", "held"), 1);
    assert_int_equal(cf_state_in("heldx", "held"), 0);
    assert_int_equal(cf_state_in("held", "held.active"), 0);
    assert_int_equal(cf_state_in("anything", NULL), 1);
}

typedef struct choices {
    int lapse_by_timer, warn_by_timer, seen;
} choices;

static int choice(void *ud, const cf_event_choice *ch)
{
    choices *c = ud;
    c->seen++;
    if (strcmp(ch->event, "lapse") == 0)
        c->lapse_by_timer = ch->by_timer;
    if (strcmp(ch->event, "warn") == 0)
        c->warn_by_timer = ch->by_timer;
    return 0;
}

static void test_events_and_dot(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id);
    choices ch = {0, 0, 0};
    assert_int_equal(cf_instance_events(f->e, id, NULL, choice, &ch), CF_OK);
    assert_int_equal(ch.lapse_by_timer, 1); /* the parent's timer fires it */
    assert_int_equal(ch.warn_by_timer, 1);
    char *dot = NULL;
    assert_int_equal(cf_workflow_dot(f->e, "licence", &dot), CF_OK);
    assert_non_null(strstr(dot, "  compound=true;\n"));
    assert_non_null(strstr(dot, "  subgraph \"cluster_held\" {\n    label=\"held\\nnote\\nreset (re-enters)\";\n"
                                "    \"held.active\" [label=\"active\"];\n"
                                "    \"held.suspended\" [label=\"suspended\"];\n  }\n"));
    assert_non_null(strstr(dot, "  \"applied\" -> \"held.active\" [label=\"grant\", lhead=\"cluster_held\"];\n"));
    assert_non_null(strstr(dot, "  \"held.active\" -> \"revoked\" [label=\"revoke\", ltail=\"cluster_held\"];\n"));
    assert_non_null(strstr(dot, "  \"held.active\" -> \"revoked\" [label=\"revoke [flagged]\"];\n"));
    assert_non_null(strstr(dot, "  \"held.active\" -> \"lapsed\" [style=dashed, label=\"\xe2\x8f\xb1 term \xe2\x86\x92 "
                                "lapse\", ltail=\"cluster_held\"];\n"));
    /* drawn once, not once per child */
    const char *p = strstr(dot, "ltail=\"cluster_held\"];\n  \"held.suspended\" -> \"revoked\"");
    assert_null(p);
    cf_free(dot);
}

/* certflow list/due --state STATE: a parent matches its children. */
static void test_cli_state_filters(void **state)
{
    fixture *f = *state;
    char a[37], b[37];
    granted(f, a);
    granted(f, b);
    cft_fire(f->e, b, "suspend", NULL, CF_OK);
    const char *base[] = {"--db", "t.db", "--workflows", FIX "/workflows", "--policies", FIX "/lua", "--now",
                          "2025-03-03T17:00:00Z"};
    struct {
        const char *args[4];
        int lines; /* rows, header included */
        const char *has;
    } cases[] = {
        {{"list", "--state", "held", NULL}, 3, "held.suspended"},
        {{"list", "--state", "held.active", NULL}, 2, "held.active"},
        {{"due", "--within", "200d", NULL}, 4, "warning"},
        {{"due", "--within", "200d", "--state=held"}, 4, "term"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        const char *args[16];
        size_t n = 0;
        for (size_t k = 0; k < N(base); k++)
            args[n++] = base[k];
        for (size_t k = 0; k < 4 && cases[i].args[k]; k++)
            args[n++] = cases[i].args[k];
        args[n] = NULL;
        cft_run r = cft_certflow(f->dir, args);
        if (r.code != 0)
            fail_msg("case %zu: exit %d: %s", i + 1, r.code, r.err);
        int lines = 0;
        for (const char *p = r.out; *p; p++)
            lines += *p == '\n';
        if (lines != cases[i].lines || !strstr(r.out, cases[i].has))
            fail_msg("case %zu: expected %d lines with %s:\n%s", i + 1, cases[i].lines, cases[i].has, r.out);
        cft_run_free(&r);
    }
    /* due --state held.active: only the child's own timer, not the parent's */
    const char *args[] = {"--db", "t.db", "--workflows", FIX "/workflows", "--policies", FIX "/lua", "--now",
                          "2025-03-03T17:00:00Z", "due", "--within", "200d", "--state", "held.active", NULL};
    cft_run r = cft_certflow(f->dir, args);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "warning"));
    assert_null(strstr(r.out, "term"));
    cft_run_free(&r);
}

typedef struct cases {
    int passed, failed;
    char why[1024];
} cases;

static int case_row(void *ud, const cf_policy_case *pc)
{
    cases *c = ud;
    if (pc->passed) {
        c->passed++;
    } else {
        c->failed++;
        size_t used = strlen(c->why);
        snprintf(c->why + used, sizeof c->why - used, "%s: expected %s, got %s\n", pc->name, pc->expected, pc->got);
    }
    return 0;
}

/* Policy test cases name a parent or a child's key; they report full paths. */
static void test_policy_test_cases(void **state)
{
    fixture *f = *state;
    cases c = {0, 0, ""};
    int failed = 0;
    assert_int_equal(cf_policy_test(f->e, FIX "/cases", NULL, NULL, case_row, &c, &failed), CF_OK);
    if (c.failed || failed)
        fail_msg("%s", c.why);
    assert_int_equal(c.passed, 3);
}

typedef struct deadlines {
    char text[1024];
} deadlines;

static int change_row(void *ud, const cf_policy_change *c)
{
    deadlines *d = ud;
    if (strcmp(c->kind, "deadline") == 0) {
        size_t used = strlen(d->text);
        snprintf(d->text + used, sizeof d->text - used, "%s %s/%s %s -> %s\n", c->state, c->event, c->name,
                 c->old_value, c->new_value);
    }
    return 0;
}

/* A county's policy change recomputes a parent's timer from when the parent was
 * entered (not when the current child was). */
static void test_policy_change_moves_parent_timer(void **state)
{
    fixture *f = *state;
    char id[37];
    granted(f, id); /* held entered on 2025-03-03: term due 2025-06-11 (100 days) */
    f->clock.now = cft_time("2025-03-05T17:00:00Z");
    cft_fire(f->e, id, "suspend", NULL, CF_OK);
    char *overlay = cft_write(f->dir, "kern.lua", "return { params = { term_days = 50 } }\n");
    deadlines d = {""};
    if (cf_policy_diff(f->e, "kern", overlay, change_row, &d) != CF_OK)
        fail_msg("diff: %s", cf_errmsg(f->e));
    assert_string_equal(d.text, "held.suspended lapse/term 2025-06-11T07:00:00Z -> 2025-04-22T07:00:00Z\n");
    free(overlay);
}

/* Applying a change that gives a parent a timer it had none of records the timer
 * under the parent: it survives a move between its children, and verify agrees. */
static void test_policy_apply_adds_parent_timer(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *lua = cft_path(dir, "lua"), *pol = cft_path(lua, "policy"), *cty = cft_path(lua, "counties");
    assert_int_equal(mkdir(lua, 0700), 0);
    assert_int_equal(mkdir(pol, 0700), 0);
    assert_int_equal(mkdir(cty, 0700), 0);
    char *text = cft_slurp(FIX "/lua/policy/state.lua");
    free(cft_write(pol, "state.lua", text));
    free(text);
    free(cft_write(cty, "kern.lua", "return { params = { term_days = 1000 } }\n")); /* no term */
    fixture fx = {dir, {cft_time("2025-03-03T17:00:00Z")}, NULL};
    fixture *f = &fx;
    char *db = cft_path(dir, "t.db");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = FIX "/workflows";
    o.policy_dir = lua;
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    o.lua_time_limit_ms = 600000;
    if (cf_engine_open(db, &o, &f->e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(f->e));
    char id[37];
    granted(f, id);
    expect_timers(f, "held.active/warning@2025-03-13T07:00:00Z");
    f->clock.now = cft_time("2025-03-05T17:00:00Z");
    cft_fire(f->e, id, "suspend", NULL, CF_OK);
    char *overlay = cft_write(dir, "proposed.lua", "return { params = { term_days = 50 } }\n");
    if (cf_policy_apply(f->e, "kern", overlay, "t", NULL, NULL) != CF_OK)
        fail_msg("apply: %s", cf_errmsg(f->e));
    expect_timers(f, "held/term@2025-04-22T07:00:00Z");
    verified(f);
    cft_fire(f->e, id, "lift", NULL, CF_OK);
    expect_timers(f, "held.active/warning@2025-03-15T07:00:00Z held/term@2025-04-22T07:00:00Z");
    verified(f);
    cf_engine_close(f->e);
    free(overlay);
    free(db);
    free(lua);
    free(pol);
    free(cty);
    cft_rmtree(dir);
}

/* docs/workflows.md quotes the licence workflow and the tree's messages verbatim. */
static void test_docs_quote_nested(void **state)
{
    (void)state;
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/workflows.md");
    char *lic = cft_slurp(FIX "/workflows/licence.lua");
    if (!strstr(doc, lic))
        fail_msg("docs/workflows.md does not quote tests/fixtures/nested/workflows/licence.lua verbatim");
    for (size_t i = 0; i < N(tree_errors); i++)
        if (!strstr(doc, tree_errors[i].message))
            fail_msg("docs/workflows.md lacks the message:\n%s", tree_errors[i].message);
    free(lic);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_compiled),
        cmocka_unit_test(test_tree_errors),
        cmocka_unit_test(test_tree_limits),
        cmocka_unit_test(test_flat_unchanged),
        cmocka_unit_test(test_star_means_leaves),
        cmocka_unit_test_setup_teardown(test_entering_parent_enters_initial_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sibling_keeps_parent_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_transition_applies_in_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_transition_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_timer_fires_in_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reenter_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries_match_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_and_dot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_state_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_test_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_change_moves_parent_timer, setup, teardown),
        cmocka_unit_test(test_policy_apply_adds_parent_timer),
        cmocka_unit_test(test_docs_quote_nested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
