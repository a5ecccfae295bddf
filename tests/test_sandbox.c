/*
 * test_sandbox.c — the one Lua sandbox (engine/policy/sandbox.c): Lua assumes a shrink
 * never fails, the limits stop a run and keep stopping it, and the memory cap
 * refuses growth. realloc is wrapped (see tests/CMakeLists.txt) so that a test
 * can make it fail.
 */
#include "internal.h"
#include "policy/lua_code.h"
#include "policy/sandbox.h"

#include <lauxlib.h>
#include <lualib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void *__real_realloc(void *ptr, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
void __wrap_free(void *ptr);

static bool g_fail_realloc; /* every realloc fails */
static bool g_fail_shrink;  /* a realloc to fewer bytes than the block was given fails */

/* The size each live block got from realloc, so that a shrink can be told from
 * a growth (open addressing; blocks from malloc are not in it). */
#define SIZES 65536u
static struct {
    void *p;
    size_t n;
} g_sizes[SIZES];

static size_t slot_of(const void *p)
{
    size_t i = ((uintptr_t)p >> 4) % SIZES;
    while (g_sizes[i].p && g_sizes[i].p != p)
        i = (i + 1) % SIZES;
    return i;
}

static void forget(void *p)
{
    size_t i = slot_of(p);
    if (!g_sizes[i].p)
        return;
    g_sizes[i].p = NULL;
    /* re-place the entries after it that probing may have pushed past the hole */
    for (size_t j = (i + 1) % SIZES; g_sizes[j].p; j = (j + 1) % SIZES) {
        void *q = g_sizes[j].p;
        size_t n = g_sizes[j].n;
        g_sizes[j].p = NULL;
        size_t k = slot_of(q);
        g_sizes[k].p = q;
        g_sizes[k].n = n;
    }
}

void __wrap_free(void *ptr)
{
    if (ptr)
        forget(ptr);
    __real_free(ptr);
}

void *__wrap_realloc(void *ptr, size_t size)
{
    if (g_fail_realloc)
        return NULL;
    if (g_fail_shrink && ptr && size) {
        size_t i = slot_of(ptr);
        if (g_sizes[i].p == ptr && size < g_sizes[i].n)
            return NULL;
    }
    void *q = __real_realloc(ptr, size);
    if (q && size) {
        if (ptr)
            forget(ptr);
        size_t i = slot_of(q);
        g_sizes[i].p = q;
        g_sizes[i].n = size;
    }
    return q;
}

static void raise_plain(lua_State *L, cf__sandbox *sb, unsigned which, const char *where, lua_Debug *ar)
{
    (void)sb;
    (void)ar;
    luaL_error(L, "%s%s", which == CF__LIMIT_TIME ? "time" : "budget", where);
}

/* The allocator of a failed shrink hands back the block it was given (a NULL
 * here makes Lua treat memory as lost). The workflow loader's own allocator
 * returned NULL before the sandbox was shared. */
static void test_failed_shrink_keeps_the_block(void **state)
{
    (void)state;
    cf__sandbox sb;
    lua_State *L = cf__sandbox_open(&sb, (size_t)1 << 20, raise_plain, NULL, true);
    assert_non_null(L);
    void *ud = NULL;
    lua_Alloc f = lua_getallocf(L, &ud);
    size_t before = sb.used;
    char *p = f(ud, NULL, LUA_TSTRING, 1000);
    assert_non_null(p);
    assert_int_equal(sb.used, before + 1000);
    memset(p, 'x', 1000);
    g_fail_realloc = true;
    char *q = f(ud, p, 1000, 10);
    char *grown = f(ud, p, 1000, 2000);
    g_fail_realloc = false;
    assert_ptr_equal(q, p);            /* the shrink "succeeded" in place */
    assert_null(grown);                /* a failed growth is an ordinary memory error */
    assert_int_equal(sb.used, before + 1000);
    assert_int_equal(p[999], 'x');
    f(ud, p, 1000, 0);
    assert_int_equal(sb.used, before);
    lua_close(L);
}

/* Lua's parser shrinks each function's arrays when it closes it: a workflow file
 * still loads when every shrink fails. Before the loader shared the sandbox, its
 * allocator returned NULL there and loading failed with "ran out of memory". */
static void test_workflow_loads_when_shrinks_fail(void **state)
{
    (void)state;
    static const char src[] = "local function pick(a, b) if a then return a end return b end\n"
                              "return {\n"
                              "  name = pick(nil, \"doc\"),\n"
                              "  initial = \"draft\",\n"
                              "  events = { \"publish\" },\n"
                              "  states = { draft = {}, published = { terminal = true } },\n"
                              "  transitions = { { from = \"draft\", event = \"publish\", to = \"published\" } },\n"
                              "}\n";
    cf__workflow *wf = NULL;
    cf__err err = {""};
    g_fail_shrink = true;
    int rc = cf__workflow_compile("doc.lua", src, sizeof src - 1, NULL, NULL, &wf, &err);
    g_fail_shrink = false;
    if (rc != CF_OK)
        fail_msg("rc %d: %s", rc, err.msg);
    assert_non_null(wf);
    cf__workflow_free(wf);
}

static int run(lua_State *L, const char *code)
{
    if (luaL_loadstring(L, code) != LUA_OK)
        return -1;
    return lua_pcall(L, 0, 0, 0);
}

/* An endless loop is stopped by the budget, and a pcall inside cannot swallow it. */
static void test_budget_stops_and_keeps_stopping(void **state)
{
    (void)state;
    cf__sandbox sb;
    lua_State *L = cf__sandbox_open(&sb, (size_t)8 << 20, raise_plain, NULL, false);
    assert_non_null(L);
    luaL_requiref(L, "_G", luaopen_base, 1);
    lua_pop(L, 1);
    cf__sandbox_arm(&sb, 5000, (size_t)1 << 20, 0, true);
    int st = run(L, "while true do pcall(function() while true do end end) end");
    assert_int_not_equal(st, LUA_OK);
    assert_int_equal(sb.limit_first, CF__LIMIT_INSTR);
    assert_true(sb.instr_used >= 5000);
    cf__sandbox_disarm(&sb);
    lua_settop(L, 0);
    /* re-armed, the state runs again */
    cf__sandbox_arm(&sb, 5000, (size_t)1 << 20, 0, true);
    assert_int_equal(run(L, "local x = 0 for i = 1, 10 do x = x + i end"), LUA_OK);
    assert_int_equal(sb.limit_hit, 0);
    cf__sandbox_disarm(&sb);
    lua_close(L);
}

/* Growth past the cap is refused and noted; work charged from C counts. */
static void test_cap_and_charge(void **state)
{
    (void)state;
    cf__sandbox sb;
    lua_State *L = cf__sandbox_open(&sb, (size_t)8 << 20, raise_plain, NULL, false);
    assert_non_null(L);
    luaL_requiref(L, "string", luaopen_string, 1);
    lua_pop(L, 1);
    cf__sandbox_arm(&sb, 100000000, (size_t)64 << 10, 0, true);
    int st = run(L, "local t = {} for i = 1, 100000 do t[i] = i end");
    assert_int_equal(st, LUA_ERRMEM);
    assert_true(sb.limit_hit & CF__LIMIT_MEM);
    cf__sandbox_disarm(&sb);
    lua_settop(L, 0);
    cf__sandbox_arm(&sb, 1000, (size_t)1 << 20, 0, true);
    cf__sandbox_charge(L, &sb, 10, 64 * 10, "");
    assert_int_equal(sb.instr_used, 20);
    cf__sandbox_disarm(&sb);
    cf__sandbox_charge(L, &sb, 5000, 0, ""); /* not armed: nothing is charged */
    assert_int_equal(sb.instr_used, 20);
    lua_close(L);
}


/* ---- reading bytecode (lua_code.c) and straight runs ---- */

/* The function the chunk `return function ... end` makes, on the stack. */
static void push_function(lua_State *L, const char *code)
{
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        fail_msg("%s: %s", code, lua_tostring(L, -1));
}

static cf__lua_code code_of(lua_State *L, const char *code)
{
    push_function(L, code);
    cf__lua_code c;
    if (!cf__lua_code_of(L, -1, &c))
        fail_msg("%s: not read", code);
    assert_true(c.known);
    lua_pop(L, 1);
    return c;
}

/* What the reader finds in the code of each form of Lua 5.4 (this checks the
 * opcode numbers it uses against the Lua the engine runs). */
static void test_lua_code_reads_bytecode(void **state)
{
    (void)state;
    lua_State *L = luaL_newstate();
    static const struct {
        const char *code;
        bool loops, calls, sets_upvalue;
    } cases[] = {
        {"return function(a) return a.x == 1 and a.y < 2, 'no' end", false, false, false},
        {"return function(a) if a then goto done end a = 1 ::done:: return a end", false, false, false},
        {"return function(a) return tostring(a) end", false, true, false},
        {"return function(a) local b = tostring(a) return b end", false, true, false},
        {"return function(a) for i = 1, 3 do a = a + i end return a end", true, false, false},
        {"return function(a) for k in next, a do end return a end", true, true, false},
        {"return function(a) while a do a = a - 1 end return a end", true, false, false},
        {"return function(a) repeat a = a - 1 until a < 0 return a end", true, false, false},
        {"return function(a) ::top:: a = a - 1 if a > 0 then goto top end return a end", true, false, false},
        {"local n = 0 return function(a) n = n + 1 return n end", false, false, true},
        {"local n = 0 return function(a) local f = function() n = 1 end return f end", false, false, true},
        {"local n = 0 return function(a) local f = function() return n end return f end", false, false, false},
        {"return function(...) return select('#', ...) end", false, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cf__lua_code c = code_of(L, cases[i].code);
        if (c.loops != cases[i].loops || c.calls != cases[i].calls || c.sets_upvalue != cases[i].sets_upvalue)
            fail_msg("%s: loops %d calls %d sets_upvalue %d", cases[i].code, c.loops, c.calls, c.sets_upvalue);
        assert_true(c.length > 0);
    }
    /* length: the instructions of its own code, not of the functions nested in it */
    cf__lua_code small = code_of(L, "return function(a) return a end");
    cf__lua_code outer = code_of(L, "return function(a) local f = function(x) return x + x * x - x / 2 end return a end");
    assert_true(outer.length < small.length + 4);
    /* a C function has no bytecode */
    lua_pushcfunction(L, luaopen_base);
    cf__lua_code c;
    assert_false(cf__lua_code_of(L, -1, &c));
    assert_true(c.loops && c.calls && c.sets_upvalue && !c.known);
    lua_close(L);
}

typedef struct chunk {
    char data[4096];
    size_t len;
} chunk;

static int collect(lua_State *L, const void *p, size_t n, void *ud)
{
    (void)L;
    chunk *c = ud;
    if (n > sizeof c->data - c->len)
        return 1;
    memcpy(c->data + c->len, p, n);
    c->len += n;
    return 0;
}

static void expect_unknown(const char *dump, size_t len, const char *what)
{
    cf__lua_code c = {true, false, false, false, 7};
    if (cf__lua_code_read(dump, len, &c))
        fail_msg("%s: read as known", what);
    if (c.known || !c.loops || !c.calls || !c.sets_upvalue || c.length)
        fail_msg("%s: not unknown", what);
}

/* A chunk that is not exactly Lua 5.4 bytecode reads as unknown: a function that
 * may loop, call and assign upvalues, which the host counts as before. */
static void test_lua_code_unknown_falls_back(void **state)
{
    (void)state;
    lua_State *L = luaL_newstate();
    push_function(L, "return function(a) return a end");
    static chunk b;
    assert_int_equal(lua_dump(L, collect, &b, 1), 0);
    size_t len = b.len;
    const char *dump = b.data;
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    cf__lua_code c;
    memcpy(copy, dump, len);
    assert_true(cf__lua_code_read(copy, len, &c));
    assert_false(c.loops);
    /* header: signature 4, version, format, check data 6, three sizes, an integer and a number */
    const size_t header = 4 + 1 + 1 + 6 + 3 + 8 + 8;
    static const size_t spots[] = {0, 4, 5, 6, 12, 13, 14, 15, 23};
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
        memcpy(copy, dump, len);
        copy[spots[i]] ^= 0x01;
        expect_unknown(copy, len, "a header byte changed");
    }
    memcpy(copy, dump, len);
    expect_unknown(copy, len - 1, "truncated");
    expect_unknown(copy, header, "header only");
    expect_unknown(copy, 0, "empty");
    copy[len] = 0;
    expect_unknown(copy, len + 1, "a byte too many");
    /* the first instruction given an opcode Lua 5.4 does not have: after the
     * header, the upvalue count, the (stripped) source, the two line numbers,
     * three bytes and the code size, all single bytes for this function */
    size_t code = header + 1 + 1 + 1 + 1 + 3 + 1;
    assert_int_equal((unsigned char)dump[code - 1], 0x80 | c.length);
    copy[code] = (char)(copy[code] | 0x7f);
    expect_unknown(copy, len, "an unknown opcode");
    free(copy);
    lua_close(L);
}

/* The run's function, loaded before the run is armed. */
static int run_straight(cf__sandbox *sb, const char *code, uint64_t budget, bool calls)
{
    lua_State *L = sb->L;
    if (luaL_loadstring(L, code) != LUA_OK)
        return -1;
    cf__lua_code c;
    cf__lua_code_of(L, -1, &c);
    cf__sandbox_arm_straight(sb, budget, (size_t)1 << 20, 0, true, c.loops ? 0 : c.length, calls);
    int st = lua_pcall(L, 0, 0, 0);
    lua_settop(L, 0);
    return st;
}

/* A straight run installs no count hook, charges its length up front, and
 * counts from the first other Lua function it enters, from a new big block, or
 * when its budget is shorter than its code. */
static void test_straight_runs(void **state)
{
    (void)state;
    cf__sandbox sb;
    lua_State *L = cf__sandbox_open(&sb, (size_t)8 << 20, raise_plain, NULL, false);
    assert_non_null(L);
    luaL_requiref(L, "_G", luaopen_base, 1);
    luaL_requiref(L, "string", luaopen_string, 1);
    lua_pop(L, 2);
    assert_int_equal(run(L, "function spin() while true do end end"), LUA_OK);

    /* no calls: no hook at all */
    assert_int_equal(run_straight(&sb, "local a = 1 local b = a + 2 return a < b", 5000, false), LUA_OK);
    assert_null(lua_gethook(L));
    assert_false(sb.counting);
    assert_true(sb.instr_used > 0 && sb.instr_used < 20);
    cf__sandbox_disarm(&sb);
    /* calls: a call hook; C functions leave it */
    assert_int_equal(run_straight(&sb, "local a = type(1) local b = tostring(a) return b", 5000, true), LUA_OK);
    assert_int_equal(lua_gethookmask(L), LUA_MASKCALL);
    assert_false(sb.counting);
    cf__sandbox_disarm(&sb);
    /* a Lua function switches the count on: the endless helper is stopped */
    assert_int_not_equal(run_straight(&sb, "local a = 1 return spin()", 5000, true), LUA_OK);
    assert_int_equal(sb.limit_first, CF__LIMIT_INSTR);
    assert_true(sb.counting);
    cf__sandbox_disarm(&sb);
    assert_int_not_equal(run_straight(&sb, "local ok = pcall(spin) return ok", 5000, true), LUA_OK);
    assert_int_equal(sb.limit_first, CF__LIMIT_INSTR);
    cf__sandbox_disarm(&sb);
    /* a big block: counted from there on */
    assert_int_equal(run_straight(&sb, "local s = string.rep('x', 100000) return #s", 5000, true), LUA_OK);
    assert_true(sb.counting);
    assert_int_equal(lua_gethookmask(L), LUA_MASKCOUNT);
    cf__sandbox_disarm(&sb);
    /* a budget shorter than the code: counted, and stopped */
    assert_int_not_equal(run_straight(&sb, "local a, b, c, d = 1, 2, 3, 4 local e = a + b + c + d return e", 3, false),
                         LUA_OK);
    assert_int_equal(sb.limit_first, CF__LIMIT_INSTR);
    cf__sandbox_disarm(&sb);
    /* a loop: counted (length 0) */
    assert_int_not_equal(run_straight(&sb, "while true do end", 5000, false), LUA_OK);
    assert_int_equal(sb.limit_first, CF__LIMIT_INSTR);
    cf__sandbox_disarm(&sb);
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_shrink_keeps_the_block),
        cmocka_unit_test(test_workflow_loads_when_shrinks_fail),
        cmocka_unit_test(test_budget_stops_and_keeps_stopping),
        cmocka_unit_test(test_cap_and_charge),
        cmocka_unit_test(test_lua_code_reads_bytecode),
        cmocka_unit_test(test_lua_code_unknown_falls_back),
        cmocka_unit_test(test_straight_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
