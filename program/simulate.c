/*
 * simulate.c — certflow simulate: a seeded population of applicants in several
 * counties driven through the shipped program (certification, employment,
 * supervision, complaint) day by day on a virtual clock, through the public API
 * only. The same seed gives the same run: the only randomness is our own
 * splitmix64 streams, the only time the virtual clock. Rejections by policy are
 * part of the story and are counted; an engine error stops the run.
 */
#include "program.h"
#include "random.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- The population ---- */

static const struct {
    const char *name;
    int weight;
} COUNTIES[] = {
    {"san_diego", 26}, {"los_angeles", 30}, {"alameda", 14}, {"sacramento", 12}, {"fresno", 10}, {"humboldt", 8},
};
#define NCOUNTIES (sizeof COUNTIES / sizeof COUNTIES[0])

static const char *const FIRST[] = {"Ana", "Luis", "Maria", "James", "Keisha", "Tran", "Sofia", "Daniel",
                                    "Aaliyah", "Miguel", "Grace", "Omar", "Linh", "Robert", "Yesenia", "Marcus",
                                    "Priya", "Jose", "Hannah", "Andre", "Mei", "Carlos", "Fatima", "Tyler"};
static const char *const LAST[] = {"Reyes", "Nguyen", "Johnson", "Garcia", "Smith", "Lopez", "Kim", "Williams",
                                   "Hernandez", "Brown", "Martinez", "Davis", "Patel", "Lee", "Gonzalez", "Wilson",
                                   "Flores", "Chen", "Rodriguez", "Jackson", "Ramirez", "Tanaka", "Moore", "Silva"};
static const char *const PROVIDERS[] = {"Peer Academy", "Recovery Works Institute", "CalPeer Training Center",
                                        "Hope Learning Collaborative"};

/* The most recent Code of Ethics (lua/policy/state.lua code_of_ethics_version): a renewal agrees to it. */
#define ETHICS_VERSION "2021-07-26"

enum { PW_INITIAL, PW_LEGACY, PW_RECIPROCITY };
static const char *const PATHWAYS[] = {"initial", "legacy", "reciprocity"};

enum { RENEW_ON_TIME, RENEW_LATE, RENEW_NEVER };

#define NEVER INT64_MAX

typedef struct person {
    rng r;
    int index;
    char id[37];      /* the current application's certification instance ("" before the first) */
    char emp_id[37];  /* the employment instance, if hired */
    char name[64];
    int county;
    int pathway;
    int64_t born;     /* days since 1970 */
    int64_t next;     /* the next day the person (or the entity about them) acts */
    int64_t emp_next; /* the next day the employer acts */
    int64_t appt_day; /* the exam appointment */
    int reschedule;   /* moves the appointment a few days before it (EX_6) */
    int skill;        /* pass chance per attempt, percent */
    int renew_mode;
    int bad_provider; /* first training certificate from a provider not on the list */
    int accommodation, accommodation_done;
    int short_ce;     /* first renewal with too few CE hours */
    int specialize;   /* adds a specialization */
    int64_t spec_day;
    int hire;         /* 0 none, 1 while applying, 2 once certified */
    int cor_extension, extended, oqp;
    int complaint;    /* will be the subject of a complaint */
    int64_t complaint_day;
    int applications;
    int gave_up;
    int64_t renew_day; /* when the person acts on renewal */
    int renew_tries;
    int wants_award;  /* asks for a scholarship (SCH_1) */
    char award[48];   /* the award ID, once granted */
    unsigned covered; /* what the award has paid: 1 application fee, 2 training, 4 exam */
} person;

typedef struct supervisor {
    rng r;
    char id[37];
    int county;
    int64_t next;
    int step;
    int training_mode; /* 0 on time, 1 late, 2 not in the simulated years */
    int64_t started;
} supervisor;

typedef struct complaint {
    rng r;
    char id[37];
    int person;
    int64_t next;
    int appealed;
    int64_t decide_day; /* the investigation's end; past 90 days it is extended once */
} complaint;

typedef struct reason_count {
    char name[40];
    long long count;
} reason_count;

typedef struct sim {
    cli_run *r;
    cf_engine *e;
    cf_time now;
    uint64_t seed;
    int64_t day, first_day, last_day;
    person *people;
    size_t npeople;
    supervisor *sups;
    size_t nsups;
    complaint *complaints;
    size_t ncomplaints, cap_complaints;
    int has_employment, has_supervision, has_complaint, has_scholarship;
    char pool[37];    /* the scholarship pool */
    long long fired, applied, rejected, timers, created;
    reason_count reasons[64];
    size_t nreasons;
    int failed;       /* an engine error stopped the run; message printed */
    int exit_code;
    json_t *state_buf; /* scratch: the data of the instance last read */
    char state[64];
} sim;

static cf_time sim_clock(void *ud)
{
    return ((const sim *)ud)->now;
}

static const char *date_str(int64_t day, char buf[11])
{
    return prog_format_date(day, buf);
}

/* A known date of the program's history (a real date: cannot fail). */
static int64_t civil(int y, int m, int d)
{
    int64_t day = 0;
    cf_date_from_civil(y, m, d, &day);
    return day;
}

/* Local midnight starting day in the engine's time zone. The simulated days lie
 * within years 1 to 9999 (checked before the run), where it cannot fail. */
static cf_time midnight(const sim *s, int64_t day)
{
    cf_time t = 0;
    cf_local_midnight(s->e, day, &t);
    return t;
}

/* An ISO instant at hour:00 local time on day, as UTC text. */
static const char *instant_str(const sim *s, int64_t day, int hour, char buf[32])
{
    return cli_time(midnight(s, day) + hour * 3600, buf);
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

/* ---- Talking to the engine ---- */

static int engine_error(sim *s, int rc, const char *what, const char *id)
{
    char d[11];
    cli_textf(s->r->err, "\ncertflow: simulate stopped on %s: %s%s%s: %s\n", date_str(s->day, d), what, id ? " on " : "",
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

/* Fire; returns 1 applied, 0 rejected by policy, -1 engine error (run stops). Steals data. */
static int fire(sim *s, const char *id, const char *event, json_t *data, const char *actor)
{
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(s->e, id, event, text, actor, NULL, &res);
    free(text);
    s->fired++;
    if (rc == CF_OK) {
        s->applied++;
        return 1;
    }
    if (rc == CF_REJECTED) {
        s->rejected++;
        count_rejection(s, event, res.reasons);
        return 0;
    }
    return engine_error(s, rc, event, id);
}

/* Create an instance; 0 or -1. Steals data. */
static int create(sim *s, const char *workflow, int county, json_t *data, const char *actor, char id[37])
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    int rc = cf_instance_create(s->e, workflow, COUNTIES[county].name, text, actor, id);
    free(text);
    if (rc != CF_OK)
        return engine_error(s, rc, "creating an instance of", workflow);
    s->created++;
    return 0;
}

/* Read an instance: its state into s->state, its data into s->state_buf. 0 or -1. */
static int load(sim *s, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    int rc = cf_instance_get(s->e, id, &info);
    if (rc != CF_OK)
        return engine_error(s, rc, "reading", id);
    snprintf(s->state, sizeof s->state, "%s", info.state);
    json_decref(s->state_buf);
    s->state_buf = json_loads(info.data ? info.data : "{}", 0, NULL);
    if (!s->state_buf)
        s->state_buf = json_object();
    return 0;
}

static const char *dstr(sim *s, const char *key)
{
    const char *v = json_string_value(json_object_get(s->state_buf, key));
    return v ? v : "";
}

static json_t *dget(sim *s, const char *key)
{
    return json_object_get(s->state_buf, key);
}

static int64_t ddate(sim *s, const char *key)
{
    int64_t d;
    return prog_parse_date(dstr(s, key), &d) == 0 ? d : NEVER;
}

static json_t *ce_list(sim *s, int enough)
{
    char a[11], b[11];
    date_str(s->day - 40, a);
    date_str(s->day - 120, b);
    return json_pack("[{s:i, s:b, s:s}, {s:i, s:b, s:s}]", "hours", enough ? 14 : 9, "law_ethics", 0, "completed_on", a,
                     "hours", enough ? 6 : 3, "law_ethics", 1, "completed_on", b);
}

/* ---- One person's path through the certification ---- */

static int new_application(sim *s, person *p)
{
    char born[11], today[11], worked[11];
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "name", p->name, "birth_date",
                          date_str(p->born, born), "pathway", PATHWAYS[p->pathway], "education", chance(&p->r, 2) ? "none" : "high_school",
                          "attests_willingness", 1, "ethics_version", ETHICS_VERSION, "ethics_signed_on",
                          date_str(s->day, today));
    char email[96], phone[24], address[96];
    snprintf(email, sizeof email, "person%d@example.org", p->index);
    snprintf(phone, sizeof phone, "555-%04d", p->index % 10000);
    snprintf(address, sizeof address, "%d Main Street, %s", 100 + p->index, COUNTIES[p->county].name);
    json_object_set_new(d, "email", json_string(email));
    json_object_set_new(d, "phone", json_string(phone));
    json_object_set_new(d, "address", json_string(address));
    int lived = (int)between(&p->r, 0, 99);
    json_object_set_new(d, "lived_experience",
                        lived < 3    ? json_string("homelessness")
                        : lived < 60 ? json_string("consumer")
                        : lived < 90 ? json_string("family_member")
                                     : json_pack("[s, s]", "consumer", "homelessness"));
    json_t *ce = ce_list(s, 1);
    if (p->pathway == PW_LEGACY)
        json_object_set_new(d, "legacy",
                            json_pack("{s:s, s:i, s:o, s:b, s:b, s:b}", "employed_from",
                                      date_str(civil(2021, 1, 1) - between(&p->r, 30, 2000), worked),
                                      "peer_hours", (int)between(&p->r, 1600, 6000), "ce", ce, "supervisor_letter", 1,
                                      "colleague_letter", 1, "employment_verification", 1));
    else if (p->pathway == PW_RECIPROCITY)
        json_object_set_new(d, "reciprocity",
                            json_pack("{s:[{s:i, s:s}], s:b, s:b, s:b, s:o, s:b, s:b, s:b}", "peer_work", "hours",
                                      (int)between(&p->r, 1600, 4000), "ended_on", date_str(s->day - 20, worked),
                                      "certification_active", 1, "pending_discipline", chance(&p->r, 10),
                                      "unresolved_complaint", 0, "ce", ce, "supervisor_letter", 1, "colleague_letter",
                                      1, "self_letter", 1));
    else
        json_decref(ce);
    p->applications++;
    p->emp_id[0] = '\0';
    p->award[0] = '\0';
    p->covered = 0;
    return create(s, "certification", p->county, d, "applicant", p->id);
}

/* SCH_1: ask the pool for an award; on success remember its ID. 0 or -1. */
static int request_award(sim *s, person *p)
{
    p->wants_award = 0;
    json_t *d = json_pack("{s:s, s:s, s:s, s:i}", "applicant_id", p->id, "applicant", p->name, "pathway",
                          PATHWAYS[p->pathway], "training_cost", 600);
    int ok = fire(s, s->pool, "award", d, "calmhsa");
    if (ok <= 0)
        return ok;
    if (load(s, s->pool) < 0)
        return -1;
    snprintf(p->award, sizeof p->award, "%s", dstr(s, "last_award_id"));
    return 0;
}

/* The fee for item: paid by the award when it still can, else by the person. The core
 * training is paid to its provider, so the pool pays it directly (`cover`); the application
 * and exam fees go to the certification with covered_by, whose fee ledger checks the award
 * and tells the pool (SCH_1). */
static json_t *fee(sim *s, person *p, const char *item, int amount, int *err)
{
    *err = 0;
    unsigned bit = item[0] == 'a' ? 1u : item[0] == 'c' ? 2u : 4u;
    if (p->award[0] && !(p->covered & bit)) {
        p->covered |= bit;
        if (bit != 2u) {
            /* only an award still active pays (SCH_1: it expires, and the ledger checks it);
             * reading the pool replaces the loaded data, so the person's is loaded again */
            int active = 0;
            if (load(s, s->pool) == 0) {
                json_t *award = json_object_get(dget(s, "awards"), p->award);
                const char *st = json_string_value(json_object_get(award, "status"));
                active = st && strcmp(st, "active") == 0;
            }
            if (load(s, p->id) < 0) {
                *err = 1;
                return json_pack("{s:i}", "fee_paid", amount);
            }
            if (active)
                return json_pack("{s:s}", "covered_by", p->award);
            return json_pack("{s:i}", "fee_paid", amount);
        }
        json_t *c = json_pack("{s:s, s:s, s:s}", "award_id", p->award, "applicant_id", p->id, "item", item);
        int ok = fire(s, s->pool, "cover", c, "calmhsa");
        if (ok < 0)
            *err = 1;
    }
    return json_pack("{s:i}", "fee_paid", amount);
}

static int submit(sim *s, person *p)
{
    if (p->wants_award && s->has_scholarship && request_award(s, p) < 0)
        return -1;
    int err;
    json_t *paid = fee(s, p, "application_fee", 100, &err);
    if (err) {
        json_decref(paid);
        return -1;
    }
    int ok = fire(s, p->id, "submit", paid, "applicant");
    if (ok < 0)
        return -1;
    if (ok) {
        p->next = s->day + between(&p->r, 3, 40); /* the entity's review; past 30 days it is overdue */
        return 0;
    }
    int64_t adult = p->born + 18 * 36525 / 100 + 1;
    if (adult > s->day) {
        p->next = adult + between(&p->r, 0, 45); /* APP_1: try again once 18 */
    } else if (p->pathway == PW_LEGACY && s->day > civil(2023, 6, 30)) {
        /* PATH_1: too late for grandparenting; take the initial pathway instead */
        p->pathway = PW_INITIAL;
        if (fire(s, p->id, "update", json_pack("{s:s}", "pathway", "initial"), "applicant") < 0)
            return -1;
        p->next = s->day + between(&p->r, 2, 20);
    } else {
        p->gave_up = 1;
        p->next = NEVER;
        return fire(s, p->id, "withdraw", NULL, "applicant") < 0 ? -1 : 0;
    }
    return 0;
}

static int schedule_exam(sim *s, person *p)
{
    int64_t window_ends = ddate(s, "window_ends");
    int64_t day = s->day + between(&p->r, 10, 45);
    if (day > window_ends)
        day = window_ends;
    char at[32];
    json_t *d = json_pack("{s:s, s:s}", "at", instant_str(s, day, 9, at), "mode", chance(&p->r, 60) ? "online" : "in_person");
    if (!json_is_true(dget(s, "retake_required"))) {
        int err = 0;
        json_t *paid = fee(s, p, "exam", 150, &err);
        json_object_update(d, paid);
        json_decref(paid);
        if (err) {
            json_decref(d);
            return -1;
        }
    }
    int ok = fire(s, p->id, "schedule_exam", d, "applicant");
    if (ok < 0)
        return -1;
    if (ok) {
        p->appt_day = day;
        p->next = day;
        if (day - s->day > 7 && chance(&p->r, 5)) {
            p->reschedule = 1;
            p->next = day - 3;
        }
    } else {
        p->next = NEVER; /* out of attempts or of window: the timers close the application */
    }
    return 0;
}

/* TRN_2: the 17 core competencies, as named in lua/policy/state.lua (core_competencies). */
static const char *const CORE_COMPETENCIES[] = {
    "hope_recovery_wellness", "advocacy", "consumers_and_family_members", "rehabilitation_and_recovery_practices",
    "cultural_and_structural_competence", "trauma_informed_care", "group_facilitation", "self_awareness_and_self_care",
    "co_occurring_disorders", "conflict_resolution", "professional_boundaries_and_ethics", "employment_preparation",
    "safety_and_crisis_planning", "navigation_and_referral", "documentation", "confidentiality", "digital_literacy",
};

/* Inside the 12-month window: training, accommodation, appointments, results, retakes. */
static int approved_step(sim *s, person *p)
{
    json_t *appt = dget(s, "appointment");
    json_t *upload = dget(s, "training_upload"), *acc = dget(s, "accommodation"), *retake = dget(s, "retake");
    char d1[11], d2[11];
    if (p->pathway == PW_INITIAL && !dget(s, "training")) {
        if (upload) {
            /* the entity reviews the certificate (TRN_4); one from an unlisted provider is refused */
            int ok = fire(s, p->id, "accept_training", NULL, "calmhsa");
            if (ok == 0)
                ok = fire(s, p->id, "reject_training", json_pack("{s:s}", "reason", "provider not on the approved list"),
                          "calmhsa");
            p->next = s->day + between(&p->r, 5, 30);
            return ok < 0 ? -1 : 0;
        }
        json_t *t = json_pack("{s:s, s:i, s:s}", "provider", PICK(&p->r, PROVIDERS), "hours", 80, "completed_on",
                              date_str(s->day - between(&p->r, 1, 10), d1));
        /* TRN_2: the record names the 17 core competencies (params.core_competencies) */
        json_t *comp = json_array();
        for (size_t c = 0; c < sizeof CORE_COMPETENCIES / sizeof CORE_COMPETENCIES[0]; c++)
            json_array_append_new(comp, json_string(CORE_COMPETENCIES[c]));
        json_object_set_new(t, "competencies", comp);
        if (p->bad_provider)
            p->bad_provider = 0; /* no provider_approved_from: not on the list */
        else
            json_object_set_new(t, "provider_approved_from", json_string(date_str(civil(2022, 7, 1), d2)));
        p->next = s->day + between(&p->r, 2, 20); /* past 14 days the review is overdue */
        if (p->award[0]) { /* the award pays the provider */
            int err;
            json_decref(fee(s, p, "core_training", 600, &err));
            if (err) {
                json_decref(t);
                return -1;
            }
        }
        return fire(s, p->id, "upload_training", t, "applicant") < 0 ? -1 : 0;
    }
    if (p->accommodation && !p->accommodation_done && !appt) {
        if (acc && strcmp(json_string_value(json_object_get(acc, "status")) ? json_string_value(json_object_get(acc, "status")) : "", "pending") == 0) {
            p->accommodation_done = 1;
            p->next = s->day + between(&p->r, 1, 10);
            return fire(s, p->id, "decide_accommodation", json_pack("{s:b}", "granted", chance(&p->r, 85)), "calmhsa") < 0
                       ? -1
                       : 0;
        }
        json_t *d = json_pack("{s:b, s:s}", "signed_by_medical_provider", 1, "desired_date",
                              date_str(s->day + between(&p->r, 35, 60), d1));
        p->next = s->day + between(&p->r, 10, 40); /* past 30 days the review is overdue */
        return fire(s, p->id, "request_accommodation", d, "applicant") < 0 ? -1 : 0;
    }
    if (appt) {
        if (s->day < p->appt_day) {
            if (p->reschedule) { /* EX_6: in time, so no fee is lost */
                p->reschedule = 0;
                int64_t later = p->appt_day + between(&p->r, 7, 21), ends = ddate(s, "window_ends");
                char at[32];
                if (later <= ends) {
                    json_t *mv = json_pack("{s:s, s:s}", "at", instant_str(s, later, 9, at), "mode",
                                           json_string_value(json_object_get(appt, "mode")));
                    int ok = fire(s, p->id, "reschedule_exam", mv, "applicant");
                    if (ok < 0)
                        return -1;
                    if (ok)
                        p->appt_day = later;
                }
            }
            p->next = p->appt_day;
            return 0;
        }
        if (chance(&p->r, 6)) { /* EX_7: did not show up */
            p->next = s->day + between(&p->r, 5, 40);
            return fire(s, p->id, "no_show", NULL, "exam_vendor") < 0 ? -1 : 0;
        }
        int pass = chance(&p->r, p->skill);
        json_t *d = json_pack("{s:s, s:i, s:s}", "result", pass ? "pass" : "fail", "score",
                              (int)(pass ? between(&p->r, 70, 98) : between(&p->r, 40, 69)), "taken_on",
                              date_str(p->appt_day, d1));
        int ok = fire(s, p->id, "exam_result", d, "exam_vendor");
        p->next = s->day + between(&p->r, 5, 40);
        return ok < 0 ? -1 : 0;
    }
    if (json_is_true(dget(s, "retake_required"))) {
        if (retake) {
            const char *st = json_string_value(json_object_get(retake, "status"));
            if (st && strcmp(st, "pending") == 0) {
                p->next = s->day + between(&p->r, 1, 10);
                return fire(s, p->id, "process_retake", NULL, "calmhsa") < 0 ? -1 : 0;
            }
            return schedule_exam(s, p);
        }
        if (chance(&p->r, 12)) { /* gives up; the window closes on its own */
            p->next = NEVER;
            return 0;
        }
        p->next = s->day + between(&p->r, 3, 35); /* the entity processes it within 30 days (EX_8) */
        return fire(s, p->id, "request_retake", json_pack("{s:i}", "fee_paid", 150), "applicant") < 0 ? -1 : 0;
    }
    return schedule_exam(s, p);
}

static void plan_renewal(sim *s, person *p)
{
    int64_t expires = ddate(s, "expires_on");
    if (expires == NEVER) {
        p->renew_day = NEVER;
        return;
    }
    p->renew_tries = 0;
    if (p->renew_mode == RENEW_ON_TIME)
        p->renew_day = expires - between(&p->r, 5, 85);
    else if (p->renew_mode == RENEW_LATE)
        p->renew_day = expires + between(&p->r, 3, 300);
    else
        p->renew_day = NEVER;
}

static int64_t min3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a < b ? a : b;
    return m < c ? m : c;
}

static int certified_step(sim *s, person *p)
{
    char d1[11];
    if (p->renew_day == 0)
        plan_renewal(s, p);
    if (p->hire == 2 && !p->emp_id[0] && s->has_employment && p->emp_next == NEVER)
        p->emp_next = s->day + between(&p->r, 10, 200);
    if (p->complaint && p->complaint_day == 0)
        p->complaint_day = s->day + between(&p->r, 60, 500);
    if (p->specialize && p->spec_day == 0)
        p->spec_day = s->day + between(&p->r, 30, 400);
    if (p->specialize && s->day >= p->spec_day) {
        static const char *const KINDS[] = {"parent_caregiver_family", "crisis", "justice_involved", "unhoused"};
        p->specialize = 0;
        json_t *d = json_pack("{s:s, s:s, s:i, s:s}", "kind", PICK(&p->r, KINDS), "provider", PICK(&p->r, PROVIDERS),
                              "hours", 40, "completed_on", date_str(s->day - 3, d1));
        if (fire(s, p->id, "add_specialization", d, "calmhsa") < 0)
            return -1;
    }
    if (s->day >= p->renew_day && p->renew_mode == RENEW_ON_TIME) {
        int enough = !(p->short_ce && p->renew_tries == 0);
        p->renew_tries++;
        json_t *d = json_pack("{s:o, s:s, s:s, s:i}", "ce", ce_list(s, enough), "ethics_version", ETHICS_VERSION,
                              "ethics_signed_on", date_str(s->day, d1), "fee_paid", 80);
        int ok = fire(s, p->id, "renew", d, "applicant");
        if (ok < 0)
            return -1;
        if (ok) {
            if (load(s, p->id) < 0)
                return -1;
            p->renew_mode = chance(&p->r, 70) ? RENEW_ON_TIME : chance(&p->r, 50) ? RENEW_LATE : RENEW_NEVER;
            plan_renewal(s, p);
        } else {
            /* more CE hours, or the open corrective action finished first: try again before expiry */
            int64_t expires = ddate(s, "expires_on");
            p->renew_day = s->day + between(&p->r, 5, 20);
            if (p->renew_day > expires || p->renew_tries > 3)
                p->renew_day = NEVER;
        }
    }
    int64_t spec = p->specialize ? p->spec_day : NEVER;
    int64_t renew = p->renew_mode == RENEW_ON_TIME ? p->renew_day : NEVER;
    int64_t expires = ddate(s, "expires_on");
    /* check back after expiry (late renewers reinstate) */
    p->next = min3(spec, renew, expires == NEVER ? NEVER : expires + 2);
    if (p->next <= s->day)
        p->next = s->day + 1;
    return 0;
}

static int expired_step(sim *s, person *p)
{
    char d1[11];
    if (p->renew_mode != RENEW_LATE || p->renew_day == NEVER) {
        p->next = NEVER;
        return 0;
    }
    if (s->day < p->renew_day) {
        p->next = p->renew_day;
        return 0;
    }
    /* REN_6: renewal had to come by the expiry date; REN_7: reinstate with the fee plus
     * the renewal requirements */
    p->renew_day = NEVER;
    if (chance(&p->r, 40)) {
        json_t *late = json_pack("{s:o, s:s, s:s, s:i}", "ce", ce_list(s, 1), "ethics_version", ETHICS_VERSION,
                                 "ethics_signed_on", date_str(s->day, d1), "fee_paid", 80);
        if (fire(s, p->id, "renew", late, "applicant") < 0)
            return -1;
    }
    json_t *d = json_pack("{s:o, s:s, s:s, s:i}", "ce", ce_list(s, 1), "ethics_version", ETHICS_VERSION,
                          "ethics_signed_on", date_str(s->day, d1), "fee_paid", 160);
    int ok = fire(s, p->id, "reinstate", d, "applicant");
    if (ok < 0)
        return -1;
    p->next = s->day + 1;
    if (ok) {
        if (load(s, p->id) < 0)
            return -1;
        p->renew_mode = chance(&p->r, 75) ? RENEW_ON_TIME : RENEW_NEVER;
        plan_renewal(s, p);
    }
    return 0;
}

/* A closed application: some people apply again. */
static void closed_step(sim *s, person *p)
{
    p->next = NEVER;
    if (!p->gave_up && p->applications < 3 && chance(&p->r, 35)) {
        p->id[0] = '\0';
        if (p->pathway == PW_LEGACY)
            p->pathway = PW_INITIAL;
        p->next = s->day + between(&p->r, 30, 200);
    }
}

static int person_act(sim *s, person *p)
{
    if (!p->id[0]) {
        if (new_application(s, p) < 0)
            return -1;
        return submit(s, p);
    }
    if (load(s, p->id) < 0)
        return -1;
    const char *st = s->state;
    if (strcmp(st, "draft") == 0)
        return submit(s, p);
    if (strcmp(st, "submitted") == 0) {
        int approve = chance(&p->r, 92);
        p->next = s->day + (approve ? between(&p->r, 15, 60) : between(&p->r, 3, 25));
        if (approve && p->hire == 1 && s->has_employment && p->emp_next == NEVER)
            p->emp_next = s->day + between(&p->r, 5, 60);
        json_t *d = approve ? NULL : json_pack("{s:s}", "reason", "lived-experience attestation incomplete");
        return fire(s, p->id, approve ? "approve" : "deny", d, "calmhsa") < 0 ? -1 : 0;
    }
    if (strcmp(st, "denied") == 0) {
        p->next = NEVER;
        if (chance(&p->r, 45)) { /* DIS_7: appeal the denial */
            p->next = s->day + between(&p->r, 20, 70);
            return fire(s, p->id, "appeal", NULL, "applicant") < 0 ? -1 : 0;
        }
        return 0;
    }
    if (strcmp(st, "denial_appealed") == 0) {
        p->next = s->day + 1;
        if (chance(&p->r, 50))
            return fire(s, p->id, "appeal_overturned", json_pack("{s:s}", "restore_to", "approved"), "calmhsa") < 0 ? -1
                                                                                                                  : 0;
        p->next = NEVER;
        return fire(s, p->id, "appeal_upheld", NULL, "calmhsa") < 0 ? -1 : 0;
    }
    if (strcmp(st, "approved") == 0)
        return approved_step(s, p);
    if (strcmp(st, "certified") == 0)
        return certified_step(s, p);
    if (strcmp(st, "expired") == 0)
        return expired_step(s, p);
    if (strcmp(st, "exhausted") == 0) {
        /* EX_2: some ask for a fourth attempt and are refused */
        if (chance(&p->r, 30) && fire(s, p->id, "request_retake", json_pack("{s:i}", "fee_paid", 150), "applicant") < 0)
            return -1;
        closed_step(s, p);
        return 0;
    }
    if (strcmp(st, "window_closed") == 0 || strcmp(st, "denial_final") == 0 || strcmp(st, "withdrawn") == 0) {
        closed_step(s, p);
        return 0;
    }
    p->next = NEVER; /* suspended, revoked, lapsed: the complaint or nothing moves it */
    return 0;
}

/* ---- The employer: hire, grace period, COR extension, billing (EMP) ---- */

static int employer_act(sim *s, person *p)
{
    char d1[11];
    if (!p->emp_id[0]) {
        if (!p->id[0]) {
            p->emp_next = NEVER;
            return 0;
        }
        if (load(s, p->id) < 0)
            return -1;
        const char *number = dstr(s, "certification_number");
        int certified = strcmp(s->state, "certified") == 0 && *number;
        char program[96];
        snprintf(program, sizeof program, "%s peer services", COUNTIES[p->county].name);
        /* EMP_2: most peer positions are in specialty mental health, some in DMC-ODS */
        int smhs = chance(&p->r, 75);
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", p->name, "hired_on", date_str(s->day, d1),
                              "certification_id", p->id, "program", program, "program_type",
                              smhs ? "smhs" : "dmc_ods", "position", "Peer Support Specialist");
        if (create(s, "employment", p->county, d, "county", p->emp_id) < 0)
            return -1;
        json_t *start = certified ? json_pack("{s:s}", "certification_number", number) : NULL;
        if (fire(s, p->emp_id, "start", start, "county") < 0)
            return -1;
        /* seed 002 C.2: the hire's supervisor, one of the county's (where there is one) */
        for (size_t i = 0; i < s->nsups; i++) {
            if (s->sups[i].id[0] && s->sups[i].county == p->county) {
                if (fire(s, p->emp_id, "assign_supervisor", json_pack("{s:s}", "supervisor_id", s->sups[i].id),
                         "county") < 0)
                    return -1;
                break;
            }
        }
        p->emp_next = s->day + between(&p->r, 20, 45);
        if (!certified && smhs && chance(&p->r, 40)) { /* EMP_2: Other Qualified Provider criteria (SMHS) */
            p->oqp = 1;
            json_t *o = json_pack("{s:s, s:s}", "recorded_by", "program manager", "criteria", "OPOH Section M");
            if (fire(s, p->emp_id, "record_oqp", o, "county") < 0)
                return -1;
        }
        return 0;
    }
    if (load(s, p->emp_id) < 0)
        return -1;
    const char *st = s->state;
    p->emp_next = s->day + between(&p->r, 30, 90);
    if (strcmp(st, "ended") == 0) {
        p->emp_next = NEVER;
        return 0;
    }
    if (strcmp(st, "ehr_restoring") == 0) {
        p->emp_next = s->day + between(&p->r, 20, 60);
        return fire(s, p->emp_id, "ehr_restored", NULL, "county_it") < 0 ? -1 : 0;
    }
    if (strcmp(st, "grace") == 0 && p->cor_extension && !p->extended) {
        int64_t ends = ddate(s, "grace_ends_on");
        if (ends != NEVER && s->day + 20 >= ends) {
            p->extended = 1;
            char d2[11];
            json_t *x = json_pack("{s:s, s:s, s:s}", "approved_by", "COR", "new_date", date_str(ends + 60, d2), "reason",
                                  "exam scheduled after the grace period");
            p->emp_next = s->day + between(&p->r, 15, 40);
            return fire(s, p->emp_id, "extend", x, "county") < 0 ? -1 : 0;
        }
        if (ends != NEVER && ends - 20 > s->day && ends - 20 < p->emp_next)
            p->emp_next = ends - 20;
    }
    if (chance(&p->r, 4)) { /* leaves the position */
        p->emp_next = NEVER;
        return fire(s, p->emp_id, "end", json_pack("{s:s}", "reason", "resigned"), "county") < 0 ? -1 : 0;
    }
    /* EMP_2: a bill; peer codes are refused while not certified in good standing */
    int peer = !p->oqp || chance(&p->r, 50);
    json_t *b = json_pack("{s:s, s:s}", "code_type", peer ? "peer" : "non_peer", "code", peer ? "H0038" : "H2017");
    return fire(s, p->emp_id, "bill", b, "county_billing") < 0 ? -1 : 0;
}

/* ---- Supervisors (SUP) ---- */

static int supervisor_act(sim *s, supervisor *v, size_t index)
{
    char d1[11];
    switch (v->step) {
    case 0: {
        char name[64], employer[96];
        snprintf(name, sizeof name, "%s %s", PICK(&v->r, FIRST), PICK(&v->r, LAST));
        snprintf(employer, sizeof employer, "%s behavioral health", COUNTIES[v->county].name);
        if (create(s, "supervision", v->county, json_pack("{s:s, s:s}", "name", name, "employer", employer), "county",
                   v->id) < 0)
            return -1;
        /* SUP_1: one of three options; a few first show too little experience */
        int option = (int)between(&v->r, 1, 3), shy = chance(&v->r, 10);
        json_t *q = option == 1   ? json_pack("{s:i, s:s, s:i}", "option", 1, "certification_number", "CMPSS-EXTERNAL",
                                              "bh_years", shy ? 1 : 3)
                    : option == 2 ? json_pack("{s:i, s:s, s:i}", "option", 2, "profession", "certified_sud_counselor",
                                              "bh_years", shy ? 1 : 5)
                                  : json_pack("{s:i, s:s, s:i}", "option", 3, "education", "high_school",
                                              "direct_service_years", shy ? 2 : 6);
        int ok = fire(s, v->id, "qualify", q, "county");
        if (ok < 0)
            return -1;
        if (!ok) {
            json_t *again = json_pack("{s:i, s:s, s:i}", "option", 2, "profession", "certified_sud_counselor", "bh_years",
                                      4);
            if (fire(s, v->id, "qualify", again, "county") < 0)
                return -1;
        }
        v->step = 1;
        v->next = s->day + between(&v->r, 1, 30);
        return 0;
    }
    case 1:
        v->step = 2;
        v->started = s->day;
        v->next = v->training_mode == 0   ? s->day + between(&v->r, 10, 55)
                  : v->training_mode == 1 ? s->day + between(&v->r, 70, 160)
                                          : NEVER;
        return fire(s, v->id, "start_supervising", NULL, "county") < 0 ? -1 : 0;
    default:
        /* SUP_2: DHCS-approved training, on time or late (then reported overdue) */
        v->next = NEVER;
        (void)index;
        return fire(s, v->id, "record_training",
                    json_pack("{s:b, s:s, s:s}", "dhcs_approved", 1, "completed_on", date_str(s->day - 1, d1), "course",
                              "DHCS peer supervisor training"),
                    "county") < 0
                   ? -1
                   : 0;
    }
}

/* ---- Complaints (DIS) ---- */

static int complaint_file(sim *s, person *p)
{
    p->complaint = 0;
    if (load(s, p->id) < 0)
        return -1;
    const char *issued = dstr(s, "issued_on");
    if (!*issued || !s->has_complaint)
        return 0;
    if (s->ncomplaints == s->cap_complaints) {
        size_t cap = s->cap_complaints ? s->cap_complaints * 2 : 32;
        complaint *grown = realloc(s->complaints, cap * sizeof *grown);
        if (!grown) {
            fprintf(s->r->err, "\ncertflow: out of memory\n");
            s->failed = 1;
            s->exit_code = CLI_EXIT_OTHER;
            return -1;
        }
        s->complaints = grown;
        s->cap_complaints = cap;
    }
    complaint *c = &s->complaints[s->ncomplaints];
    memset(c, 0, sizeof *c);
    c->r = rng_stream(s->seed, 3, s->ncomplaints);
    c->person = p->index;
    char d1[11];
    /* DIS_6: a few are about conduct before the certification was held */
    int64_t issued_day = ddate(s, "issued_on");
    int64_t incident = chance(&c->r, 8) ? issued_day - between(&c->r, 30, 200) : s->day - between(&c->r, 3, 60);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "certification_id", p->id, "respondent", p->name,
                          "complainant", "a client", "summary", "boundary concerns reported by a client", "incident_on",
                          date_str(incident, d1), "certification_held_from", issued);
    if (strcmp(s->state, "certified") != 0 && strcmp(s->state, "suspended") != 0) {
        char until[11];
        const char *exp = dstr(s, "expires_on");
        json_object_set_new(d, "certification_held_until", json_string(*exp ? exp : date_str(s->day, until)));
    }
    if (create(s, "complaint", p->county, d, "complainant", c->id) < 0)
        return -1;
    s->ncomplaints++;
    c->next = s->day + between(&c->r, 1, 9); /* DIS_5: 5 business days to acknowledge */
    return 0;
}

static int complaint_act(sim *s, complaint *c)
{
    if (load(s, c->id) < 0)
        return -1;
    const char *st = s->state;
    json_t *findings = json_pack("{s:s}", "findings", "investigator's findings recorded");
    int ok = 0;
    c->next = NEVER;
    if (strcmp(st, "received") == 0) {
        c->next = s->day + between(&c->r, 2, 20);
        ok = fire(s, c->id, "acknowledge", NULL, "calmhsa");
    } else if (strcmp(st, "acknowledged") == 0) {
        ok = fire(s, c->id, "accept", NULL, "calmhsa");
        if (ok == 0)
            ok = fire(s, c->id, "decline", json_pack("{s:s}", "reason", "outside the filing limits"), "calmhsa");
        else {
            c->decide_day = s->day + between(&c->r, 30, 110);
            c->next = c->decide_day;
            /* DIS_5: due 90 days after receipt; a longer one is extended once, in time */
            int64_t due = ddate(s, "review_due_on");
            if (due != NEVER && c->decide_day > due - 5)
                c->next = due - 5;
        }
    } else if (strcmp(st, "investigating") == 0 && s->day < c->decide_day) {
        c->next = c->decide_day;
        ok = fire(s, c->id, "extend", json_pack("{s:i, s:s}", "days", 30, "reason", "witness interviews pending"),
                  "calmhsa");
    } else if (strcmp(st, "investigating") == 0) {
        int roll = (int)between(&c->r, 0, 99);
        const char *outcome = roll < 45 ? "dismiss" : roll < 75 ? "corrective_action" : roll < 92 ? "suspend" : "revoke";
        json_t *d = json_deep_copy(findings);
        if (roll >= 75 && roll < 92) { /* DIS_2: a suspension has its term (its last day) */
            char until[11];
            json_object_set_new(d, "suspended_until", json_string(date_str(s->day + between(&c->r, 60, 270), until)));
        }
        ok = fire(s, c->id, outcome, d, "calmhsa");
        c->next = s->day + between(&c->r, 7, 28);
    } else if (strcmp(st, "corrective_action_ordered") == 0) {
        /* the complaint tells the certification, whose open sanction closes (REN_3) */
        ok = fire(s, c->id, "corrective_action_completed", NULL, "calmhsa");
    } else if ((strcmp(st, "suspended") == 0 || strcmp(st, "revoked") == 0) && !c->appealed) {
        c->appealed = 1;
        if (chance(&c->r, 45)) { /* DIS_3: appeal within 30 days */
            ok = fire(s, c->id, "appeal", NULL, "certificant");
            c->next = s->day + between(&c->r, 2, 8);
        }
    } else if (strcmp(st, "appealed") == 0) {
        if (c->appealed == 1) {
            c->appealed = 2;
            ok = fire(s, c->id, "acknowledge", NULL, "calmhsa");
            c->next = s->day + between(&c->r, 30, 100);
        } else {
            ok = fire(s, c->id, chance(&c->r, 40) ? "overturn" : "uphold", json_incref(findings), "calmhsa");
        }
    }
    json_decref(findings);
    return ok < 0 ? -1 : 0;
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

static void make_people(sim *s)
{
    rng world = rng_stream(s->seed, 0, 0);
    int total = 0;
    for (size_t c = 0; c < NCOUNTIES; c++)
        total += COUNTIES[c].weight;
    int64_t span = s->last_day - s->first_day;
    int64_t legacy_deadline = civil(2023, 6, 30);
    for (size_t i = 0; i < s->npeople; i++) {
        person *p = &s->people[i];
        memset(p, 0, sizeof *p);
        p->r = rng_stream(s->seed, 1, i);
        p->index = (int)i;
        int w = (int)between(&world, 0, total - 1);
        for (p->county = 0; w >= COUNTIES[p->county].weight; p->county++)
            w -= COUNTIES[p->county].weight;
        snprintf(p->name, sizeof p->name, "%s %s", PICK(&p->r, FIRST), PICK(&p->r, LAST));
        /* arrivals over the first four fifths, so the early ones reach their renewal */
        p->next = s->first_day + between(&p->r, 0, span * 4 / 5);
        int roll = (int)between(&p->r, 0, 99);
        p->pathway = roll < 8 ? PW_LEGACY : roll < 15 ? PW_RECIPROCITY : PW_INITIAL;
        if (p->pathway == PW_LEGACY) {
            /* before the deadline mostly; some come too late */
            if (s->first_day <= legacy_deadline && !chance(&p->r, 20))
                p->next = s->first_day + between(&p->r, 0, legacy_deadline - s->first_day);
        }
        if (chance(&p->r, 3)) /* 17 at the first try */
            p->born = p->next - (17 * 36525 / 100) - between(&p->r, 30, 300);
        else
            p->born = p->next - between(&p->r, 19 * 365, 64 * 365);
        p->skill = (int)between(&p->r, 55, 85);
        roll = (int)between(&p->r, 0, 99);
        p->renew_mode = roll < 65 ? RENEW_ON_TIME : roll < 80 ? RENEW_LATE : RENEW_NEVER;
        p->bad_provider = chance(&p->r, 5);
        p->accommodation = chance(&p->r, 5);
        p->short_ce = chance(&p->r, 10);
        p->specialize = chance(&p->r, 25);
        roll = (int)between(&p->r, 0, 99);
        p->hire = roll < 20 ? 1 : roll < 40 ? 2 : 0;
        p->cor_extension = chance(&p->r, 25);
        p->complaint = chance(&p->r, 7);
        p->wants_award = p->pathway == PW_RECIPROCITY ? chance(&p->r, 5) : chance(&p->r, 25);
        p->emp_next = NEVER;
    }
    for (size_t i = 0; i < s->nsups; i++) {
        supervisor *v = &s->sups[i];
        memset(v, 0, sizeof *v);
        v->r = rng_stream(s->seed, 2, i);
        v->county = (int)(i % NCOUNTIES);
        v->next = s->first_day + between(&v->r, 0, span * 3 / 4);
        int roll = (int)between(&v->r, 0, 99);
        v->training_mode = roll < 70 ? 0 : roll < 90 ? 1 : 2;
    }
}

static int run_day(sim *s)
{
    s->now = midnight(s, s->day) + 10 * 3600;
    uint64_t fired = 0;
    int rc = cf_engine_tick(s->e, s->now, &fired);
    s->timers += (long long)fired;
    if (rc != CF_OK)
        return engine_error(s, rc, "tick", NULL);
    for (size_t i = 0; i < s->npeople; i++) {
        person *p = &s->people[i];
        if (p->next <= s->day && person_act(s, p) < 0)
            return -1;
        if (p->emp_next <= s->day && employer_act(s, p) < 0)
            return -1;
        if (p->complaint && p->complaint_day && p->complaint_day <= s->day && complaint_file(s, p) < 0)
            return -1;
    }
    for (size_t i = 0; i < s->nsups; i++)
        if (s->sups[i].next <= s->day && supervisor_act(s, &s->sups[i], i) < 0)
            return -1;
    for (size_t i = 0; i < s->ncomplaints; i++)
        if (s->complaints[i].next <= s->day && complaint_act(s, &s->complaints[i]) < 0)
            return -1;
    return 0;
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
        return engine_error(s, rc, "listing instances", NULL);
    fprintf(f, "Instances:");
    for (wf_count *w = counts; w->name; w++)
        fprintf(f, "%s %lld %s", w == counts ? "" : ",", w->n, w->name);
    fputc('\n', f);

    char day[11];
    prog_registry reg;
    rc = prog_registry_load(s->e, s->last_day, &reg);
    if (rc != CF_OK)
        return engine_error(s, rc, "reading the registry", NULL);
    long long by[PROG_NSTATUS] = {0};
    for (size_t i = 0; i < reg.count; i++)
        by[reg.rows[i].status]++;
    fprintf(f, "\nRegistry on %s: %zu people hold or held a certification\n", date_str(s->last_day, day), reg.count);
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
            return engine_error(s, rc, "building the report", NULL);
        int bad = prog_report_print(f, report, "text");
        json_decref(report);
        if (bad)
            return -1;
    }
    return 0;
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
    s.first_day = civil(2023, 1, 1);
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
    s.now = midnight(&s, s.first_day);

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
    make_people(&s);
    if (s.has_scholarship) {
        /* one statewide pool, limited: it runs out, and closes after 18 months */
        char closes[11];
        json_t *pool = json_pack("{s:s, s:s, s:i, s:s}", "name", "CalMHSA peer scholarship", "code", "SCH", "funds",
                                 (int)(people * 85 + 2000), "closes_on", date_str(s.first_day + 547, closes));
        s.now = midnight(&s, s.first_day) + 8 * 3600;
        if (create(&s, "scholarship", 0, pool, "calmhsa", s.pool) < 0) {
            free(s.people);
            free(s.sups);
            return s.exit_code;
        }
    }

    char from[11], to[11];
    FILE *out = r->out;
    fprintf(out, "certflow simulate: %lld people in %zu counties, seed %lld, %lld year%s (%s to %s)\n", people, NCOUNTIES,
            seed, years, years == 1 ? "" : "s", date_str(s.first_day, from), date_str(s.last_day, to));
    if (!s.has_employment || !s.has_supervision || !s.has_complaint || !s.has_scholarship)
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
    } else {
        print_summary(&s, out);
        if (print_results(&s, out) < 0)
            code = s.exit_code ? s.exit_code : CLI_EXIT_OTHER;
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(r->err, "simulated %lld days in %.1f s (database %s)\n", (long long)total, secs, r->db);
    }
    json_decref(s.state_buf);
    free(s.people);
    free(s.sups);
    free(s.complaints);
    return code;
}
