/*
 * report.c — certflow report: the yearly summary for the state (REG_3, REG_4).
 * Certificant counts are taken as of the period's last day by replaying the
 * history; the other figures count history rows inside the period. Each
 * figure's definition is in docs/registry.md; keep the two in step.
 */
#include "program.h"

#include "../plugins/common/registry_row.h" /* rr_csv_field: the one CSV writer */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The workflows the report reads. */
enum { WF_CERTIFICATION, WF_COMPLAINT, WF_SUPERVISION, WF_EMPLOYMENT, WF_OTHER };

static const char *const SPECIALIZATIONS[] = {"parent_caregiver_family", "crisis", "justice_involved", "unhoused"};
#define NSPEC (sizeof SPECIALIZATIONS / sizeof SPECIALIZATIONS[0])

/* The events behind the figures (workflows/certification.lua and its neighbours). */
static const char *const EV_SUBMIT[] = {"submit", NULL};
static const char *const EV_EXAM[] = {"exam_result", NULL};
static const char *const EV_RENEW[] = {"renew", NULL};
static const char *const EV_RENEW_OVERTURNED[] = {"renewal_appeal_overturned", NULL};
static const char *const EV_DENY_RENEWAL[] = {"deny_renewal", NULL};
static const char *const EV_APPEAL_RENEWAL[] = {"appeal_renewal_denial", NULL};
static const char *const EV_LIFT[] = {"lift_suspension", NULL};
static const char *const EV_BILL[] = {"bill", NULL};
static const char *const EV_END[] = {"end", NULL};
static const char *const EV_REINSTATE[] = {"reinstate", NULL};
static const char *const EV_EXPIRE[] = {"expire", NULL};
static const char *const EV_SUSPEND[] = {"suspend", NULL};
static const char *const EV_REVOKE[] = {"revoke", NULL};
static const char *const EV_RESTORE[] = {"restore", NULL};
static const char *const EV_CORRECTIVE[] = {"corrective_action", NULL};
static const char *const EV_CORE_TRAINING[] = {"accept_training", NULL};
static const char *const EV_SUP_TRAINING[] = {"record_training", NULL};
static const char *const EV_APPEAL[] = {"appeal", NULL};
static const char *const EV_EXTEND[] = {"extend", NULL};
static const char *const EV_GRACE_ENDED[] = {"grace_ended", NULL};

static int is_event(const char *event, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(event, *names) == 0)
            return 1;
    return 0;
}

/* One instance, as the report needs it. */
typedef struct item {
    char id[37];
    int workflow;
    char *county;
    char *pathway;
    char *expires_on;
    unsigned spec_mask;  /* bit i: SPECIALIZATIONS[i] */
    char *state_at_end;  /* the state after the last row before the period's end (NULL: not yet created);
                            certifications and employments */
    int counted_training; /* counted once in the period */
} item;

typedef struct period {
    long long started, submitted, approved, denied, denial_appeals, withdrawn, windows_closed, exhausted;
    long long attempts, passed, failed, no_shows, late_cancellations;
    long long issued, renewals, renewals_after_appeal, reinstatements, expiries;
    long long renewal_denials, renewal_denials_appealed;
    long long complaints, corrective, suspensions, suspensions_lifted, revocations, restorations, appeals;
    long long core_trained, supervisors_trained;
    long long hires, extensions, ehr_suspensions, separations;
    long long billed_peer, billed_non_peer, bills_refused;
} period;

typedef struct ctx {
    item *items;
    size_t count, cap;
    cf_time from, to; /* [from, to) */
    int64_t from_day, to_day;
    period p;
    int oom;
} ctx;

static int workflow_of(const char *name)
{
    if (strcmp(name, "certification") == 0)
        return WF_CERTIFICATION;
    if (strcmp(name, "complaint") == 0)
        return WF_COMPLAINT;
    if (strcmp(name, "supervision") == 0)
        return WF_SUPERVISION;
    if (strcmp(name, "employment") == 0)
        return WF_EMPLOYMENT;
    return WF_OTHER;
}

static int collect_item(void *ud, const cf_instance_info *info)
{
    ctx *c = ud;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        item *grown = realloc(c->items, cap * sizeof *grown);
        if (!grown) {
            c->oom = 1;
            return 1;
        }
        c->items = grown;
        c->cap = cap;
    }
    item *it = &c->items[c->count];
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%s", info->id);
    it->workflow = workflow_of(info->workflow);
    it->county = strdup(info->county ? info->county : "");
    json_t *data = NULL;
    if (it->workflow == WF_CERTIFICATION)
        data = json_loads(info->data ? info->data : "{}", 0, NULL);
    const char *pw = json_string_value(json_object_get(data, "pathway"));
    const char *exp = json_string_value(json_object_get(data, "expires_on"));
    it->pathway = strdup(pw && *pw ? pw : "initial");
    it->expires_on = exp ? strdup(exp) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(data, "specializations"), i, v)
    {
        for (size_t s = 0; s < NSPEC; s++)
            if (json_is_string(v) && strcmp(json_string_value(v), SPECIALIZATIONS[s]) == 0)
                it->spec_mask |= 1u << s;
    }
    /* EX_7: no-shows and late cancellations (recorded as no-shows) are entries of the
     * `exams` list, a field only the policy writes (owned), dated with the day they happened */
    json_array_foreach(json_object_get(data, "exams"), i, v)
    {
        const char *result = json_string_value(json_object_get(v, "result"));
        const char *on = json_string_value(json_object_get(v, "on"));
        int64_t day;
        if (!result || strcmp(result, "no_show") != 0 || !on || prog_parse_date(on, &day) != 0)
            continue;
        if (day < c->from_day || day > c->to_day)
            continue;
        c->p.no_shows++;
        c->p.late_cancellations += json_is_true(json_object_get(v, "late_cancellation"));
    }
    json_decref(data);
    c->count++;
    if (!it->county || !it->pathway || (exp && !it->expires_on)) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const item *)a)->id, ((const item *)b)->id);
}

static item *find_item(ctx *c, const char *id)
{
    item key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, c->items, c->count, sizeof *c->items, item_cmp);
}

static int status_of(const char *state)
{
    return prog_status_of(state, NULL, NULL, 0);
}

/* A certification row inside the period. */
static void count_certification(ctx *c, item *it, const cf_history_entry *h)
{
    period *p = &c->p;
    const char *ev = h->event, *from = h->from_state, *to = h->to_state;
    int entered = strcmp(from, to) != 0;
    if (is_event(ev, EV_SUBMIT))
        p->submitted++;
    if (entered) {
        p->approved += strcmp(to, "approved") == 0 && strcmp(from, "exhausted") != 0;
        p->denied += strcmp(to, "denied") == 0;
        p->withdrawn += strcmp(to, "withdrawn") == 0;
        p->windows_closed += strcmp(to, "window_closed") == 0;
        p->exhausted += strcmp(to, "exhausted") == 0;
        /* issued: a certification is held now and was not before */
        p->issued += status_of(to) == PROG_ACTIVE && status_of(from) < 0;
    }
    p->reinstatements += is_event(ev, EV_REINSTATE);
    p->renewal_denials += is_event(ev, EV_DENY_RENEWAL);
    p->renewal_denials_appealed += is_event(ev, EV_APPEAL_RENEWAL);
    p->suspensions_lifted += is_event(ev, EV_LIFT);
    p->expiries += is_event(ev, EV_EXPIRE);
    p->suspensions += is_event(ev, EV_SUSPEND);
    p->revocations += is_event(ev, EV_REVOKE);
    p->restorations += is_event(ev, EV_RESTORE);
    p->denial_appeals += is_event(ev, EV_APPEAL);
    if (is_event(ev, EV_EXAM)) {
        json_t *d = json_loads(h->data, 0, NULL);
        const char *result = json_string_value(json_object_get(d, "result"));
        p->attempts++;
        if (result && strcmp(result, "pass") == 0)
            p->passed++;
        else
            p->failed++;
        json_decref(d);
    }
    if (is_event(ev, EV_RENEW))
        p->renewals++;
    if (is_event(ev, EV_RENEW_OVERTURNED)) { /* DIS_7: the overturned denial renews */
        p->renewals++;
        p->renewals_after_appeal++;
    }
    if (is_event(ev, EV_CORRECTIVE))
        p->corrective++;
    if (is_event(ev, EV_CORE_TRAINING) && !it->counted_training) {
        it->counted_training = 1;
        p->core_trained++;
    }
}

static int history_row(void *ud, const cf_history_entry *h)
{
    ctx *c = ud;
    item *it = find_item(c, h->instance_id);
    if (!it)
        return 0;
    if (strcmp(h->outcome, "rejected") == 0) {
        /* EMP_2: a refused bill is a figure for the state; other refusals never count */
        if (it->workflow == WF_EMPLOYMENT && h->effective_at >= c->from && is_event(h->event, EV_BILL))
            c->p.bills_refused++;
        return 0;
    }
    if (it->workflow == WF_CERTIFICATION || it->workflow == WF_EMPLOYMENT) {
        char *state = strdup(h->to_state);
        if (!state) {
            c->oom = 1;
            return 1;
        }
        free(it->state_at_end);
        it->state_at_end = state;
    }
    if (h->effective_at < c->from)
        return 0;
    if (strcmp(h->outcome, "created") == 0) {
        c->p.started += it->workflow == WF_CERTIFICATION;
        c->p.complaints += it->workflow == WF_COMPLAINT;
        c->p.hires += it->workflow == WF_EMPLOYMENT;
        return 0;
    }
    switch (it->workflow) {
    case WF_CERTIFICATION:
        count_certification(c, it, h);
        break;
    case WF_COMPLAINT:
        c->p.appeals += is_event(h->event, EV_APPEAL);
        break;
    case WF_EMPLOYMENT:
        c->p.extensions += is_event(h->event, EV_EXTEND);
        c->p.ehr_suspensions += is_event(h->event, EV_GRACE_ENDED);
        c->p.separations += is_event(h->event, EV_END);
        if (is_event(h->event, EV_BILL)) {
            json_t *d = json_loads(h->data, 0, NULL);
            const char *kind = json_string_value(json_object_get(d, "code_type"));
            if (kind && strcmp(kind, "peer") == 0)
                c->p.billed_peer++;
            else
                c->p.billed_non_peer++;
            json_decref(d);
        }
        break;
    case WF_SUPERVISION:
        if (is_event(h->event, EV_SUP_TRAINING) && !it->counted_training) {
            it->counted_training = 1;
            c->p.supervisors_trained++;
        }
        break;
    default:
        break;
    }
    return 0;
}

static void ctx_free(ctx *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->items[i].county);
        free(c->items[i].pathway);
        free(c->items[i].expires_on);
        free(c->items[i].state_at_end);
    }
    free(c->items);
}

static json_t *status_counts(void)
{
    json_t *o = json_object();
    for (int s = 0; s < PROG_NSTATUS; s++)
        json_object_set_new(o, prog_status_names[s], json_integer(0));
    json_object_set_new(o, "total", json_integer(0));
    return o;
}

static void bump(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    json_integer_set(v, json_integer_value(v) + 1);
}

/* Add one certificant with status s under key (created in sorted position later). */
static void tally(json_t *by, const char *key, int s)
{
    json_t *row = json_object_get(by, key);
    if (!row) {
        row = status_counts();
        json_object_set_new(by, key, row);
    }
    bump(row, prog_status_names[s]);
    bump(row, "total");
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same object with its keys sorted (new reference). */
static json_t *sorted(json_t *o)
{
    size_t n = json_object_size(o), i = 0;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    json_t *out = json_object();
    const char *k;
    json_t *v;
    if (keys && out) {
        json_object_foreach(o, k, v) keys[i++] = k;
        qsort(keys, n, sizeof *keys, key_cmp);
        for (i = 0; i < n; i++)
            json_object_set(out, keys[i], json_object_get(o, keys[i]));
    }
    free(keys);
    json_decref(o);
    return out;
}

static json_t *certificants(ctx *c)
{
    json_t *status = status_counts(), *pathway = json_object(), *county = json_object(), *spec = json_object();
    for (size_t s = 0; s < NSPEC; s++)
        json_object_set_new(spec, SPECIALIZATIONS[s], json_integer(0));
    for (size_t i = 0; i < c->count; i++) {
        item *it = &c->items[i];
        if (it->workflow != WF_CERTIFICATION || !it->state_at_end)
            continue;
        int s = prog_status_of(it->state_at_end, NULL, it->expires_on, c->to_day);
        if (s < 0)
            continue;
        bump(status, prog_status_names[s]);
        bump(status, "total");
        tally(pathway, it->pathway, s);
        tally(county, it->county, s);
        if (s == PROG_ACTIVE)
            for (size_t k = 0; k < NSPEC; k++)
                if (it->spec_mask & (1u << k))
                    bump(spec, SPECIALIZATIONS[k]);
    }
    json_t *o = json_object();
    json_object_set_new(o, "by_status", status);
    json_object_set_new(o, "by_pathway", sorted(pathway));
    json_object_set_new(o, "by_county", sorted(county));
    json_object_set_new(o, "active_by_specialization", spec);
    return o;
}

#define SET(o, k, v) json_object_set_new(o, k, json_integer(v))

/* Employment at the end of the period (seed 003: "Maintain billing and employment data, and
 * provide to the state"): employments by state, replayed from the history like certificants. */
static json_t *employed_at_end(const ctx *c)
{
    long long employed = 0, certified = 0, grace = 0, not_billing = 0;
    for (size_t i = 0; i < c->count; i++) {
        const item *it = &c->items[i];
        const char *st = it->state_at_end;
        if (it->workflow != WF_EMPLOYMENT || !st || strcmp(st, "hired") == 0 || strcmp(st, "ended") == 0)
            continue;
        employed++;
        if (strcmp(st, "certified") == 0)
            certified++;
        else if (strcmp(st, "grace") == 0)
            grace++;
        else
            not_billing++; /* ehr_suspended, ehr_restoring, not_in_good_standing */
    }
    json_t *o = json_object();
    SET(o, "employed", employed);
    SET(o, "certified_billing_peer_codes", certified);
    SET(o, "uncertified_in_grace", grace);
    SET(o, "not_billing_peer_codes", not_billing);
    return o;
}

static json_t *period_json(const period *p)
{
    json_t *top = json_object(), *o;
    o = json_object();
    SET(o, "started", p->started);
    SET(o, "submitted", p->submitted);
    SET(o, "approved", p->approved);
    SET(o, "denied", p->denied);
    SET(o, "denials_appealed", p->denial_appeals);
    SET(o, "withdrawn", p->withdrawn);
    SET(o, "windows_closed", p->windows_closed);
    SET(o, "attempts_exhausted", p->exhausted);
    json_object_set_new(top, "applications", o);
    o = json_object();
    SET(o, "attempts", p->attempts);
    SET(o, "passed", p->passed);
    SET(o, "failed", p->failed);
    SET(o, "no_shows", p->no_shows);
    SET(o, "late_cancellations", p->late_cancellations);
    /* one decimal, computed in integers so every platform prints the same */
    json_object_set_new(o, "pass_rate_percent",
                        p->attempts ? json_real((double)((p->passed * 1000 + p->attempts / 2) / p->attempts) / 10.0)
                                    : json_null());
    json_object_set_new(top, "exam", o);
    o = json_object();
    SET(o, "issued", p->issued);
    SET(o, "renewals", p->renewals);
    SET(o, "renewals_after_appeal", p->renewals_after_appeal);
    SET(o, "renewal_denials", p->renewal_denials);
    SET(o, "renewal_denials_appealed", p->renewal_denials_appealed);
    SET(o, "reinstatements", p->reinstatements);
    SET(o, "expiries", p->expiries);
    json_object_set_new(top, "certifications", o);
    o = json_object();
    SET(o, "complaints_received", p->complaints);
    SET(o, "corrective_actions", p->corrective);
    SET(o, "suspensions", p->suspensions);
    SET(o, "suspensions_lifted", p->suspensions_lifted);
    SET(o, "revocations", p->revocations);
    SET(o, "restorations", p->restorations);
    SET(o, "appeals", p->appeals);
    json_object_set_new(top, "discipline", o);
    o = json_object();
    SET(o, "core_training_completed", p->core_trained);
    SET(o, "supervisors_trained", p->supervisors_trained);
    json_object_set_new(top, "training", o);
    o = json_object();
    SET(o, "hires", p->hires);
    SET(o, "grace_extensions", p->extensions);
    SET(o, "ehr_suspensions", p->ehr_suspensions);
    SET(o, "separations", p->separations);
    json_object_set_new(top, "employment", o);
    o = json_object();
    SET(o, "peer_services_billed", p->billed_peer);
    SET(o, "non_peer_services_billed", p->billed_non_peer);
    SET(o, "bills_refused", p->bills_refused);
    json_object_set_new(top, "billing", o);
    return top;
}

int prog_report_build(cf_engine *e, int64_t from_day, int64_t to_day, json_t **out)
{
    *out = NULL;
    ctx c;
    memset(&c, 0, sizeof c);
    int rc = cf_local_midnight(e, from_day, &c.from);
    if (rc == CF_OK)
        rc = cf_local_midnight(e, to_day + 1, &c.to);
    if (rc != CF_OK)
        return rc;
    c.from_day = from_day;
    c.to_day = to_day;
    rc = cf_instance_list(e, NULL, collect_item, &c);
    if (rc == CF_OK && !c.oom) {
        if (c.count > 1)
            qsort(c.items, c.count, sizeof *c.items, item_cmp);
        rc = cf_history_between(e, INT64_MIN, c.to, NULL, history_row, &c);
    }
    if (rc == CF_OK && c.oom)
        rc = CF_ENOMEM;
    if (rc == CF_OK) {
        json_t *doc = json_object(), *per = json_object();
        char buf[11];
        json_object_set_new(per, "from", json_string(prog_format_date(from_day, buf)));
        json_object_set_new(per, "to", json_string(prog_format_date(to_day, buf)));
        json_object_set_new(doc, "period", per);
        json_object_set_new(doc, "certificants", certificants(&c));
        json_t *figures = period_json(&c.p);
        json_object_update(doc, figures);
        json_decref(figures);
        json_object_set_new(doc, "employed_at_end", employed_at_end(&c));
        *out = doc;
    }
    ctx_free(&c);
    return rc;
}

/* ---- Printing ---- */

static void print_number(FILE *f, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%.1f", json_real_value(v));
    else if (json_is_string(v))
        cli_put(f, json_string_value(v));
    else
        fputs("-", f);
}

static void title(FILE *f, const char *parent, const char *key)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s%s%s", parent ? parent : "", parent ? " " : "", key);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    if (buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
    cli_textf(f, "\n%s\n", buf);
}

/* An object of numbers: one "  name  value" line each. */
static void print_list(FILE *f, const json_t *o)
{
    const char *k;
    json_t *v;
    size_t w = 0;
    json_object_foreach((json_t *)o, k, v) if (strlen(k) > w) w = strlen(k);
    json_object_foreach((json_t *)o, k, v)
    {
        cli_textf(f, "  %-*s  ", (int)w, k);
        print_number(f, v);
        fputc('\n', f);
    }
}

/* An object of objects of numbers: a table, one row per key. */
static void print_table(FILE *f, const char *first, const json_t *o)
{
    const char *k, *col;
    json_t *v, *cell;
    size_t w = strlen(first);
    json_object_foreach((json_t *)o, k, v) if (strlen(k) > w) w = strlen(k);
    json_t *head = json_object_iter_value(json_object_iter((json_t *)o));
    if (!head) {
        fputs("  none\n", f);
        return;
    }
    fprintf(f, "  %-*s", (int)w, first);
    json_object_foreach(head, col, cell) cli_textf(f, "  %9s", col);
    fputc('\n', f);
    json_object_foreach((json_t *)o, k, v)
    {
        cli_textf(f, "  %-*s", (int)w, k);
        json_object_foreach(v, col, cell) fprintf(f, "  %9lld", (long long)json_integer_value(cell));
        fputc('\n', f);
    }
}

static int print_text(FILE *f, const json_t *r)
{
    const json_t *per = json_object_get(r, "period");
    const char *from = json_string_value(json_object_get(per, "from")),
               *to = json_string_value(json_object_get(per, "to"));
    cli_textf(f, "Peer Support Specialist program report, %s to %s\n", from, to);
    cli_textf(f, "(certificants as of %s; the other figures count what happened in the period)\n", to);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r, k, v)
    {
        if (strcmp(k, "period") == 0)
            continue;
        if (strcmp(k, "certificants") == 0) {
            const char *sk;
            json_t *sv;
            json_object_foreach(v, sk, sv)
            {
                if (strcmp(sk, "active_by_specialization") == 0)
                    fputs("\nActive certificants by specialization\n", f);
                else
                    title(f, k, sk);
                if (strncmp(sk, "by_", 3) == 0 && strcmp(sk, "by_status") != 0)
                    print_table(f, sk + 3, sv);
                else
                    print_list(f, sv);
            }
            continue;
        }
        title(f, NULL, k);
        print_list(f, v);
    }
    return ferror(f) ? -1 : 0;
}

/* CSV: section,item,value, one row per number; nested keys joined by '.'. */
static void csv_walk(FILE *f, const char *path, const json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (json_is_object(v)) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            csv_walk(f, sub, v);
            continue;
        }
        rr_csv_field(f, path);
        fputc(',', f);
        rr_csv_field(f, k);
        fputc(',', f);
        if (json_is_string(v))
            rr_csv_field(f, json_string_value(v));
        else if (!json_is_null(v))
            print_number(f, v);
        fputs("\r\n", f);
    }
}

int prog_report_print(FILE *f, const json_t *report, const char *format)
{
    if (strcmp(format, "json") == 0) {
        int rc = json_dumpf(report, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        return rc != 0 || fputc('\n', f) == EOF ? -1 : 0;
    }
    if (strcmp(format, "csv") == 0) {
        fputs("section,item,value\r\n", f);
        csv_walk(f, "", report);
        return ferror(f) ? -1 : 0;
    }
    return print_text(f, report);
}

int cli_cmd_report(cli_run *r)
{
    const cli_args *a = r->a;
    const char *format = a->opt[CLI_OPT_FORMAT];
    if (!format)
        format = a->opt[CLI_OPT_JSON] ? "json" : "text";
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return cli_usage(r, CLI_CMD_REPORT, "--format '%.60s' is not one of text, json, csv", format);
    /* Default: the calendar year before the clock's year. */
    int64_t today, from, to;
    int y;
    int rc = cf_local_date(r->e, cf_engine_now(r->e), &today);
    if (rc == CF_OK)
        rc = cf_date_to_civil(today, &y, NULL, NULL);
    if (rc == CF_OK && (y < 2 || cf_date_from_civil(y - 1, 1, 1, &from) != CF_OK ||
                        cf_date_from_civil(y - 1, 12, 31, &to) != CF_OK)) {
        fprintf(r->err, "certflow: the clock's year has no year before it (give --from and --to)\n");
        return CLI_EXIT_USAGE;
    }
    if (rc != CF_OK)
        return cli_fail(r, rc);
    if (a->opt[CLI_OPT_FROM] && prog_parse_date(a->opt[CLI_OPT_FROM], &from) != 0)
        return cli_usage(r, CLI_CMD_REPORT, "--from '%.60s' is not a date (YYYY-MM-DD)", a->opt[CLI_OPT_FROM]);
    if (a->opt[CLI_OPT_TO] && prog_parse_date(a->opt[CLI_OPT_TO], &to) != 0)
        return cli_usage(r, CLI_CMD_REPORT, "--to '%.60s' is not a date (YYYY-MM-DD)", a->opt[CLI_OPT_TO]);
    /* Only --from: up to today. Only --to: from the first of that year. */
    if (a->opt[CLI_OPT_FROM] && !a->opt[CLI_OPT_TO])
        to = today;
    if (a->opt[CLI_OPT_TO] && !a->opt[CLI_OPT_FROM] &&
        (cf_date_to_civil(to, &y, NULL, NULL) != CF_OK || cf_date_from_civil(y, 1, 1, &from) != CF_OK))
        return cli_usage(r, CLI_CMD_REPORT, "--to '%.60s' is not a date (YYYY-MM-DD)", a->opt[CLI_OPT_TO]);
    if (to < from)
        return cli_usage(r, CLI_CMD_REPORT, "--to comes before --from");
    json_t *report = NULL;
    rc = prog_report_build(r->e, from, to, &report);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    int bad = prog_report_print(r->out, report, format);
    json_decref(report);
    if (bad) {
        fprintf(r->err, "certflow: could not write the report: %s\n", strerror(errno));
        return CLI_EXIT_OTHER;
    }
    return 0;
}
