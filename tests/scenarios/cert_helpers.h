/*
 * cert_helpers.h — shared steps of the certification scenario tests
 * (test_certification.c, test_cert_*.c): a qualified applicant, an approved
 * application, accepted training, an appointment, and reading nested data.
 * Header-only (static functions) because each scenario file is its own executable.
 * Times: "day" helpers put the clock at 20:00Z, midday in Los Angeles all year.
 */
#ifndef CF_CERT_HELPERS_H
#define CF_CERT_HELPERS_H

#include "scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* printf into a ring of buffers, for JSON and ISO text valid for a few calls. */
static inline const char *jf(const char *fmt, ...)
{
    static char ring[16][2048];
    static int next;
    char *b = ring[next++ % 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof ring[0], fmt, ap);
    va_end(ap);
    return b;
}

/* Midday (Los Angeles) of a date. */
static inline const char *noon(const char *day)
{
    return jf("%sT20:00:00Z", day);
}

static inline void on_day(sc *s, const char *day)
{
    sc_at(s, noon(day));
}

static inline uint64_t tick_day(sc *s, const char *day)
{
    return sc_tick(s, noon(day));
}

/* A field of the data by a dotted path ("exams.0.score"); NULL if absent. Borrowed from root. */
static inline json_t *jpath(json_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && v; part = strtok_r(NULL, ".", &save)) {
        if (json_is_array(v))
            v = json_array_get(v, (size_t)strtoul(part, NULL, 10));
        else
            v = json_object_get(v, part);
    }
    return v;
}

/* The value at path as text: strings as they are, other JSON compact; "" if absent. */
static inline const char *dget(sc *s, const char *id, const char *path)
{
    static char ring[8][1024];
    static int next;
    char *b = ring[next++ % 8];
    json_t *d = sc_data(s, id);
    json_t *v = jpath(d, path);
    b[0] = '\0';
    if (json_is_string(v)) {
        snprintf(b, sizeof ring[0], "%s", json_string_value(v));
    } else if (v) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        snprintf(b, sizeof ring[0], "%s", t ? t : "");
        free(t);
    }
    json_decref(d);
    return b;
}

/* The number of entries of an array (0 if absent). */
static inline size_t dlen(sc *s, const char *id, const char *path)
{
    json_t *d = sc_data(s, id);
    size_t n = json_array_size(jpath(d, path));
    json_decref(d);
    return n;
}

/* The instance's fees from the fees plugin's ledger (query fees.statement), oldest
 * first, each as { amount (dollars), covered_by, on, type }: new reference. */
static inline json_t *ledger(sc *s, const char *id)
{
    char args[128];
    snprintf(args, sizeof args, "{\"instance\": \"%s\"}", id);
    json_t *st = sc_query(s, "fees.statement", args);
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(st, "entries"), i, e)
    {
        json_int_t cents = json_integer_value(json_object_get(e, "amount_cents"));
        json_t *o = json_pack("{s:I, s:O, s:O}", "amount", cents / 100, "on", json_object_get(e, "charged_on"),
                              "type", json_object_get(e, "type"));
        if (cents % 100)
            json_object_set_new(o, "amount", json_real((double)cents / 100));
        if (json_is_string(json_object_get(e, "covered_by")))
            json_object_set(o, "covered_by", json_object_get(e, "covered_by"));
        json_array_append_new(out, o);
    }
    json_decref(st);
    return out;
}

/* A ledger entry's field by path ("1", "0.covered_by") as text, like dget; "" if absent. */
static inline const char *fget(sc *s, const char *id, const char *path)
{
    static char ring[8][1024];
    static int next;
    char *b = ring[next++ % 8];
    json_t *l = ledger(s, id);
    json_t *v = path && *path ? jpath(l, path) : l;
    b[0] = '\0';
    if (json_is_string(v)) {
        snprintf(b, sizeof ring[0], "%s", json_string_value(v));
    } else if (v) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        snprintf(b, sizeof ring[0], "%s", t ? t : "");
        free(t);
    }
    json_decref(l);
    return b;
}

/* The number of fees charged to the instance (FEE_1). */
static inline size_t fcount(sc *s, const char *id)
{
    json_t *l = ledger(s, id);
    size_t n = json_array_size(l);
    json_decref(l);
    return n;
}

#define ASSERT_REASON(s, text)                                                                                 \
    do {                                                                                                       \
        if (!sc_reason_has((s), (text)))                                                                       \
            fail_msg("expected the reason \"%s\" in %s", (text), (s)->reasons);                             \
    } while (0)

/* SCH_1: a real scholarship award for the certification instance `id`, from a new pool
 * (code, $5,000, closing at the end of 2030): the application fee, the core training, one
 * exam attempt and, when retake_approved_by is given, one pre-approved retake. Returns the
 * award's id (valid for a few calls); *pool_out (when given) gets the pool's id. */
static inline const char *award_to(sc *s, const char *id, const char *code, const char *retake_approved_by,
                                   const char **pool_out)
{
    static char ring[4][64];
    static int next;
    char *b = ring[next++ % 4];
    const char *pool = sc_new(s, "scholarship", "los_angeles",
                              jf("{\"name\": \"Peer Certification Scholarships\", \"code\": \"%s\", "
                                 "\"funds\": 5000, \"closes_on\": \"2030-12-31\"}",
                                 code));
    if (retake_approved_by)
        sc_expect(s, pool, "award",
                  jf("{\"applicant_id\": \"%s\", \"pathway\": \"initial\", \"training_cost\": 400, "
                     "\"retake_approved_by\": \"%s\"}",
                     id, retake_approved_by),
                  CF_OK);
    else
        sc_expect(s, pool, "award",
                  jf("{\"applicant_id\": \"%s\", \"pathway\": \"initial\", \"training_cost\": 400}", id),
                  CF_OK);
    snprintf(b, sizeof ring[0], "%s", dget(s, pool, "last_award_id"));
    if (pool_out)
        *pool_out = pool;
    return b;
}

/* A qualified applicant on the initial pathway; extra (a JSON object or NULL) adds or replaces fields. */
static inline const char *new_applicant(sc *s, const char *extra)
{
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "name", "Ana Ruiz", "birth_date", "1990-05-01",
                          "education", "high_school", "lived_experience", "consumer", "attests_willingness", 1,
                          "ethics_version", "2021-07-26", "ethics_signed_on", "2024-01-05", "email", "ana@example.org");
    if (extra) {
        json_error_t err;
        json_t *x = json_loads(extra, 0, &err);
        if (!x)
            fail_msg("bad extra JSON %s: %s", extra, err.text);
        json_object_update(d, x);
        json_decref(x);
    }
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    const char *id = sc_new(s, "certification", "san_diego", text);
    free(text);
    return id;
}

static inline void submit(sc *s, const char *id)
{
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_OK);
}

/* An application submitted and approved on the current day. */
static inline const char *approved_app(sc *s, const char *extra)
{
    const char *id = new_applicant(s, extra);
    submit(s, id);
    sc_expect(s, id, "approve", NULL, CF_OK);
    assert_string_equal(sc_state(s, id), "approved");
    return id;
}

/* TRN_2: the 17 core competencies (params.core_competencies in lua/policy/state.lua) as the
 * JSON member a training completion record carries, with a leading comma. */
#define CORE_COMPETENCIES_JSON                                                                                 \
    ", \"competencies\": [\"hope_recovery_wellness\", \"advocacy\", \"consumers_and_family_members\", "         \
    "\"rehabilitation_and_recovery_practices\", \"cultural_and_structural_competence\", "                        \
    "\"trauma_informed_care\", \"group_facilitation\", \"self_awareness_and_self_care\", "                       \
    "\"co_occurring_disorders\", \"conflict_resolution\", \"professional_boundaries_and_ethics\", "              \
    "\"employment_preparation\", \"safety_and_crisis_planning\", \"navigation_and_referral\", "                  \
    "\"documentation\", \"confidentiality\", \"digital_literacy\"]"

/* The 80-hour core training from an approved provider, uploaded and accepted today. */
static inline void trained(sc *s, const char *id)
{
    sc_expect(s, id, "upload_training",
              "{\"provider\": \"Peer Academy\", \"provider_approved_from\": \"2022-08-01\", \"hours\": 80, "
              "\"completed_on\": \"2024-01-20\"" CORE_COMPETENCIES_JSON "}",
              CF_OK);
    sc_expect(s, id, "accept_training", NULL, CF_OK);
}

/* Schedule an exam at an ISO date-time in a mode; the fee is paid with it when needed. */
static inline void schedule(sc *s, const char *id, const char *at, const char *mode)
{
    sc_expect(s, id, "schedule_exam", jf("{\"at\": \"%s\", \"mode\": \"%s\", \"fee_paid\": 150}", at, mode), CF_OK);
}

static inline int result(sc *s, const char *id, const char *res, int score, const char *taken_on)
{
    return sc_fire(s, id, "exam_result",
                   jf("{\"result\": \"%s\", \"score\": %d, \"taken_on\": \"%s\"}", res, score, taken_on));
}

/* A retake requested (fee paid) and processed today. */
static inline void retake(sc *s, const char *id)
{
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_OK);
    sc_expect(s, id, "process_retake", NULL, CF_OK);
}

/* Certified on issue_day: approved on approve_day, trained, exam in person two days before issue. */
static inline const char *certified_on(sc *s, const char *approve_day, const char *exam_at, const char *issue_day)
{
    on_day(s, approve_day);
    const char *id = approved_app(s, NULL);
    trained(s, id);
    schedule(s, id, exam_at, "in_person");
    on_day(s, issue_day);
    char taken[11];
    snprintf(taken, sizeof taken, "%.10s", exam_at);
    assert_int_equal(result(s, id, "pass", 88, taken), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    return id;
}

/* CE records as JSON: total hours on one date, of which law_ethics hours on another. */
static inline const char *ce(int hours, const char *on, int ethics, const char *ethics_on)
{
    return jf("[{\"hours\": %d, \"law_ethics\": false, \"completed_on\": \"%s\"}, "
              "{\"hours\": %d, \"law_ethics\": true, \"completed_on\": \"%s\"}]",
              hours - ethics, on, ethics, ethics_on);
}

#endif
