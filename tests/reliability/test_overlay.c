/* test_overlay.c — issue 8 through the engine's public calls: nothing of a
 * county's file runs after it is loaded (an overlay returning a table whose
 * __index never returns used to hang every command, cf_check included), one
 * county cannot change what another county's decisions read, a call cannot
 * change what later calls read, and values outside a parameter's declared range
 * are refused. Each refusal names the file and the key, and writes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char WORKFLOW[] =
    "return { name = 'hire', initial = 'open', events = { 'check', 'bump', 'tick' },\n"
    "  states = { open = {} },\n"
    "  transitions = {\n"
    "    { from = 'open', event = 'check', to = 'open', guard = 'shared_low' },\n"
    "    { from = 'open', event = 'bump', to = 'open', guard = 'shared_bump' },\n"
    "    { from = 'open', event = 'tick', to = 'open', guard = 'count_bump' },\n"
    "  } }\n";

static const char STATE[] =
    "SHARED = { count = 0 }\n"
    "local count = 0\n"
    "return {\n"
    "  params = { hire_grace_days = 90 },\n"
    "  overridable = { hire_grace_days = { kind = 'integer', min = 1, max = 365 } },\n"
    "  guards = {\n"
    "    shared_low = function() return SHARED.count < 40, 'SHARED.count is ' .. SHARED.count end,\n"
    "    shared_bump = function() SHARED.count = SHARED.count + 1 return true end,\n"
    "    count_bump = function() count = count + 1 return count == 1, 'count is ' .. count end,\n"
    "  },\n"
    "}\n";

typedef struct fx {
    char *dir, *wdir, *pdir;
    cft_clock clock;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    free(cft_write(f->dir, "workflows/hire.lua", WORKFLOW));
    free(cft_write(f->dir, "lua/policy/state.lua", STATE));
    f->wdir = cft_path(f->dir, "workflows");
    f->pdir = cft_path(f->dir, "lua");
    f->clock.now = cft_time("2025-07-01T12:00:00Z");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->wdir);
    free(f->pdir);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static cf_options options(fx *f)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = f->wdir;
    o.policy_dir = f->pdir;
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    return o;
}

static cf_engine *open_ok(fx *f, const char *name)
{
    char *db = cft_path(f->dir, name);
    cf_options o = options(f);
    cf_engine *e = NULL;
    int rc = cf_engine_open(db, &o, &e);
    if (rc != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    free(db);
    return e;
}

typedef struct seen {
    int count;
    char file[512], msg[2048];
} seen;

static int collect(void *ud, const cf_diagnostic *d)
{
    seen *s = ud;
    if (s->count++ == 0) {
        snprintf(s->file, sizeof s->file, "%s", d->file);
        snprintf(s->msg, sizeof s->msg, "%s", d->message);
    }
    return 0;
}

/* Opening and cf_check both refuse the county file with a message holding every needle. */
static void expect_refused(fx *f, const char *county_text, const char *const *needles)
{
    free(cft_write(f->dir, "lua/counties/evil.lua", county_text));
    char *db = cft_path(f->dir, "refused.db");
    cf_options o = options(f);
    cf_engine *e = NULL;
    int rc = cf_engine_open(db, &o, &e);
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", cf_errmsg(e));
    cf_engine_close(e);
    if (rc != CF_EPOLICY)
        fail_msg("opening with counties/evil.lua: %s: %s", cf_result_name(rc), msg);
    seen s;
    memset(&s, 0, sizeof s);
    int problems = 0;
    /* The policy's problem comes first; the workflow's guards, unresolved without
     * a policy that loads, may follow. */
    rc = cf_check(&o, collect, &s, &problems);
    assert_true(rc == CF_EPOLICY || rc == CF_EWORKFLOW);
    assert_true(problems >= 1);
    assert_non_null(strstr(s.file, "counties/evil.lua"));
    for (; *needles; needles++) {
        if (!strstr(msg, *needles))
            fail_msg("open: expected \"%s\" in: %s", *needles, msg);
        if (!strstr(s.msg, *needles))
            fail_msg("cf_check: expected \"%s\" in: %s", *needles, s.msg);
    }
    char *evil = cft_path(f->dir, "lua/counties/evil.lua");
    remove(evil);
    free(evil);
    free(db);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Issue 8: an endless __index hung every command forever, cf_check included; an
 * erroring one gave "loading policies failed: (no message)". */
static void test_overlay_code_never_runs_after_loading(void **state)
{
    fx *f = *state;
    alarm(60); /* a hang fails the test instead of holding ctest for its timeout */
    expect_refused(f, "return setmetatable({}, { __index = function() while true do end end })\n",
                   NEEDLES("counties/evil.lua: the returned table has a metatable", "remove the setmetatable"));
    expect_refused(f, "return setmetatable({}, { __index = function() error({}) end })\n",
                   NEEDLES("counties/evil.lua: the returned table has a metatable"));
    expect_refused(f, "return { params = setmetatable({}, { __index = function() while true do end end }) }\n",
                   NEEDLES("counties/evil.lua: params has a metatable"));
    expect_refused(f, "return { params = { hire_grace_days = function() return 90 end } }\n",
                   NEEDLES("counties/evil.lua: params.hire_grace_days: must be an integer from 1 to 365",
                           "(got a function)"));
    alarm(0);
}

/* Issue 8: -5, 120.5, NaN and infinity loaded, and every hire in the county then failed. */
static void test_parameter_values_are_checked(void **state)
{
    fx *f = *state;
    static const struct {
        const char *value, *got;
    } bad[] = {{"-5", "(got -5)"}, {"120.5", "(got 120.5)"}, {"0/0", "(got nan)"}, {"math.huge", "(got inf)"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[128];
        snprintf(text, sizeof text, "return { params = { hire_grace_days = %s } }\n", bad[i].value);
        expect_refused(f, text,
                       NEEDLES("counties/evil.lua: params.hire_grace_days: must be an integer from 1 to 365, as "
                               "declared in policy/state.lua",
                               bad[i].got));
    }
}

/* Issue 8: SHARED.count = 41 in counties/evil.lua changed fresno's decisions. */
static void test_one_county_cannot_change_another(void **state)
{
    fx *f = *state;
    expect_refused(f, "SHARED.count = 41\nreturn {}\n",
                   NEEDLES("counties/evil.lua", "policies cannot change 'SHARED' (a table of the state policy kept "
                                                "between calls"));
    /* Without it, fresno decides on the state's value. */
    cf_engine *e = open_ok(f, "fresno.db");
    char id[37];
    assert_int_equal(cf_instance_create(e, "hire", "fresno", NULL, "t", id), CF_OK);
    cft_fire(e, id, "check", NULL, CF_OK);
    cf_engine_close(e);
}

/* What happened when ev was fired: applied, rejected with reasons, or the error. */
static void fire_answer(cf_engine *e, const char *id, const char *ev, char *buf, size_t size)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(e, id, ev, NULL, "t", NULL, &r);
    if (rc == CF_OK)
        snprintf(buf, size, "%s %s", r.applied ? "applied" : "rejected", r.reasons);
    else
        snprintf(buf, size, "%s %s", cf_result_name(rc), cf_errmsg(e));
}

/* Issue 8: a guard that changed a table or a local kept between calls changed
 * later decisions: replay and determinism were broken. The write is refused (a
 * table) or undone (a local), the call fails naming it, nothing is recorded,
 * and the next call decides as if it had never run. */
static void test_calls_cannot_change_later_calls(void **state)
{
    fx *f = *state;
    cf_engine *e = open_ok(f, "calls.db");
    char id[37], buf[4096];
    assert_int_equal(cf_instance_create(e, "hire", "fresno", NULL, "t", id), CF_OK);
    int rows = cft_history_count(e, id);
    fire_answer(e, id, "bump", buf, sizeof buf);
    if (!strstr(buf, "CF_EPOLICY") || !strstr(buf, "policies cannot change 'SHARED'"))
        fail_msg("bump: %s", buf);
    for (int i = 0; i < 2; i++) {
        fire_answer(e, id, "tick", buf, sizeof buf);
        if (!strstr(buf, "CF_EPOLICY") ||
            !strstr(buf, "policy guard 'count_bump' (county fresno) changed 'count' (a local of policy/state.lua "
                         "kept between calls); it was restored"))
            fail_msg("tick %d: %s", i, buf);
    }
    assert_int_equal(cft_history_count(e, id), rows);
    fire_answer(e, id, "check", buf, sizeof buf);
    if (strncmp(buf, "applied", 7) != 0)
        fail_msg("check: %s", buf);
    cf_engine_close(e);
}

/* Issue 8: two calls with the same inputs give the same answer in any order. */
static void test_answers_do_not_depend_on_order(void **state)
{
    fx *f = *state;
    static const char *const events[] = {"bump", "tick", "check", "tick", "bump", "check"};
    enum { N = sizeof events / sizeof *events };
    char forward[N][2048], backward[N][2048];
    const char *dbs[2] = {"forward.db", "backward.db"};
    for (int run = 0; run < 2; run++) {
        cf_engine *e = open_ok(f, dbs[run]);
        char id[37];
        assert_int_equal(cf_instance_create(e, "hire", "fresno", NULL, "t", id), CF_OK);
        for (size_t k = 0; k < N; k++) {
            size_t i = run == 0 ? k : N - 1 - k;
            fire_answer(e, id, events[i], run == 0 ? forward[i] : backward[i], sizeof forward[i]);
        }
        cf_engine_close(e);
    }
    for (size_t i = 0; i < N; i++) {
        /* The instance id differs between the runs: compare from the message's end. */
        const char *a = strstr(forward[i], "policy"), *b = strstr(backward[i], "policy");
        if (a && b)
            assert_string_equal(a, b);
        else
            assert_string_equal(forward[i], backward[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_overlay_code_never_runs_after_loading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_values_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_county_cannot_change_another, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_cannot_change_later_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_do_not_depend_on_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
