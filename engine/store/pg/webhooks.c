/*
 * webhooks.c — the PostgreSQL backend's side of webhook subscriptions (store.h,
 * "webhook subscriptions"): the table certflow.webhook (schema version 5) keeps
 * each subscription's URL, county, secret, and its cursor in the history, which
 * moves only when its receiver acknowledged a delivery.
 */
#include "store/pg/pg_private.h"

#include <stdlib.h>
#include <string.h>

static cf_time col_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static const char *col_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int cf__pg_webhook_add(cf__pg *s, const cf__webhook_row *row, int64_t *id, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, row->name);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_WEBHOOK_NAME, &p, &r, "looking up a webhook name", err);
    if (rc != CF_OK)
        return rc;
    bool taken = PQntuples(r) > 0;
    PQclear(r);
    if (taken)
        return cf__fail(err, CF_ECONFLICT,
                        "a webhook named '%s' exists already (removed ones keep their names): choose another name",
                        row->name);
    cf__pgp q = {0};
    cf__pgp_text(&q, row->name);
    cf__pgp_text(&q, row->county);
    cf__pgp_text(&q, row->url);
    cf__pgp_text(&q, row->secret);
    cf__pgp_int(&q, row->created_at);
    cf__pgp_text(&q, row->created_by);
    cf__pgp_int(&q, row->cursor);
    rc = cf__pg_run(s, PG_WEBHOOK_ADD, &q, &r, "storing a webhook", err);
    if (rc != CF_OK)
        return rc;
    if (id)
        *id = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return CF_OK;
}

int cf__pg_webhook_each(cf__pg *s, cf__webhook_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_WEBHOOK_EACH, &p, &r, "reading the webhooks", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__webhook_row w;
        memset(&w, 0, sizeof w);
        w.id = col_int(r, i, 0);
        w.name = col_text(r, i, 1);
        w.county = col_text(r, i, 2);
        w.url = col_text(r, i, 3);
        w.secret = col_text(r, i, 4);
        w.created_at = col_int(r, i, 5);
        w.created_by = col_text(r, i, 6);
        w.removed_at = col_int(r, i, 7);
        w.removed_by = col_text(r, i, 8);
        w.cursor = col_int(r, i, 9);
        w.attempts = col_int(r, i, 10);
        w.last_error = col_text(r, i, 11);
        w.last_attempt_at = col_int(r, i, 12);
        if (fn(ud, &w) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

int cf__pg_webhook_remove(cf__pg *s, const char *name, cf_time at, const char *actor, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, name);
    cf__pgp_int(&p, at);
    cf__pgp_text(&p, actor);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_WEBHOOK_REMOVE, &p, &r, "removing a webhook", err);
    if (rc != CF_OK)
        return rc;
    bool changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!changed)
        return cf__fail(err, CF_ENOTFOUND, "no active webhook named '%s' (list them with `certflow webhook list`)",
                        name);
    return CF_OK;
}

int cf__pg_webhook_progress(cf__pg *s, int64_t id, int64_t cursor, int64_t attempts, const char *last_error,
                            cf_time at, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, id);
    cf__pgp_int(&p, cursor);
    cf__pgp_int(&p, attempts);
    cf__pgp_text(&p, last_error);
    cf__pgp_int(&p, at);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_WEBHOOK_PROGRESS, &p, &r, "recording a webhook delivery", err);
    if (rc != CF_OK)
        return rc;
    bool changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!changed)
        return cf__fail(err, CF_ENOTFOUND, "no active webhook with id %lld: it was removed", (long long)id);
    return CF_OK;
}
