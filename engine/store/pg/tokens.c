/*
 * tokens.c — the PostgreSQL backend's side of API tokens (store.h, "API
 * tokens"): the table certflow.api_token (schema version 4) keeps each token's
 * name, role, county, dates and the SHA-256 of its secret, never the secret.
 */
#include "store/pg/pg_private.h"

#include <stdlib.h>
#include <string.h>

static cf_time col_time(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static const char *col_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int cf__pg_token_add(cf__pg *s, const cf__token_row *row, int64_t *id, cf__err *err)
{
    /* A name taken (revoked tokens keep theirs) is the caller's mistake, not a store failure. */
    cf__pgp p = {0};
    cf__pgp_text(&p, row->name);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TOKEN_NAME, &p, &r, "looking up a token name", err);
    if (rc != CF_OK)
        return rc;
    bool taken = PQntuples(r) > 0;
    PQclear(r);
    if (taken)
        return cf__fail(err, CF_ECONFLICT,
                        "a token named '%s' exists already (revoked tokens keep their names): choose another token name",
                        row->name);
    cf__pgp q = {0};
    cf__pgp_text(&q, row->name);
    cf__pgp_text(&q, row->role);
    cf__pgp_text(&q, row->county);
    cf__pgp_text(&q, row->secret_hash);
    cf__pgp_int(&q, row->created_at);
    cf__pgp_text(&q, row->created_by);
    if (row->expires_at)
        cf__pgp_int(&q, row->expires_at);
    else
        cf__pgp_text(&q, NULL);
    rc = cf__pg_run(s, PG_TOKEN_ADD, &q, &r, "storing a token", err);
    if (rc != CF_OK)
        return rc;
    if (id)
        *id = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return CF_OK;
}

int cf__pg_token_each(cf__pg *s, const char *secret_hash, cf__token_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, secret_hash);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TOKEN_EACH, &p, &r, "reading the tokens", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__token_row t;
        memset(&t, 0, sizeof t);
        t.id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        t.name = col_text(r, i, 1);
        t.role = col_text(r, i, 2);
        t.county = col_text(r, i, 3);
        t.secret_hash = col_text(r, i, 4);
        t.created_at = col_time(r, i, 5);
        t.created_by = col_text(r, i, 6);
        t.expires_at = col_time(r, i, 7);
        t.revoked_at = col_time(r, i, 8);
        t.revoked_by = col_text(r, i, 9);
        if (fn(ud, &t) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

int cf__pg_token_revoke(cf__pg *s, const char *name, cf_time at, const char *actor, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, name);
    cf__pgp_int(&p, at);
    cf__pgp_text(&p, actor);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TOKEN_REVOKE, &p, &r, "revoking a token", err);
    if (rc != CF_OK)
        return rc;
    bool changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!changed)
        return cf__fail(err, CF_ENOTFOUND,
                        "no active token named '%s' (list them with cf_token_list; a revoked token stays "
                        "revoked)",
                        name);
    return CF_OK;
}
