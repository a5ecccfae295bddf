/*
 * serve_cmd.c — the `certflow serve` and `certflow token` commands
 * (docs/server.md): serve listens until SIGTERM or SIGINT, then stops
 * gracefully; token create|list|revoke manages the API tokens.
 */
#include "server.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* "HOST:PORT", "[V6]:PORT" or "PORT" (loopback). 0 or -1. */
static int parse_listen(const char *s, char *host, size_t hsz, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = s;
    if (colon) {
        const char *h = s;
        size_t n = (size_t)(colon - s);
        if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
            h++;
            n -= 2;
        }
        if (n == 0 || n >= hsz)
            return -1;
        memcpy(host, h, n);
        host[n] = '\0';
        p = colon + 1;
    } else {
        snprintf(host, hsz, "127.0.0.1");
    }
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (errno || end == p || *end || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_cmd_serve(cli_run *r)
{
    const cli_args *a = r->a;
    char host[128];
    uint16_t port = 8080;
    const char *listen = a->opt[CLI_OPT_LISTEN] ? a->opt[CLI_OPT_LISTEN] : "127.0.0.1:8080";
    if (parse_listen(listen, host, sizeof host, &port) != 0)
        return cli_usage(r, CLI_CMD_SERVE, "--listen '%.60s' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
    unsigned long threads = 4, max_body = 1024 * 1024, timeout = 30, rate = 60;
    if (parse_uint(a->opt[CLI_OPT_THREADS], 1, 256, &threads) != 0)
        return cli_usage(r, CLI_CMD_SERVE, "--threads '%.40s' is not a number from 1 to 256", a->opt[CLI_OPT_THREADS]);
    if (parse_uint(a->opt[CLI_OPT_MAX_BODY], 1, 64UL * 1024 * 1024, &max_body) != 0)
        return cli_usage(r, CLI_CMD_SERVE, "--max-body '%.40s' is not a byte count from 1 to 67108864",
                         a->opt[CLI_OPT_MAX_BODY]);
    if (parse_uint(a->opt[CLI_OPT_TIMEOUT], 1, 3600, &timeout) != 0)
        return cli_usage(r, CLI_CMD_SERVE, "--timeout '%.40s' is not a number of seconds from 1 to 3600",
                         a->opt[CLI_OPT_TIMEOUT]);
    if (parse_uint(a->opt[CLI_OPT_RATE_LIMIT], 0, 1000000, &rate) != 0)
        return cli_usage(r, CLI_CMD_SERVE, "--rate-limit '%.40s' is not a number of requests per minute (0: none)",
                         a->opt[CLI_OPT_RATE_LIMIT]);

    /* SIGTERM and SIGINT are taken by sigwait below, in this thread only: block
     * them before the workers start, so that they inherit the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    srv_config cfg = {r->db, &r->opts, host, port, (unsigned)threads, (size_t)max_body, (unsigned)timeout,
                      (unsigned)rate, r->err};
    srv *s = NULL;
    char err[300];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { /* before any thread: the webhooks' client */
        fprintf(r->err, "certflow: could not start libcurl for the webhooks\n");
        return CLI_EXIT_OTHER;
    }
    if (srv_start(&cfg, &s, err, sizeof err) != 0) {
        fprintf(r->err, "certflow: %s\n", err);
        curl_global_cleanup();
        return CLI_EXIT_OTHER;
    }
    int v6 = strchr(host, ':') != NULL;
    fprintf(r->out, "certflow serve: listening on http://%s%s%s:%u/v1/ (stop with SIGTERM or Ctrl-C)\n",
            v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)srv_port(s));
    fflush(r->out);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(r->err, "certflow serve: %s: finishing the requests in progress\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    srv_stop(s);
    curl_global_cleanup();
    fprintf(r->err, "certflow serve: stopped\n");
    return 0;
}

/* ---- the listings of token and webhook: a JSON array or a table ---- */

typedef struct listing {
    json_t *rows;
    cli_table *table;
} listing;

/* Run list (which feeds each row to the row callback it passes with o) and print
 * what it gave: a JSON array under --json, else the table, or empty when none. */
static int print_listing(cli_run *r, const char *const *headers, int ncols, int (*list)(cli_run *r, listing *o),
                         const char *empty)
{
    listing o = {NULL, NULL};
    if (r->a->opt[CLI_OPT_JSON])
        o.rows = json_array();
    else
        o.table = cli_table_new(ncols, headers);
    if (!o.rows && !o.table)
        return cli_fail(r, CF_ENOMEM);
    int rc = list(r, &o);
    if (rc != CF_OK) {
        json_decref(o.rows);
        cli_table_free(o.table);
        return cli_fail(r, rc);
    }
    if (o.rows)
        return cli_json_print(r->out, o.rows) ? CLI_EXIT_OTHER : 0;
    if (cli_table_rows(o.table) == 0)
        fputs(empty, r->out);
    else
        cli_table_print(r->out, o.table);
    cli_table_free(o.table);
    return 0;
}

/* ---- token ---- */

static int token_row(void *ud, const cf_token_info *t)
{
    listing *o = ud;
    char created[32], expires[32] = "never", revoked[32] = "";
    cli_time(t->created_at, created);
    if (t->expires_at)
        cli_time(t->expires_at, expires);
    if (t->revoked_at)
        cli_time(t->revoked_at, revoked);
    if (o->rows) {
        json_t *j = json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:o, s:o}", "id", (json_int_t)t->id, "name", t->name,
                              "role", t->role, "county", cli_json_str(t->county), "created_at", created, "created_by",
                              t->created_by, "expires_at", t->expires_at ? json_string(expires) : json_null(),
                              "revoked_at", t->revoked_at ? json_string(revoked) : json_null());
        json_array_append_new(o->rows, j);
    } else {
        const char *cells[] = {t->name, t->role, t->county ? t->county : "", created, expires,
                               t->revoked_at ? revoked : "active"};
        cli_table_add(o->table, cells);
    }
    return 0;
}

static int list_tokens(cli_run *r, listing *o)
{
    return cf_token_list(r->e, token_row, o);
}

int cli_cmd_token(cli_run *r)
{
    const cli_args *a = r->a;
    const char *verb = a->pos[0];
    if (strcmp(verb, "create") == 0) {
        if (a->npos != 1)
            return cli_usage(r, CLI_CMD_TOKEN, "token create takes no arguments but options");
        const char *role = a->opt[CLI_OPT_ROLE];
        if (!role)
            return cli_usage(r, CLI_CMD_TOKEN, "token create needs --role admin|county|integration");
        const char *name = a->opt[CLI_OPT_NAME];
        char defname[200];
        if (!name) {
            snprintf(defname, sizeof defname, "%s%s%s", role, a->opt[CLI_OPT_COUNTY] ? "-" : "",
                     a->opt[CLI_OPT_COUNTY] ? a->opt[CLI_OPT_COUNTY] : "");
            name = defname;
        }
        cf_time expires = 0;
        const char *x = a->opt[CLI_OPT_EXPIRES];
        if (x && cf_time_parse(x, &expires) != CF_OK)
            return cli_usage(r, CLI_CMD_TOKEN, "--expires '%.60s' is not an ISO 8601 date or time (e.g. 2026-12-31)",
                             x);
        char secret[CF_TOKEN_SECRET_SIZE];
        int rc = cf_token_create(r->e, name, role, a->opt[CLI_OPT_COUNTY], expires, r->actor, secret);
        if (rc != CF_OK)
            return cli_fail(r, rc);
        if (a->opt[CLI_OPT_JSON]) {
            cli_json_print(r->out, json_pack("{s:s, s:s, s:o, s:s}", "name", name, "role", role, "county",
                                             cli_json_str(a->opt[CLI_OPT_COUNTY]), "token", secret));
        } else {
            fprintf(r->out, "%s\n", secret);
            cli_textf(r->err, "certflow: token '%s' created; the line above is its secret, shown only this once "
                              "(send it as 'Authorization: Bearer TOKEN')\n", name);
        }
        memset(secret, 0, sizeof secret);
        return 0;
    }
    if (strcmp(verb, "list") == 0) {
        if (a->npos != 1)
            return cli_usage(r, CLI_CMD_TOKEN, "token list takes no arguments");
        static const char *const headers[] = {"name", "role", "county", "created", "expires", "revoked"};
        return print_listing(r, headers, 6, list_tokens,
                             "no tokens (create one with certflow token create --role ROLE)\n");
    }
    if (strcmp(verb, "revoke") == 0) {
        if (a->npos != 2)
            return cli_usage(r, CLI_CMD_TOKEN, "token revoke takes the token's name");
        int rc = cf_token_revoke(r->e, a->pos[1], r->actor);
        if (rc != CF_OK)
            return cli_fail(r, rc);
        cli_textf(r->out, "revoked: %s\n", a->pos[1]);
        return 0;
    }
    return cli_usage(r, CLI_CMD_TOKEN, "unknown token action '%.60s' (use create, list or revoke)", verb);
}

/* ---- webhook ---- */


static int webhook_row(void *ud, const cf_webhook_info *w)
{
    listing *o = ud;
    char created[32], removed[32] = "";
    cli_time(w->created_at, created);
    if (w->removed_at)
        cli_time(w->removed_at, removed);
    char cursor[32], attempts[32];
    snprintf(cursor, sizeof cursor, "%lld", (long long)w->cursor);
    snprintf(attempts, sizeof attempts, "%lld", (long long)w->attempts);
    if (o->rows) {
        json_t *j = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:I, s:I, s:o}", "name", w->name, "county",
                              cli_json_str(w->county), "url", w->url, "created_at", created, "created_by",
                              w->created_by, "removed_at", w->removed_at ? json_string(removed) : json_null(),
                              "cursor", (json_int_t)w->cursor, "attempts", (json_int_t)w->attempts, "last_error",
                              cli_json_str(w->last_error));
        json_array_append_new(o->rows, j);
    } else {
        const char *cells[] = {w->name,  w->county ? w->county : "(all)", w->url, created, cursor, attempts,
                               w->removed_at ? removed : "active"};
        cli_table_add(o->table, cells);
    }
    return 0;
}

static int list_webhooks(cli_run *r, listing *o)
{
    return cf_webhook_list(r->e, webhook_row, o);
}

int cli_cmd_webhook(cli_run *r)
{
    const cli_args *a = r->a;
    const char *verb = a->pos[0];
    if (strcmp(verb, "create") == 0) {
        if (a->npos != 3)
            return cli_usage(r, CLI_CMD_WEBHOOK, "webhook create takes a name and a URL");
        char secret[CF_WEBHOOK_SECRET_SIZE];
        int rc = cf_webhook_create(r->e, a->pos[1], a->opt[CLI_OPT_COUNTY], a->pos[2], -1, r->actor, secret);
        if (rc != CF_OK)
            return cli_fail(r, rc);
        if (a->opt[CLI_OPT_JSON]) {
            cli_json_print(r->out, json_pack("{s:s, s:o, s:s, s:s}", "name", a->pos[1], "county",
                                             cli_json_str(a->opt[CLI_OPT_COUNTY]), "url", a->pos[2], "secret",
                                             secret));
        } else {
            fprintf(r->out, "%s\n", secret);
            cli_textf(r->err, "certflow: webhook '%s' created; the line above is its signing secret: give it to the "
                              "receiver (docs/server.md, Webhooks)\n", a->pos[1]);
        }
        memset(secret, 0, sizeof secret);
        return 0;
    }
    if (strcmp(verb, "list") == 0) {
        if (a->npos != 1)
            return cli_usage(r, CLI_CMD_WEBHOOK, "webhook list takes no arguments");
        static const char *const headers[] = {"name", "county", "url", "created", "cursor", "failed", "removed"};
        return print_listing(r, headers, 7, list_webhooks,
                             "no webhooks (subscribe one with certflow webhook create NAME URL)\n");
    }
    if (strcmp(verb, "remove") == 0) {
        if (a->npos != 2)
            return cli_usage(r, CLI_CMD_WEBHOOK, "webhook remove takes the webhook's name");
        int rc = cf_webhook_remove(r->e, a->pos[1], r->actor);
        if (rc != CF_OK)
            return cli_fail(r, rc);
        cli_textf(r->out, "removed: %s\n", a->pos[1]);
        return 0;
    }
    return cli_usage(r, CLI_CMD_WEBHOOK, "unknown webhook action '%.60s' (use create, list or remove)", verb);
}
