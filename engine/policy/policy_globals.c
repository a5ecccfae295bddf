/*
 * policy_globals.c — the globals a policy sees: the base functions it may use
 * (some replaced by safe versions), the string, table, math and utf8 libraries
 * read-only and metered (string's pattern functions are pattern.c's), the date
 * library, null, and the per-call tables inst, ev and ctx behind read-only
 * proxies and views; built once on the stack slots of the loading state.
 */
#include "policy/policy_file.h"

#include <lauxlib.h>
#include <lualib.h>

#include <stdio.h>

/* Build the sandbox and the per-call tables on the stack slots of load_all. */
void cf__load_build_sandbox(cf__policy *p, lua_State *L)
{
    static const char *const BASE[] = {"assert", "error", "ipairs", "pairs", "next", "pcall", "select",
                                       "tonumber", "tostring", "type", "rawequal", "rawget", "rawlen",
                                       "setmetatable", "getmetatable", "_VERSION"};
    static const struct { const char *name; lua_CFunction open; } LIBS[] = {
        {"string", luaopen_string}, {"table", luaopen_table}, {"math", luaopen_math}, {"utf8", luaopen_utf8}};

    lua_newtable(L); /* S_ENV */
    luaL_requiref(L, "_G", luaopen_base, 0);
    cf__policy_meter_library(L, p, -1, "_G"); /* in _G itself, where error messages look functions up by name */
    for (size_t i = 0; i < sizeof BASE / sizeof *BASE; i++) {
        lua_getfield(L, -1, BASE[i]);
        lua_setfield(L, S_ENV, BASE[i]);
    }
    lua_getfield(L, -1, "setmetatable");
    lua_pushcclosure(L, cf__safe_setmetatable, 1);
    lua_setfield(L, S_ENV, "setmetatable");
    lua_pushcfunction(L, cf__safe_next);
    lua_setfield(L, S_ENV, "next");
    lua_pushcfunction(L, cf__safe_rawget);
    lua_setfield(L, S_ENV, "rawget");
    lua_pushcfunction(L, cf__safe_rawlen);
    lua_setfield(L, S_ENV, "rawlen");
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof LIBS / sizeof *LIBS; i++) {
        luaL_requiref(L, LIBS[i].name, LIBS[i].open, 0);
        if (LIBS[i].open == luaopen_string) {
            lua_pushnil(L);
            lua_setfield(L, -2, "dump"); /* bytecode out means bytecode could come back in */
            cf__pattern_install(L, -1, cf__policy_pattern_charge, p); /* find, match, gmatch, gsub: metered */
        } else if (LIBS[i].open == luaopen_math) {
            lua_pushnil(L);
            lua_setfield(L, -2, "random"); /* decisions must be reproducible */
            lua_pushnil(L);
            lua_setfield(L, -2, "randomseed");
        }
        cf__policy_meter_library(L, p, -1, LIBS[i].name);
        char refusal[96];
        snprintf(refusal, sizeof refusal, "the '%s' library is read-only for policies", LIBS[i].name);
        cf__push_ro_proxy(L, -1, refusal);
        if (LIBS[i].open == luaopen_string) {
            /* ("x"):upper() must go through the proxy, and getmetatable("") must not reveal it. */
            lua_pushliteral(L, "");
            lua_getmetatable(L, -1);
            lua_pushvalue(L, -3);
            lua_setfield(L, -2, "__index");
            lua_pushboolean(L, 0);
            lua_setfield(L, -2, "__metatable");
            lua_pop(L, 2);
        }
        lua_setfield(L, S_ENV, LIBS[i].name);
        lua_pop(L, 1);
    }
    cf__policy_push_date_library(L, &p->tz);
    cf__push_ro_proxy(L, -1, "the 'date' library is read-only for policies");
    lua_setfield(L, S_ENV, "date");
    lua_pop(L, 1);
    /* null: a light userdata (policies cannot make one) that prints as null;
     * its metatable is set with the views' below. */
    lua_pushlightuserdata(L, p);
    lua_setfield(L, S_ENV, "null");

    /* S_ENV_P, S_ENV_MT: writes go to the backing table while state.lua loads. */
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, S_ENV);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, S_ENV);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_setmetatable(L, S_ENV_P);
    /* S_OVL_P */
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, S_ENV);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, cf__global_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_newtable(L); /* S_GUARDS */
    lua_newtable(L); /* S_ASSIGNS */
    lua_newtable(L); /* S_DEADLINES */
    lua_newtable(L); /* S_PARAMS */
    lua_newtable(L); /* S_INST */
    lua_newtable(L); /* S_EV */
    lua_newtable(L); /* S_CTX */
    cf__push_ro_proxy(L, S_INST, "'inst' is read-only; return a patch from an assign");
    cf__push_ro_proxy(L, S_EV, "'ev' is read-only");
    cf__push_ro_proxy(L, S_CTX, "'ctx' is read-only");
    /* S_VIEW_MT, the metatable of nested views; light userdata (root views and
     * null) get one with the same functions. */
    static const luaL_Reg VIEW_MT[] = {{"__index", cf__view_index},   {"__newindex", cf__view_newindex},
                                       {"__len", cf__view_len},       {"__pairs", cf__view_pairs},
                                       {"__tostring", cf__view_tostring}, {NULL, NULL}};
    lua_createtable(L, 0, 8);
    lua_pushlightuserdata(L, p);
    lua_pushvalue(L, -2);
    luaL_setfuncs(L, VIEW_MT, 2);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushliteral(L, "instance data");
    lua_setfield(L, -2, "__name");
    lua_pushlightuserdata(L, p);
    lua_createtable(L, 0, 6);
    lua_pushlightuserdata(L, p);
    lua_pushvalue(L, S_VIEW_MT);
    luaL_setfuncs(L, VIEW_MT, 2);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    /* inst.data and ev.data are set by each call; inst.id appears on first use. */
    lua_createtable(L, 0, 1);
    lua_pushlightuserdata(L, p);
    lua_pushcclosure(L, cf__view_lazy_id, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, S_INST);
    lua_newtable(L); /* S_DEFAULTS */
}
