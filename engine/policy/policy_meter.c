/*
 * policy_meter.c — what the policy sandbox's C library functions cost. The count
 * hook only sees Lua instructions; a C function that scans, copies or moves
 * megabytes runs inside one. Each such function is wrapped so that its work is
 * charged to the calling policy's instruction budget (and checked against its
 * clock) before it runs when the arguments tell the cost, and after for the rest;
 * pattern matching (engine/policy/pattern.c) charges its steps the same way.
 * docs/policies.md, Limits, says what each call costs.
 */
#include "internal.h"
#include "policy/policy_private.h"

#include <lauxlib.h>
#include <lua.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Pattern matching (engine/policy/pattern.c) runs in C, where the count hook does not
 * reach: its steps are charged here, to the same per-call instruction count. */
void cf__policy_pattern_charge(lua_State *L, void *ud, size_t steps)
{
    cf__policy_charge(L, ud, steps, 0, " (in pattern matching)");
}

/* The C library functions whose work grows with their arguments or results are
 * wrapped: the wrapper charges the work to the instruction budget (and the clock)
 * and calls the original function on the same stack, so that its results and its
 * error messages ("bad argument #1 to 'upper'") are the original's. A call costs
 * one instruction, plus one per value it returns, plus one per CF__BYTES_PER_INSTR bytes
 * of the strings it makes (M_OUT), plus what its kind costs before it runs: */
#define M_SCAN1 1u   /* the bytes of the string at argument 1 */
#define M_OUT 2u     /* the bytes of the strings it returns */
#define M_REP 4u     /* string.rep(s, n, sep): n * (#s + #sep + 1) bytes */
#define M_MOVE 8u    /* table.move(a, f, e, t): e - f + 1 elements */
#define M_SHIFT 16u  /* table.insert(t, pos, v): the elements moved up */
#define M_SORT 32u   /* table.sort: n * log2(n) comparisons, each the longest string's bytes */
#define M_CONCAT 64u /* table.concat(t, sep, i, j): j - i + 1 elements (after) */
#define M_REMOVE 128u /* table.remove(t, pos): the elements moved down */

static const struct {
    const char *lib, *name;
    unsigned how;
} METERED[] = {
    {"_G", "tostring", 0},          {"_G", "tonumber", M_SCAN1},        {"_G", "select", 0},
    {"string", "len", 0},           {"string", "sub", M_OUT},           {"string", "upper", M_SCAN1 | M_OUT},
    {"string", "lower", M_SCAN1 | M_OUT}, {"string", "reverse", M_SCAN1 | M_OUT}, {"string", "byte", 0},
    {"string", "char", M_OUT},      {"string", "format", M_OUT},        {"string", "rep", M_REP},
    {"string", "pack", M_OUT},      {"string", "unpack", M_OUT},        {"string", "packsize", 0},
    {"utf8", "len", M_SCAN1},       {"utf8", "codepoint", M_SCAN1},     {"utf8", "offset", M_SCAN1},
    {"utf8", "char", M_OUT},        {"table", "concat", M_CONCAT | M_OUT}, {"table", "insert", M_SHIFT},
    {"table", "remove", M_REMOVE},   {"table", "move", M_MOVE},          {"table", "sort", M_SORT},
    {"table", "unpack", 0},         {"table", "pack", 0},
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

/* An optional integer argument without converting or raising: *ok turns false when
 * it is neither absent nor an integer (the original function then raises). */
static lua_Integer opt_integer(lua_State *L, int idx, lua_Integer def, bool *ok)
{
    if (lua_isnoneornil(L, idx))
        return def;
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isnum);
    if (!isnum)
        *ok = false;
    return v;
}

/* The byte length of a string argument (a number counts as a short string). */
static size_t arg_bytes(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING ? lua_rawlen(L, idx) : lua_type(L, idx) == LUA_TNUMBER ? 32 : 0;
}

/* A table that is only a table (no metamethod runs while the library walks it). */
static bool plain_table(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return false;
    if (!lua_getmetatable(L, idx))
        return true;
    lua_pop(L, 1);
    return false;
}

/* What table.move / the table functions accept as a table: a table, or a value
 * with a metatable (the original checks the metamethods and raises if missing). */
static bool tablish(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TTABLE)
        return true;
    if (!lua_getmetatable(L, idx))
        return false;
    lua_pop(L, 1);
    return true;
}

/* The cost known before the call, from its arguments only; arguments the original
 * refuses are charged nothing, so that its own error comes first (string.rep of a
 * result larger than the memory left fails on the memory cap, as before). */
static void cost_before(lua_State *L, const cf__policy *p, unsigned how, uint64_t *instr, uint64_t *bytes,
                        uint64_t *after)
{
    bool ok = true;
    if (how & M_SCAN1)
        *bytes = arg_bytes(L, 1);
    if (how & M_REP) {
        lua_Integer n = opt_integer(L, 2, 0, &ok);
        uint64_t unit = (uint64_t)arg_bytes(L, 1) + (uint64_t)arg_bytes(L, 3);
        if (ok && lua_type(L, 2) == LUA_TNUMBER && n > 0 && (unit == 0 || unit <= (uint64_t)INT_MAX / (uint64_t)n) &&
            (uint64_t)n * unit <= (uint64_t)(p->sb.limit > p->sb.used ? p->sb.limit - p->sb.used : 0)) {
            /* each copy costs its bytes and one more: ("").rep("", 1e12) is not free */
            *bytes = sat_add(*bytes, sat_mul((uint64_t)n, unit + 1));
        }
    }
    if (how & M_MOVE) {
        lua_Integer f = opt_integer(L, 2, 0, &ok), e = opt_integer(L, 3, 0, &ok), t = opt_integer(L, 4, 0, &ok);
        if (ok && !lua_isnoneornil(L, 2) && !lua_isnoneornil(L, 3) && !lua_isnoneornil(L, 4) && tablish(L, 1) &&
            (lua_isnoneornil(L, 5) || tablish(L, 5)) && e >= f && (f > 0 || e < LUA_MAXINTEGER + f)) {
            lua_Integer n = e - f + 1;
            if (t <= LUA_MAXINTEGER - n + 1)
                *instr = sat_add(*instr, (uint64_t)n);
        }
    }
    if ((how & (M_SHIFT | M_REMOVE)) && plain_table(L, 1) && lua_gettop(L) == ((how & M_SHIFT) ? 3 : 2)) {
        /* insert(t, pos, v) moves n - pos + 1 up; remove(t, pos) moves n - pos down */
        lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
        lua_Integer pos = opt_integer(L, 2, n, &ok);
        if (ok && pos >= 1 && pos <= n + 1)
            *instr = sat_add(*instr, (uint64_t)(n - pos + ((how & M_SHIFT) ? 1 : 0)));
    }
    if ((how & M_SORT) && plain_table(L, 1)) {
        uint64_t n = lua_rawlen(L, 1), logn = 1, longest = 0;
        while (logn < 64 && ((uint64_t)1 << logn) < n)
            logn++;
        if (lua_isnoneornil(L, 2)) {
            /* the default comparison scans strings: each costs up to the longest */
            for (uint64_t i = 1; i <= n; i++) {
                if (lua_rawgeti(L, 1, (lua_Integer)i) == LUA_TSTRING && lua_rawlen(L, -1) > longest)
                    longest = lua_rawlen(L, -1);
                lua_pop(L, 1);
            }
        }
        uint64_t compares = sat_mul(n, logn);
        *instr = sat_add(*instr, compares);
        *bytes = sat_add(*bytes, sat_mul(compares, longest));
    }
    if (how & M_CONCAT) {
        lua_Integer i = opt_integer(L, 3, 1, &ok);
        lua_Integer j = lua_isnoneornil(L, 4) && plain_table(L, 1) ? (lua_Integer)lua_rawlen(L, 1)
                                                                   : opt_integer(L, 4, 0, &ok);
        if (ok && j >= i)
            *after = (uint64_t)j - (uint64_t)i + 1u;
    }
}

/* Upvalues: the original function, p, how it is charged. */
static int metered(lua_State *L)
{
    cf__policy *p = lua_touserdata(L, lua_upvalueindex(2));
    unsigned how = (unsigned)lua_tointeger(L, lua_upvalueindex(3));
    uint64_t instr = 1, bytes = 0, after = 0;
    if (how)
        cost_before(L, p, how, &instr, &bytes, &after);
    cf__policy_charge(L, p, instr, bytes, "");
    int n = lua_tocfunction(L, lua_upvalueindex(1))(L);
    uint64_t out = 0;
    if (how & M_OUT)
        for (int i = 1; i <= n; i++)
            if (lua_type(L, -i) == LUA_TSTRING)
                out += lua_rawlen(L, -i);
    cf__policy_charge(L, p, sat_add((uint64_t)n, after), out, "");
    return n;
}

/* Replace the metered functions of the library table at t (named lib) with wrappers. */
void cf__policy_meter_library(lua_State *L, cf__policy *p, int t, const char *lib)
{
    t = lua_absindex(L, t);
    for (size_t i = 0; i < sizeof METERED / sizeof *METERED; i++) {
        if (strcmp(METERED[i].lib, lib) != 0)
            continue;
        if (lua_getfield(L, t, METERED[i].name) != LUA_TFUNCTION || !lua_iscfunction(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushlightuserdata(L, p);
        lua_pushinteger(L, (lua_Integer)METERED[i].how);
        lua_pushcclosure(L, metered, 3);
        lua_setfield(L, t, METERED[i].name);
    }
}

