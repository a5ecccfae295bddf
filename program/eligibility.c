/*
 * eligibility.c — was this peer billable on a date of service, and why
 * (prog_eligibility; docs/billing.md). The Peer Support program's question,
 * answered through the public API from the histories of the hire's employment
 * instance and of its linked certification: the state each was in at the end of
 * that day (the engine's time zone), the rows that put it there, the hire date,
 * the Other Qualified Provider record and the program type. It only reads: it
 * works on a read-only handle. The command is eligibility_cmd.c.
 */
#include "eligibility.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* One history row as read (copied: the engine's row lives for the callback only). */
typedef struct raw_row {
    int64_t number, seq;
    char event[65];
    char from_state[65], to_state[65];
    bool rejected;
    cf_time effective_at;
} raw_row;

typedef struct raw_rows {
    raw_row *items;
    size_t count, cap;
    bool oom;
} raw_rows;

/* One history row kept for the answer. */
typedef struct kept_row {
    int64_t number, seq;
    char event[65];
    char to_state[65];
    char day[11]; /* its local date */
    cf_time effective_at;
} kept_row;

/* What one instance's history says about day D: the row that entered the state
 * it was in at the end of D (rejected rows are ignored). */
typedef struct day_view {
    char day[11];         /* D, "YYYY-MM-DD" */
    bool have_state;      /* some row on or before D */
    kept_row state_row;   /* the last row on or before D that recorded a state */
    bool have_before_end; /* the state before an `end` recorded on D itself */
    kept_row before_end;
    bool ended_on_day;
    bool have_oqp;        /* employment: record_oqp applied on or before D */
    kept_row oqp;
    bool have_grace_end;  /* employment: grace_ended applied (any day) */
    kept_row grace_end;
} day_view;

static int fail(char *msg, size_t size, int rc, const char *fmt, ...) PRINTF_LIKE(4, 5);
static int fail(char *msg, size_t size, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return rc;
}

/* The engine refused: its message, or the code's text. */
static int engine_fail(cf_engine *e, char *msg, size_t size, int rc)
{
    const char *m = cf_errmsg(e);
    return fail(msg, size, rc, "%s", m && *m ? m : cf_strerror(rc));
}

static int collect_row(void *ud, const cf_history_entry *h)
{
    raw_rows *rs = ud;
    if (rs->count == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        raw_row *p = realloc(rs->items, cap * sizeof *p);
        if (!p) {
            rs->oom = true;
            return 1;
        }
        rs->items = p;
        rs->cap = cap;
    }
    raw_row *r = &rs->items[rs->count++];
    r->number = h->number;
    r->seq = h->seq;
    snprintf(r->event, sizeof r->event, "%s", h->event);
    snprintf(r->from_state, sizeof r->from_state, "%s", h->from_state);
    snprintf(r->to_state, sizeof r->to_state, "%s", h->to_state);
    r->rejected = strcmp(h->outcome, "rejected") == 0;
    r->effective_at = h->effective_at;
    return 0;
}

static int keep(cf_engine *e, const raw_row *h, kept_row *k)
{
    k->number = h->number;
    k->seq = h->seq;
    snprintf(k->event, sizeof k->event, "%s", h->event);
    snprintf(k->to_state, sizeof k->to_state, "%s", h->to_state);
    int64_t d = 0;
    int rc = cf_local_date(e, h->effective_at, &d);
    if (rc == CF_OK)
        rc = cf_date_format(d, k->day, sizeof k->day);
    k->effective_at = h->effective_at;
    return rc;
}

static int view_row(cf_engine *e, day_view *v, const raw_row *h)
{
    if (h->rejected)
        return CF_OK;
    kept_row k;
    int rc = keep(e, h, &k);
    if (rc != CF_OK)
        return rc;
    if (strcmp(h->event, "grace_ended") == 0 && !v->have_grace_end) {
        v->grace_end = k;
        v->have_grace_end = true;
    }
    if (strcmp(k.day, v->day) > 0)
        return CF_OK; /* after D: rows are in order, but keep reading for grace_ended */
    if (strcmp(h->event, "end") == 0 && strcmp(k.day, v->day) == 0 && v->have_state) {
        /* separated on D: D itself was still worked */
        v->before_end = v->state_row;
        v->have_before_end = true;
        v->ended_on_day = true;
    }
    if (strcmp(h->event, "record_oqp") == 0) {
        v->oqp = k;
        v->have_oqp = true;
    }
    /* The row that entered the state in force (a row that stays in it changes nothing). */
    if (!v->have_state || strcmp(h->from_state, h->to_state) != 0) {
        v->state_row = k;
        v->have_state = true;
    }
    return CF_OK;
}

/* Read instance id's history, oldest first, into v (v->day set by the caller). */
static int read_view(cf_engine *e, const char *id, day_view *v, char *msg, size_t size)
{
    raw_rows rs = {0};
    int rc = cf_instance_history(e, id, collect_row, &rs);
    if (rs.oom)
        rc = fail(msg, size, CF_ENOMEM, "out of memory reading the history of %s", id);
    else if (rc != CF_OK)
        rc = engine_fail(e, msg, size, rc);
    for (size_t i = 0; rc == CF_OK && i < rs.count; i++)
        if ((rc = view_row(e, v, &rs.items[i])) != CF_OK)
            rc = fail(msg, size, rc, "history row %lld of %s lies outside the calendar (years 1 to 9999)",
                      (long long)rs.items[i].number, id);
    free(rs.items);
    return rc;
}

static int add_row(json_t *rows, const char *instance, const char *workflow, const kept_row *k, const char *why)
{
    char at[32];
    cf_time_format(k->effective_at, at, sizeof at);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "instance", instance, "workflow", workflow,
                          "number", (json_int_t)k->number, "seq", (json_int_t)k->seq, "event",
                          *k->event ? k->event : "(created)", "to_state", k->to_state, "at", at, "why", why);
    return !o || json_array_append_new(rows, o) != 0;
}

static const char *data_str(json_t *data, const char *key)
{
    return json_string_value(json_object_get(data, key));
}

/* "smhs", "dmc_ods" or NULL (not recorded) from the hire's data. */
static const char *program_type(json_t *data)
{
    const char *t = data_str(data, "program_type");
    if (!t)
        return NULL;
    if (strstr(t, "dmc") || strstr(t, "DMC"))
        return "dmc_ods";
    if (strstr(t, "smhs") || strstr(t, "SMHS") || strstr(t, "specialty"))
        return "smhs";
    return NULL;
}

static int reason(json_t *reasons, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int reason(json_t *reasons, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_array_append_new(reasons, json_string(buf)) != 0;
}

/* The employment instance: its county and its data, copied. */
static int read_employment(cf_engine *e, const char *id, char **county, json_t **data, char *msg, size_t size)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    int rc = cf_instance_get(e, id, &info);
    if (rc != CF_OK)
        return engine_fail(e, msg, size, rc);
    if (strcmp(info.workflow, "employment") != 0)
        return fail(msg, size, CF_EINVAL,
                    "instance %s is a '%s' instance; eligibility is answered for a hire: give the id of its "
                    "'employment' instance (`certflow list --workflow employment`)",
                    id, info.workflow);
    *data = json_loads(info.data, 0, NULL);
    if (!json_is_object(*data))
        return fail(msg, size, CF_ECORRUPT, "the stored data of instance %s is not a JSON object", id);
    *county = strdup(info.county);
    return *county ? CF_OK : fail(msg, size, CF_ENOMEM, "out of memory");
}

/* The answer for employment `id` on day `day` into *out (a new object). */
static int answer(cf_engine *e, const char *id, const char *day, json_t **out, char *msg, size_t size)
{
    *out = NULL;
    char *county = NULL;
    json_t *data = NULL, *reasons = json_array(), *rows = json_array(), *doc = NULL;
    int rc = reasons && rows ? CF_OK : fail(msg, size, CF_ENOMEM, "out of memory");
    if (rc == CF_OK)
        rc = read_employment(e, id, &county, &data, msg, size);
    day_view ev = {"", false, {0}, false, {0}, false, false, {0}, false, {0}};
    snprintf(ev.day, sizeof ev.day, "%s", day);
    if (rc == CF_OK)
        rc = read_view(e, id, &ev, msg, size);
    if (rc != CF_OK)
        goto out;
    const char *hired_on = data_str(data, "hired_on");
    const char *cert_id = data_str(data, "certification_id");
    const char *ptype = program_type(data);
    const char *supervisor = data_str(data, "supervisor_id");
    if (!supervisor)
        supervisor = data_str(data, "supervision_id");
    bool peer = false, non_peer = false, employed = true, bad = false;
    const kept_row *es = ev.ended_on_day && ev.have_before_end ? &ev.before_end : &ev.state_row;
    const char *emp_state = ev.have_state ? es->to_state : NULL;

    if (hired_on && strcmp(day, hired_on) < 0) {
        employed = false;
        bad |= reason(reasons, "%s is before the hire date %s: no service before hiring is complete", day, hired_on);
    } else if (!ev.have_state) {
        employed = false;
        bad |= reason(reasons, "the employment did not exist yet on %s", day);
    } else if (strcmp(emp_state, "hired") == 0) {
        employed = false;
        bad |= reason(reasons, "the employment was recorded but not started (`start`) by the end of %s", day);
        bad |= add_row(rows, id, "employment", es, "entered the employment's state of that day");
    } else if (strcmp(emp_state, "ended") == 0) {
        employed = false;
        bad |= reason(reasons, "separated from the position on %s (history row %lld)", es->day, (long long)es->number);
        bad |= add_row(rows, id, "employment", es, "the separation");
    } else {
        bad |= add_row(rows, id, "employment", es, "entered the employment's state of that day");
        if (ev.ended_on_day)
            bad |= reason(reasons, "separated on %s itself: that day is still counted as worked", day);
    }

    const char *cert_state = NULL; /* points into cv */
    day_view cv = {"", false, {0}, false, {0}, false, false, {0}, false, {0}};
    snprintf(cv.day, sizeof cv.day, "%s", day);
    if (employed && cert_id && *cert_id) {
        cf_instance_info cert = CF_INSTANCE_INFO_INIT;
        int crc = cf_instance_get(e, cert_id, &cert);
        if (crc == CF_OK) {
            rc = read_view(e, cert_id, &cv, msg, size);
            if (rc != CF_OK)
                goto out;
            if (cv.have_state) {
                cert_state = cv.state_row.to_state;
                bad |= add_row(rows, cert_id, "certification", &cv.state_row, "entered the certification's state of that day");
                doc = json_pack("{s:s, s:s, s:s*}", "id", cert_id, "state", cert_state, "since", cv.state_row.day);
            }
        } else if (crc != CF_ENOTFOUND) {
            rc = engine_fail(e, msg, size, crc);
            goto out;
        }
    }

    if (employed) {
        bool emp_certified = strcmp(emp_state, "certified") == 0;
        /* in good standing: certified.active (or "certified" on the flat definition before it) */
        bool cert_good = cert_state ? strcmp(cert_state, "certified.active") == 0 || strcmp(cert_state, "certified") == 0
                                    : emp_certified;
        if (emp_certified && cert_good) {
            peer = true;
            if (cert_state)
                bad |= reason(reasons, "certified in good standing on %s (certification %s); EHR access for "
                                       "peer services active", day, cert_id);
            else
                bad |= reason(reasons, "certified at hire (certification number %s recorded when the employment "
                                       "started)", data_str(data, "certification_number") ? data_str(data, "certification_number") : "?");
        } else if (cert_state && !cert_good && strcmp(emp_state, "grace") != 0) {
            bad |= reason(reasons, "peer codes: the certification was '%s' on %s, not certified in good standing",
                          cert_state, day);
        } else if (strcmp(emp_state, "grace") == 0) {
            char until[64] = "";
            if (ev.have_grace_end && strcmp(ev.grace_end.day, day) > 0)
                snprintf(until, sizeof until, "; it ended on %s (history row %lld)", ev.grace_end.day,
                         (long long)ev.grace_end.number);
            else if (data_str(data, "grace_ends_on"))
                snprintf(until, sizeof until, "; it runs until %s", data_str(data, "grace_ends_on"));
            bad |= reason(reasons, "peer codes: not certified yet on %s (certification: %s), inside the grace "
                                   "period after the hire on %s%s (EMP_1, EMP_2)",
                          day, cert_state ? cert_state : "none linked", hired_on ? hired_on : "?", until);
        } else if (strcmp(emp_state, "ehr_suspended") == 0) {
            bad |= reason(reasons, "peer codes: EHR access for peer services was suspended on %s (EMP_3)", day);
        } else if (strcmp(emp_state, "ehr_restoring") == 0) {
            bad |= reason(reasons, "peer codes: EHR access for peer services was being restored on %s after "
                                   "certification (EMP_3)", day);
        } else if (strcmp(emp_state, "not_in_good_standing") == 0) {
            bad |= reason(reasons, "peer codes: the certification was not in good standing on %s", day);
        } else if (!peer) {
            bad |= reason(reasons, "peer codes: not certified on %s", day);
        }
        /* Non-peer codes: the Other Qualified Provider route, specialty mental health only (seed 002). */
        bool dmc = ptype && strcmp(ptype, "dmc_ods") == 0;
        if (ev.have_oqp)
            bad |= add_row(rows, id, "employment", &ev.oqp, "Other Qualified Provider criteria recorded");
        if (dmc) {
            bad |= reason(reasons, "non-peer codes: a DMC-ODS program has only peer codes for a peer; the Other "
                                   "Qualified Provider route is for specialty mental health only");
        } else if (ev.have_oqp) {
            non_peer = true;
            bad |= reason(reasons, "non-peer codes: Other Qualified Provider criteria recorded on %s%s", ev.oqp.day,
                          ptype ? "" : " (program type not recorded: taken as specialty mental health)");
        } else {
            bad |= reason(reasons, "non-peer codes: no Other Qualified Provider criteria recorded by %s", day);
        }
    }
    json_t *cert_obj = doc;
    doc = json_pack("{s:s, s:s, s:s, s:s*, s:b, s:b, s:b, s:s*, s:o, s:s*, s:s*, s:s*, s:o, s:o}", "employment", id,
                    "date", day, "county", county, "name", data_str(data, "name"), "billable", peer || non_peer,
                    "peer_codes", peer, "non_peer_codes", non_peer, "employment_state",
                    emp_state,
                    "certification", cert_obj ? cert_obj : json_null(), "program_type", ptype, "supervisor",
                    supervisor, "hired_on", hired_on, "reasons", reasons, "rows", rows);
    reasons = rows = NULL;
    if (!doc || bad) {
        rc = fail(msg, size, CF_ENOMEM, "out of memory");
        goto out;
    }
    *out = doc;
    doc = NULL;
out:
    json_decref(doc);
    json_decref(data);
    json_decref(reasons);
    json_decref(rows);
    free(county);
    return rc;
}

int prog_eligibility(cf_engine *e, const char *employment_id, const char *date, json_t **out, char *msg,
                     size_t size)
{
    if (out)
        *out = NULL;
    if (!e || !employment_id || !date || !out || !msg || size == 0) {
        if (msg && size)
            fail(msg, size, CF_EINVAL, "prog_eligibility: an engine, an employment id, a date and out are required");
        return CF_EINVAL;
    }
    msg[0] = '\0';
    int64_t d;
    char day[11];
    if (cf_date_parse(date, &d) != CF_OK || cf_date_format(d, day, sizeof day) != CF_OK)
        return fail(msg, size, CF_EINVAL, "'%.40s' is not a date of service: give it as YYYY-MM-DD (e.g. 2025-03-14)",
                    date);
    return answer(e, employment_id, day, out, msg, size);
}
