/*
 * sim_engine.c — how certflow simulate talks with the engine: firing events,
 * creating and reading instances (an engine error stops the run, a rejection by
 * policy is counted), and the dates of the run in the engine's time zone. The
 * run (simulate.c), the population and the agents all go through here.
 */
#include "simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Dates ---- */

const char *sim_date_str(int64_t day, char buf[11])
{
    return prog_format_date(day, buf);
}

/* A known date of the program's history (a real date: cannot fail). */
int64_t sim_civil(int y, int m, int d)
{
    int64_t day = 0;
    cf_date_from_civil(y, m, d, &day);
    return day;
}

/* Local midnight starting day in the engine's time zone. The simulated days lie
 * within years 1 to 9999 (checked before the run), where it cannot fail. */
cf_time sim_midnight(const sim *s, int64_t day)
{
    cf_time t = 0;
    cf_local_midnight(s->e, day, &t);
    return t;
}

/* An ISO instant at hour:00 local time on day, as UTC text. */
const char *sim_instant_str(const sim *s, int64_t day, int hour, char buf[32])
{
    return cli_time(sim_midnight(s, day) + hour * 3600, buf);
}

/* ---- Talking to the engine ---- */

int sim_engine_error(sim *s, int rc, const char *what, const char *id)
{
    char d[11];
    cli_textf(s->r->err, "\ncertflow: simulate stopped on %s: %s%s%s: %s\n", sim_date_str(s->day, d), what, id ? " on " : "",
            id ? id : "", cf_errmsg(s->e)[0] ? cf_errmsg(s->e) : cf_strerror(rc));
    s->failed = 1;
    s->exit_code = cli_exit_code(rc);
    return -1;
}

/* Why a policy refused, in a word, for the summary (first match wins). */
static const struct {
    const char *text;
    const char *category;
} REASON_WORDS[] = {
    {"event 'renew' does not apply in state 'expired'", "renewal_after_expiry"},
    {"applicant is ", "age"},
    {"exam attempts used", "attempts"},
    {"legacy (grandparenting)", "legacy_deadline"},
    {"pending discipline", "reciprocity"},
    {"not on the approved list", "training_provider"},
    {"renewal opens on", "renewal_window"},
    {"renewal had to be submitted", "renewal_window"},
    {"continuing education", "ce_hours"},
    {"law and ethics", "ce_hours"},
    {"reinstatement closed", "reinstatement_limit"},
    {"not in good standing", "good_standing"},
    {"service code", "billing"},
    {"option ", "supervisor_qualification"},
    {"pool is exhausted", "scholarship_funds"},
    {"pool closed", "scholarship_closed"},
    {"award ", "scholarship_award"},
    {"scholarship", "scholarship"},
    {"incident", "complaint_limits"},
    {"while the person held", "complaint_limits"},
    {"Code of Ethics", "ethics"},
    {"lived experience", "lived_experience"},
    {"high-school", "education"},
};

static void count_rejection(sim *s, const char *event, const char *reasons)
{
    const char *cat = event;
    for (size_t i = 0; i < sizeof REASON_WORDS / sizeof REASON_WORDS[0]; i++)
        if (reasons && strstr(reasons, REASON_WORDS[i].text)) {
            cat = REASON_WORDS[i].category;
            break;
        }
    size_t i;
    for (i = 0; i < s->nreasons; i++)
        if (strcmp(s->reasons[i].name, cat) == 0)
            break;
    if (i == s->nreasons) {
        if (s->nreasons == sizeof s->reasons / sizeof s->reasons[0])
            i = s->nreasons - 1; /* fold the rest into the last slot */
        else
            snprintf(s->reasons[s->nreasons++].name, sizeof s->reasons[0].name, "%s", cat);
    }
    s->reasons[i].count++;
}

int sim_batch_step(sim *s)
{
    if (!cf_batch_active(s->e) || ++s->in_batch < SIM_BATCH_EVENTS)
        return 0;
    s->in_batch = 0;
    int rc = cf_batch_commit(s->e);
    if (rc == CF_OK)
        rc = cf_batch_begin(s->e);
    return rc == CF_OK ? 0 : sim_engine_error(s, rc, "committing a batch", NULL);
}

/* Fire; returns 1 applied, 0 rejected by policy, -1 engine error (run stops). Steals data. */
int sim_fire(sim *s, const char *id, const char *event, json_t *data, const char *actor)
{
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(s->e, id, event, text, actor, NULL, &res);
    free(text);
    s->fired++;
    if (rc == CF_OK) {
        s->applied++;
        return sim_batch_step(s) < 0 ? -1 : 1;
    }
    if (rc == CF_REJECTED) {
        s->rejected++;
        count_rejection(s, event, res.reasons);
        return sim_batch_step(s) < 0 ? -1 : 0;
    }
    return sim_engine_error(s, rc, event, id);
}

/* Create an instance; 0 or -1. Steals data. */
int sim_create(sim *s, const char *workflow, int county, json_t *data, const char *actor, char id[37])
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    int rc = cf_instance_create(s->e, workflow, COUNTIES[county].name, text, actor, id);
    free(text);
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "creating an instance of", workflow);
    s->created++;
    return sim_batch_step(s);
}

/* Read an instance: its state into s->state, its data's text into s->data_text (a field is
 * parsed into s->state_buf when it is first asked for: most reads need the state and one or
 * two fields). 0 or -1. */
int sim_load(sim *s, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    int rc = cf_instance_get(s->e, id, &info);
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "reading", id);
    snprintf(s->state, sizeof s->state, "%s", info.state);
    json_decref(s->state_buf);
    s->state_buf = NULL;
    size_t n = info.data ? strlen(info.data) : 0;
    if (n + 1 > s->data_cap) {
        char *grown = realloc(s->data_text, n + 1);
        if (!grown) {
            fprintf(s->r->err, "\ncertflow: simulate stopped: out of memory reading %s\n", id);
            s->failed = 1;
            s->exit_code = CLI_EXIT_OTHER;
            return -1;
        }
        s->data_text = grown;
        s->data_cap = n + 1;
    }
    memcpy(s->data_text, info.data ? info.data : "", n + 1);
    return 0;
}

/* Past the JSON string starting at t (t[0] == '"'): the character after its closing quote, or NULL. */
static const char *skip_string(const char *t)
{
    for (t++; *t; t++) {
        if (*t == '\\') {
            if (!*++t)
                return NULL;
        } else if (*t == '"') {
            return t + 1;
        }
    }
    return NULL;
}

static const char *skip_space(const char *t)
{
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
        t++;
    return t;
}

/* Past the JSON value starting at t: the character after it, or NULL if it is cut short. */
static const char *skip_value(const char *t)
{
    if (*t == '"')
        return skip_string(t);
    if (*t != '{' && *t != '[') {
        while (*t && *t != ',' && *t != '}' && *t != ']' && *t != ' ' && *t != '\n' && *t != '\t' && *t != '\r')
            t++;
        return t;
    }
    int depth = 0;
    while (*t) {
        if (*t == '"') {
            if (!(t = skip_string(t)))
                return NULL;
            continue;
        }
        if (*t == '{' || *t == '[')
            depth++;
        else if ((*t == '}' || *t == ']') && --depth == 0)
            return t + 1;
        t++;
    }
    return NULL;
}

/* The text of the top-level member `key` of the JSON object text t, as *at and *len: 1, or
 * 0 when it has none (or the text is not an object). Keys are compared as written: the
 * program's keys need no escapes. */
static int top_member(const char *t, const char *key, const char **at, size_t *len)
{
    size_t klen = strlen(key);
    t = skip_space(t);
    if (*t++ != '{')
        return 0;
    for (;;) {
        t = skip_space(t);
        if (*t != '"')
            return 0;
        const char *k = t + 1, *end = skip_string(t);
        if (!end)
            return 0;
        int match = (size_t)(end - 1 - k) == klen && memcmp(k, key, klen) == 0;
        t = skip_space(end);
        if (*t++ != ':')
            return 0;
        t = skip_space(t);
        const char *v = t;
        if (!(t = skip_value(t)) || t == v)
            return 0;
        if (match) {
            *at = v;
            *len = (size_t)(t - v);
            return 1;
        }
        t = skip_space(t);
        if (*t++ != ',')
            return 0;
    }
}

/* A top-level field of the data last read (borrowed; NULL if absent): only that field is
 * parsed, once, and kept in s->state_buf (the data of a certification is a few kilobytes,
 * and a read needs one or two of its fields). */
static json_t *loaded_field(sim *s, const char *key)
{
    if (!s->state_buf && !(s->state_buf = json_object()))
        return NULL;
    json_t *v = json_object_get(s->state_buf, key);
    const char *at;
    size_t len;
    if (v || !s->data_text || !top_member(s->data_text, key, &at, &len))
        return v;
    v = json_loadb(at, len, JSON_DECODE_ANY, NULL);
    if (v && json_object_set_new(s->state_buf, key, v) != 0)
        return NULL;
    return v;
}

const char *sim_dstr(sim *s, const char *key)
{
    const char *v = json_string_value(loaded_field(s, key));
    return v ? v : "";
}

json_t *sim_dget(sim *s, const char *key)
{
    return loaded_field(s, key);
}

int64_t sim_ddate(sim *s, const char *key)
{
    int64_t d;
    return prog_parse_date(sim_dstr(s, key), &d) == 0 ? d : NEVER;
}

json_t *sim_ce_list(sim *s, int enough)
{
    char a[11], b[11];
    sim_date_str(s->day - 40, a);
    sim_date_str(s->day - 120, b);
    return json_pack("[{s:i, s:b, s:s}, {s:i, s:b, s:s}]", "hours", enough ? 14 : 9, "law_ethics", 0, "completed_on", a,
                     "hours", enough ? 6 : 3, "law_ethics", 1, "completed_on", b);
}

/* The award of this run's pool made to the certification instance holder, as the fees
 * plugin mirrors it (query fees.awards, read by holder): its id into award (may be NULL)
 * and whether it is active. 1 found, 0 none, -1 engine error (run stops). */
int sim_award_of(sim *s, const char *holder, char award[48], int *active)
{
    char *args = NULL, *answer = NULL;
    json_t *a = json_pack("{s:s}", "holder", holder);
    args = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    int rc = cf_plugin_query(s->e, "fees.awards", args, &answer);
    free(args);
    if (rc != CF_OK)
        return sim_engine_error(s, rc, "reading the awards of", holder);
    json_t *doc = json_loads(answer, 0, NULL);
    cf_free(answer);
    int found = 0;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "awards"), i, row)
    {
        const char *pool = json_string_value(json_object_get(row, "pool"));
        const char *id = json_string_value(json_object_get(row, "award_id"));
        const char *st = json_string_value(json_object_get(row, "status"));
        if (!pool || !id || strcmp(pool, s->pool) != 0)
            continue;
        if (award)
            snprintf(award, 48, "%s", id);
        *active = st && strcmp(st, "active") == 0;
        found = 1;
    }
    json_decref(doc);
    return found;
}
