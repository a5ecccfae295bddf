/*
 * policy_params.c — the policy's parameters: the state policy's params and its
 * overridable declarations (kind, range, one_of), and each county overlay's
 * overrides checked against them, with the messages that say what would fit.
 */
#include "policy/policy_file.h"

#include <lauxlib.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KIND_NAMES[] = {"integer", "number", "boolean", "string", "date", "function"};

/* "a, b, c" of the overridable parameters. */
static void overridable_list(const cf__policy *p, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->noverridable && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", p->overridable[i]);
    if (!p->noverridable)
        snprintf(buf, size, "none");
}

/* A value for messages, read without metamethods. */
static const char *value_repr(lua_State *L, int idx, char *buf, size_t size)
{
    if (lua_type(L, idx) == LUA_TNUMBER && lua_isinteger(L, idx)) {
        snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        double x = lua_tonumber(L, idx);
        if (isnan(x))
            snprintf(buf, size, "nan");
        else if (isinf(x))
            snprintf(buf, size, "%sinf", x < 0 ? "-" : "");
        else
            snprintf(buf, size, "%.17g", x);
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        snprintf(buf, size, "\"%.40s%s\"", lua_tostring(L, idx), lua_rawlen(L, idx) > 40 ? "..." : "");
    } else if (lua_type(L, idx) == LUA_TBOOLEAN) {
        snprintf(buf, size, "%s", lua_toboolean(L, idx) ? "true" : "false");
    } else {
        snprintf(buf, size, "a %s", luaL_typename(L, idx));
    }
    return buf;
}

/* Integers in a declaration stay where a double is exact. */
#define DECL_INT_MAX 9007199254740992.0

/* A binary search keeps an overlay of many parameters against a long overridable
 * list linear to check (found while fuzzing: 100,000 of each took minutes). */
const param_decl *cf__params_find_decl(const cf__policy *p, const char *name)
{
    size_t lo = 0, hi = p->noverridable;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, p->decls[mid].name);
        if (c == 0)
            return &p->decls[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* "an integer from 1 to 365" */
static const char *decl_describe(const param_decl *d, char *buf, size_t size)
{
    size_t len = 0;
    switch (d->kind) {
    case K_INTEGER:
        snprintf(buf, size, "an integer from %.0f to %.0f", d->min, d->max);
        break;
    case K_NUMBER:
        snprintf(buf, size, "a finite number from %.17g to %.17g", d->min, d->max);
        break;
    case K_BOOLEAN:
        snprintf(buf, size, "true or false");
        break;
    case K_STRING:
        len = (size_t)snprintf(buf, size, "a string");
        if (d->max_length && len < size)
            len += (size_t)snprintf(buf + len, size - len, " of at most %zu bytes", d->max_length);
        for (size_t i = 0; d->one_of && i < d->none_of && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s'%s'", i ? ", " : ", one of ", d->one_of[i]);
        break;
    case K_DATE:
        len = (size_t)snprintf(buf, size, "a date \"YYYY-MM-DD\"");
        if (d->min_date[0] && len < size)
            len += (size_t)snprintf(buf + len, size - len, " from %s", d->min_date);
        if (d->max_date[0] && len < size)
            snprintf(buf + len, size - len, " %s %s", d->min_date[0] ? "to" : "up to", d->max_date);
        break;
    default:
        snprintf(buf, size, "a function");
    }
    return buf;
}

/* Whether the value at idx fits the declaration. Reads the value raw. */
static bool decl_fits(const param_decl *d, lua_State *L, int idx)
{
    int type = lua_type(L, idx);
    switch (d->kind) {
    case K_INTEGER:
    case K_NUMBER: {
        if (type != LUA_TNUMBER)
            return false;
        double x = lua_isinteger(L, idx) ? (double)lua_tointeger(L, idx) : lua_tonumber(L, idx);
        if (!isfinite(x) || x < d->min || x > d->max)
            return false;
        return d->kind == K_NUMBER || lua_isinteger(L, idx) || x == floor(x);
    }
    case K_BOOLEAN:
        return type == LUA_TBOOLEAN;
    case K_STRING: {
        if (type != LUA_TSTRING)
            return false;
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (d->max_length && n > d->max_length)
            return false;
        if (!d->one_of)
            return true;
        for (size_t i = 0; i < d->none_of; i++)
            if (strlen(d->one_of[i]) == n && memcmp(d->one_of[i], s, n) == 0)
                return true;
        return false;
    }
    case K_DATE: {
        cf__date dt;
        if (type != LUA_TSTRING || lua_rawlen(L, idx) != 10 || !cf__date_parse(lua_tostring(L, idx), &dt))
            return false;
        const char *s = lua_tostring(L, idx);
        return (!d->min_date[0] || strcmp(s, d->min_date) >= 0) && (!d->max_date[0] || strcmp(s, d->max_date) <= 0);
    }
    default:
        return type == LUA_TFUNCTION;
    }
}

static bool param_type_ok(int type)
{
    return type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TBOOLEAN || type == LUA_TFUNCTION;
}

/* Why a parameter value is refused whatever the declarations say, or NULL. */
const char *cf__params_value_problem(lua_State *L, int idx)
{
    if (!param_type_ok(lua_type(L, idx)))
        return "must be a number, string, boolean or function";
    if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx) && !isfinite(lua_tonumber(L, idx)))
        return "must be a finite number (NaN and infinity are refused)";
    return NULL;
}

int cf__params_absorb(loader *ld, lua_State *L, const source *src, int t)
{
    int type = cf__load_rawfield(L, t, "params");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return CF_OK;
    }
    if (type != LUA_TTABLE) {
        lua_pop(L, 1);
        return cf__load_problem(ld, src, CF_EPOLICY, "%s: params: must be a table (got %s)", src->label, lua_typename(L, type));
    }
    int params = lua_gettop(L);
    int rc = cf__load_refuse_metatable(ld, L, src, params, "params");
    if (rc != CF_OK) {
        lua_pop(L, 1);
        return rc;
    }
    lua_pushnil(L);
    while (lua_next(L, params)) {
        if (lua_type(L, -2) != LUA_TSTRING || !cf__load_is_identifier(lua_tostring(L, -2))) {
            lua_pop(L, 3);
            return cf__load_problem(ld, src, CF_EPOLICY, "%s: params: keys must be names (letters, digits and '_')",
                           src->label);
        }
        const char *bad = cf__params_value_problem(L, -1);
        if (bad) {
            char got[80];
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: params.%s: %s (got %s)", src->label, lua_tostring(L, -2), bad,
                         value_repr(L, -1, got, sizeof got));
            lua_pop(L, 3);
            return rc;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, S_DEFAULTS);
    }
    lua_pop(L, 1);
    return CF_OK;
}

static int decl_cmp(const void *a, const void *b)
{
    return strcmp(((const param_decl *)a)->name, ((const param_decl *)b)->name);
}

/* A bound of a declaration (field key of the table at d): an integer (whole =
 * true) or a finite number; required says whether it may be missing. */
static int decl_bound(loader *ld, lua_State *L, const source *src, const param_decl *pd, int d, const char *key,
                      bool whole, double *out, bool *has)
{
    int type = cf__load_rawfield(L, d, key);
    double x = type == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    *has = type != LUA_TNIL;
    if (type == LUA_TNUMBER && isfinite(x) && (!whole || (x == floor(x) && fabs(x) <= DECL_INT_MAX))) {
        *out = x;
        return CF_OK;
    }
    return cf__load_problem(ld, src, CF_EPOLICY,
                   "%s: overridable.%s: %s must be %s (a %s has a range: e.g. { kind = \"%s\", min = 1, max = 365 })",
                   src->label, pd->name, key, whole ? "an integer" : "a finite number", KIND_NAMES[pd->kind],
                   KIND_NAMES[pd->kind]);
}

static int decl_date(loader *ld, lua_State *L, const source *src, const param_decl *pd, int d, const char *key,
                     char *out)
{
    int type = cf__load_rawfield(L, d, key);
    cf__date dt;
    int rc = CF_OK;
    if (type == LUA_TSTRING && lua_rawlen(L, -1) == 10 && cf__date_parse(lua_tostring(L, -1), &dt))
        memcpy(out, lua_tostring(L, -1), 11);
    else if (type != LUA_TNIL)
        rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: %s must be a date \"YYYY-MM-DD\"", src->label,
                     pd->name, key);
    lua_pop(L, 1);
    return rc;
}

/* Read the declaration of pd->name (the table at d) into pd. */
static int parse_decl(loader *ld, lua_State *L, const source *src, param_decl *pd, int d)
{
    static const char *const KEYS[6][4] = {
        {"kind", "min", "max", NULL}, {"kind", "min", "max", NULL}, {"kind", NULL},
        {"kind", "one_of", "max_length", NULL}, {"kind", "min", "max", NULL}, {"kind", NULL}};
    char what[200];
    snprintf(what, sizeof what, "overridable.%s", pd->name);
    int rc = cf__load_refuse_metatable(ld, L, src, d, what);
    if (rc != CF_OK)
        return rc;
    pd->kind = -1;
    if (cf__load_rawfield(L, d, "kind") == LUA_TSTRING)
        for (int k = 0; k < 6; k++)
            if (strcmp(lua_tostring(L, -1), KIND_NAMES[k]) == 0)
                pd->kind = k;
    lua_pop(L, 1);
    if (pd->kind < 0)
        return cf__load_problem(ld, src, CF_EPOLICY,
                       "%s: overridable.%s: kind must be one of integer, number, boolean, string, date, function "
                       "(e.g. { kind = \"integer\", min = 1, max = 365 })",
                       src->label, pd->name);
    lua_pushnil(L);
    while (lua_next(L, d)) {
        lua_pop(L, 1);
        bool ok = false;
        for (int i = 0; lua_type(L, -1) == LUA_TSTRING && KEYS[pd->kind][i]; i++)
            ok = ok || strcmp(lua_tostring(L, -1), KEYS[pd->kind][i]) == 0;
        if (!ok) {
            char key[80];
            value_repr(L, -1, key, sizeof key);
            lua_pop(L, 1);
            return cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: a %s declaration has no field %s (allowed: %s%s%s%s%s)",
                           src->label, pd->name, KIND_NAMES[pd->kind], key, KEYS[pd->kind][0],
                           KEYS[pd->kind][1] ? ", " : "", KEYS[pd->kind][1] ? KEYS[pd->kind][1] : "",
                           KEYS[pd->kind][1] ? ", " : "", KEYS[pd->kind][1] ? KEYS[pd->kind][2] : "");
        }
    }
    if (pd->kind == K_INTEGER || pd->kind == K_NUMBER) {
        bool whole = pd->kind == K_INTEGER;
        rc = decl_bound(ld, L, src, pd, d, "min", whole, &pd->min, &pd->has_min);
        if (rc == CF_OK)
            rc = decl_bound(ld, L, src, pd, d, "max", whole, &pd->max, &pd->has_max);
        if (rc == CF_OK && pd->min > pd->max)
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: min is above max", src->label, pd->name);
        return rc;
    }
    if (pd->kind == K_DATE) {
        rc = decl_date(ld, L, src, pd, d, "min", pd->min_date);
        if (rc == CF_OK)
            rc = decl_date(ld, L, src, pd, d, "max", pd->max_date);
        if (rc == CF_OK && pd->min_date[0] && pd->max_date[0] && strcmp(pd->min_date, pd->max_date) > 0)
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: min is after max", src->label, pd->name);
        return rc;
    }
    if (pd->kind != K_STRING)
        return CF_OK;
    int type = cf__load_rawfield(L, d, "max_length");
    if (type != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > INT_MAX) {
            lua_pop(L, 1);
            return cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: max_length must be a positive integer",
                           src->label, pd->name);
        }
        pd->max_length = (size_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    type = cf__load_rawfield(L, d, "one_of");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return CF_OK;
    }
    int list = lua_gettop(L);
    size_t n = type == LUA_TTABLE ? (size_t)lua_rawlen(L, list) : 0;
    bool ok = n > 0 && !lua_getmetatable(L, list);
    if (!ok && type == LUA_TTABLE && n > 0)
        lua_pop(L, 1); /* the metatable */
    if (ok)
        pd->one_of = calloc(n, sizeof(char *));
    for (size_t i = 0; ok && pd->one_of && i < n; i++) {
        ok = lua_rawgeti(L, list, (lua_Integer)i + 1) == LUA_TSTRING;
        if (ok && !(pd->one_of[pd->none_of] = cf__strdup(lua_tostring(L, -1)))) {
            lua_pop(L, 2);
            return cf__load_problem(ld, src, CF_ENOMEM, "out of memory loading %s", src->label);
        }
        pd->none_of += ok;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (ok && !pd->one_of)
        return cf__load_problem(ld, src, CF_ENOMEM, "out of memory loading %s", src->label);
    if (!ok)
        return cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: one_of must be a list of strings, e.g. { \"a\", \"b\" }",
                       src->label, pd->name);
    return CF_OK;
}

/* P.overridable = { name = { kind = ..., range }, ... }: what a county may set. */
int cf__params_absorb_overridable(loader *ld, lua_State *L, const source *src, int t)
{
    cf__policy *p = ld->p;
    int type = cf__load_rawfield(L, t, "overridable");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return CF_OK;
    }
    int o = lua_gettop(L);
    int rc = type == LUA_TTABLE ? cf__load_refuse_metatable(ld, L, src, o, "overridable")
                                : cf__load_problem(ld, src, CF_EPOLICY,
                                          "%s: overridable: must be a table of declarations, name = { kind = ..., "
                                          "range } (got %s)",
                                          src->label, lua_typename(L, type));
    size_t n = 0;
    bool names = true;
    if (rc == CF_OK) {
        lua_pushnil(L);
        while (lua_next(L, o)) {
            lua_pop(L, 1);
            names = names && lua_type(L, -1) == LUA_TSTRING;
            n++;
        }
        if (!names)
            rc = cf__load_problem(ld, src, CF_EPOLICY,
                         "%s: overridable: declare each parameter a county may set by name, with its kind and range, "
                         "e.g. overridable = { hire_grace_days = { kind = \"integer\", min = 1, max = 365 } } "
                         "(a list of names is not enough: see docs/policies.md)",
                         src->label);
    }
    if (rc == CF_OK) {
        p->decls = calloc(n ? n : 1, sizeof *p->decls);
        p->overridable = calloc(n ? n : 1, sizeof(char *));
        if (!p->decls || !p->overridable)
            rc = cf__load_problem(ld, src, CF_ENOMEM, "out of memory loading %s", src->label);
    }
    if (rc == CF_OK) {
        lua_pushnil(L);
        while (lua_next(L, o)) {
            lua_pop(L, 1);
            char *name = cf__strdup(lua_tostring(L, -1));
            if (!name) {
                lua_pop(L, 1);
                rc = cf__load_problem(ld, src, CF_ENOMEM, "out of memory loading %s", src->label);
                break;
            }
            p->decls[p->noverridable++].name = name;
        }
    }
    if (rc == CF_OK)
        qsort(p->decls, p->noverridable, sizeof *p->decls, decl_cmp);
    for (size_t i = 0; i < p->noverridable; i++)
        p->overridable[i] = p->decls[i].name;
    /* In name order, so that the first problem reported does not depend on hashing. */
    for (size_t i = 0; i < p->noverridable && rc == CF_OK; i++) {
        param_decl *pd = &p->decls[i];
        type = cf__load_rawfield(L, o, pd->name);
        if (!cf__load_is_identifier(pd->name))
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable: keys must be parameter names (letters, digits and '_')",
                         src->label);
        else if (type != LUA_TTABLE)
            rc = cf__load_problem(ld, src, CF_EPOLICY,
                         "%s: overridable.%s: must be a declaration like { kind = \"integer\", min = 1, max = 365 } "
                         "(got %s)",
                         src->label, pd->name, lua_typename(L, type));
        else
            rc = parse_decl(ld, L, src, pd, lua_gettop(L));
        lua_pop(L, 1);
        if (rc != CF_OK)
            break;
        char want[300], got[80];
        if (cf__load_rawfield(L, S_DEFAULTS, pd->name) == LUA_TNIL)
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: overridable.%s: '%s' is not in params", src->label, pd->name,
                         pd->name);
        else if (!decl_fits(pd, L, -1))
            rc = cf__load_problem(ld, src, CF_EPOLICY,
                         "%s: params.%s: the state default %s does not fit its declaration in overridable (must be "
                         "%s)",
                         src->label, pd->name, value_repr(L, -1, got, sizeof got),
                         decl_describe(pd, want, sizeof want));
        lua_pop(L, 1);
    }
    lua_settop(L, o - 1);
    return rc;
}

/* Why the overlay may not set params[key] to the value on top of the stack, or NULL.
 * With buf NULL, only whether: a non-NULL result then has no text, and the costly
 * parts of a message (the "did you mean" search) are skipped, so that an overlay
 * of many bad parameters is checked in linear time (found while fuzzing). */
const char *cf__params_override_problem(loader *ld, lua_State *L, const char *key, char *buf, size_t size)
{
    const param_decl *d = cf__params_find_decl(ld->p, key);
    if (!buf)
        return !d || !decl_fits(d, L, -1) ? "" : NULL;
    if (!d) {
        char list[512];
        overridable_list(ld->p, list, sizeof list);
        int dtype = cf__load_rawfield(L, S_DEFAULTS, key);
        lua_pop(L, 1);
        if (dtype == LUA_TNIL) {
            const char *hint = cf__closest(key, (const char *const *)ld->p->overridable, ld->p->noverridable);
            snprintf(buf, size, "'%s' is not a parameter of the state policy (%s%s%soverridable: %s)", key,
                     hint ? "did you mean '" : "", hint ? hint : "", hint ? "'? " : "", list);
        } else {
            snprintf(buf, size, "a county may not override '%s' (overridable: %s)", key, list);
        }
        return buf;
    }
    if (!decl_fits(d, L, -1)) {
        char want[300], got[80];
        snprintf(buf, size, "must be %s, as declared in policy/state.lua (got %s)", decl_describe(d, want, sizeof want),
                 value_repr(L, -1, got, sizeof got));
        return buf;
    }
    return NULL;
}

/* ---- which parameters the calls read (policy test coverage) ----
 *
 * Each county's params proxy is wrapped, for the scratch engine of a policy test
 * only, in one more read-only proxy whose reads go through count_index: a read of
 * a declared parameter during a policy call adds one to its count in the hits
 * table (upvalue 1), then the inner proxy (upvalue 2) answers as before. Reads by
 * the host (cf__policy_param) are not counted. */

static int count_index(lua_State *L)
{
    cf__policy *p = lua_touserdata(L, lua_upvalueindex(3));
    if (p->call && lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER) {
            lua_Integer n = lua_tointeger(L, -1);
            lua_pushvalue(L, 2);
            lua_pushinteger(L, n + 1);
            lua_rawset(L, lua_upvalueindex(1));
        }
        lua_pop(L, 1);
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(2));
    return 1;
}

/* pairs(params) reads every parameter: all count; then the inner proxy's pairs. */
static int count_pairs(lua_State *L)
{
    cf__policy *p = lua_touserdata(L, lua_upvalueindex(3));
    if (p->call) {
        int hits = lua_upvalueindex(1);
        lua_pushnil(L);
        while (lua_next(L, hits)) {
            lua_Integer n = lua_tointeger(L, -1);
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushinteger(L, n + 1);
            lua_rawset(L, hits); /* an existing key: allowed during the traversal */
        }
    }
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(2));
    return cf__ro_pairs(L); /* its next function, the inner proxy, nil */
}

static int count_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)luaL_len(L, lua_upvalueindex(2)));
    return 1;
}

static int count_install(lua_State *L)
{
    cf__policy *p = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->params_ref);
    int all = lua_gettop(L);
    lua_Integer n = (lua_Integer)p->ncounties + 1;
    /* the declared parameters: the defaults' (the last proxy's) real table */
    lua_newtable(L);
    int hits = lua_gettop(L);
    lua_rawgeti(L, all, n);
    if (lua_getmetatable(L, -1) && lua_getfield(L, -1, "__index") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING) {
                lua_pushvalue(L, -1);
                lua_pushinteger(L, 0);
                lua_rawset(L, hits);
            }
        }
    }
    lua_settop(L, hits);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, all, i);
        int inner = lua_gettop(L);
        lua_newtable(L);
        lua_createtable(L, 0, 6);
        int mt = lua_gettop(L);
        lua_pushvalue(L, hits);
        lua_pushvalue(L, inner);
        lua_pushlightuserdata(L, p);
        lua_pushcclosure(L, count_index, 3);
        lua_setfield(L, mt, "__index");
        lua_getmetatable(L, inner);
        lua_getfield(L, -1, "__newindex"); /* the same refusal */
        lua_setfield(L, mt, "__newindex");
        lua_pop(L, 1);
        lua_pushvalue(L, hits);
        lua_pushvalue(L, inner);
        lua_pushlightuserdata(L, p);
        lua_pushcclosure(L, count_pairs, 3);
        lua_setfield(L, mt, "__pairs");
        lua_pushvalue(L, hits);
        lua_pushvalue(L, inner);
        lua_pushcclosure(L, count_len, 2);
        lua_setfield(L, mt, "__len");
        lua_pushboolean(L, 0);
        lua_setfield(L, mt, "__metatable");
        lua_setmetatable(L, mt - 1);
        lua_rawseti(L, all, i);
        lua_settop(L, hits);
    }
    lua_pushvalue(L, hits);
    p->param_reads_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int cf__policy_count_param_reads(cf__policy *p)
{
    if (p->param_reads_ref > 0)
        return CF_OK;
    if (p->params_ref == LUA_NOREF)
        return CF_OK; /* nothing loaded */
    lua_State *L = p->L;
    lua_pushcfunction(L, count_install);
    lua_pushlightuserdata(L, p);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_pop(L, 1);
        return CF_ENOMEM;
    }
    p->params_index = 0; /* the next call takes the counting proxy */
    return CF_OK;
}

int cf__policy_param_reads(cf__policy *p, int (*fn)(void *ud, const char *name, uint64_t reads), void *ud)
{
    if (p->param_reads_ref <= 0)
        return 0;
    lua_State *L = p->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->param_reads_ref);
    int hits = lua_gettop(L), stop = 0;
    lua_pushnil(L);
    while (!stop && lua_next(L, hits)) {
        lua_Integer n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        stop = fn(ud, lua_tostring(L, -1), n > 0 ? (uint64_t)n : 0);
    }
    lua_settop(L, hits - 1);
    return stop;
}
