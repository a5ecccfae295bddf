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
 * the sandbox's find/match/gmatch/gsub (engine/policy/pattern.c) charge their steps
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
    o.lua_load_time_limit_ms = 600000; /* the instruction limits under test stop these, on any machine */
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

/* ---- CPU time (issue 8): library calls that touch megabytes per instruction,
 * and instructions on long strings, in a county's calls and at a file's top level.
 * A folder of their own: a workflow, the state policy with a part holding the
 * hostile guards (messages must name that file), and fresno's overlay. ---- */

#define CPU_EVENTS                                                                                            \
    X(utf8_loop, "local s = string.rep('a', 8*2^20) for i = 1, 300000 do utf8.len(s) end return true")      \
    X(upper_loop, "local s = string.rep('a', 4*2^20) for i = 1, 300000 do s:upper() end return true")        \
    X(concat_loop, "local t = { string.rep('a', 4*2^20) } for i = 1, 300000 do table.concat(t) end return true") \
    X(rep_empty, "return ('').rep('', 1e12) == ''")                                                          \
    X(move_far, "table.move({}, 1, 1e15, 2) return true")                                                    \
    X(swallow_bytes, "local s = string.rep('a', 8*2^20) for i = 1, 300000 do pcall(utf8.len, s) end return true") \
    X(eq_loop, "local a, b = string.rep('a', 4*2^20), string.rep('a', 4*2^20) while true do if a == b then end end") \
    X(cat_loop, "local a = string.rep('a', 2^20) while true do local c = a .. 'x' end")                     \
    X(swallow_eq, "local a, b = string.rep('a', 4*2^20), string.rep('a', 4*2^20) "                          \
                  "while true do pcall(function() while a == b do end end) end")

typedef struct cpu_fx {
    char *dir, *db, *wdir, *pdir;
    cft_clock clock;
    cf_engine *e;
    char id[37];
    long oks;
} cpu_fx;

static void cpu_add(char *buf, size_t size, const char *text)
{
    size_t len = strlen(buf);
    assert_true(len + strlen(text) < size);
    memcpy(buf + len, text, strlen(text) + 1);
}

static void cpu_files(cpu_fx *c)
{
    c->dir = cft_tmpdir();
    char wf[8192] = "", part[8192] = "";
    cpu_add(wf, sizeof wf, "return { name = 'cpu', initial = 'open', events = { 'ok'");
#define X(name, body) cpu_add(wf, sizeof wf, ", '" #name "'");
    CPU_EVENTS
#undef X
    cpu_add(wf, sizeof wf, " }, states = { open = {} }, transitions = {\n"
                      "  { from = 'open', event = 'ok', to = 'open', actions = { 'count' } },\n");
#define X(name, body) cpu_add(wf, sizeof wf, "  { from = 'open', event = '" #name "', to = 'open', guard = '" #name "' },\n");
    CPU_EVENTS
#undef X
    cpu_add(wf, sizeof wf, "} }\n");
    cpu_add(part, sizeof part, "local P = { guards = {} }\n");
#define X(name, body) cpu_add(part, sizeof part, "function P.guards." #name "() " body " end\n");
    CPU_EVENTS
#undef X
    cpu_add(part, sizeof part, "return P\n");
    free(cft_write(c->dir, "workflows/cpu.lua", wf));
    free(cft_write(c->dir, "lua/policy/cpu.lua", part));
    free(cft_write(c->dir, "lua/policy/state.lua",
                   "return { params = { step = 1 }, overridable = { step = { kind = 'integer', min = 1, max = 100 } },\n"
                   "  assigns = { count = function(inst) return { count = (inst.data.count or 0) + params.step } end } }\n"));
    free(cft_write(c->dir, "lua/counties/fresno.lua", "return { params = { step = 1 } }\n"));
    c->wdir = cft_path(c->dir, "workflows");
    c->pdir = cft_path(c->dir, "lua");
    c->db = cft_path(c->dir, "cpu.db");
    c->clock.now = cft_time("2025-07-01T12:00:00Z");
}

static cf_options cpu_options(cpu_fx *c, uint64_t budget, uint32_t time_ms, uint32_t load_ms)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = c->wdir;
    o.policy_dir = c->pdir;
    o.clock = cft_clock_now;
    o.clock_ud = &c->clock;
    o.lua_instruction_budget = budget;
    o.lua_memory_cap = (size_t)64 << 20; /* the 8 MiB strings fit: the limit under test stops them */
    o.lua_time_limit_ms = time_ms;
    o.lua_load_time_limit_ms = load_ms;
    return o;
}

static void cpu_free(cpu_fx *c)
{
    cf_engine_close(c->e);
    free(c->db);
    free(c->wdir);
    free(c->pdir);
    cft_rmtree(c->dir); /* frees c->dir */
}

/* The instance as stored: version and data. */
static char *cpu_snapshot(cpu_fx *c)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(c->e, c->id, &info), CF_OK);
    char buf[512];
    snprintf(buf, sizeof buf, "%s v%lld %s", info.state, (long long)info.version, info.data);
    return strdup(buf);
}

static void cpu_stopped(cpu_fx *c, const char *event, const char *limit)
{
    int before = cft_history_count(c->e, c->id);
    char *snap = cpu_snapshot(c);
    int rc = cf_instance_fire(c->e, c->id, event, NULL, "t", NULL, NULL);
    const char *msg = cf_errmsg(c->e);
    if (rc != CF_ELIMIT)
        fail_msg("event '%s': %s (%s), expected CF_ELIMIT", event, cf_result_name(rc), msg);
    char head[160];
    snprintf(head, sizeof head, "policy guard '%s' in policy/cpu.lua (county fresno) ran past its ", event);
    assert_contains(msg, head);
    assert_contains(msg, limit);
    /* nothing recorded, nothing changed */
    assert_int_equal(cft_history_count(c->e, c->id), before);
    char *after = cpu_snapshot(c);
    assert_string_equal(after, snap);
    free(after);
    free(snap);
    /* and the next ordinary event is served */
    cft_fire(c->e, c->id, "ok", NULL, CF_OK);
    c->oks++;
}

static void test_cpu_time_is_bounded(void **state)
{
    (void)state;
    cpu_fx c = {0};
    cpu_files(&c);
    /* ten minutes: on a loaded machine too, the budget is what stops these */
    cf_options o = cpu_options(&c, 0, 600000, 0);
    assert_int_equal(cf_engine_open(c.db, &o, &c.e), CF_OK);
    assert_int_equal(cf_instance_create(c.e, "cpu", "fresno", NULL, "setup", c.id), CF_OK);
    static const char budget[] = "instruction budget of 1000000 (an endless loop? library calls count one "
                                 "instruction per 64 bytes they touch; raise lua_instruction_budget";
    cpu_stopped(&c, "utf8_loop", budget);
    cpu_stopped(&c, "upper_loop", budget);
    cpu_stopped(&c, "concat_loop", budget);
    cpu_stopped(&c, "rep_empty", budget);
    cpu_stopped(&c, "move_far", budget);
    cpu_stopped(&c, "swallow_bytes", budget);
    cf_engine_close(c.e);

    /* Only the clock sees these: a budget they never reach, a small time limit. */
    o = cpu_options(&c, (uint64_t)1 << 50, 100, 0);
    assert_int_equal(cf_engine_open(c.db, &o, &c.e), CF_OK);
    static const char late[] =
        "time limit of 100 ms (an endless loop, or work on very long strings? raise lua_time_limit_ms / "
        "--lua-time-limit if the work is legitimate)";
    cpu_stopped(&c, "eq_loop", late);
    cpu_stopped(&c, "cat_loop", late);
    cpu_stopped(&c, "swallow_eq", late);
    rel_census census;
    rel_check(c.e, &census);
    assert_int_equal(census.applied, c.oks);
    rel_census_free(&census);
    cpu_free(&c);
}

static int count_problem(void *ud, const cf_diagnostic *d)
{
    char *seen = ud; /* 4096 bytes: every problem, one a line */
    size_t len = strlen(seen);
    snprintf(seen + len, 4096 - len, "%s: %s\n", d->file, d->message);
    return 0;
}

/* A file whose top level would run for minutes fails the open and certflow check
 * quickly, naming the file; the engine already open keeps serving. */
static void test_load_time_is_bounded(void **state)
{
    fx *f = *state;
    static const struct {
        const char *file, *text, *needle;
        int rc;
    } cases[] = {
        {"lua/counties/evil.lua",
         "local s = string.rep('a', 8*2^20) for i = 1, 300000 do utf8.len(s) end\nreturn {}\n",
         "counties/evil.lua: ran past ", CF_ELIMIT},
        {"lua/counties/evil.lua",
         "local a, b = string.rep('a', 4*2^20), string.rep('a', 4*2^20)\nwhile true do if a == b then end end\n",
         "counties/evil.lua: ran past its load time limit of 200 ms (an endless loop at the top level", CF_ELIMIT},
        {"lua/policy/extra.lua", "local a = string.rep('a', 2^20) while true do local c = a .. 'x' end\n",
         "policy/extra.lua: ran past its load time limit of 200 ms", CF_ELIMIT},
        {"workflows/evil.lua",
         /* two distinct 4 MiB strings (s .. '' would be s itself): each == compares 4 MiB, which the
          * instruction count cannot see, so the time limit is what stops it, on any machine */
         "local s = 'a' for _ = 1, 22 do s = s .. s end\nlocal t = 'a' for _ = 1, 22 do t = t .. t end\n"
         "while true do if s == t then end end\n",
         ":3: took longer than 200 ms to load (an endless loop?", CF_EWORKFLOW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cpu_fx c = {0};
        cpu_files(&c);
        free(cft_write(c.dir, cases[i].file, cases[i].text));
        cf_options o = cpu_options(&c, 0, 0, 200);
        cf_engine *bad = NULL;
        int rc = cf_engine_open(c.db, &o, &bad);
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", cf_errmsg(bad));
        cf_engine_close(bad);
        if (rc != cases[i].rc)
            fail_msg("%s: %s (%s), expected %s", cases[i].file, cf_result_name(rc), msg, cf_result_name(cases[i].rc));
        assert_contains(msg, cases[i].needle);
        /* certflow check says the same */
        char seen[4096] = "";
        int problems = 0;
        assert_int_not_equal(cf_check(&o, count_problem, seen, &problems), CF_OK);
        assert_true(problems >= 1);
        assert_contains(seen, cases[i].needle);
        serve_ok(f);
        cpu_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runaway_policies_hit_the_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_escapes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configured_limits_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pattern_backtracking_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_definitions_are_refused, setup, teardown),
        cmocka_unit_test(test_cpu_time_is_bounded),
        cmocka_unit_test_setup_teardown(test_load_time_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
