/*
 * eligibility.c — was this peer billable on a date of service, and why
 * (cf_eligibility; docs/billing.md). Answered from the histories of the hire's
 * employment instance and of its linked certification: the state each was in
 * at the end of that day (program time zone), the rows that put it there, the
 * hire date, the Other Qualified Provider record and the program type.
 * It only reads (a read transaction): it works on a read-only handle.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    const cf_engine *e;
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

static void keep(const cf_engine *e, const cf__history_row *h, kept_row *k)
{
    k->number = h->number;
    k->seq = h->seq;
    snprintf(k->event, sizeof k->event, "%s", h->event);
    snprintf(k->to_state, sizeof k->to_state, "%s", h->to_state);
    cf__date_format(cf__tz_local_date(&e->tz, h->effective_at), k->day);
    k->effective_at = h->effective_at;
}

static int view_row(void *ud, const cf__history_row *h)
{
    day_view *v = ud;
    if (strcmp(h->outcome, "rejected") == 0)
        return 0;
    kept_row k;
    keep(v->e, h, &k);
    if (strcmp(h->event, "grace_ended") == 0 && !v->have_grace_end) {
        v->grace_end = k;
        v->have_grace_end = true;
    }
    if (strcmp(k.day, v->day) > 0)
        return 0; /* after D: rows are in order, but keep reading for grace_ended */
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
    return 0;
}

static int read_view(cf_engine *e, const char *id, day_view *v)
{
    return cf__audit_each(e->store, id, view_row, v, &e->err);
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

static int reason(json_t *reasons, const char *fmt, ...) CF__PRINTF(2, 3);
static int reason(json_t *reasons, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_array_append_new(reasons, json_string(buf)) != 0;
}

/* The answer for employment `id` on day `day` into *out (a new object). */
static int answer(cf_engine *e, const char *id, const cf__date *d, const char *day, json_t **out)
{
    *out = NULL;
    cf__instance_row emp = {0}, cert = {0};
    json_t *data = NULL, *reasons = json_array(), *rows = json_array(), *doc = NULL;
    int rc = reasons && rows ? CF_OK : cf__fail(&e->err, CF_ENOMEM, "out of memory");
    if (rc == CF_OK)
        rc = cf__store_instance_get(e->store, id, &emp, &e->err);
    if (rc == CF_OK && strcmp(emp.workflow, "employment") != 0)
        rc = cf__fail(&e->err, CF_EINVAL,
                      "instance %s is a '%s' instance; eligibility is answered for a hire: give the id of its "
                      "'employment' instance (`certflow list --workflow employment`)",
                      id, emp.workflow);
    if (rc == CF_OK) {
        data = json_loads(emp.data, 0, NULL);
        if (!json_is_object(data))
            rc = cf__fail(&e->err, CF_ECORRUPT, "the stored data of instance %s is not a JSON object", id);
    }
    day_view ev = {e, "", false, {0}, false, {0}, false, false, {0}, false, {0}};
    snprintf(ev.day, sizeof ev.day, "%s", day);
    if (rc == CF_OK)
        rc = read_view(e, id, &ev);
    if (rc != CF_OK)
        goto out;
    (void)d;
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
    day_view cv = {e, "", false, {0}, false, {0}, false, false, {0}, false, {0}};
    snprintf(cv.day, sizeof cv.day, "%s", day);
    if (employed && cert_id && *cert_id) {
        int crc = cf__store_instance_get(e->store, cert_id, &cert, &e->err);
        if (crc == CF_OK) {
            rc = read_view(e, cert_id, &cv);
            if (rc != CF_OK)
                goto out;
            if (cv.have_state) {
                cert_state = cv.state_row.to_state;
                bad |= add_row(rows, cert_id, "certification", &cv.state_row, "entered the certification's state of that day");
                doc = json_pack("{s:s, s:s, s:s*}", "id", cert_id, "state", cert_state, "since", cv.state_row.day);
            }
        } else if (crc != CF_ENOTFOUND) {
            rc = crc;
            goto out;
        }
        e->err.msg[0] = '\0';
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
                    "date", day, "county", emp.county, "name", data_str(data, "name"), "billable", peer || non_peer,
                    "peer_codes", peer, "non_peer_codes", non_peer, "employment_state",
                    emp_state,
                    "certification", cert_obj ? cert_obj : json_null(), "program_type", ptype, "supervisor",
                    supervisor, "hired_on", hired_on, "reasons", reasons, "rows", rows);
    reasons = rows = NULL;
    if (!doc || bad) {
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
        goto out;
    }
    *out = doc;
    doc = NULL;
out:
    json_decref(doc);
    json_decref(data);
    json_decref(reasons);
    json_decref(rows);
    cf__instance_row_clear(&emp);
    cf__instance_row_clear(&cert);
    return rc;
}

int cf_eligibility(cf_engine *e, const char *employment_id, const char *date, char **json_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (json_out)
        *json_out = NULL;
    if (!employment_id || !date || !json_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_eligibility: an employment id, a date and json_out are required");
    rc = cf__check_text(&e->err, "the employment id", employment_id, true);
    if (rc != CF_OK)
        return rc;
    cf__date d;
    if (!cf__date_parse(date, &d))
        return cf__fail(&e->err, CF_EINVAL, "'%.40s' is not a date of service: give it as YYYY-MM-DD (e.g. 2025-03-14)",
                        date);
    char day[11];
    cf__date_format(d, day);
    rc = cf__store_begin_read(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    json_t *doc = NULL;
    rc = answer(e, employment_id, &d, day, &doc);
    cf__store_rollback(e->store);
    if (rc == CF_OK) {
        *json_out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!*json_out)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    json_decref(doc);
    return rc;
}
