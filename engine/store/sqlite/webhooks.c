/*
 * webhooks.c — the SQLite backend's side of webhook subscriptions (store.h,
 * "webhook subscriptions"): the table cf_webhook of schema version 10 keeps each
 * subscription's URL, county, secret, and its cursor in the history, which moves
 * only when its receiver acknowledged a delivery.
 */
#include "store/sqlite/sqlite_private.h"

#include <string.h>

static cf_time col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

int cf__sqlite_webhook_add(cf__sqlite *s, const cf__webhook_row *row, int64_t *id, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, "SELECT 1 FROM cf_webhook WHERE name = ?1", &st, "looking up a webhook name",
                                   err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return cf__fail(err, CF_ECONFLICT,
                        "a webhook named '%s' exists already (removed ones keep their names): choose another name",
                        row->name);
    if (rc != SQLITE_DONE)
        return cf__sqlite_fail(s, rc, "looking up a webhook name", err);
    r = cf__sqlite_prepare_once(s,
                               "INSERT INTO cf_webhook(name, county, url, secret, created_at, created_by, cursor)"
                               " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                               &st, "storing a webhook", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, row->name, &brc);
    cf__sqlite_bind_text(st, 2, row->county, &brc);
    cf__sqlite_bind_text(st, 3, row->url, &brc);
    cf__sqlite_bind_text(st, 4, row->secret, &brc);
    cf__sqlite_bind_int(st, 5, row->created_at, &brc);
    cf__sqlite_bind_text(st, 6, row->created_by, &brc);
    cf__sqlite_bind_int(st, 7, row->cursor, &brc);
    r = cf__sqlite_run_once(s, st, brc, "storing a webhook", err);
    if (r == CF_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return r;
}

int cf__sqlite_webhook_each(cf__sqlite *s, cf__webhook_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "SELECT id, name, county, url, secret, created_at, created_by, removed_at,"
                                   " removed_by, cursor, attempts, last_error, last_attempt_at FROM cf_webhook"
                                   " ORDER BY id",
                                   &st, "reading the webhooks", err);
    if (r != CF_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__webhook_row w;
        memset(&w, 0, sizeof w);
        w.id = sqlite3_column_int64(st, 0);
        w.name = (const char *)sqlite3_column_text(st, 1);
        w.county = (const char *)sqlite3_column_text(st, 2);
        w.url = (const char *)sqlite3_column_text(st, 3);
        w.secret = (const char *)sqlite3_column_text(st, 4);
        w.created_at = sqlite3_column_int64(st, 5);
        w.created_by = (const char *)sqlite3_column_text(st, 6);
        w.removed_at = col_time(st, 7);
        w.removed_by = (const char *)sqlite3_column_text(st, 8);
        w.cursor = sqlite3_column_int64(st, 9);
        w.attempts = sqlite3_column_int64(st, 10);
        w.last_error = (const char *)sqlite3_column_text(st, 11);
        w.last_attempt_at = col_time(st, 12);
        if (fn(ud, &w) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "reading the webhooks", err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_webhook_remove(cf__sqlite *s, const char *name, cf_time at, const char *actor, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "UPDATE cf_webhook SET removed_at = ?2, removed_by = ?3"
                                   " WHERE name = ?1 AND removed_at IS NULL",
                                   &st, "removing a webhook", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, name, &brc);
    cf__sqlite_bind_int(st, 2, at, &brc);
    cf__sqlite_bind_text(st, 3, actor, &brc);
    r = cf__sqlite_run_once(s, st, brc, "removing a webhook", err);
    if (r == CF_OK && sqlite3_changes(s->db) == 0)
        return cf__fail(err, CF_ENOTFOUND, "no active webhook named '%s' (list them with `certflow webhook list`)",
                        name);
    return r;
}

int cf__sqlite_webhook_progress(cf__sqlite *s, int64_t id, int64_t cursor, int64_t attempts, const char *last_error,
                                cf_time at, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "UPDATE cf_webhook SET cursor = max(cursor, ?2), attempts = ?3, last_error = ?4,"
                                   " last_attempt_at = ?5 WHERE id = ?1 AND removed_at IS NULL",
                                   &st, "recording a webhook delivery", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_int(st, 1, id, &brc);
    cf__sqlite_bind_int(st, 2, cursor, &brc);
    cf__sqlite_bind_int(st, 3, attempts, &brc);
    cf__sqlite_bind_text(st, 4, last_error, &brc);
    cf__sqlite_bind_int(st, 5, at, &brc);
    r = cf__sqlite_run_once(s, st, brc, "recording a webhook delivery", err);
    if (r == CF_OK && sqlite3_changes(s->db) == 0)
        return cf__fail(err, CF_ENOTFOUND, "no active webhook with id %lld: it was removed", (long long)id);
    return r;
}
