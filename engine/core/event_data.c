/*
 * event_data.c — the data each event is fired with, as its workflow declares it:
 *
 *   event_data = {
 *     exam_result = {
 *       result = { type = "string", required = true, example = "passed", about = "passed or failed" },
 *     },
 *   }
 *
 * The one source of an event's data format: the workflow loader checks the
 * declaration (cf__wf_load_event_data), the fire path rejects a caller's event
 * whose data lacks a required field or holds one of another type before any
 * guard runs (cf__event_data_reasons: the rejection is recorded, its reason says
 * where the field belongs), so the policies read what it declares, and
 * cf_workflow_event_data lists it, from which `certflow workflow fields
 * --format markdown` prints the tables of docs/events.md (a test compares them).
 */
#include "core/wf_build.h"

#include <jansson.h>
#include <lauxlib.h>

#define ABOUT_MAX 300

static const char *const TYPE_NAMES[] = {"string", "integer", "number", "boolean", "date", "object", "array"};
enum { T_STRING, T_INTEGER, T_NUMBER, T_BOOLEAN, T_DATE, T_OBJECT, T_ARRAY, T_COUNT };

/* Push t[key] without metamethods (the loader reads the file's tables raw). */
static void raw_get(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    lua_rawget(L, t);
}

static int cmp_field(const void *a, const void *b)
{
    const cf__event_field *x = a, *y = b;
    if (x->event != y->event)
        return x->event < y->event ? -1 : 1;
    return strcmp(x->field, y->field);
}

static bool date_text(const char *s)
{
    cf__date d;
    return s && strlen(s) == 10 && cf__date_parse(s, &d);
}

/* Whether the JSON value v fits type. */
static bool fits(int type, json_t *v)
{
    switch (type) {
    case T_STRING: return json_is_string(v);
    case T_INTEGER: return json_is_integer(v);
    case T_NUMBER: return json_is_number(v);
    case T_BOOLEAN: return json_is_boolean(v);
    case T_DATE: return json_is_string(v) && date_text(json_string_value(v));
    case T_OBJECT: return json_is_object(v);
    case T_ARRAY: return json_is_array(v);
    default: return false;
    }
}

/* The example at the top of the Lua stack as JSON text (arena-owned), or NULL with
 * why set when it does not fit type. Objects and arrays are given as JSON text. */
static const char *example_json(ctx *c, int type, const char **why)
{
    lua_State *L = c->L;
    json_t *v = NULL;
    *why = NULL;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        v = type == T_OBJECT || type == T_ARRAY ? json_loads(lua_tostring(L, -1), JSON_DECODE_ANY, NULL)
                                                 : json_string(lua_tostring(L, -1));
        break;
    case LUA_TNUMBER:
        v = lua_isinteger(L, -1) ? json_integer((json_int_t)lua_tointeger(L, -1)) : json_real(lua_tonumber(L, -1));
        break;
    case LUA_TBOOLEAN:
        v = json_boolean(lua_toboolean(L, -1));
        break;
    default:
        break;
    }
    if (!v || !fits(type, v)) {
        json_decref(v);
        *why = type == T_OBJECT || type == T_ARRAY ? "give an object or array as JSON text, e.g. '{\"a\": 1}'"
               : type == T_DATE                    ? "give a date as \"YYYY-MM-DD\""
                                                   : "give a value of the field's type";
        return NULL;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    json_decref(v);
    const char *out = text ? arena_strdup(c->arena, text, strlen(text)) : NULL;
    free(text);
    return out;
}

/* One field's declaration, the table at the top of the stack, into f. */
static int load_field(ctx *c, const char *tp, cf__event_field *f)
{
    lua_State *L = c->L;
    int d = lua_gettop(L);
    const char *hint = "declare a field as { type = \"string\", required = true, example = \"passed\", about = "
                       "\"what it says\" }";
    if (lua_type(L, d) != LUA_TTABLE)
        return bad(c, tp, hint, "expected a table, got %s", lua_typename(L, lua_type(L, d)));
    static const char *const keys[] = {"type", "required", "example", "about"};
    cf__keys_found kf;
    if (!cf__check_keys_lua(L, d, keys, sizeof keys / sizeof *keys, &kf))
        return bad(c, tp, hint, "unknown key '%s'%s%s%s", kf.unknown, kf.closest ? " (did you mean '" : "",
                   kf.closest ? kf.closest : "", kf.closest ? "'?)" : "");
    char p[TP_MAX];
    join_key(p, tp, "type");
    raw_get(L, d, "type");
    const char *type = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    f->type = -1;
    for (int i = 0; type && i < T_COUNT; i++)
        if (strcmp(type, TYPE_NAMES[i]) == 0)
            f->type = i;
    lua_pop(L, 1);
    if (f->type < 0)
        return bad(c, p, "one of string, integer, number, boolean, date (\"YYYY-MM-DD\"), object, array",
                   "expected the field's type");
    join_key(p, tp, "required");
    raw_get(L, d, "required");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1)) {
        lua_pop(L, 1);
        return bad(c, p, "true when an event without the field is refused, false (the default) when it is optional",
                   "expected true or false");
    }
    f->required = lua_toboolean(L, -1);
    lua_pop(L, 1);
    join_key(p, tp, "about");
    raw_get(L, d, "about");
    size_t len = 0;
    const char *about = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!about || len == 0 || len > ABOUT_MAX || strlen(about) != len) {
        lua_pop(L, 1);
        return bad(c, p, "say what the field holds in a sentence (docs/events.md quotes it)",
                   "expected text of 1 to %d bytes", ABOUT_MAX);
    }
    f->about = arena_strdup(c->arena, about, len);
    lua_pop(L, 1);
    join_key(p, tp, "example");
    raw_get(L, d, "example");
    const char *why = NULL;
    f->example = example_json(c, f->type, &why);
    lua_pop(L, 1);
    if (why)
        return bad(c, p, why, "expected an example %s", TYPE_NAMES[f->type]);
    if (!f->about || !f->example)
        return oom(c);
    return CF_OK;
}

int cf__wf_load_event_data(ctx *c, int t)
{
    lua_State *L = c->L;
    cf__workflow *wf = c->wf;
    const char *hint = "event_data = { EVENT = { FIELD = { type = \"string\", required = true, example = \"x\", "
                       "about = \"...\" } } }";
    lua_pushliteral(L, "event_data");
    int type = lua_rawget(L, t);
    int rc = CF_OK;
    if (type == LUA_TNIL)
        goto done;
    if (type != LUA_TTABLE) {
        rc = bad(c, "event_data", hint, "expected a table of events, got %s", lua_typename(L, type));
        goto done;
    }
    int et = lua_gettop(L);
    /* count the fields first: one array for the workflow */
    int n = 0;
    lua_pushnil(L);
    while (rc == CF_OK && lua_next(L, et)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) {
            lua_pop(L, 2);
            rc = bad(c, "event_data", hint, "expected event names as keys, each with a table of fields");
            break;
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            n++;
        }
        lua_pop(L, 1);
    }
    if (rc != CF_OK)
        goto done;
    if (n > WF_MAX_ENTRIES) {
        rc = bad(c, "event_data", "a workflow is a small table of data; split it into several workflows",
                 "declares %d fields, more than the limit of %d", n, WF_MAX_ENTRIES);
        goto done;
    }
    wf->event_fields = arena_alloc(c->arena, sizeof *wf->event_fields * (size_t)(n ? n : 1));
    if (!wf->event_fields) {
        rc = oom(c);
        goto done;
    }
    int i = 0;
    lua_pushnil(L);
    while (rc == CF_OK && lua_next(L, et)) {
        const char *event = lua_tostring(L, -2);
        char tp[TP_MAX];
        join_key(tp, "event_data", event);
        int ev = cf__workflow_event(wf, event);
        if (ev < 0) {
            char h[300];
            closest_hint(h, sizeof h, event, wf->events, (size_t)wf->nevents, "declare data for an event in `events`");
            lua_pop(L, 2);
            rc = bad(c, tp, h, "unknown event '%s'", event);
            break;
        }
        int ft = lua_gettop(L);
        lua_pushnil(L);
        while (rc == CF_OK && lua_next(L, ft)) {
            size_t klen = 0;
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &klen) : NULL;
            char fp[TP_MAX];
            join_key(fp, tp, k ? k : "?");
            bool good = k && klen > 0 && klen <= WF_NAME_MAX && strlen(k) == klen && k[0] >= 'a' && k[0] <= 'z';
            for (size_t j = 1; good && j < klen; j++)
                good = (k[j] >= 'a' && k[j] <= 'z') || (k[j] >= '0' && k[j] <= '9') || k[j] == '_';
            if (!good) {
                lua_pop(L, 2);
                rc = bad(c, fp, "name a data field: a lower-case letter, then lower-case letters, digits and '_'",
                         "bad data field name");
                break;
            }
            cf__event_field *f = &wf->event_fields[i];
            f->event = ev;
            f->field = arena_strdup(c->arena, k, klen);
            rc = f->field ? load_field(c, fp, f) : oom(c);
            lua_pop(L, 1);
            if (rc != CF_OK)
                lua_pop(L, 1);
            else
                i++;
        }
        if (rc == CF_OK)
            lua_pop(L, 1);
        else
            lua_pop(L, 1);
    }
    if (rc == CF_OK) {
        qsort(wf->event_fields, (size_t)i, sizeof *wf->event_fields, cmp_field);
        wf->nevent_fields = i;
    }
done:
    lua_settop(L, t);
    return rc;
}

static const char *a_json_type(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    default: return "null";
    }
}

int cf__event_data_reasons(const cf__workflow *wf, int ev, json_t *event_data, json_t *instance_data, json_t *reasons)
{
    int n = 0;
    for (int i = 0; wf && i < wf->nevent_fields; i++) {
        const cf__event_field *f = &wf->event_fields[i];
        if (f->event != ev)
            continue;
        json_t *v = json_object_get(event_data, f->field);
        char why[CF__MSG_MAX];
        if (!v || json_is_null(v)) {
            if (!f->required)
                continue;
            snprintf(why, sizeof why,
                     "'%s' is missing from the event data of '%s' (%s: %s; e.g. {\"%s\": %s}): it belongs in the data "
                     "the event is fired with, %s",
                     f->field, wf->events[ev], TYPE_NAMES[f->type], f->about, f->field, f->example,
                     json_object_get(instance_data, f->field) ? "and the instance's own data holding it does not stand in"
                                                              : "not in the instance's data");
        } else if (!fits(f->type, v)) {
            snprintf(why, sizeof why, "'%s' in the event data of '%s' must be %s %s (%s; e.g. %s), not %s", f->field,
                     wf->events[ev], f->type == T_INTEGER || f->type == T_ARRAY || f->type == T_OBJECT ? "an" : "a",
                     f->type == T_DATE ? "date \"YYYY-MM-DD\"" : TYPE_NAMES[f->type], f->about, f->example,
                     a_json_type(v));
        } else {
            continue;
        }
        if (json_array_append_new(reasons, json_string(why)) != 0)
            return -1;
        n++;
    }
    return n;
}

/* The name of a declared field's type ("string", "integer", ...), as the
 * workflow file writes it (cf_workflow_event_data, engine.c). */
const char *cf__event_type_name(int type)
{
    return type >= 0 && type < (int)(sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]) ? TYPE_NAMES[type] : "?";
}
