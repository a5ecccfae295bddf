/* test_workflow.c — loading, validating and compiling workflow definitions (workflow.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a resolver that knows a fixed set of names ---- */

static const char *const guards[] = {"is_adult", "has_diploma", "fee_paid"};
static const char *const assigns[] = {"stamp_submission", "notify_applicant", "clear_request", "record_decision",
                                      "request_payment", "escalate_review"};
static const char *const plugin_actions[] = {"charge_fee"};
static const char *const deadlines[] = {"review_due", "info_due"};

static int find(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

#define N(a) (sizeof(a) / sizeof *(a))

static bool test_resolve(void *ud, cf__role role, const char *name, cf__fnref *out)
{
    int *calls = ud;
    if (calls)
        (*calls)++;
    int i = -1;
    cf__fn_kind kind = CF__FN_POLICY;
    if (role == CF__ROLE_GUARD) {
        i = find(guards, N(guards), name);
    } else if (role == CF__ROLE_ASSIGN) {
        i = find(assigns, N(assigns), name);
        if (i < 0 && (i = find(plugin_actions, N(plugin_actions), name)) >= 0)
            kind = CF__FN_PLUGIN;
    } else if (role == CF__ROLE_DEADLINE) {
        i = find(deadlines, N(deadlines), name);
    }
    if (i < 0)
        return false;
    out->kind = kind;
    out->index = i;
    out->name = name; /* the workflow must copy it */
    return true;
}

/* Tests run inside the fixtures folder so that messages show short paths. */
static int group_setup(void **state)
{
    (void)state;
    return chdir(CF_TEST_FIXTURES "/workflows");
}

static char *slurp(const char *path, size_t *len)
{
    char *text = NULL;
    cf__err err;
    if (cf__read_file(path, &text, len, &err) != CF_OK)
        fail_msg("%s", err.msg);
    return text;
}

static cf__workflow *load_good(void)
{
    cf__workflow *wf = NULL;
    cf__err err = {""};
    int rc = cf__workflow_load_file("good/application.lua", test_resolve, NULL, &wf, &err);
    if (rc != CF_OK)
        fail_msg("good/application.lua: %s", err.msg);
    return wf;
}

static int st(const cf__workflow *wf, const char *name)
{
    int s = cf__workflow_state(wf, name);
    if (s < 0)
        fail_msg("no state %s", name);
    return s;
}

static int ev(const cf__workflow *wf, const char *name)
{
    int e = cf__workflow_event(wf, name);
    if (e < 0)
        fail_msg("no event %s", name);
    return e;
}

/* Indices of the candidates for (from, event), following first/next. */
static int candidates(const cf__workflow *wf, const char *from, const char *event, int *out, int max)
{
    int n = 0;
    for (int t = wf->first[st(wf, from) * wf->nevents + ev(wf, event)]; t >= 0; t = wf->trans[t].next) {
        assert_true(n < max);
        out[n++] = t;
    }
    return n;
}

/* ---- the good workflow ---- */

static void test_good_header(void **state)
{
    (void)state;
    cf__workflow *wf = load_good();
    assert_string_equal(wf->name, "application");
    assert_string_equal(wf->path, "good/application.lua");
    assert_string_equal(wf->description, "Initial application for certification");
    size_t len;
    char *text = slurp("good/application.lua", &len);
    assert_string_equal(wf->source, text);
    char hash[CF__HASH_HEX];
    cf__sha256_hex(text, len, hash);
    assert_string_equal(wf->hash, hash);
    assert_int_equal(strlen(wf->hash), 64);
    free(text);
    cf__workflow_free(wf);
}

static void test_good_states_sorted(void **state)
{
    (void)state;
    cf__workflow *wf = load_good();
    static const char *const names[] = {"approved", "denied", "draft", "needs_info", "submitted", "withdrawn"};
    assert_int_equal(wf->nstates, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(wf->states[i].name, names[i]);
        assert_int_equal(cf__workflow_state(wf, names[i]), i);
    }
    assert_int_equal(wf->initial, st(wf, "draft"));
    assert_true(wf->states[st(wf, "approved")].terminal);
    assert_true(wf->states[st(wf, "denied")].terminal);
    assert_true(wf->states[st(wf, "withdrawn")].terminal);
    assert_false(wf->states[st(wf, "draft")].terminal);
    assert_int_equal(cf__workflow_state(wf, "nope"), -1);
    assert_int_equal(cf__workflow_state(wf, ""), -1);
    assert_int_equal(cf__workflow_state(wf, NULL), -1);

    const cf__state *ni = &wf->states[st(wf, "needs_info")];
    assert_int_equal(ni->non_enter, 1);
    assert_string_equal(ni->on_enter[0].name, "notify_applicant");
    assert_int_equal(ni->on_enter[0].kind, CF__FN_POLICY);
    assert_int_equal(ni->on_enter[0].index, 1);
    assert_int_equal(ni->non_exit, 1);
    assert_string_equal(ni->on_exit[0].name, "clear_request");
    assert_int_equal(ni->ntimers, 1);
    assert_string_equal(ni->timers[0].name, "info_clock");
    assert_string_equal(ni->timers[0].after.name, "info_due");
    assert_int_equal(ni->timers[0].after.index, 1);
    assert_int_equal(ni->timers[0].event, ev(wf, "info_overdue"));

    const cf__state *sub = &wf->states[st(wf, "submitted")];
    assert_int_equal(sub->ntimers, 1);
    assert_string_equal(sub->timers[0].name, "review_clock");
    assert_int_equal(sub->timers[0].event, ev(wf, "review_overdue"));
    assert_int_equal(sub->non_exit, 0);
    assert_int_equal(wf->states[st(wf, "draft")].ntimers, 0);
    cf__workflow_free(wf);
}

static void test_good_events_in_file_order(void **state)
{
    (void)state;
    cf__workflow *wf = load_good();
    static const char *const names[] = {"submit",   "approve", "deny",           "request_info", "provide_info",
                                        "withdraw", "note",    "review_overdue", "info_overdue"};
    assert_int_equal(wf->nevents, 9);
    for (int i = 0; i < 9; i++) {
        assert_string_equal(wf->events[i], names[i]);
        assert_int_equal(cf__workflow_event(wf, names[i]), i);
    }
    assert_int_equal(cf__workflow_event(wf, "submitt"), -1);
    assert_int_equal(cf__workflow_event(wf, "a"), -1);
    assert_int_equal(cf__workflow_event(wf, "zzz"), -1);
    cf__workflow_free(wf);
}

static void test_good_transitions_expanded(void **state)
{
    (void)state;
    cf__workflow *wf = load_good();
    /* 10 in the file; "deny" has two from-states, "*" three non-terminal ones. */
    assert_int_equal(wf->ntrans, 13);
    const cf__transition *t = &wf->trans[0];
    assert_int_equal(t->from, st(wf, "draft"));
    assert_int_equal(t->event, ev(wf, "submit"));
    assert_int_equal(t->to, st(wf, "submitted"));
    assert_int_equal(t->nguards, 2);
    assert_string_equal(t->guards[0].name, "is_adult");
    assert_string_equal(t->guards[1].name, "has_diploma");
    assert_int_equal(t->guards[1].index, 1);
    assert_int_equal(t->nactions, 1);
    assert_string_equal(t->actions[0].name, "charge_fee");
    assert_int_equal(t->actions[0].kind, CF__FN_PLUGIN);
    assert_int_equal(t->actions[0].index, 0);
    assert_false(t->reenter);

    /* approve from submitted: the guarded transition, then the fallback */
    int c[8];
    assert_int_equal(candidates(wf, "submitted", "approve", c, 8), 2);
    assert_int_equal(c[0], 1);
    assert_int_equal(c[1], 2);
    assert_int_equal(wf->trans[1].to, st(wf, "approved"));
    assert_int_equal(wf->trans[1].nguards, 1);
    assert_string_equal(wf->trans[1].guards[0].name, "fee_paid");
    assert_int_equal(wf->trans[1].nsends, 1);
    assert_int_equal(wf->trans[1].sends[0].link, cf__workflow_link(wf, "person"));
    assert_string_equal(wf->trans[1].sends[0].event, "certified");
    assert_int_equal(wf->trans[2].to, st(wf, "needs_info"));
    assert_int_equal(wf->trans[2].nguards, 0);

    /* a from list becomes one transition per state, in list order */
    assert_int_equal(wf->trans[3].from, st(wf, "submitted"));
    assert_int_equal(wf->trans[4].from, st(wf, "needs_info"));
    assert_int_equal(wf->trans[3].event, ev(wf, "deny"));
    assert_int_equal(wf->trans[4].event, ev(wf, "deny"));

    /* internal vs re-entering self transitions */
    assert_int_equal(candidates(wf, "submitted", "note", c, 8), 1);
    assert_int_equal(wf->trans[c[0]].to, wf->trans[c[0]].from);
    assert_false(wf->trans[c[0]].reenter);
    assert_int_equal(candidates(wf, "submitted", "review_overdue", c, 8), 1);
    assert_true(wf->trans[c[0]].reenter);
    assert_string_equal(wf->trans[c[0]].actions[0].name, "escalate_review");

    /* "*" covers every non-terminal state, sorted, after everything before it */
    assert_int_equal(wf->trans[10].from, st(wf, "draft"));
    assert_int_equal(wf->trans[11].from, st(wf, "needs_info"));
    assert_int_equal(wf->trans[12].from, st(wf, "submitted"));
    for (int i = 10; i < 13; i++) {
        assert_int_equal(wf->trans[i].event, ev(wf, "withdraw"));
        assert_int_equal(wf->trans[i].to, st(wf, "withdrawn"));
    }
    assert_int_equal(candidates(wf, "approved", "withdraw", c, 8), 0);
    assert_int_equal(candidates(wf, "draft", "approve", c, 8), 0);

    /* every (state, event) cell agrees with a linear scan in file order */
    for (int s = 0; s < wf->nstates; s++) {
        for (int e = 0; e < wf->nevents; e++) {
            int k = wf->first[s * wf->nevents + e];
            for (int i = 0; i < wf->ntrans; i++) {
                if (wf->trans[i].from == s && wf->trans[i].event == e) {
                    assert_int_equal(k, i);
                    k = wf->trans[k].next;
                }
            }
            assert_int_equal(k, -1);
        }
    }
    cf__workflow_free(wf);
}

static void test_good_links(void **state)
{
    (void)state;
    cf__workflow *wf = load_good();
    assert_int_equal(wf->nlinks, 1);
    assert_int_equal(cf__workflow_link(wf, "person"), 0);
    assert_string_equal(wf->links[0].name, "person");
    assert_string_equal(wf->links[0].workflow, "person");
    assert_string_equal(wf->links[0].field, "person_id");
    assert_int_equal(cf__workflow_link(wf, "persons"), -1);
    cf__workflow_free(wf);
}

static const char minimal[] = "return {\n"
                              "  name = 'mini', initial = 'a', events = { 'go', 'back' },\n"
                              "  states = { c = { terminal = true }, b = {}, a = {} },\n"
                              "  transitions = { { from = 'a', event = 'go', to = 'b' },\n"
                              "                  { from = 'b', event = 'back', to = 'a' },\n"
                              "                  { from = 'b', event = 'go', to = 'c' } },\n"
                              "}\n";

/* States come out sorted whatever order the file (and Lua's hash) gives them. */
static void test_deterministic(void **state)
{
    (void)state;
    const char *reordered = "return {\n"
                            "  name = 'mini', initial = 'a', events = { 'go', 'back' },\n"
                            "  states = { a = {}, b = {}, c = { terminal = true } },\n"
                            "  transitions = { { from = 'a', event = 'go', to = 'b' },\n"
                            "                  { from = 'b', event = 'back', to = 'a' },\n"
                            "                  { from = 'b', event = 'go', to = 'c' } },\n"
                            "}\n";
    cf__workflow *x = NULL, *y = NULL;
    cf__err err = {""};
    assert_int_equal(cf__workflow_compile("x.lua", minimal, strlen(minimal), test_resolve, NULL, &x, &err), CF_OK);
    assert_int_equal(cf__workflow_compile("y.lua", reordered, strlen(reordered), test_resolve, NULL, &y, &err),
                     CF_OK);
    assert_int_equal(x->nstates, y->nstates);
    for (int i = 0; i < x->nstates; i++)
        assert_string_equal(x->states[i].name, y->states[i].name);
    assert_string_equal(x->states[0].name, "a");
    assert_string_equal(x->states[2].name, "c");
    assert_int_equal(x->ntrans, y->ntrans);
    assert_memory_equal(x->first, y->first, sizeof *x->first * (size_t)(x->nstates * x->nevents));
    assert_string_not_equal(x->hash, y->hash);
    assert_null(x->description);
    assert_int_equal(x->nlinks, 0);
    cf__workflow_free(x);
    cf__workflow_free(y);
}

/* ---- malformed files: each has exactly one problem, reported exactly ---- */

typedef struct bad_case {
    const char *file;
    const char *message;
} bad_case;

static const bad_case bad_cases[] = {
    {"bad/syntax.lua", "bad/syntax.lua:4: '}' expected (to close '{' at line 2) near 'initial'"},
    {"bad/runtime.lua",
     "bad/runtime.lua:3: attempt to index a nil value (global 'string') (hint: a workflow file is plain data: no "
     "functions or globals are available)"},
    {"bad/endless.lua",
     "bad/endless.lua:3: took too long to load (an endless loop?) (hint: a workflow file only returns a table of "
     "data; remove the loop)"},
    {"bad/memory.lua",
     "bad/memory.lua: ran out of memory while running (limit 64 MiB) (hint: a workflow file is a small table of "
     "data)"},
    {"bad/not_table.lua",
     "bad/not_table.lua: the file returned a string, not a table (hint: end the file with return { name = ..., ... "
     "})"},
    {"bad/unknown_key.lua",
     "bad/unknown_key.lua: descripton: unknown key 'descripton' (hint: did you mean 'description'? allowed keys: "
     "name, description, initial, events, states, transitions, links, owned, event_data)"},
    {"bad/missing_initial.lua",
     "bad/missing_initial.lua: initial: missing required key 'initial' (hint: name the state new instances start "
     "in, e.g. initial = \"draft\")"},
    {"bad/name_type.lua",
     "bad/name_type.lua: name: expected a string, got number (hint: name the workflow, e.g. name = "
     "\"application\")"},
    {"bad/bad_name.lua",
     "bad/bad_name.lua: name: bad workflow name 'Application' (hint: start with a lower-case letter, then use only "
     "lower-case letters, digits and '_', at most 64 characters)"},
    {"bad/events_not_list.lua",
     "bad/events_not_list.lua: events: expected a list of strings, got string (hint: write events = { \"submit\", "
     "\"approve\" })"},
    {"bad/duplicate_event.lua",
     "bad/duplicate_event.lua: events[3]: duplicate event 'submit' (also events[1]) (hint: list each event once)"},
    {"bad/event_not_string.lua",
     "bad/event_not_string.lua: events[2]: expected a string, got number (hint: write each event as a string)"},
    {"bad/empty_states.lua",
     "bad/empty_states.lua: states: no states declared (hint: declare at least the initial state, e.g. states = { "
     "draft = {} })"},
    {"bad/state_not_table.lua",
     "bad/state_not_table.lua: states.done: expected a table, got boolean (hint: write done = {}: a table, even "
     "when empty)"},
    {"bad/unknown_state_key.lua",
     "bad/unknown_state_key.lua: states.done.on_entry: unknown key 'on_entry' (hint: did you mean 'on_enter'? "
     "allowed keys: terminal, on_enter, on_exit, timers, parent, initial)"},
    {"bad/terminal_not_boolean.lua",
     "bad/terminal_not_boolean.lua: states.done.terminal: expected a boolean, got string (hint: write terminal = "
     "true, or leave it out)"},
    {"bad/initial_unknown.lua",
     "bad/initial_unknown.lua: initial: unknown state 'drafts' (hint: did you mean 'draft'? states are declared "
     "under 'states')"},
    {"bad/unknown_state.lua",
     "bad/unknown_state.lua: transitions[2].to: unknown state 'aproved' (hint: did you mean 'approved'? states are "
     "declared under 'states')"},
    {"bad/unknown_from.lua",
     "bad/unknown_from.lua: transitions[2].from[2]: unknown state 'submited' (hint: did you mean 'submitted'? "
     "states are declared under 'states')"},
    {"bad/unknown_event.lua",
     "bad/unknown_event.lua: transitions[2].event: unknown event 'withdraw' (hint: did you mean 'withdrawn'? events "
     "are declared under 'events')"},
    {"bad/unknown_transition_key.lua",
     "bad/unknown_transition_key.lua: transitions[1].guards: unknown key 'guards' (hint: did you mean 'guard'? "
     "allowed keys: from, event, to, guard, actions, reenter, send)"},
    {"bad/unknown_guard.lua",
     "bad/unknown_guard.lua: transitions[1].guard[2]: unknown guard 'has_diplomma' (hint: define it in the state "
     "policy's guards table, or load the plugin that provides it)"},
    {"bad/unknown_action.lua",
     "bad/unknown_action.lua: states.done.on_enter[1]: unknown action 'send_certificate' (hint: define it in the "
     "state policy's assigns table, or load the plugin that provides it)"},
    {"bad/unknown_deadline.lua",
     "bad/unknown_deadline.lua: states.submitted.timers[1].after: unknown deadline function 'thirty_days' (hint: "
     "define it in the state policy's deadlines table, or load the plugin that provides it)"},
    {"bad/timer_unknown_event.lua",
     "bad/timer_unknown_event.lua: states.submitted.timers[1].event: unknown event 'review_overdue' (hint: events "
     "are declared under 'events')"},
    {"bad/unknown_timer_key.lua",
     "bad/unknown_timer_key.lua: states.submitted.timers[1].fires: unknown key 'fires' (hint: allowed keys: name, "
     "after, event)"},
    {"bad/duplicate_timer.lua",
     "bad/duplicate_timer.lua: states.submitted.timers[2].name: duplicate timer 'review_clock' in state "
     "'submitted' (also timers[1]) (hint: give each timer of a state its own name)"},
    {"bad/terminal_timers.lua",
     "bad/terminal_timers.lua: states.done.timers: terminal state 'done' cannot have timers (hint: remove the "
     "timers, or make 'done' non-terminal)"},
    {"bad/terminal_outgoing.lua",
     "bad/terminal_outgoing.lua: transitions[2].from: state 'approved' is terminal and cannot have outgoing "
     "transitions (hint: remove the transition, or make 'approved' non-terminal)"},
    {"bad/duplicate_transition.lua",
     "bad/duplicate_transition.lua: transitions[3]: duplicate transition: same from 'draft', event 'submit' and "
     "guards as transitions[1] (hint: remove one of them, or give them different guards)"},
    {"bad/shadowed_transition.lua",
     "bad/shadowed_transition.lua: transitions[3]: can never be chosen: transitions[1] has no guard and takes "
     "event 'submit' from 'draft' first (hint: move it above transitions[1], or give transitions[1] a guard)"},
    {"bad/reenter_mismatch.lua",
     "bad/reenter_mismatch.lua: transitions[1].reenter: reenter = true needs the transition to stay in its state, "
     "but it goes from 'draft' to 'submitted' (hint: remove reenter, or make from and to the same state)"},
    {"bad/send_unknown_link.lua",
     "bad/send_unknown_link.lua: transitions[1].send[1].link: unknown link 'persn' (hint: did you mean 'person'? "
     "links are declared under 'links')"},
    {"bad/send_without_event.lua",
     "bad/send_without_event.lua: transitions[1].send[1].event: missing required key 'event' (hint: name the event "
     "to send to the linked instances)"},
    {"bad/link_missing_field.lua",
     "bad/link_missing_field.lua: links.person.field: missing required key 'field' (hint: name the field of the "
     "instance data that holds the linked id or ids)"},
    {"bad/unknown_link_key.lua",
     "bad/unknown_link_key.lua: links.person.target: unknown key 'target' (hint: allowed keys: workflow, field, "
     "optional)"},
    {"bad/link_optional_not_boolean.lua",
     "bad/link_optional_not_boolean.lua: links.person.optional: expected a boolean, got string (hint: write "
     "optional = true (a missing field means nobody to tell), or leave it out)"},
    {"bad/unreachable.lua",
     "bad/unreachable.lua: states.archived: state 'archived' cannot be reached from the initial state 'draft' "
     "(hint: add a transition into it or remove it)"},
};

static void test_bad_files(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < N(bad_cases); i++) {
        cf__workflow *wf = (cf__workflow *)1;
        cf__err err = {""};
        /* ten minutes: under valgrind too, the instruction limit stops bad/endless.lua */
        int rc = cf__workflow_load_file_limited(bad_cases[i].file, 600000, test_resolve, NULL, &wf, &err);
        if (rc != CF_EWORKFLOW || wf != NULL || strcmp(err.msg, bad_cases[i].message) != 0) {
            print_error("%s: rc %d\n  got:      %s\n  expected: %s\n", bad_cases[i].file, rc, err.msg,
                        bad_cases[i].message);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Every file under bad/ is covered by a case above. */
static void test_bad_files_all_covered(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = 0;
    cf__err err;
    assert_int_equal(cf__list_dir("bad", ".lua", &names, &n, &err), CF_OK);
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < N(bad_cases) && !found; k++)
            found = strcmp(names[i], bad_cases[k].file) == 0;
        if (!found)
            fail_msg("%s has no test case", names[i]);
    }
    assert_int_equal(n, N(bad_cases));
    cf__free_list(names, n);
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    cf__buf_append(ud, p, sz);
    return 0;
}

static void test_binary_chunk_refused(void **state)
{
    (void)state;
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    assert_int_equal(luaL_loadstring(L, minimal), LUA_OK);
    cf__buf b = {0};
    assert_int_equal(lua_dump(L, dump_writer, &b, 1), 0);
    lua_close(L);
    assert_non_null(b.data);
    cf__workflow *wf = NULL;
    cf__err err = {""};
    assert_int_equal(cf__workflow_compile("bin.luac", b.data, b.len, test_resolve, NULL, &wf, &err), CF_EWORKFLOW);
    assert_null(wf);
    assert_string_equal(err.msg, "bin.luac: attempt to load a binary chunk (mode is 't')");
    cf__buf_free(&b);
}

static void expect_error(const char *source, const char *message)
{
    cf__workflow *wf = NULL;
    cf__err err = {""};
    int rc = cf__workflow_compile("t.lua", source, strlen(source), test_resolve, NULL, &wf, &err);
    if (rc != CF_EWORKFLOW)
        fail_msg("rc %d for %s", rc, source);
    assert_null(wf);
    assert_string_equal(err.msg, message);
}

/* owned = { field = "when ..." }: checked, sorted, kept for instance.c. */
static void test_owned_fields(void **state)
{
    (void)state;
    const char *head = "return { name = 'm', initial = 'a', events = {}, states = { a = {} }, transitions = {}, ";
    char src[512];
    cf__workflow *wf = NULL;
    cf__err err = {""};
    snprintf(src, sizeof src, "%sowned = { zeta = 'when z', alpha = 'when the program says so' } }", head);
    assert_int_equal(cf__workflow_compile("t.lua", src, strlen(src), test_resolve, NULL, &wf, &err), CF_OK);
    assert_int_equal(wf->nowned, 2);
    assert_string_equal(wf->owned[0].field, "alpha");
    assert_string_equal(wf->owned[0].why, "when the program says so");
    assert_string_equal(wf->owned[1].field, "zeta");
    cf__workflow_free(wf);

    static const char *const hint = "(hint: write owned = { certification_number = \"when the certification is "
                                    "issued\" }: each data field the program alone sets, and when it sets it)";
    char want[1024];
    snprintf(src, sizeof src, "%sowned = { 'certification_number' } }", head);
    snprintf(want, sizeof want,
             "t.lua: owned[1]: expected data field names as keys, found a list entry or non-string key %s", hint);
    expect_error(src, want);
    snprintf(src, sizeof src, "%sowned = 'certification_number' }", head);
    snprintf(want, sizeof want, "t.lua: owned: expected a table of data field names, got string %s", hint);
    expect_error(src, want);
    snprintf(src, sizeof src, "%sowned = { number = true } }", head);
    snprintf(want, sizeof want,
             "t.lua: owned.number: expected a sentence saying when the program sets the field (text, at most 300 "
             "bytes), got a boolean %s",
             hint);
    expect_error(src, want);
    snprintf(src, sizeof src, "%sowned = { number = '' } }", head);
    snprintf(want, sizeof want,
             "t.lua: owned.number: expected a sentence saying when the program sets the field (text, at most 300 "
             "bytes), got an empty string %s",
             hint);
    expect_error(src, want);
    snprintf(src, sizeof src, "%sowned = { Number = 'when issued' } }", head);
    expect_error(src, "t.lua: owned.Number: bad data field name 'Number' (hint: start with a lower-case letter, "
                      "then use only lower-case letters, digits and '_', at most 64 characters)");
}

/* Smaller checks that need no fixture of their own. */
static void test_more_errors(void **state)
{
    (void)state;
    expect_error("", "t.lua: the file returned nothing, not a table (hint: end the file with return { name = ..., "
                     "... })");
    expect_error("return { 'x' }",
                 "t.lua: [1]: unexpected list entry (hint: every entry here needs a name: one of name, description, "
                 "initial, events, states, transitions, links, owned, event_data)");
    expect_error("return { name = 'm', initial = 'a', events = {}, states = { a = {} } }",
                 "t.lua: transitions: missing required key 'transitions' (hint: list the transitions in priority "
                 "order, e.g. transitions = { { from = \"draft\", event = \"submit\", to = \"submitted\" } })");
    expect_error("return { name = 'm', initial = 'a', events = { 'go', nil, 'x' }, states = { a = {} }, "
                 "transitions = {} }",
                 "t.lua: events: expected a list, but it has holes (nil entries) (hint: write a list, e.g. events = "
                 "{ \"submit\", \"approve\" })");
    expect_error("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, B = {} }, "
                 "transitions = {} }",
                 "t.lua: states.B: bad state name 'B' (hint: start with a lower-case letter, then use only "
                 "lower-case letters, digits and '_', at most 64 characters)");
    expect_error("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = {} }, "
                 "transitions = { { from = 'a', event = 'go', to = 'b', guard = 'nope' } } }",
                 "t.lua: transitions[1].guard: unknown guard 'nope' (hint: define it in the state policy's guards "
                 "table, or load the plugin that provides it)");
    expect_error("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = {} }, "
                 "transitions = { { from = { 'a', 'a' }, event = 'go', to = 'b' } } }",
                 "t.lua: transitions[1].from[2]: state 'a' is listed twice (hint: list each state once)");
    expect_error("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = {} }, "
                 "transitions = { { from = 'a', event = 'go', to = 'b' }, { from = 'a', event = 'go', to = 'a' } } }",
                 "t.lua: transitions[2]: duplicate transition: same from 'a', event 'go' and guards as "
                 "transitions[1] (hint: remove one of them, or give them different guards)");
    expect_error("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = {} }, "
                 "transitions = { { from = 'a', event = 'go', to = 'b', actions = 'stamp_submission' } } }",
                 "t.lua: transitions[1].actions: expected a list of action names, got string (hint: write actions "
                 "= { \"name\", ... })");
    expect_error("return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = {} }, "
                 "transitions = { { from = 'a', event = 'go', to = 'b', send = { { event = 'x' } } } } }",
                 "t.lua: transitions[1].send[1].link: missing required key 'link' (hint: name one of the links "
                 "declared under 'links')");
}

static void test_null_resolver_defines_nothing(void **state)
{
    (void)state;
    const char *src = "return { name = 'm', initial = 'a', events = { 'go' }, states = { a = {}, b = {} },\n"
                      "  transitions = { { from = 'a', event = 'go', to = 'b', guard = 'is_adult' } } }";
    cf__workflow *wf = NULL;
    cf__err err = {""};
    assert_int_equal(cf__workflow_compile("t.lua", src, strlen(src), NULL, NULL, &wf, &err), CF_EWORKFLOW);
    assert_null(wf);
    int calls = 0;
    assert_int_equal(cf__workflow_compile("t.lua", src, strlen(src), test_resolve, &calls, &wf, &err), CF_OK);
    assert_int_equal(calls, 1);
    cf__workflow_free(wf);
}

static void test_missing_file(void **state)
{
    (void)state;
    cf__workflow *wf = (cf__workflow *)1;
    cf__err err = {""};
    assert_int_equal(cf__workflow_load_file("no/such/file.lua", test_resolve, NULL, &wf, &err), CF_EIO);
    assert_null(wf);
    assert_non_null(strstr(err.msg, "no/such/file.lua"));
    cf__workflow_free(NULL);
}

/* ---- DOT ---- */

static void test_dot(void **state)
{
    (void)state;
    cf__workflow *wf = load_good();
    char *dot = NULL;
    cf__err err = {""};
    assert_int_equal(cf__workflow_dot(wf, &dot, &err), CF_OK);
    assert_non_null(dot);
    static const char *const parts[] = {
        "digraph \"application\" {\n  rankdir=LR;\n",
        "  label=\"Initial application for certification\";\n",
        "  \"__start\" [shape=point];\n",
        "  \"__start\" -> \"draft\";\n",
        "  \"approved\" [shape=doublecircle];\n",
        "  \"withdrawn\" [shape=doublecircle];\n",
        "  \"draft\";\n",
        "  \"draft\" -> \"submitted\" [label=\"submit [is_adult, has_diploma]\"];\n",
        "  \"submitted\" -> \"approved\" [label=\"approve [fee_paid]\"];\n",
        "  \"submitted\" -> \"needs_info\" [label=\"approve\"];\n",
        "  \"submitted\" -> \"submitted\" [label=\"note\"];\n",
        "  \"submitted\" -> \"submitted\" [label=\"review_overdue\", style=bold];\n",
        "  \"needs_info\" -> \"withdrawn\" [label=\"withdraw\"];\n",
        "  \"submitted\" -> \"submitted\" [style=dashed, label=\"\xe2\x8f\xb1 review_clock \xe2\x86\x92 "
        "review_overdue\"];\n",
        "  \"needs_info\" -> \"denied\" [style=dashed, label=\"\xe2\x8f\xb1 info_clock \xe2\x86\x92 "
        "info_overdue\"];\n",
    };
    for (size_t i = 0; i < N(parts); i++)
        if (!strstr(dot, parts[i]))
            fail_msg("DOT lacks:\n%s\nin:\n%s", parts[i], dot);
    size_t n = strlen(dot);
    assert_true(n > 2 && strcmp(dot + n - 2, "}\n") == 0);
    free(dot);
    cf__workflow_free(wf);
}

static void test_dot_escapes(void **state)
{
    (void)state;
    const char *src = "return { name = 'm', description = 'say \"hi\" \\\\ there\\nnow', initial = 'a',\n"
                      "  events = { 'go' }, states = { a = { timers = { { name = 't', after = 'review_due', "
                      "event = 'go' } } } },\n"
                      "  transitions = {} }";
    cf__workflow *wf = NULL;
    cf__err err = {""};
    assert_int_equal(cf__workflow_compile("t.lua", src, strlen(src), test_resolve, NULL, &wf, &err), CF_OK);
    char *dot = NULL;
    assert_int_equal(cf__workflow_dot(wf, &dot, &err), CF_OK);
    assert_non_null(strstr(dot, "label=\"say \\\"hi\\\" \\\\ there\\nnow\";"));
    /* a timer whose event has no transition there points back at its state */
    assert_non_null(strstr(dot, "\"a\" -> \"a\" [style=dashed, label=\"\xe2\x8f\xb1 t \xe2\x86\x92 go (no "
                                "transition)\"];"));
    free(dot);
    cf__workflow_free(wf);
}

/* docs/workflows.md quotes the good file, its DOT output and every message above verbatim. */
static void test_docs_match(void **state)
{
    (void)state;
    char *doc = slurp(CF_SOURCE_DIR "/docs/workflows.md", NULL);
    char *good = slurp("good/application.lua", NULL);
    if (!strstr(doc, good))
        fail_msg("docs/workflows.md does not quote good/application.lua verbatim");
    cf__workflow *wf = load_good();
    char *dot = NULL;
    cf__err err = {""};
    assert_int_equal(cf__workflow_dot(wf, &dot, &err), CF_OK);
    if (!strstr(doc, dot))
        fail_msg("docs/workflows.md does not show the DOT output of good/application.lua:\n%s", dot);
    for (size_t i = 0; i < N(bad_cases); i++) {
        char *text = slurp(bad_cases[i].file, NULL);
        if (!strstr(doc, bad_cases[i].message))
            fail_msg("docs/workflows.md lacks the message of %s", bad_cases[i].file);
        if (!strstr(doc, text))
            fail_msg("docs/workflows.md does not quote %s", bad_cases[i].file);
        free(text);
    }
    free(dot);
    cf__workflow_free(wf);
    free(good);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_header),
        cmocka_unit_test(test_good_states_sorted),
        cmocka_unit_test(test_good_events_in_file_order),
        cmocka_unit_test(test_good_transitions_expanded),
        cmocka_unit_test(test_good_links),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_files_all_covered),
        cmocka_unit_test(test_binary_chunk_refused),
        cmocka_unit_test(test_more_errors),
        cmocka_unit_test(test_null_resolver_defines_nothing),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_dot),
        cmocka_unit_test(test_dot_escapes),
        cmocka_unit_test(test_docs_match),
        cmocka_unit_test(test_owned_fields),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
