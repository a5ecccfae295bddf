/*
 * simulate.c — certflow simulate: a seeded population of applicants in several
 * counties driven through the shipped program (certification, employment,
 * supervision, complaint) day by day on a virtual clock, through the public API
 * only. The same seed gives the same run: the only randomness is our own
 * splitmix64 streams (random.h), the only time the virtual clock. Rejections by
 * policy are part of the story and are counted; an engine error stops the run.
 * This file holds the run; its talk with the engine is sim_engine.c, who takes
 * part population.c, what each agent does on a day agents.c (simulate.h).
 */
#include "simulate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static cf_time sim_clock(void *ud)
{
    return ((const sim *)ud)->now;
}

static void group_digits(long long v, char buf[32])
{
    char raw[32];
    snprintf(raw, sizeof raw, "%lld", v < 0 ? -v : v);
    size_t n = strlen(raw), o = 0;
    if (v < 0)
        buf[o++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

/* ---- The run ---- */

static int has_workflow(void *ud, const char *name)
{
    sim *s = ud;
    s->has_employment |= strcmp(name, "employment") == 0;
    s->has_supervision |= strcmp(name, "supervision") == 0;
    s->has_complaint |= strcmp(name, "complaint") == 0;
    s->has_scholarship |= strcmp(name, "scholarship") == 0;
    return 0;
}

static int any_instance(void *ud, const cf_instance_info *info)
{
    (void)info;
    *(int *)ud = 1;
    return 1;
}

/* One simulated day: its timers, then what each agent does. */
static int day_events(sim *s)
{
    uint64_t fired = 0;
    int rc = cf_engine_tick(s->e, s->now, &fired);
    s->timers += (long long)fired;
    s->in_batch += (long long)fired;
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "tick", NULL);
    for (size_t i = 0; i < s->npeople; i++) {
        person *p = &s->people[i];
        if (p->next <= s->day && sim_person_act(s, p) < 0)
            return -1;
        if (p->emp_next <= s->day && sim_employer_act(s, p) < 0)
            return -1;
        if (p->complaint && p->complaint_day && p->complaint_day <= s->day && sim_complaint_file(s, p) < 0)
            return -1;
    }
    for (size_t i = 0; i < s->nsups; i++)
        if (s->sups[i].next <= s->day && sim_supervisor_act(s, &s->sups[i], i) < 0)
            return -1;
    for (size_t i = 0; i < s->ncomplaints; i++)
        if (s->complaints[i].next <= s->day && sim_complaint_act(s, &s->complaints[i]) < 0)
            return -1;
    return 0;
}

/* A day runs in batches (cf_batch_begin/commit; sim_batch_step starts the next one every
 * SIM_BATCH_EVENTS events), so an event pays no commit of its own. Each event stays all or
 * nothing; the linked events a batch queues are delivered when it commits. */
static int run_day(sim *s)
{
    s->now = sim_midnight(s, s->day) + 10 * 3600;
    int rc = cf_batch_begin(s->e);
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "starting the day's batch", NULL);
    s->in_batch = 0;
    int r = day_events(s);
    /* after an engine error too: what the run did until then stays, as without batches */
    rc = cf_batch_active(s->e) ? cf_batch_commit(s->e) : CF_OK;
    if (rc != CF_OK && r == 0)
        return sim_engine_error(s, rc, "committing the day's batch", NULL);
    return r;
}

static int parse_count(cli_run *r, cli_opt o, long long lo, long long hi, long long def, long long *out)
{
    const char *v = r->a->opt[o];
    *out = def;
    if (!v)
        return 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi)
        return cli_usage(r, CLI_CMD_SIMULATE, "--%s '%.60s' is not a whole number from %lld to %lld", cli_opt_get(o)->name,
                         v, lo, hi);
    *out = n;
    return 0;
}

static void print_summary(sim *s, FILE *f)
{
    char a[32], b[32], c[32], d[32];
    group_digits(s->fired, a);
    group_digits(s->applied, b);
    group_digits(s->rejected, c);
    group_digits(s->timers, d);
    fprintf(f, "\nEvents: %s fired by people and staff (%s applied, %s rejected by policy); %s timers fired\n", a, b, c, d);
    /* rejections by cause, most first */
    reason_count sorted[64];
    size_t n = s->nreasons;
    memcpy(sorted, s->reasons, n * sizeof sorted[0]);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            reason_count *x = &sorted[j - 1], *y = &sorted[j];
            if (x->count > y->count || (x->count == y->count && strcmp(x->name, y->name) <= 0))
                break;
            reason_count t = *x;
            *x = *y;
            *y = t;
        }
    fprintf(f, "Rejected: %s (", c);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s %lld", i ? ", " : "", sorted[i].name, sorted[i].count);
    fprintf(f, "%s)\n", n ? "" : "none");
}

typedef struct wf_count {
    const char *name;
    long long n;
} wf_count;

static int count_instance(void *ud, const cf_instance_info *info)
{
    wf_count *w = ud;
    for (; w->name; w++)
        if (strcmp(w->name, info->workflow) == 0) {
            w->n++;
            break;
        }
    return 0;
}

static int print_results(sim *s, FILE *f)
{
    wf_count counts[] = {{"certification", 0}, {"employment", 0}, {"supervision", 0},
                         {"complaint", 0},     {"scholarship", 0}, {NULL, 0}};
    int rc = cf_instance_list(s->e, NULL, count_instance, counts);
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "listing instances", NULL);
    fprintf(f, "Instances:");
    for (wf_count *w = counts; w->name; w++)
        fprintf(f, "%s %lld %s", w == counts ? "" : ",", w->n, w->name);
    fputc('\n', f);

    char day[11];
    prog_registry reg;
    rc = prog_registry_load(s->e, s->last_day, &reg);
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "reading the registry", NULL);
    long long by[PROG_NSTATUS] = {0};
    for (size_t i = 0; i < reg.count; i++)
        by[reg.rows[i].status]++;
    fprintf(f, "\nRegistry on %s: %zu people hold or held a certification\n", sim_date_str(s->last_day, day), reg.count);
    for (int st = 0; st < PROG_NSTATUS; st++)
        fprintf(f, "  %-9s  %lld\n", prog_status_names[st], by[st]);
    prog_registry_free(&reg);

    /* one yearly report per simulated year */
    for (int k = 0;; k++) {
        int64_t from, to;
        if (prog_add_years(s->first_day, k, &from) != CF_OK || from > s->last_day)
            break;
        /* last_day + 1 is first_day + the years, so a year that ends it exists */
        if (prog_add_years(s->first_day, k + 1, &to) != CF_OK || --to > s->last_day)
            to = s->last_day;
        fprintf(f, "\n==== Year %d ====\n", k + 1);
        json_t *report = NULL;
        rc = prog_report_build(s->e, from, to, &report);
        if (rc != CF_OK)
            return sim_engine_error(s, rc, "building the report", NULL);
        int bad = prog_report_print(f, report, "text");
        json_decref(report);
        if (bad)
            return -1;
    }
    return 0;
}

/* simulate --json: what the text prints, as one document. 0, or -1 after sim_engine_error. */
static int print_json(sim *s, FILE *f, long long people, long long seed, long long years)
{
    char from[11], to[11], day[11];
    json_t *causes = json_object();
    for (size_t i = 0; i < s->nreasons; i++)
        json_object_set_new(causes, s->reasons[i].name, json_integer(s->reasons[i].count));
    wf_count counts[] = {{"certification", 0}, {"employment", 0}, {"supervision", 0},
                         {"complaint", 0},     {"scholarship", 0}, {NULL, 0}};
    int rc = cf_instance_list(s->e, NULL, count_instance, counts);
    if (rc != CF_OK) {
        json_decref(causes);
        return sim_engine_error(s, rc, "listing instances", NULL);
    }
    json_t *inst = json_object();
    for (wf_count *w = counts; w->name; w++)
        json_object_set_new(inst, w->name, json_integer(w->n));
    json_t *doc = json_pack("{s:I,s:I,s:I,s:I,s:s,s:s,s:{s:I,s:I,s:I,s:I},s:o,s:o}", "people", (json_int_t)people,
                            "counties", (json_int_t)NCOUNTIES, "seed", (json_int_t)seed, "years", (json_int_t)years,
                            "from", sim_date_str(s->first_day, from), "to", sim_date_str(s->last_day, to), "events",
                            "fired", (json_int_t)s->fired, "applied", (json_int_t)s->applied, "rejected",
                            (json_int_t)s->rejected, "timers", (json_int_t)s->timers, "rejected_by_cause", causes,
                            "instances", inst);
    prog_registry reg;
    rc = prog_registry_load(s->e, s->last_day, &reg);
    if (rc != CF_OK) {
        json_decref(doc);
        return sim_engine_error(s, rc, "reading the registry", NULL);
    }
    json_t *by = json_object();
    long long n[PROG_NSTATUS] = {0};
    for (size_t i = 0; i < reg.count; i++)
        n[reg.rows[i].status]++;
    for (int st = 0; st < PROG_NSTATUS; st++)
        json_object_set_new(by, prog_status_names[st], json_integer(n[st]));
    json_object_set_new(doc, "registry", json_pack("{s:s,s:I,s:o}", "on", sim_date_str(s->last_day, day), "people",
                                                   (json_int_t)reg.count, "by_status", by));
    prog_registry_free(&reg);
    json_t *reports = json_array();
    json_object_set_new(doc, "reports", reports);
    for (int k = 0;; k++) {
        int64_t a, b;
        if (prog_add_years(s->first_day, k, &a) != CF_OK || a > s->last_day)
            break;
        if (prog_add_years(s->first_day, k + 1, &b) != CF_OK || --b > s->last_day)
            b = s->last_day;
        json_t *report = NULL;
        rc = prog_report_build(s->e, a, b, &report);
        if (rc != CF_OK) {
            json_decref(doc);
            return sim_engine_error(s, rc, "building the report", NULL);
        }
        json_array_append_new(reports, report);
    }
    return cli_json_print(f, doc) ? -1 : 0;
}

int cli_cmd_simulate(cli_run *r)
{
    long long people, seed, years;
    int x = parse_count(r, CLI_OPT_PEOPLE, 1, 1000000, 500, &people);
    if (!x)
        x = parse_count(r, CLI_OPT_SEED, 0, INT64_MAX, 1, &seed);
    if (!x)
        x = parse_count(r, CLI_OPT_YEARS, 1, 50, 3, &years);
    if (x)
        return x;

    /* A simulation writes thousands of made-up people: never into a database in use. */
    int used = 0;
    int rc = cf_instance_list(r->e, NULL, any_instance, &used);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    if (used) {
        fprintf(r->err, "certflow: simulate needs an empty database, and %s already holds instances (give --db NEW.db)\n",
                r->db);
        return CLI_EXIT_INVALID;
    }

    sim s;
    memset(&s, 0, sizeof s);
    s.r = r;
    s.seed = (uint64_t)seed;
    s.e = r->e;
    s.first_day = sim_civil(2023, 1, 1);
    if (r->has_now && (rc = cf_local_date(r->e, r->fixed_now, &s.first_day)) != CF_OK)
        return cli_fail(r, rc);
    if (prog_add_years(s.first_day, (int)years, &s.last_day) != CF_OK) {
        char first[11];
        fprintf(r->err, "certflow: simulate from %s for %lld years would end after 9999-12-31 (give an earlier --now or fewer --years)\n",
                prog_format_date(s.first_day, first), years);
        return CLI_EXIT_USAGE;
    }
    s.last_day--;
    s.day = s.first_day;
    s.now = sim_midnight(&s, s.first_day);

    /* Reopen the database on the virtual clock. */
    cf_engine_close(r->e);
    r->e = NULL;
    cf_options opts = r->opts;
    opts.clock = sim_clock;
    opts.clock_ud = &s;
    rc = cf_engine_open(r->db, &opts, &r->e);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    s.e = r->e;
    if ((rc = cf_workflow_names(s.e, has_workflow, &s)) != CF_OK)
        return cli_fail(r, rc);

    s.npeople = (size_t)people;
    s.nsups = s.has_supervision ? s.npeople / 25 + 2 : 0;
    s.people = calloc(s.npeople, sizeof *s.people);
    s.sups = calloc(s.nsups ? s.nsups : 1, sizeof *s.sups);
    if (!s.people || !s.sups) {
        free(s.people);
        free(s.sups);
        fprintf(r->err, "certflow: out of memory for %lld people\n", people);
        return CLI_EXIT_OTHER;
    }
    sim_make_people(&s);
    if (s.has_scholarship) {
        /* one statewide pool, limited: it runs out, and closes after 18 months */
        char closes[11];
        json_t *pool = json_pack("{s:s, s:s, s:i, s:s}", "name", "CalMHSA peer scholarship", "code", "SCH", "funds",
                                 (int)(people * 85 + 2000), "closes_on", sim_date_str(s.first_day + 547, closes));
        s.now = sim_midnight(&s, s.first_day) + 8 * 3600;
        if (sim_create(&s, "scholarship", 0, pool, "calmhsa", s.pool) < 0) {
            free(s.people);
            free(s.sups);
            return s.exit_code;
        }
    }

    char from[11], to[11];
    FILE *out = r->out;
    int json = r->a->opt[CLI_OPT_JSON] != NULL;
    if (!json)
        fprintf(out, "certflow simulate: %lld people in %zu counties, seed %lld, %lld year%s (%s to %s)\n", people, NCOUNTIES,
            seed, years, years == 1 ? "" : "s", sim_date_str(s.first_day, from), sim_date_str(s.last_day, to));
    if (!json && (!s.has_employment || !s.has_supervision || !s.has_complaint || !s.has_scholarship))
        fprintf(out, "not simulated (workflow not loaded):%s%s%s%s\n", s.has_employment ? "" : " employment",
                s.has_supervision ? "" : " supervision", s.has_complaint ? "" : " complaint",
                s.has_scholarship ? "" : " scholarship");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t total = s.last_day - s.first_day + 1;
    int tty = isatty(fileno(r->err)); /* a redirected stderr gets the last line only */
    for (; s.day <= s.last_day; s.day++) {
        if (run_day(&s) < 0)
            break;
        int64_t n = s.day - s.first_day + 1;
        if ((tty && n % 7 == 0) || n == total) {
            char ev[32];
            group_digits(s.fired + s.timers, ev);
            fprintf(r->err, "\rday %lld/%lld  people %lld  events %s ", (long long)n, (long long)total, people, ev);
            fflush(r->err);
        }
    }
    fputc('\n', r->err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int code = 0;
    if (s.failed) {
        code = s.exit_code;
    } else if (json) {
        if (print_json(&s, out, people, seed, years) < 0)
            code = s.exit_code ? s.exit_code : CLI_EXIT_OTHER;
    } else {
        print_summary(&s, out);
        if (print_results(&s, out) < 0)
            code = s.exit_code ? s.exit_code : CLI_EXIT_OTHER;
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(r->err, "simulated %lld days in %.1f s (database %s)\n", (long long)total, secs, r->db);
    }
    json_decref(s.state_buf);
    free(s.data_text);
    free(s.people);
    free(s.sups);
    free(s.complaints);
    return code;
}
