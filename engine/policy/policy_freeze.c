/*
 * policy_freeze.c — what outlives a policy call is read-only. Once the state
 * policy has loaded (and again after each county overlay), every table a policy
 * can reach from outside its own call is frozen in place, and the locals that
 * functions close over are listed per function so that a change made by a call
 * is found, undone and reported (cf__policy_bindings_verify, policy.c).
 */
#include "internal.h"
#include "policy/lua_code.h"
#include "policy/policy_private.h"

#include <lauxlib.h>
#include <lua.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what outlives a call: frozen once the state policy has loaded ----
 *
 * Every table a policy can reach from outside its own call (globals, tables kept
 * in the locals of a file that functions close over, tables inside those) is
 * frozen in place: its contents move to a hidden table its reads go to, and a
 * write raises an error naming it. A local holding a number, a string or a
 * function cannot be frozen: each binding (function, upvalue, value at load) is
 * recorded, compared after every call of a function that can reach it, and
 * restored if a call changed it (the call then fails). */

typedef struct walker {
    int seen;    /* value -> true, and upvalue id (light userdata) -> true */
    int queue;   /* triples: value, name, owner */
    lua_Integer head, tail;
    int list;    /* bindings: [0] = n, then triples function, upvalue index, value */
    bool freeze; /* freeze the tables met; else only gather bindings */
    int env;     /* reach walks: the globals' backing, not entered; met_env says met */
    bool met_env;
    bool writes; /* binding walks: a function met assigns an upvalue, or may (lua_code.h) */
} walker;

static void walk_add(lua_State *L, walker *w, int v, const char *name, const char *owner)
{
    v = lua_absindex(L, v);
    int type = lua_type(L, v);
    if (type != LUA_TTABLE && (type != LUA_TFUNCTION || lua_iscfunction(L, v)))
        return;
    if (w->env && lua_rawequal(L, v, w->env)) {
        w->met_env = true;
        return;
    }
    lua_pushvalue(L, v);
    if (lua_rawget(L, w->seen) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, v);
    lua_pushboolean(L, 1);
    lua_rawset(L, w->seen);
    lua_pushvalue(L, v);
    lua_rawseti(L, w->queue, ++w->tail);
    lua_pushstring(L, name);
    lua_rawseti(L, w->queue, ++w->tail);
    lua_pushstring(L, owner);
    lua_rawseti(L, w->queue, ++w->tail);
}

/* Add every key and value of the table at t. */
static void walk_contents(lua_State *L, walker *w, int t, const char *name, const char *owner)
{
    char child[160];
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (w->freeze) {
            if (lua_type(L, -2) == LUA_TSTRING)
                snprintf(child, sizeof child, "%s%s%.60s", name, *name ? "." : "", lua_tostring(L, -2));
            else if (lua_isinteger(L, -2))
                snprintf(child, sizeof child, "%s[%lld]", name, (long long)lua_tointeger(L, -2));
            else
                snprintf(child, sizeof child, "%s[...]", name);
        } else {
            child[0] = '\0';
        }
        walk_add(L, w, -2, child, owner);
        walk_add(L, w, -1, child, owner);
        lua_pop(L, 1);
    }
}

/* Freeze the table at t in place (see above). A metatable it already has keeps
 * working: its fields are copied, its __index is consulted after the contents,
 * and it is frozen in turn. */
static void freeze_table(lua_State *L, walker *w, int t, const char *name, const char *owner)
{
    int top = lua_gettop(L);
    int m = 0;
    if (lua_getmetatable(L, t)) {
        m = lua_gettop(L);
        walk_add(L, w, m, name, owner);
    }
    lua_newtable(L);
    int b = lua_gettop(L);
    walk_contents(L, w, t, name, owner);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, b);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t); /* clearing a field during the traversal is allowed */
    }
    lua_createtable(L, 0, 6);
    int n = lua_gettop(L);
    if (m) {
        if (lua_rawequal(L, m, t))
            lua_pushvalue(L, b); /* its own metatable: its fields just moved */
        else if (!cf__push_backing(L, m)) /* already frozen: its fields are in its backing */
            lua_pushvalue(L, m);
        int src = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, src)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, n);
        }
        lua_pushnil(L);
        lua_setfield(L, n, "__gc"); /* never a finalizer (see cf__safe_setmetatable) */
        lua_pushnil(L);
        lua_setfield(L, n, "__mode");
        lua_pushliteral(L, "__index");
        if (lua_rawget(L, src) != LUA_TNIL) {
            lua_createtable(L, 0, 1);
            lua_insert(L, -2);
            lua_setfield(L, -2, "__index");
            lua_setmetatable(L, b);
        }
        lua_pushliteral(L, "__metatable");
        if (lua_rawget(L, n) == LUA_TNIL) {
            lua_pushvalue(L, m); /* getmetatable still answers the metatable, now frozen */
            lua_setfield(L, n, "__metatable");
        }
        lua_settop(L, n);
    }
    lua_pushvalue(L, b);
    lua_setfield(L, n, "__index");
    lua_pushfstring(L, "policies cannot change '%s' (a table of %s kept between calls; a policy keeps nothing "
                       "between calls: build a new table inside the function)", *name ? name : "?", owner);
    lua_pushcclosure(L, cf__ro_newindex, 1);
    lua_setfield(L, n, "__newindex");
    if (lua_getfield(L, n, "__pairs") == LUA_TNIL) {
        lua_pushcfunction(L, cf__ro_pairs);
        lua_setfield(L, n, "__pairs");
    }
    if (lua_getfield(L, n, "__len") == LUA_TNIL) {
        lua_pushcfunction(L, cf__ro_len);
        lua_setfield(L, n, "__len");
    }
    if (lua_getfield(L, n, "__metatable") == LUA_TNIL) {
        lua_pushboolean(L, 0);
        lua_setfield(L, n, "__metatable");
    }
    lua_settop(L, n);
    lua_setmetatable(L, t);
    lua_settop(L, top);
}

/* Record the upvalues of the Lua function at f and add what they hold. */
static void walk_function(lua_State *L, walker *w, int f)
{
    lua_Debug ar;
    lua_pushvalue(L, f);
    lua_getinfo(L, ">S", &ar);
    char owner[200];
    snprintf(owner, sizeof owner, "%s", ar.source[0] == '@' ? ar.source + 1 : "a policy file");
    if (!w->freeze && !w->writes) {
        cf__lua_code code;
        cf__lua_code_of(L, f, &code);
        w->writes = code.sets_upvalue;
    }
    for (int i = 1;; i++) {
        const char *uv = lua_getupvalue(L, f, i);
        if (!uv)
            break;
        lua_pushlightuserdata(L, lua_upvalueid(L, f, i));
        if (lua_rawget(L, w->seen) == LUA_TNIL) {
            lua_pushlightuserdata(L, lua_upvalueid(L, f, i));
            lua_pushboolean(L, 1);
            lua_rawset(L, w->seen);
            lua_rawgeti(L, w->list, 0);
            lua_Integer n = lua_tointeger(L, -1) + 1;
            lua_pop(L, 1);
            lua_pushvalue(L, f);
            lua_rawseti(L, w->list, 3 * n - 2);
            lua_pushinteger(L, i);
            lua_rawseti(L, w->list, 3 * n - 1);
            lua_pushvalue(L, -2);
            lua_rawseti(L, w->list, 3 * n);
            lua_pushinteger(L, n);
            lua_rawseti(L, w->list, 0);
        }
        lua_pop(L, 1);
        walk_add(L, w, -1, *uv ? uv : "?", owner);
        lua_pop(L, 1);
    }
}

static void walk_run(lua_State *L, walker *w)
{
    while (w->head < w->tail) {
        luaL_checkstack(L, 24, "walking the policies");
        int v = lua_gettop(L) + 1;
        lua_rawgeti(L, w->queue, ++w->head);
        lua_rawgeti(L, w->queue, ++w->head);
        lua_rawgeti(L, w->queue, ++w->head);
        const char *name = lua_tostring(L, v + 1), *owner = lua_tostring(L, v + 2);
        if (lua_type(L, v) == LUA_TFUNCTION) {
            walk_function(L, w, v);
        } else if (!w->freeze) {
            walk_contents(L, w, v, "", "");
            if (lua_getmetatable(L, v))
                walk_add(L, w, -1, "", "");
        } else if (!cf__is_read_only(L, v)) {
            freeze_table(L, w, v, name, owner);
        }
        lua_settop(L, v - 1);
    }
}

/* Freeze what the values of the table at root reach (root itself is left as it is);
 * seen and bindings are the tables that last across calls of this function. */
void cf__policy_freeze_reachable(lua_State *L, int root, int seen, int bindings, const char *owner)
{
    walker w = {seen, 0, 0, 0, bindings, true, 0, false, false};
    root = lua_absindex(L, root);
    lua_newtable(L);
    w.queue = lua_gettop(L);
    walk_contents(L, &w, root, "", owner);
    walk_run(L, &w);
    lua_pop(L, 1);
}

/* Append the bindings of the list at from that are not in the walker's list. */
static void bindings_merge(lua_State *L, walker *w, int from)
{
    lua_rawgeti(L, from, 0);
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    for (lua_Integer k = 1; k <= n; k++) {
        lua_rawgeti(L, from, 3 * k - 2);
        lua_rawgeti(L, from, 3 * k - 1);
        int idx = (int)lua_tointeger(L, -1);
        lua_pushlightuserdata(L, lua_upvalueid(L, -2, idx));
        if (lua_rawget(L, w->seen) == LUA_TNIL) {
            lua_rawgeti(L, w->list, 0);
            lua_Integer m = lua_tointeger(L, -1) + 1;
            lua_pop(L, 1);
            lua_pushvalue(L, -3);
            lua_rawseti(L, w->list, 3 * m - 2);
            lua_pushinteger(L, idx);
            lua_rawseti(L, w->list, 3 * m - 1);
            lua_rawgeti(L, from, 3 * k);
            lua_rawseti(L, w->list, 3 * m);
            lua_pushinteger(L, m);
            lua_rawseti(L, w->list, 0);
        }
        lua_pop(L, 3);
    }
}

/* The bindings each policy function can reach, for bindings_check: its own, and
 * when it uses a global, everything the globals and the params reach. Only an
 * OP_SETUPVAL changes a binding, in a function that closes over it: when none of
 * the functions the function can reach (nested ones included) has one, its call
 * cannot change a binding and it gets no list (no check after its calls). Also
 * each function's straight length (lua_code.h) for cf__sandbox_arm_straight. */
void cf__policy_gather_bindings(lua_State *L, cf__policy *p, int env, int params, int fns)
{
    lua_newtable(L); /* the shared list */
    int shared = lua_gettop(L);
    walker w = {0, 0, 0, 0, shared, false, 0, false, false};
    lua_newtable(L);
    w.seen = lua_gettop(L);
    lua_newtable(L);
    w.queue = lua_gettop(L);
    lua_pushvalue(L, env);
    lua_pushboolean(L, 1);
    lua_rawset(L, w.seen);
    walk_contents(L, &w, env, "", "");
    walk_contents(L, &w, params, "", "");
    walk_run(L, &w);
    lua_settop(L, shared);
    for (int role = 0; role < 3; role++) {
        p->uv_list[role] = calloc(p->nnames[role] ? p->nnames[role] : 1, sizeof(int));
        p->plan[role] = calloc(p->nnames[role] ? p->nnames[role] : 1, sizeof(fn_plan));
        if (!p->uv_list[role] || !p->plan[role])
            luaL_error(L, "out of memory");
        for (size_t i = 0; i < p->nnames[role]; i++) {
            walker f = {0, 0, 0, 0, 0, false, env, false, false};
            lua_newtable(L);
            f.list = lua_gettop(L);
            lua_newtable(L);
            f.seen = lua_gettop(L);
            lua_newtable(L);
            f.queue = lua_gettop(L);
            lua_rawgeti(L, fns + role, (lua_Integer)i + 1);
            cf__lua_code code;
            if (cf__lua_code_of(L, -1, &code) && !code.loops)
                p->plan[role][i] = (fn_plan){code.length, code.calls};
            walk_add(L, &f, -1, "", "");
            lua_pop(L, 1);
            walk_run(L, &f);
            if (f.met_env)
                bindings_merge(L, &f, shared);
            lua_rawgeti(L, f.list, 0);
            bool any = lua_tointeger(L, -1) > 0 && (f.writes || (f.met_env && w.writes));
            lua_settop(L, f.list);
            if (any)
                p->uv_list[role][i] = luaL_ref(L, LUA_REGISTRYINDEX); /* > 0 */
            else
                lua_pop(L, 1);
        }
    }
    lua_settop(L, shared - 1);
}

