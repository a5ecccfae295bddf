/*
 * test_sandbox.c — the one Lua sandbox (engine/policy/sandbox.c): Lua assumes a shrink
 * never fails, the limits stop a run and keep stopping it, and the memory cap
 * refuses growth. realloc is wrapped (see tests/CMakeLists.txt) so that a test
 * can make it fail.
 */
#include "internal.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_shrink_keeps_the_block),
        cmocka_unit_test(test_workflow_loads_when_shrinks_fail),
        cmocka_unit_test(test_budget_stops_and_keeps_stopping),
        cmocka_unit_test(test_cap_and_charge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
