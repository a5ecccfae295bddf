/*
 * plugin_host.c — the host function table (cf_host) plugins call: registration
 * during init, reading the instance and the event, data patches, send, logging,
 * query results, and the sql_* functions over the store's plugin statements
 * (store.h; the SQLite backend keeps them in store/sqlite/plugin.c, PostgreSQL in store/pg/plugin.c).
 * The loader and the registry are in plugin_load.c.
 */
#include "plugin/plugin_private.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE_MAX 64

/* ---------- results and small helpers ---------- */

const char *cf__plugin_result_text(int rc)
{
    switch (rc) {
#define CF__PLUGIN_RESULT_CASE(name, value, text) \
    case value:                                   \
        return text;
        CF_PLUGIN_RESULT_TABLE(CF__PLUGIN_RESULT_CASE)
#undef CF__PLUGIN_RESULT_CASE
    default:
        return "unknown plugin result code";
    }
}

char *cf__plugin_printf_dup(const char *fmt, ...)
{
    cf__buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    char tmp[CF__MSG_MAX];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    cf__buf_puts(&b, tmp);
    if (b.oom) {
        cf__buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* ---------- registration (during init) ---------- */

static int reg_fail(struct cf_plugin *self, char *msg)
{
    if (!self->init_error)
        self->init_error = msg ? msg : cf__plugin_printf_dup("out of memory");
    else
        free(msg);
    return CF_PLUGIN_ERROR;
}

static int register_fn(struct cf_plugin *self, cf__role role, const char *name, cf_plugin_action_fn action,
                       cf_plugin_guard_fn guard, void *ud)
{
    if (!self || !self->in_init)
        return CF_PLUGIN_EINVAL;
    cf__plugins *r = self->reg;
    const char *noun = fn_noun(role);
    if (!name || !*name || strlen(name) > 128 || (!action && !guard))
        return reg_fail(self, cf__plugin_printf_dup("register_%s: a name (1 to 128 bytes) and a function are required", noun));
    if (r->policy && cf__policy_find(r->policy, role, name) >= 0)
        return reg_fail(self, cf__plugin_printf_dup("%s '%s' is also defined by the state policy's %s table; a name may be "
                                         "defined once: rename one of them",
                                         noun, name, role == CF__ROLE_GUARD ? "guards" : "assigns"));
    for (size_t i = 0; i < r->nfns; i++) {
        const fn_entry *f = &r->fns[i];
        if (!f->live || f->role != role || strcmp(f->name, name) != 0)
            continue;
        if (f->plugin == self)
            return reg_fail(self, cf__plugin_printf_dup("%s '%s' is registered twice by this plugin; register each name once",
                                             noun, name));
        return reg_fail(self, cf__plugin_printf_dup("%s '%s' is already registered by plugin '%s' (%s); rename one of them, "
                                         "or load only one of the two plugins",
                                         noun, name, f->plugin->name, f->plugin->path));
    }
    if (r->nfns == r->capfns) {
        size_t cap = r->capfns ? r->capfns * 2 : 16;
        fn_entry *p = realloc(r->fns, cap * sizeof *p);
        if (!p) {
            reg_fail(self, NULL);
            return CF_PLUGIN_ENOMEM;
        }
        r->fns = p;
        r->capfns = cap;
    }
    char *copy = cf__strdup(name);
    if (!copy) {
        reg_fail(self, NULL);
        return CF_PLUGIN_ENOMEM;
    }
    r->fns[r->nfns++] = (fn_entry){copy, role, self, action, guard, ud, true};
    return CF_PLUGIN_OK;
}

static int host_register_action(cf_plugin *self, const char *name, cf_plugin_action_fn fn, void *ud)
{
    return register_fn(self, CF__ROLE_ASSIGN, name, fn, NULL, ud);
}

static int host_register_guard(cf_plugin *self, const char *name, cf_plugin_guard_fn fn, void *ud)
{
    return register_fn(self, CF__ROLE_GUARD, name, NULL, fn, ud);
}

static bool valid_query_name(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
            return false;
    return n >= 1 && n <= 64;
}

static int host_register_query(cf_plugin *self, const char *name, cf_plugin_query_fn fn, void *ud, int flags)
{
    if (!self || !self->in_init)
        return CF_PLUGIN_EINVAL;
    cf__plugins *r = self->reg;
    if (!fn || !valid_query_name(name))
        return reg_fail(self, cf__plugin_printf_dup("register_query: a name of 1 to 64 lower case letters, digits and '_', "
                                         "and a function, are required (got '%s')",
                                         name ? name : "(null)"));
    if (flags != CF_PLUGIN_QUERY_READ && flags != CF_PLUGIN_QUERY_WRITE)
        return reg_fail(self, cf__plugin_printf_dup("register_query '%s': flags must be CF_PLUGIN_QUERY_READ or "
                                         "CF_PLUGIN_QUERY_WRITE",
                                         name));
    char *full = cf__plugin_printf_dup("%s.%s", self->name, name);
    if (!full)
        return reg_fail(self, NULL);
    for (size_t i = 0; i < r->nqueries; i++) {
        if (strcmp(r->queries[i].name, full) == 0) {
            free(full);
            return reg_fail(self, cf__plugin_printf_dup("query '%s' is registered twice by this plugin; register each name "
                                             "once",
                                             name));
        }
    }
    if (r->nqueries == r->capqueries) {
        size_t cap = r->capqueries ? r->capqueries * 2 : 8;
        query_entry *p = realloc(r->queries, cap * sizeof *p);
        if (!p) {
            free(full);
            return reg_fail(self, NULL);
        }
        r->queries = p;
        r->capqueries = cap;
    }
    r->queries[r->nqueries++] = (query_entry){full, self, fn, ud, flags};
    return CF_PLUGIN_OK;
}

static int host_add_migration(cf_plugin *self, int version, const char *sql)
{
    if (!self || !self->in_init)
        return CF_PLUGIN_EINVAL;
    if (!sql || !*sql)
        return reg_fail(self, cf__plugin_printf_dup("add_migration: version %d has no SQL", version));
    if (version != self->nmigrations + 1)
        return reg_fail(self, cf__plugin_printf_dup("add_migration: got version %d, expected %d (declare versions 1, 2, ... "
                                         "in order, without gaps)",
                                         version, self->nmigrations + 1));
    char **p = realloc(self->migrations, (size_t)(self->nmigrations + 1) * sizeof *p);
    if (!p)
        return reg_fail(self, NULL);
    self->migrations = p;
    if (!(p[self->nmigrations] = cf__strdup(sql)))
        return reg_fail(self, NULL);
    self->nmigrations++;
    return CF_PLUGIN_OK;
}

/* ---------- inside a call ---------- */

static const char *keep_str(cf_call *c, char *s)
{
    if (!s)
        return NULL;
    if (c->nkeep == c->capkeep) {
        size_t cap = c->capkeep ? c->capkeep * 2 : 8;
        char **p = realloc(c->keep, cap * sizeof *p);
        if (!p) {
            free(s);
            return NULL;
        }
        c->keep = p;
        c->capkeep = cap;
    }
    c->keep[c->nkeep++] = s;
    return s;
}

static int call_fail(cf_call *c, int rc, const char *fmt, ...) CF__PRINTF(3, 4);
static int call_fail(cf_call *c, int rc, const char *fmt, ...)
{
    char tmp[CF__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    set_str(&c->error, cf__strdup(tmp));
    return rc;
}

static const char *host_instance_id(cf_call *c)
{
    return c && c->ctx->instance_id ? c->ctx->instance_id : "";
}

static const char *host_workflow(cf_call *c)
{
    return c && c->ctx->workflow ? c->ctx->workflow : "";
}

static const char *host_county(cf_call *c)
{
    return c && c->ctx->county ? c->ctx->county : "";
}

static const char *host_state(cf_call *c)
{
    return c && c->ctx->state ? c->ctx->state : "";
}

static const char *host_event(cf_call *c)
{
    return c && c->ctx->event ? c->ctx->event : "";
}

static const char *host_actor(cf_call *c)
{
    return c && c->ctx->actor ? c->ctx->actor : "";
}

static int64_t host_now(cf_call *c)
{
    return c ? c->ctx->now : 0;
}

static int get_json(cf_call *c, json_t *obj, const char *field, const char **out)
{
    if (!out)
        return CF_PLUGIN_EINVAL;
    *out = NULL;
    json_t *v = field ? (obj ? json_object_get(obj, field) : NULL) : obj;
    if (!v && !field) {
        *out = "{}";
        return CF_PLUGIN_OK;
    }
    if (!v)
        return CF_PLUGIN_ENOTFOUND;
    const char *s = keep_str(c, cf__json_canonical(v));
    if (!s)
        return call_fail(c, CF_PLUGIN_ENOMEM, "out of memory reading data");
    *out = s;
    return CF_PLUGIN_OK;
}

static int host_data_get(cf_call *c, const char *field, const char **json_out)
{
    return c ? get_json(c, c->ctx->data, field, json_out) : CF_PLUGIN_EINVAL;
}

static int host_event_data_get(cf_call *c, const char *field, const char **json_out)
{
    return c ? get_json(c, c->ctx->event_data, field, json_out) : CF_PLUGIN_EINVAL;
}

/* A field as a plain value (data_text, event_data_text). */
static int get_text(cf_call *c, json_t *obj, const char *field, const char **out)
{
    if (!c || !out || !field)
        return CF_PLUGIN_EINVAL;
    *out = NULL;
    json_t *v = obj ? json_object_get(obj, field) : NULL;
    if (!v)
        return CF_PLUGIN_ENOTFOUND;
    if (json_is_null(v))
        return CF_PLUGIN_OK;
    const char *s = json_is_string(v) ? keep_str(c, cf__strdup(json_string_value(v))) : keep_str(c, cf__json_canonical(v));
    if (!s)
        return call_fail(c, CF_PLUGIN_ENOMEM, "out of memory reading data");
    *out = s;
    return CF_PLUGIN_OK;
}

static int get_number(cf_call *c, json_t *obj, const char *field, double *out)
{
    if (!c || !out || !field)
        return CF_PLUGIN_EINVAL;
    *out = 0;
    json_t *v = obj ? json_object_get(obj, field) : NULL;
    if (!v)
        return CF_PLUGIN_ENOTFOUND;
    if (!json_is_number(v))
        return CF_PLUGIN_EINVAL;
    *out = json_number_value(v);
    return CF_PLUGIN_OK;
}

static int host_data_text(cf_call *c, const char *field, const char **out)
{
    return c ? get_text(c, c->ctx->data, field, out) : CF_PLUGIN_EINVAL;
}

static int host_event_data_text(cf_call *c, const char *field, const char **out)
{
    return c ? get_text(c, c->ctx->event_data, field, out) : CF_PLUGIN_EINVAL;
}

static int host_data_number(cf_call *c, const char *field, double *out)
{
    return c ? get_number(c, c->ctx->data, field, out) : CF_PLUGIN_EINVAL;
}

static int host_event_data_number(cf_call *c, const char *field, double *out)
{
    return c ? get_number(c, c->ctx->event_data, field, out) : CF_PLUGIN_EINVAL;
}

static int host_today(cf_call *c, char *buf, size_t size)
{
    if (!c || !buf || size < 11) {
        if (buf && size)
            buf[0] = '\0';
        return CF_PLUGIN_EINVAL;
    }
    cf__date d = cf__tz_local_date(&c->e->tz, c->ctx->now);
    if (d.year < 1 || d.year > 9999) {
        buf[0] = '\0';
        return CF_PLUGIN_EINVAL;
    }
    snprintf(buf, size, "%04d-%02d-%02d", d.year, d.month, d.day);
    return CF_PLUGIN_OK;
}

/* Parse a JSON object text passed by a plugin; NULL or "" means {}. */
static int parse_object(cf_call *c, const char *text, const char *what, json_t **out)
{
    *out = NULL;
    if (!text || !*text) {
        *out = json_object();
        return *out ? CF_PLUGIN_OK : call_fail(c, CF_PLUGIN_ENOMEM, "out of memory");
    }
    json_error_t jerr;
    cf__json_kind k = cf__json_load_object(text, out, &jerr);
    if (k == CF__JSON_INVALID)
        return call_fail(c, CF_PLUGIN_EJSON, "%s is not valid JSON: %s (column %d)", what, jerr.text, jerr.column);
    if (k != CF__JSON_OBJECT)
        return call_fail(c, CF_PLUGIN_EJSON, "%s must be a JSON object ({...})", what);
    return CF_PLUGIN_OK;
}

static int host_data_patch(cf_call *c, const char *patch_json)
{
    if (!c)
        return CF_PLUGIN_EINVAL;
    if (c->guard || c->query)
        return call_fail(c, CF_PLUGIN_EDENIED, "data_patch is for actions: a %s may not change data",
                         c->query ? "query" : "guard");
    json_t *patch = NULL;
    int rc = parse_object(c, patch_json, "the data patch", &patch);
    if (rc != CF_PLUGIN_OK)
        return rc;
    rc = cf__json_merge_patch(c->ctx->data, patch);
    json_decref(patch);
    return rc == CF_OK ? CF_PLUGIN_OK : call_fail(c, CF_PLUGIN_ENOMEM, "out of memory applying the data patch");
}

static int host_send(cf_call *c, const char *target_id, const char *event, const char *data_json)
{
    if (!c)
        return CF_PLUGIN_EINVAL;
    if (c->guard || c->query)
        return call_fail(c, CF_PLUGIN_EDENIED, "send is for actions: a %s may not queue events",
                         c->query ? "query" : "guard");
    if (!target_id || !event || !*event)
        return call_fail(c, CF_PLUGIN_EINVAL, "send: an instance id and an event name are required");
    cf_engine *e = c->e;
    json_t *data = NULL;
    int rc = parse_object(c, data_json, "the sent event's data", &data);
    if (rc != CF_PLUGIN_OK)
        return rc;
    char *text = cf__json_canonical(data);
    json_decref(data);
    if (!text)
        return call_fail(c, CF_PLUGIN_ENOMEM, "out of memory");
    /* The same checks as a workflow's send: one path (send.c), reached through the registry. */
    cf__send_msg m = {c->ctx->instance_id, target_id, NULL, event, text, c->ctx->now};
    cf__err err;
    bool refused = false;
    int erc = e->plugins->send ? e->plugins->send(e, &m, &refused, &err)
                               : cf__fail(&err, CF_EINVAL, "this engine takes no events (it only checks)");
    if (erc != CF_OK)
        rc = call_fail(c, refused && erc == CF_ENOTFOUND ? CF_PLUGIN_ENOTFOUND : CF_PLUGIN_ERROR, "send: %s",
                       err.msg);
    free(text);
    return rc;
}

static int host_set_error(cf_call *c, const char *message)
{
    if (c)
        set_str(&c->error, cf__strdup(message && *message ? message : "(no message given)"));
    return CF_PLUGIN_ERROR;
}

static int host_set_reason(cf_call *c, const char *reason)
{
    if (!c || !c->guard || c->query)
        return CF_PLUGIN_EINVAL;
    set_str(&c->reason, cf__strdup(reason ? reason : ""));
    return CF_PLUGIN_OK;
}

void cf__plugin_emit_log(cf__plugins *r, const char *plugin, int level, const char *message)
{
    if (!r || !r->log || !message)
        return;
    char source[64];
    snprintf(source, sizeof source, "plugin %s", plugin ? plugin : "?");
    r->log(r->log_ud, level < 0 ? 0 : level > 3 ? 3 : level, source, message);
}

static void host_log(cf_call *c, int level, const char *message)
{
    if (c)
        cf__plugin_emit_log(c->plugin->reg, c->plugin->name, level, message);
}

static void host_plugin_log(cf_plugin *self, int level, const char *message)
{
    if (self)
        cf__plugin_emit_log(self->reg, self->name, level, message);
}

static int host_query_result(cf_call *c, const char *json)
{
    if (!c || !c->query || !json)
        return CF_PLUGIN_EINVAL;
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (!v)
        return call_fail(c, CF_PLUGIN_EJSON, "query_result: the result is not valid JSON: %s (column %d)", jerr.text,
                         jerr.column);
    json_decref(v);
    char *copy = cf__strdup(json);
    if (!copy)
        return call_fail(c, CF_PLUGIN_ENOMEM, "out of memory");
    set_str(&c->result, copy);
    return CF_PLUGIN_OK;
}

static int host_init_error(cf_plugin *self, const char *message)
{
    if (self && self->in_init)
        reg_fail(self, cf__strdup(message && *message ? message : "(no message given)"));
    return CF_PLUGIN_ERROR;
}

/* ---------- SQL ---------- */

/* After plugin SQL: a conflict clause like OR ROLLBACK may have ended the
 * engine's transaction; that must fail the transition, never let it go on. */
int cf__plugin_check_txn(cf_call *c)
{
    if (!cf__store_in_transaction(c->e->store))
        return call_fail(c, CF_PLUGIN_EDENIED,
                         "plugin SQL ended the transition's transaction (an OR ROLLBACK conflict clause?); use "
                         "the default ABORT and return an error to roll back");
    return CF_PLUGIN_OK;
}

static int host_sql_prepare(cf_call *c, const char *sql, cf_stmt **out)
{
    if (!c || !sql || !out)
        return CF_PLUGIN_EINVAL;
    *out = NULL;
    struct cf_plugin *pl = c->plugin;
    for (struct cf_stmt *s = pl->stmts; s; s = s->next) {
        if (!s->call && strcmp(s->sql, sql) == 0) {
            if (c->guard && !cf__store_plugin_reads_only(s->st))
                break; /* prepare again: the store explains the refusal */
            s->call = c;
            *out = s;
            return CF_PLUGIN_OK;
        }
    }
    cf__err err;
    cf__pstmt *st = NULL;
    int rc = cf__store_plugin_prepare(c->e->store, pl->name, c->guard, sql, &st, &err);
    if (rc != CF_PLUGIN_OK)
        return call_fail(c, rc, "%s", err.msg);
    struct cf_stmt *s = calloc(1, sizeof *s);
    char *copy = cf__strdup(sql);
    if (!s || !copy) {
        free(s);
        free(copy);
        cf__store_plugin_finalize(st);
        return call_fail(c, CF_PLUGIN_ENOMEM, "out of memory preparing SQL");
    }
    s->st = st;
    s->sql = copy;
    s->plugin = pl;
    s->call = c;
    s->transient = pl->nstmts >= STMT_CACHE_MAX;
    s->next = pl->stmts;
    pl->stmts = s;
    pl->nstmts++;
    *out = s;
    return CF_PLUGIN_OK;
}

static bool stmt_usable(cf_stmt *s)
{
    return s && s->call;
}

static int host_sql_bind_text(cf_stmt *s, int i, const char *value)
{
    if (!stmt_usable(s))
        return CF_PLUGIN_EINVAL;
    cf__err err;
    int rc = cf__store_plugin_bind_text(s->st, i, value, &err);
    if (rc == CF_PLUGIN_OK)
        return CF_PLUGIN_OK;
    return call_fail(s->call, rc, "binding parameter %d of '%s': %s", i, s->sql, err.msg);
}

static int host_sql_bind_null(cf_stmt *s, int i)
{
    return host_sql_bind_text(s, i, NULL);
}

static int host_sql_bind_int(cf_stmt *s, int i, int64_t value)
{
    if (!stmt_usable(s))
        return CF_PLUGIN_EINVAL;
    cf__err err;
    int rc = cf__store_plugin_bind_int(s->st, i, value, &err);
    if (rc == CF_PLUGIN_OK)
        return CF_PLUGIN_OK;
    return call_fail(s->call, rc, "binding parameter %d of '%s': %s", i, s->sql, err.msg);
}

static int host_sql_bind_double(cf_stmt *s, int i, double value)
{
    if (!stmt_usable(s))
        return CF_PLUGIN_EINVAL;
    if (!isfinite(value))
        return call_fail(s->call, CF_PLUGIN_EINVAL,
                         "binding parameter %d of '%s': %s is not a number a table can hold (bind NULL instead)", i,
                         s->sql, isnan(value) ? "NaN" : value > 0 ? "infinity" : "-infinity");
    cf__err err;
    int rc = cf__store_plugin_bind_double(s->st, i, value, &err);
    if (rc == CF_PLUGIN_OK)
        return CF_PLUGIN_OK;
    return call_fail(s->call, rc, "binding parameter %d of '%s': %s", i, s->sql, err.msg);
}

static int host_sql_step(cf_stmt *s)
{
    if (!stmt_usable(s))
        return CF_PLUGIN_EINVAL;
    cf_call *c = s->call;
    cf__err err;
    int rc = cf__store_plugin_step(c->e->store, s->st, c->plugin->name, c->guard, s->sql, &c->changes, &err);
    if (rc == CF_PLUGIN_ROW || rc == CF_PLUGIN_DONE)
        return rc;
    return call_fail(c, rc, "%s", err.msg);
}

static int host_sql_column_count(cf_stmt *s)
{
    return stmt_usable(s) ? cf__store_plugin_column_count(s->st) : 0;
}

static const char *host_sql_column_text(cf_stmt *s, int i)
{
    return stmt_usable(s) ? cf__store_plugin_column_text(s->st, i) : NULL;
}

static int64_t host_sql_column_int(cf_stmt *s, int i)
{
    return stmt_usable(s) ? cf__store_plugin_column_int(s->st, i) : 0;
}

static double host_sql_column_double(cf_stmt *s, int i)
{
    return stmt_usable(s) ? cf__store_plugin_column_double(s->st, i) : 0;
}

static int host_sql_column_type(cf_stmt *s, int i)
{
    return stmt_usable(s) ? cf__store_plugin_column_type(s->st, i) : CF_PLUGIN_TYPE_NULL;
}

void cf__plugin_stmt_free(struct cf_plugin *pl, struct cf_stmt *s)
{
    for (struct cf_stmt **pp = &pl->stmts; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pl->nstmts--;
    cf__store_plugin_finalize(s->st);
    free(s->sql);
    free(s);
}

static int host_sql_finish(cf_stmt *s)
{
    if (!stmt_usable(s))
        return CF_PLUGIN_EINVAL;
    cf__store_plugin_reset(s->st);
    s->call = NULL;
    if (s->transient)
        cf__plugin_stmt_free(s->plugin, s);
    return CF_PLUGIN_OK;
}

static int host_previewing(cf_call *c)
{
    return c && c->e && c->e->previewing ? 1 : 0;
}

static int64_t host_sql_changes(cf_call *c)
{
    return c ? c->changes : 0;
}

static int host_time_format(int64_t t, char *buf, size_t size)
{
    return cf_time_format(t, buf, size) == CF_OK ? CF_PLUGIN_OK : CF_PLUGIN_EINVAL;
}

static int host_time_parse(const char *iso, int64_t *out)
{
    cf_time t = 0;
    if (!iso || !out || cf_time_parse(iso, &t) != CF_OK)
        return CF_PLUGIN_EINVAL;
    *out = t;
    return CF_PLUGIN_OK;
}

static int host_at_close(cf_plugin *self, void (*fn)(void *ud), void *ud)
{
    if (!self || !self->in_init || !fn)
        return CF_PLUGIN_EINVAL;
    struct closer *c = realloc(self->closers, (size_t)(self->ncloser + 1) * sizeof *c);
    if (!c) {
        fn(ud); /* as if init had failed: the caller's cleanup still runs */
        return reg_fail(self, NULL);
    }
    self->closers = c;
    c[self->ncloser++] = (struct closer){fn, ud};
    return CF_PLUGIN_OK;
}

static int host_json_field(const char *json, const char *field, char *buf, size_t size)
{
    if (!buf || size == 0 || !field)
        return CF_PLUGIN_EINVAL;
    buf[0] = '\0';
    json_t *obj = json ? json_loads(json, 0, NULL) : NULL;
    if (!json_is_object(obj)) {
        json_decref(obj);
        return CF_PLUGIN_EJSON;
    }
    json_t *v = json_object_get(obj, field);
    int rc = CF_PLUGIN_OK;
    if (!v) {
        rc = CF_PLUGIN_ENOTFOUND;
    } else {
        char *text = json_is_string(v) ? cf__strdup(json_string_value(v))
                                       : cf__json_canonical(v);
        if (!text)
            rc = CF_PLUGIN_ENOMEM;
        else if (strlen(text) >= size)
            rc = CF_PLUGIN_EINVAL;
        else
            memcpy(buf, text, strlen(text) + 1);
        free(text);
    }
    json_decref(obj);
    return rc;
}

static const char *host_sql_dialect(cf_plugin *self)
{
    self->asked_dialect = true;
    return self->reg->dialect;
}

/* One table for every engine: plugins may keep the pointer for as long as they are loaded. */
const cf_host cf__plugin_host = {
    .size = sizeof(cf_host),
    .abi_version = CF_PLUGIN_ABI_VERSION,
    .register_action = host_register_action,
    .register_guard = host_register_guard,
    .add_migration = host_add_migration,
    .init_error = host_init_error,
    .at_close = host_at_close,
    .instance_id = host_instance_id,
    .workflow = host_workflow,
    .county = host_county,
    .state = host_state,
    .event = host_event,
    .actor = host_actor,
    .now = host_now,
    .data_get = host_data_get,
    .event_data_get = host_event_data_get,
    .data_patch = host_data_patch,
    .send = host_send,
    .set_error = host_set_error,
    .set_reason = host_set_reason,
    .log = host_log,
    .plugin_log = host_plugin_log,
    .result_text = cf__plugin_result_text,
    .sql_prepare = host_sql_prepare,
    .sql_bind_text = host_sql_bind_text,
    .sql_bind_int = host_sql_bind_int,
    .sql_step = host_sql_step,
    .sql_column_count = host_sql_column_count,
    .sql_column_text = host_sql_column_text,
    .sql_column_int = host_sql_column_int,
    .sql_finish = host_sql_finish,
    .sql_changes = host_sql_changes,
    .time_format = host_time_format,
    .time_parse = host_time_parse,
    .json_field = host_json_field,
    .register_query = host_register_query,
    .query_result = host_query_result,
    .previewing = host_previewing,
    .sql_dialect = host_sql_dialect,
    .sql_bind_null = host_sql_bind_null,
    .data_text = host_data_text,
    .event_data_text = host_event_data_text,
    .data_number = host_data_number,
    .event_data_number = host_event_data_number,
    .today = host_today,
    .sql_bind_double = host_sql_bind_double,
    .sql_column_double = host_sql_column_double,
    .sql_column_type = host_sql_column_type,
};
