/*
 * tokens.c — the SQLite backend's side of API tokens (store.h, "API
 * tokens"): the table cf_api_token of schema version 8 keeps each token's name,
 * role, county, dates and the SHA-256 of its secret, never the secret.
 */
#include "store/sqlite/sqlite_private.h"

#include <string.h>

static cf_time col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

int cf__sqlite_token_add(cf__sqlite *s, const cf__token_row *row, int64_t *id, cf__err *err)
{
    /* A name taken (revoked tokens keep theirs) is the caller's mistake, not a store failure. */
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, "SELECT 1 FROM cf_api_token WHERE name = ?1", &st, "looking up a token name", err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return cf__fail(err, CF_ECONFLICT,
                        "a token named '%s' exists already (revoked tokens keep their names): choose another token name",
                        row->name);
    if (rc != SQLITE_DONE)
        return cf__sqlite_fail(s, rc, "looking up a token name", err);

    r = cf__sqlite_prepare_once(s,
                               "INSERT INTO cf_api_token(name, role, county, secret_hash, created_at, created_by,"
                               " expires_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                               &st, "storing a token", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, row->name, &brc);
    cf__sqlite_bind_text(st, 2, row->role, &brc);
    cf__sqlite_bind_text(st, 3, row->county, &brc);
    cf__sqlite_bind_text(st, 4, row->secret_hash, &brc);
    cf__sqlite_bind_int(st, 5, row->created_at, &brc);
    cf__sqlite_bind_text(st, 6, row->created_by, &brc);
    if (brc == SQLITE_OK)
        brc = row->expires_at ? sqlite3_bind_int64(st, 7, row->expires_at) : sqlite3_bind_null(st, 7);
    r = cf__sqlite_run_once(s, st, brc, "storing a token", err);
    if (r == CF_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return r;
}

int cf__sqlite_token_each(cf__sqlite *s, const char *secret_hash, cf__token_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "SELECT id, name, role, county, secret_hash, created_at, created_by, expires_at,"
                                   " revoked_at, revoked_by FROM cf_api_token WHERE ?1 IS NULL OR secret_hash = ?1"
                                   " ORDER BY id",
                                   &st, "reading the tokens", err);
    if (r != CF_OK)
        return r;
    int rc = secret_hash ? sqlite3_bind_text(st, 1, secret_hash, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 1);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__token_row t;
        memset(&t, 0, sizeof t);
        t.id = sqlite3_column_int64(st, 0);
        t.name = (const char *)sqlite3_column_text(st, 1);
        t.role = (const char *)sqlite3_column_text(st, 2);
        t.county = (const char *)sqlite3_column_text(st, 3);
        t.secret_hash = (const char *)sqlite3_column_text(st, 4);
        t.created_at = sqlite3_column_int64(st, 5);
        t.created_by = (const char *)sqlite3_column_text(st, 6);
        t.expires_at = col_time(st, 7);
        t.revoked_at = col_time(st, 8);
        t.revoked_by = (const char *)sqlite3_column_text(st, 9);
        rc = fn(ud, &t) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "reading the tokens", err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_token_revoke(cf__sqlite *s, const char *name, cf_time at, const char *actor, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "UPDATE cf_api_token SET revoked_at = ?2, revoked_by = ?3"
                                   " WHERE name = ?1 AND revoked_at IS NULL",
                                   &st, "revoking a token", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, name, &brc);
    cf__sqlite_bind_int(st, 2, at, &brc);
    cf__sqlite_bind_text(st, 3, actor, &brc);
    r = cf__sqlite_run_once(s, st, brc, "revoking a token", err);
    if (r == CF_OK && sqlite3_changes(s->db) == 0)
        return cf__fail(err, CF_ENOTFOUND,
                        "no active token named '%s' (list them with cf_token_list; a revoked token stays "
                        "revoked)",
                        name);
    return r;
}
