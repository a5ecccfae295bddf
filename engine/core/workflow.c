/*
 * workflow.c — load a workflow file (a Lua chunk returning a table of plain
 * data) in an empty, bounded sandbox and validate it with precise messages,
 * reading it into the compiled form: the tree of nested states is built by
 * hierarchy.c, the transitions are expanded and chained by workflow_compile.c,
 * and workflow_dot.c renders the result as Graphviz DOT.
 */
#include "wf_build.h"

#include <lauxlib.h>
#include <time.h>

/* Limits of the Lua state that loads one workflow file. A workflow is a small
 * table of data: these are far above any real file and only stop runaways. */
#define WF_INSTRUCTION_LIMIT 10000000
#define WF_MEMORY_CAP ((size_t)64 * 1024 * 1024)
#define WF_TIME_MS 5000u                 /* default wall-clock limit of running the file */

/* ---------- the sandbox's messages (sandbox.h) ---------- */

/* A stopped file raises a message naming the line; the path is added later. The
 * sandbox keeps allocating for the message; a time stop starves from then on. */
static void wf_raise(lua_State *L, cf__sandbox *sb, unsigned which, const char *where, lua_Debug *ar)
{
    (void)where;
    lua_getinfo(L, "l", ar);
    /* The chunk name is empty, so messages start ":<line>:". */
    if (which == CF__LIMIT_TIME)
        lua_pushfstring(L, ":%d: took longer than %d ms to load", ar->currentline, (int)sb->armed_ms);
    else
        lua_pushfstring(L, ":%d: took too long to load (an endless loop?)", ar->currentline);
    sb->starved = which == CF__LIMIT_TIME; /* from now on no allocation succeeds */
    lua_error(L);
}

static bool wf_timed_out(const cf__sandbox *sb)
{
    return sb->limit_hit & CF__LIMIT_TIME;
}

static bool wf_too_long(const cf__sandbox *sb)
{
    return sb->limit_hit & (CF__LIMIT_TIME | CF__LIMIT_INSTR);
}

static const char *type_of(ctx *c, int idx)
{
    return lua_typename(c->L, lua_type(c->L, idx));
}

/* "a string", "nil", "nothing": a value's type for a sentence. */
static const char *a_type(ctx *c, int idx)
{
    switch (lua_type(c->L, idx)) {
    case LUA_TNONE: return "nothing";
    case LUA_TNIL: return "nil";
    case LUA_TBOOLEAN: return "a boolean";
    case LUA_TNUMBER: return "a number";
    case LUA_TSTRING: return "a string";
    case LUA_TFUNCTION: return "a function";
    default: return "a value that is not a table";
    }
}

static bool good_name(const char *s, size_t len)
{
    if (len == 0 || len > WF_NAME_MAX || strlen(s) != len || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return true;
}

#define NAME_HINT                                                                                          \
    "start with a lower-case letter, then use only lower-case letters, digits and '_', at most 64 characters"

static int check_name(ctx *c, const char *tp, const char *what, const char *s, size_t len)
{
    if (!good_name(s, len))
        return bad(c, tp, NAME_HINT, "bad %s name '%s'", what, s);
    return CF_OK;
}

/* Push t[key] (raw) and return its type. t is an absolute index. */
static int get_field(ctx *c, int t, const char *key)
{
    lua_pushstring(c->L, key);
    return lua_rawget(c->L, t);
}

/* Every key of table t must be a string among allowed. Reports the smallest
 * offending key so that the message does not depend on Lua's table order. */
static int check_keys(ctx *c, int t, const char *tp, const char *const *allowed, size_t nallowed)
{
    cf__keys_found f;
    if (cf__check_keys_lua(c->L, t, allowed, nallowed, &f))
        return CF_OK;
    char hint[1024];
    char p[TP_MAX];
    if (f.unnamed) {
        sfmt(hint, sizeof hint, "every entry here needs a name: one of %s", f.allowed);
        if (f.unnamed_is_int) {
            join_index(p, tp, f.unnamed_int);
            return bad(c, p, hint, "unexpected list entry");
        }
        return bad(c, *tp ? tp : "(top level)", hint, "unexpected entry with a %s key", f.unnamed_type);
    }
    join_key(p, tp, f.unknown);
    if (f.closest)
        sfmt(hint, sizeof hint, "did you mean '%s'? allowed keys: %s", f.closest, f.allowed);
    else
        sfmt(hint, sizeof hint, "allowed keys: %s", f.allowed);
    return bad(c, p, hint, "unknown key '%s'", f.unknown);
}

/* The value at the top must be a list (keys 1..n, no holes). */
static int check_list(ctx *c, const char *tp, const char *example, lua_Integer *n)
{
    lua_State *L = c->L;
    int t = lua_gettop(L);
    char hint[256];
    sfmt(hint, sizeof hint, "write a list, e.g. %s", example);
    if (lua_type(L, t) != LUA_TTABLE)
        return bad(c, tp, hint, "expected a list, got %s", type_of(c, t));
    lua_Integer len = (lua_Integer)lua_rawlen(L, t), count = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > len) {
            if (lua_type(L, -1) == LUA_TSTRING) {
                char p[TP_MAX];
                join_key(p, tp, lua_tostring(L, -1));
                lua_pop(L, 1);
                return bad(c, p, hint, "expected a list, but this entry has a name");
            }
            lua_pop(L, 1);
            return bad(c, tp, hint, "expected a list, but it has a non-list key");
        }
        count++;
    }
    if (count != len)
        return bad(c, tp, hint, "expected a list, but it has holes (nil entries)");
    if (len > WF_MAX_ENTRIES)
        return bad(c, tp, "a workflow is a small table of data; split it into several workflows",
                   "has %lld entries, more than the limit of %d", (long long)len, WF_MAX_ENTRIES);
    *n = len;
    return CF_OK;
}

/* Read t[key] as a string into *out (arena copy). Absent: *out = NULL, or an
 * error when required. */
static int string_field(ctx *c, int t, const char *tp, const char *key, bool required, const char *hint,
                        const char **out, size_t *outlen)
{
    char p[TP_MAX];
    join_key(p, tp, key);
    *out = NULL;
    int type = get_field(c, t, key);
    if (type == LUA_TNIL) {
        lua_pop(c->L, 1);
        return required ? bad(c, p, hint, "missing required key '%s'", key) : CF_OK;
    }
    if (type != LUA_TSTRING) {
        const char *got = type_of(c, -1);
        lua_pop(c->L, 1);
        return bad(c, p, hint, "expected a string, got %s", got);
    }
    size_t len;
    const char *s = lua_tolstring(c->L, -1, &len);
    if (strlen(s) != len) {
        lua_pop(c->L, 1);
        return bad(c, p, "remove the NUL byte", "the string contains a NUL byte");
    }
    *out = arena_strdup(c->arena, s, len);
    lua_pop(c->L, 1);
    if (!*out)
        return oom(c);
    if (outlen)
        *outlen = len;
    return CF_OK;
}

/* ---------- names of functions (guards, actions, deadlines) ---------- */

static const char *role_noun(cf__role role)
{
    return role == CF__ROLE_GUARD ? "guard" : role == CF__ROLE_ASSIGN ? "action" : "deadline function";
}

static const char *role_table(cf__role role)
{
    return role == CF__ROLE_GUARD ? "guards" : role == CF__ROLE_ASSIGN ? "assigns" : "deadlines";
}

/* The string at the top names a function for role; resolve it into *out. */
static int resolve_top(ctx *c, const char *tp, cf__role role, cf__fnref *out)
{
    size_t len;
    const char *s = lua_tolstring(c->L, -1, &len);
    if (len == 0 || strlen(s) != len)
        return bad(c, tp, "write the name of the function", "empty or malformed %s name", role_noun(role));
    cf__fnref r = {CF__FN_POLICY, -1, NULL};
    if (!c->resolve || !c->resolve(c->resolve_ud, role, s, &r)) {
        char hint[256];
        sfmt(hint, sizeof hint, "define it in the state policy's %s table, or load the plugin that provides it",
                 role_table(role));
        return bad(c, tp, hint, "unknown %s '%s'", role_noun(role), s);
    }
    out->kind = r.kind;
    out->index = r.index;
    out->name = arena_strdup(c->arena, s, len);
    return out->name ? CF_OK : oom(c);
}

/* t[key]: a list of function names (or, when single_ok, one name). */
static int fn_list(ctx *c, int t, const char *tp, const char *key, cf__role role, bool single_ok,
                   cf__fnref **out, int *n)
{
    lua_State *L = c->L;
    char p[TP_MAX];
    join_key(p, tp, key);
    *out = NULL;
    *n = 0;
    int type = get_field(c, t, key);
    int rc = CF_OK;
    if (type == LUA_TNIL)
        goto done;
    if (type == LUA_TSTRING && single_ok) {
        *out = arena_alloc(c->arena, sizeof **out);
        if (!*out) {
            rc = oom(c);
            goto done;
        }
        rc = resolve_top(c, p, role, *out);
        if (rc == CF_OK)
            *n = 1;
        goto done;
    }
    if (type != LUA_TTABLE) {
        char hint[256];
        sfmt(hint, sizeof hint, "write %s = { \"name\", ... }%s", key,
                 single_ok ? " or a single name" : "");
        rc = bad(c, p, hint, "expected a list of %s names, got %s", role_noun(role), type_of(c, -1));
        goto done;
    }
    lua_Integer len = 0;
    char example[128];
    sfmt(example, sizeof example, "%s = { \"name\" }", key);
    rc = check_list(c, p, example, &len);
    if (rc != CF_OK)
        goto done;
    if (len > 0) {
        *out = arena_alloc(c->arena, sizeof **out * (size_t)len);
        if (!*out) {
            rc = oom(c);
            goto done;
        }
    }
    for (lua_Integer i = 1; i <= len && rc == CF_OK; i++) {
        char pi[TP_MAX];
        join_index(pi, p, i);
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            rc = bad(c, pi, "write the function's name as a string", "expected a %s name, got %s",
                     role_noun(role), type_of(c, -1));
        else
            rc = resolve_top(c, pi, role, &(*out)[i - 1]);
        lua_pop(L, 1);
    }
    if (rc == CF_OK)
        *n = (int)len;
done:
    lua_pop(L, 1);
    return rc;
}

/* ---------- top-level parts ---------- */

static int state_hint_index(ctx *c, const char *tp, const char *name, int *out)
{
    int s = cf__workflow_state(c->wf, name);
    if (s < 0) {
        char hint[512];
        closest_hint(hint, sizeof hint, name, c->state_names, (size_t)c->wf->nstates,
                     "states are declared under 'states'");
        return bad(c, tp, hint, "unknown state '%s'", name);
    }
    *out = s;
    return CF_OK;
}

static int event_hint_index(ctx *c, const char *tp, const char *name, int *out)
{
    int e = cf__workflow_event(c->wf, name);
    if (e < 0) {
        char hint[512];
        closest_hint(hint, sizeof hint, name, c->wf->events, (size_t)c->wf->nevents,
                     "events are declared under 'events'");
        return bad(c, tp, hint, "unknown event '%s'", name);
    }
    *out = e;
    return CF_OK;
}

static int load_events(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    int type = get_field(c, t, "events");
    int rc = CF_OK;
    if (type == LUA_TNIL) {
        rc = bad(c, "events", "list the events, e.g. events = { \"submit\", \"approve\" }",
                 "missing required key 'events'");
        goto done;
    }
    if (type != LUA_TTABLE) {
        rc = bad(c, "events", "write events = { \"submit\", \"approve\" }", "expected a list of strings, got %s",
                 type_of(c, -1));
        goto done;
    }
    lua_Integer n = 0;
    rc = check_list(c, "events", "events = { \"submit\", \"approve\" }", &n);
    if (rc != CF_OK)
        goto done;
    wf->events = arena_alloc(c->arena, sizeof *wf->events * (size_t)(n ? n : 1));
    int *order = arena_alloc(c->arena, sizeof *order * (size_t)(n ? n : 1));
    if (!wf->events || !order) {
        rc = oom(c);
        goto done;
    }
    ((wf_arena *)wf->arena)->event_by_name = order;
    for (lua_Integer i = 1; i <= n; i++) {
        char p[TP_MAX];
        join_index(p, "events", i);
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING) {
            rc = bad(c, p, "write each event as a string", "expected a string, got %s", type_of(c, -1));
            lua_pop(L, 1);
            goto done;
        }
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        rc = check_name(c, p, "event", s, len);
        for (lua_Integer j = 0; rc == CF_OK && j < i - 1; j++) {
            if (strcmp(wf->events[j], s) == 0)
                rc = bad(c, p, "list each event once", "duplicate event '%s' (also events[%lld])", s,
                         (long long)j + 1);
        }
        if (rc == CF_OK && !(wf->events[i - 1] = arena_strdup(c->arena, s, len)))
            rc = oom(c);
        lua_pop(L, 1);
        if (rc != CF_OK)
            goto done;
        /* insertion into the sorted index (events are few) */
        int k = (int)i - 1;
        while (k > 0 && strcmp(wf->events[order[k - 1]], s) > 0) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = (int)i - 1;
    }
    wf->nevents = (int)n;
done:
    lua_pop(L, 1);
    return rc;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of the map at the top: sorted names (arena). Values must be tables. */
static int map_names(ctx *c, const char *tp, const char *what, const char *example, const char *value_example,
                     const char ***names, int *count)
{
    lua_State *L = c->L;
    int t = lua_gettop(L);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        n++;
    }
    if (n > WF_MAX_ENTRIES)
        return bad(c, tp, "a workflow is a small table of data; split it into several workflows",
                   "has %d %s names, more than the limit of %d", n, what, WF_MAX_ENTRIES);
    const char **list = arena_alloc(c->arena, sizeof *list * (size_t)(n ? n : 1));
    if (!list)
        return oom(c);
    int i = 0;
    char hint[256];
    sfmt(hint, sizeof hint, "write %s", example);
    /* Check names in sorted order so that the first problem reported does not
     * depend on Lua's table order: collect first, validate after sorting. */
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            char p[TP_MAX];
            if (lua_isinteger(L, -1))
                join_index(p, tp, lua_tointeger(L, -1));
            else
                sfmt(p, sizeof p, "%s", tp);
            lua_pop(L, 1);
            return bad(c, p, hint, "expected %s names as keys, found a list entry or non-string key", what);
        }
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (!(list[i++] = arena_strdup(c->arena, s, len))) {
            lua_pop(L, 1);
            return oom(c);
        }
    }
    qsort(list, (size_t)n, sizeof *list, cmp_cstr);
    for (i = 0; i < n; i++) {
        char p[TP_MAX];
        join_key(p, tp, list[i]);
        int rc = check_name(c, p, what, list[i], strlen(list[i]));
        if (rc != CF_OK)
            return rc;
        int type = get_field(c, t, list[i]);
        if (type != LUA_TTABLE) {
            const char *got = type_of(c, -1);
            lua_pop(L, 1);
            char vhint[TP_MAX];
            sfmt(vhint, sizeof vhint, value_example, list[i]);
            return bad(c, p, vhint, "expected a table, got %s", got);
        }
        lua_pop(L, 1);
    }
    *names = list;
    *count = n;
    return CF_OK;
}

/* states.<key>.parent and states.<key>.initial, read before the rest of the states
 * so that the tree (hierarchy.c) gives every state its place and full path first. */
static int load_tree(ctx *c, int sts)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    size_t n = (size_t)wf->nstates;
    const char **parents = arena_alloc(c->arena, sizeof *parents * n);
    const char **initials = arena_alloc(c->arena, sizeof *initials * n);
    if (!parents || !initials)
        return oom(c);
    int rc = CF_OK;
    for (int i = 0; i < wf->nstates && rc == CF_OK; i++) {
        char p[TP_MAX];
        join_key(p, "states", c->state_names[i]);
        get_field(c, sts, c->state_names[i]);
        int st = lua_gettop(L);
        rc = string_field(c, st, p, "parent", false,
                          "write parent = \"name\": the state this one is a child of", &parents[i], NULL);
        if (rc == CF_OK)
            rc = string_field(c, st, p, "initial", false,
                              "write initial = \"name\": the child a transition into this state enters",
                              &initials[i], NULL);
        lua_pop(L, 1);
    }
    return rc == CF_OK ? cf__wf_tree(c, parents, initials) : rc;
}

static int load_state_shapes(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    int type = get_field(c, t, "states");
    int rc = CF_OK;
    const char *ex = "states = { draft = {}, done = { terminal = true } }";
    if (type == LUA_TNIL) {
        rc = bad(c, "states", "declare the states, e.g. states = { draft = {}, done = { terminal = true } }",
                 "missing required key 'states'");
        goto done;
    }
    if (type != LUA_TTABLE) {
        char hint[128];
        sfmt(hint, sizeof hint, "write %s", ex);
        rc = bad(c, "states", hint, "expected a table of states, got %s", type_of(c, -1));
        goto done;
    }
    const char **names = NULL;
    int n = 0;
    rc = map_names(c, "states", "state", "states = { draft = {} }", "write %s = {}: a table, even when empty",
                   &names, &n);
    if (rc != CF_OK)
        goto done;
    if (n == 0) {
        rc = bad(c, "states", "declare at least the initial state, e.g. states = { draft = {} }",
                 "no states declared");
        goto done;
    }
    wf->states = arena_alloc(c->arena, sizeof *wf->states * (size_t)n);
    if (!wf->states) {
        rc = oom(c);
        goto done;
    }
    for (int i = 0; i < n; i++)
        wf->states[i].name = wf->states[i].key = names[i];
    wf->nstates = n;
    c->state_names = names;
    rc = load_tree(c, lua_gettop(L));
done:
    lua_pop(L, 1);
    return rc;
}

static int load_links(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    int type = get_field(c, t, "links");
    int rc = CF_OK;
    const char *ex = "links = { person = { workflow = \"person\", field = \"person_id\" } }";
    if (type == LUA_TNIL)
        goto done;
    if (type != LUA_TTABLE) {
        char hint[128];
        sfmt(hint, sizeof hint, "write %s", ex);
        rc = bad(c, "links", hint, "expected a table of links, got %s", type_of(c, -1));
        goto done;
    }
    int lt = lua_gettop(L);
    const char **names = NULL;
    int n = 0;
    rc = map_names(c, "links", "link", ex, "write %s = { workflow = \"...\", field = \"...\" }", &names, &n);
    if (rc != CF_OK)
        goto done;
    wf->links = arena_alloc(c->arena, sizeof *wf->links * (size_t)(n ? n : 1));
    if (!wf->links) {
        rc = oom(c);
        goto done;
    }
    static const char *const keys[] = {"workflow", "field", "optional"};
    for (int i = 0; i < n && rc == CF_OK; i++) {
        char p[TP_MAX];
        join_key(p, "links", names[i]);
        cf__link *l = &wf->links[i];
        l->name = names[i];
        get_field(c, lt, names[i]);
        int et = lua_gettop(L);
        size_t len = 0;
        rc = check_keys(c, et, p, keys, 3);
        if (rc == CF_OK) {
            int otype = get_field(c, et, "optional");
            if (otype == LUA_TBOOLEAN) {
                l->optional = lua_toboolean(L, -1);
            } else if (otype != LUA_TNIL) {
                char po[TP_MAX];
                join_key(po, p, "optional");
                rc = bad(c, po, "write optional = true (a missing field means nobody to tell), or leave it out",
                         "expected a boolean, got %s", type_of(c, -1));
            }
            lua_pop(L, 1);
        }
        if (rc == CF_OK)
            rc = string_field(c, et, p, "workflow", true, "name the workflow of the linked instances",
                              &l->workflow, &len);
        if (rc == CF_OK) {
            char pw[TP_MAX];
            join_key(pw, p, "workflow");
            rc = check_name(c, pw, "workflow", l->workflow, len);
        }
        if (rc == CF_OK)
            rc = string_field(c, et, p, "field", true,
                              "name the field of the instance data that holds the linked id or ids",
                              &l->field, &len);
        if (rc == CF_OK && len == 0) {
            char pf[TP_MAX];
            join_key(pf, p, "field");
            rc = bad(c, pf, "name the field of the instance data that holds the linked id or ids",
                     "empty field name");
        }
        lua_pop(L, 1);
    }
    if (rc == CF_OK)
        wf->nlinks = n;
done:
    lua_pop(L, 1);
    return rc;
}

/* owned = { field = "when the program sets it", ... }: the data fields only the
 * workflow's policies and plugins write. Create and fire data holding one are
 * refused (instance.c), so what the program publishes is never a caller's. */
#define WF_OWNED_WHY_MAX 300

static int cmp_owned(const void *a, const void *b)
{
    return strcmp(((const cf__owned *)a)->field, ((const cf__owned *)b)->field);
}

static int load_owned(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    const char *ex = "owned = { certification_number = \"when the certification is issued\" }";
    char hint[256];
    sfmt(hint, sizeof hint, "write %s: each data field the program alone sets, and when it sets it", ex);
    int type = get_field(c, t, "owned");
    int rc = CF_OK;
    if (type == LUA_TNIL)
        goto done;
    if (type != LUA_TTABLE) {
        rc = bad(c, "owned", hint, "expected a table of data field names, got %s", type_of(c, -1));
        goto done;
    }
    int ot = lua_gettop(L);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, ot)) {
        lua_pop(L, 1);
        n++;
    }
    if (n > WF_MAX_ENTRIES) {
        rc = bad(c, "owned", "a workflow is a small table of data; split it into several workflows",
                 "has %d fields, more than the limit of %d", n, WF_MAX_ENTRIES);
        goto done;
    }
    wf->owned = arena_alloc(c->arena, sizeof *wf->owned * (size_t)(n ? n : 1));
    if (!wf->owned) {
        rc = oom(c);
        goto done;
    }
    int i = 0;
    lua_pushnil(L);
    while (lua_next(L, ot)) {
        /* key at -2, value at -1 */
        if (lua_type(L, -2) != LUA_TSTRING) {
            char p[TP_MAX];
            if (lua_isinteger(L, -2))
                join_index(p, "owned", lua_tointeger(L, -2));
            else
                sfmt(p, sizeof p, "owned");
            lua_pop(L, 2);
            rc = bad(c, p, hint, "expected data field names as keys, found a list entry or non-string key");
            goto done;
        }
        size_t klen, vlen = 0;
        const char *k = lua_tolstring(L, -2, &klen);
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vlen) : NULL;
        char p[TP_MAX];
        join_key(p, "owned", k);
        if ((rc = check_name(c, p, "data field", k, klen)) != CF_OK) {
            lua_pop(L, 2);
            goto done;
        }
        if (!v || vlen == 0 || strlen(v) != vlen || vlen > WF_OWNED_WHY_MAX) {
            const char *got = v ? (vlen == 0 ? "an empty string" : strlen(v) != vlen ? "a string with a NUL byte"
                                                                                   : "a longer string")
                                : a_type(c, -1);
            lua_pop(L, 2);
            rc = bad(c, p, hint,
                     "expected a sentence saying when the program sets the field (text, at most %d bytes), got %s",
                     WF_OWNED_WHY_MAX, got);
            goto done;
        }
        wf->owned[i].field = arena_strdup(c->arena, k, klen);
        wf->owned[i].why = arena_strdup(c->arena, v, vlen);
        lua_pop(L, 1);
        if (!wf->owned[i].field || !wf->owned[i].why) {
            lua_pop(L, 1);
            rc = oom(c);
            goto done;
        }
        i++;
    }
    qsort(wf->owned, (size_t)n, sizeof *wf->owned, cmp_owned);
    wf->nowned = n;
done:
    lua_pop(L, 1);
    return rc;
}

static int load_timers(ctx *c, int st, const char *tp, cf__state *s)
{
    lua_State *L = c->L;
    char p[TP_MAX];
    join_key(p, tp, "timers");
    int type = get_field(c, st, "timers");
    int rc = CF_OK;
    const char *ex = "timers = { { name = \"overdue\", after = \"review_due\", event = \"review_overdue\" } }";
    if (type == LUA_TNIL)
        goto done;
    lua_Integer n = 0;
    rc = check_list(c, p, ex, &n);
    if (rc != CF_OK)
        goto done;
    if (n > 0 && s->terminal) {
        char hint[256];
        sfmt(hint, sizeof hint, "remove the timers, or make '%s' non-terminal", s->name);
        rc = bad(c, p, hint, "terminal state '%s' cannot have timers", s->name);
        goto done;
    }
    s->timers = arena_alloc(c->arena, sizeof *s->timers * (size_t)(n ? n : 1));
    if (!s->timers) {
        rc = oom(c);
        goto done;
    }
    static const char *const keys[] = {"name", "after", "event"};
    int lt = lua_gettop(L);
    for (lua_Integer i = 1; i <= n && rc == CF_OK; i++) {
        char pi[TP_MAX], pk[TP_MAX];
        join_index(pi, p, i);
        cf__timer_def *td = &s->timers[i - 1];
        lua_rawgeti(L, lt, i);
        int et = lua_gettop(L);
        if (lua_type(L, et) != LUA_TTABLE) {
            char hint[256];
            sfmt(hint, sizeof hint, "write each timer as { name = ..., after = ..., event = ... }");
            rc = bad(c, pi, hint, "expected a table, got %s", type_of(c, et));
            lua_pop(L, 1);
            break;
        }
        size_t len = 0;
        const char *str = NULL;
        rc = check_keys(c, et, pi, keys, 3);
        if (rc == CF_OK)
            rc = string_field(c, et, pi, "name", true, "give the timer a name, unique in its state", &td->name,
                              &len);
        if (rc == CF_OK) {
            join_key(pk, pi, "name");
            rc = check_name(c, pk, "timer", td->name, len);
        }
        for (lua_Integer j = 0; rc == CF_OK && j < i - 1; j++) {
            if (strcmp(s->timers[j].name, td->name) == 0)
                rc = bad(c, pk, "give each timer of a state its own name",
                         "duplicate timer '%s' in state '%s' (also timers[%lld])", td->name, s->name,
                         (long long)j + 1);
        }
        if (rc == CF_OK)
            rc = string_field(c, et, pi, "after", true,
                              "name the deadline function that computes when the timer is due", &str, &len);
        if (rc == CF_OK) {
            join_key(pk, pi, "after");
            lua_pushstring(L, str);
            rc = resolve_top(c, pk, CF__ROLE_DEADLINE, &td->after);
            lua_pop(L, 1);
        }
        if (rc == CF_OK)
            rc = string_field(c, et, pi, "event", true, "name the event the timer fires", &str, &len);
        if (rc == CF_OK) {
            join_key(pk, pi, "event");
            rc = event_hint_index(c, pk, str, &td->event);
        }
        lua_pop(L, 1);
    }
    if (rc == CF_OK)
        s->ntimers = (int)n;
done:
    lua_pop(L, 1);
    return rc;
}

static int load_state_bodies(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    get_field(c, t, "states");
    int sts = lua_gettop(L);
    int rc = CF_OK;
    static const char *const keys[] = {"terminal", "on_enter", "on_exit", "timers", "parent", "initial"};
    /* in the order of the keys, so that the first problem reported does not depend on the tree */
    const int *by_key = ((const wf_arena *)wf->arena)->state_by_key;
    for (int k = 0; k < wf->nstates && rc == CF_OK; k++) {
        cf__state *s = &wf->states[by_key[k]];
        char p[TP_MAX];
        join_key(p, "states", s->key);
        get_field(c, sts, s->key);
        int st = lua_gettop(L);
        rc = check_keys(c, st, p, keys, sizeof keys / sizeof *keys);
        if (rc == CF_OK) {
            int type = get_field(c, st, "terminal");
            char pk[TP_MAX];
            join_key(pk, p, "terminal");
            if (type == LUA_TBOOLEAN) {
                s->terminal = lua_toboolean(L, -1);
            } else if (type != LUA_TNIL) {
                rc = bad(c, pk, "write terminal = true, or leave it out", "expected a boolean, got %s",
                         type_of(c, -1));
            }
            if (rc == CF_OK && s->terminal && s->initial >= 0) {
                char hint[256];
                sfmt(hint, sizeof hint, "remove terminal from '%s', and add a terminal state outside it", s->key);
                rc = bad(c, pk, hint, "state '%s' has children and cannot be terminal", s->key);
            }
            if (rc == CF_OK && s->terminal && s->parent >= 0) {
                /* its parent's transitions and timers would apply in a state nothing may move */
                char hint[256];
                sfmt(hint, sizeof hint, "put '%s' at the top level (remove its parent): a parent's transitions "
                     "and timers apply in every state inside it", s->key);
                rc = bad(c, pk, hint, "terminal state '%s' cannot be inside a parent", s->name);
            }
            lua_pop(L, 1);
        }
        if (rc == CF_OK)
            rc = fn_list(c, st, p, "on_enter", CF__ROLE_ASSIGN, false, &s->on_enter, &s->non_enter);
        if (rc == CF_OK)
            rc = fn_list(c, st, p, "on_exit", CF__ROLE_ASSIGN, false, &s->on_exit, &s->non_exit);
        if (rc == CF_OK)
            rc = load_timers(c, st, p, s);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}


static int load_from(ctx *c, int tt, const char *tp, file_trans *ft)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    char p[TP_MAX];
    join_key(p, tp, "from");
    int type = get_field(c, tt, "from");
    int rc = CF_OK;
    const char *hint = "write from = \"state\", from = { \"a\", \"b\" } or from = \"*\" (every non-terminal state)";
    ft->froms = arena_alloc(c->arena, sizeof *ft->froms * (size_t)wf->nstates);
    if (!ft->froms) {
        rc = oom(c);
        goto done;
    }
    if (type == LUA_TNIL) {
        rc = bad(c, p, hint, "missing required key 'from'");
    } else if (type == LUA_TSTRING && strcmp(lua_tostring(L, -1), "*") == 0) {
        for (int s = 0; s < wf->nstates; s++) /* every non-terminal leaf */
            if (!wf->states[s].terminal && wf->states[s].initial < 0)
                ft->froms[ft->nfrom++] = s;
    } else if (type == LUA_TSTRING) {
        int s = -1;
        rc = state_hint_index(c, p, lua_tostring(L, -1), &s);
        if (rc == CF_OK)
            ft->froms[ft->nfrom++] = s;
    } else if (type == LUA_TTABLE) {
        lua_Integer n = 0;
        rc = check_list(c, p, "from = { \"draft\", \"submitted\" }", &n);
        if (rc == CF_OK && n == 0)
            rc = bad(c, p, hint, "empty list of states");
        for (lua_Integer i = 1; i <= n && rc == CF_OK; i++) {
            char pi[TP_MAX];
            join_index(pi, p, i);
            lua_rawgeti(L, -1, i);
            int s = -1;
            if (lua_type(L, -1) != LUA_TSTRING)
                rc = bad(c, pi, "write each state's name as a string", "expected a state name, got %s",
                         type_of(c, -1));
            else
                rc = state_hint_index(c, pi, lua_tostring(L, -1), &s);
            for (int j = 0; rc == CF_OK && j < ft->nfrom; j++) {
                int o = ft->froms[j];
                if (o == s)
                    rc = bad(c, pi, "list each state once", "state '%s' is listed twice", wf->states[s].name);
                else if (wf_inside(wf, s, o) || wf_inside(wf, o, s)) {
                    int outer = wf_inside(wf, s, o) ? o : s;
                    char h[256];
                    sfmt(h, sizeof h, "list only '%s': a transition declared on a parent applies in its children",
                         wf->states[outer].key);
                    rc = bad(c, pi, h, "state '%s' is inside '%s', which the list names too",
                             wf->states[outer == o ? s : o].name, wf->states[outer].name);
                }
            }
            if (rc == CF_OK && wf->states[s].terminal) {
                char h[256];
                sfmt(h, sizeof h, "remove '%s' from the list, or make it non-terminal", wf->states[s].name);
                rc = bad(c, pi, h, "state '%s' is terminal and cannot have outgoing transitions",
                         wf->states[s].name);
            }
            if (rc == CF_OK)
                ft->froms[ft->nfrom++] = s;
            lua_pop(L, 1);
        }
    } else {
        rc = bad(c, p, hint, "expected a state name or a list of state names, got %s", type_of(c, -1));
    }
    if (rc == CF_OK && type == LUA_TSTRING && ft->nfrom == 1 && wf->states[ft->froms[0]].terminal) {
        const char *name = wf->states[ft->froms[0]].name;
        char h[256];
        sfmt(h, sizeof h, "remove the transition, or make '%s' non-terminal", name);
        rc = bad(c, p, h, "state '%s' is terminal and cannot have outgoing transitions", name);
    }
done:
    lua_pop(L, 1);
    return rc;
}

static int load_sends(ctx *c, int tt, const char *tp, file_trans *ft)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    char p[TP_MAX];
    join_key(p, tp, "send");
    int type = get_field(c, tt, "send");
    int rc = CF_OK;
    if (type == LUA_TNIL)
        goto done;
    lua_Integer n = 0;
    rc = check_list(c, p, "send = { { link = \"person\", event = \"applied\" } }", &n);
    if (rc != CF_OK)
        goto done;
    ft->sends = arena_alloc(c->arena, sizeof *ft->sends * (size_t)(n ? n : 1));
    if (!ft->sends) {
        rc = oom(c);
        goto done;
    }
    static const char *const keys[] = {"link", "event"};
    int lt = lua_gettop(L);
    for (lua_Integer i = 1; i <= n && rc == CF_OK; i++) {
        char pi[TP_MAX], pk[TP_MAX];
        join_index(pi, p, i);
        lua_rawgeti(L, lt, i);
        int et = lua_gettop(L);
        const char *link = NULL;
        size_t len = 0;
        cf__send_def *sd = &ft->sends[i - 1];
        if (lua_type(L, et) != LUA_TTABLE)
            rc = bad(c, pi, "write { link = \"person\", event = \"applied\" }", "expected a table, got %s",
                     type_of(c, et));
        if (rc == CF_OK)
            rc = check_keys(c, et, pi, keys, 2);
        if (rc == CF_OK)
            rc = string_field(c, et, pi, "link", true, "name one of the links declared under 'links'", &link,
                              &len);
        if (rc == CF_OK) {
            sd->link = cf__workflow_link(wf, link);
            if (sd->link < 0) {
                const char **lnames = arena_alloc(c->arena, sizeof *lnames * (size_t)(wf->nlinks ? wf->nlinks : 1));
                if (!lnames) {
                    rc = oom(c);
                } else {
                    for (int k = 0; k < wf->nlinks; k++)
                        lnames[k] = wf->links[k].name;
                    char hint[512];
                    closest_hint(hint, sizeof hint, link, lnames, (size_t)wf->nlinks,
                                 "links are declared under 'links'");
                    join_key(pk, pi, "link");
                    rc = bad(c, pk, hint, "unknown link '%s'", link);
                }
            }
        }
        if (rc == CF_OK)
            rc = string_field(c, et, pi, "event", true, "name the event to send to the linked instances",
                              &sd->event, &len);
        if (rc == CF_OK) {
            join_key(pk, pi, "event");
            rc = check_name(c, pk, "event", sd->event, len);
        }
        lua_pop(L, 1);
    }
    if (rc == CF_OK)
        ft->nsends = (int)n;
done:
    lua_pop(L, 1);
    return rc;
}

static int load_transition(ctx *c, int tt, const char *tp, file_trans *ft)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    static const char *const keys[] = {"from", "event", "to", "guard", "actions", "reenter", "send"};
    char pk[TP_MAX];
    const char *str = NULL;
    int rc = check_keys(c, tt, tp, keys, sizeof keys / sizeof *keys);
    if (rc == CF_OK)
        rc = load_from(c, tt, tp, ft);
    if (rc == CF_OK)
        rc = string_field(c, tt, tp, "event", true, "name the event that takes this transition", &str, NULL);
    if (rc == CF_OK) {
        join_key(pk, tp, "event");
        rc = event_hint_index(c, pk, str, &ft->event);
    }
    if (rc == CF_OK)
        rc = string_field(c, tt, tp, "to", true, "name the state this transition goes to", &str, NULL);
    if (rc == CF_OK) {
        join_key(pk, tp, "to");
        rc = state_hint_index(c, pk, str, &ft->to);
    }
    if (rc == CF_OK)
        rc = fn_list(c, tt, tp, "guard", CF__ROLE_GUARD, true, &ft->guards, &ft->nguards);
    if (rc == CF_OK)
        rc = fn_list(c, tt, tp, "actions", CF__ROLE_ASSIGN, false, &ft->actions, &ft->nactions);
    if (rc == CF_OK) {
        join_key(pk, tp, "reenter");
        int type = get_field(c, tt, "reenter");
        if (type == LUA_TBOOLEAN)
            ft->reenter = lua_toboolean(L, -1);
        else if (type != LUA_TNIL)
            rc = bad(c, pk, "write reenter = true, or leave it out", "expected a boolean, got %s",
                     type_of(c, -1));
        lua_pop(L, 1);
        for (int i = 0; rc == CF_OK && ft->reenter && i < ft->nfrom; i++) {
            if (ft->froms[i] != ft->to)
                rc = bad(c, pk, "remove reenter, or make from and to the same state",
                         "reenter = true needs the transition to stay in its state, but it goes from '%s' to '%s'",
                         wf->states[ft->froms[i]].name, wf->states[ft->to].name);
        }
    }
    if (rc == CF_OK)
        rc = load_sends(c, tt, tp, ft);
    return rc;
}

static int load_transitions(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    int type = get_field(c, t, "transitions");
    int rc = CF_OK;
    const char *ex = "transitions = { { from = \"draft\", event = \"submit\", to = \"submitted\" } }";
    if (type == LUA_TNIL) {
        char hint[256];
        sfmt(hint, sizeof hint, "list the transitions in priority order, e.g. %s", ex);
        rc = bad(c, "transitions", hint, "missing required key 'transitions'");
        goto done;
    }
    lua_Integer n = 0;
    rc = check_list(c, "transitions", ex, &n);
    if (rc != CF_OK)
        goto done;
    int lt = lua_gettop(L);
    file_trans *fts = arena_alloc(c->arena, sizeof *fts * (size_t)(n ? n : 1));
    if (!fts) {
        rc = oom(c);
        goto done;
    }
    size_t total = 0;
    for (lua_Integer i = 1; i <= n && rc == CF_OK; i++) {
        char p[TP_MAX];
        join_index(p, "transitions", i);
        lua_rawgeti(L, lt, i);
        if (lua_type(L, -1) != LUA_TTABLE)
            rc = bad(c, p, "write each transition as { from = ..., event = ..., to = ... }",
                     "expected a table, got %s", type_of(c, -1));
        else
            rc = load_transition(c, lua_gettop(L), p, &fts[i - 1]);
        lua_pop(L, 1);
        /* a parent counts once per leaf it holds: the transition applies in each */
        for (int f = 0; f < fts[i - 1].nfrom; f++)
            total += (size_t)wf->states[fts[i - 1].froms[f]].nleaves;
    }
    if (rc != CF_OK)
        goto done;
    if (total > WF_MAX_EXPANDED) {
        rc = bad(c, "transitions", "a workflow is a small table of data; split it into several workflows",
                 "the transitions take %zu (from-state, event) pairs in all (each from-state counts), more "
                 "than the limit of %d",
                 total, WF_MAX_EXPANDED);
        goto done;
    }
    rc = cf__wf_link_transitions(c, fts, (int)n);
done:
    lua_pop(L, 1);
    return rc;
}

/* Validate and compile the table at index t. */
static int walk(ctx *c, int t)
{
    cf__workflow *wf = c->wf;
    static const char *const keys[] = {"name",        "description", "initial", "events",
                                       "states",      "transitions", "links",   "owned",
                                       "event_data"};
    int rc = check_keys(c, t, "", keys, sizeof keys / sizeof *keys);
    if (rc != CF_OK)
        return rc;

    const char *name = NULL, *str = NULL;
    size_t len = 0;
    rc = string_field(c, t, "", "name", true, "name the workflow, e.g. name = \"application\"", &name, &len);
    if (rc != CF_OK)
        return rc;
    if ((rc = check_name(c, "name", "workflow", name, len)) != CF_OK)
        return rc;
    if (!(wf->name = cf__strdup(name)))
        return oom(c);
    rc = string_field(c, t, "", "description", false, "describe the workflow in one line", &wf->description,
                      NULL);
    if (rc != CF_OK)
        return rc;
    if ((rc = load_events(c, t)) != CF_OK)
        return rc;
    if ((rc = load_state_shapes(c, t)) != CF_OK)
        return rc;
    rc = string_field(c, t, "", "initial", true, "name the state new instances start in, e.g. initial = \"draft\"",
                      &str, NULL);
    if (rc != CF_OK)
        return rc;
    if ((rc = state_hint_index(c, "initial", str, &wf->initial)) != CF_OK)
        return rc;
    wf->initial = wf->states[wf->initial].leaf; /* a parent: its initial child, down to a leaf */
    if ((rc = load_links(c, t)) != CF_OK)
        return rc;
    if ((rc = load_owned(c, t)) != CF_OK)
        return rc;
    if ((rc = cf__wf_load_event_data(c, t)) != CF_OK)
        return rc;
    if ((rc = load_state_bodies(c, t)) != CF_OK)
        return rc;
    if ((rc = load_transitions(c, t)) != CF_OK)
        return rc;
    return cf__wf_check_reachable(c);
}

static int report_lua_error(ctx *c, int status, const char *stage)
{
    lua_State *L = c->L;
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object is not a string)";
    if (wf_timed_out(c->lim)) {
        char took[64];
        snprintf(took, sizeof took, ": took longer than %u ms to load", c->lim->armed_ms);
        return cf__fail(c->err, CF_EWORKFLOW,
                        "%s%s (an endless loop? hint: a workflow file only returns a table of data; remove the "
                        "loop, or raise lua_load_time_limit_ms / --lua-load-time-limit if the work is legitimate)",
                        c->path, msg[0] == ':' ? msg : took);
    }
    if (status == LUA_ERRMEM)
        return cf__fail(c->err, CF_EWORKFLOW,
                        "%s: ran out of memory while %s (limit %zu MiB)"
                        " (hint: a workflow file is a small table of data)",
                        c->path, stage, WF_MEMORY_CAP / (1024 * 1024));
    if (wf_too_long(c->lim))
        return cf__fail(c->err, CF_EWORKFLOW,
                        "%s%s (hint: a workflow file only returns a table of data; remove the loop)", c->path, msg);
    if (status == LUA_ERRSYNTAX)
        return cf__fail(c->err, CF_EWORKFLOW, "%s%s%s", c->path, msg[0] == ':' ? "" : ": ", msg);
    return cf__fail(c->err, CF_EWORKFLOW,
                    "%s%s%s (hint: a workflow file is plain data: no functions or globals are available)", c->path,
                    msg[0] == ':' ? "" : ": ", msg);
}

/* Runs inside lua_pcall so that no Lua error can escape as a longjmp: loads and
 * runs the chunk (itself protected and limited), then walks the result. */
static int run_compile(lua_State *L)
{
    ctx *c = lua_touserdata(L, 1);
    size_t len = (size_t)lua_tointeger(L, 2);
    luaL_checkstack(L, 40, "workflow walk");
    int status = luaL_loadbufferx(L, c->wf->source, len, "=", "t");
    if (status != LUA_OK) {
        c->rc = report_lua_error(c, status, "loading");
        return 0;
    }
    /* The chunk sees an empty _ENV: no function at all can be called. */
    lua_newtable(L);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1); /* a text chunk always has _ENV as upvalue 1; be safe anyway */
    cf__sandbox_arm(c->lim, WF_INSTRUCTION_LIMIT, WF_MEMORY_CAP, c->time_ms, false);
    int base = lua_gettop(L) - 1; /* below the chunk */
    status = lua_pcall(L, 0, LUA_MULTRET, 0);
    lua_sethook(L, NULL, 0, 0);
    /* Walking the table only reads it: no cap from now on, so that it cannot fail midway. */
    cf__sandbox_disarm(c->lim);
    if (status != LUA_OK) {
        c->rc = report_lua_error(c, status, "running");
        return 0;
    }
    if (lua_gettop(L) == base || lua_type(L, base + 1) != LUA_TTABLE) {
        c->rc = cf__fail(c->err, CF_EWORKFLOW,
                         "%s: the file returned %s, not a table (hint: end the file with return { name = ..., ... })",
                         c->path, lua_gettop(L) == base ? "nothing" : a_type(c, base + 1));
        return 0;
    }
    lua_settop(L, base + 1); /* keep only the table */
    c->rc = walk(c, lua_gettop(L));
    return 0;
}

int cf__workflow_compile(const char *path, const char *source, size_t len, cf__resolve_fn resolve,
                         void *resolve_ud, cf__workflow **out, cf__err *err)
{
    return cf__workflow_compile_limited(path, source, len, 0, resolve, resolve_ud, out, err);
}

int cf__workflow_compile_limited(const char *path, const char *source, size_t len, uint32_t time_ms,
                                 cf__resolve_fn resolve, void *resolve_ud, cf__workflow **out, cf__err *err)
{
    *out = NULL;
    if (!path)
        path = "(workflow)";
    if (!source)
        return cf__fail(err, CF_EINVAL, "%s: no source text given", path);
    cf__workflow *wf = calloc(1, sizeof *wf);
    if (!wf)
        return cf__fail(err, CF_ENOMEM, "%s: out of memory", path);
    wf->initial = -1;
    wf->path = cf__strdup(path);
    wf->source = malloc(len + 1);
    wf->arena = calloc(1, sizeof(wf_arena));
    if (!wf->path || !wf->source || !wf->arena) {
        cf__workflow_free(wf);
        return cf__fail(err, CF_ENOMEM, "%s: out of memory", path);
    }
    memcpy(wf->source, source, len);
    wf->source[len] = '\0';
    cf__sha256_hex(source, len, wf->hash);

    cf__sandbox lim;
    lua_State *L = cf__sandbox_open(&lim, WF_MEMORY_CAP, wf_raise, NULL, true);
    if (!L) {
        cf__workflow_free(wf);
        return cf__fail(err, CF_ENOMEM, "%s: out of memory creating a Lua state", path);
    }
    ctx c = {L, path, err, resolve, resolve_ud, wf, wf->arena, &lim, time_ms ? time_ms : WF_TIME_MS, CF_OK, NULL};
    lua_pushcfunction(L, run_compile);
    lua_pushlightuserdata(L, &c);
    lua_pushinteger(L, (lua_Integer)len);
    int status = lua_pcall(L, 2, 0, 0);
    int rc = c.rc;
    if (status != LUA_OK && rc == CF_OK)
        rc = cf__fail(err, CF_ENOMEM, "%s: out of memory while compiling the workflow", path);
    lua_close(L);
    if (rc != CF_OK) {
        cf__workflow_free(wf);
        return rc;
    }
    *out = wf;
    return CF_OK;
}

int cf__workflow_load_file(const char *path, cf__resolve_fn resolve, void *resolve_ud, cf__workflow **out,
                           cf__err *err)
{
    return cf__workflow_load_file_limited(path, 0, resolve, resolve_ud, out, err);
}

int cf__workflow_load_file_limited(const char *path, uint32_t time_ms, cf__resolve_fn resolve, void *resolve_ud,
                                   cf__workflow **out, cf__err *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = cf__read_file(path, &text, &len, err);
    if (rc != CF_OK)
        return rc;
    rc = cf__workflow_compile_limited(path, text, len, time_ms, resolve, resolve_ud, out, err);
    free(text);
    return rc;
}

