/* test_hostile.c — hostile policies and definitions, through the engine's
 * public calls: endless loops, deep recursion, memory bombs, reaching for os,
 * io, load, require, debug, the string metatable, rawset, coroutines and
 * finalizers. Each is stopped with an error naming the function or file and the
 * limit or rule, nothing is recorded, and the next ordinary event is served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PWNED "/tmp/certflow-reliability-pwned"

typedef struct fx {
    char *dir;
    char *db;
    cft_clock clock;
    cf_engine *e;
    char id[37];
    long oks; /* ordinary events applied so far */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "hostile.db");
    f->clock.now = cft_time("2025-07-01T12:00:00Z");
    f->e = rel_open_ok(f->db, &f->clock, 0);
    assert_int_equal(cf_instance_create(f->e, "hostile", "alameda", NULL, "setup", f->id), CF_OK);
    remove(PWNED);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e); /* would hang here if a finalizer had slipped through */
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* needle may list alternatives separated by '|': one of them must be there. */
static void assert_contains(const char *hay, const char *needle)
{
    char alt[512];
    snprintf(alt, sizeof alt, "%s", needle);
    for (char *save = NULL, *a = strtok_r(alt, "|", &save); a; a = strtok_r(NULL, "|", &save))
        if (strstr(hay, a))
            return;
    fail_msg("expected \"%s\" in: %s", needle, hay);
}

/* The engine serves an ordinary event correctly: applied, counted, recorded. */
static void serve_ok(fx *f)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(f->e, f->id, "ok", NULL, "t", NULL, &r);
    if (rc != CF_OK)
        fail_msg("the ordinary event after a hostile one: %s: %s", cf_result_name(rc), cf_errmsg(f->e));
    f->oks++;
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->id, &info), CF_OK);
    json_t *d = json_loads(info.data, 0, NULL);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "count")), f->oks);
    json_decref(d);
}

/* Fire a hostile event: it fails with `rc` and a message naming `who` and
 * containing `needle`; nothing is recorded; the next event is served. */
static void stopped(fx *f, const char *event, int rc, const char *who, const char *needle)
{
    int before = cft_history_count(f->e, f->id);
    int got = cf_instance_fire(f->e, f->id, event, NULL, "t", NULL, NULL);
    const char *msg = cf_errmsg(f->e);
    if (got != rc)
        fail_msg("event '%s': %s (%s), expected %s", event, cf_result_name(got), msg, cf_result_name(rc));
    assert_contains(msg, who);
    assert_contains(msg, needle);
    assert_int_equal(cft_history_count(f->e, f->id), before);
    serve_ok(f);
}

static void test_runaway_policies_hit_the_limits(void **state)
{
    fx *f = *state;
    stopped(f, "loop", CF_ELIMIT, "policy guard 'loop'", "instruction budget of 1000000");
    stopped(f, "pcall_loop", CF_ELIMIT, "policy guard 'pcall_loop'", "instruction budget of 1000000");
    stopped(f, "concat_bomb", CF_ELIMIT, "policy guard 'concat_bomb'", "memory cap of 16777216 bytes");
    stopped(f, "rep_bomb", CF_ELIMIT, "policy guard 'rep_bomb'", "memory cap of 16777216 bytes");
    /* Deep recursion: whichever comes first, Lua's stack limit or the memory cap. */
    int before = cft_history_count(f->e, f->id);
    int rc = cf_instance_fire(f->e, f->id, "recurse", NULL, "t", NULL, NULL);
    const char *msg = cf_errmsg(f->e);
    assert_contains(msg, "policy guard 'recurse'");
    if (!((rc == CF_ELIMIT && strstr(msg, "memory cap of 16777216 bytes")) ||
          (rc == CF_EPOLICY && strstr(msg, "stack overflow"))))
        fail_msg("recursion: %s: %s", cf_result_name(rc), msg);
    assert_int_equal(cft_history_count(f->e, f->id), before);
    serve_ok(f);
    /* A table bomb meets one limit or the other. */
    rc = cf_instance_fire(f->e, f->id, "table_bomb", NULL, "t", NULL, NULL);
    msg = cf_errmsg(f->e);
    assert_int_equal(rc, CF_ELIMIT);
    assert_contains(msg, "policy guard 'table_bomb'");
    if (!strstr(msg, "memory cap of 16777216 bytes") && !strstr(msg, "instruction budget of 1000000"))
        fail_msg("table bomb: %s", msg);
    serve_ok(f);
    /* Results nested without end are refused when converted. */
    stopped(f, "deep_patch", CF_EPOLICY, "policy assign 'deep_patch'", "nested too deeply");
}

static void test_sandbox_escapes_are_refused(void **state)
{
    fx *f = *state;
    stopped(f, "use_os", CF_EPOLICY, "policy guard 'use_os'", "global 'os'");
    stopped(f, "use_io", CF_EPOLICY, "policy guard 'use_io'", "global 'io'");
    stopped(f, "use_load", CF_EPOLICY, "policy guard 'use_load'", "global 'load'");
    stopped(f, "use_require", CF_EPOLICY, "policy guard 'use_require'", "global 'require'");
    stopped(f, "use_debug", CF_EPOLICY, "policy guard 'use_debug'", "global 'debug'");
    stopped(f, "use_dofile", CF_EPOLICY, "policy guard 'use_dofile'", "global 'dofile'");
    stopped(f, "coroutine", CF_EPOLICY, "policy guard 'use_coroutine'", "global 'coroutine'");
    stopped(f, "collectgarbage", CF_EPOLICY, "policy guard 'use_collectgarbage'", "global 'collectgarbage'");
    stopped(f, "rawset", CF_EPOLICY, "policy guard 'use_rawset'", "global 'rawset'");
    /* The string metatable is hidden (getmetatable gives false), and the library is read-only. */
    stopped(f, "string_meta", CF_EPOLICY, "policy guard 'string_meta'", "attempt to index a boolean value");
    stopped(f, "string_meta_write", CF_EPOLICY, "policy guard 'string_meta_write'",
            "attempt to index a boolean value");
    stopped(f, "string_lib_write", CF_EPOLICY, "policy guard 'string_lib_write'",
            "the 'string' library is read-only for policies");
    stopped(f, "write_inst", CF_EPOLICY, "policy guard 'write_inst'", "instance data is read-only");
    stopped(f, "write_params", CF_EPOLICY, "policy guard 'write_params'", "params are read-only");
    stopped(f, "write_global", CF_EPOLICY, "policy guard 'write_global'", "cannot write global 'threshold'");
    stopped(f, "gc_finalizer", CF_EPOLICY, "policy guard 'gc_finalizer'", "cannot set __gc finalizers");
    /* An error value whose __tostring loops is never turned into text. */
    stopped(f, "error_object", CF_EPOLICY, "policy guard 'error_object'", "error value of type table");
    assert_int_not_equal(access(PWNED, F_OK), 0);

    /* A __gc added after setmetatable is not a finalizer: the guard passes, and
     * plenty of garbage later (and closing, in teardown) nothing runs it. */
    cft_fire(f->e, f->id, "late_gc", NULL, CF_OK);
    f->oks++;
    for (int i = 0; i < 200; i++)
        serve_ok(f);
    rel_census census;
    rel_check(f->e, &census);
    assert_int_equal(census.applied, f->oks);
    assert_int_equal(census.rejected, 0);
    rel_census_free(&census);
}

/* The limits are the embedder's: tighter ones are named in the messages. */
static void test_configured_limits_are_named(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_REL_FIXTURES "/workflows";
    o.policy_dir = CF_REL_FIXTURES "/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    o.lua_instruction_budget = 5000;
    o.lua_memory_cap = 1 << 20;
    assert_int_equal(cf_engine_open(f->db, &o, &f->e), CF_OK);
    stopped(f, "loop", CF_ELIMIT, "policy guard 'loop'", "instruction budget of 5000");
    stopped(f, "concat_bomb", CF_ELIMIT, "policy guard 'concat_bomb'", "memory cap of 1048576 bytes");
}

/* Backtracking in Lua patterns runs inside C, out of the count hook's sight:
 * the sandbox's find/match/gmatch/gsub (engine/pattern.c) charge their steps
 * to the instruction budget, so the guard stops with CF_ELIMIT. In a child,
 * so that a regression fails after a minute instead of hanging the suite. */
static void test_pattern_backtracking_is_bounded(void **state)
{
    fx *f = *state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(60);
        int rc = cf_instance_fire(f->e, f->id, "pattern_bomb", NULL, "t", NULL, NULL);
        _exit(rc == CF_ELIMIT ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("a pattern match in a guard ran for a minute past the instruction budget (signal %d)",
                 WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- hostile definitions: the engine that would load them refuses to open,
 * naming the file and the limit; an engine already open keeps serving. ---- */

static void refuse_open(fx *f, const char *wf_text, const char *policy_text, int rc, const char *file,
                        const char *needle)
{
    char *dir = cft_tmpdir();
    char *wf = NULL, *pol = NULL;
    /* A valid workflow beside the hostile file, so only the hostile file is at fault. */
    if (wf_text)
        wf = cft_write(dir, file, wf_text);
    else
        free(cft_write(dir, "workflows/plain.lua",
                       "return { name = 'plain', initial = 'a', events = { 'go' }, states = { a = {}, b = {} },"
                       " transitions = { { from = 'a', event = 'go', to = 'b' } } }"));
    if (policy_text)
        pol = cft_write(dir, file, policy_text);
    else
        free(cft_write(dir, "lua/policy/state.lua", "return {}"));
    char *wdir = cft_path(dir, "workflows"), *pdir = cft_path(dir, "lua");
    char *db = cft_path(dir, "other.db");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = wdir;
    o.policy_dir = pdir;
    cf_engine *bad = NULL;
    int got = cf_engine_open(db, &o, &bad);
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", cf_errmsg(bad));
    cf_engine_close(bad);
    if (got != rc)
        fail_msg("opening with hostile %s: %s (%s), expected %s", file, cf_result_name(got), msg, cf_result_name(rc));
    /* Workflow messages give the file's path; policy messages its place in the policy folder. */
    assert_contains(msg, wf ? wf : file + strlen("lua/"));
    assert_contains(msg, needle);
    /* The engine already open is not disturbed. */
    serve_ok(f);
    free(wf);
    free(pol);
    free(wdir);
    free(pdir);
    free(db);
    cft_rmtree(dir);
}

static void test_hostile_definitions_are_refused(void **state)
{
    fx *f = *state;
    refuse_open(f, "while true do end\nreturn {}\n", NULL, CF_EWORKFLOW, "workflows/endless.lua",
                ":1: took too long to load (an endless loop?)");
    refuse_open(f, "local s = 'x'\nfor _ = 1, 64 do s = s .. s end\nreturn {}\n", NULL, CF_EWORKFLOW,
                "workflows/huge.lua", "ran out of memory while running (limit 64 MiB)");
    refuse_open(f, "local t = {}\nfor i = 1, 1 << 40 do t[i] = i end\nreturn t\n", NULL, CF_EWORKFLOW,
                "workflows/table.lua", "(limit 64 MiB)");
    refuse_open(f, "local function f() return f() + 1 end\nreturn f()\n", NULL, CF_EWORKFLOW,
                "workflows/recurse.lua", "stack overflow|ran out of memory while running (limit 64 MiB)");
    refuse_open(f, "os.execute('touch " PWNED "')\nreturn {}\n", NULL, CF_EWORKFLOW, "workflows/os.lua",
                "global 'os'");
    refuse_open(f, "return { name = string.rep('x', 10) }\n", NULL, CF_EWORKFLOW, "workflows/string.lua",
                "global 'string'");
    refuse_open(f, "return { name = ('x'):rep(1 << 40) }\n", NULL, CF_EWORKFLOW, "workflows/meta.lua",
                "attempt to index");
    refuse_open(f, NULL, "while true do end\nreturn {}\n", CF_ELIMIT, "lua/policy/state.lua",
                "ran past 50000000 instructions while loading");
    refuse_open(f, NULL, "local s = 'x'\nfor _ = 1, 64 do s = s .. s end\nreturn {}\n", CF_ELIMIT,
                "lua/policy/state.lua", "needs more than 67108864 bytes while loading");
    refuse_open(f, NULL, "io.open('" PWNED "', 'w')\nreturn {}\n", CF_EPOLICY, "lua/policy/state.lua",
                "global 'io'");
    assert_int_not_equal(access(PWNED, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runaway_policies_hit_the_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_escapes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configured_limits_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pattern_backtracking_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_definitions_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
