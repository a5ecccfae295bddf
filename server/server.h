/*
 * server.h — certflow serve: the JSON API over HTTP (docs/server.md), on GNU
 * libmicrohttpd. server.c runs the daemon (a pool of worker threads, each with
 * its own engine handle, as certflow.h's threading rule asks), reads requests,
 * checks tokens and rate limits; routes.c answers the endpoints through the
 * public API and the program's registry and report; serve_cmd.c holds the
 * `serve` and `token` commands.
 */
#ifndef CF_SERVER_H
#define CF_SERVER_H

#include "../cli/cli.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

typedef struct srv_config {
    const char *db;         /* the database every worker opens */
    const cf_options *opts; /* the engine options (folders, plugins, clock); read by every worker */
    const char *host;       /* numeric IPv4 or IPv6 address to listen on */
    uint16_t port;          /* 0: any free port (srv_port says which) */
    unsigned threads;       /* worker threads, each with its own engine handle */
    size_t max_body;        /* largest request body accepted, in bytes */
    unsigned timeout_s;     /* a connection idle this long is closed */
    unsigned rate_per_min;  /* requests without a token (and failed logins) per client address per minute */
    FILE *log;              /* one line per request and per failed login; never a token */
} srv_config;

typedef struct srv srv;

/* Start listening. 0, or -1 with why in err. */
int srv_start(const srv_config *cfg, srv **out, char *err, size_t errsz);
/* The port listened on. */
uint16_t srv_port(const srv *s);
/* Stop accepting, let the requests in progress finish (at most timeout_s),
 * stop the workers and close their engines. */
void srv_stop(srv *s);

/* ---- What routes.c sees of one request ---- */

typedef enum srv_role { SRV_PUBLIC = 0, SRV_ADMIN, SRV_COUNTY, SRV_INTEGRATION } srv_role;

typedef struct srv_principal {
    srv_role role;
    char name[160];  /* the token's name: the actor of what it changes */
    char county[80]; /* "" for admin and public */
} srv_principal;

typedef struct srv_request {
    const char *method;
    const char *path;  /* without the query */
    const char *body;  /* NUL-terminated; "" when none */
    size_t body_len;
    const char *(*query)(const struct srv_request *rq, const char *name); /* NULL when absent */
    const char *(*header)(const struct srv_request *rq, const char *name);
    void *conn;
    const srv_principal *who;
    cf_engine *e;
    double wait_until; /* a long poll resumed: its deadline (monotonic seconds); 0 on the first pass */
    int no_wait;       /* the server is stopping: answer now, never suspend */
} srv_request;

typedef struct srv_response {
    int status;
    json_t *body;            /* owned; sent as JSON */
    char *raw;               /* or owned raw text (raw_type) */
    size_t raw_len;
    const char *raw_type;
    double suspend_until;    /* a long poll with nothing yet: no answer now; the server suspends the
                                connection (no thread held) and asks again when the history moves
                                or at this deadline (monotonic seconds), with rq->wait_until set */
} srv_response;

/* Monotonic seconds (long-poll deadlines). */
double srv_mono(void);

/* Answer one authenticated request (routes.c). */
void srv_route(const srv_request *rq, srv_response *out);
/* The public registry page (registry_page.c): GET /registry and GET /registry/{number}. */
void srv_registry_page(const srv_request *rq, srv_response *out, const char *const *params);
void srv_registry_certificate(const srv_request *rq, srv_response *out, const char *const *params);
/* GET /v1/changes: registry status changes from the history (changes.c). */
void srv_changes(const srv_request *rq, srv_response *out, const char *const *params);
/* The first `limit` registry changes after the cursor `after` (county NULL: every
 * county), oldest first, as GET /v1/changes answers them: *rows (new reference),
 * *next the cursor to pass next time (the last history row read, which may be
 * past the last change), *more 1 when limit cut the answer. A certflow result code. */
int srv_changes_read(cf_engine *e, int64_t after, const char *county, size_t limit, json_t **rows, int64_t *next,
                     int *more);
/* The HTTP status for a certflow result code. */
int srv_status_of(int rc);
/* {"error": {"code", "name", "message"}} (new reference). */
json_t *srv_error_json(int code, const char *name, const char *message);
/* Set out to an engine failure: the status of rc and the engine's message. */
void srv_fail(srv_response *out, cf_engine *e, int rc);
/* Set out to a server-level error (code = status). */
void srv_http_error(srv_response *out, int status, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- webhooks (webhooks.c): the deliverer thread, started and stopped with the server ---- */
typedef struct srv_hooks srv_hooks;
int srv_hooks_start(const srv_config *cfg, srv_hooks **out, char *err, size_t errsz);
/* A write was answered: look for changes to deliver now. */
void srv_hooks_wake(srv_hooks *h);
/* Stop delivering (a POST in progress is cut: it is sent again at the next start). */
void srv_hooks_stop(srv_hooks *h);
/* hex(HMAC-SHA256(secret, ts "." body)) into out (65 bytes): a delivery's
 * Certflow-Signature (after "v1="). 0, or -1 out of memory. */
int srv_webhook_sign(const char *secret, const char *ts, const char *body, size_t body_len, char out[65]);
/* /v1/webhooks (routes in webhooks_api.c) */
void srv_webhooks_list(const srv_request *rq, srv_response *out, const char *const *params);
void srv_webhooks_create(const srv_request *rq, srv_response *out, const char *const *params);
void srv_webhooks_remove(const srv_request *rq, srv_response *out, const char *const *params);

/* The OpenAPI document (docs/openapi.json), built into the program. */
extern const unsigned char srv_openapi_doc[];
extern const size_t srv_openapi_doc_len;

#endif
