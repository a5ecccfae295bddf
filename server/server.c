/*
 * server.c — the HTTP side of certflow serve (server.h): libmicrohttpd's thread
 * pool, one engine handle per worker thread (opened on its first request, closed
 * when the server stops), request bodies read up to a limit, bearer tokens
 * checked, requests without a valid token rate limited per client address, and a
 * graceful stop that lets the requests in progress finish. A long poll (GET
 * /v1/changes?wait=S) with nothing to answer yet is suspended (libmicrohttpd's
 * MHD_suspend_connection), holding no worker thread; the watcher thread resumes it
 * when the history's head moves (a write answered here wakes it at once; writes of
 * other processes are seen by reading the head every WATCH_POLL seconds) or at its
 * deadline, and the request is answered again from the start.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RATE_SLOTS 1024
#define RATE_PROBE 8
#define WATCH_POLL 0.25 /* seconds between reads of the history's head while long polls wait */

typedef struct rate_slot {
    char addr[INET6_ADDRSTRLEN];
    double tokens;
    double last; /* monotonic seconds */
} rate_slot;

/* One request being read (MHD's per-request pointer). */
typedef struct req {
    char *body;
    size_t len, cap;
    int too_large;
    /* a suspended long poll: */
    struct MHD_Connection *c;
    double wait_until;   /* its deadline (monotonic seconds); 0 before it first waits */
    int64_t head_before; /* the history's head as known before its last read (-1: unknown) */
    struct req *next_waiter;
} req;

struct srv {
    srv_config cfg;
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_key_t key;
    pthread_mutex_t lock; /* engines, rate, and the long polls below */
    cf_engine **engines;
    size_t nengines, capengines;
    rate_slot rate[RATE_SLOTS];
    /* long polls (under lock) */
    pthread_cond_t cond;   /* a waiter added, a write answered here, the stop */
    pthread_t watcher;
    int watcher_started;
    int stopping;
    int64_t head;          /* the history's newest seq, as the watcher last read it; -1 unknown */
    unsigned long writes;  /* writes answered by this process */
    req *waiters;          /* suspended long polls */
    srv_hooks *hooks;      /* the webhook deliverer */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double srv_mono(void)
{
    return mono_now();
}

static void log_line(srv *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void log_line(srv *s, const char *fmt, ...)
{
    if (!s->cfg.log)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Stored values may reach the log (paths): show control characters visibly. */
    char *safe = cli_escape(line, 0);
    fprintf(s->cfg.log, "certflow serve: %s\n", safe ? safe : "(out of memory)");
    fflush(s->cfg.log);
    free(safe);
}

/* ---- rate limit: a token bucket per client address ---- */

static unsigned long hash_addr(const char *a)
{
    unsigned long h = 5381;
    for (; *a; a++)
        h = h * 33 + (unsigned char)*a;
    return h;
}

/* 1 if the address may make one more request without a token now. */
static int rate_take(srv *s, const char *addr)
{
    if (s->cfg.rate_per_min == 0)
        return 1;
    double cap = (double)s->cfg.rate_per_min, per_s = cap / 60.0, now = mono_now();
    pthread_mutex_lock(&s->lock);
    unsigned long h = hash_addr(addr);
    rate_slot *slot = NULL, *oldest = NULL;
    for (unsigned i = 0; i < RATE_PROBE && !slot; i++) {
        rate_slot *r = &s->rate[(h + i) % RATE_SLOTS];
        if (strcmp(r->addr, addr) == 0)
            slot = r;
        else if (!oldest || r->last < oldest->last)
            oldest = r;
    }
    if (!slot) { /* a new address takes the slot used longest ago */
        slot = oldest;
        snprintf(slot->addr, sizeof slot->addr, "%s", addr);
        slot->tokens = cap;
        slot->last = now;
    }
    slot->tokens += (now - slot->last) * per_s;
    if (slot->tokens > cap)
        slot->tokens = cap;
    slot->last = now;
    int ok = slot->tokens >= 1.0;
    if (ok)
        slot->tokens -= 1.0;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* ---- per-thread engines ---- */

static cf_engine *thread_engine(srv *s, int *rc, char *msg, size_t msgsz)
{
    cf_engine *e = pthread_getspecific(s->key);
    if (e)
        return e;
    *rc = cf_engine_open(s->cfg.db, s->cfg.opts, &e);
    if (*rc != CF_OK) {
        snprintf(msg, msgsz, "%s", e ? cf_errmsg(e) : cf_strerror(*rc));
        cf_engine_close(e);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    if (s->nengines == s->capengines) {
        size_t cap = s->capengines ? 2 * s->capengines : 8;
        cf_engine **n = realloc(s->engines, cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&s->lock);
            cf_engine_close(e);
            *rc = CF_ENOMEM;
            snprintf(msg, msgsz, "out of memory opening the database for a worker");
            return NULL;
        }
        s->engines = n;
        s->capengines = cap;
    }
    s->engines[s->nengines++] = e;
    pthread_mutex_unlock(&s->lock);
    pthread_setspecific(s->key, e);
    return e;
}

/* ---- responses ---- */

static enum MHD_Result send_response(struct MHD_Connection *c, srv_response *out)
{
    char *text = NULL;
    size_t len = 0;
    const char *type = "application/json";
    if (out->raw) {
        text = out->raw;
        len = out->raw_len;
        type = out->raw_type ? out->raw_type : "text/plain";
        out->raw = NULL;
    } else {
        if (!out->body) {
            out->status = 500;
            out->body = srv_error_json(CF_ENOMEM, "CF_ENOMEM", "out of memory");
        }
        text = out->body ? json_dumps(out->body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (!text)
            return MHD_NO;
        len = strlen(text);
    }
    json_decref(out->body);
    out->body = NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (out->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"certflow\"");
    if (out->status == 429)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "60");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)out->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- one request ---- */

typedef struct conn_request {
    srv_request rq;
    struct MHD_Connection *c;
} conn_request;

static const char *lookup_query(const srv_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *lookup_header(const srv_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
    snprintf(out, INET6_ADDRSTRLEN, "unknown");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, INET6_ADDRSTRLEN);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, INET6_ADDRSTRLEN);
}

typedef struct token_seen {
    srv_principal *who;
} token_seen;

static int on_token(void *ud, const cf_token_info *t)
{
    srv_principal *who = ud;
    who->role = strcmp(t->role, "admin") == 0 ? SRV_ADMIN : strcmp(t->role, "county") == 0 ? SRV_COUNTY
                                                                                             : SRV_INTEGRATION;
    snprintf(who->name, sizeof who->name, "%s", t->name);
    snprintf(who->county, sizeof who->county, "%s", t->county ? t->county : "");
    return 0;
}

/* Who is asking: 0 (who filled in) or an error response in out. */
static int authenticate(srv *s, cf_engine *e, struct MHD_Connection *c, const char *addr, srv_principal *who,
                        srv_response *out)
{
    memset(who, 0, sizeof *who);
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth) {
        if (!rate_take(s, addr)) {
            srv_http_error(out, 429, "HTTP_TOO_MANY_REQUESTS",
                           "too many requests without a token from %s: wait a minute, or use a token", addr);
            return -1;
        }
        who->role = SRV_PUBLIC;
        return 0;
    }
    const char *why = NULL;
    int rc = CF_EINVAL;
    if (strncasecmp(auth, "Bearer ", 7) != 0) { /* the scheme is case-insensitive (RFC 7235) */
        why = "the Authorization header is not 'Bearer TOKEN'";
    } else {
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        rc = cf_token_verify(e, tok, on_token, who);
        if (rc != CF_OK)
            why = cf_errmsg(e);
    }
    if (rc == CF_OK)
        return 0;
    if (rc != CF_EINVAL && rc != CF_ENOTFOUND) {
        srv_fail(out, e, rc);
        return -1;
    }
    /* Never the token itself: only where from, and why refused. */
    log_line(s, "failed login from %s: %s", addr, why);
    if (!rate_take(s, addr)) {
        srv_http_error(out, 429, "HTTP_TOO_MANY_REQUESTS", "too many failed logins from %s: wait a minute", addr);
        return -1;
    }
    srv_http_error(out, 401, "HTTP_UNAUTHORIZED", "%s", why);
    return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    srv *s = cls;
    (void)version;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || end == cl || n > s->cfg.max_body)
                r->too_large = 1;
        }
        if (r->too_large) { /* answer now: the body is never read */
            srv_response out = {0};
            srv_http_error(&out, 413, "HTTP_PAYLOAD_TOO_LARGE", "the request body is larger than %zu bytes",
                           s->cfg.max_body);
            return send_response(c, &out);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large)
            return MHD_YES;
        if (r->len + n > s->cfg.max_body) {
            r->too_large = 1;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 1024;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *nb = realloc(r->body, cap);
            if (!nb)
                return MHD_NO;
            r->body = nb;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }

    srv_response out = {0};
    char addr[INET6_ADDRSTRLEN];
    client_addr(c, addr);
    if (r->too_large) {
        srv_http_error(&out, 413, "HTTP_PAYLOAD_TOO_LARGE", "the request body is larger than %zu bytes",
                       s->cfg.max_body);
    } else {
        int rc = CF_OK;
        char msg[512] = "";
        cf_engine *e = thread_engine(s, &rc, msg, sizeof msg);
        srv_principal who;
        if (!e) {
            out.status = 503;
            out.body = srv_error_json(rc, cf_result_name(rc), msg);
        } else if (authenticate(s, e, c, addr, &who, &out) == 0) {
            srv_request rq = {0};
            rq.method = method;
            rq.path = url;
            rq.body = r->body ? r->body : "";
            rq.body_len = r->len;
            rq.query = lookup_query;
            rq.header = lookup_header;
            rq.conn = c;
            rq.who = &who;
            rq.e = e;
            rq.wait_until = r->wait_until;
            pthread_mutex_lock(&s->lock);
            int64_t head_before = s->head; /* before the read: a change after it moves the head past this */
            rq.no_wait = s->stopping;
            pthread_mutex_unlock(&s->lock);
            srv_route(&rq, &out);
            if (out.suspend_until > 0) {
                /* Nothing to answer yet: wait without a thread. The check of stopping
                 * and the suspension are one step under the lock, so the stop resumes
                 * every waiter it does not keep from waiting. */
                pthread_mutex_lock(&s->lock);
                if (!s->stopping) {
                    MHD_suspend_connection(c);
                    r->c = c;
                    r->wait_until = out.suspend_until;
                    r->head_before = head_before;
                    r->next_waiter = s->waiters;
                    s->waiters = r;
                    pthread_cond_broadcast(&s->cond);
                    pthread_mutex_unlock(&s->lock);
                    return MHD_YES;
                }
                pthread_mutex_unlock(&s->lock);
                out.suspend_until = 0;
                rq.no_wait = 1;
                srv_route(&rq, &out); /* stopping: answer now with what there is */
            }
            if (strcmp(method, "GET") != 0 && out.status >= 200 && out.status < 300) {
                pthread_mutex_lock(&s->lock); /* a write committed: wake the watcher now */
                s->writes++;
                pthread_cond_broadcast(&s->cond);
                pthread_mutex_unlock(&s->lock);
                srv_hooks_wake(s->hooks); /* and the webhooks */
            }
        }
    }
    log_line(s, "%s %s %s -> %d", addr, method, url, out.status);
    return send_response(c, &out);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    req *r = *con_cls;
    if (r) {
        free(r->body);
        free(r);
    }
    *con_cls = NULL;
}

/* ---- the long polls' watcher ---- */

/* The history's newest seq, or -1 when it cannot be read now. */
static int64_t read_head(srv *s, cf_engine **e)
{
    if (!*e) {
        if (cf_engine_open(s->cfg.db, s->cfg.opts, e) != CF_OK) {
            cf_engine_close(*e);
            *e = NULL;
            return -1;
        }
    }
    char *anchor = NULL;
    int64_t head = -1;
    if (cf_engine_anchor(*e, NULL, 0, &anchor) == CF_OK) {
        const char *p = strstr(anchor, " seq=");
        if (p)
            head = strtoll(p + 5, NULL, 10);
    }
    cf_free(anchor);
    return head;
}

static struct timespec mono_abs(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Resume the waiters whose history moved or whose deadline passed (all of them
 * when the head is unknown); under lock. */
static void wake_waiters(srv *s, int all)
{
    double now = mono_now();
    req **pp = &s->waiters;
    while (*pp) {
        req *w = *pp;
        if (all || s->head < 0 || s->head > w->head_before || now >= w->wait_until) {
            *pp = w->next_waiter;
            w->next_waiter = NULL;
            MHD_resume_connection(w->c);
        } else {
            pp = &w->next_waiter;
        }
    }
}

static void *watch(void *ud)
{
    srv *s = ud;
    cf_engine *e = NULL; /* its own handle, as every thread */
    pthread_mutex_lock(&s->lock);
    unsigned long writes_seen = s->writes;
    while (!s->stopping) {
        if (!s->waiters) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        double now = mono_now(), until = now + WATCH_POLL;
        for (req *w = s->waiters; w; w = w->next_waiter)
            if (w->wait_until < until)
                until = w->wait_until;
        if (s->writes == writes_seen && until > now) {
            struct timespec ts = mono_abs(until);
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
        if (s->stopping)
            break;
        writes_seen = s->writes;
        pthread_mutex_unlock(&s->lock);
        int64_t head = read_head(s, &e);
        pthread_mutex_lock(&s->lock);
        if (head >= 0 && head > s->head)
            s->head = head;
        wake_waiters(s, head < 0);
    }
    pthread_mutex_unlock(&s->lock);
    cf_engine_close(e);
    return NULL;
}

int srv_start(const srv_config *cfg, srv **out, char *err, size_t errsz)
{
    *out = NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, cfg->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(cfg->port);
    } else if (inet_pton(AF_INET6, cfg->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errsz, "'%.80s' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1 or ::1)", cfg->host);
        return -1;
    }
    srv *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    if (pthread_key_create(&s->key, NULL) != 0) {
        free(s);
        snprintf(err, errsz, "could not create the workers' thread key");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->head = -1;
    unsigned threads = cfg->threads ? cfg->threads : 1;
    s->d = MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
                            MHD_OPTION_CONNECTION_LIMIT, 1000u,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errsz, "could not listen on %.80s port %u (%s): is another server using it?", cfg->host,
                 (unsigned)cfg->port, strerror(errno));
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        pthread_key_delete(s->key);
        free(s);
        return -1;
    }
    if (pthread_create(&s->watcher, NULL, watch, s) != 0) {
        snprintf(err, errsz, "could not start the long polls' watcher thread");
        MHD_stop_daemon(s->d);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        pthread_key_delete(s->key);
        free(s);
        return -1;
    }
    s->watcher_started = 1;
    if (srv_hooks_start(&s->cfg, &s->hooks, err, errsz) != 0) {
        MHD_stop_daemon(s->d);
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->watcher, NULL);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        pthread_key_delete(s->key);
        free(s);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return 0;
}

uint16_t srv_port(const srv *s)
{
    return s->port;
}

void srv_stop(srv *s)
{
    if (!s)
        return;
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    /* Long polls answer now with what they have (a suspended connection would
     * never finish), and none waits from here on. */
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    wake_waiters(s, 1);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->watcher_started)
        pthread_join(s->watcher, NULL);
    /* Requests in progress finish (bounded by the connection timeout). */
    double until = mono_now() + (double)(s->cfg.timeout_s ? s->cfg.timeout_s : 30);
    for (;;) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!di || di->num_connections == 0 || mono_now() > until)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    srv_hooks_stop(s->hooks); /* after the requests, which wake it */
    for (size_t i = 0; i < s->nengines; i++)
        cf_engine_close(s->engines[i]);
    free(s->engines);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_key_delete(s->key);
    free(s);
}

/* ---- errors ---- */

int srv_status_of(int rc)
{
    switch (rc) {
    case CF_OK:
        return 200;
    case CF_EINVAL:
    case CF_EJSON:
        return 400;
    case CF_ENOTFOUND:
        return 404;
    case CF_ECONFLICT:
        return 409;
    case CF_REJECTED:
    case CF_EEVENT:
    case CF_ELIMIT:
    case CF_EACTION:
        return 422;
    case CF_EBUSY:
    case CF_EREADONLY:
        return 503;
    case CF_EFULL:
        return 507;
    default:
        return 500;
    }
}

json_t *srv_error_json(int code, const char *name, const char *message)
{
    return json_pack("{s:{s:i, s:s, s:s}}", "error", "code", code, "name", name, "message", message ? message : "");
}

void srv_fail(srv_response *out, cf_engine *e, int rc)
{
    const char *msg = e ? cf_errmsg(e) : "";
    if (!msg || !*msg)
        msg = cf_strerror(rc);
    json_decref(out->body);
    out->status = srv_status_of(rc);
    out->body = srv_error_json(rc, cf_result_name(rc), msg);
}

void srv_http_error(srv_response *out, int status, const char *name, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(out->body);
    out->status = status;
    out->body = srv_error_json(status, name, msg);
}
