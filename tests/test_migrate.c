/*
 * test_migrate.c — workflow versions, diff and migration (engine/core/versions.c,
 * workflow_diff.c, migrate.c): versions and their live counts, a diff by name,
 * the plan (mapping, blocked instances, timers kept, cancelled and scheduled),
 * apply (one history row per instance, verify passing, idempotence), the errors
 * that change nothing, and the check of live versions against the policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_HEAD                                                                       \
    "local P = {}\n"                                                                       \
    "P.params = { review_days = 10, hold_days = 5 }\n"                                     \
    "P.overridable = { review_days = { kind = 'integer', min = 1, max = 365 } }\n"         \
    "P.guards = {}\nP.assigns = {}\nP.deadlines = {}\n"                                    \
    "function P.guards.has_score(inst) if inst.data.score then return true end\n"          \
    "  return false, 'no score recorded' end\n"                                            \
    "function P.deadlines.review_due(inst, ctx) return date.add_days(ctx.today, params.review_days) end\n" \
    "function P.deadlines.hold_due(inst, ctx) return date.add_days(ctx.today, params.hold_days) end\n"     \
    "function P.assigns.stamp(inst) return { stamped = true } end\n"

/* The full policy, and one without the guard old_check that version 1 names. */
/* old_check passes until 2025-03-03: what entered review before then would not enter now. */
static const char *POLICY = POLICY_HEAD "function P.guards.old_check(inst, ev, ctx)\n"
                                        "  return ctx.today < '2025-03-03', 'applications closed on 2025-03-03' end\n"
                                        "return P\n";
static const char *POLICY_REDUCED = POLICY_HEAD "return P\n";

static const char *V1 =
    "return {\n"
    "  name = 'app', initial = 'draft',\n"
    "  events = { 'submit', 'approve', 'withdraw' },\n"
    "  states = {\n"
    "    draft = {},\n"
    "    review = { timers = { { name = 'sla', after = 'review_due', event = 'approve' } } },\n"
    "    done = { terminal = true },\n"
    "  },\n"
    "  transitions = {\n"
    "    { from = 'draft', event = 'submit', to = 'review', guard = 'old_check' },\n"
    "    { from = 'review', event = 'approve', to = 'done' },\n"
    "    { from = 'draft', event = 'withdraw', to = 'done' },\n"
    "  },\n"
    "}\n";

/* review renamed checking (the same timer), a new state scored entered under a guard, an entry
 * action, and a guarded way back to the initial state (which creation enters unguarded). */
static const char *V2 =
    "return {\n"
    "  name = 'app', initial = 'draft',\n"
    "  events = { 'submit', 'approve', 'withdraw', 'score', 'back' },\n"
    "  states = {\n"
    "    draft = { on_enter = { 'stamp' } },\n"
    "    checking = { timers = { { name = 'sla', after = 'review_due', event = 'approve' } } },\n"
    "    scored = { timers = { { name = 'hold', after = 'hold_due', event = 'approve' } } },\n"
    "    done = { terminal = true },\n"
    "  },\n"
    "  transitions = {\n"
    "    { from = 'draft', event = 'submit', to = 'checking', guard = 'old_check' },\n"
    "    { from = 'checking', event = 'score', to = 'scored', guard = 'has_score' },\n"
    "    { from = 'checking', event = 'approve', to = 'done' },\n"
    "    { from = 'scored', event = 'approve', to = 'done' },\n"
    "    { from = 'draft', event = 'withdraw', to = 'done' },\n"
    "    { from = 'checking', event = 'back', to = 'draft', guard = 'has_score' },\n"
    "  },\n"
    "}\n";

/* V2 without old_check: what runs once the policy no longer has it. */
static const char *V3 =
    "return {\n"
    "  name = 'app', initial = 'draft',\n"
    "  events = { 'submit', 'approve', 'withdraw' },\n"
    "  states = {\n"
    "    draft = {},\n"
    "    checking = { timers = { { name = 'sla', after = 'review_due', event = 'approve' } } },\n"
    "    done = { terminal = true },\n"
    "  },\n"
    "  transitions = {\n"
    "    { from = 'draft', event = 'submit', to = 'checking' },\n"
    "    { from = 'checking', event = 'approve', to = 'done' },\n"
    "    { from = 'draft', event = 'withdraw', to = 'done' },\n"
    "  },\n"
    "}\n";

/* V1 nested: review goes into a parent `open` (its initial child) beside `paused`; open
 * declares a timer (hold, firing withdraw, which open also declares) and a guarded pause
 * that applies in its children. */
static const char *V4 =
    "return {\n"
    "  name = 'app', initial = 'draft',\n"
    "  events = { 'submit', 'approve', 'withdraw', 'pause', 'resume' },\n"
    "  states = {\n"
    "    draft = {},\n"
    "    open = { initial = 'review', timers = { { name = 'hold', after = 'hold_due', event = 'withdraw' } } },\n"
    "    review = { parent = 'open', timers = { { name = 'sla', after = 'review_due', event = 'approve' } } },\n"
    "    paused = { parent = 'open' },\n"
    "    done = { terminal = true },\n"
    "  },\n"
    "  transitions = {\n"
    "    { from = 'draft', event = 'submit', to = 'open', guard = 'old_check' },\n"
    "    { from = 'review', event = 'approve', to = 'done' },\n"
    "    { from = 'open', event = 'pause', to = 'paused', guard = 'has_score' },\n"
    "    { from = 'paused', event = 'resume', to = 'review' },\n"
    "    { from = 'draft', event = 'withdraw', to = 'done' },\n"
    "    { from = 'open', event = 'withdraw', to = 'done' },\n"
    "    { from = { 'draft', 'paused' }, event = 'approve', to = 'done' },\n"
    "    { from = 'review', event = 'resume', to = 'review', reenter = true },\n"
    "  },\n"
    "}\n";

typedef struct fx {
    char *dir, *db;
    char *wf[4];   /* workflow folders of versions 1..3 */
    char *pol, *pol_reduced;
    cft_clock clock;
    cf_engine *e;
    char draft[37], review[37], done[37];
    char v1[65];
} fx;

static char *folder_with(const char *dir, const char *name, const char *file, const char *text)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s", name, file);
    free(cft_write(dir, rel, text));
    return cft_path(dir, name);
}

static int open_with(fx *f, int version, const char *policy, cf_engine **out)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = f->wf[version];
    o.policy_dir = policy;
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    return cft_engine_open(f->db, &o, out);
}

static void reopen(fx *f, int version)
{
    cf_engine_close(f->e);
    f->e = NULL;
    if (open_with(f, version, f->pol, &f->e) != CF_OK)
        fail_msg("open version %d: %s", version, cf_errmsg(f->e));
}

static json_t *parse(char *text)
{
    assert_non_null(text);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    cf_free(text);
    return doc;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "m.db");
    f->wf[1] = folder_with(f->dir, "wf1", "app.lua", V1);
    f->wf[2] = folder_with(f->dir, "wf2", "app.lua", V2);
    f->wf[3] = folder_with(f->dir, "wf3", "app.lua", V3);
    f->pol = folder_with(f->dir, "lua", "policy/state.lua", POLICY);
    f->pol_reduced = folder_with(f->dir, "lua_reduced", "policy/state.lua", POLICY_REDUCED);
    f->clock.now = cft_time("2025-03-01T12:00:00Z");
    if (open_with(f, 1, f->pol, &f->e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(f->e));
    assert_int_equal(cf_instance_create(f->e, "app", "alameda", "{\"name\": \"Dee\"}", "t", f->draft), CF_OK);
    assert_int_equal(cf_instance_create(f->e, "app", "alameda", "{\"name\": \"Rae\"}", "t", f->review), CF_OK);
    assert_int_equal(cf_instance_create(f->e, "app", "kern", "{\"name\": \"Don\"}", "t", f->done), CF_OK);
    cft_fire(f->e, f->review, "submit", NULL, CF_OK);
    cft_fire(f->e, f->done, "withdraw", NULL, CF_OK);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->draft, &info), CF_OK);
    snprintf(f->v1, sizeof f->v1, "%s", info.definition);
    f->clock.now = cft_time("2025-03-04T12:00:00Z");
    reopen(f, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    for (int i = 1; i <= 3; i++)
        free(f->wf[i]);
    free(f->pol);
    free(f->pol_reduced);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* The row of doc's array `key` whose field `field` is `value`; NULL if none. */
static json_t *find(json_t *doc, const char *key, const char *field, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, key), i, v)
    {
        const char *s = json_string_value(json_object_get(v, field));
        if (s && strcmp(s, value) == 0)
            return v;
    }
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* ---- versions ---- */

static void test_versions_count_live_and_ended(void **state)
{
    fx *f = *state;
    char *text = NULL;
    assert_int_equal(cf_workflow_versions(f->e, "app", &text), CF_OK);
    json_t *doc = parse(text);
    json_t *list = json_object_get(doc, "versions");
    assert_int_equal(json_array_size(list), 2);
    json_t *v1 = json_array_get(list, 0), *v2 = json_array_get(list, 1);
    assert_string_equal(str(v1, "hash"), f->v1);
    assert_false(json_is_true(json_object_get(v1, "current")));
    assert_int_equal(num(v1, "live"), 2);
    assert_int_equal(num(v1, "ended"), 1);
    assert_int_equal(num(json_object_get(v1, "states"), "review"), 1);
    assert_string_equal(str(v1, "first_stored"), "2025-03-01T12:00:00Z");
    assert_true(json_is_true(json_object_get(v2, "current")));
    assert_int_equal(num(v2, "live"), 0);
    assert_string_equal(str(v2, "first_stored"), "2025-03-04T12:00:00Z");
    json_decref(doc);

    assert_int_equal(cf_workflow_versions(f->e, NULL, &text), CF_OK);
    doc = parse(text);
    assert_int_equal(json_array_size(json_object_get(doc, "versions")), 2);
    json_decref(doc);

    assert_int_equal(cf_workflow_versions(f->e, "ap", &text), CF_ENOTFOUND);
    assert_null(text);
    assert_non_null(strstr(cf_errmsg(f->e), "did you mean 'app'"));
}

/* ---- diff ---- */

static json_t *change(json_t *doc, const char *kind, const char *chg, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "changes"), i, c)
    {
        if (strcmp(str(c, "kind"), kind) == 0 && strcmp(str(c, "change"), chg) == 0 && strcmp(str(c, "name"), name) == 0)
            return c;
    }
    return NULL;
}

static void test_diff_names_every_kind(void **state)
{
    fx *f = *state;
    char prefix[9];
    snprintf(prefix, sizeof prefix, "%.8s", f->v1);
    char *text = NULL;
    assert_int_equal(cf_workflow_diff(f->e, "app", prefix, "current", &text), CF_OK);
    json_t *doc = parse(text);
    assert_string_equal(str(doc, "old"), f->v1);
    assert_non_null(change(doc, "state", "removed", "review"));
    assert_non_null(change(doc, "state", "added", "checking"));
    assert_non_null(change(doc, "state", "added", "scored"));
    assert_non_null(change(doc, "event", "added", "score"));
    assert_non_null(change(doc, "transition", "removed", "draft --submit--> review"));
    json_t *t = change(doc, "transition", "added", "checking --score--> scored");
    assert_non_null(t);
    assert_string_equal(str(t, "new"), "guards: has_score; actions: none");
    assert_non_null(change(doc, "action", "added", "stamp in draft.on_enter"));
    assert_non_null(change(doc, "timer", "removed", "review.sla"));
    json_t *h = change(doc, "timer", "added", "scored.hold");
    assert_non_null(h);
    assert_string_equal(str(h, "new"), "approve after hold_due");
    /* unchanged: draft --withdraw--> done is in neither list */
    assert_null(change(doc, "transition", "added", "draft --withdraw--> done"));
    assert_null(change(doc, "transition", "removed", "draft --withdraw--> done"));
    /* kinds come in order: states before events before transitions before timers */
    json_t *changes = json_object_get(doc, "changes");
    assert_string_equal(str(json_array_get(changes, 0), "kind"), "state");
    assert_string_equal(str(json_array_get(changes, json_array_size(changes) - 1), "kind"), "timer");
    json_decref(doc);

    /* a guard added to a transition that stays */
    assert_int_equal(cf_workflow_diff(f->e, "app", "current", prefix, &text), CF_OK);
    doc = parse(text);
    assert_non_null(change(doc, "state", "added", "review"));
    json_decref(doc);

    assert_int_equal(cf_workflow_diff(f->e, "app", "current", "current", &text), CF_OK);
    doc = parse(text);
    assert_int_equal(json_array_size(json_object_get(doc, "changes")), 0);
    json_decref(doc);

    assert_int_equal(cf_workflow_diff(f->e, "app", "ffff", "current", &text), CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(f->e), "no stored version of workflow 'app' has a hash starting with 'ffff'"));
    assert_non_null(strstr(cf_errmsg(f->e), "see cf_workflow_versions of 'app'")); /* the API's terms from C */
    assert_null(strstr(cf_errmsg(f->e), "certflow "));
    assert_int_equal(cf_workflow_diff(f->e, "app", "zz", "current", &text), CF_EINVAL);
    assert_int_equal(cf_workflow_diff(f->e, "nope", "current", "current", &text), CF_ENOTFOUND);
    assert_null(text);
}

/* ---- plan ---- */

static void test_plan_blocks_a_state_without_mapping(void **state)
{
    fx *f = *state;
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_OK);
    json_t *doc = parse(text);
    assert_int_equal(num(doc, "candidates"), 2);
    assert_int_equal(num(doc, "movable"), 1);
    assert_int_equal(num(doc, "blocked"), 1);
    assert_int_equal(num(doc, "ended"), 1);
    /* draft: the way back into it is guarded (has_score says no), but the initial state is never refused */
    json_t *d = find(doc, "instances", "id", f->draft);
    assert_true(json_is_true(json_object_get(d, "movable")));
    assert_string_equal(str(d, "to_state"), "draft");
    assert_string_equal(str(d, "who"), "Dee");
    json_t *r = find(doc, "instances", "id", f->review);
    assert_false(json_is_true(json_object_get(r, "movable")));
    assert_true(json_is_null(json_object_get(r, "to_state")));
    assert_non_null(strstr(str(r, "why"), "state 'review' has no mapping"));
    assert_non_null(strstr(str(r, "why"), "--map review=STATE"));
    assert_null(find(doc, "instances", "id", f->done));
    json_decref(doc);
    /* a dry run writes nothing */
    assert_int_equal(cft_history_count(f->e, f->draft), 1);
    assert_string_equal(cft_state(f->e, f->review), "review");
}

static void test_plan_keeps_a_renamed_states_timer(void **state)
{
    fx *f = *state;
    const char *map[] = {"review=checking"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_OK);
    json_t *doc = parse(text);
    /* old_check refuses everyone now, but draft --submit--> checking has the event and guards
     * review was entered by: not refused on entry */
    assert_int_equal(num(doc, "blocked"), 0);
    assert_string_equal(str(json_object_get(doc, "map"), "review"), "checking");
    json_t *r = find(doc, "instances", "id", f->review);
    assert_string_equal(str(r, "to_state"), "checking");
    json_t *timers = json_object_get(r, "timers");
    assert_int_equal(json_array_size(timers), 1);
    json_t *t = json_array_get(timers, 0);
    assert_string_equal(str(t, "action"), "keep");
    assert_string_equal(str(t, "state"), "checking");
    assert_string_equal(str(t, "timer"), "sla");
    /* submitted on 2025-03-01, ten days of review: the due date it was given (local
     * midnight; daylight time has begun by then) */
    assert_string_equal(str(t, "due"), "2025-03-11T07:00:00Z");
    json_decref(doc);
}

static void test_plan_entry_guards(void **state)
{
    fx *f = *state;
    const char *map[] = {"review=scored"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_OK);
    json_t *doc = parse(text);
    json_t *r = find(doc, "instances", "id", f->review);
    assert_false(json_is_true(json_object_get(r, "movable")));
    assert_non_null(strstr(str(r, "why"), "refuse its data on entry into 'scored'"));
    assert_non_null(strstr(str(r, "why"), "checking --score--> scored: no score recorded"));
    assert_int_equal(json_array_size(json_object_get(r, "timers")), 0);
    json_decref(doc);
}

static void test_plan_schedules_the_new_states_timers(void **state)
{
    fx *f = *state;
    /* an instance whose data the guard accepts: sla cancelled, hold scheduled */
    reopen(f, 1);
    char scored[37];
    f->clock.now = cft_time("2025-03-02T12:00:00Z");
    assert_int_equal(cf_instance_create(f->e, "app", "alameda", "{\"score\": 90}", "t", scored), CF_OK);
    cft_fire(f->e, scored, "submit", NULL, CF_OK);
    f->clock.now = cft_time("2025-03-05T12:00:00Z");
    reopen(f, 2);
    const char *map[] = {"review=scored"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_OK);
    json_t *doc = parse(text);
    json_t *r = find(doc, "instances", "id", scored);
    assert_true(json_is_true(json_object_get(r, "movable")));
    json_t *timers = json_object_get(r, "timers");
    json_t *sla = find(r, "timers", "timer", "sla"), *hold = find(r, "timers", "timer", "hold");
    assert_int_equal(json_array_size(timers), 2);
    assert_string_equal(str(sla, "action"), "cancel");
    assert_string_equal(str(hold, "action"), "schedule");
    /* hold_due: five days from when it entered its state (2025-03-02), local midnight */
    assert_string_equal(str(hold, "due"), "2025-03-07T08:00:00Z");

    /* apply moves it and verify agrees */
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_OK);
    json_decref(doc);
    doc = parse(text);
    assert_true(json_is_true(json_object_get(find(doc, "instances", "id", scored), "migrated")));
    assert_string_equal(cft_state(f->e, scored), "scored");
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(f->e, &rep) != CF_OK)
        fail_msg("verify after migration: %s", cf_errmsg(f->e));
    /* the scheduled timer fires as an ordinary transition of the new version */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, cft_time("2025-03-08T00:00:00Z"), &fired), CF_OK);
    assert_string_equal(cft_state(f->e, scored), "done");
    json_decref(doc);
}

/* ---- errors before anything is touched ---- */

static void expect_map_error(fx *f, const char *pair, const char *text)
{
    const char *map[] = {pair};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    char *out = NULL;
    assert_int_equal(cf_migrate_apply(f->e, &o, &out), CF_EINVAL);
    assert_null(out);
    if (!strstr(cf_errmsg(f->e), text))
        fail_msg("expected '%s' in: %s", text, cf_errmsg(f->e));
    assert_int_equal(cf_migrate_plan(f->e, &o, &out), CF_EINVAL);
}

static void test_bad_maps_change_nothing(void **state)
{
    fx *f = *state;
    expect_map_error(f, "review=nowhere", "has no state 'nowhere'");
    expect_map_error(f, "nowhere=checking", "has a state 'nowhere'");
    expect_map_error(f, "review", "is not OLD_STATE=NEW_STATE");
    expect_map_error(f, "=checking", "is not OLD_STATE=NEW_STATE");
    const char *twice[] = {"review=checking", "review=scored"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = twice;
    o.nmap = 2;
    char *out = NULL;
    assert_int_equal(cf_migrate_apply(f->e, &o, &out), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "mapped twice"));
    o.nmap = 0;
    o.to = "ffffffff";
    assert_int_equal(cf_migrate_apply(f->e, &o, &out), CF_ENOTFOUND);
    o.to = NULL;
    o.workflow = "nope";
    assert_int_equal(cf_migrate_apply(f->e, &o, &out), CF_ENOTFOUND);
    assert_int_equal(cf_migrate_apply(f->e, NULL, &out), CF_EINVAL);
    /* nothing moved */
    assert_int_equal(cft_history_count(f->e, f->draft), 1);
    assert_int_equal(cft_history_count(f->e, f->review), 2);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->review, &info), CF_OK);
    assert_string_equal(info.definition, f->v1);
}

/* ---- apply ---- */

typedef struct rows {
    char event[8][32], from[8][32], to[8][32], def[8][65];
    char data[8][1024];
    int n;
} rows;

static int collect(void *ud, const cf_history_entry *h)
{
    rows *r = ud;
    if (r->n < 8) {
        snprintf(r->event[r->n], 32, "%s", h->event);
        snprintf(r->from[r->n], 32, "%s", h->from_state);
        snprintf(r->to[r->n], 32, "%s", h->to_state);
        snprintf(r->def[r->n], 65, "%s", h->definition);
        snprintf(r->data[r->n], 1024, "%s", h->data);
    }
    r->n++;
    return 0;
}

static void test_apply_records_verifies_and_is_idempotent(void **state)
{
    fx *f = *state;
    const char *map[] = {"review=checking"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    o.actor = "admin";
    char *text = NULL;
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_OK);
    json_t *doc = parse(text);
    assert_int_equal(num(doc, "migrated"), 2);
    json_t *r = find(doc, "instances", "id", f->review);
    assert_true(json_is_true(json_object_get(r, "migrated")));
    assert_true(num(r, "seq") > 0);
    json_decref(doc);

    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->review, &info), CF_OK);
    assert_string_equal(info.state, "checking");
    assert_int_equal(info.version, 3);
    char v2[65];
    snprintf(v2, sizeof v2, "%s", info.definition);
    assert_string_not_equal(v2, f->v1);
    /* the ended instance stays on its version */
    assert_int_equal(cf_instance_get(f->e, f->done, &info), CF_OK);
    assert_string_equal(info.definition, f->v1);

    rows h = {0};
    assert_int_equal(cf_instance_history(f->e, f->review, collect, &h), CF_OK);
    assert_int_equal(h.n, 3);
    assert_string_equal(h.event[2], "(migrate)");
    assert_string_equal(h.from[2], "review");
    assert_string_equal(h.to[2], "checking");
    assert_string_equal(h.def[2], v2);
    json_t *data = json_loads(h.data[2], 0, NULL);
    assert_string_equal(str(data, "from_definition"), f->v1);
    assert_string_equal(str(data, "to_definition"), v2);
    assert_string_equal(str(json_object_get(data, "state_map"), "review"), "checking");
    assert_string_equal(str(json_array_get(json_object_get(data, "timers"), 0), "action"), "keep");
    json_decref(data);

    /* verify recomputes data and timers hashes: the migration row covers them */
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify_full(f->e, NULL, NULL, NULL, &rep) != CF_OK)
        fail_msg("verify after migration: %s", cf_errmsg(f->e));
    assert_int_equal(rep.problems, 0);
    assert_int_equal(rep.timers, 1);

    /* the same command again changes nothing */
    int before = cft_history_count(f->e, f->review);
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_OK);
    doc = parse(text);
    assert_int_equal(num(doc, "candidates"), 0);
    assert_int_equal(num(doc, "migrated"), 0);
    assert_int_equal(num(doc, "already"), 2);
    json_decref(doc);
    assert_int_equal(cft_history_count(f->e, f->review), before);

    /* the kept timer fires on the new version: checking --approve--> done */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, cft_time("2025-03-12T00:00:00Z"), &fired), CF_OK);
    assert_int_equal(fired, 1);
    assert_string_equal(cft_state(f->e, f->review), "done");
    /* a migration is not an entry: the target's entry actions (draft's new 'stamp') do not run */
    json_t *d = NULL;
    assert_int_equal(cf_instance_get(f->e, f->draft, &info), CF_OK);
    d = json_loads(info.data, 0, NULL);
    assert_null(json_object_get(d, "stamped"));
    json_decref(d);
}

static void test_apply_where_and_from(void **state)
{
    fx *f = *state;
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.county = "kern"; /* only the ended instance is in kern */
    char *text = NULL;
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_OK);
    json_t *doc = parse(text);
    assert_int_equal(num(doc, "candidates"), 0);
    assert_int_equal(num(doc, "ended"), 1);
    json_decref(doc);
    o.county = NULL;
    o.state = "draft";
    o.from = f->v1;
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_OK);
    doc = parse(text);
    assert_int_equal(num(doc, "migrated"), 1);
    assert_string_equal(str(json_array_get(json_object_get(doc, "instances"), 0), "id"), f->draft);
    json_decref(doc);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->review, &info), CF_OK);
    assert_string_equal(info.definition, f->v1);
    o.from = "current";
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "name the same version"));
}

static void test_apply_refused_inside_a_batch(void **state)
{
    fx *f = *state;
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    assert_int_equal(cf_batch_begin(f->e), CF_OK);
    char *text = NULL;
    assert_int_equal(cf_migrate_apply(f->e, &o, &text), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "commit or roll back the open batch first"));
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    /* a dry run inside a batch is fine: it writes nothing */
    assert_int_equal(cf_batch_begin(f->e), CF_OK);
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_OK);
    cf_free(text);
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
}

/* A county policy change after a migration recomputes deadlines as of the instant the
 * instance entered its state: a migration row (here a rename) is not an entry. */
typedef struct due_rows {
    char old_due[64], new_due[64];
    int n;
} due_rows;

static int deadline_row(void *ud, const cf_policy_change *c)
{
    due_rows *d = ud;
    if (strcmp(c->kind, "deadline") == 0) {
        snprintf(d->old_due, sizeof d->old_due, "%s", c->old_value);
        snprintf(d->new_due, sizeof d->new_due, "%s", c->new_value);
        d->n++;
    }
    return 0;
}

static void test_policy_change_after_migration_keeps_the_entry(void **state)
{
    fx *f = *state;
    const char *map[] = {"review=checking"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    assert_int_equal(cf_migrate_apply(f->e, &o, NULL), CF_OK);
    char *overlay = cft_write(f->dir, "alameda_20.lua", "return { params = { review_days = 20 } }\n");
    due_rows d = {"", "", 0};
    if (cf_policy_diff(f->e, "alameda", overlay, deadline_row, &d) != CF_OK)
        fail_msg("policy diff: %s", cf_errmsg(f->e));
    assert_int_equal(d.n, 1);
    /* entered review on 2025-03-01 (migrated on 2025-03-04): ten days, then twenty */
    assert_string_equal(d.old_due, "2025-03-11T07:00:00Z");
    assert_string_equal(d.new_due, "2025-03-21T07:00:00Z");
    free(overlay);
}

/* ---- live versions against the policy ---- */

static void test_policy_dropping_a_live_versions_guard_is_refused(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    f->e = NULL;
    cf_engine *e = NULL;
    assert_int_equal(open_with(f, 3, f->pol_reduced, &e), CF_EPOLICY);
    char v1short[13];
    snprintf(v1short, sizeof v1short, "%.12s", f->v1);
    if (!strstr(cf_errmsg(e), v1short) || !strstr(cf_errmsg(e), "guard 'old_check'") ||
        !strstr(cf_errmsg(e), "2 live instances"))
        fail_msg("unexpected message: %s", cf_errmsg(e));
    cf_engine_close(e);
    /* cf_check (no database) finds nothing: only the database knows the live versions */
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = f->wf[3];
    o.policy_dir = f->pol_reduced;
    assert_int_equal(cf_check(&o, NULL, NULL, NULL), CF_OK);

    /* migrate the live instances with the policy that still has it, then drop it */
    if (open_with(f, 3, f->pol, &f->e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(f->e));
    const char *map[] = {"review=checking"};
    cf_migrate_options m = CF_MIGRATE_OPTIONS_INIT;
    m.workflow = "app";
    m.map = map;
    m.nmap = 1;
    assert_int_equal(cf_migrate_apply(f->e, &m, NULL), CF_OK);
    cf_engine_close(f->e);
    f->e = NULL;
    if (open_with(f, 3, f->pol_reduced, &f->e) != CF_OK)
        fail_msg("open after migrating: %s", cf_errmsg(f->e));
}

/* ---- nested definitions ---- */

/* Version 3 becomes V4 (nested); the instances are still on version 1. */
static void nested_target(fx *f)
{
    free(f->wf[3]);
    f->wf[3] = folder_with(f->dir, "wf4", "app.lua", V4);
    reopen(f, 3);
}

static json_t *run_with(fx *f, const char *pair, bool apply)
{
    const char *map[] = {pair};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = pair ? map : NULL;
    o.nmap = pair ? 1 : 0;
    char *text = NULL;
    if ((apply ? cf_migrate_apply(f->e, &o, &text) : cf_migrate_plan(f->e, &o, &text)) != CF_OK)
        fail_msg("migrate with %s: %s", pair ? pair : "no map", cf_errmsg(f->e));
    return parse(text);
}

static void test_nested_plan_lands_by_key_and_keeps_parent_timers(void **state)
{
    fx *f = *state;
    nested_target(f);
    /* review lands in open.review (the same key); sla is kept under its new path, and the
     * parent's hold is scheduled as of when Rae entered review (2025-03-01): five days */
    json_t *doc = run_with(f, NULL, false);
    json_t *r = find(doc, "instances", "id", f->review);
    assert_true(json_is_true(json_object_get(r, "movable")));
    assert_string_equal(str(r, "to_state"), "open.review");
    json_t *sla = find(r, "timers", "timer", "sla"), *hold = find(r, "timers", "timer", "hold");
    assert_int_equal(json_array_size(json_object_get(r, "timers")), 2);
    assert_string_equal(str(sla, "action"), "keep");
    assert_string_equal(str(sla, "state"), "open.review");
    assert_string_equal(str(hold, "action"), "schedule");
    assert_string_equal(str(hold, "state"), "open");
    assert_string_equal(str(hold, "due"), "2025-03-06T08:00:00Z");
    assert_string_equal(str(find(doc, "instances", "id", f->draft), "to_state"), "draft");
    json_decref(doc);

    /* a parent as the landing state means its initial child */
    doc = run_with(f, "review=open", false);
    assert_string_equal(str(find(doc, "instances", "id", f->review), "to_state"), "open.review");
    json_decref(doc);

    /* a full path; pause, declared on the parent, is the only way into paused and its
     * guard refuses Rae's data (no score): refused on entry */
    doc = run_with(f, "review=open.paused", false);
    r = find(doc, "instances", "id", f->review);
    assert_false(json_is_true(json_object_get(r, "movable")));
    assert_non_null(strstr(str(r, "why"), "refuse its data on entry into 'open.paused'"));
    assert_non_null(strstr(str(r, "why"), "no score recorded"));
    json_decref(doc);

    /* a mapping to a path the target lacks is an error before anything is read */
    const char *map[] = {"review=open.nowhere"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 1;
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "has no state 'open.nowhere'"));
}

static void test_nested_apply_runs_the_parent_timer(void **state)
{
    fx *f = *state;
    /* Sam has a score: pause lets him into paused, where sla does not run and hold does */
    reopen(f, 1);
    char sam[37];
    f->clock.now = cft_time("2025-03-02T12:00:00Z");
    assert_int_equal(cf_instance_create(f->e, "app", "alameda", "{\"score\": 70}", "t", sam), CF_OK);
    cft_fire(f->e, sam, "submit", NULL, CF_OK);
    f->clock.now = cft_time("2025-03-05T12:00:00Z");
    nested_target(f);
    json_t *doc = run_with(f, "review=paused", true);
    assert_false(json_is_true(json_object_get(find(doc, "instances", "id", f->review), "migrated")));
    json_t *r = find(doc, "instances", "id", sam);
    assert_true(json_is_true(json_object_get(r, "migrated")));
    assert_string_equal(str(find(r, "timers", "timer", "sla"), "action"), "cancel");
    json_t *hold = find(r, "timers", "timer", "hold");
    assert_string_equal(str(hold, "action"), "schedule");
    assert_string_equal(str(hold, "due"), "2025-03-07T08:00:00Z"); /* as of entering review, the 2nd */
    json_decref(doc);
    assert_string_equal(cft_state(f->e, sam), "open.paused");
    /* Rae, refused there, moves without the map */
    doc = run_with(f, NULL, true);
    assert_int_equal(num(doc, "migrated"), 1); /* Dee moved with Sam */
    json_decref(doc);
    assert_string_equal(cft_state(f->e, f->review), "open.review");
    /* --where state=open names the parent: Sam (in open.paused) and Rae (open.review) are on
     * the target already; none of the three ended on version 1 is left */
    cf_migrate_options w = CF_MIGRATE_OPTIONS_INIT;
    w.workflow = "app";
    w.state = "open";
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &w, &text), CF_OK);
    doc = parse(text);
    assert_int_equal(num(doc, "already"), 2);
    json_decref(doc);
    /* the parent's timer runs on while Sam moves between its children, and fires */
    cft_fire(f->e, sam, "resume", NULL, CF_OK);
    assert_string_equal(cft_state(f->e, sam), "open.review");
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, cft_time("2025-03-09T12:00:00Z"), &fired), CF_OK);
    assert_string_equal(cft_state(f->e, sam), "done");
    assert_string_equal(cft_state(f->e, f->review), "done"); /* Rae's hold was due on the 6th */
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(f->e, &rep) != CF_OK)
        fail_msg("verify after a nested migration: %s", cf_errmsg(f->e));
    doc = run_with(f, NULL, true);
    assert_int_equal(num(doc, "migrated"), 0);
    assert_int_equal(num(doc, "candidates"), 0);
    json_decref(doc);
}

static void test_nested_diff_moves_a_state_under_a_parent(void **state)
{
    fx *f = *state;
    nested_target(f);
    char *text = NULL;
    assert_int_equal(cf_workflow_diff(f->e, "app", f->v1, "current", &text), CF_OK);
    json_t *doc = parse(text);
    /* review kept its key: changed (its path), not removed and added */
    json_t *c = change(doc, "state", "changed", "open.review");
    assert_non_null(c);
    assert_string_equal(str(c, "old"), "review");
    assert_null(change(doc, "state", "removed", "review"));
    assert_null(change(doc, "state", "added", "open.review"));
    assert_non_null(change(doc, "state", "added", "open"));
    assert_string_equal(str(change(doc, "initial", "added", "open"), "new"), "open.review");
    /* its timer is the same; its transition is named by its new path */
    assert_null(change(doc, "timer", "added", "open.review.sla"));
    assert_null(change(doc, "timer", "removed", "review.sla"));
    c = change(doc, "transition", "changed", "open.review --approve--> done");
    assert_non_null(c);
    assert_string_equal(str(c, "old"), "review --approve--> done");
    /* a transition declared on the parent is one change, not one per child */
    assert_non_null(change(doc, "transition", "added", "open --withdraw--> done"));
    assert_null(change(doc, "transition", "added", "open.paused --withdraw--> done"));
    /* one declared with a list of sources is one row per source */
    assert_non_null(change(doc, "transition", "added", "draft --approve--> done"));
    assert_non_null(change(doc, "transition", "added", "open.paused --approve--> done"));
    json_decref(doc);
    /* and back: a state leaving its parent, the parent no longer one */
    assert_int_equal(cf_workflow_diff(f->e, "app", "current", f->v1, &text), CF_OK);
    doc = parse(text);
    c = change(doc, "state", "changed", "review");
    assert_non_null(c);
    assert_string_equal(str(c, "old"), "open.review");
    assert_non_null(change(doc, "state", "removed", "open"));
    json_decref(doc);
}

static void test_nested_back_to_flat_maps_a_parent(void **state)
{
    fx *f = *state;
    nested_target(f);
    json_decref(run_with(f, NULL, true)); /* Rae in open.review, with sla and hold */
    reopen(f, 1);                          /* the flat version is current again */
    /* by key: open.review lands in review; sla kept under review, the parent's hold cancelled */
    json_t *doc = run_with(f, NULL, false);
    json_t *r = find(doc, "instances", "id", f->review);
    assert_string_equal(str(r, "to_state"), "review");
    assert_string_equal(str(find(r, "timers", "timer", "sla"), "action"), "keep");
    assert_string_equal(str(find(r, "timers", "timer", "sla"), "state"), "review");
    assert_string_equal(str(find(r, "timers", "timer", "hold"), "action"), "cancel");
    assert_string_equal(str(find(r, "timers", "timer", "hold"), "state"), "open");
    json_decref(doc);
    /* a map from the parent applies to every state inside it */
    doc = run_with(f, "open=draft", false);
    assert_string_equal(str(find(doc, "instances", "id", f->review), "to_state"), "draft");
    json_decref(doc);
    /* and a map naming the state itself wins over its parent's */
    const char *map[] = {"open=draft", "open.review=review"};
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "app";
    o.map = map;
    o.nmap = 2;
    char *text = NULL;
    assert_int_equal(cf_migrate_plan(f->e, &o, &text), CF_OK);
    doc = parse(text);
    assert_string_equal(str(find(doc, "instances", "id", f->review), "to_state"), "review");
    json_decref(doc);
}

static int timer_state_row(void *ud, const cf_timer_info *t)
{
    char(*out)[64] = ud;
    if (strcmp(t->name, "hold") == 0)
        snprintf(*out, sizeof *out, "%s", t->state);
    return 0;
}

/* A timer the parent declared, which the next version declares on the child: kept, and
 * stored under the child's path from then on. */
static void test_nested_timer_moving_from_parent_to_child(void **state)
{
    fx *f = *state;
    nested_target(f);
    json_decref(run_with(f, NULL, true)); /* Rae in open.review, hold under open */
    char *v5 = strdup(V4);
    assert_non_null(v5);
    /* the hold moves from open to review: swap the two timer lists' owners */
    char *open = strstr(v5, "open = { initial = 'review', timers = ");
    assert_non_null(open);
    const char *v5_states =
        "    open = { initial = 'review' },\n"
        "    review = { parent = 'open', timers = { { name = 'sla', after = 'review_due', event = 'approve' },\n"
        "      { name = 'hold', after = 'hold_due', event = 'withdraw' } } },\n";
    char *after = strstr(open, "    paused");
    assert_non_null(after);
    size_t len = strlen(v5) + strlen(v5_states) + 1;
    char *text5 = malloc(len);
    assert_non_null(text5);
    snprintf(text5, len, "%.*s%s%s", (int)(open - v5 - 4), v5, v5_states, after);
    free(f->wf[2]);
    f->wf[2] = folder_with(f->dir, "wf5", "app.lua", text5);
    free(text5);
    free(v5);
    reopen(f, 2);
    json_t *doc = run_with(f, NULL, true);
    json_t *r = find(doc, "instances", "id", f->review);
    json_t *hold = find(r, "timers", "timer", "hold");
    assert_string_equal(str(hold, "action"), "keep");
    assert_string_equal(str(hold, "state"), "open.review");
    json_decref(doc);
    char stored[64] = "";
    assert_int_equal(cf_timer_list(f->e, 0, INT64_MAX, timer_state_row, &stored), CF_OK);
    assert_string_equal(stored, "open.review");
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(f->e, &rep) != CF_OK)
        fail_msg("verify: %s", cf_errmsg(f->e));
}

/* A policy change after a second migration (open.review renamed open.vetted) recomputes
 * sla from when the instance last entered review, re-entering it under the version before:
 * a row of an earlier version that re-entered its state is an entry. */
static void test_policy_change_after_reentering_under_an_earlier_version(void **state)
{
    fx *f = *state;
    nested_target(f);
    json_decref(run_with(f, NULL, true)); /* Rae in open.review on 2025-03-04 */
    f->clock.now = cft_time("2025-03-06T12:00:00Z");
    cft_fire(f->e, f->review, "resume", NULL, CF_OK); /* re-enters review: sla due ten days on */
    f->clock.now = cft_time("2025-03-07T12:00:00Z");
    char *v6 = strdup(V4);
    assert_non_null(v6);
    for (char *p = strstr(v6, "review"); p; p = strstr(p + 1, "review"))
        if (strncmp(p, "review_due", 10) != 0)
            memcpy(p, "vetted", 6); /* another key, the same length */
    free(f->wf[2]);
    f->wf[2] = folder_with(f->dir, "wf6", "app.lua", v6);
    free(v6);
    reopen(f, 2);
    json_t *doc = run_with(f, "review=vetted", true);
    assert_string_equal(str(find(doc, "instances", "id", f->review), "to_state"), "open.vetted");
    json_decref(doc);
    char *overlay = cft_write(f->dir, "alameda_20.lua", "return { params = { review_days = 20 } }\n");
    due_rows d = {"", "", 0};
    if (cf_policy_diff(f->e, "alameda", overlay, deadline_row, &d) != CF_OK)
        fail_msg("policy diff: %s", cf_errmsg(f->e));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.old_due, "2025-03-16T07:00:00Z");
    assert_string_equal(d.new_due, "2025-03-26T07:00:00Z");
    free(overlay);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions_count_live_and_ended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_names_every_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_blocks_a_state_without_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_keeps_a_renamed_states_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_entry_guards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_schedules_the_new_states_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_maps_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_records_verifies_and_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_where_and_from, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_refused_inside_a_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_change_after_migration_keeps_the_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_dropping_a_live_versions_guard_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_plan_lands_by_key_and_keeps_parent_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_apply_runs_the_parent_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_diff_moves_a_state_under_a_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_back_to_flat_maps_a_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_timer_moving_from_parent_to_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_change_after_reentering_under_an_earlier_version, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
