/*
 * plugin.c — the plugin host: opens plugins with dlopen, checks their info
 * before running any of their code, keeps the registry of the actions and
 * guards they register, runs their migrations, and gives them the host function
 * table through which they read the instance and use their own tables inside
 * the transition's transaction. Plugins stay loaded until the engine closes.
 */
#include "internal.h"

#include "certflow/plugin.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NAME_MAX_LEN 32
#define STMT_CACHE_MAX 64

/* A plugin's table prefix (<name>_) must not reach the engine's tables: every
 * engine table and index is one of these words or begins with one and '_', and a
 * plugin name may not be one or begin with one and '_' (test_plugin checks a fresh
 * database's schema against this list). */
static const char *const reserved_names[] = {"cf",     "certflow", "history", "instance", "outbox",
                                             "plugin", "policy",   "sqlite",  "timer",    "workflow"};

/* A prepared statement of a plugin, cached by its SQL text. */
struct cf_stmt {
    cf__pstmt *st; /* the store's statement (store.h, plugin tables) */
    char *sql;
    struct cf_plugin *plugin;
    cf_call *call; /* the call using it, NULL when free */
    bool transient; /* not cached: finalized at finish */
    struct cf_stmt *next;
};

/* One plugin file, loaded or refused. The handle plugins get as `self`. */
struct cf_plugin {
    cf__plugins *reg;
    char *path;
    void *dl;         /* kept open until cf__plugins_close, even when refused */
    char *name, *version, *description;
    bool loaded;
    char *message;    /* why refused */
    bool in_init;
    char *init_error; /* a registration that failed, or the plugin's own reason */
    char **migrations; /* migrations[v - 1] is the SQL of version v */
    int nmigrations;
    struct cf_stmt *stmts;
    int nstmts;
    struct closer {
        void (*fn)(void *ud);
        void *ud;
    } *closers;       /* at_close functions, run in reverse order */
    int ncloser;
};

/* A query a plugin registered, by its full name "<plugin>.<query>". */
typedef struct query_entry {
    char *name;
    struct cf_plugin *plugin;
    cf_plugin_query_fn fn;
    void *ud;
    int flags;
} query_entry;

typedef struct fn_entry {
    char *name;
    cf__role role; /* CF__ROLE_GUARD or CF__ROLE_ASSIGN */
    struct cf_plugin *plugin;
    cf_plugin_action_fn action;
    cf_plugin_guard_fn guard;
    void *ud;
    bool live;
} fn_entry;

struct cf__plugins {
    struct cf_plugin **items;
    size_t count, cap;
    fn_entry *fns;
    size_t nfns, capfns;
    query_entry *queries;
    size_t nqueries, capqueries;
    const cf__policy *policy;
    cf_log_fn log;
    void *log_ud;
};

/* One invocation of a plugin function. */
struct cf_call {
    cf_engine *e;
    struct cf_plugin *plugin;
    const fn_entry *fn;
    const cf__decision_call *ctx;
    bool guard;
    char *error;
    char *reason;
    char **keep; /* strings handed out, freed when the call returns */
    size_t nkeep, capkeep;
    int64_t changes;
    bool query;   /* a query (cf_plugin_query), outside any transition */
    char *result; /* a query's answer (query_result) */
};

static const char *fn_noun(cf__role role)
{
    return role == CF__ROLE_GUARD ? "guard" : "action";
}

/* ---------- results and small helpers ---------- */

static const char *result_text(int rc)
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

static char *printf_dup(const char *fmt, ...) CF__PRINTF(1, 2);
static char *printf_dup(const char *fmt, ...)
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

static void set_str(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

static bool valid_plugin_name(const char *s)
{
    if (!s || !islower((unsigned char)s[0]))
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
            return false;
    return n <= NAME_MAX_LEN;
}

bool cf__plugin_name_reserved(const char *s)
{
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++) {
        size_t n = strlen(reserved_names[i]);
        if (strncmp(s, reserved_names[i], n) == 0 && (s[n] == '\0' || s[n] == '_'))
            return true;
    }
    return false;
}

/* dlsym into a function pointer without the object-to-function cast ISO C frowns on. */
/* True when `inner` is "<outer>_...": then outer's table prefix covers inner's tables. */
static bool names_nest(const char *outer, const char *inner)
{
    size_t n = strlen(outer);
    return strncmp(outer, inner, n) == 0 && inner[n] == '_';
}

static bool lookup(void *dl, const char *symbol, void *fnptr, size_t size)
{
    dlerror();
    void *sym = dlsym(dl, symbol);
    if (!sym)
        return false;
    memcpy(fnptr, &sym, size);
    return true;
}

/* ---------- registration (during init) ---------- */

static int reg_fail(struct cf_plugin *self, char *msg)
{
    if (!self->init_error)
        self->init_error = msg ? msg : printf_dup("out of memory");
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
        return reg_fail(self, printf_dup("register_%s: a name (1 to 128 bytes) and a function are required", noun));
    if (r->policy && cf__policy_find(r->policy, role, name) >= 0)
        return reg_fail(self, printf_dup("%s '%s' is also defined by the state policy's %s table; a name may be "
                                         "defined once: rename one of them",
                                         noun, name, role == CF__ROLE_GUARD ? "guards" : "assigns"));
    for (size_t i = 0; i < r->nfns; i++) {
        const fn_entry *f = &r->fns[i];
        if (!f->live || f->role != role || strcmp(f->name, name) != 0)
            continue;
        if (f->plugin == self)
            return reg_fail(self, printf_dup("%s '%s' is registered twice by this plugin; register each name once",
                                             noun, name));
        return reg_fail(self, printf_dup("%s '%s' is already registered by plugin '%s' (%s); rename one of them, "
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
        return reg_fail(self, printf_dup("register_query: a name of 1 to 64 lower case letters, digits and '_', "
                                         "and a function, are required (got '%s')",
                                         name ? name : "(null)"));
    if (flags != CF_PLUGIN_QUERY_READ && flags != CF_PLUGIN_QUERY_WRITE)
        return reg_fail(self, printf_dup("register_query '%s': flags must be CF_PLUGIN_QUERY_READ or "
                                         "CF_PLUGIN_QUERY_WRITE",
                                         name));
    char *full = printf_dup("%s.%s", self->name, name);
    if (!full)
        return reg_fail(self, NULL);
    for (size_t i = 0; i < r->nqueries; i++) {
        if (strcmp(r->queries[i].name, full) == 0) {
            free(full);
            return reg_fail(self, printf_dup("query '%s' is registered twice by this plugin; register each name "
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
        return reg_fail(self, printf_dup("add_migration: version %d has no SQL", version));
    if (version != self->nmigrations + 1)
        return reg_fail(self, printf_dup("add_migration: got version %d, expected %d (declare versions 1, 2, ... "
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

static void drop_migrations(struct cf_plugin *pl)
{
    for (int i = 0; i < pl->nmigrations; i++)
        free(pl->migrations[i]);
    free(pl->migrations);
    pl->migrations = NULL;
    pl->nmigrations = 0;
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
    cf__err err;
    cf__instance_row target = {0};
    cf__workflow *wf = NULL;
    int erc = cf__store_instance_get(e->store, target_id, &target, &err);
    if (erc == CF_ENOTFOUND)
        rc = call_fail(c, CF_PLUGIN_ENOTFOUND, "send: there is no instance %s", target_id);
    else if (erc != CF_OK)
        rc = call_fail(c, CF_PLUGIN_ERROR, "send: %s", err.msg);
    else if ((erc = cf__engine_definition(e, target.def_hash, &wf)) != CF_OK)
        rc = call_fail(c, CF_PLUGIN_ERROR, "send: %s", e->err.msg);
    else if (cf__workflow_event(wf, event) < 0)
        rc = call_fail(c, CF_PLUGIN_ENOTFOUND, "send: workflow '%s' of instance %s has no event '%s'", wf->name,
                       target_id, event);
    else if ((erc = cf__store_outbox_add(e->store, c->ctx->instance_id, target_id, event, text, c->ctx->now,
                                         &err)) != CF_OK)
        rc = call_fail(c, CF_PLUGIN_ERROR, "send: %s", err.msg);
    cf__instance_row_clear(&target);
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

static void emit_log(cf__plugins *r, const char *plugin, int level, const char *message)
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
        emit_log(c->plugin->reg, c->plugin->name, level, message);
}

static void host_plugin_log(cf_plugin *self, int level, const char *message)
{
    if (self)
        emit_log(self->reg, self->name, level, message);
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
static int check_txn(cf_call *c)
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

static void stmt_free_one(struct cf_plugin *pl, struct cf_stmt *s)
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
        stmt_free_one(s->plugin, s);
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

static void run_closers(struct cf_plugin *pl)
{
    while (pl->ncloser > 0) {
        struct closer *c = &pl->closers[--pl->ncloser];
        c->fn(c->ud);
    }
    free(pl->closers);
    pl->closers = NULL;
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
    (void)self; /* one backend per build today; self reaches the engine's when there are more */
    return cf__store_dialect();
}

/* One table for every engine: plugins may keep the pointer for as long as they are loaded. */
static const cf_host host_table = {
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
    .result_text = result_text,
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
};

/* ---------- loading ---------- */

static struct cf_plugin *add_plugin(cf__plugins *r, const char *path)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct cf_plugin **p = realloc(r->items, cap * sizeof *p);
        if (!p)
            return NULL;
        r->items = p;
        r->cap = cap;
    }
    struct cf_plugin *pl = calloc(1, sizeof *pl);
    if (!pl || !(pl->path = cf__strdup(path))) {
        free(pl);
        return NULL;
    }
    pl->reg = r;
    r->items[r->count++] = pl;
    return pl;
}

static void refuse(struct cf_plugin *pl, const char *fmt, ...) CF__PRINTF(2, 3);
static void refuse(struct cf_plugin *pl, const char *fmt, ...)
{
    char tmp[CF__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    char *msg = printf_dup("%s: %s", pl->path, tmp);
    set_str(&pl->message, msg ? msg : cf__strdup("out of memory"));
    pl->loaded = false;
    emit_log(pl->reg, pl->name ? pl->name : pl->path, CF_PLUGIN_LOG_ERROR, pl->message);
}

/* Unregister what a plugin registered: entries it added since `mark` are
 * removed (they are the registry's last), older ones only disabled. */
static void unregister(cf__plugins *r, struct cf_plugin *pl, size_t mark)
{
    while (r->nfns > mark && r->fns[r->nfns - 1].plugin == pl)
        free(r->fns[--r->nfns].name);
    for (size_t i = 0; i < r->nfns; i++)
        if (r->fns[i].plugin == pl)
            r->fns[i].live = false;
    size_t kept = 0; /* nothing refers to a query by index: drop them */
    for (size_t i = 0; i < r->nqueries; i++) {
        if (r->queries[i].plugin == pl)
            free(r->queries[i].name);
        else
            r->queries[kept++] = r->queries[i];
    }
    r->nqueries = kept;
}

/* The configuration text for plugin `name`: its member of the config object. */
static int plugin_config_text(json_t *config, const char *name, char **out, const char **problem)
{
    *out = NULL;
    *problem = NULL;
    json_t *v = config ? json_object_get(config, name) : NULL;
    if (v && !json_is_object(v)) {
        *problem = "its member of options.plugin_config must be a JSON object ({...})";
        return CF_EINVAL;
    }
    *out = v ? cf__json_canonical(v) : cf__strdup("{}");
    return *out ? CF_OK : CF_ENOMEM;
}

typedef const cf_plugin_info *(*info_fn)(void);
typedef int (*init_fn)(const cf_host *host, cf_plugin *self, const char *config_json);

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISDIR(mode))
        return "a folder";
    return "not a regular file";
}

static int load_one(cf__plugins *r, const char *path, json_t *config)
{
    struct cf_plugin *pl = add_plugin(r, path);
    if (!pl)
        return CF_ENOMEM;
    struct stat st;
    if (stat(path, &st) != 0) {
        refuse(pl, "no such plugin file (%s); check options.plugin_dir / --plugins", strerror(errno));
        return CF_OK;
    }
    /* dlopen would block on a FIFO until a writer comes, or read a device forever. */
    if (!S_ISREG(st.st_mode)) {
        refuse(pl, "it is %s, not a plugin file: a plugin is a regular shared library (*.so); check "
                   "options.plugin_dir / --plugins",
               file_kind(st.st_mode));
        return CF_OK;
    }
    pl->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!pl->dl) {
        const char *why = dlerror();
        refuse(pl,
               "cannot be loaded: %s (hint: a library it needs is missing or it uses a symbol nothing provides; "
               "check `ldd -r %s`; plugins get everything through the host table and must not link "
               "against libcertflow; build it with certflow_add_plugin)",
               why ? why : "unknown error", path);
        return CF_OK;
    }
    info_fn info_f = NULL;
    init_fn init_f = NULL;
    if (!lookup(pl->dl, "certflow_plugin_info", &info_f, sizeof info_f)) {
        refuse(pl,
               "not a certflow plugin: it exports no certflow_plugin_info function (hint: define "
               "`CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)` as plugins/template/template.c "
               "does, and build with certflow_add_plugin, which keeps exported symbols visible)");
        return CF_OK;
    }
    /* The info function is the only plugin code that runs before the ABI check. */
    const cf_plugin_info *info = info_f();
    if (!info || info->size < offsetof(cf_plugin_info, abi_version) + sizeof info->abi_version) {
        refuse(pl, "certflow_plugin_info returned %s (hint: return a static cf_plugin_info built with "
                   "CF_PLUGIN_INFO_INIT)",
               info ? "a struct with its size field not set" : "NULL");
        return CF_OK;
    }
    if (info->abi_version != CF_PLUGIN_ABI_VERSION) {
        refuse(pl,
               "built for plugin ABI %d, this engine speaks ABI %d: rebuild it against include/certflow/plugin.h "
               "of certflow %s (CF_PLUGIN_ABI_VERSION %d)%s",
               info->abi_version, CF_PLUGIN_ABI_VERSION, CF_VERSION_STRING, CF_PLUGIN_ABI_VERSION,
               info->abi_version > CF_PLUGIN_ABI_VERSION ? ", or upgrade certflow" : "");
        return CF_OK;
    }
    if (info->size < offsetof(cf_plugin_info, certflow_version)) {
        refuse(pl, "its cf_plugin_info is %zu bytes, smaller than ABI %d's %zu (hint: set size to "
                   "sizeof(cf_plugin_info); CF_PLUGIN_INFO_INIT does)",
               info->size, CF_PLUGIN_ABI_VERSION, offsetof(cf_plugin_info, certflow_version));
        return CF_OK;
    }
    if (!valid_plugin_name(info->name)) {
        refuse(pl, "its name '%s' is not a plugin name: use 1 to %d lower case letters, digits and '_', "
                   "starting with a letter (it prefixes the plugin's tables)",
               info->name ? info->name : "(null)", NAME_MAX_LEN);
        return CF_OK;
    }
    pl->name = cf__strdup(info->name);
    pl->version = cf__strdup(info->version ? info->version : "");
    pl->description = cf__strdup(info->description ? info->description : "");
    if (!pl->name || !pl->version || !pl->description)
        return CF_ENOMEM;
    if (cf__plugin_name_reserved(pl->name)) {
        refuse(pl, "the name '%s' is reserved: the engine's tables start with it; rename the plugin",
               pl->name);
        return CF_OK;
    }
    for (size_t i = 0; i + 1 < r->count; i++) {
        if (r->items[i]->loaded && strcmp(r->items[i]->name, pl->name) == 0) {
            refuse(pl, "a plugin named '%s' is already loaded from %s; load only one of them", pl->name,
                   r->items[i]->path);
            return CF_OK;
        }
        /* A plugin's tables are those named "<plugin>_...": "fee" would reach "fee_x"'s. */
        const char *other = r->items[i]->name;
        if (r->items[i]->loaded && (names_nest(other, pl->name) || names_nest(pl->name, other))) {
            refuse(pl,
                   "plugin '%s' and plugin '%s' (loaded from %s) would share tables: one name followed by '_' "
                   "begins the other; rename one of them",
                   pl->name, r->items[i]->name, r->items[i]->path);
            return CF_OK;
        }
    }
    if (!lookup(pl->dl, "certflow_plugin_init", &init_f, sizeof init_f)) {
        refuse(pl, "plugin '%s' exports certflow_plugin_info but no certflow_plugin_init (hint: define "
                   "`CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *, cf_plugin *, const char *)`)",
               pl->name);
        return CF_OK;
    }
    char *cfg = NULL;
    const char *problem = NULL;
    int rc = plugin_config_text(config, pl->name, &cfg, &problem);
    if (rc == CF_ENOMEM)
        return rc;
    if (problem) {
        refuse(pl, "plugin '%s': %s", pl->name, problem);
        return CF_OK;
    }
    size_t mark = r->nfns;
    pl->in_init = true;
    int irc = init_f(&host_table, pl, cfg);
    pl->in_init = false;
    free(cfg);
    if (irc != CF_PLUGIN_OK || pl->init_error) {
        unregister(r, pl, mark);
        drop_migrations(pl);
        run_closers(pl);
        char why[256];
        snprintf(why, sizeof why, "it returned %d (%s) without a reason (hint: call host->init_error)", irc,
                 result_text(irc));
        refuse(pl, "certflow_plugin_init of plugin '%s' failed: %s; its registrations were rolled back and the "
                   "engine runs without it",
               pl->name, pl->init_error ? pl->init_error : why);
        return CF_OK;
    }
    pl->loaded = true;
    return CF_OK;
}

/* Split the ':'-separated list into plugin files: folders give their *.so in name order. */
static int load_all(cf__plugins *r, const char *paths, json_t *config, cf__err *err)
{
    char *list = cf__strdup(paths);
    if (!list)
        return cf__fail(err, CF_ENOMEM, "out of memory");
    int rc = CF_OK;
    char *save = NULL;
    for (char *part = strtok_r(list, ":", &save); part && rc == CF_OK; part = strtok_r(NULL, ":", &save)) {
        struct stat st;
        if (stat(part, &st) == 0 && S_ISDIR(st.st_mode)) {
            char **files = NULL;
            size_t n = 0;
            rc = cf__list_dir(part, ".so", &files, &n, err);
            if (rc == CF_EIO) { /* unreadable folder: keep it as a refused entry */
                struct cf_plugin *pl = add_plugin(r, part);
                if (!pl) {
                    rc = CF_ENOMEM;
                    break;
                }
                refuse(pl, "%s", err->msg);
                err->msg[0] = '\0';
                rc = CF_OK;
                continue;
            }
            for (size_t i = 0; i < n && rc == CF_OK; i++)
                rc = load_one(r, files[i], config);
            cf__free_list(files, n);
        } else {
            rc = load_one(r, part, config);
        }
    }
    free(list);
    if (rc == CF_ENOMEM)
        return cf__fail(err, CF_ENOMEM, "out of memory loading plugins");
    return rc;
}

int cf__plugins_open(const cf__plugins_config *cfg, cf__plugins **out, cf__err *err)
{
    cf__plugins *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return cf__fail(err, CF_ENOMEM, "out of memory");
    r->policy = cfg->policy;
    r->log = cfg->log;
    r->log_ud = cfg->log_ud;
    json_t *config = NULL;
    if (cfg->config_json && *cfg->config_json) {
        json_error_t jerr;
        cf__json_kind k = cf__json_load_object(cfg->config_json, &config, &jerr);
        if (k == CF__JSON_INVALID)
            return cf__fail(err, CF_EJSON,
                            "options.plugin_config is not valid JSON: %s (line %d, column %d); pass an object "
                            "such as {\"fees\": {\"currency\": \"USD\"}}",
                            jerr.text, jerr.line, jerr.column);
        if (k != CF__JSON_OBJECT)
            return cf__fail(err, CF_EJSON,
                            "options.plugin_config must be a JSON object of plugin name to configuration");
    }
    int rc = cfg->paths && *cfg->paths ? load_all(r, cfg->paths, config, err) : CF_OK;
    json_decref(config);
    return rc;
}

/* ---------- migrations ---------- */

static void refuse_newer(cf__plugins *r, struct cf_plugin *pl, int version)
{
    unregister(r, pl, r->nfns);
    refuse(pl, "the database is at schema version %d of plugin '%s', but this build of the plugin (version %s) "
               "knows only up to %d: use the newer build of the plugin",
           version, pl->name, pl->version, pl->nmigrations);
}

/* On a database opened read-only: nothing can be migrated, so a plugin whose
 * tables are behind stops the open (a newer schema refuses the plugin, as always). */
static int check_read_only(cf__plugins *r, struct cf_plugin *pl, cf__store *s, cf__err *err)
{
    int version = 0;
    int rc = cf__store_plugin_version(s, pl->name, &version, err);
    if (rc != CF_OK)
        return rc;
    if (version > pl->nmigrations) {
        refuse_newer(r, pl, version);
        return CF_OK;
    }
    if (version < pl->nmigrations)
        return cf__fail(err, CF_EREADONLY,
                        "the database is at schema version %d of plugin '%s' and the plugin needs %d, but it is opened "
                        "read-only and cannot be migrated: open it once where it is writable (any certflow command "
                        "that writes), or read a migrated copy",
                        version, pl->name, pl->nmigrations);
    return CF_OK;
}

/* Run one plugin's pending versions. A plugin problem refuses the plugin and
 * returns CF_OK; a store problem (busy, read-only, full) is returned. */
static int migrate_one(cf__plugins *r, struct cf_plugin *pl, cf__store *s, cf_time now, cf__err *err)
{
    int version = 0;
    int rc = cf__store_begin(s, err);
    if (rc != CF_OK)
        return rc;
    rc = cf__store_plugin_versions_init(s, err);
    if (rc == CF_OK)
        rc = cf__store_plugin_version(s, pl->name, &version, err);
    if (rc != CF_OK) {
        cf__store_rollback(s);
        return rc;
    }
    rc = cf__store_commit(s, err);
    if (rc != CF_OK)
        return rc;
    if (version > pl->nmigrations) {
        refuse_newer(r, pl, version);
        return CF_OK;
    }
    for (int v = version + 1; v <= pl->nmigrations; v++) {
        rc = cf__store_begin(s, err);
        if (rc != CF_OK)
            return rc;
        int current = 0;
        rc = cf__store_plugin_version(s, pl->name, &current, err);
        if (rc != CF_OK) {
            cf__store_rollback(s);
            return rc;
        }
        if (current >= v) { /* another process got there first */
            cf__store_rollback(s);
            continue;
        }
        rc = cf__store_plugin_migrate(s, pl->name, v, pl->migrations[v - 1], now, err);
        if (rc == CF_OK)
            rc = cf__store_commit(s, err);
        else if (rc == CF_EPLUGIN) { /* the plugin's SQL failed: refuse the plugin, keep nothing of it */
            char why[CF__MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            cf__store_rollback(s);
            unregister(r, pl, r->nfns);
            refuse(pl, "migration %d of plugin '%s' failed: %s (nothing of it was kept; fix the SQL given to "
                       "add_migration)",
                   v, pl->name, why);
            return CF_OK;
        } else {
            cf__store_rollback(s);
            return rc;
        }
        if (rc != CF_OK)
            return rc;
    }
    return CF_OK;
}

int cf__plugins_migrate(cf__plugins *r, cf__store *s, cf_time now, cf__err *err)
{
    if (!r)
        return CF_OK;
    for (size_t i = 0; i < r->count; i++) {
        struct cf_plugin *pl = r->items[i];
        if (!pl->loaded || pl->nmigrations == 0)
            continue;
        int rc = cf__store_read_only(s) ? check_read_only(r, pl, s, err) : migrate_one(r, pl, s, now, err);
        if (rc != CF_OK) {
            cf__err_prefix(err, "migrating plugin '%s' (%s)", pl->name, pl->path);
            return rc;
        }
    }
    return CF_OK;
}

/* ---------- lifetime ---------- */

void cf__plugins_release(cf__plugins *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        struct cf_plugin *pl = r->items[i];
        while (pl->stmts)
            stmt_free_one(pl, pl->stmts);
    }
}

void cf__plugins_close(cf__plugins *r)
{
    if (!r)
        return;
    cf__plugins_release(r);
    for (size_t i = 0; i < r->nfns; i++)
        free(r->fns[i].name);
    free(r->fns);
    for (size_t i = 0; i < r->nqueries; i++)
        free(r->queries[i].name);
    free(r->queries);
    for (size_t i = 0; i < r->count; i++) {
        struct cf_plugin *pl = r->items[i];
        run_closers(pl);
        /* Nothing of the engine points into the plugin any more: names were copied. */
        if (pl->dl)
            dlclose(pl->dl);
        drop_migrations(pl);
        free(pl->path);
        free(pl->name);
        free(pl->version);
        free(pl->description);
        free(pl->message);
        free(pl->init_error);
        free(pl);
    }
    free(r->items);
    free(r);
}

int cf__plugins_find(const cf__plugins *r, cf__role role, const char *name)
{
    if (!r || (role != CF__ROLE_GUARD && role != CF__ROLE_ASSIGN))
        return -1;
    for (size_t i = 0; i < r->nfns; i++)
        if (r->fns[i].live && r->fns[i].role == role && strcmp(r->fns[i].name, name) == 0)
            return (int)i;
    return -1;
}

void cf__plugins_note_refused(const cf__plugins *r, cf__err *err)
{
    if (!r)
        return;
    cf__buf b = {0};
    cf__buf_puts(&b, err->msg);
    int n = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i]->loaded)
            continue;
        cf__buf_printf(&b, "%s%s", n++ ? "; " : " (note: plugins refused at open, one of which may provide it: ",
                       r->items[i]->message);
    }
    if (n)
        cf__buf_puts(&b, ")");
    if (n && b.data && !b.oom)
        snprintf(err->msg, sizeof err->msg, "%s", b.data);
    cf__buf_free(&b);
}

int cf__plugins_diagnose(const cf__plugins *r, cf_diagnostic_fn fn, void *ud)
{
    int n = 0;
    for (size_t i = 0; r && i < r->count; i++) {
        if (r->items[i]->loaded)
            continue;
        cf_diagnostic d = {sizeof d, r->items[i]->path, r->items[i]->message};
        n++;
        if (fn && fn(ud, &d))
            break;
    }
    return n;
}

/* ---------- dispatch ---------- */

static void call_end(cf_call *c)
{
    for (struct cf_stmt *s = c->plugin->stmts, *next; s; s = next) {
        next = s->next;
        if (s->call == c)
            host_sql_finish(s);
    }
    for (size_t i = 0; i < c->nkeep; i++)
        free(c->keep[i]);
    free(c->keep);
    free(c->error);
    free(c->reason);
    free(c->result);
}

static int dispatch_fail(cf_engine *e, cf_call *c, int code, int prc)
{
    const fn_entry *f = c->fn;
    return cf__fail(&e->err, code, "%s '%s' of plugin '%s' (%s) failed: %s", fn_noun(f->role), f->name,
                    f->plugin->name, f->plugin->path, c->error ? c->error : result_text(prc));
}

int cf__plugin_guard(cf_engine *e, int index, const cf__decision_call *ctx, bool *ok, char **reason)
{
    *ok = false;
    *reason = NULL;
    cf__plugins *r = e->plugins;
    if (!r || index < 0 || (size_t)index >= r->nfns || r->fns[index].role != CF__ROLE_GUARD)
        return cf__fail(&e->err, CF_EPLUGIN, "internal error: no plugin guard %d", index);
    const fn_entry *f = &r->fns[index];
    cf_call c = {e, f->plugin, f, ctx, true, NULL, NULL, NULL, 0, 0, 0, false, NULL};
    int allow = -1;
    int prc = f->guard(&c, f->ud, &allow);
    int tx = prc == CF_PLUGIN_OK ? check_txn(&c) : CF_PLUGIN_OK;
    int rc = CF_OK;
    if (prc != CF_PLUGIN_OK || tx != CF_PLUGIN_OK) {
        rc = dispatch_fail(e, &c, CF_EPLUGIN, prc != CF_PLUGIN_OK ? prc : tx);
    } else if (allow != 0 && allow != 1) {
        c.error = cf__strdup("it returned without setting *allow to 1 or 0");
        rc = dispatch_fail(e, &c, CF_EPLUGIN, CF_PLUGIN_ERROR);
    } else {
        *ok = allow == 1;
        cf__err bad;
        if (!*ok && c.reason && cf__check_returned_text(&bad, "its reason", c.reason, strlen(c.reason)) != CF_OK) {
            set_str(&c.error, cf__strdup(bad.msg));
            rc = dispatch_fail(e, &c, CF_EPLUGIN, CF_PLUGIN_ERROR);
        } else if (!*ok && c.reason && *c.reason) {
            *reason = c.reason;
            c.reason = NULL;
        }
    }
    call_end(&c);
    return rc;
}

int cf__plugin_action(cf_engine *e, int index, const cf__decision_call *ctx)
{
    cf__plugins *r = e->plugins;
    if (!r || index < 0 || (size_t)index >= r->nfns || r->fns[index].role != CF__ROLE_ASSIGN)
        return cf__fail(&e->err, CF_EPLUGIN, "internal error: no plugin action %d", index);
    const fn_entry *f = &r->fns[index];
    cf_call c = {e, f->plugin, f, ctx, false, NULL, NULL, NULL, 0, 0, 0, false, NULL};
    int prc = f->action(&c, f->ud);
    int tx = check_txn(&c);
    int rc = CF_OK;
    if (prc != CF_PLUGIN_OK || tx != CF_PLUGIN_OK)
        rc = dispatch_fail(e, &c, CF_EACTION, prc != CF_PLUGIN_OK ? prc : tx);
    call_end(&c);
    return rc;
}

/* ---------- public ---------- */

int cf_plugin_list(cf_engine *e, cf_plugin_status_fn fn, void *ud)
{
    if (!e)
        return CF_EINVAL;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_list: no callback given");
    /* Works on a handle whose open failed: the refusals may be why. */
    cf__plugins *r = e->plugins;
    for (size_t i = 0; r && i < r->count; i++) {
        const struct cf_plugin *pl = r->items[i];
        cf_plugin_status st = {sizeof st,
                               pl->path,
                               pl->name ? pl->name : "",
                               pl->version ? pl->version : "",
                               pl->description ? pl->description : "",
                               pl->loaded ? 1 : 0,
                               pl->loaded ? "" : (pl->message ? pl->message : "")};
        if (fn(ud, &st))
            break;
    }
    return CF_OK;
}

/* What a query sees through the host table: no instance, the arguments as the
 * event's data, the engine's clock. */
static int run_query(cf_engine *e, const query_entry *q, json_t *args, const char *args_text, char **result)
{
    cf__decision_call ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.event = q->name;
    ctx.event_data = args;
    ctx.actor = "";
    ctx.now = cf_engine_now(e);
    bool read_only = q->flags != CF_PLUGIN_QUERY_WRITE;
    cf_call c = {e, q->plugin, NULL, &ctx, read_only, NULL, NULL, NULL, 0, 0, 0, true, NULL};
    /* A database found corrupt takes no more writes (verify.c). */
    int rc = read_only ? CF_OK : cf__store_refuse_if_corrupt(e->store, &e->err);
    if (rc == CF_OK)
        rc = read_only ? cf__store_begin_read(e->store, &e->err) : cf__store_begin(e->store, &e->err);
    if (rc != CF_OK) {
        call_end(&c);
        return rc;
    }
    int prc = q->fn(&c, q->ud, args_text);
    int tx = check_txn(&c);
    if (prc != CF_PLUGIN_OK || tx != CF_PLUGIN_OK) {
        if (tx == CF_PLUGIN_OK)
            cf__store_rollback(e->store);
        rc = cf__fail(&e->err, CF_EPLUGIN, "query '%s' of plugin '%s' (%s) failed: %s", q->name, q->plugin->name,
                      q->plugin->path, c.error ? c.error : result_text(prc != CF_PLUGIN_OK ? prc : tx));
        call_end(&c);
        return rc;
    }
    for (struct cf_stmt *s = c.plugin->stmts, *next; s; s = next) { /* before the commit */
        next = s->next;
        if (s->call == &c)
            host_sql_finish(s);
    }
    if (read_only)
        cf__store_rollback(e->store);
    else
        rc = cf__store_commit(e->store, &e->err);
    if (rc == CF_OK) {
        *result = cf__strdup(c.result ? c.result : "null");
        if (!*result)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    call_end(&c);
    return rc;
}

int cf_plugin_query(cf_engine *e, const char *name, const char *args_json, char **result_json)
{
    if (result_json)
        *result_json = NULL;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !result_json)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_query: a query name and a result pointer are required");
    rc = cf__check_text(&e->err, "the query name", name, true);
    if (rc != CF_OK)
        return rc;
    cf__plugins *r = e->plugins;
    const query_entry *q = NULL;
    for (size_t i = 0; r && i < r->nqueries && !q; i++)
        if (strcmp(r->queries[i].name, name) == 0)
            q = &r->queries[i];
    if (!q) {
        cf__buf b = {0};
        for (size_t i = 0; r && i < r->nqueries; i++)
            cf__buf_printf(&b, "%s%s", i ? ", " : "", r->queries[i].name);
        rc = cf__fail(&e->err, CF_ENOTFOUND, "no loaded plugin has a query named '%s' (queries: %s; load the plugin "
                                             "that provides it with options.plugin_dir / --plugins)",
                      name, b.data && !b.oom && b.len ? b.data : "none");
        cf__buf_free(&b);
        return rc;
    }
    if (args_json && !*args_json)
        return cf__fail(&e->err, CF_EJSON,
                        "the arguments of query '%s' are empty: give a JSON object such as {} (or NULL for none)", name);
    json_t *args = NULL;
    if (args_json) {
        json_error_t jerr;
        cf__json_kind k = cf__json_load_object(args_json, &args, &jerr);
        if (k != CF__JSON_OBJECT) {
            bool bad = k == CF__JSON_INVALID;
            return cf__fail(&e->err, CF_EJSON, "the arguments of query '%s' must be a JSON object ({...})%s%s",
                            name, bad ? ": " : "", bad ? jerr.text : "");
        }
    } else {
        args = json_object();
        if (!args)
            return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    char *text = cf__json_canonical(args);
    if (!text) {
        json_decref(args);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    rc = run_query(e, q, args, text, result_json);
    free(text);
    json_decref(args);
    return rc;
}

int cf_plugin_queries(cf_engine *e, cf_name_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_queries: no callback given");
    cf__plugins *r = e->plugins;
    for (size_t i = 0; r && i < r->nqueries; i++)
        if (fn(ud, r->queries[i].name))
            break;
    return CF_OK;
}
