/*
 * webhooks_api.c — /v1/webhooks of certflow serve (docs/server.md, "Webhooks"):
 *   GET    /v1/webhooks         the subscriptions the caller may see (never their secrets)
 *   POST   /v1/webhooks         subscribe {"name", "url", "county"?, "after"?}: the secret once
 *   DELETE /v1/webhooks/{name}  remove one
 * The state's admin token manages any county's (or every county's: no county);
 * a county or integration token only its own county's, and another county's
 * subscription answers exactly like a missing one.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int limited(const srv_principal *who)
{
    return who->role == SRV_COUNTY || who->role == SRV_INTEGRATION;
}

static json_t *public_json(const cf_webhook_info *w)
{
    char created[32], attempted[32] = "";
    cf_time_format(w->created_at, created, sizeof created);
    if (w->last_attempt_at)
        cf_time_format(w->last_attempt_at, attempted, sizeof attempted);
    return json_pack("{s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "name", w->name, "county",
                     w->county ? json_string(w->county) : json_null(), "url", w->url, "created_at", created,
                     "created_by", w->created_by ? w->created_by : "", "cursor", (json_int_t)w->cursor, "attempts",
                     (json_int_t)w->attempts, "last_error", w->last_error ? json_string(w->last_error) : json_null(),
                     "last_attempt_at", w->last_attempt_at ? json_string(attempted) : json_null());
}

typedef struct listing {
    const srv_principal *who;
    json_t *rows;
    int oom;
    const char *name; /* find this one (active) instead of listing */
    int found;
} listing;

static int visible(const srv_principal *who, const cf_webhook_info *w)
{
    return !limited(who) || (w->county && strcmp(w->county, who->county) == 0);
}

static int on_list(void *ud, const cf_webhook_info *w)
{
    listing *l = ud;
    if (w->removed_at || !visible(l->who, w))
        return 0;
    if (l->name) {
        if (strcmp(w->name, l->name) == 0)
            l->found = 1;
        return l->found;
    }
    json_t *row = public_json(w);
    if (!row || json_array_append_new(l->rows, row) != 0) {
        l->oom = 1;
        return 1;
    }
    return 0;
}

void srv_webhooks_list(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    listing l = {rq->who, json_array(), 0, NULL, 0};
    if (!l.rows) {
        srv_http_error(out, 500, "CF_ENOMEM", "out of memory");
        return;
    }
    int rc = cf_webhook_list(rq->e, on_list, &l);
    if (rc == CF_OK && l.oom)
        rc = CF_ENOMEM;
    if (rc != CF_OK) {
        json_decref(l.rows);
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = json_pack("{s:o}", "webhooks", l.rows);
}

void srv_webhooks_create(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    json_error_t jerr;
    json_t *body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        json_decref(body);
        srv_http_error(out, 400, "CF_EJSON",
                       "the request body is not a JSON object: send e.g. {\"name\": \"alameda-hr\", \"url\": "
                       "\"https://hr.example.org/certflow\"}");
        return;
    }
    json_t *jn = json_object_get(body, "name"), *ju = json_object_get(body, "url"),
           *jc = json_object_get(body, "county"), *ja = json_object_get(body, "after");
    const char *name = json_string_value(jn), *url = json_string_value(ju), *county = json_string_value(jc);
    if (!name || !url || (jc && !json_is_null(jc) && !county) || (ja && !json_is_integer(ja))) {
        json_decref(body);
        srv_http_error(out, 400, "CF_EINVAL",
                       "give \"name\" and \"url\" as strings, and optionally \"county\" (a string) and \"after\" (a "
                       "history seq: changes after it; default: from now on)");
        return;
    }
    if (limited(rq->who)) {
        if (county && strcmp(county, rq->who->county) != 0) {
            json_decref(body);
            srv_http_error(out, 403, "HTTP_FORBIDDEN", "this token may only subscribe to the changes of county %s",
                           rq->who->county);
            return;
        }
        county = rq->who->county;
    }
    int64_t after = ja ? (int64_t)json_integer_value(ja) : -1;
    char secret[CF_WEBHOOK_SECRET_SIZE];
    int rc = cf_webhook_create(rq->e, name, county, url, after, rq->who->name, secret);
    if (rc != CF_OK) {
        json_decref(body);
        srv_fail(out, rq->e, rc);
        return;
    }
    out->status = 201;
    out->body = json_pack("{s:s, s:o, s:s, s:s}", "name", name, "county", county ? json_string(county) : json_null(),
                          "url", url, "secret", secret);
    memset(secret, 0, sizeof secret);
    json_decref(body);
}

void srv_webhooks_remove(const srv_request *rq, srv_response *out, const char *const *p)
{
    const char *name = p[0];
    listing l = {rq->who, NULL, 0, name, 0};
    int rc = cf_webhook_list(rq->e, on_list, &l);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return;
    }
    if (!l.found) { /* missing, removed, or another county's: one answer */
        char msg[256];
        snprintf(msg, sizeof msg, "no active webhook named '%.100s' (list them with GET /v1/webhooks)", name);
        out->status = 404;
        out->body = srv_error_json(CF_ENOTFOUND, "CF_ENOTFOUND", msg);
        return;
    }
    rc = cf_webhook_remove(rq->e, name, rq->who->name);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = json_pack("{s:s, s:b}", "name", name, "removed", 1);
}
