/*
 * routes.c — the endpoints of certflow serve's JSON API (docs/server.md,
 * docs/openapi.json), each through the public API (certflow.h) or the program's
 * registry and report (program/program.h), with who may call what:
 *   admin        everything
 *   county       its county's instances: read, create, fire, explain, policy diff
 *   integration  its county's instances: read and fire
 *   public       health, version, the OpenAPI document and the registry only
 * A county or integration token asking for another county's instance gets the
 * very answer a missing id gets.
 */
#include "server.h"

#include "../program/eligibility.h"
#include "../program/program.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { P_PUBLIC = 1, P_ADMIN = 2, P_COUNTY = 4, P_INTEGRATION = 8 };
#define P_READ (P_ADMIN | P_COUNTY | P_INTEGRATION)
#define P_ALL (P_PUBLIC | P_READ)

static int role_bit(srv_role r)
{
    return r == SRV_ADMIN ? P_ADMIN : r == SRV_COUNTY ? P_COUNTY : r == SRV_INTEGRATION ? P_INTEGRATION : P_PUBLIC;
}

/* The answer a missing instance gets (the engine's own words, store.c). */
static void not_found(srv_response *out, const char *id)
{
    char msg[256];
    snprintf(msg, sizeof msg, "no instance '%.100s' (list instances with cf_instance_list)", id);
    json_decref(out->body);
    out->status = 404;
    out->body = srv_error_json(CF_ENOTFOUND, "CF_ENOTFOUND", msg);
}

static int limited(const srv_principal *who)
{
    return who->role == SRV_COUNTY || who->role == SRV_INTEGRATION;
}

/* Read instance id for the caller: 0 with info filled in, or -1 with out set
 * (another county's instance looks exactly like a missing one). */
static int instance_for(const srv_request *rq, const char *id, cf_instance_info *info, srv_response *out)
{
    int rc = cf_instance_get(rq->e, id, info);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return -1;
    }
    if (limited(rq->who) && strcmp(info->county, rq->who->county) != 0) {
        not_found(out, id);
        return -1;
    }
    return 0;
}

/* The request body as a JSON object (an empty body is {}), or NULL with out set. */
static json_t *body_object(const srv_request *rq, srv_response *out)
{
    const char *b = rq->body;
    size_t i = 0;
    while (i < rq->body_len && isspace((unsigned char)b[i]))
        i++;
    if (i == rq->body_len)
        return json_object();
    if (memchr(b, '\0', rq->body_len)) {
        srv_http_error(out, 400, "CF_EJSON", "the request body holds a NUL byte: send a JSON object as UTF-8 text");
        return NULL;
    }
    json_error_t jerr;
    json_t *v = json_loadb(b, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        json_decref(out->body);
        char msg[400];
        snprintf(msg, sizeof msg, "the request body is not a JSON object%s%s (line %d): send e.g. {\"data\": {}}",
                 v ? "" : ": ", v ? "" : jerr.text, jerr.line);
        out->status = 400;
        out->body = srv_error_json(CF_EJSON, "CF_EJSON", msg);
        return NULL;
    }
    return v;
}

/* The member `data` of body as JSON text (NULL when absent), or -1 with out set. */
static int data_text(json_t *body, char **text, srv_response *out)
{
    *text = NULL;
    json_t *d = json_object_get(body, "data");
    if (!d || json_is_null(d))
        return 0;
    if (!json_is_object(d)) {
        srv_http_error(out, 400, "CF_EJSON", "\"data\" must be a JSON object");
        return -1;
    }
    *text = json_dumps(d, JSON_COMPACT);
    if (!*text) {
        srv_http_error(out, 500, "CF_ENOMEM", "out of memory");
        return -1;
    }
    return 0;
}

static int member_str(json_t *body, const char *key, const char **v, srv_response *out)
{
    json_t *m = json_object_get(body, key);
    *v = m ? json_string_value(m) : NULL;
    if (m && !*v) {
        srv_http_error(out, 400, "CF_EINVAL", "\"%s\" must be a string", key);
        return -1;
    }
    return 0;
}

/* ---- public ---- */

static void get_health(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    char now[32];
    cf_time_format(cf_engine_now(rq->e), now, sizeof now);
    out->body = json_pack("{s:s, s:s}", "status", "ok", "now", now);
}

static void get_version(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)rq;
    (void)p;
    out->body = json_pack("{s:s, s:s}", "version", CF_VERSION_STRING, "api", "v1");
}

static void get_openapi(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)rq;
    (void)p;
    out->raw = malloc(srv_openapi_doc_len ? srv_openapi_doc_len : 1);
    if (!out->raw) {
        srv_http_error(out, 500, "CF_ENOMEM", "out of memory");
        return;
    }
    memcpy(out->raw, srv_openapi_doc, srv_openapi_doc_len);
    out->raw_len = srv_openapi_doc_len;
    out->raw_type = "application/json";
}

static int contains_fold(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

/* A whole number from a query parameter within [lo, hi], or def when absent; -1 when malformed. */
static long query_long(const srv_request *rq, const char *name, long def, long lo, long hi, srv_response *out)
{
    const char *v = rq->query(rq, name);
    if (!v)
        return def;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        srv_http_error(out, 400, "CF_EINVAL", "%s '%.40s' is not a whole number from %ld to %ld", name, v, lo, hi);
        return -1;
    }
    return n;
}

static void get_registry(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    const char *name = rq->query(rq, "name"), *number = rq->query(rq, "number"), *county = rq->query(rq, "county");
    const char *status = rq->query(rq, "status");
    int st = -1;
    if (status && (st = prog_status_find(status)) < 0) {
        srv_http_error(out, 400, "CF_EINVAL", "status '%.40s' is not a status (active, lapsed, suspended, revoked)",
                       status);
        return;
    }
    long limit = query_long(rq, "limit", 50, 1, 500, out);
    if (limit < 0)
        return;
    prog_registry reg;
    int64_t today;
    int rc = cf_local_date(rq->e, cf_engine_now(rq->e), &today);
    if (rc == CF_OK)
        rc = prog_registry_load(rq->e, today, &reg);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return;
    }
    json_t *rows = json_array();
    size_t total = 0;
    for (size_t i = 0; rows && i < reg.count; i++) {
        const prog_entry *r = &reg.rows[i];
        if ((name && !contains_fold(r->name, name)) || (number && strcasecmp(r->number, number) != 0) ||
            (county && strcmp(r->county, county) != 0) || (st >= 0 && r->status != st))
            continue;
        if (total++ < (size_t)limit)
            json_array_append_new(rows, prog_entry_json(r));
    }
    prog_registry_free(&reg);
    char day[11];
    out->body = json_pack("{s:o, s:I, s:s}", "results", rows, "total", (json_int_t)total, "as_of",
                          prog_format_date(today, day));
}

/* ---- instances ---- */

typedef struct list_ctx {
    json_t *rows;
    const char *q;
    size_t total, offset, limit;
} list_ctx;

static int list_row(void *ud, const cf_instance_info *info)
{
    list_ctx *l = ud;
    if (l->q) {
        int hit = strncmp(info->id, l->q, strlen(l->q)) == 0;
        json_t *d = hit ? NULL : json_loads(info->data, 0, NULL);
        const char *fields[] = {"name", "certification_number", "email"};
        for (size_t i = 0; d && !hit && i < sizeof fields / sizeof *fields; i++) {
            const char *v = json_string_value(json_object_get(d, fields[i]));
            hit = v && contains_fold(v, l->q);
        }
        json_decref(d);
        if (!hit)
            return 0;
    }
    if (l->total >= l->offset && l->total - l->offset < l->limit)
        json_array_append_new(l->rows, cli_json_instance(info));
    l->total++;
    return 0;
}

static void list_instances(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    cf_instance_filter f = CF_INSTANCE_FILTER_INIT;
    f.workflow = rq->query(rq, "workflow");
    f.state = rq->query(rq, "state");
    f.county = rq->query(rq, "county");
    if (limited(rq->who)) {
        if (f.county && strcmp(f.county, rq->who->county) != 0) { /* nothing of another county */
            out->body = json_pack("{s:[], s:i}", "instances", "total", 0);
            return;
        }
        f.county = rq->who->county;
    }
    long limit = query_long(rq, "limit", 100, 1, 1000, out), offset = 0;
    if (limit < 0 || (offset = query_long(rq, "offset", 0, 0, 1000000000L, out)) < 0)
        return;
    list_ctx l = {json_array(), rq->query(rq, "q"), 0, (size_t)offset, (size_t)limit};
    int rc = cf_instance_list(rq->e, &f, list_row, &l);
    if (rc != CF_OK) {
        json_decref(l.rows);
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = json_pack("{s:o, s:I}", "instances", l.rows, "total", (json_int_t)l.total);
}

static void create_instance(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    json_t *body = body_object(rq, out);
    if (!body)
        return;
    const char *wf = NULL, *county = NULL;
    char *data = NULL;
    if (member_str(body, "workflow", &wf, out) || member_str(body, "county", &county, out) ||
        data_text(body, &data, out)) {
        json_decref(body);
        return;
    }
    if (!wf || !county) {
        srv_http_error(out, 400, "CF_EINVAL", "give \"workflow\" and \"county\" (and \"data\", a JSON object)");
    } else if (limited(rq->who) && strcmp(county, rq->who->county) != 0) {
        srv_http_error(out, 403, "HTTP_FORBIDDEN", "this token may only create instances of county %s",
                       rq->who->county);
    } else {
        char id[37];
        int rc = cf_instance_create(rq->e, wf, county, data, rq->who->name, id);
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        if (rc == CF_OK)
            rc = cf_instance_get(rq->e, id, &info);
        if (rc != CF_OK) {
            srv_fail(out, rq->e, rc);
        } else {
            out->status = 201;
            out->body = cli_json_instance(&info);
        }
    }
    free(data);
    json_decref(body);
}

static void get_instance(const srv_request *rq, srv_response *out, const char *const *p)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (instance_for(rq, p[0], &info, out) == 0)
        out->body = cli_json_instance(&info);
}

static int history_row(void *ud, const cf_history_entry *h)
{
    json_array_append_new(ud, cli_json_history(h));
    return 0;
}

static void get_history(const srv_request *rq, srv_response *out, const char *const *p)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (instance_for(rq, p[0], &info, out) != 0)
        return;
    json_t *rows = json_array();
    int rc = cf_instance_history(rq->e, p[0], history_row, rows);
    if (rc != CF_OK) {
        json_decref(rows);
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = json_pack("{s:s, s:o}", "id", p[0], "history", rows);
}

static int event_row(void *ud, const cf_event_choice *c)
{
    json_t *o = json_pack("{s:s, s:b, s:o, s:o, s:b, s:o}", "event", c->event, "allowed", c->allowed, "to_state",
                          cli_json_str(c->to_state), "reasons", cli_json_text(c->reasons), "by_timer", c->by_timer,
                          "error", cli_json_str(c->error));
    json_array_append_new(ud, o);
    return 0;
}

static void get_events(const srv_request *rq, srv_response *out, const char *const *p)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (instance_for(rq, p[0], &info, out) != 0)
        return;
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.actor = rq->who->name;
    json_t *rows = json_array();
    int rc = cf_instance_events(rq->e, p[0], &o, event_row, rows);
    if (rc != CF_OK) {
        json_decref(rows);
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = json_pack("{s:s, s:o}", "id", p[0], "events", rows);
}

static void fire_event(const srv_request *rq, srv_response *out, const char *const *p)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (instance_for(rq, p[0], &info, out) != 0)
        return;
    json_t *body = body_object(rq, out);
    char *data = NULL;
    if (!body || data_text(body, &data, out)) {
        json_decref(body);
        return;
    }
    const char *key = rq->header(rq, "Idempotency-Key");
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(rq->e, p[0], p[1], data, rq->who->name, key, &res);
    if (rc == CF_OK || rc == CF_REJECTED) {
        out->body = cli_json_fire(&res, p[0], p[1]);
        out->status = 200;
        if (rc == CF_REJECTED && out->body) {
            char *why = cli_reasons_join(res.reasons, "; ");
            char msg[600];
            snprintf(msg, sizeof msg, "rejected: %s", why && *why ? why : "no transition allowed it");
            free(why);
            json_t *err = srv_error_json(CF_REJECTED, "CF_REJECTED", msg);
            json_object_set(out->body, "error", json_object_get(err, "error"));
            json_decref(err);
            out->status = 422;
        }
    } else {
        srv_fail(out, rq->e, rc);
    }
    free(data);
    json_decref(body);
}

static void explain_event(const srv_request *rq, srv_response *out, const char *const *p)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (instance_for(rq, p[0], &info, out) != 0)
        return;
    json_t *body = body_object(rq, out);
    char *data = NULL;
    if (!body || data_text(body, &data, out)) {
        json_decref(body);
        return;
    }
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = data;
    o.actor = rq->who->name;
    char *text = NULL;
    int rc = cf_instance_explain(rq->e, p[0], p[1], &o, &text);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
    } else {
        out->body = json_loads(text, 0, NULL);
        cf_free(text);
    }
    free(data);
    json_decref(body);
}

static void get_eligibility(const srv_request *rq, srv_response *out, const char *const *p)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (instance_for(rq, p[0], &info, out) != 0)
        return;
    const char *on = rq->query(rq, "on");
    if (!on) {
        srv_http_error(out, 400, "CF_EINVAL", "give the date of service: ?on=YYYY-MM-DD");
        return;
    }
    json_t *ans = NULL;
    char msg[512] = "";
    int rc = prog_eligibility(rq->e, p[0], on, &ans, msg, sizeof msg);
    if (rc != CF_OK) {
        out->status = srv_status_of(rc);
        out->body = srv_error_json(rc, cf_result_name(rc), msg[0] ? msg : cf_strerror(rc));
        return;
    }
    out->body = ans;
}

/* ---- timers, report, policy ---- */

typedef struct due_ctx {
    json_t *rows;
    const srv_principal *who;
    const char *state;
} due_ctx;

static int due_row(void *ud, const cf_timer_info *t)
{
    due_ctx *d = ud;
    if (limited(d->who) && strcmp(t->county, d->who->county) != 0)
        return 0;
    if (d->state && !cf_state_in(t->state, d->state))
        return 0;
    json_array_append_new(d->rows, cli_json_timer(t));
    return 0;
}

static void get_due(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    int64_t within = 30 * 86400;
    const char *w = rq->query(rq, "within");
    if (w && cli_parse_duration(w, &within) != 0) {
        srv_http_error(out, 400, "CF_EINVAL", "within '%.40s' is not a duration (e.g. 30d, 12h, 2w, 90m, 45s)", w);
        return;
    }
    cf_time now = cf_engine_now(rq->e);
    due_ctx d = {json_array(), rq->who, rq->query(rq, "state")};
    int rc = cf_timer_list(rq->e, now, now + within, due_row, &d);
    if (rc != CF_OK) {
        json_decref(d.rows);
        srv_fail(out, rq->e, rc);
        return;
    }
    char from[32], to[32];
    cf_time_format(now, from, sizeof from);
    cf_time_format(now + within, to, sizeof to);
    out->body = json_pack("{s:s, s:s, s:o}", "from", from, "to", to, "timers", d.rows);
}

static void get_report(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    const char *f = rq->query(rq, "from"), *t = rq->query(rq, "to");
    int64_t from, to;
    if (!f || !t || prog_parse_date(f, &from) != 0 || prog_parse_date(t, &to) != 0 || to < from) {
        srv_http_error(out, 400, "CF_EINVAL",
                       "give the period as ?from=YYYY-MM-DD&to=YYYY-MM-DD (to not before from)");
        return;
    }
    json_t *rep = NULL;
    int rc = prog_report_build(rq->e, from, to, &rep);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = rep;
}

static int change_row(void *ud, const cf_policy_change *c)
{
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "kind", c->kind, "instance",
                          cli_json_str(c->instance_id), "workflow", cli_json_str(c->workflow), "state",
                          cli_json_str(c->state), "name", cli_json_str(c->name), "event", cli_json_str(c->event),
                          "old", cli_json_str(c->old_value), "new", cli_json_str(c->new_value), "who",
                          cli_json_str(c->who), "county", cli_json_str(c->county), "effect",
                          cli_json_str(c->effect));
    json_array_append_new(ud, o);
    return 0;
}

static void policy_diff(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    const char *county = rq->query(rq, "county"), *applies = rq->query(rq, "for");
    if (!county) {
        srv_http_error(out, 400, "CF_EINVAL", "give the county whose overlay the body replaces: ?county=NAME");
        return;
    }
    if (limited(rq->who) && strcmp(county, rq->who->county) != 0) {
        srv_http_error(out, 403, "HTTP_FORBIDDEN", "this token may only preview policy changes of county %s",
                       rq->who->county);
        return;
    }
    if (rq->body_len == 0) {
        srv_http_error(out, 400, "CF_EINVAL", "send the proposed county overlay (Lua text) as the request body");
        return;
    }
    const char *tmpdir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/certflow-overlay-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        srv_http_error(out, 500, "CF_EIO", "could not write a temporary file for the overlay: %s", strerror(errno));
        return;
    }
    size_t done = 0;
    while (done < rq->body_len) {
        ssize_t n = write(fd, rq->body + done, rq->body_len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (done < rq->body_len) {
        unlink(path);
        srv_http_error(out, 500, "CF_EIO", "could not write a temporary file for the overlay");
        return;
    }
    json_t *rows = json_array();
    int rc = cf_policy_diff_for(rq->e, county, path, applies, change_row, rows);
    unlink(path);
    if (rc != CF_OK) {
        json_decref(rows);
        srv_fail(out, rq->e, rc);
        return;
    }
    out->body = json_pack("{s:s, s:s, s:o}", "county", county, "for", applies ? applies : "all", "changes", rows);
}

/* ---- the table ---- */

typedef void (*route_fn)(const srv_request *rq, srv_response *out, const char *const *params);

typedef struct route {
    const char *method;
    const char *pattern; /* segments; "{}" matches one segment */
    int allowed;
    route_fn fn;
} route;

static const route ROUTES[] = {
    {"GET", "/v1/health", P_ALL, get_health},
    {"GET", "/v1/version", P_ALL, get_version},
    {"GET", "/v1/openapi.json", P_ALL, get_openapi},
    {"GET", "/v1/registry", P_ALL, get_registry},
    {"GET", "/registry", P_ALL, srv_registry_page},
    {"GET", "/registry/{}", P_ALL, srv_registry_certificate},
    {"GET", "/v1/instances", P_READ, list_instances},
    {"POST", "/v1/instances", P_ADMIN | P_COUNTY, create_instance},
    {"GET", "/v1/instances/{}", P_READ, get_instance},
    {"GET", "/v1/instances/{}/history", P_READ, get_history},
    {"GET", "/v1/instances/{}/events", P_READ, get_events},
    {"POST", "/v1/instances/{}/events/{}", P_READ, fire_event},
    {"POST", "/v1/instances/{}/explain/{}", P_ADMIN | P_COUNTY, explain_event},
    {"GET", "/v1/instances/{}/eligibility", P_READ, get_eligibility},
    {"GET", "/v1/due", P_READ, get_due},
    {"GET", "/v1/changes", P_READ, srv_changes},
    {"GET", "/v1/webhooks", P_READ, srv_webhooks_list},
    {"POST", "/v1/webhooks", P_READ, srv_webhooks_create},
    {"DELETE", "/v1/webhooks/{}", P_READ, srv_webhooks_remove},
    {"GET", "/v1/report", P_ADMIN, get_report},
    {"POST", "/v1/policy/diff", P_ADMIN | P_COUNTY, policy_diff},
};

#define MAX_PARAMS 2
#define MAX_SEG 200

/* 1 if path matches pattern; the {} segments are copied into params. */
static int match(const char *pattern, const char *path, char params[MAX_PARAMS][MAX_SEG + 1])
{
    int np = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pl == 2 && strncmp(pattern, "{}", 2) == 0) {
            if (sl == 0 || sl > MAX_SEG || np == MAX_PARAMS)
                return 0;
            memcpy(params[np], path, sl);
            params[np][sl] = '\0';
            np++;
        } else if (pl != sl || strncmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    return !*pattern && !*path;
}

void srv_route(const srv_request *rq, srv_response *out)
{
    char params[MAX_PARAMS][MAX_SEG + 1];
    const char *pp[MAX_PARAMS] = {params[0], params[1]};
    int path_known = 0;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        const route *r = &ROUTES[i];
        if (!match(r->pattern, rq->path, params))
            continue;
        path_known = 1;
        if (strcmp(r->method, rq->method) != 0)
            continue;
        if (!(r->allowed & role_bit(rq->who->role))) {
            if (rq->who->role == SRV_PUBLIC)
                srv_http_error(out, 401, "HTTP_UNAUTHORIZED",
                               "this endpoint needs a token: send the header 'Authorization: Bearer TOKEN'");
            else
                srv_http_error(out, 403, "HTTP_FORBIDDEN", "token '%s' (role %s) may not %s %s", rq->who->name,
                               rq->who->role == SRV_ADMIN ? "admin" : rq->who->role == SRV_COUNTY ? "county"
                                                                                                  : "integration",
                               r->method, r->pattern);
            return;
        }
        out->status = 200;
        r->fn(rq, out, pp);
        if (!out->body && !out->raw && out->suspend_until <= 0)
            srv_http_error(out, 500, "CF_ENOMEM", "out of memory");
        return;
    }
    if (path_known)
        srv_http_error(out, 405, "HTTP_METHOD_NOT_ALLOWED", "%s is not allowed on %s", rq->method, rq->path);
    else
        srv_http_error(out, 404, "HTTP_NOT_FOUND", "no endpoint %s (see /v1/openapi.json)", rq->path);
}
