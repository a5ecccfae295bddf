/*
 * views.c — what policies see of the engine's data without copying it: read-only
 * proxies of tables, and lazy views of the call's JSON (inst.data, ev.data) that
 * are valid only during the call they were given to.
 */
#include "internal.h"
#include "policy/policy_private.h"

#include <lauxlib.h>
#include <lua.h>

#include <stdint.h>
#include <string.h>


int cf__ro_newindex(lua_State *L)
{
    return luaL_error(L, "%s", lua_tostring(L, lua_upvalueindex(1)));
}

static int ro_next(lua_State *L)
{
    lua_settop(L, 2);
    if (!lua_getmetatable(L, 1) || lua_getfield(L, -1, "__index") != LUA_TTABLE)
        return 0;
    lua_pushvalue(L, 2);
    if (!lua_next(L, -2))
        return 0;
    return 2;
}

int cf__ro_pairs(lua_State *L)
{
    lua_pushcfunction(L, ro_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

int cf__ro_len(lua_State *L)
{
    if (!lua_getmetatable(L, 1) || lua_getfield(L, -1, "__index") != LUA_TTABLE)
        return 0;
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* Push an empty table whose reads go to the table at real and whose writes
 * raise `refusal`. The metatable is locked against getmetatable/setmetatable. */
void cf__push_ro_proxy(lua_State *L, int real, const char *refusal)
{
    real = lua_absindex(L, real);
    lua_newtable(L);
    lua_createtable(L, 0, 6);
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, refusal);
    lua_pushcclosure(L, cf__ro_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, cf__ro_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, cf__ro_len);
    lua_setfield(L, -2, "__len");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* setmetatable without __gc: a finalizer would run outside any call's limits
 * (at the latest when the host closes). */
int cf__safe_setmetatable(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    ((cf__policy *)((cf__sandbox *)ud)->owner)->metatables = true; /* see call_run */
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "policies cannot set __gc finalizers");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

int cf__global_write(lua_State *L)
{
    return luaL_error(L, "policies cannot write global '%s'", lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

/* True for a table whose writes the host refuses (a read-only proxy, a frozen
 * table, the globals): its metatable's __newindex is one of the host's. */
bool cf__is_read_only(lua_State *L, int t)
{
    if (lua_type(L, t) != LUA_TTABLE || !lua_getmetatable(L, t))
        return false;
    lua_pushliteral(L, "__newindex");
    lua_rawget(L, -2);
    lua_CFunction f = lua_tocfunction(L, -1);
    lua_pop(L, 2);
    return f == cf__ro_newindex || f == cf__global_write;
}

/* For a read-only table, push the table its reads go to and return true. */
bool cf__push_backing(lua_State *L, int t)
{
    if (!cf__is_read_only(L, t))
        return false;
    lua_getmetatable(L, t);
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 2);
        return false;
    }
    lua_remove(L, -2);
    return true;
}

/* next, rawget and rawlen of the sandbox see through read-only tables to what
 * they hold, so that freezing a table changes nothing a policy can read. */
int cf__safe_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (cf__push_backing(L, 1))
        lua_replace(L, 1);
    return lua_next(L, 1) ? 2 : (lua_pushnil(L), 1);
}

int cf__safe_rawget(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    if (cf__push_backing(L, 1))
        lua_replace(L, 1);
    lua_rawget(L, 1);
    return 1;
}

int cf__safe_rawlen(lua_State *L)
{
    int t = lua_type(L, 1);
    luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
    lua_settop(L, 1);
    if (cf__push_backing(L, 1))
        lua_replace(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
    return 1;
}

/* ---- JSON views ---- */

/* Nested objects and arrays of the data are views: a small userdata made on
 * access, carrying the call it belongs to. The roots, inst.data and ev.data,
 * are light userdata instead, so that a call allocates nothing for them: the
 * value is a tag, (gen << 2) | (which << 1) | 1, odd so that it never equals
 * `null` (the light userdata p, an aligned address). A tag names its call and
 * its table; the JSON comes from the call in progress. Both kinds share the view
 * functions; light userdata (roots and `null`) have Lua's one metatable for the
 * type, the functions below tell them apart. The tag holds the generation's
 * low 62 bits (30 on a 32-bit build): a root view used exactly 2^62 (2^30)
 * calls after its own would pass for current and read that call's data, never
 * freed memory. */
static const char *const STALE_VIEW = "instance data was kept past the policy call it was given to; copy the values "
                                      "you need during the call";

/* The JSON a root tag stands for in the call in progress; NULL when the tag is
 * from an earlier call (or names data this call does not have). */
json_t *cf__view_root_json(const cf__policy *p, const void *tag)
{
    uintptr_t t = (uintptr_t)tag;
    if (!p->call || t >> 2 != (((uintptr_t)p->gen << 2) >> 2))
        return NULL;
    json_t *j = (t & 2) ? p->call->event_data : p->call->data;
    return j && (json_is_object(j) || json_is_array(j)) ? j : NULL;
}

/* The JSON of the view at idx, or an error: a stale view, or not a view at all
 * (`null`, or anything else a policy passes to a view function it got from pairs). */
static json_t *check_view(lua_State *L, int idx)
{
    cf__policy *p = lua_touserdata(L, lua_upvalueindex(1));
    switch (lua_type(L, idx)) {
    case LUA_TLIGHTUSERDATA: {
        const void *tag = lua_touserdata(L, idx);
        if (tag == p)
            luaL_error(L, "attempt to use null as a table");
        json_t *j = (uintptr_t)tag & 1 ? cf__view_root_json(p, tag) : NULL;
        if (!j)
            luaL_error(L, "%s", STALE_VIEW);
        return j;
    }
    case LUA_TUSERDATA: {
        lua_getmetatable(L, idx);
        bool is_view = lua_rawequal(L, -1, lua_upvalueindex(2));
        lua_pop(L, 1);
        view *v = lua_touserdata(L, idx);
        if (!is_view)
            break;
        if (v->gen != p->gen)
            luaL_error(L, "%s", STALE_VIEW);
        return v->j;
    }
    default:
        break;
    }
    luaL_error(L, "instance data expected, got %s", luaL_typename(L, idx));
    return NULL;
}

/* Push j as a Lua value; objects and arrays become views with the view
 * metatable (upvalue 2 of the calling view function). */
static void push_json(lua_State *L, const cf__policy *p, json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_OBJECT:
    case JSON_ARRAY: {
        view *v = lua_newuserdatauv(L, sizeof *v, 0);
        v->j = j;
        v->gen = p->gen;
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_setmetatable(L, -2);
        break;
    }
    default:
        lua_pushnil(L);
    }
}

/* An array index from a Lua key: 1-based integer, or -1. */
static lua_Integer array_index(lua_State *L, int idx)
{
    int isnum = 0;
    lua_Integer k = lua_tointegerx(L, idx, &isnum);
    return isnum && k >= 1 ? k - 1 : -1;
}

int cf__view_index(lua_State *L)
{
    const cf__policy *p = lua_touserdata(L, lua_upvalueindex(1));
    json_t *j = NULL;
    if (lua_type(L, 1) == LUA_TLIGHTUSERDATA) { /* a root of this call: the common case, checked here */
        const void *tag = lua_touserdata(L, 1);
        if ((uintptr_t)tag & 1)
            j = cf__view_root_json(p, tag);
    }
    if (!j)
        j = check_view(L, 1);
    json_t *child = NULL;
    if (json_is_object(j) && lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *key = lua_tolstring(L, 2, &len);
        child = json_object_getn(j, key, len);
    } else if (json_is_array(j)) {
        lua_Integer i = array_index(L, 2);
        if (i >= 0)
            child = json_array_get(j, (size_t)i);
    }
    if (!child)
        return lua_pushnil(L), 1;
    push_json(L, p, child);
    return 1;
}

int cf__view_newindex(lua_State *L)
{
    check_view(L, 1); /* `null` says so */
    return luaL_error(L, "instance data is read-only; return a patch from an assign");
}

int cf__view_len(lua_State *L)
{
    json_t *j = check_view(L, 1);
    lua_pushinteger(L, json_is_array(j) ? (lua_Integer)json_array_size(j) : 0);
    return 1;
}

/* Iteration over a view; JSON nulls are skipped, as absent keys are nil. */
static int view_next(lua_State *L)
{
    json_t *j = check_view(L, 1);
    const cf__policy *p = lua_touserdata(L, lua_upvalueindex(1));
    lua_settop(L, 2);
    if (json_is_object(j)) {
        void *it;
        if (lua_isnil(L, 2))
            it = json_object_iter(j);
        else if (lua_type(L, 2) == LUA_TSTRING && (it = json_object_iter_at(j, lua_tostring(L, 2))) != NULL)
            it = json_object_iter_next(j, it);
        else
            return luaL_error(L, "invalid key to 'next' over instance data");
        for (; it; it = json_object_iter_next(j, it)) {
            json_t *val = json_object_iter_value(it);
            if (json_is_null(val))
                continue;
            lua_pushstring(L, json_object_iter_key(it));
            push_json(L, p, val);
            return 2;
        }
        return 0;
    }
    if (json_is_array(j)) {
        lua_Integer prev = lua_isnil(L, 2) ? -1 : array_index(L, 2);
        if (!lua_isnil(L, 2) && prev < 0)
            return luaL_error(L, "invalid key to 'next' over instance data");
        for (size_t i = (size_t)(prev + 1); i < json_array_size(j); i++) {
            json_t *val = json_array_get(j, i);
            if (json_is_null(val))
                continue;
            lua_pushinteger(L, (lua_Integer)i + 1);
            push_json(L, p, val);
            return 2;
        }
    }
    return 0;
}

int cf__view_pairs(lua_State *L)
{
    check_view(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushcclosure(L, view_next, 2);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

int cf__view_tostring(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, 1) == lua_touserdata(L, lua_upvalueindex(1))) {
        lua_pushliteral(L, "null");
        return 1;
    }
    json_t *j = check_view(L, 1);
    lua_pushstring(L, json_is_array(j) ? "instance data (array)" : "instance data (object)");
    return 1;
}

/* inst.id and inst.serial are pushed on use: they differ on nearly every call, and
 * interning them up front cost a guard that never reads them more than the guard itself.
 * Upvalue: p. */
int cf__view_lazy_id(lua_State *L)
{
    cf__policy *p = lua_touserdata(L, lua_upvalueindex(1));
    if (!p->call || lua_type(L, 2) != LUA_TSTRING)
        return 0;
    const char *key = lua_tostring(L, 2);
    if (strcmp(key, "id") == 0 && p->call->instance_id) {
        lua_pushstring(L, p->call->instance_id);
        return 1;
    }
    if (strcmp(key, "serial") == 0 && p->call->serial > 0) {
        lua_pushinteger(L, (lua_Integer)p->call->serial);
        return 1;
    }
    return 0;
}
