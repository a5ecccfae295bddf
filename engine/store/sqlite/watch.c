/*
 * watch.c — the SQLite backend's window onto a transaction's own writes,
 * for cf_instance_explain: the rows SQLite reports as written (update hook) are
 * read back before the transaction is rolled back, so that a preview shows
 * exactly what a fire would have written and leaves nothing behind.
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void watch_hook(void *ud, int op, const char *dbname, const char *table, sqlite3_int64 rowid)
{
    cf__sqlite *s = ud;
    if (strcmp(dbname, "main") != 0 || s->watch_oom)
        return;
    for (size_t i = 0; i < s->nwatched; i++)
        if (s->watched[i].rowid == rowid && strcmp(s->watched[i].table, table) == 0) {
            if (op == SQLITE_DELETE)
                s->watched[i].op = SQLITE_DELETE;
            else if (s->watched[i].op == SQLITE_DELETE)
                s->watched[i].op = SQLITE_UPDATE; /* deleted, then written again */
            return;
        }
    if (s->nwatched == s->capwatched) {
        size_t cap = s->capwatched ? s->capwatched * 2 : 16;
        struct cf__watched *w = realloc(s->watched, cap * sizeof *w);
        if (!w) {
            s->watch_oom = true;
            return;
        }
        s->watched = w;
        s->capwatched = cap;
    }
    char *name = cf__strdup(table);
    if (!name) {
        s->watch_oom = true;
        return;
    }
    s->watched[s->nwatched++] = (struct cf__watched){name, op, rowid};
}

void cf__sqlite_watch_begin(cf__sqlite *s)
{
    cf__sqlite_watch_end(s);
    s->watch_queued = s->queued;
    s->watching = true;
    sqlite3_update_hook(s->db, watch_hook, s);
}

/* The row `rowid` of `table` as a JSON object (*out NULL when it is gone). The
 * table's name is the one SQLite reported to the hook, quoted as an identifier;
 * the row id is bound. */
static int watched_row(cf__sqlite *s, const char *table, sqlite3_int64 rowid, json_t **out, cf__err *err)
{
    *out = NULL;
    cf__buf sql = {0};
    cf__buf_puts(&sql, "SELECT * FROM \"");
    for (const char *c = table; *c; c++)
        cf__buf_append(&sql, *c == '"' ? "\"\"" : c, *c == '"' ? 2 : 1);
    cf__buf_puts(&sql, "\" WHERE rowid = ?1");
    if (sql.oom || !sql.data) {
        cf__buf_free(&sql);
        return cf__fail(err, CF_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, sql.data, &st, "reading a row the preview wrote", err);
    cf__buf_free(&sql);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_int64(st, 1, rowid);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *row = json_object();
        int n = sqlite3_column_count(st);
        for (int i = 0; row && i < n; i++) {
            json_t *v = NULL;
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(st, i)); break;
            case SQLITE_FLOAT: v = json_real(sqlite3_column_double(st, i)); break;
            case SQLITE_TEXT:
                v = json_stringn((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
                break;
            default: v = json_null(); break; /* NULL, or a blob: shown as null */
            }
            if (json_object_set_new(row, sqlite3_column_name(st, i), v ? v : json_null()) != 0) {
                json_decref(row);
                row = NULL;
            }
        }
        if (!row)
            r = cf__fail(err, CF_ENOMEM, "out of memory");
        *out = row;
    } else if (rc != SQLITE_DONE) {
        r = cf__sqlite_fail(s, rc, "reading a row the preview wrote", err);
    }
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_watch_each(cf__sqlite *s, cf__watched_fn fn, void *ud, cf__err *err)
{
    if (s->watch_oom)
        return cf__fail(err, CF_ENOMEM, "out of memory recording the rows a preview wrote");
    /* Reading runs no hook, but stop recording first all the same. */
    sqlite3_update_hook(s->db, NULL, NULL);
    for (size_t i = 0; i < s->nwatched; i++) {
        const struct cf__watched *w = &s->watched[i];
        json_t *row = NULL;
        if (w->op != SQLITE_DELETE) {
            int r = watched_row(s, w->table, w->rowid, &row, err);
            if (r != CF_OK)
                return r;
        }
        const char *op = w->op == SQLITE_INSERT ? "insert" : w->op == SQLITE_UPDATE ? "update" : "delete";
        int stop = fn(ud, w->table, op, row);
        json_decref(row);
        if (stop)
            break;
    }
    return CF_OK;
}

void cf__sqlite_watch_end(cf__sqlite *s)
{
    if (!s)
        return;
    if (s->watching) {
        sqlite3_update_hook(s->db, NULL, NULL);
        s->queued = s->watch_queued;
        s->watching = false;
    }
    cf__sqlite_watch_forget(s);
}
