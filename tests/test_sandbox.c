/*
 * test_sandbox.c — the one Lua sandbox (engine/sandbox.c): Lua assumes a shrink
 * never fails, the limits stop a run and keep stopping it, and the memory cap
 * refuses growth. realloc is wrapped (see tests/CMakeLists.txt) so that a test
 * can make it fail.
 */
#include "sandbox.h"

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

static bool g_fail_realloc;

void *__wrap_realloc(void *ptr, size_t size)
{
    if (g_fail_realloc)
        return NULL;
    return __real_realloc(ptr, size);
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
        cmocka_unit_test(test_budget_stops_and_keeps_stopping),
        cmocka_unit_test(test_cap_and_charge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
