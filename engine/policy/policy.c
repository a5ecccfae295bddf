/*
 * policy.c — the call runner of the Lua host for policies: it fills the per-call
 * tables, runs one guard, assign or deadline under the per-call limits
 * (sandbox.c), turns what it returns into C values, and answers queries (function
 * indexes, policy hashes, parameters). Loading and county layering are
 * policy_load.c, the views of data views.c, the date library policy_date.c.
 *
 * The host enters Lua only through lua_pcall: everything that may allocate in
 * the Lua state (building the sandbox, loading files, filling the per-call
 * tables) runs inside a protected C function, so a Lua error or an exhausted
 * cap comes back as a status code and never longjmps through engine code.
 */
#include "internal.h"
#include "policy/policy_private.h"
#include "policy/sandbox.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_DEPTH 64                   /* nesting of a returned patch */

static const char *const ROLE_NAMES[3] = {"guard", "assign", "deadline"};



/* ---- limits (sandbox.h) ---- */

/* A stopped policy call raises one of two messages; the caller reports from
 * sb.limit_first, which the message cannot change. */
void cf__policy_raise(lua_State *L, cf__sandbox *sb, unsigned which, const char *where, lua_Debug *ar)
{
    (void)sb;
    (void)ar;
    luaL_error(L, "%s%s", which == CF__LIMIT_TIME ? "time limit exceeded" : "instruction budget exhausted", where);
}

/* Charge work done in C (library functions, pattern matching). Raises when a limit is reached. */
void cf__policy_charge(lua_State *L, cf__policy *p, uint64_t instr, uint64_t bytes, const char *where)
{
    cf__sandbox_charge(L, &p->sb, instr, bytes, where);
}

/* ---- messages ---- */

static const char *county_label(const char *county, char *buf, size_t size)
{
    if (county && *county)
        snprintf(buf, size, "county %s", county);
    else
        snprintf(buf, size, "no county");
    return buf;
}

/* "policy guard 'is_adult' (county los_angeles) <rest>" */
static int call_fail(cf__policy *p, cf__err *err, int rc, const char *fmt, ...) CF__PRINTF(4, 5);
static int call_fail(cf__policy *p, cf__err *err, int rc, const char *fmt, ...)
{
    char rest[CF__MSG_MAX], cl[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    return cf__fail(err, rc, "policy %s '%s' (%s) %s", ROLE_NAMES[p->role], p->names[p->role][p->fn],
                    county_label(p->call ? p->call->county : NULL, cl, sizeof cl), rest);
}

/* A call stopped by a limit: "policy guard 'is_adult' in policy/state.lua (county
 * fresno) <rest>", the file that defines the function named. */
static int limit_fail(cf__policy *p, cf__err *err, const char *fmt, ...) CF__PRINTF(3, 4);
static int limit_fail(cf__policy *p, cf__err *err, const char *fmt, ...)
{
    char rest[CF__MSG_MAX], cl[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    const char *file = p->origins[p->role] ? p->origins[p->role][p->fn] : NULL;
    return cf__fail(err, CF_ELIMIT, "policy %s '%s' in %s (%s) %s", ROLE_NAMES[p->role], p->names[p->role][p->fn],
                    file ? file : "the state policy", county_label(p->call ? p->call->county : NULL, cl, sizeof cl),
                    rest);
}

/* ---- the per-call runner ---- */

static bool slot_matches(const slot *s, const char *value)
{
    return s->known && (value ? !s->is_nil && strcmp(s->text, value) == 0 : s->is_nil);
}

static void slot_store(slot *s, const char *value)
{
    s->is_nil = value == NULL;
    s->known = !value || strlen(value) < sizeof s->text;
    if (value && s->known)
        memcpy(s->text, value, strlen(value) + 1);
}

/* Set table[key] = value unless the slot says it already holds it. */
static void put_field(lua_State *L, int table, const char *key, slot *s, const char *value)
{
    if (slot_matches(s, value))
        return;
    s->known = false; /* until the store below has surely happened */
    if (value)
        lua_pushstring(L, value);
    else
        lua_pushnil(L);
    lua_setfield(L, table, key);
    slot_store(s, value);
}

static int county_index(const cf__policy *p, const char *name)
{
    size_t lo = 0, hi = p->ncounties;
    while (name && lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, p->counties[mid].name);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static bool has_root(const json_t *j)
{
    return j && (json_is_object(j) || json_is_array(j));
}

/* Set table.data (key: the string "data" at index key) to this call's root view
 * of which (0 inst, 1 ev), or to nil when the call has no such data. Adding or
 * removing the field may allocate, so only run_call does that (protected);
 * replacing one root view with the next never does, so call_run's fast path may. */
static void set_root(lua_State *L, cf__policy *p, int table, int key, int which, const json_t *j)
{
    bool present = has_root(j);
    if (!present && !p->data_set[which])
        return;
    lua_pushvalue(L, key);
    if (present)
        lua_pushlightuserdata(L, ROOT_TAG(p->gen, which));
    else
        lua_pushnil(L);
    p->data_set[which] = false; /* until the store below has surely happened */
    lua_rawset(L, table);
    p->data_set[which] = present;
}

/* Runs inside lua_pcall: refresh inst/ev/ctx and `params`, then call the policy. */
int cf__policy_run_call(lua_State *L)
{
    cf__policy *p = lua_touserdata(L, lua_upvalueindex(UV_P));
    const cf__decision_call *c = p->call;
    int inst = lua_upvalueindex(UV_INST), ev = lua_upvalueindex(UV_EV), ctx = lua_upvalueindex(UV_CTX);

    if (!p->params_index || !slot_matches(&p->s_county, c->county)) {
        int ci = county_index(p, c->county);
        long idx = ci < 0 ? (long)p->ncounties + 1 : ci + 1;
        p->s_county.known = false;
        if (idx != p->params_index) {
            p->params_index = 0;
            lua_rawgeti(L, lua_upvalueindex(UV_PARAMS), idx);
            lua_setfield(L, lua_upvalueindex(UV_ENV), "params");
            p->params_index = idx;
        }
        if (c->county)
            lua_pushstring(L, c->county);
        else
            lua_pushnil(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, inst, "county");
        lua_setfield(L, ctx, "county");
        slot_store(&p->s_county, c->county);
    }
    put_field(L, inst, "workflow", &p->s_workflow, c->workflow);
    put_field(L, inst, "state", &p->s_state, c->state);
    if (!p->now_known || p->now != c->now) {
        p->now_known = false;
        char buf[32];
        if (cf_time_format(c->now, buf, sizeof buf) != CF_OK)
            return luaL_error(L, "the time of the call is outside the years 1 to 9999");
        lua_pushstring(L, buf);
        lua_setfield(L, ctx, "now");
        cf__date_format(cf__tz_local_date(&p->tz, c->now), buf);
        lua_pushstring(L, buf);
        lua_setfield(L, ctx, "today");
        p->now = c->now;
        p->now_known = true;
    }

    lua_pushliteral(L, "data");
    int key = lua_gettop(L);
    set_root(L, p, inst, key, 0, c->data);
    if (p->role != CF__ROLE_DEADLINE)
        set_root(L, p, ev, key, 1, c->event_data);
    lua_pop(L, 1);

    lua_rawgeti(L, lua_upvalueindex(UV_GUARDS + p->role), p->fn + 1);
    lua_pushvalue(L, lua_upvalueindex(UV_INST_P));
    int nargs = 2;
    if (p->role != CF__ROLE_DEADLINE) {
        put_field(L, ev, "name", &p->s_event, c->event);
        put_field(L, ev, "actor", &p->s_actor, c->actor);
        lua_pushvalue(L, lua_upvalueindex(UV_EV_P));
        nargs++;
    }
    lua_pushvalue(L, lua_upvalueindex(UV_CTX_P));
    lua_call(L, nargs, p->nres);
    return p->nres;
}

/* True when the per-call tables already describe this call, but for the
 * values of their `data` fields (which change every call and cost no allocation). */
static bool unchanged(const cf__policy *p, const cf__decision_call *c, int role)
{
    return p->params_index && p->now_known && p->now == c->now && has_root(c->data) == p->data_set[0] &&
           (role == CF__ROLE_DEADLINE || has_root(c->event_data) == p->data_set[1]) &&
           slot_matches(&p->s_county, c->county) &&
           slot_matches(&p->s_state, c->state) &&
           slot_matches(&p->s_workflow, c->workflow) &&
           (role == CF__ROLE_DEADLINE ||
            (slot_matches(&p->s_event, c->event) && slot_matches(&p->s_actor, c->actor)));
}

static void call_end(cf__policy *p, int base)
{
    lua_settop(p->L, base);
    p->gen++; /* views handed out in this call are stale from now on */
    p->call = NULL;
}

/* Compare the bindings in the list at l with what the upvalues hold now and
 * restore those that changed: the number of the first changed, 0 if none. */
lua_Integer cf__policy_bindings_verify(lua_State *L, int l)
{
    lua_rawgeti(L, l, 0);
    lua_Integer n = lua_tointeger(L, -1), first = 0;
    lua_pop(L, 1);
    for (lua_Integer k = 1; k <= n; k++) {
        lua_rawgeti(L, l, 3 * k - 2);
        lua_rawgeti(L, l, 3 * k - 1);
        int idx = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_getupvalue(L, -1, idx);
        lua_rawgeti(L, l, 3 * k);
        bool same = lua_rawequal(L, -1, -2) ||
                    (lua_type(L, -1) == LUA_TNUMBER && lua_type(L, -2) == LUA_TNUMBER &&
                     isnan(lua_tonumber(L, -1)) && isnan(lua_tonumber(L, -2)));
        if (!same) {
            first = first ? first : k;
            lua_setupvalue(L, -3, idx);
        }
        lua_settop(L, lua_gettop(L) - (same ? 3 : 2));
    }
    return first;
}

/* "'count' (a local of policy/state.lua kept between calls)" for binding k of the list at l. */
const char *cf__policy_binding_name(lua_State *L, int l, lua_Integer k, char *buf, size_t size)
{
    lua_rawgeti(L, l, 3 * k - 2);
    lua_rawgeti(L, l, 3 * k - 1);
    const char *uv = lua_getupvalue(L, -2, (int)lua_tointeger(L, -1));
    if (uv)
        lua_pop(L, 1);
    lua_pop(L, 1);
    lua_Debug ar;
    lua_getinfo(L, ">S", &ar);
    snprintf(buf, size, "'%s' (a local of %s kept between calls)", uv && *uv ? uv : "?",
             ar.source[0] == '@' ? ar.source + 1 : "a policy file");
    return buf;
}

/* After a call of the current function: the upvalues it can reach hold what they
 * held at load (see gather_bindings); any it changed are restored, and when the
 * call had succeeded (ok) it fails naming the first, its stack back at base.
 * Allocates nothing: runs outside lua_pcall. */
static int bindings_check(cf__policy *p, bool ok, int base, cf__err *err)
{
    int ref = p->uv_list[p->role] ? p->uv_list[p->role][p->fn] : 0;
    if (!ref)
        return CF_OK;
    lua_State *L = p->L;
    if (!ok)
        err = NULL;
    if (!lua_checkstack(L, 8)) {
        if (!err)
            return CF_OK;
        int rc = call_fail(p, err, CF_ENOMEM, "failed: out of memory");
        call_end(p, base);
        return rc;
    }
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_Integer changed = cf__policy_bindings_verify(L, top + 1);
    int rc = CF_OK;
    if (changed && err) {
        char name[300];
        rc = call_fail(p, err, CF_EPOLICY,
                       "changed %s; it was restored: a policy keeps nothing between calls, so that the same "
                       "inputs give the same answer (keep the value in a local inside the function)",
                       cf__policy_binding_name(L, top + 1, changed, name, sizeof name));
    }
    lua_settop(L, top);
    if (rc != CF_OK)
        call_end(p, base);
    return rc;
}

/* How a call of the function is metered (sandbox.h, cf__sandbox_arm_straight).
 * A function whose own code cannot loop runs without the count hook: with no
 * hook at all when it calls nothing and no metamethod written in Lua exists
 * (only setmetatable makes one; the host's are C), else with a call hook when
 * it is at least CF__CALL_HOOK_MIN instructions long (policy_private.h); else it
 * is counted. */
static bool plan_calls(const cf__policy *p, int role, int fn)
{
    return !p->plan[role] || p->plan[role][fn].calls || p->metatables;
}

static uint32_t plan_length(const cf__policy *p, int role, int fn)
{
    uint32_t n = p->plan[role] ? p->plan[role][fn].length : 0;
    return plan_calls(p, role, fn) && n < CF__CALL_HOOK_MIN ? 0 : n;
}

/* Run the current function; on CF_OK its nres results are on the stack above
 * *base. On failure the stack is back at *base and err says why. */
static int call_run(cf__policy *p, int role, int fn, int nres, const cf__decision_call *call, int *base, cf__err *err)
{
    lua_State *L = p->L;
    if (!call)
        return cf__fail(err, CF_EINVAL, "policy call without a call description");
    if (fn < 0 || (size_t)fn >= p->nnames[role])
        return cf__fail(err, CF_EINVAL, "no policy %s with index %d (%zu defined)", ROLE_NAMES[role], fn,
                        p->nnames[role]);
    if (p->hits[role])
        p->hits[role][fn]++;
    *base = lua_gettop(L);
    p->call = call;
    p->role = role;
    p->fn = fn;
    p->nres = nres;
    int status;
    if (unchanged(p, call, role)) {
        /* Fast path: the tables already hold these values but for the root
         * views, which replace views already there; nothing allocates before
         * the protected call. */
        set_root(L, p, HOT_INST, HOT_KEY_DATA, 0, call->data);
        if (role != CF__ROLE_DEADLINE)
            set_root(L, p, HOT_EV, HOT_KEY_DATA, 1, call->event_data);
        lua_rawgeti(L, HOT_GUARDS + role, fn + 1);
        lua_pushvalue(L, HOT_INST_P);
        if (role != CF__ROLE_DEADLINE)
            lua_pushvalue(L, HOT_EV_P);
        lua_pushvalue(L, HOT_CTX_P);
        cf__sandbox_arm_straight(&p->sb, p->budget, p->cap, p->time_ms, true, plan_length(p, role, fn),
                                 plan_calls(p, role, fn));
        status = lua_pcall(L, role != CF__ROLE_DEADLINE ? 3 : 2, nres, 0);
    } else {
        /* The runner (C) calls the function: a straight run only without any hook
         * (with a call hook the runner's entry would pass for the function's). */
        lua_pushvalue(L, HOT_RUNNER);
        cf__sandbox_arm_straight(&p->sb, p->budget, p->cap, p->time_ms, true,
                                 plan_calls(p, role, fn) ? 0 : plan_length(p, role, fn), false);
        status = lua_pcall(L, 0, nres, 0);
    }
    cf__sandbox_disarm(&p->sb);
    int brc = bindings_check(p, status == LUA_OK && !p->sb.limit_hit, *base, err);
    if (status == LUA_OK && !p->sb.limit_hit)
        return brc;
    int rc;
    if (p->sb.limit_first == CF__LIMIT_INSTR) {
        rc = limit_fail(p, err,
                        "ran past its instruction budget of %llu (an endless loop? library calls count one "
                        "instruction per %u bytes they touch; raise lua_instruction_budget if the work is "
                        "legitimate)",
                        (unsigned long long)p->budget, CF__BYTES_PER_INSTR);
    } else if (p->sb.limit_first == CF__LIMIT_TIME) {
        rc = limit_fail(p, err,
                        "ran past its time limit of %u ms (an endless loop, or work on very long strings? "
                        "raise lua_time_limit_ms / --lua-time-limit if the work is legitimate)",
                        p->time_ms);
    } else if (p->sb.limit_hit & CF__LIMIT_MEM) {
        rc = limit_fail(p, err,
                        "exceeded its memory cap of %zu bytes (raise lua_memory_cap if the work is legitimate)",
                        p->cap);
    } else if (status == LUA_ERRMEM) {
        rc = call_fail(p, err, CF_ENOMEM, "failed: out of memory");
    } else {
        const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (msg)
            rc = call_fail(p, err, CF_EPOLICY, "failed: %s", msg);
        else
            rc = call_fail(p, err, CF_EPOLICY, "failed: raised an error value of type %s", luaL_typename(L, -1));
    }
    call_end(p, *base);
    return rc;
}

/* A guard's reason is stored in the history: UTF-8 text without NUL bytes. */
static int check_reason(cf__policy *p, const char *why, size_t len, cf__err *err)
{
    cf__err bad;
    if (cf__check_returned_text(&bad, "its reason", why, len) == CF_OK)
        return CF_OK;
    return call_fail(p, err, CF_EPOLICY, "returned a reason that is not storable text: %s", bad.msg);
}

int cf__policy_guard(cf__policy *p, int fn, const cf__decision_call *call, bool *ok, char **reason, cf__err *err)
{
    *ok = false;
    *reason = NULL;
    int base;
    int rc = call_run(p, CF__ROLE_GUARD, fn, 2, call, &base, err);
    if (rc != CF_OK)
        return rc;
    lua_State *L = p->L;
    if (lua_type(L, -2) != LUA_TBOOLEAN) {
        rc = call_fail(p, err, CF_EPOLICY, "returned %s; return true, or false and a reason", luaL_typename(L, -2));
    } else if (lua_toboolean(L, -2)) {
        *ok = true;
    } else {
        char fallback[256];
        size_t why_len = 0;
        const char *why = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &why_len) : NULL;
        if (!why) {
            snprintf(fallback, sizeof fallback, "%s said no", p->names[CF__ROLE_GUARD][fn]);
            why = fallback;
            why_len = strlen(why);
        }
        rc = check_reason(p, why, why_len, err);
        if (rc == CF_OK && !(*reason = cf__strdup(why)))
            rc = call_fail(p, err, CF_ENOMEM, "failed: out of memory copying its reason");
    }
    call_end(p, base);
    return rc;
}

/* ---- Lua values to JSON (for assign patches) ---- */

typedef struct conv {
    cf__policy *p;
    cf__err *err;
    char path[512];
} conv;

static int conv_fail(conv *cv, const char *problem)
{
    return call_fail(cv->p, cv->err, CF_EPOLICY, "returned %s at %s", problem, cv->path);
}

static size_t path_push(conv *cv, lua_State *L, int key)
{
    size_t len = strlen(cv->path);
    if (lua_type(L, key) == LUA_TSTRING)
        snprintf(cv->path + len, sizeof cv->path - len, ".%s", lua_tostring(L, key));
    else
        snprintf(cv->path + len, sizeof cv->path - len, "[%lld]", (long long)lua_tointeger(L, key));
    return len;
}

/* A key of a returned table becomes a JSON member name: UTF-8 without NUL bytes. */
static int check_key(conv *cv, lua_State *L, int key)
{
    size_t n = 0;
    const char *k = lua_tolstring(L, key, &n);
    if (memchr(k, '\0', n))
        return conv_fail(cv, "a key holding a NUL byte (\"\\0\"); keys are plain names");
    if (!cf__utf8_valid(k, n))
        return conv_fail(cv, "a key that is not valid UTF-8");
    return CF_OK;
}

static bool is_root_view(cf__policy *p, lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) != p &&
           ((uintptr_t)lua_touserdata(L, idx) & 1);
}

/* A view, nested or root (its call is not checked). */
static bool is_view(cf__policy *p, lua_State *L, int idx)
{
    if (is_root_view(p, L, idx))
        return true;
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return false;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->view_mt_ref);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

static int to_json(conv *cv, lua_State *L, int idx, int depth, bool top, json_t **out);

static int table_to_json(conv *cv, lua_State *L, int idx, int depth, bool top, json_t **out)
{
    if (depth > MAX_DEPTH)
        return conv_fail(cv, "tables nested too deeply (a table that contains itself?)");
    if (!lua_checkstack(L, 4))
        return call_fail(cv->p, cv->err, CF_ENOMEM, "failed: out of memory converting its result");
    if (cf__push_backing(L, idx)) { /* a frozen table kept between calls: what it holds */
        int rc = table_to_json(cv, L, lua_gettop(L), depth + 1, top, out);
        lua_pop(L, 1);
        return rc;
    }
    size_t count = 0, strings = 0;
    lua_Integer max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (lua_type(L, -1) == LUA_TSTRING) {
            strings++;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            if (lua_tointeger(L, -1) > max)
                max = lua_tointeger(L, -1);
        } else {
            char what[64];
            snprintf(what, sizeof what, "a table with a %s key", luaL_typename(L, -1));
            lua_pop(L, 1);
            return conv_fail(cv, what);
        }
    }
    bool array = count > 0 && strings == 0;
    if (array && (size_t)max != count)
        return conv_fail(cv, "an array with holes (keys must be 1..n)");
    if (strings && strings != count)
        return conv_fail(cv, "a table mixing names and positions as keys");
    if (top && array)
        return conv_fail(cv, "an array; an assign returns a table of names (a patch), or nil");
    json_t *j = (array || (count == 0 && !top)) ? json_array() : json_object();
    if (!j)
        return call_fail(cv->p, cv->err, CF_ENOMEM, "failed: out of memory converting its result");
    int rc = CF_OK;
    if (array) {
        for (lua_Integer i = 1; i <= max && rc == CF_OK; i++) {
            lua_pushinteger(L, i);
            size_t len = path_push(cv, L, lua_gettop(L));
            lua_pop(L, 1);
            lua_rawgeti(L, idx, i);
            json_t *v = NULL;
            rc = to_json(cv, L, lua_gettop(L), depth + 1, false, &v);
            lua_pop(L, 1);
            if (rc == CF_OK && json_array_append_new(j, v) != 0)
                rc = call_fail(cv->p, cv->err, CF_ENOMEM, "failed: out of memory converting its result");
            cv->path[len] = '\0';
        }
    } else {
        lua_pushnil(L);
        while (rc == CF_OK && lua_next(L, idx)) {
            rc = check_key(cv, L, -2);
            if (rc != CF_OK) {
                lua_pop(L, 1); /* the value; the key is popped below */
                break;
            }
            size_t len = path_push(cv, L, -2);
            json_t *v = NULL;
            rc = to_json(cv, L, lua_gettop(L), depth + 1, false, &v);
            if (rc == CF_OK && json_object_set_new(j, lua_tostring(L, -2), v) != 0)
                rc = conv_fail(cv, "a key that is not valid UTF-8");
            lua_pop(L, 1);
            cv->path[len] = '\0';
        }
        if (rc != CF_OK)
            lua_pop(L, 1); /* the key lua_next left */
    }
    if (rc != CF_OK) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return CF_OK;
}

static int to_json(conv *cv, lua_State *L, int idx, int depth, bool top, json_t **out)
{
    json_t *j = NULL;
    char what[64];
    switch (lua_type(L, idx)) {
    case LUA_TTABLE:
        return table_to_json(cv, L, idx, depth, top, out);
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (memchr(s, '\0', len))
            return conv_fail(cv, "text holding a NUL byte (\"\\0\"); return plain text");
        j = json_stringn(s, len);
        if (!j)
            return conv_fail(cv, "text that is not valid UTF-8");
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            j = json_integer((json_int_t)lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (!isfinite(d))
                return conv_fail(cv, "a number that is not finite (NaN or infinity)");
            j = json_real(d);
        }
        break;
    case LUA_TBOOLEAN:
        j = json_boolean(lua_toboolean(L, idx));
        break;
    case LUA_TLIGHTUSERDATA:
    case LUA_TUSERDATA: {
        json_t *src;
        if (lua_touserdata(L, idx) == cv->p) {
            j = json_null();
            break;
        } else if (is_root_view(cv->p, L, idx)) {
            src = cf__view_root_json(cv->p, lua_touserdata(L, idx));
        } else if (is_view(cv->p, L, idx)) {
            view *v = lua_touserdata(L, idx);
            src = v->gen == cv->p->gen ? v->j : NULL;
        } else {
            return conv_fail(cv, lua_type(L, idx) == LUA_TUSERDATA ? "a userdata" : "a light userdata");
        }
        if (!src)
            return conv_fail(cv, "instance data kept from an earlier call");
        if (top && !json_is_object(src))
            return conv_fail(cv, "an array; an assign returns a table of names (a patch), or nil");
        j = json_deep_copy(src);
        break;
    }
    default:
        snprintf(what, sizeof what, "a %s (only tables, strings, numbers, booleans and null fit)",
                 luaL_typename(L, idx));
        return conv_fail(cv, what);
    }
    if (!j)
        return call_fail(cv->p, cv->err, CF_ENOMEM, "failed: out of memory converting its result");
    *out = j;
    return CF_OK;
}

int cf__policy_assign(cf__policy *p, int fn, const cf__decision_call *call, json_t **patch, cf__err *err)
{
    *patch = NULL;
    int base;
    int rc = call_run(p, CF__ROLE_ASSIGN, fn, 1, call, &base, err);
    if (rc != CF_OK)
        return rc;
    lua_State *L = p->L;
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE || ((t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA) && is_view(p, L, -1))) {
        conv cv = {p, err, "patch"};
        rc = to_json(&cv, L, lua_gettop(L), 0, true, patch);
    } else if (t != LUA_TNIL) {
        rc = call_fail(p, err, CF_EPOLICY, "returned %s; return a table of changes (a patch), or nil",
                       luaL_typename(L, -1));
    }
    call_end(p, base);
    return rc;
}

int cf__policy_deadline(cf__policy *p, int fn, const cf__decision_call *call, bool *has_due, cf_time *due, cf__err *err)
{
    *has_due = false;
    int base;
    int rc = call_run(p, CF__ROLE_DEADLINE, fn, 1, call, &base, err);
    if (rc != CF_OK)
        return rc;
    lua_State *L = p->L;
    if (lua_type(L, -1) == LUA_TSTRING) {
        if (cf__tz_parse_instant(&p->tz, lua_tostring(L, -1), due) == CF_OK)
            *has_due = true;
        else
            rc = call_fail(p, err, CF_EPOLICY,
                           "returned \"%.80s\", which is not a date \"YYYY-MM-DD\" or a date-time "
                           "\"YYYY-MM-DDTHH:MM:SSZ\"",
                           lua_tostring(L, -1));
    } else if (!lua_isnil(L, -1)) {
        rc = call_fail(p, err, CF_EPOLICY, "returned %s; return a date, a date-time, or nil for no deadline",
                       luaL_typename(L, -1));
    }
    call_end(p, base);
    return rc;
}

/* ---- queries ---- */

int cf__policy_find(const cf__policy *p, cf__role role, const char *name)
{
    if (!p || role < 0 || role > 2 || !name)
        return -1;
    size_t lo = 0, hi = p->nnames[role];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, p->names[role][mid]);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const char *cf__policy_hash(cf__policy *p, const char *county)
{
    int i = county_index(p, county);
    return i < 0 ? p->state_hash : p->counties[i].hash;
}

static int param_get(lua_State *L)
{
    const char *name = lua_touserdata(L, 2);
    lua_rawgeti(L, 1, lua_tointeger(L, 3));
    lua_getfield(L, -1, name);
    return 1;
}

int cf__policy_param(cf__policy *p, const char *county, const char *name, json_t **value, cf__err *err)
{
    *value = NULL;
    lua_State *L = p->L;
    int ci = county_index(p, county);
    lua_pushcfunction(L, param_get);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->params_ref);
    lua_pushlightuserdata(L, (void *)name);
    lua_pushinteger(L, ci < 0 ? (lua_Integer)p->ncounties + 1 : ci + 1);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        return cf__fail(err, CF_ENOMEM, "out of memory reading parameter '%s'", name);
    }
    int rc = CF_OK;
    switch (lua_type(L, -1)) {
    case LUA_TNUMBER:
        *value = lua_isinteger(L, -1) ? json_integer((json_int_t)lua_tointeger(L, -1)) : json_real(lua_tonumber(L, -1));
        break;
    case LUA_TSTRING:
        *value = json_string(lua_tostring(L, -1));
        break;
    case LUA_TBOOLEAN:
        *value = json_boolean(lua_toboolean(L, -1));
        break;
    case LUA_TNIL:
        rc = cf__fail(err, CF_ENOTFOUND, "the state policy has no parameter '%s'", name);
        break;
    default:
        rc = cf__fail(err, CF_EPOLICY, "parameter '%s' is a function; only policies can call it", name);
    }
    lua_pop(L, 1);
    if (rc == CF_OK && !*value)
        rc = cf__fail(err, CF_ENOMEM, "out of memory reading parameter '%s'", name);
    return rc;
}

int cf__policy_count_calls(cf__policy *p)
{
    for (int r = 0; r < 3; r++) {
        if (p->hits[r] || !p->nnames[r])
            continue;
        p->hits[r] = calloc(p->nnames[r], sizeof *p->hits[r]);
        if (!p->hits[r])
            return CF_ENOMEM;
    }
    return CF_OK;
}

size_t cf__policy_function_count(const cf__policy *p, cf__role role)
{
    return p->nnames[role];
}

const char *cf__policy_function(const cf__policy *p, cf__role role, size_t i, const char **origin, uint64_t *calls)
{
    if (i >= p->nnames[role])
        return NULL;
    if (origin)
        *origin = p->origins[role] ? p->origins[role][i] : NULL;
    if (calls)
        *calls = p->hits[role] ? p->hits[role][i] : 0;
    return p->names[role][i];
}
