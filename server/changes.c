/*
 * changes.c — GET /v1/changes?after=N[&limit=L][&wait=S][&county=C]: the registry
 * status changes of certifications (docs/server.md, "Change notifications"),
 * derived from the engine's history (never from data a caller wrote): each
 * applied transition of a `certification` instance whose registry status
 * (plugins/common/registry_row.h) changes, or that renews it:
 *   certified    no status before, active after (issued)
 *   renewed      active to active by `renew` or an overturned renewal denial
 *   expired      active or suspended to lapsed
 *   suspended    to suspended
 *   revoked      to revoked
 *   reinstated   suspended, lapsed or revoked to active
 * The cursor is the history row's place in the database-wide chain (seq): a
 * client passes the last `next` it got as `after` and misses nothing. The rows
 * are read from the cursor on by the seq key (cf_history_after), so a request
 * costs the rows after its cursor, not the whole history; `next` is the last
 * row read, so a county whose changes are rare does not read the same rows again. County and
 * integration tokens see their county's changes only. With wait=S (at most 30)
 * and nothing new, the answer waits until a change arrives or S seconds pass,
 * on a suspended connection (server.c): a waiting client holds no worker thread.
 */
#include "server.h"

#include "../plugins/common/registry_row.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MAX 30
#define LIMIT_MAX 1000

/* The kind of registry change a transition is, or NULL if it changes nothing public. */
static const char *change_kind(const cf_history_entry *h)
{
    if (strcmp(h->outcome, "applied") != 0)
        return NULL;
    const char *from = rr_status_of_state(h->from_state), *to = rr_status_of_state(h->to_state);
    if (!to)
        return NULL;
    if (from && strcmp(from, to) == 0) {
        if (strcmp(to, "active") == 0 &&
            (strcmp(h->event, "renew") == 0 || strcmp(h->event, "renewal_appeal_overturned") == 0))
            return "renewed";
        return NULL;
    }
    if (strcmp(to, "active") == 0)
        return from ? "reinstated" : "certified";
    if (strcmp(to, "lapsed") == 0)
        return from ? "expired" : NULL;
    if (strcmp(to, "suspended") == 0)
        return "suspended";
    if (strcmp(to, "revoked") == 0)
        return "revoked";
    return NULL;
}

#define PAGE 512 /* history rows read per store call */

typedef struct feed {
    size_t limit;
    json_t *rows;  /* the changes, without county and number yet (the callback may not call the engine) */
    int64_t next;  /* the last row taken in: the cursor to pass next */
    size_t read;   /* rows seen in this page */
    int more, oom;
} feed;

static int on_row(void *ud, const cf_history_entry *h)
{
    feed *f = ud;
    f->read++;
    const char *kind = change_kind(h);
    if (kind) {
        if (json_array_size(f->rows) == f->limit) {
            f->more = 1;
            return 1;
        }
        char at[32];
        cf_time_format(h->at, at, sizeof at);
        json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "cursor", (json_int_t)h->seq, "change", kind,
                                "status", rr_status_of_state(h->to_state), "at", at, "instance_id", h->instance_id,
                                "event", h->event, "actor", h->actor);
        if (!row || json_array_append_new(f->rows, row) != 0) {
            f->oom = 1;
            return 1;
        }
    }
    f->next = h->seq;
    return 0;
}

/* Add each change's county and certificate number from its instance. */
static int complete(cf_engine *e, json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        int rc = cf_instance_get(e, json_string_value(json_object_get(row, "instance_id")), &info);
        if (rc != CF_OK)
            return rc;
        json_t *data = json_loads(info.data ? info.data : "{}", 0, NULL);
        const char *number = json_string_value(json_object_get(data, "certification_number"));
        int bad = json_object_set_new(row, "county", json_string(info.county ? info.county : "")) ||
                  json_object_set_new(row, "certification_number", json_string(number ? number : ""));
        json_decref(data);
        if (bad)
            return CF_ENOMEM;
    }
    return CF_OK;
}

int srv_changes_read(cf_engine *e, int64_t after, const char *county, size_t limit, json_t **rows, int64_t *next,
                     int *more)
{
    cf_history_filter flt = CF_HISTORY_FILTER_INIT;
    flt.workflow = "certification";
    flt.county = county;
    flt.outcome = "applied";
    feed f;
    memset(&f, 0, sizeof f);
    f.limit = limit;
    f.next = after;
    f.rows = json_array();
    *rows = NULL;
    if (!f.rows)
        return CF_ENOMEM;
    int rc = CF_OK;
    /* Page by page from the cursor (cf_history_after reads by the seq key): the
     * cost is the rows after it, never the whole history. */
    for (;;) {
        f.read = 0;
        int64_t last = 0;
        rc = cf_history_after(e, f.next, PAGE, &flt, on_row, &f, &last);
        if (rc == CF_OK && f.oom)
            rc = CF_ENOMEM;
        if (rc != CF_OK || f.more || f.read < PAGE)
            break;
    }
    if (rc == CF_OK)
        rc = complete(e, f.rows);
    if (rc != CF_OK) {
        json_decref(f.rows);
        return rc;
    }
    *rows = f.rows;
    *next = f.next;
    *more = f.more;
    return CF_OK;
}

static int whole(const srv_request *rq, const char *name, long long def, long long hi, long long *v,
                 srv_response *out)
{
    const char *s = rq->query(rq, name);
    *v = def;
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || *end || n < 0 || n > hi) {
        srv_http_error(out, 400, "CF_EINVAL", "%s '%.40s' is not a whole number from 0 to %lld", name, s, hi);
        return -1;
    }
    *v = n;
    return 0;
}

void srv_changes(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    long long after, limit, wait;
    if (whole(rq, "after", 0, INT64_MAX, &after, out) || whole(rq, "limit", 100, LIMIT_MAX, &limit, out) ||
        whole(rq, "wait", 0, WAIT_MAX, &wait, out))
        return;
    if (limit == 0) {
        srv_http_error(out, 400, "CF_EINVAL", "limit must be from 1 to %d", LIMIT_MAX);
        return;
    }
    const char *county = rq->query(rq, "county");
    int limited = rq->who->role == SRV_COUNTY || rq->who->role == SRV_INTEGRATION;
    if (limited && county && strcmp(county, rq->who->county) != 0) {
        srv_http_error(out, 403, "HTTP_FORBIDDEN", "this token may only follow the changes of county %s",
                       rq->who->county);
        return;
    }
    if (limited)
        county = rq->who->county;
    /* A long poll holds no thread while it waits: with nothing yet, the answer is
     * deferred (suspend_until) and server.c suspends the connection; it asks again
     * when the history moves (a change committed here, or seen by polling the
     * store's head for other processes) or when the deadline passes. */
    double deadline = rq->wait_until > 0 ? rq->wait_until : srv_mono() + (double)wait;
    json_t *rows = NULL;
    int64_t next = 0;
    int more = 0;
    int rc = srv_changes_read(rq->e, (int64_t)after, county, (size_t)limit, &rows, &next, &more);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return;
    }
    if (json_array_size(rows) == 0 && wait > 0 && !rq->no_wait && srv_mono() < deadline) {
        json_decref(rows);
        out->suspend_until = deadline;
        return;
    }
    out->body = json_pack("{s:o, s:I, s:b}", "changes", rows, "next", (json_int_t)next, "more", more);
}
