/*
 * store_copy.c — cf_store_copy (certflow store copy): a county's whole database
 * moved to another backend, or to another file of the same one.
 *
 * 1. The target must be empty: no row in any engine table but plugin_schema, and
 *    none in any plugin table. Refused otherwise, before anything is written.
 * 2. With plugins given, the target is opened once with them alone: their own
 *    migrations create their tables in the target's dialect.
 * 3. The source is read in one snapshot and the target written in one
 *    transaction: the engine's tables column by column as stored (so the chain
 *    verifies on the target), then each plugin table by column name. A plugin the
 *    source has tables of and the target has not, or has at another schema
 *    version, is refused naming it, and nothing is written.
 * 4. The rows of every table are counted against the source's, and the target is
 *    opened as an engine (with opts as given) and verified (cf_engine_verify_full).
 * What is read and written, table by table, is the backends' (store.h, "copying a
 * whole database"); this file holds no SQL.
 */
#include "internal.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_BUSY_MS 5000

typedef struct ptable {
    char *plugin, *table;
    int64_t rows; /* in the source */
} ptable;

typedef struct plist {
    ptable *v;
    size_t n, cap;
    bool oom;
} plist;

static void plist_free(plist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].plugin);
        free(l->v[i].table);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int plist_add(void *ud, const char *plugin, const char *table)
{
    plist *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        ptable *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return CF_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    ptable *p = &l->v[l->n];
    p->plugin = cf__strdup(plugin);
    p->table = cf__strdup(table);
    p->rows = 0;
    if (!p->plugin || !p->table) {
        free(p->plugin);
        free(p->table);
        l->oom = true;
        return CF_ENOMEM;
    }
    l->n++;
    return CF_OK;
}

static int list_plugin_tables(cf__store *s, plist *l, cf__err *err)
{
    int rc = cf__store_copy_plugin_tables(s, plist_add, l, err);
    if (l->oom)
        return cf__fail(err, CF_ENOMEM, "out of memory listing the plugin tables");
    return rc;
}

static bool plist_has(const plist *l, const char *plugin, const char *table)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].plugin, plugin) && !strcmp(l->v[i].table, table))
            return true;
    return false;
}

typedef struct copy_ctx {
    cf__store *src, *dst;
    const cf__copy_table *t;
    const char *plugin, *table;
    int64_t inserted;
    cf__err *err;
} copy_ctx;

static int put_row(void *ud, const char *const *values)
{
    copy_ctx *c = ud;
    if (!strcmp(c->t->name, "plugin_schema")) {
        /* The plugins' migrations made the target's tables: their versions must agree. */
        int have = 0;
        int rc = cf__store_plugin_version(c->dst, values[0], &have, c->err);
        if (rc != CF_OK)
            return rc;
        if (have != 0) {
            if (have != atoi(values[1]))
                return cf__fail(c->err, CF_EINVAL,
                                "the plugin '%s' is at schema version %s in the source and %d in the target (the "
                                "plugin given is another version): open the source once with the same plugin, which "
                                "migrates its tables, and copy again; nothing was copied",
                                values[0], values[1], have);
            return CF_OK;
        }
    }
    c->inserted++;
    return cf__store_copy_put(c->dst, c->t, values, c->err);
}

static int put_plugin_row(void *ud, int n, const char *const *names, const char *const *values)
{
    copy_ctx *c = ud;
    return cf__store_copy_plugin_put(c->dst, c->plugin, c->table, n, names, values, c->err);
}

static void set_msg(char *msg, size_t msg_size, const char *text)
{
    if (msg && msg_size > 0)
        snprintf(msg, msg_size, "%s", text);
}

/* Step 1: CF_OK when the target holds nothing. */
static int check_empty(const char *to, cf__err *err)
{
    cf__store *dst = NULL;
    int rc = cf__store_open(to, COPY_BUSY_MS, &dst, err);
    if (rc != CF_OK) {
        cf__err_prefix(err, "opening the target %s", to);
        return rc;
    }
    plist tl = {0};
    rc = cf__store_begin_read(dst, err);
    bool began = rc == CF_OK;
    for (int i = 0; rc == CF_OK && cf__copy_tables[i].name; i++) {
        int64_t n = 0;
        if (!strcmp(cf__copy_tables[i].name, "plugin_schema"))
            continue;
        rc = cf__store_copy_count(dst, &cf__copy_tables[i], &n, err);
        if (rc == CF_OK && n > 0)
            rc = cf__fail(err, CF_EINVAL,
                          "the target %s is not empty (its table %s holds %lld row%s): store copy writes only into a "
                          "new, empty database; nothing was copied (give a new file, or an empty PostgreSQL database)",
                          to, cf__copy_tables[i].name, (long long)n, n == 1 ? "" : "s");
    }
    if (rc == CF_OK)
        rc = list_plugin_tables(dst, &tl, err);
    for (size_t i = 0; rc == CF_OK && i < tl.n; i++) {
        int64_t n = 0;
        rc = cf__store_copy_plugin_count(dst, tl.v[i].plugin, tl.v[i].table, &n, err);
        if (rc == CF_OK && n > 0)
            rc = cf__fail(err, CF_EINVAL,
                          "the target %s is not empty (the plugin table %s holds %lld row%s): store copy writes only "
                          "into a new, empty database; nothing was copied",
                          to, tl.v[i].table, (long long)n, n == 1 ? "" : "s");
    }
    if (began)
        cf__store_rollback(dst);
    plist_free(&tl);
    cf__store_close(dst);
    return rc;
}

/* Step 3. counts[] gets what each engine table must hold after the copy; sl the source's plugin tables. */
static int copy_all(const char *from, const char *to, int64_t *counts, plist *sl, cf__err *err)
{
    cf__store *src = NULL, *dst = NULL;
    int rc = cf__store_open_read_only(from, COPY_BUSY_MS, &src, err);
    if (rc != CF_OK) {
        cf__err_prefix(err, "opening the source %s", from);
        return rc;
    }
    rc = cf__store_open(to, COPY_BUSY_MS, &dst, err);
    if (rc != CF_OK) {
        cf__err_prefix(err, "opening the target %s", to);
        cf__store_close(src);
        return rc;
    }
    plist tl = {0};
    bool read_open = false, write_open = false;
    rc = cf__store_begin_read(src, err);
    read_open = rc == CF_OK;
    if (rc == CF_OK) {
        rc = cf__store_begin(dst, err);
        write_open = rc == CF_OK;
    }
    if (rc == CF_OK)
        rc = list_plugin_tables(src, sl, err);
    if (rc == CF_OK)
        rc = list_plugin_tables(dst, &tl, err);
    for (size_t i = 0; rc == CF_OK && i < sl->n; i++)
        if (!plist_has(&tl, sl->v[i].plugin, sl->v[i].table))
            rc = cf__fail(err, CF_EINVAL,
                          "the source holds the table %s of the plugin '%s', which the target has not: give the "
                          "plugin (certflow --plugins, or cf_options.plugin_dir) so that its own migrations create its "
                          "tables in the target's SQL dialect, and copy again; nothing was copied",
                          sl->v[i].table, sl->v[i].plugin);
    for (int i = 0; rc == CF_OK && cf__copy_tables[i].name; i++) {
        copy_ctx c = {src, dst, &cf__copy_tables[i], NULL, NULL, 0, err};
        int64_t before = 0;
        rc = cf__store_copy_count(dst, c.t, &before, err);
        if (rc == CF_OK)
            rc = cf__store_copy_each(src, c.t, put_row, &c, err);
        if (rc != CF_OK)
            cf__err_prefix(err, "copying the table %s", c.t->name);
        counts[i] = before + c.inserted;
    }
    if (rc == CF_OK)
        rc = cf__store_copy_finish(dst, err);
    for (size_t i = 0; rc == CF_OK && i < sl->n; i++) {
        copy_ctx c = {src, dst, NULL, sl->v[i].plugin, sl->v[i].table, 0, err};
        rc = cf__store_copy_plugin_each(src, c.plugin, c.table, put_plugin_row, &c, err);
        if (rc == CF_OK)
            rc = cf__store_copy_plugin_count(src, c.plugin, c.table, &sl->v[i].rows, err);
        if (rc == CF_OK)
            rc = cf__store_copy_plugin_finish(dst, c.plugin, c.table, err);
        if (rc != CF_OK)
            cf__err_prefix(err, "copying the table %s of the plugin '%s'", c.table, c.plugin);
    }
    if (rc == CF_OK && write_open) {
        rc = cf__store_commit(dst, err);
        write_open = false;
    }
    if (write_open)
        cf__store_rollback(dst);
    if (read_open)
        cf__store_rollback(src);
    plist_free(&tl);
    cf__store_close(dst);
    cf__store_close(src);
    return rc;
}

/* Step 4: the target's counts against the source's, then its own verify (opened
 * as the county runs it: opts as given, so that the definitions are checked against the policies). */
static int check_copy(const char *to, const cf_options *opts, const int64_t *counts, const plist *sl, cf_copy_fn fn,
                      void *ud, cf__err *err)
{
    cf__store *dst = NULL;
    int rc = cf__store_open_read_only(to, COPY_BUSY_MS, &dst, err);
    int64_t got[16] = {0};
    for (int i = 0; rc == CF_OK && cf__copy_tables[i].name; i++) {
        rc = cf__store_copy_count(dst, &cf__copy_tables[i], &got[i], err);
        if (rc == CF_OK && got[i] != counts[i])
            rc = cf__fail(err, CF_ECORRUPT,
                          "the copy in %s has %lld rows in %s where %lld were copied: do not use it; remove it and "
                          "copy again",
                          to, (long long)got[i], cf__copy_tables[i].name, (long long)counts[i]);
    }
    for (size_t i = 0; rc == CF_OK && i < sl->n; i++) {
        int64_t n = 0;
        rc = cf__store_copy_plugin_count(dst, sl->v[i].plugin, sl->v[i].table, &n, err);
        if (rc == CF_OK && n != sl->v[i].rows)
            rc = cf__fail(err, CF_ECORRUPT,
                          "the copy in %s has %lld rows in the plugin table %s where the source has %lld: do not use "
                          "it; remove it and copy again",
                          to, (long long)n, sl->v[i].table, (long long)sl->v[i].rows);
    }
    if (dst)
        cf__store_close(dst);
    if (rc != CF_OK)
        return rc;
    cf_engine *e = NULL;
    rc = cf_engine_open(to, opts, &e);
    if (rc == CF_OK) {
        cf_verify_report rep = CF_VERIFY_REPORT_INIT;
        rc = cf_engine_verify_full(e, NULL, NULL, NULL, &rep);
    }
    if (rc != CF_OK) {
        cf__fail(err, rc,
                 "the copy was written to %s but does not verify there (%s): do not use it; remove it and copy "
                 "again, and run certflow verify on the source",
                 to, e ? cf_errmsg(e) : "out of memory");
        cf_engine_close(e);
        return rc;
    }
    cf_engine_close(e);
    bool stop = false;
    for (int i = 0; fn && !stop && cf__copy_tables[i].name; i++)
        stop = fn(ud, cf__copy_tables[i].name, got[i]) != 0;
    for (size_t i = 0; fn && !stop && i < sl->n; i++)
        stop = fn(ud, sl->v[i].table, sl->v[i].rows) != 0;
    return CF_OK;
}

int cf_store_copy(const char *from, const char *to, const cf_options *opts, cf_copy_fn fn, void *ud, char *msg,
                  size_t msg_size)
{
    cf__err err = {{0}};
    set_msg(msg, msg_size, "");
    if (!from || !to || !*from || !*to) {
        set_msg(msg, msg_size,
                "store copy needs a source and a target (a SQLite file or a PostgreSQL connection string)");
        return CF_EINVAL;
    }
    if (!strcmp(from, to)) {
        set_msg(msg, msg_size, "the source and the target are the same database: give another target");
        return CF_EINVAL;
    }
    if (opts && opts->size < sizeof(size_t)) {
        set_msg(msg, msg_size, "options.size is not set (start from CF_OPTIONS_INIT)");
        return CF_EINVAL;
    }
    /* Only the plugins (and their configuration) matter here: no workflows or policies are loaded. */
    cf_options o = CF_OPTIONS_INIT;
    if (opts) {
        o.plugin_dir = opts->plugin_dir;
        o.plugin_config = opts->plugin_config;
    }
    int rc = check_empty(to, &err);
    if (rc == CF_OK && o.plugin_dir) {
        cf_engine *e = NULL;
        rc = cf_engine_open(to, &o, &e);
        if (rc != CF_OK)
            cf__fail(&err, rc, "opening the target %s with the plugins: %s", to,
                     e ? cf_errmsg(e) : "out of memory");
        cf_engine_close(e);
    }
    int64_t counts[16] = {0};
    plist sl = {0};
    if (rc == CF_OK)
        rc = copy_all(from, to, counts, &sl, &err);
    if (rc == CF_OK)
        rc = check_copy(to, opts, counts, &sl, fn, ud, &err);
    plist_free(&sl);
    if (rc != CF_OK)
        set_msg(msg, msg_size, err.msg);
    return rc;
}
