/*
 * copy.c — the SQLite backend's side of store copy (store.h, "copying a whole
 * database"): reads and writes the engine's tables under the names and columns
 * every backend shares. Here the mark and the tokens are cf_integrity_mark and
 * cf_api_token, and an instance's serial is its row id. The SQL is built from the
 * constant table list (cf__copy_tables), never from data; values are bound.
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <string.h>

/* Append name as a quoted SQL identifier ("" doubled inside). */
static void quote(cf__buf *b, const char *name)
{
    cf__buf_append(b, "\"", 1);
    for (const char *c = name; *c; c++)
        cf__buf_append(b, *c == '"' ? "\"\"" : c, *c == '"' ? 2 : 1);
    cf__buf_append(b, "\"", 1);
}

static const char *table_name(const cf__copy_table *t)
{
    if (!strcmp(t->name, "integrity_mark"))
        return "cf_integrity_mark";
    if (!strcmp(t->name, "api_token"))
        return "cf_api_token";
    if (!strcmp(t->name, "webhook"))
        return "cf_webhook";
    return t->name;
}

/* The columns as SQLite names them: the instance's serial is its row id. */
static const char *columns(const cf__copy_table *t)
{
    if (strcmp(t->name, "instance"))
        return t->columns;
    return "rowid, id, workflow, def_hash, county, state, data, created_at, updated_at, version";
}

int cf__sqlite_copy_each(cf__sqlite *s, const cf__copy_table *t, cf__copy_row_fn fn, void *ud, cf__err *err)
{
    char sql[512];
    const char *cols = columns(t);
    const char *comma = strchr(cols, ',');
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %.*s", cols, table_name(t), (int)(comma - cols), cols);
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, sql, &st, "reading the rows to copy", err);
    if (r != CF_OK)
        return r;
    const char *v[32];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < t->ncolumns; i++)
            v[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, i);
        r = fn(ud, v);
        if (r != CF_OK) {
            sqlite3_finalize(st);
            return r;
        }
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "reading the rows to copy", err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_copy_put(cf__sqlite *s, const cf__copy_table *t, const char *const *values, cf__err *err)
{
    char sql[640], marks[128] = "";
    size_t n = 0;
    for (int i = 0; i < t->ncolumns; i++)
        n += (size_t)snprintf(marks + n, sizeof marks - n, i ? ", ?%d" : "?%d", i + 1);
    /* A history row links to its instance's newest row so far (schema 11, history.c):
     * rows come by seq, so that is the instance's previous row. */
    bool history = strcmp(t->name, "history") == 0;
    snprintf(sql, sizeof sql, "INSERT INTO %s(%s%s) VALUES(%s%s)", table_name(t), columns(t),
             history ? ", prev_seq" : "", marks, history ? ", (SELECT last_seq FROM instance WHERE id = ?2)" : "");
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, sql, &st, "writing a copied row", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    for (int i = 0; i < t->ncolumns; i++)
        cf__sqlite_bind_text(st, i + 1, values[i], &brc);
    r = cf__sqlite_run_once(s, st, brc, "writing a copied row", err);
    if (r != CF_OK || !history)
        return r;
    /* ... and is now its newest. */
    r = cf__sqlite_prepare_once(s, "UPDATE instance SET last_seq = ?1 WHERE id = ?2", &st,
                                "linking a copied history row", err);
    if (r != CF_OK)
        return r;
    brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, values[0], &brc); /* seq */
    cf__sqlite_bind_text(st, 2, values[1], &brc); /* instance_id */
    r = cf__sqlite_run_once(s, st, brc, "linking a copied history row", err);
    return r;
}

int cf__sqlite_copy_count(cf__sqlite *s, const cf__copy_table *t, int64_t *rows, cf__err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table_name(t));
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, sql, &st, "counting rows", err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *rows = sqlite3_column_int64(st, 0);
        r = CF_OK;
    } else {
        r = cf__sqlite_fail(s, rc, "counting rows", err);
    }
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_copy_finish(cf__sqlite *s, cf__err *err)
{
    /* Row ids continue after the largest one: nothing to move on. */
    (void)s;
    (void)err;
    return CF_OK;
}

int cf__sqlite_copy_plugin_tables(cf__sqlite *s, cf__copy_plugin_fn fn, void *ud, cf__err *err)
{
    /* A plugin's tables are named <plugin>_... (docs/plugins.md). */
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "SELECT p.plugin, m.name FROM plugin_schema p JOIN sqlite_master m"
                                   " ON m.type = 'table' AND substr(m.name, 1, length(p.plugin) + 1) = p.plugin || '_'"
                                   /* exam_results_x is exam_results's, not a plugin exam's */
                                   " WHERE NOT EXISTS (SELECT 1 FROM plugin_schema q WHERE length(q.plugin) >"
                                   " length(p.plugin) AND substr(m.name, 1, length(q.plugin) + 1) = q.plugin || '_')"
                                   " ORDER BY p.plugin, m.rowid",
                                   &st, "listing the plugin tables", err);
    if (r != CF_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
        if (r != CF_OK) {
            sqlite3_finalize(st);
            return r;
        }
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "listing the plugin tables", err);
    sqlite3_finalize(st);
    return r;
}

/* A plugin table's name is its own (<plugin>_...): plugin only says whose it is. */
int cf__sqlite_copy_plugin_each(cf__sqlite *s, const char *plugin, const char *table, cf__copy_prow_fn fn, void *ud,
                                cf__err *err)
{
    (void)plugin;
    cf__buf q = {0};
    cf__buf_printf(&q, "SELECT * FROM ");
    quote(&q, table);
    cf__buf_printf(&q, " ORDER BY rowid");
    if (q.oom) {
        cf__buf_free(&q);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a plugin table");
    }
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, q.data, &st, "reading a plugin table to copy", err);
    cf__buf_free(&q);
    if (r != CF_OK)
        return r;
    int n = sqlite3_column_count(st);
    if (n > 64) {
        sqlite3_finalize(st);
        return cf__fail(err, CF_EINVAL, "the plugin table %s has %d columns; store copy moves at most 64", table, n);
    }
    const char *names[64], *v[64];
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(st, i);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++)
            v[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, i);
        r = fn(ud, n, names, v);
        if (r != CF_OK) {
            sqlite3_finalize(st);
            return r;
        }
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "reading a plugin table to copy", err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_copy_plugin_put(cf__sqlite *s, const char *plugin, const char *table, int n, const char *const *names,
                               const char *const *values, cf__err *err)
{
    (void)plugin;
    cf__buf q = {0};
    cf__buf_printf(&q, "INSERT INTO ");
    quote(&q, table);
    cf__buf_printf(&q, "(");
    for (int i = 0; i < n; i++) {
        if (i)
            cf__buf_printf(&q, ", ");
        quote(&q, names[i]);
    }
    cf__buf_printf(&q, ") VALUES(");
    for (int i = 0; i < n; i++)
        cf__buf_printf(&q, i ? ", ?%d" : "?%d", i + 1);
    cf__buf_printf(&q, ")");
    if (q.oom) {
        cf__buf_free(&q);
        return cf__fail(err, CF_ENOMEM, "out of memory writing a plugin row");
    }
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, q.data, &st, "writing a copied plugin row", err);
    cf__buf_free(&q);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    for (int i = 0; i < n; i++)
        cf__sqlite_bind_text(st, i + 1, values[i], &brc);
    return cf__sqlite_run_once(s, st, brc, "writing a copied plugin row", err);
}

int cf__sqlite_copy_plugin_count(cf__sqlite *s, const char *plugin, const char *table, int64_t *rows, cf__err *err)
{
    (void)plugin;
    cf__buf q = {0};
    cf__buf_printf(&q, "SELECT count(*) FROM ");
    quote(&q, table);
    if (q.oom) {
        cf__buf_free(&q);
        return cf__fail(err, CF_ENOMEM, "out of memory counting a plugin table");
    }
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, q.data, &st, "counting a plugin table", err);
    cf__buf_free(&q);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *rows = sqlite3_column_int64(st, 0);
        r = CF_OK;
    } else {
        r = cf__sqlite_fail(s, rc, "counting a plugin table", err);
    }
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_copy_plugin_finish(cf__sqlite *s, const char *plugin, const char *table, cf__err *err)
{
    /* Row ids continue after the largest one. */
    (void)s;
    (void)plugin;
    (void)table;
    (void)err;
    return CF_OK;
}
