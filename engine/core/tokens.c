/*
 * tokens.c — API tokens for certflow serve (certflow.h, "API tokens"): a token
 * is a random secret shown once; the store keeps its SHA-256, its name, role,
 * county and dates. Checking a secret hashes it and looks the hash up.
 */
#include "internal.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PREFIX "cft_"
#define TOKEN_NAME_MAX 128

static int valid_secret(const char *s)
{
    if (strncmp(s, TOKEN_PREFIX, 4) != 0)
        return 0;
    size_t n = 0;
    for (const char *p = s + 4; *p; p++, n++)
        if (n >= 64 || !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return n == 64;
}

static void to_info(const cf__token_row *row, cf_token_info *info)
{
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    info->id = row->id;
    info->name = row->name;
    info->role = row->role;
    info->county = row->county;
    info->created_at = row->created_at;
    info->created_by = row->created_by;
    info->expires_at = row->expires_at;
    info->revoked_at = row->revoked_at;
}

int cf_token_create(cf_engine *e, const char *name, const char *role, const char *county, cf_time expires_at,
                    const char *actor, char secret_out[CF_TOKEN_SECRET_SIZE])
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!secret_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_token_create: no buffer for the secret given");
    secret_out[0] = '\0';
    if (!name || !*name || strlen(name) > TOKEN_NAME_MAX)
        return cf__fail(&e->err, CF_EINVAL, "a token needs a name of 1 to %d bytes (e.g. alameda-intake)",
                        TOKEN_NAME_MAX);
    if ((rc = cf__check_text(&e->err, "the token name", name, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "the actor", actor, true)) != CF_OK)
        return rc;
    int admin = role && strcmp(role, "admin") == 0;
    if (!role || (!admin && strcmp(role, "county") != 0 && strcmp(role, "integration") != 0))
        return cf__fail(&e->err, CF_EINVAL, "role '%.40s' is not a token role: use admin, county or integration",
                        role ? role : "");
    if (admin && county)
        return cf__fail(&e->err, CF_EINVAL,
                        "an admin token acts for the whole state: give no county (or use role county)");
    if (!admin && !county)
        return cf__fail(&e->err, CF_EINVAL, "a %s token is for one county: give it (e.g. --county alameda)", role);
    if (county && !cf__valid_county(county))
        return cf__fail(&e->err, CF_EINVAL,
                        "county '%.64s' is not a county name: use lower case letters, digits and '_' (e.g. san_diego)",
                        county);
    cf_time now = cf_engine_now(e);
    if (expires_at != 0 && expires_at <= now)
        return cf__fail(&e->err, CF_EINVAL,
                        "the token would expire before it is made: give an expiry after the clock's now");

    unsigned char raw[32];
    if (RAND_bytes(raw, (int)sizeof raw) != 1)
        return cf__fail(&e->err, CF_EIO, "could not read random bytes for the token (is the system's random "
                                         "source available?)");
    char secret[CF_TOKEN_SECRET_SIZE];
    memcpy(secret, TOKEN_PREFIX, 4);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(secret + 4 + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    char hash[CF__HASH_HEX];
    cf__sha256_hex(secret, strlen(secret), hash);

    cf__token_row row;
    memset(&row, 0, sizeof row);
    row.name = name;
    row.role = role;
    row.county = county;
    row.secret_hash = hash;
    row.created_at = now;
    row.created_by = actor ? actor : "api";
    row.expires_at = expires_at;
    int64_t id = 0;
    rc = cf__store_begin(e->store, &e->err);
    if (rc == CF_OK) {
        rc = cf__store_token_add(e->store, &row, &id, &e->err);
        if (rc == CF_OK)
            rc = cf__store_commit(e->store, &e->err);
        else
            cf__store_rollback(e->store);
    }
    if (rc == CF_OK)
        memcpy(secret_out, secret, sizeof secret);
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

typedef struct verify_walk {
    cf_engine *e;
    cf_token_fn fn;
    void *ud;
    int found;
    int rc;
} verify_walk;

static int verify_row(void *ud, const cf__token_row *row)
{
    verify_walk *w = ud;
    w->found = 1;
    char when[32];
    if (row->revoked_at) {
        cf_time_format(row->revoked_at, when, sizeof when);
        w->rc = cf__fail(&w->e->err, CF_ENOTFOUND, "token '%s' was revoked at %s: ask for a new one", row->name, when);
        return 1;
    }
    if (row->expires_at && cf_engine_now(w->e) >= row->expires_at) {
        cf_time_format(row->expires_at, when, sizeof when);
        w->rc = cf__fail(&w->e->err, CF_ENOTFOUND, "token '%s' expired at %s: ask for a new one", row->name, when);
        return 1;
    }
    cf_token_info info;
    to_info(row, &info);
    if (w->fn)
        w->fn(w->ud, &info);
    return 1;
}

int cf_token_verify(cf_engine *e, const char *secret, cf_token_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!secret || !valid_secret(secret))
        return cf__fail(&e->err, CF_EINVAL,
                        "that is not a certflow token (a token is cft_ and 64 hex digits, as token create printed it)");
    char hash[CF__HASH_HEX];
    cf__sha256_hex(secret, strlen(secret), hash);
    verify_walk w = {e, fn, ud, 0, CF_OK};
    rc = cf__store_token_each(e->store, hash, verify_row, &w, &e->err);
    if (rc != CF_OK)
        return rc;
    if (!w.found)
        return cf__fail(&e->err, CF_ENOTFOUND, "unknown token (it was never created here, or mistyped)");
    return w.rc;
}

int cf_token_revoke(cf_engine *e, const char *name, const char *actor)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !*name)
        return cf__fail(&e->err, CF_EINVAL, "give the name of the token to revoke");
    if ((rc = cf__check_text(&e->err, "the token name", name, true)) != CF_OK ||
        (rc = cf__check_text(&e->err, "the actor", actor, true)) != CF_OK)
        return rc;
    rc = cf__store_begin(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    rc = cf__store_token_revoke(e->store, name, cf_engine_now(e), actor ? actor : "api", &e->err);
    if (rc == CF_OK)
        rc = cf__store_commit(e->store, &e->err);
    else
        cf__store_rollback(e->store);
    return rc;
}

typedef struct list_walk {
    cf_token_fn fn;
    void *ud;
} list_walk;

static int list_row(void *ud, const cf__token_row *row)
{
    list_walk *w = ud;
    cf_token_info info;
    to_info(row, &info);
    return w->fn(w->ud, &info);
}

int cf_token_list(cf_engine *e, cf_token_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_token_list: no callback given");
    list_walk w = {fn, ud};
    return cf__store_token_each(e->store, NULL, list_row, &w, &e->err);
}
