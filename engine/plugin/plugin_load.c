/*
 * plugin_load.c — the plugin loader and registry: opens plugins with dlopen, checks
 * their info before running any of their code, keeps the registry of the actions,
 * guards and queries they register, runs their migrations, and dispatches calls
 * to them inside the transition's transaction. Plugins stay loaded until the
 * engine closes. The host function table they call is in plugin_host.c.
 */
#include "plugin/plugin_private.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NAME_MAX_LEN 32

/* A plugin's table prefix (<name>_) must not reach the engine's tables: every
 * engine table and index is one of these words or begins with one and '_', and a
 * plugin name may not be one or begin with one and '_' (test_plugin checks a fresh
 * database's schema against this list). */
static const char *const reserved_names[] = {"cf",     "certflow", "history", "instance", "outbox",
                                             "plugin", "policy",   "sqlite",  "timer",    "workflow"};

static bool valid_plugin_name(const char *s)
{
    return cf__valid_name(s, NAME_MAX_LEN);
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

static void drop_migrations(struct cf_plugin *pl)
{
    for (int i = 0; i < pl->nmigrations; i++)
        free(pl->migrations[i]);
    free(pl->migrations);
    pl->migrations = NULL;
    pl->nmigrations = 0;
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
    char *msg = cf__plugin_printf_dup("%s: %s", pl->path, tmp);
    set_str(&pl->message, msg ? msg : cf__strdup("out of memory"));
    pl->loaded = false;
    cf__plugin_emit_log(pl->reg, pl->name ? pl->name : pl->path, CF_PLUGIN_LOG_ERROR, pl->message);
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
    int irc = init_f(&cf__plugin_host, pl, cfg);
    pl->in_init = false;
    free(cfg);
    if (irc != CF_PLUGIN_OK || pl->init_error) {
        unregister(r, pl, mark);
        drop_migrations(pl);
        run_closers(pl);
        char why[256];
        snprintf(why, sizeof why, "it returned %d (%s) without a reason (hint: call host->init_error)", irc,
                 cf__plugin_result_text(irc));
        refuse(pl, "certflow_plugin_init of plugin '%s' failed: %s; its registrations were rolled back and the "
                   "engine runs without it",
               pl->name, pl->init_error ? pl->init_error : why);
        return CF_OK;
    }
    /* A plugin with tables that never asked which SQL to write knows only SQLite's. */
    if (strcmp(r->dialect, "sqlite") != 0 && pl->nmigrations > 0 && !pl->asked_dialect) {
        unregister(r, pl, mark);
        drop_migrations(pl);
        run_closers(pl);
        refuse(pl,
               "plugin '%s' keeps tables but never asks the host which SQL to write (host->sql_dialect), so it "
               "knows only SQLite's: it is refused on a %s database; give it the %s DDL it needs (docs/plugins.md, "
               "\"Your SQL on another backend\"), or keep this database on SQLite; the engine runs without it",
               pl->name, r->dialect, r->dialect);
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
    r->dialect = cfg->dialect ? cfg->dialect : "sqlite";
    r->log_ud = cfg->log_ud;
    r->send = cfg->send;
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
                        "read-only and cannot be migrated: open it once where it is writable (cf_engine_open without "
                        "read_only), or read a migrated copy",
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
            cf__plugin_stmt_free(pl, pl->stmts);
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
            cf__plugin_host.sql_finish(s); /* as the plugin would: reset, and free a transient one */
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
                    f->plugin->name, f->plugin->path, c->error ? c->error : cf__plugin_result_text(prc));
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
    int tx = prc == CF_PLUGIN_OK ? cf__plugin_check_txn(&c) : CF_PLUGIN_OK;
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
    int tx = cf__plugin_check_txn(&c);
    int rc = CF_OK;
    if (prc != CF_PLUGIN_OK || tx != CF_PLUGIN_OK)
        rc = dispatch_fail(e, &c, CF_EACTION, prc != CF_PLUGIN_OK ? prc : tx);
    call_end(&c);
    return rc;
}

/* ---------- what the public calls of plugin_api.c (engine/core/) ask ---------- */

void cf__plugins_list(const cf__plugins *r, cf_plugin_status_fn fn, void *ud)
{
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
}

/* What a query sees through the host table: no instance, the arguments as the
 * event's data, the engine's clock. */
static int run_query(cf_engine *e, const query_entry *q, json_t *args, const char *args_text, cf_time now,
                     char **result)
{
    cf__decision_call ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.event = q->name;
    ctx.event_data = args;
    ctx.actor = "";
    ctx.now = now;
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
    int tx = cf__plugin_check_txn(&c);
    if (prc != CF_PLUGIN_OK || tx != CF_PLUGIN_OK) {
        if (tx == CF_PLUGIN_OK)
            cf__store_rollback(e->store);
        rc = cf__fail(&e->err, CF_EPLUGIN, "query '%s' of plugin '%s' (%s) failed: %s", q->name, q->plugin->name,
                      q->plugin->path, c.error ? c.error : cf__plugin_result_text(prc != CF_PLUGIN_OK ? prc : tx));
        call_end(&c);
        return rc;
    }
    for (struct cf_stmt *s = c.plugin->stmts, *next; s; s = next) { /* before the commit */
        next = s->next;
        if (s->call == &c)
            cf__plugin_host.sql_finish(s); /* as the plugin would: reset, and free a transient one */
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

int cf__plugins_query(cf_engine *e, const char *name, const char *args_json, cf_time now, char **result_json)
{
    int rc;
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
    rc = run_query(e, q, args, text, now, result_json);
    free(text);
    json_decref(args);
    return rc;
}

void cf__plugins_functions(const cf__plugins *r, cf_plugin_function_fn fn, void *ud)
{
    for (size_t i = 0; r && i < r->nfns; i++) {
        const fn_entry *f = &r->fns[i];
        if (!f->live || !f->plugin || !f->plugin->loaded)
            continue;
        cf_plugin_function x = {sizeof x, f->plugin->name ? f->plugin->name : "", fn_noun(f->role), f->name};
        if (fn(ud, &x))
            return;
    }
    for (size_t i = 0; r && i < r->nqueries; i++) {
        const query_entry *q = &r->queries[i];
        if (!q->plugin || !q->plugin->loaded)
            continue;
        cf_plugin_function x = {sizeof x, q->plugin->name ? q->plugin->name : "", "query", q->name};
        if (fn(ud, &x))
            return;
    }
}

void cf__plugins_query_names(const cf__plugins *r, cf_name_fn fn, void *ud)
{
    for (size_t i = 0; r && i < r->nqueries; i++)
        if (fn(ud, r->queries[i].name))
            break;
}
