/*
 * policy_data.c — Lua files as pure data: the data files of policy changes and
 * the policy test cases (cf__change_load_data_file) run with the same discipline
 * as workflow files (text only, an empty environment, the sandbox's bounded
 * instructions and memory), and the value they return becomes JSON.
 */
#include "internal.h"
#include "policy/policy_change.h"
#include "policy/sandbox.h"

#include <lauxlib.h>
#include <lua.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_BUDGET 10000000u        /* instructions to run one data file */
#define DATA_CAP ((size_t)32 << 20)  /* bytes one data file may allocate */
#define DATA_DEPTH 32                /* nesting of tables in a data file */

/* The same discipline as workflow files: text only, an empty environment,
 * bounded instructions and memory; the value returned becomes JSON. */
typedef struct data_load {
    const char *label;
    const char *text;
    size_t len;
    json_t *result;
    char path[256]; /* where in the value the converter is, for messages */
    char problem[512];
} data_load;

/* A data file that computes raises once it passes DATA_BUDGET instructions. */
static void data_raise(lua_State *L, cf__sandbox *sb, unsigned which, const char *where, lua_Debug *ar)
{
    (void)sb;
    (void)which; /* no clock: only the budget stops a data file */
    (void)where;
    (void)ar;
    luaL_error(L, "ran past %u instructions (a data file must not compute)", DATA_BUDGET);
}

static int data_fail(lua_State *L, data_load *d, const char *what)
{
    snprintf(d->problem, sizeof d->problem, "%s: %s: %s (case files hold plain data: tables, text, numbers, "
             "booleans)", d->label, d->path, what);
    return luaL_error(L, "%s", d->problem);
}

/* A Lua value as a new JSON value; a table becomes an empty array or object
 * that fill_table fills once the caller has attached it to the tree, so that
 * an error (they raise: all this runs inside lua_pcall) leaves nothing but the
 * tree at d->result to free. */
static json_t *data_value(lua_State *L, data_load *d, int idx)
{
    json_t *j = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TTABLE: {
        size_t count = 0, strings = 0;
        lua_Integer max = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            count++;
            if (lua_type(L, -1) == LUA_TSTRING)
                strings++;
            else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1)
                max = lua_tointeger(L, -1) > max ? lua_tointeger(L, -1) : max;
            else
                data_fail(L, d, "a table key that is neither a name nor a position");
        }
        bool array = count > 0 && strings == 0;
        if (array && (size_t)max != count)
            data_fail(L, d, "a list with holes");
        if (strings && strings != count)
            data_fail(L, d, "a table mixing names and positions");
        j = array ? json_array() : json_object();
        break;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        j = json_stringn(s, len);
        if (!j)
            data_fail(L, d, "text that is not valid UTF-8");
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            j = json_integer((json_int_t)lua_tointeger(L, idx));
        else if (isfinite(lua_tonumber(L, idx)))
            j = json_real(lua_tonumber(L, idx));
        else
            data_fail(L, d, "a number that is not finite");
        break;
    case LUA_TBOOLEAN:
        j = json_boolean(lua_toboolean(L, idx));
        break;
    default: {
        char what[64];
        snprintf(what, sizeof what, "a %s", luaL_typename(L, idx));
        data_fail(L, d, what);
    }
    }
    if (!j)
        luaL_error(L, "out of memory");
    return j;
}

static void fill_table(lua_State *L, data_load *d, int idx, int depth, json_t *j)
{
    if (depth > DATA_DEPTH)
        data_fail(L, d, "tables nested too deeply");
    luaL_checkstack(L, 4, "reading a data file");
    size_t plen = strlen(d->path);
    if (json_is_array(j)) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= n; i++) {
            snprintf(d->path + plen, sizeof d->path - plen, "[%lld]", (long long)i);
            lua_rawgeti(L, idx, i);
            json_t *v = data_value(L, d, lua_gettop(L));
            if (json_array_append_new(j, v) != 0)
                luaL_error(L, "out of memory");
            if (lua_type(L, -1) == LUA_TTABLE)
                fill_table(L, d, lua_gettop(L), depth + 1, v);
            lua_pop(L, 1);
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            snprintf(d->path + plen, sizeof d->path - plen, ".%s", lua_tostring(L, -2));
            json_t *v = data_value(L, d, lua_gettop(L));
            if (json_object_set_new(j, lua_tostring(L, -2), v) != 0)
                data_fail(L, d, "a name that is not valid UTF-8");
            if (lua_type(L, -1) == LUA_TTABLE)
                fill_table(L, d, lua_gettop(L), depth + 1, v);
            lua_pop(L, 1);
        }
    }
    d->path[plen] = '\0';
}

/* Runs inside lua_pcall with the data_load as light userdata. */
static int data_main(lua_State *L)
{
    data_load *d = lua_touserdata(L, 1);
    /* Lua shortens long chunk names: name the file by its base name, which fits. */
    const char *base = strrchr(d->label, '/');
    char chunk[300];
    snprintf(chunk, sizeof chunk, "@%s", base ? base + 1 : d->label);
    int st = luaL_loadbufferx(L, d->text, d->len, chunk, "t");
    if (st != LUA_OK)
        return lua_error(L);
    lua_newtable(L); /* the empty environment */
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    snprintf(d->path, sizeof d->path, "value");
    d->result = data_value(L, d, lua_gettop(L));
    if (lua_type(L, -1) == LUA_TTABLE)
        fill_table(L, d, lua_gettop(L), 0, d->result);
    return 0;
}

/* Load text (from label, for messages) as data into *out (new reference). */
static int load_data(const char *label, const char *text, size_t len, json_t **out, cf__err *err)
{
    *out = NULL;
    data_load d;
    memset(&d, 0, sizeof d);
    d.label = label;
    d.text = text;
    d.len = len;
    cf__sandbox sb;
    lua_State *L = cf__sandbox_open(&sb, DATA_CAP, data_raise, &d, true);
    if (!L)
        return cf__fail(err, CF_ENOMEM, "out of memory reading %s", label);
    lua_setwarnf(L, NULL, NULL);
    cf__sandbox_arm(&sb, DATA_BUDGET, DATA_CAP, 0, false);
    lua_pushcfunction(L, data_main);
    lua_pushlightuserdata(L, &d);
    int st = lua_pcall(L, 1, 0, 0);
    int rc = CF_OK;
    if (st != LUA_OK) {
        const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(no message)";
        if (sb.limit_hit & CF__LIMIT_MEM)
            rc = cf__fail(err, CF_ELIMIT, "%s: needs more than %zu bytes to load (a data file should be small)",
                          label, DATA_CAP);
        else if (d.problem[0])
            rc = cf__fail(err, CF_EPOLICY, "%s", d.problem);
        else if (strstr(msg, "attempt to") && (strstr(msg, "global") || strstr(msg, "upvalue")))
            rc = cf__fail(err, CF_EPOLICY, "%s (data files have no globals: no functions, libraries or variables)",
                          msg);
        else
            rc = cf__fail(err, CF_EPOLICY, "%s", msg);
        json_decref(d.result);
        d.result = NULL;
    }
    lua_close(L);
    *out = d.result;
    return rc;
}

int cf__change_load_data_file(const char *path, json_t **out, cf__err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cf__read_file(path, &text, &len, err);
    if (rc == CF_OK)
        rc = load_data(path, text, len, out, err);
    free(text);
    return rc;
}
