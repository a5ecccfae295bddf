/*
 * agents.c — what each agent of certflow simulate does on a day: a person on
 * the way to a certification and through its renewals, the employer, the
 * supervisors and the complaints, each through the program's events.
 */
#include "simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- One person's path through the certification ---- */

static int new_application(sim *s, person *p)
{
    char born[11], today[11], worked[11];
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "name", p->name, "birth_date",
                          sim_date_str(p->born, born), "pathway", PATHWAYS[p->pathway], "education", chance(&p->r, 2) ? "none" : "high_school",
                          "attests_willingness", 1, "ethics_version", ETHICS_VERSION, "ethics_signed_on",
                          sim_date_str(s->day, today));
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
    json_t *ce = sim_ce_list(s, 1);
    if (p->pathway == PW_LEGACY)
        json_object_set_new(d, "legacy",
                            json_pack("{s:s, s:i, s:o, s:b, s:b, s:b}", "employed_from",
                                      sim_date_str(sim_civil(2021, 1, 1) - between(&p->r, 30, 2000), worked),
                                      "peer_hours", (int)between(&p->r, 1600, 6000), "ce", ce, "supervisor_letter", 1,
                                      "colleague_letter", 1, "employment_verification", 1));
    else if (p->pathway == PW_RECIPROCITY)
        json_object_set_new(d, "reciprocity",
                            json_pack("{s:[{s:i, s:s}], s:b, s:b, s:b, s:o, s:b, s:b, s:b}", "peer_work", "hours",
                                      (int)between(&p->r, 1600, 4000), "ended_on", sim_date_str(s->day - 20, worked),
                                      "certification_active", 1, "pending_discipline", chance(&p->r, 10),
                                      "unresolved_complaint", 0, "ce", ce, "supervisor_letter", 1, "colleague_letter",
                                      1, "self_letter", 1));
    else
        json_decref(ce);
    p->applications++;
    p->emp_id[0] = '\0';
    p->award[0] = '\0';
    p->covered = 0;
    return sim_create(s, "certification", p->county, d, "applicant", p->id);
}

/* SCH_1: ask the pool for an award; on success remember its ID. 0 or -1. */
static int request_award(sim *s, person *p)
{
    p->wants_award = 0;
    json_t *d = json_pack("{s:s, s:s, s:s, s:i}", "applicant_id", p->id, "applicant", p->name, "pathway",
                          PATHWAYS[p->pathway], "training_cost", 600);
    int ok = sim_fire(s, s->pool, "award", d, "calmhsa");
    if (ok <= 0)
        return ok;
    int active = 0;
    return sim_award_of(s, p->id, p->award, &active) < 0 ? -1 : 0;
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
            /* only an award still active pays (SCH_1: it expires, and the ledger checks it):
             * its status as the fees plugin mirrors it, read by holder without loading the pool */
            int active = 0;
            if (sim_award_of(s, p->id, NULL, &active) < 0) {
                *err = 1;
                return json_pack("{s:i}", "fee_paid", amount);
            }
            if (active)
                return json_pack("{s:s}", "covered_by", p->award);
            return json_pack("{s:i}", "fee_paid", amount);
        }
        json_t *c = json_pack("{s:s, s:s, s:s}", "award_id", p->award, "applicant_id", p->id, "item", item);
        int ok = sim_fire(s, s->pool, "cover", c, "calmhsa");
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
    int ok = sim_fire(s, p->id, "submit", paid, "applicant");
    if (ok < 0)
        return -1;
    if (ok) {
        p->next = s->day + between(&p->r, 3, 40); /* the entity's review; past 30 days it is overdue */
        return 0;
    }
    int64_t adult = p->born + 18 * 36525 / 100 + 1;
    if (adult > s->day) {
        p->next = adult + between(&p->r, 0, 45); /* APP_1: try again once 18 */
    } else if (p->pathway == PW_LEGACY && s->day > sim_civil(2023, 6, 30)) {
        /* PATH_1: too late for grandparenting; take the initial pathway instead */
        p->pathway = PW_INITIAL;
        if (sim_fire(s, p->id, "update", json_pack("{s:s}", "pathway", "initial"), "applicant") < 0)
            return -1;
        p->next = s->day + between(&p->r, 2, 20);
    } else {
        p->gave_up = 1;
        p->next = NEVER;
        return sim_fire(s, p->id, "withdraw", NULL, "applicant") < 0 ? -1 : 0;
    }
    return 0;
}

static int schedule_exam(sim *s, person *p)
{
    int64_t window_ends = sim_ddate(s, "window_ends");
    int64_t day = s->day + between(&p->r, 10, 45);
    if (day > window_ends)
        day = window_ends;
    char at[32];
    json_t *d = json_pack("{s:s, s:s}", "at", sim_instant_str(s, day, 9, at), "mode", chance(&p->r, 60) ? "online" : "in_person");
    if (!json_is_true(sim_dget(s, "retake_required"))) {
        int err = 0;
        json_t *paid = fee(s, p, "exam", 150, &err);
        json_object_update(d, paid);
        json_decref(paid);
        if (err) {
            json_decref(d);
            return -1;
        }
    }
    int ok = sim_fire(s, p->id, "schedule_exam", d, "applicant");
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
    json_t *appt = sim_dget(s, "appointment");
    json_t *upload = sim_dget(s, "training_upload"), *acc = sim_dget(s, "accommodation"), *retake = sim_dget(s, "retake");
    char d1[11], d2[11];
    if (p->pathway == PW_INITIAL && !sim_dget(s, "training")) {
        if (upload) {
            /* the entity reviews the certificate (TRN_4); one from an unlisted provider is refused */
            int ok = sim_fire(s, p->id, "accept_training", NULL, "calmhsa");
            if (ok == 0)
                ok = sim_fire(s, p->id, "reject_training", json_pack("{s:s}", "reason", "provider not on the approved list"),
                          "calmhsa");
            p->next = s->day + between(&p->r, 5, 30);
            return ok < 0 ? -1 : 0;
        }
        json_t *t = json_pack("{s:s, s:i, s:s}", "provider", PICK(&p->r, PROVIDERS), "hours", 80, "completed_on",
                              sim_date_str(s->day - between(&p->r, 1, 10), d1));
        /* TRN_2: the record names the 17 core competencies (params.core_competencies) */
        json_t *comp = json_array();
        for (size_t c = 0; c < sizeof CORE_COMPETENCIES / sizeof CORE_COMPETENCIES[0]; c++)
            json_array_append_new(comp, json_string(CORE_COMPETENCIES[c]));
        json_object_set_new(t, "competencies", comp);
        if (p->bad_provider)
            p->bad_provider = 0; /* no provider_approved_from: not on the list */
        else
            json_object_set_new(t, "provider_approved_from", json_string(sim_date_str(sim_civil(2022, 7, 1), d2)));
        p->next = s->day + between(&p->r, 2, 20); /* past 14 days the review is overdue */
        if (p->award[0]) { /* the award pays the provider */
            int err;
            json_decref(fee(s, p, "core_training", 600, &err));
            if (err) {
                json_decref(t);
                return -1;
            }
        }
        return sim_fire(s, p->id, "upload_training", t, "applicant") < 0 ? -1 : 0;
    }
    if (p->accommodation && !p->accommodation_done && !appt) {
        if (acc && strcmp(json_string_value(json_object_get(acc, "status")) ? json_string_value(json_object_get(acc, "status")) : "", "pending") == 0) {
            p->accommodation_done = 1;
            p->next = s->day + between(&p->r, 1, 10);
            return sim_fire(s, p->id, "decide_accommodation", json_pack("{s:b}", "granted", chance(&p->r, 85)), "calmhsa") < 0
                       ? -1
                       : 0;
        }
        json_t *d = json_pack("{s:b, s:s}", "signed_by_medical_provider", 1, "desired_date",
                              sim_date_str(s->day + between(&p->r, 35, 60), d1));
        p->next = s->day + between(&p->r, 10, 40); /* past 30 days the review is overdue */
        return sim_fire(s, p->id, "request_accommodation", d, "applicant") < 0 ? -1 : 0;
    }
    if (appt) {
        if (s->day < p->appt_day) {
            if (p->reschedule) { /* EX_6: in time, so no fee is lost */
                p->reschedule = 0;
                int64_t later = p->appt_day + between(&p->r, 7, 21), ends = sim_ddate(s, "window_ends");
                char at[32];
                if (later <= ends) {
                    json_t *mv = json_pack("{s:s, s:s}", "at", sim_instant_str(s, later, 9, at), "mode",
                                           json_string_value(json_object_get(appt, "mode")));
                    int ok = sim_fire(s, p->id, "reschedule_exam", mv, "applicant");
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
            return sim_fire(s, p->id, "no_show", NULL, "exam_vendor") < 0 ? -1 : 0;
        }
        int pass = chance(&p->r, p->skill);
        json_t *d = json_pack("{s:s, s:i, s:s}", "result", pass ? "pass" : "fail", "score",
                              (int)(pass ? between(&p->r, 70, 98) : between(&p->r, 40, 69)), "taken_on",
                              sim_date_str(p->appt_day, d1));
        int ok = sim_fire(s, p->id, "exam_result", d, "exam_vendor");
        p->next = s->day + between(&p->r, 5, 40);
        return ok < 0 ? -1 : 0;
    }
    if (json_is_true(sim_dget(s, "retake_required"))) {
        if (retake) {
            const char *st = json_string_value(json_object_get(retake, "status"));
            if (st && strcmp(st, "pending") == 0) {
                p->next = s->day + between(&p->r, 1, 10);
                return sim_fire(s, p->id, "process_retake", NULL, "calmhsa") < 0 ? -1 : 0;
            }
            return schedule_exam(s, p);
        }
        if (chance(&p->r, 12)) { /* gives up; the window closes on its own */
            p->next = NEVER;
            return 0;
        }
        p->next = s->day + between(&p->r, 3, 35); /* the entity processes it within 30 days (EX_8) */
        return sim_fire(s, p->id, "request_retake", json_pack("{s:i}", "fee_paid", 150), "applicant") < 0 ? -1 : 0;
    }
    return schedule_exam(s, p);
}

static void plan_renewal(sim *s, person *p)
{
    int64_t expires = sim_ddate(s, "expires_on");
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
                              "hours", 40, "completed_on", sim_date_str(s->day - 3, d1));
        if (sim_fire(s, p->id, "add_specialization", d, "calmhsa") < 0)
            return -1;
    }
    if (s->day >= p->renew_day && p->renew_mode == RENEW_ON_TIME) {
        int enough = !(p->short_ce && p->renew_tries == 0);
        p->renew_tries++;
        json_t *d = json_pack("{s:o, s:s, s:s, s:i}", "ce", sim_ce_list(s, enough), "ethics_version", ETHICS_VERSION,
                              "ethics_signed_on", sim_date_str(s->day, d1), "fee_paid", 80);
        int ok = sim_fire(s, p->id, "renew", d, "applicant");
        if (ok < 0)
            return -1;
        if (ok) {
            if (sim_load(s, p->id) < 0)
                return -1;
            p->renew_mode = chance(&p->r, 70) ? RENEW_ON_TIME : chance(&p->r, 50) ? RENEW_LATE : RENEW_NEVER;
            plan_renewal(s, p);
        } else {
            /* more CE hours, or the open corrective action finished first: try again before expiry */
            int64_t expires = sim_ddate(s, "expires_on");
            p->renew_day = s->day + between(&p->r, 5, 20);
            if (p->renew_day > expires || p->renew_tries > 3)
                p->renew_day = NEVER;
        }
    }
    int64_t spec = p->specialize ? p->spec_day : NEVER;
    int64_t renew = p->renew_mode == RENEW_ON_TIME ? p->renew_day : NEVER;
    int64_t expires = sim_ddate(s, "expires_on");
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
        json_t *late = json_pack("{s:o, s:s, s:s, s:i}", "ce", sim_ce_list(s, 1), "ethics_version", ETHICS_VERSION,
                                 "ethics_signed_on", sim_date_str(s->day, d1), "fee_paid", 80);
        if (sim_fire(s, p->id, "renew", late, "applicant") < 0)
            return -1;
    }
    json_t *d = json_pack("{s:o, s:s, s:s, s:i}", "ce", sim_ce_list(s, 1), "ethics_version", ETHICS_VERSION,
                          "ethics_signed_on", sim_date_str(s->day, d1), "fee_paid", 160);
    int ok = sim_fire(s, p->id, "reinstate", d, "applicant");
    if (ok < 0)
        return -1;
    p->next = s->day + 1;
    if (ok) {
        if (sim_load(s, p->id) < 0)
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

int sim_person_act(sim *s, person *p)
{
    if (!p->id[0]) {
        if (new_application(s, p) < 0)
            return -1;
        return submit(s, p);
    }
    if (sim_load(s, p->id) < 0)
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
        return sim_fire(s, p->id, approve ? "approve" : "deny", d, "calmhsa") < 0 ? -1 : 0;
    }
    if (strcmp(st, "denied") == 0) {
        p->next = NEVER;
        if (chance(&p->r, 45)) { /* DIS_7: appeal the denial */
            p->next = s->day + between(&p->r, 20, 70);
            return sim_fire(s, p->id, "appeal", NULL, "applicant") < 0 ? -1 : 0;
        }
        return 0;
    }
    if (strcmp(st, "denial_appealed") == 0) {
        p->next = s->day + 1;
        if (chance(&p->r, 50))
            return sim_fire(s, p->id, "appeal_overturned", json_pack("{s:s}", "restore_to", "approved"), "calmhsa") < 0 ? -1
                                                                                                                  : 0;
        p->next = NEVER;
        return sim_fire(s, p->id, "appeal_upheld", NULL, "calmhsa") < 0 ? -1 : 0;
    }
    if (strcmp(st, "approved") == 0)
        return approved_step(s, p);
    if (strcmp(st, "certified.active") == 0)
        return certified_step(s, p);
    if (strcmp(st, "expired") == 0)
        return expired_step(s, p);
    if (strcmp(st, "exhausted") == 0) {
        /* EX_2: some ask for a fourth attempt and are refused */
        if (chance(&p->r, 30) && sim_fire(s, p->id, "request_retake", json_pack("{s:i}", "fee_paid", 150), "applicant") < 0)
            return -1;
        closed_step(s, p);
        return 0;
    }
    if (strcmp(st, "window_closed") == 0 || strcmp(st, "denial_final") == 0 || strcmp(st, "withdrawn") == 0) {
        closed_step(s, p);
        return 0;
    }
    p->next = NEVER; /* certified.suspended, revoked, lapsed: the complaint or nothing moves it */
    return 0;
}

/* ---- The employer: hire, grace period, COR extension, billing (EMP) ---- */

int sim_employer_act(sim *s, person *p)
{
    char d1[11];
    if (!p->emp_id[0]) {
        if (!p->id[0]) {
            p->emp_next = NEVER;
            return 0;
        }
        if (sim_load(s, p->id) < 0)
            return -1;
        const char *number = sim_dstr(s, "certification_number");
        int certified = strcmp(s->state, "certified.active") == 0 && *number;
        char program[96];
        snprintf(program, sizeof program, "%s peer services", COUNTIES[p->county].name);
        /* EMP_2: most peer positions are in specialty mental health, some in DMC-ODS */
        int smhs = chance(&p->r, 75);
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", p->name, "hired_on", sim_date_str(s->day, d1),
                              "certification_id", p->id, "program", program, "program_type",
                              smhs ? "smhs" : "dmc_ods", "position", "Peer Support Specialist");
        if (sim_create(s, "employment", p->county, d, "county", p->emp_id) < 0)
            return -1;
        json_t *start = certified ? json_pack("{s:s}", "certification_number", number) : NULL;
        if (sim_fire(s, p->emp_id, "start", start, "county") < 0)
            return -1;
        /* seed 002 C.2: the hire's supervisor, one of the county's (where there is one) */
        for (size_t i = 0; i < s->nsups; i++) {
            if (s->sups[i].id[0] && s->sups[i].county == p->county) {
                if (sim_fire(s, p->emp_id, "assign_supervisor", json_pack("{s:s}", "supervisor_id", s->sups[i].id),
                         "county") < 0)
                    return -1;
                break;
            }
        }
        p->emp_next = s->day + between(&p->r, 20, 45);
        if (!certified && smhs && chance(&p->r, 40)) { /* EMP_2: Other Qualified Provider criteria (SMHS) */
            p->oqp = 1;
            json_t *o = json_pack("{s:s, s:s}", "recorded_by", "program manager", "criteria", "OPOH Section M");
            if (sim_fire(s, p->emp_id, "record_oqp", o, "county") < 0)
                return -1;
        }
        return 0;
    }
    if (sim_load(s, p->emp_id) < 0)
        return -1;
    const char *st = s->state;
    p->emp_next = s->day + between(&p->r, 30, 90);
    if (strcmp(st, "ended") == 0) {
        p->emp_next = NEVER;
        return 0;
    }
    if (strcmp(st, "ehr_restoring") == 0) {
        p->emp_next = s->day + between(&p->r, 20, 60);
        return sim_fire(s, p->emp_id, "ehr_restored", NULL, "county_it") < 0 ? -1 : 0;
    }
    if (strcmp(st, "grace") == 0 && p->cor_extension && !p->extended) {
        int64_t ends = sim_ddate(s, "grace_ends_on");
        if (ends != NEVER && s->day + 20 >= ends) {
            p->extended = 1;
            char d2[11];
            json_t *x = json_pack("{s:s, s:s, s:s}", "approved_by", "COR", "new_date", sim_date_str(ends + 60, d2), "reason",
                                  "exam scheduled after the grace period");
            p->emp_next = s->day + between(&p->r, 15, 40);
            return sim_fire(s, p->emp_id, "extend", x, "county") < 0 ? -1 : 0;
        }
        if (ends != NEVER && ends - 20 > s->day && ends - 20 < p->emp_next)
            p->emp_next = ends - 20;
    }
    if (chance(&p->r, 4)) { /* leaves the position */
        p->emp_next = NEVER;
        return sim_fire(s, p->emp_id, "end", json_pack("{s:s}", "reason", "resigned"), "county") < 0 ? -1 : 0;
    }
    /* EMP_2: a bill; peer codes are refused while not certified in good standing */
    int peer = !p->oqp || chance(&p->r, 50);
    json_t *b = json_pack("{s:s, s:s}", "code_type", peer ? "peer" : "non_peer", "code", peer ? "H0038" : "H2017");
    return sim_fire(s, p->emp_id, "bill", b, "county_billing") < 0 ? -1 : 0;
}

/* ---- Supervisors (SUP) ---- */

int sim_supervisor_act(sim *s, supervisor *v, size_t index)
{
    char d1[11];
    switch (v->step) {
    case 0: {
        char name[64], employer[96];
        snprintf(name, sizeof name, "%s %s", PICK(&v->r, FIRST), PICK(&v->r, LAST));
        snprintf(employer, sizeof employer, "%s behavioral health", COUNTIES[v->county].name);
        if (sim_create(s, "supervision", v->county, json_pack("{s:s, s:s}", "name", name, "employer", employer), "county",
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
        int ok = sim_fire(s, v->id, "qualify", q, "county");
        if (ok < 0)
            return -1;
        if (!ok) {
            json_t *again = json_pack("{s:i, s:s, s:i}", "option", 2, "profession", "certified_sud_counselor", "bh_years",
                                      4);
            if (sim_fire(s, v->id, "qualify", again, "county") < 0)
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
        return sim_fire(s, v->id, "start_supervising", NULL, "county") < 0 ? -1 : 0;
    default:
        /* SUP_2: DHCS-approved training, on time or late (then reported overdue) */
        v->next = NEVER;
        (void)index;
        return sim_fire(s, v->id, "record_training",
                    json_pack("{s:b, s:s, s:s}", "dhcs_approved", 1, "completed_on", sim_date_str(s->day - 1, d1), "course",
                              "DHCS peer supervisor training"),
                    "county") < 0
                   ? -1
                   : 0;
    }
}

/* ---- Complaints (DIS) ---- */

int sim_complaint_file(sim *s, person *p)
{
    p->complaint = 0;
    if (sim_load(s, p->id) < 0)
        return -1;
    const char *issued = sim_dstr(s, "issued_on");
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
    int64_t issued_day = sim_ddate(s, "issued_on");
    int64_t incident = chance(&c->r, 8) ? issued_day - between(&c->r, 30, 200) : s->day - between(&c->r, 3, 60);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "certification_id", p->id, "respondent", p->name,
                          "complainant", "a client", "summary", "boundary concerns reported by a client", "incident_on",
                          sim_date_str(incident, d1), "certification_held_from", issued);
    if (!cf_state_in(s->state, "certified")) { /* no longer held: neither active nor suspended */
        char until[11];
        const char *exp = sim_dstr(s, "expires_on");
        json_object_set_new(d, "certification_held_until", json_string(*exp ? exp : sim_date_str(s->day, until)));
    }
    if (sim_create(s, "complaint", p->county, d, "complainant", c->id) < 0)
        return -1;
    s->ncomplaints++;
    c->next = s->day + between(&c->r, 1, 9); /* DIS_5: 5 business days to acknowledge */
    return 0;
}

int sim_complaint_act(sim *s, complaint *c)
{
    if (sim_load(s, c->id) < 0)
        return -1;
    const char *st = s->state;
    json_t *findings = json_pack("{s:s}", "findings", "investigator's findings recorded");
    int ok = 0;
    c->next = NEVER;
    if (strcmp(st, "received") == 0) {
        c->next = s->day + between(&c->r, 2, 20);
        ok = sim_fire(s, c->id, "acknowledge", NULL, "calmhsa");
    } else if (strcmp(st, "acknowledged") == 0) {
        ok = sim_fire(s, c->id, "accept", NULL, "calmhsa");
        if (ok == 0)
            ok = sim_fire(s, c->id, "decline", json_pack("{s:s}", "reason", "outside the filing limits"), "calmhsa");
        else {
            c->decide_day = s->day + between(&c->r, 30, 110);
            c->next = c->decide_day;
            /* DIS_5: due 90 days after receipt; a longer one is extended once, in time */
            int64_t due = sim_ddate(s, "review_due_on");
            if (due != NEVER && c->decide_day > due - 5)
                c->next = due - 5;
        }
    } else if (strcmp(st, "investigating") == 0 && s->day < c->decide_day) {
        c->next = c->decide_day;
        ok = sim_fire(s, c->id, "extend", json_pack("{s:i, s:s}", "days", 30, "reason", "witness interviews pending"),
                  "calmhsa");
    } else if (strcmp(st, "investigating") == 0) {
        int roll = (int)between(&c->r, 0, 99);
        const char *outcome = roll < 45 ? "dismiss" : roll < 75 ? "corrective_action" : roll < 92 ? "suspend" : "revoke";
        json_t *d = json_deep_copy(findings);
        if (roll >= 75 && roll < 92) { /* DIS_2: a suspension has its term (its last day) */
            char until[11];
            json_object_set_new(d, "suspended_until", json_string(sim_date_str(s->day + between(&c->r, 60, 270), until)));
        }
        ok = sim_fire(s, c->id, outcome, d, "calmhsa");
        c->next = s->day + between(&c->r, 7, 28);
    } else if (strcmp(st, "corrective_action_ordered") == 0) {
        /* the complaint tells the certification, whose open sanction closes (REN_3) */
        ok = sim_fire(s, c->id, "corrective_action_completed", NULL, "calmhsa");
    } else if ((strcmp(st, "suspended") == 0 || strcmp(st, "revoked") == 0) && !c->appealed) {
        c->appealed = 1;
        if (chance(&c->r, 45)) { /* DIS_3: appeal within 30 days */
            ok = sim_fire(s, c->id, "appeal", NULL, "certificant");
            c->next = s->day + between(&c->r, 2, 8);
        }
    } else if (strcmp(st, "appealed") == 0) {
        if (c->appealed == 1) {
            c->appealed = 2;
            ok = sim_fire(s, c->id, "acknowledge", NULL, "calmhsa");
            c->next = s->day + between(&c->r, 30, 100);
        } else {
            ok = sim_fire(s, c->id, chance(&c->r, 40) ? "overturn" : "uphold", json_incref(findings), "calmhsa");
        }
    }
    json_decref(findings);
    return ok < 0 ? -1 : 0;
}
