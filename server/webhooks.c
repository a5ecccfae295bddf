/*
 * webhooks.c — the webhook deliverer of certflow serve (docs/server.md,
 * "Webhooks"): one thread, with its own engine handle, POSTs each registry
 * change (changes.c) of a subscription's county to its URL with libcurl, in
 * history order, one change per request, signed:
 *   Certflow-Timestamp: UNIX seconds when sent (a receiver refuses old ones: replay)
 *   Certflow-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body))
 * A subscription's outbox is the history after its cursor (cf_webhook_*): the
 * cursor moves only after the receiver answered 2xx, so a delivery cut by a
 * crash, a kill or a failed receiver is sent again (at least once, never lost,
 * in order). A failure is retried after 1, 2, 4... seconds (at most
 * BACKOFF_MAX) while that subscription's later changes wait; other
 * subscriptions go on. The thread wakes when a write is answered here, and
 * otherwise reads the store every POLL_S seconds (changes of other processes).
 */
#include "server.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_S 1.0
#define BACKOFF_MAX 600.0
#define BATCH 50           /* changes read per subscription per round */
#define SEND_TIMEOUT_S 10L

typedef struct sub {
    int64_t id, cursor, attempts;
    char *name, *county, *url, *secret;
    double retry_at; /* monotonic; 0: now */
} sub;

struct srv_hooks {
    const srv_config *cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
    unsigned long wakes;
    /* the thread's own: */
    sub *subs;
    size_t nsubs;
    CURL *curl;
};

static void sub_free(sub *w)
{
    free(w->name);
    free(w->county);
    free(w->url);
    free(w->secret);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- the subscriptions, as stored; the retry times kept across reloads ---- */

typedef struct load {
    sub *subs;
    size_t n, cap;
    int oom;
} load;

static int on_webhook(void *ud, const cf_webhook_info *info)
{
    load *l = ud;
    if (info->removed_at)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        sub *n = realloc(l->subs, cap * sizeof *n);
        if (!n) {
            l->oom = 1;
            return 1;
        }
        l->subs = n;
        l->cap = cap;
    }
    sub *w = &l->subs[l->n];
    memset(w, 0, sizeof *w);
    w->id = info->id;
    w->cursor = info->cursor;
    w->attempts = info->attempts;
    w->name = strdup(info->name);
    w->county = dup_or_null(info->county);
    w->url = strdup(info->url);
    w->secret = strdup(info->secret);
    l->n++;
    if (!w->name || !w->url || !w->secret || (info->county && !w->county)) {
        l->oom = 1;
        return 1;
    }
    return 0;
}

static int reload(srv_hooks *h, cf_engine *e)
{
    load l = {0};
    int rc = cf_webhook_list(e, on_webhook, &l);
    if (rc == CF_OK && l.oom)
        rc = CF_ENOMEM;
    if (rc != CF_OK) {
        for (size_t i = 0; i < l.n; i++)
            sub_free(&l.subs[i]);
        free(l.subs);
        return rc;
    }
    for (size_t i = 0; i < l.n; i++) /* a subscription waiting to retry keeps waiting */
        for (size_t j = 0; j < h->nsubs; j++)
            if (h->subs[j].id == l.subs[i].id)
                l.subs[i].retry_at = h->subs[j].retry_at;
    for (size_t j = 0; j < h->nsubs; j++)
        sub_free(&h->subs[j]);
    free(h->subs);
    h->subs = l.subs;
    h->nsubs = l.n;
    return CF_OK;
}

/* ---- one POST ---- */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int abort_if_stopping(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    srv_hooks *h = ud;
    pthread_mutex_lock(&h->lock);
    int stop = h->stopping;
    pthread_mutex_unlock(&h->lock);
    return stop;
}

/* hex(HMAC-SHA256(secret, ts "." body)) into out (65 bytes). 0 or -1. */
int srv_webhook_sign(const char *secret, const char *ts, const char *body, size_t body_len, char out[65])
{
    size_t tl = strlen(ts);
    unsigned char *msg = malloc(tl + 1 + body_len);
    if (!msg)
        return -1;
    memcpy(msg, ts, tl);
    msg[tl] = '.';
    memcpy(msg + tl + 1, body, body_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    unsigned char *r = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, tl + 1 + body_len, mac, &maclen);
    free(msg);
    if (!r || maclen != 32)
        return -1;
    for (unsigned i = 0; i < maclen; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

/* POST body to w: 0 when the receiver answered 2xx, else -1 with why. */
static int post(srv_hooks *h, const sub *w, const char *body, int64_t cursor, char *why, size_t whysz)
{
    char ts[32], sig[65], hdr[5][200];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    if (srv_webhook_sign(w->secret, ts, body, strlen(body), sig) != 0) {
        snprintf(why, whysz, "out of memory signing the delivery");
        return -1;
    }
    snprintf(hdr[0], sizeof hdr[0], "Content-Type: application/json");
    snprintf(hdr[1], sizeof hdr[1], "Certflow-Webhook: %s", w->name);
    snprintf(hdr[2], sizeof hdr[2], "Certflow-Delivery: %lld", (long long)cursor);
    snprintf(hdr[3], sizeof hdr[3], "Certflow-Timestamp: %s", ts);
    snprintf(hdr[4], sizeof hdr[4], "Certflow-Signature: v1=%s", sig);
    struct curl_slist *list = NULL;
    for (int i = 0; i < 5; i++) {
        struct curl_slist *n = curl_slist_append(list, hdr[i]);
        if (!n) {
            curl_slist_free_all(list);
            snprintf(why, whysz, "out of memory building the delivery");
            return -1;
        }
        list = n;
    }
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, SEND_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "certflow/" CF_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_if_stopping);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    if (cc != CURLE_OK) {
        snprintf(why, whysz, "%s", curl_easy_strerror(cc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(why, whysz, "the receiver answered HTTP %ld", status);
        return -1;
    }
    return 0;
}

static double mono(void)
{
    return srv_mono();
}

/* One line on the log: "webhook 'NAME': WHAT WHY" (one call: lines of other threads do not interleave). */
static void log_msg(srv_hooks *h, const char *name, const char *what, const char *why)
{
    if (!h->cfg->log)
        return;
    fprintf(h->cfg->log, "certflow serve: webhook '%s': %s%s\n", name, what, why);
    fflush(h->cfg->log);
}

/* Deliver what w has waiting, in order, until a failure. 1 if more remain now. */
static int deliver(srv_hooks *h, cf_engine *e, sub *w)
{
    json_t *rows = NULL;
    int64_t next = w->cursor;
    int more = 0;
    int rc = srv_changes_read(e, w->cursor, w->county, BATCH, &rows, &next, &more);
    if (rc != CF_OK) {
        log_msg(h, w->name, "reading its changes: ", cf_errmsg(e));
        return 0;
    }
    size_t i;
    json_t *c;
    json_array_foreach(rows, i, c) {
        if (abort_if_stopping(h, 0, 0, 0, 0)) {
            json_decref(rows);
            return 0;
        }
        int64_t cursor = (int64_t)json_integer_value(json_object_get(c, "cursor"));
        char *body = json_dumps(c, JSON_COMPACT | JSON_ENSURE_ASCII);
        char why[256] = "out of memory";
        int ok = body && post(h, w, body, cursor, why, sizeof why) == 0;
        free(body);
        if (!ok) {
            w->attempts++;
            double wait = 1.0;
            for (int64_t k = 1; k < w->attempts && wait < BACKOFF_MAX; k++)
                wait *= 2;
            if (wait > BACKOFF_MAX)
                wait = BACKOFF_MAX;
            w->retry_at = mono() + wait;
            log_msg(h, w->name, "delivery failed, retrying: ", why);
            if (cf_webhook_progress(e, w->id, w->cursor, w->attempts, why) != CF_OK)
                log_msg(h, w->name, "recording a failed delivery: ", cf_errmsg(e));
            json_decref(rows);
            return 0;
        }
        /* acknowledged: the cursor moves past it, durably, before the next is sent */
        w->cursor = cursor;
        w->attempts = 0;
        w->retry_at = 0;
        if (cf_webhook_progress(e, w->id, cursor, 0, NULL) != CF_OK) {
            log_msg(h, w->name, "recording a delivery: ", cf_errmsg(e));
            json_decref(rows);
            return 0;
        }
    }
    json_decref(rows);
    if (next > w->cursor) { /* rows read without a change for it: not read again */
        if (cf_webhook_progress(e, w->id, next, w->attempts, NULL) == CF_OK)
            w->cursor = next;
    }
    return more;
}

static void *run(void *ud)
{
    srv_hooks *h = ud;
    cf_engine *e = NULL;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&h->lock);
        int stop = h->stopping;
        pthread_mutex_unlock(&h->lock);
        if (stop)
            break;
        int busy = 0;
        double soonest = mono() + POLL_S;
        if (!e && cf_engine_open(h->cfg->db, h->cfg->opts, &e) != CF_OK) {
            if (h->cfg->log && e)
                fprintf(h->cfg->log, "certflow serve: webhooks: %s\n", cf_errmsg(e));
            cf_engine_close(e);
            e = NULL;
        }
        if (e && reload(h, e) == CF_OK) {
            for (size_t i = 0; i < h->nsubs; i++) {
                sub *w = &h->subs[i];
                if (w->retry_at > mono()) {
                    if (w->retry_at < soonest)
                        soonest = w->retry_at;
                    continue;
                }
                busy |= deliver(h, e, w);
                if (w->retry_at > 0 && w->retry_at < soonest)
                    soonest = w->retry_at;
            }
        }
        pthread_mutex_lock(&h->lock);
        if (!busy && !h->stopping && h->wakes == seen) {
            struct timespec ts;
            ts.tv_sec = (time_t)soonest;
            ts.tv_nsec = (long)((soonest - (double)ts.tv_sec) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        }
        seen = h->wakes;
        pthread_mutex_unlock(&h->lock);
    }
    cf_engine_close(e);
    return NULL;
}

int srv_hooks_start(const srv_config *cfg, srv_hooks **out, char *err, size_t errsz)
{
    *out = NULL;
    srv_hooks *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    h->cfg = cfg;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        snprintf(err, errsz, "could not start libcurl for the webhooks");
        return -1;
    }
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        curl_easy_cleanup(h->curl);
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->lock);
        free(h);
        snprintf(err, errsz, "could not start the webhook thread");
        return -1;
    }
    *out = h;
    return 0;
}

void srv_hooks_wake(srv_hooks *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->wakes++;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

void srv_hooks_stop(srv_hooks *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    for (size_t i = 0; i < h->nsubs; i++)
        sub_free(&h->subs[i]);
    free(h->subs);
    curl_easy_cleanup(h->curl);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
