/*
 * policy_load.c — loading the policies: reading the state policy folder and the
 * county overlays, each file run once in the sandbox with a load budget; the
 * functions each role gathers; each overlay's parameters merged (checked by
 * policy_params.c) and frozen with what outlives a call (policy_freeze.c);
 * cf__policy_open, cf__policy_close and cf__policy_check. The globals a policy
 * sees are policy_globals.c's (their metering is policy_meter.c's).
 */
#include "internal.h"
#include "policy/policy_file.h"
#include "policy/sandbox.h"

#include <lauxlib.h>
#include <lua.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_BUDGET 1000000u
#define DEFAULT_CAP ((size_t)16 << 20)
#define LOAD_CAP ((size_t)64 << 20)    /* the whole state while loading files */
#define LOAD_BUDGET 50000000u          /* instructions to run one file's top level */
#define DEFAULT_TIME_MS 1000u          /* wall-clock limit of one call */
#define DEFAULT_LOAD_TIME_MS 5000u     /* wall-clock limit of one file's top level */
static const char *const ROLE_TABLES[3] = {"guards", "assigns", "deadlines"};
static const char *const STATE_KEYS[] = {"description", "params", "overridable", "guards", "assigns", "deadlines"};
static const char *const COUNTY_KEYS[] = {"description", "params"};
static const char *const PART_KEYS[] = {"description", "guards", "assigns", "deadlines"};

/* ---- loading ---- */

/* After an overlay's top level: the state policy's bindings are as loaded. */
static int bindings_restore(loader *ld, lua_State *L, const source *src)
{
    lua_Integer k = cf__policy_bindings_verify(L, S_BINDINGS);
    if (!k)
        return CF_OK;
    char name[300];
    return cf__load_problem(ld, src, CF_EPOLICY,
                   "%s: its top level changed %s; it was restored (a county file only returns its description "
                   "and params)",
                   src->label, cf__policy_binding_name(L, S_BINDINGS, k, name, sizeof name));
}

/* Load and run one file; on success its returned table is on the stack. */
static int run_file(loader *ld, lua_State *L, const source *src, int env)
{
    char chunk[300];
    snprintf(chunk, sizeof chunk, "@%s", src->label);
    int status = luaL_loadbufferx(L, src->text, src->len, chunk, "t");
    if (status != LUA_OK) {
        int rc = cf__load_problem(ld, src, status == LUA_ERRMEM ? CF_ENOMEM : CF_EPOLICY, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return rc;
    }
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1); /* _ENV */
    cf__sandbox_arm(&ld->p->sb, LOAD_BUDGET, LOAD_CAP, ld->p->load_time_ms, false);
    status = lua_pcall(L, 0, 1, 0);
    unsigned hit = ld->p->sb.limit_hit, first = ld->p->sb.limit_first;
    ld->p->sb.armed = false; /* the load cap stays for the rest of the loading */
    lua_sethook(L, NULL, 0, 0);
    if (status != LUA_OK) {
        int rc;
        if (first == CF__LIMIT_INSTR)
            rc = cf__load_problem(ld, src, CF_ELIMIT, "%s: ran past %u instructions while loading (an endless loop? "
                         "library calls count one instruction per %u bytes they touch)",
                         src->label, LOAD_BUDGET, CF__BYTES_PER_INSTR);
        else if (first == CF__LIMIT_TIME)
            rc = cf__load_problem(ld, src, CF_ELIMIT,
                         "%s: ran past its load time limit of %u ms (an endless loop at the top level of the "
                         "file? raise lua_load_time_limit_ms / --lua-load-time-limit if the work is legitimate)",
                         src->label, ld->p->load_time_ms);
        else if (hit & CF__LIMIT_MEM)
            rc = cf__load_problem(ld, src, CF_ELIMIT, "%s: needs more than %zu bytes while loading", src->label, LOAD_CAP);
        else
            rc = cf__load_problem(ld, src, status == LUA_ERRMEM ? CF_ENOMEM : CF_EPOLICY, "%s: error while loading: %s",
                         src->label, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a message)");
        lua_pop(L, 1);
        return rc;
    }
    if (!lua_istable(L, -1)) {
        int rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: must return a table (got %s)", src->label, luaL_typename(L, -1));
        lua_pop(L, 1);
        return rc;
    }
    int rc = cf__load_refuse_metatable(ld, L, src, lua_gettop(L), "the returned table");
    if (rc != CF_OK)
        lua_pop(L, 1);
    return rc;
}

/* Check the top-level keys of the table at t against allowed (cf__check_keys_lua). */
static int check_keys(loader *ld, lua_State *L, const source *src, int t, const char *const *allowed, size_t n)
{
    cf__keys_found f;
    if (cf__check_keys_lua(L, t, allowed, n, &f))
        return CF_OK;
    if (f.unnamed)
        return cf__load_problem(ld, src, CF_EPOLICY, "%s: the returned table may only have names as keys", src->label);
    char mean[160] = "";
    if (f.closest)
        snprintf(mean, sizeof mean, "did you mean '%s'? ", f.closest);
    return cf__load_problem(ld, src, CF_EPOLICY, "%s: unknown key '%s' (%sallowed: %s)", src->label, f.unknown, mean,
                   f.allowed);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Gather the functions of a role (table at field `key` of t) into the name ->
 * function table of that role; a name defined by an earlier file is an error. */
static int collect_functions(loader *ld, lua_State *L, const source *src, int t, int role)
{
    const char *key = ROLE_TABLES[role];
    int type = cf__load_rawfield(L, t, key);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return CF_OK;
    }
    if (type != LUA_TTABLE) {
        lua_pop(L, 1);
        return cf__load_problem(ld, src, CF_EPOLICY, "%s: %s: must be a table of functions (got %s)", src->label, key,
                       lua_typename(L, type));
    }
    int fns = lua_gettop(L);
    int rc = cf__load_refuse_metatable(ld, L, src, fns, key);
    if (rc != CF_OK) {
        lua_pop(L, 1);
        return rc;
    }
    lua_pushnil(L);
    while (lua_next(L, fns)) {
        if (lua_type(L, -2) != LUA_TSTRING || !cf__load_is_identifier(lua_tostring(L, -2))) {
            lua_settop(L, fns - 1);
            return cf__load_problem(ld, src, CF_EPOLICY, "%s: %s: keys must be names (letters, digits and '_')",
                           src->label, key);
        }
        const char *name = lua_tostring(L, -2);
        if (lua_type(L, -1) != LUA_TFUNCTION) {
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: %s.%s: must be a function (got %s)", src->label, key, name,
                             luaL_typename(L, -1));
            lua_settop(L, fns - 1);
            return rc;
        }
        lua_pushfstring(L, "%s.%s", key, name);
        if (lua_rawget(L, S_ORIGIN) == LUA_TSTRING) {
            rc = cf__load_problem(ld, src, CF_EPOLICY,
                             "%s: %s.%s: already defined in %s (a name may be defined once in the state policy)",
                             src->label, key, name, lua_tostring(L, -1));
            lua_settop(L, fns - 1);
            return rc;
        }
        lua_pop(L, 1);
        lua_pushfstring(L, "%s.%s", key, name);
        lua_pushstring(L, src->label);
        lua_rawset(L, S_ORIGIN);
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, S_FN_GUARDS + role); /* pops key and function; the key copy stays for lua_next */
    }
    lua_settop(L, fns - 1);
    return CF_OK;
}

/* Turn the gathered functions of a role into p's sorted names and the array at dest. */
static int finish_functions(loader *ld, lua_State *L, int role, int dest)
{
    cf__policy *p = ld->p;
    int fns = S_FN_GUARDS + role;
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, fns)) {
        lua_pop(L, 1);
        n++;
    }
    p->names[role] = calloc(n ? n : 1, sizeof(char *));
    if (!p->names[role])
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory loading the state policy");
    lua_pushnil(L);
    while (lua_next(L, fns)) {
        lua_pop(L, 1);
        char *name = cf__strdup(lua_tostring(L, -1));
        if (!name) {
            lua_pop(L, 1);
            return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory loading the state policy");
        }
        p->names[role][p->nnames[role]++] = name;
    }
    qsort(p->names[role], p->nnames[role], sizeof(char *), cmp_cstr);
    for (size_t i = 0; i < p->nnames[role]; i++) {
        lua_getfield(L, fns, p->names[role][i]);
        lua_rawseti(L, dest, (lua_Integer)i + 1);
    }
    /* The file of each function, for the messages of calls stopped by a limit. */
    p->origins[role] = calloc(n ? n : 1, sizeof(char *));
    if (!p->origins[role])
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory loading the state policy");
    for (size_t i = 0; i < p->nnames[role]; i++) {
        lua_pushfstring(L, "%s.%s", ROLE_TABLES[role], p->names[role][i]);
        if (lua_rawget(L, S_ORIGIN) == LUA_TSTRING)
            p->origins[role][i] = cf__strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return CF_OK;
}


static int load_state(loader *ld, lua_State *L)
{
    const source *src = &ld->state;
    int rc = run_file(ld, L, src, S_ENV_P);
    if (rc != CF_OK)
        return rc;
    int t = lua_gettop(L);
    rc = check_keys(ld, L, src, t, STATE_KEYS, sizeof STATE_KEYS / sizeof *STATE_KEYS);
    if (rc == CF_OK)
        rc = cf__params_absorb(ld, L, src, t);
    if (rc == CF_OK)
        rc = cf__params_absorb_overridable(ld, L, src, t);
    for (int role = 0; role < 3 && rc == CF_OK; role++)
        rc = collect_functions(ld, L, src, t, role);
    if (rc == CF_OK && cf__load_rawfield(L, t, "description") > LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
        rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: description: must be text", src->label);
    lua_settop(L, t - 1);
    return rc;
}

/* A part of the state policy: decisions only; parameters live in state.lua. */
static int load_part(loader *ld, lua_State *L, const source *src)
{
    int rc = run_file(ld, L, src, S_ENV_P);
    if (rc != CF_OK)
        return rc;
    int t = lua_gettop(L);
    rc = check_keys(ld, L, src, t, PART_KEYS, sizeof PART_KEYS / sizeof *PART_KEYS);
    for (int role = 0; role < 3 && rc == CF_OK; role++)
        rc = collect_functions(ld, L, src, t, role);
    if (rc == CF_OK && cf__load_rawfield(L, t, "description") > LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
        rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: description: must be text", src->label);
    lua_settop(L, t - 1);
    return rc;
}


static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int load_overlay(loader *ld, lua_State *L, size_t i)
{
    const source *src = &ld->overlays[i];
    if (!cf__valid_county(src->name))
        return cf__load_problem(ld, src, CF_EPOLICY,
                       "%s: a county file is named after its county in lower case letters, digits and '_', "
                       "starting with a letter, at most 64 characters (e.g. san_diego.lua)",
                       src->label);
    int rc = run_file(ld, L, src, S_OVL_P);
    if (rc != CF_OK)
        return rc;
    int t = lua_gettop(L);
    /* Its top level may have called a function of the state policy that rebinds
     * one of its locals: the state policy stays as it was loaded. */
    rc = bindings_restore(ld, L, src);
    if (rc == CF_OK)
        rc = check_keys(ld, L, src, t, COUNTY_KEYS, sizeof COUNTY_KEYS / sizeof *COUNTY_KEYS);
    int type = rc == CF_OK ? cf__load_rawfield(L, t, "params") : (lua_pushnil(L), LUA_TNIL);
    if (rc == CF_OK && cf__load_rawfield(L, t, "description") > LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
        rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: description: must be text", src->label);
    if (rc == CF_OK && type != LUA_TNIL && type != LUA_TTABLE)
        rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: params: must be a table (got %s)", src->label, lua_typename(L, type));
    int params = t + 1;
    if (rc == CF_OK && type == LUA_TTABLE)
        rc = cf__load_refuse_metatable(ld, L, src, params, "params");
    /* The merged parameters: the state defaults, then the overrides, read raw and
     * copied (an integer declared integer is kept as one). */
    lua_newtable(L);
    int merged = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, S_DEFAULTS))
        lua_pushvalue(L, -2), lua_insert(L, -2), lua_rawset(L, merged);
    char worst_key[128] = "", worst[1024] = "";
    bool has_worst = false;
    int wk = lua_gettop(L) + 1;
    lua_pushnil(L); /* wk: the first bad key in name order; its message is made after the loop */
    lua_newtable(L); /* bk: every bad key, for certflow check (one problem each) */
    int bk = lua_gettop(L);
    size_t nbad = 0;
    if (rc == CF_OK && type == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, params)) {
            const char *bad = NULL;
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (lua_type(L, -2) != LUA_TSTRING)
                bad = "keys must be parameter names";
            else if (ld->state_ok)
                bad = cf__params_override_problem(ld, L, key, NULL, 0);
            else
                bad = cf__params_value_problem(L, -1);
            if (bad && ld->diag && lua_type(L, -2) == LUA_TSTRING) {
                lua_pushvalue(L, -2);
                lua_rawseti(L, bk, (lua_Integer)++nbad);
            }
            if (bad && (!has_worst || strcmp(key, worst_key) < 0)) {
                has_worst = true;
                snprintf(worst_key, sizeof worst_key, "%s", key);
                snprintf(worst, sizeof worst, "%s", bad);
                lua_pushvalue(L, -2);
                lua_replace(L, wk);
            }
            if (!bad) {
                if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1) && cf__params_find_decl(ld->p, key) &&
                    cf__params_find_decl(ld->p, key)->kind == K_INTEGER) {
                    lua_Integer v = (lua_Integer)lua_tonumber(L, -1); /* fits: checked against the range */
                    lua_pop(L, 1);
                    lua_pushinteger(L, v);
                }
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, merged);
            } else {
                lua_pop(L, 1);
            }
        }
        /* certflow check names every bad parameter of the file, in name order. */
        if (ld->diag && nbad > 1 && has_worst && lua_type(L, wk) == LUA_TSTRING) {
            const char **keys = calloc(nbad, sizeof *keys);
            for (size_t k = 0; keys && k < nbad; k++) {
                lua_rawgeti(L, bk, (lua_Integer)k + 1); /* the string stays in bk */
                keys[k] = lua_tostring(L, -1);
                lua_pop(L, 1);
            }
            if (keys) {
                qsort(keys, nbad, sizeof *keys, cmp_key);
                for (size_t k = 0; k < nbad; k++) {
                    lua_pushstring(L, keys[k]);
                    lua_rawget(L, params);
                    char why[900];
                    const char *bad = ld->state_ok ? cf__params_override_problem(ld, L, keys[k], why, sizeof why)
                                                   : cf__params_value_problem(L, -1);
                    lua_pop(L, 1);
                    rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: params.%s: %s", src->label, keys[k],
                                          bad ? bad : "(no longer a problem)");
                }
                free(keys);
                has_worst = false;
            }
        }
        if (has_worst && !worst[0]) {
            lua_pushvalue(L, wk);
            lua_rawget(L, params);
            char why[900];
            const char *bad = cf__params_override_problem(ld, L, lua_tostring(L, wk), why, sizeof why);
            snprintf(worst, sizeof worst, "%s", bad ? bad : "(no longer a problem)");
            lua_pop(L, 1);
        }
        if (has_worst)
            rc = cf__load_problem(ld, src, CF_EPOLICY, "%s: params.%s: %s", src->label, worst_key, worst);
    }
    if (rc == CF_OK) {
        /* What the overlay's functions keep between calls is frozen like the state's. */
        char owner[300];
        snprintf(owner, sizeof owner, "%s", src->label);
        cf__policy_freeze_reachable(L, merged, S_SEEN, S_BINDINGS, owner);
        rc = bindings_restore(ld, L, src);
    }
    if (rc == CF_OK) {
        cf__push_ro_proxy(L, merged, "params are read-only; a county changes them in its counties/<county>.lua file");
        lua_rawseti(L, S_PARAMS, (lua_Integer)i + 1);
    }
    lua_settop(L, t - 1);
    return rc;
}


static int load_all(lua_State *L)
{
    loader *ld = lua_touserdata(L, S_ARG);
    cf__policy *p = ld->p;
    lua_settop(L, S_ARG);
    luaL_checkstack(L, S_COUNT + 24, "loading policies");
    cf__load_build_sandbox(p, L);
    for (int i = S_FN_GUARDS; i <= S_COUNT; i++)
        lua_newtable(L);
    ld->state_ok = ld->has_state && load_state(ld, L) == CF_OK;
    for (size_t i = 0; i < ld->nparts && (ld->diag || ld->rc == CF_OK); i++)
        if (load_part(ld, L, &ld->parts[i]) != CF_OK)
            ld->state_ok = false;
    for (int role = 0; role < 3 && ld->state_ok; role++)
        if (finish_functions(ld, L, role, S_GUARDS + role) != CF_OK)
            ld->state_ok = false;
    /* From now on no policy writes a global. */
    lua_pushcfunction(L, cf__global_write);
    lua_setfield(L, S_ENV_MT, "__newindex");
    /* ... nor changes anything kept between calls: before any overlay runs. */
    lua_pushvalue(L, S_ENV);
    lua_pushboolean(L, 1);
    lua_rawset(L, S_SEEN);
    cf__policy_freeze_reachable(L, S_ENV, S_SEEN, S_BINDINGS, "the state policy");
    cf__policy_freeze_reachable(L, S_DEFAULTS, S_SEEN, S_BINDINGS, "policy/state.lua");
    for (int role = 0; role < 3; role++)
        cf__policy_freeze_reachable(L, S_FN_GUARDS + role, S_SEEN, S_BINDINGS, "the state policy");
    for (size_t i = 0; i < ld->noverlays && (ld->diag || ld->rc == CF_OK); i++)
        load_overlay(ld, L, i);
    if (ld->rc != CF_OK)
        return 0;
    cf__push_ro_proxy(L, S_DEFAULTS, "params are read-only; a county changes them in its counties/<county>.lua file");
    lua_rawseti(L, S_PARAMS, (lua_Integer)p->ncounties + 1);
    cf__policy_gather_bindings(L, p, S_ENV, S_PARAMS, S_GUARDS);
    static const int slot_of[UV_COUNT + 1] = {0, 0, S_GUARDS, S_ASSIGNS, S_DEADLINES, S_INST, S_EV, S_CTX,
                                              S_INST_P, S_EV_P, S_CTX_P, S_ENV, S_PARAMS};
    lua_pushlightuserdata(L, p);
    for (int i = UV_GUARDS; i <= UV_COUNT; i++)
        lua_pushvalue(L, slot_of[i]);
    lua_pushcclosure(L, cf__policy_run_call, UV_COUNT);
    p->runner_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, S_PARAMS);
    p->params_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, S_VIEW_MT);
    p->view_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    static const int hot_slot[HOT_COUNT + 1] = {0, 0, S_GUARDS, S_ASSIGNS, S_DEADLINES, S_INST_P, S_EV_P, S_CTX_P,
                                                S_INST, S_EV, 0};
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->runner_ref);
    p->hot_ref[HOT_RUNNER - 1] = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = HOT_GUARDS; i <= HOT_COUNT; i++) {
        if (i == HOT_KEY_DATA)
            lua_pushliteral(L, "data");
        else
            lua_pushvalue(L, hot_slot[i]);
        p->hot_ref[i - 1] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

static void source_free(source *s)
{
    free(s->path);
    free(s->label);
    free(s->name);
    free(s->text);
}

static void loader_free(loader *ld)
{
    source_free(&ld->state);
    for (size_t i = 0; i < ld->noverlays; i++)
        source_free(&ld->overlays[i]);
    free(ld->overlays);
    for (size_t i = 0; i < ld->nparts; i++)
        source_free(&ld->parts[i]);
    free(ld->parts);
    cf__buf_free(&ld->state_text);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* The parts of the state policy: every policy/<name>.lua but state.lua, in name order. */
static int read_parts(loader *ld, const char *dir)
{
    cf__err ferr;
    char *pdir = join(dir, "policy");
    if (!pdir)
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
    char **paths = NULL;
    size_t n = 0;
    struct stat st;
    int rc = CF_OK;
    if (stat(pdir, &st) == 0 && S_ISDIR(st.st_mode))
        rc = cf__list_dir(pdir, ".lua", &paths, &n, &ferr);
    free(pdir);
    if (rc != CF_OK)
        return cf__load_problem(ld, NULL, rc, "%s", ferr.msg);
    ld->parts = calloc(n ? n : 1, sizeof *ld->parts);
    if (!ld->parts) {
        cf__free_list(paths, n);
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
    }
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        if (strcmp(base, "state.lua") == 0)
            continue;
        source *src = &ld->parts[ld->nparts++];
        src->path = paths[i];
        paths[i] = NULL;
        src->label = join("policy", base);
        if (!src->label) {
            rc = cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
            break;
        }
        if (cf__read_file(src->path, &src->text, &src->len, &ferr) != CF_OK) {
            rc = cf__load_problem(ld, src, CF_EIO, "%s", ferr.msg);
            if (!ld->diag)
                break;
            continue;
        }
        cf__buf_printf(&ld->state_text, "\n--part %s\n", src->label);
        cf__buf_append(&ld->state_text, src->text, src->len);
    }
    cf__free_list(paths, n);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* A proposed overlay takes the place of the county's file, or joins the list in name order. */
static int add_candidate(loader *ld, char ***paths, size_t *n)
{
    const cf__policy_config *cfg = ld->cfg;
    if (!cfg->candidate_county)
        return CF_OK;
    if (!cfg->candidate_path)
        return cf__load_problem(ld, NULL, CF_EINVAL, "a proposed county policy needs a file");
    const char *county = cfg->candidate_county;
    if (!cf__valid_county(county))
        return cf__load_problem(ld, NULL, CF_EINVAL,
                       "'%s' is not a county name: use lower case letters, digits and '_', at most 64 characters "
                       "(e.g. san_diego)",
                       county);
    struct stat st;
    if (stat(cfg->candidate_path, &st) != 0 || !S_ISREG(st.st_mode))
        return cf__load_problem(ld, NULL, CF_EIO, "cannot read the proposed policy %s: no such file", cfg->candidate_path);
    char *copy = cf__strdup(cfg->candidate_path);
    if (!copy)
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        const char *base = base_name((*paths)[i]);
        size_t len = strlen(base);
        if (len == strlen(county) + 4 && strncmp(base, county, len - 4) == 0) {
            free((*paths)[i]);
            (*paths)[i] = copy;
            return CF_OK;
        }
    }
    char **grown = realloc(*paths, (*n + 1) * sizeof *grown);
    if (!grown) {
        free(copy);
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory");
    }
    /* Keep name order (of the county names), which the params table relies on. */
    size_t at = 0;
    for (; at < *n; at++) {
        char name[256];
        snprintf(name, sizeof name, "%s", base_name(grown[at]));
        name[strlen(name) - 4] = '\0'; /* ".lua" */
        if (strcmp(name, county) > 0)
            break;
    }
    memmove(grown + at + 1, grown + at, (*n - at) * sizeof *grown);
    grown[at] = copy;
    *paths = grown;
    ++*n;
    return CF_OK;
}

/* Read state.lua and every overlay, and compute the hashes. */
static int read_sources(loader *ld, const char *dir)
{
    cf__policy *p = ld->p;
    cf__err ferr;
    ld->state.path = join(dir, "policy/state.lua");
    ld->state.label = cf__strdup("policy/state.lua");
    if (!ld->state.path || !ld->state.label)
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
    struct stat st;
    if (stat(ld->state.path, &st) != 0 || !S_ISREG(st.st_mode)) {
        cf__load_problem(ld, &ld->state, CF_EIO,
                "the policy folder %s has no state policy: %s is missing (create it, or give no policy folder)",
                dir, ld->state.path);
    } else if (cf__read_file(ld->state.path, &ld->state.text, &ld->state.len, &ferr) != CF_OK) {
        cf__load_problem(ld, &ld->state, CF_EIO, "%s", ferr.msg);
    } else {
        ld->has_state = true;
        cf__buf_append(&ld->state_text, ld->state.text, ld->state.len);
    }
    if (ld->rc != CF_OK && !ld->diag)
        return ld->rc;
    int prc = read_parts(ld, dir);
    if (prc != CF_OK && !ld->diag)
        return prc;
    if (ld->state_text.oom)
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
    if (ld->has_state)
        cf__sha256_hex(ld->state_text.data, ld->state_text.len, p->state_hash);

    char *cdir = join(dir, "counties");
    if (!cdir)
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
    char **paths = NULL;
    size_t n = 0;
    int rc = CF_OK;
    if (stat(cdir, &st) == 0 && S_ISDIR(st.st_mode))
        rc = cf__list_dir(cdir, ".lua", &paths, &n, &ferr);
    free(cdir);
    if (rc != CF_OK)
        return cf__load_problem(ld, NULL, rc, "%s", ferr.msg);
    rc = add_candidate(ld, &paths, &n);
    if (rc != CF_OK) {
        cf__free_list(paths, n);
        return rc;
    }
    ld->overlays = calloc(n ? n : 1, sizeof *ld->overlays);
    p->counties = calloc(n ? n : 1, sizeof *p->counties);
    if (!ld->overlays || !p->counties) {
        cf__free_list(paths, n);
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
    }
    for (size_t i = 0; i < n; i++) {
        source *o = &ld->overlays[ld->noverlays++];
        o->path = paths[i];
        paths[i] = NULL;
        const char *base = base_name(o->path);
        bool proposed = ld->cfg->candidate_county && strcmp(o->path, ld->cfg->candidate_path) == 0;
        if (proposed) {
            o->name = cf__strdup(ld->cfg->candidate_county);
            size_t ln = strlen(o->path) + strlen(o->name) + 40;
            o->label = malloc(ln);
            if (o->label)
                snprintf(o->label, ln, "%s (proposed for %s)", o->path, o->name);
        } else {
            o->name = cf__strdup(base);
            if (o->name)
                o->name[strlen(o->name) - 4] = '\0';
            o->label = join("counties", base);
        }
        if (!o->name || !o->label) {
            rc = cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
            break;
        }
        if (cf__read_file(o->path, &o->text, &o->len, &ferr) != CF_OK) {
            rc = cf__load_problem(ld, o, CF_EIO, "%s", ferr.msg);
            if (!ld->diag)
                break;
            continue;
        }
        county_entry *c = &p->counties[p->ncounties];
        c->name = cf__strdup(o->name);
        cf__sha256 *h = cf__sha256_new();
        if (!c->name || !h) {
            free(c->name);
            c->name = NULL;
            cf__sha256_final(h, c->hash);
            rc = cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory reading the policy folder %s", dir);
            break;
        }
        cf__sha256_update(h, ld->state_text.data, ld->state_text.len);
        cf__sha256_update(h, "\n--overlay ", 11);
        cf__sha256_update(h, o->name, strlen(o->name));
        cf__sha256_update(h, "\n", 1);
        cf__sha256_update(h, o->text, o->len);
        cf__sha256_final(h, c->hash);
        p->ncounties++;
    }
    cf__free_list(paths, n);
    return rc;
}

static int county_cmp(const void *a, const void *b)
{
    return strcmp(((const county_entry *)a)->name, ((const county_entry *)b)->name);
}

static int load(const cf__policy_config *cfg, cf__policy *p, loader *ld)
{
    p->tz = *cfg->tz;
    p->budget = cfg->instruction_budget ? cfg->instruction_budget : DEFAULT_BUDGET;
    p->cap = cfg->memory_cap ? cfg->memory_cap : DEFAULT_CAP;
    p->time_ms = cfg->time_limit_ms ? cfg->time_limit_ms : DEFAULT_TIME_MS;
    p->load_time_ms = cfg->load_time_limit_ms ? cfg->load_time_limit_ms : DEFAULT_LOAD_TIME_MS;
    p->runner_ref = p->params_ref = p->view_mt_ref = LUA_NOREF;
    cf__sha256_hex("", 0, p->state_hash);
    if (cfg->dir) {
        int rc = read_sources(ld, cfg->dir);
        if (rc != CF_OK && !ld->diag)
            return rc;
    }
    p->L = cf__sandbox_open(&p->sb, LOAD_CAP, cf__policy_raise, p, false);
    if (!p->L)
        return cf__load_problem(ld, NULL, CF_ENOMEM, "out of memory starting the policy host");
    lua_setwarnf(p->L, NULL, NULL); /* `warn` is not offered; make sure nothing prints */
    lua_pushcfunction(p->L, load_all);
    lua_pushlightuserdata(p->L, ld);
    int status = lua_pcall(p->L, 1, 0, 0);
    if (status != LUA_OK) {
        if (p->sb.limit_hit & CF__LIMIT_MEM)
            cf__load_problem(ld, NULL, CF_ELIMIT, "the policy files need more than %zu bytes to load", LOAD_CAP);
        else
            cf__load_problem(ld, NULL, status == LUA_ERRMEM ? CF_ENOMEM : CF_EPOLICY, "loading policies failed: %s",
                    lua_type(p->L, -1) == LUA_TSTRING ? lua_tostring(p->L, -1) : "(no message)");
        lua_settop(p->L, 0);
    }
    if (ld->rc == CF_OK && !ld->diag) {
        lua_settop(p->L, 0);
        for (int i = 0; i < HOT_COUNT; i++)
            lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->hot_ref[i]);
    }
    cf__sandbox_disarm(&p->sb);
    /* Files were read in name order; keep the counties sorted for lookups. */
    if (p->ncounties > 1)
        qsort(p->counties, p->ncounties, sizeof *p->counties, county_cmp);
    return ld->rc;
}

int cf__policy_open(const cf__policy_config *cfg, cf__policy **out, cf__err *err)
{
    *out = NULL;
    if (!cfg || !cfg->tz)
        return cf__fail(err, CF_EINVAL, "policy configuration without a time zone");
    cf__policy *p = calloc(1, sizeof *p);
    if (!p)
        return cf__fail(err, CF_ENOMEM, "out of memory opening the policies");
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.p = p;
    ld.cfg = cfg;
    ld.err = err;
    int rc = load(cfg, p, &ld);
    loader_free(&ld);
    if (rc != CF_OK) {
        cf__policy_close(p);
        return rc;
    }
    *out = p;
    return CF_OK;
}

void cf__policy_close(cf__policy *p)
{
    if (!p)
        return;
    if (p->L)
        lua_close(p->L);
    for (int r = 0; r < 3; r++) {
        for (size_t i = 0; i < p->nnames[r]; i++) {
            free(p->names[r][i]);
            if (p->origins[r])
                free(p->origins[r][i]);
        }
        free(p->names[r]);
        free(p->origins[r]);
    }
    for (size_t i = 0; p->decls && i < p->noverridable; i++) {
        free(p->decls[i].name);
        for (size_t j = 0; j < p->decls[i].none_of; j++)
            free(p->decls[i].one_of[j]);
        free(p->decls[i].one_of);
    }
    free(p->decls);
    for (int r = 0; r < 3; r++)
        free(p->hits[r]);
    free(p->overridable);
    for (int r = 0; r < 3; r++) {
        free(p->uv_list[r]);
        free(p->plan[r]);
    }
    for (size_t i = 0; i < p->ncounties; i++)
        free(p->counties[i].name);
    free(p->counties);
    free(p);
}

int cf__policy_check(const cf__policy_config *cfg, cf_diagnostic_fn fn, void *ud, int *problems)
{
    return cf__policy_check_names(cfg, fn, ud, problems, NULL);
}

int cf__policy_check_names(const cf__policy_config *cfg, cf_diagnostic_fn fn, void *ud, int *problems,
                           cf__policy **names)
{
    if (names)
        *names = NULL;
    if (problems)
        *problems = 0;
    if (!cfg || !cfg->tz)
        return CF_EINVAL;
    cf__policy *p = calloc(1, sizeof *p);
    if (!p)
        return CF_ENOMEM;
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.p = p;
    ld.cfg = cfg;
    ld.diag = fn;
    ld.diag_ud = ud;
    load(cfg, p, &ld);
    loader_free(&ld);
    if (names && ld.state_ok)
        *names = p;
    else
        cf__policy_close(p);
    if (problems)
        *problems = ld.problems;
    return ld.problems ? CF_EPOLICY : CF_OK;
}
