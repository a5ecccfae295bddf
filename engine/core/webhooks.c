/*
 * webhooks.c — webhook subscriptions for certflow serve (certflow.h, "Webhook
 * subscriptions"): a subscription names a URL, a county (or every county), a
 * generated secret the deliveries are signed with, and a cursor in the history;
 * its outbox is the history after the cursor, so a delivery is never lost and
 * the order per subscriber holds.
 */
#include "internal.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define WEBHOOK_NAME_MAX 128
#define WEBHOOK_URL_MAX 2000

static void to_info(const cf__webhook_row *row, cf_webhook_info *info)
{
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    info->id = row->id;
    info->name = row->name;
    info->county = row->county;
    info->url = row->url;
    info->secret = row->secret;
    info->created_at = row->created_at;
    info->created_by = row->created_by;
    info->removed_at = row->removed_at;
    info->cursor = row->cursor;
    info->attempts = row->attempts;
    info->last_error = row->last_error;
    info->last_attempt_at = row->last_attempt_at;
}

/* 1 if url is http:// or https:// with a host, printable ASCII without spaces. */
static int valid_url(const char *url)
{
    size_t skip = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!skip || !url[skip] || url[skip] == '/' || strlen(url) > WEBHOOK_URL_MAX)
        return 0;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

/* End the transaction a store write ran in: commit it, or roll it back on failure. */
static int end_txn(cf_engine *e, int rc_of_write)
{
    if (rc_of_write == CF_OK)
        return cf__store_commit(e->store, &e->err);
    cf__store_rollback(e->store);
    return rc_of_write;
}

int cf_webhook_create(cf_engine *e, const char *name, const char *county, const char *url, int64_t after,
                      const char *actor, char secret_out[CF_WEBHOOK_SECRET_SIZE])
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!secret_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_webhook_create: no buffer for the secret given");
    secret_out[0] = '\0';
    if (!name || !*name || strlen(name) > WEBHOOK_NAME_MAX)
        return cf__fail(&e->err, CF_EINVAL, "a webhook needs a name of 1 to %d bytes (e.g. alameda-hr)",
                        WEBHOOK_NAME_MAX);
    if ((rc = cf__check_text(&e->err, "the webhook name", name, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "the actor", actor, true)) != CF_OK)
        return rc;
    if (county && !cf__valid_county(county))
        return cf__fail(&e->err, CF_EINVAL,
                        "county '%.64s' is not a county name: use lower case letters, digits and '_' (e.g. san_diego)",
                        county);
    if (!url || !valid_url(url))
        return cf__fail(&e->err, CF_EINVAL,
                        "the webhook URL '%.80s' is not an http:// or https:// URL with a host, of at most %d "
                        "printable characters (e.g. https://hr.example.org/certflow)",
                        url ? url : "", WEBHOOK_URL_MAX);
    if (after < -1)
        return cf__fail(&e->err, CF_EINVAL, "the starting cursor %lld is not a history seq (or -1 for from now on)",
                        (long long)after);

    unsigned char raw[32];
    if (RAND_bytes(raw, (int)sizeof raw) != 1)
        return cf__fail(&e->err, CF_EIO, "could not read random bytes for the webhook secret (is the system's random "
                                         "source available?)");
    char secret[CF_WEBHOOK_SECRET_SIZE];
    memcpy(secret, "whs_", 4);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(secret + 4 + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);

    cf__webhook_row row;
    memset(&row, 0, sizeof row);
    row.name = name;
    row.county = county;
    row.url = url;
    row.secret = secret;
    row.created_at = cf_engine_now(e);
    row.created_by = actor ? actor : "api";
    row.cursor = after;
    rc = cf__store_begin(e->store, &e->err);
    if (rc == CF_OK) {
        int w = CF_OK;
        if (after < 0) { /* from the head now, read in the same transaction */
            char hash[CF__HASH_HEX];
            w = cf__audit_head(e->store, &row.cursor, hash, &e->err);
        }
        int64_t id = 0;
        if (w == CF_OK)
            w = cf__store_webhook_add(e->store, &row, &id, &e->err);
        rc = end_txn(e, w);
    }
    if (rc == CF_OK)
        memcpy(secret_out, secret, sizeof secret);
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

typedef struct list_walk {
    cf_webhook_fn fn;
    void *ud;
} list_walk;

static int list_row(void *ud, const cf__webhook_row *row)
{
    list_walk *w = ud;
    cf_webhook_info info;
    to_info(row, &info);
    return w->fn(w->ud, &info);
}

int cf_webhook_list(cf_engine *e, cf_webhook_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_webhook_list: no callback given");
    list_walk w = {fn, ud};
    return cf__store_webhook_each(e->store, list_row, &w, &e->err);
}

int cf_webhook_remove(cf_engine *e, const char *name, const char *actor)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !*name)
        return cf__fail(&e->err, CF_EINVAL, "give the name of the webhook to remove");
    if ((rc = cf__check_text(&e->err, "the webhook name", name, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "the actor", actor, true)) != CF_OK)
        return rc;
    rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    return end_txn(e, cf__store_webhook_remove(e->store, name, cf_engine_now(e), actor ? actor : "api", &e->err));
}

int cf_webhook_progress(cf_engine *e, int64_t id, int64_t cursor, int64_t attempts, const char *last_error)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (cursor < 0 || attempts < 0)
        return cf__fail(&e->err, CF_EINVAL, "cf_webhook_progress: the cursor and the attempts are never negative");
    if (last_error && (rc = cf__check_text(&e->err, "the delivery error", last_error, true)) != CF_OK)
        return rc;
    rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    return end_txn(e, cf__store_webhook_progress(e->store, id, cursor, attempts, last_error, cf_engine_now(e), &e->err));
}
