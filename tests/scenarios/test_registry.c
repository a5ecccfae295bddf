/*
 * test_registry.c — the registry and the yearly report on the shipped program
 * (REG_1..REG_4): certifications driven to certified, lapsed, suspended and
 * revoked through the engine, then read back through the built certflow command
 * (fork + exec, as county staff would run it): registry export/search and report.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BINARY CF_BINARY_DIR "/certflow"

/* Private values set on every certification: none may reach the registry (REG_2). */
#define BIRTH "1984-04-12"
#define EMAIL "ana.private@example.org"
#define PHONE "619-555-0142"
#define ADDRESS "4242 Hidden Lane"
#define LIVED "family_member"
#define COMPLAINT_TEXT "SECRET complaint about boundary crossing"

typedef cft_run out;

/* certflow --db <scenario db> --workflows <shipped> --policies <shipped> --now NOW args... */
static out run(sc *s, const char *now, ...)
{
    char *db = cft_path(s->dir, "scenario.db");
    const char *prefix[] = {"--workflows", CF_SOURCE_DIR "/workflows", "--policies", CF_SOURCE_DIR "/lua",
                            "--now", now, "--db", db, NULL};
    va_list ap;
    va_start(ap, now);
    out r = cft_certflow_va(s->dir, prefix, ap);
    va_end(ap);
    free(db);
    return r;
}

static void out_free(out *r)
{
    cft_run_free(r);
}

static const char *at(const char *day)
{
    static char ring[8][32];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, sizeof ring[0], "%sT20:00:00Z", day);
    return b;
}

static const char *person_data(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"name\":\"%s\",\"birth_date\":\"" BIRTH "\",\"email\":\"" EMAIL "\",\"phone\":\"" PHONE
             "\",\"address\":\"" ADDRESS "\",\"education\":\"high_school\",\"lived_experience\":\"" LIVED
             "\",\"attests_willingness\":true,\"ethics_version\":\"2021-07-26\",\"ethics_signed_on\":\"2025-01-06\"}",
             name);
    return buf;
}

/* An application submitted and approved on 2025-01-06. */
static const char *applicant(sc *s, const char *name, const char *county)
{
    sc_at(s, at("2025-01-06"));
    const char *id = sc_new(s, "certification", county, person_data(name));
    sc_expect(s, id, "submit", "{\"fee_paid\":100}", CF_OK);
    sc_expect(s, id, "approve", NULL, CF_OK);
    return id;
}

/* ... then training, an exam on 2025-02-03 and a pass: certified on 2025-02-04. */
static void certify(sc *s, const char *id)
{
    sc_at(s, at("2025-01-10"));
    sc_expect(s, id, "upload_training",
              "{\"provider\":\"Peer Academy\",\"provider_approved_from\":\"2022-07-01\",\"hours\":80,"
              "\"completed_on\":\"2025-01-08\",\"competencies\":[\"hope_recovery_wellness\",\"advocacy\","
              "\"consumers_and_family_members\",\"rehabilitation_and_recovery_practices\","
              "\"cultural_and_structural_competence\",\"trauma_informed_care\",\"group_facilitation\","
              "\"self_awareness_and_self_care\",\"co_occurring_disorders\",\"conflict_resolution\","
              "\"professional_boundaries_and_ethics\",\"employment_preparation\",\"safety_and_crisis_planning\","
              "\"navigation_and_referral\",\"documentation\",\"confidentiality\",\"digital_literacy\"]}",
              CF_OK);
    sc_at(s, at("2025-01-12"));
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    sc_at(s, at("2025-01-13"));
    sc_expect(s, id, "schedule_exam", "{\"at\":\"2025-02-03T17:00:00Z\",\"mode\":\"online\",\"fee_paid\":150}", CF_OK);
    sc_at(s, at("2025-02-04"));
    sc_expect(s, id, "exam_result", "{\"result\":\"pass\",\"score\":84,\"taken_on\":\"2025-02-03\"}", CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
}

typedef struct world {
    sc *s;
    char a[37], b[37], c[37], d[37], e[37];
    char number_a[128], number_c[128];
} world;

/* A (active, a specialization and a complaint under investigation), B (will lapse),
 * C (suspended), D (revoked), E (applicant only), and one trained supervisor. */
static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    sc *s = w->s = sc_open("2025-01-06T20:00:00Z", NULL);
    snprintf(w->a, 37, "%s", applicant(s, "Ana \\\"Q\\\" Reyes, Jr", "san_diego"));
    snprintf(w->b, 37, "%s", applicant(s, "Luis Nguyen", "san_diego"));
    snprintf(w->c, 37, "%s", applicant(s, "Maria Garcia", "alameda"));
    snprintf(w->d, 37, "%s", applicant(s, "James Smith", "alameda"));
    sc_at(s, at("2025-01-06"));
    snprintf(w->e, 37, "%s", sc_new(s, "certification", "san_diego", person_data("Eve Applicant")));
    sc_expect(s, w->e, "submit", "{\"fee_paid\":100}", CF_OK);
    certify(s, w->a);
    certify(s, w->b);
    certify(s, w->c);
    certify(s, w->d);
    sc_at(s, at("2025-02-20"));
    sc_expect(s, w->a, "add_specialization",
              "{\"kind\":\"crisis\",\"provider\":\"Peer Academy\",\"hours\":40,\"completed_on\":\"2025-02-18\"}", CF_OK);
    sc_at(s, at("2025-03-03"));
    sc_expect(s, w->c, "suspend", NULL, CF_OK);
    sc_expect(s, w->d, "revoke", NULL, CF_OK);
    snprintf(w->number_a, sizeof w->number_a, "%s", sc_str(s, w->a, "certification_number"));
    snprintf(w->number_c, sizeof w->number_c, "%s", sc_str(s, w->c, "certification_number"));
    assert_true(w->number_a[0] && w->number_c[0]);

    /* a complaint about A, under investigation */
    char data[1024];
    snprintf(data, sizeof data,
             "{\"certification_id\":\"%s\",\"respondent\":\"Ana Reyes\",\"complainant\":\"a client\",\"summary\":\"" COMPLAINT_TEXT
             "\",\"incident_on\":\"2025-02-25\",\"certification_held_from\":\"2025-02-04\"}",
             w->a);
    const char *cid = sc_new(s, "complaint", "san_diego", data);
    sc_expect(s, cid, "acknowledge", NULL, CF_OK);
    sc_expect(s, cid, "accept", NULL, CF_OK);
    assert_string_equal(sc_state(s, cid), "investigating");

    /* a supervisor who completed the supervisory training (REG_3) */
    const char *sup = sc_new(s, "supervision", "san_diego", "{\"name\":\"Grace Lee\",\"employer\":\"SD BHS\"}");
    sc_expect(s, sup, "qualify", "{\"option\":3,\"education\":\"high_school\",\"direct_service_years\":6}", CF_OK);
    sc_expect(s, sup, "record_training", "{\"dhcs_approved\":true,\"completed_on\":\"2025-03-01\",\"course\":\"DHCS\"}",
              CF_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sc_close(w->s);
    free(w);
    return 0;
}

static json_t *row_of(json_t *rows, const char *name_part)
{
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v)
    {
        if (strstr(json_string_value(json_object_get(v, "name")), name_part))
            return v;
    }
    return NULL;
}

static const char *status_of(json_t *rows, const char *name_part)
{
    json_t *r = row_of(rows, name_part);
    return r ? json_string_value(json_object_get(r, "status")) : "(absent)";
}

static void no_private_fields(const char *text)
{
    static const char *const privates[] = {BIRTH, EMAIL, PHONE, ADDRESS, LIVED, COMPLAINT_TEXT, "birth_date",
                                           "email", "phone", "address", "lived_experience", "fees", "pathway",
                                           "complaint", "SECRET"};
    for (size_t i = 0; i < sizeof privates / sizeof privates[0]; i++)
        if (strstr(text, privates[i]))
            fail_msg("the registry output shows private '%s':\n%s", privates[i], text);
}

/* REG_2: export shows only public fields; every private field is set, none appears. */
static void test_REG_2_export_shows_public_fields_only(void **state)
{
    world *w = *state;
    out r = run(w->s, "2025-06-01T20:00:00Z", "registry", "export", "--format", "json", NULL);
    assert_int_equal(r.code, 0);
    no_private_fields(r.out);
    json_t *rows = json_loads(r.out, 0, NULL);
    assert_true(json_is_array(rows));
    assert_int_equal(json_array_size(rows), 4);
    json_t *a = row_of(rows, "Reyes");
    assert_non_null(a);
    static const char *const keys[] = {"certification_number", "name", "status", "issued_on", "expires_on",
                                       "specializations", "county"};
    assert_int_equal(json_object_size(a), 7);
    for (size_t i = 0; i < 7; i++)
        assert_non_null(json_object_get(a, keys[i]));
    assert_string_equal(json_string_value(json_object_get(a, "issued_on")), "2025-02-04");
    assert_string_equal(json_string_value(json_object_get(a, "expires_on")), "2027-02-04");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "specializations"), 0)), "crisis");
    assert_string_equal(json_string_value(json_object_get(a, "county")), "san_diego");
    /* stable order: by certification number */
    for (size_t i = 1; i < json_array_size(rows); i++)
        assert_true(strcmp(json_string_value(json_object_get(json_array_get(rows, i - 1), "certification_number")),
                           json_string_value(json_object_get(json_array_get(rows, i), "certification_number"))) < 0);
    json_decref(rows);
    out_free(&r);

    r = run(w->s, "2025-06-01T20:00:00Z", "registry", "export", "--format", "csv", NULL);
    assert_int_equal(r.code, 0);
    no_private_fields(r.out);
    assert_non_null(strstr(r.out, "certification_number,name,status,issued_on,expires_on,specializations,county\r\n"));
    /* RFC 4180: a field with a comma or a quote is quoted, quotes doubled */
    assert_non_null(strstr(r.out, ",\"Ana \"\"Q\"\" Reyes, Jr\",active,2025-02-04,2027-02-04,crisis,san_diego\r\n"));
    out_free(&r);

    r = run(w->s, "2025-06-01T20:00:00Z", "registry", "search", NULL);
    assert_int_equal(r.code, 0);
    no_private_fields(r.out);
    out_free(&r);
}

/* REG_2: search by name, number, county and status. */
static void test_REG_2_search_filters(void **state)
{
    world *w = *state;
    out r = run(w->s, "2025-06-01T20:00:00Z", "registry", "search", "--status", "suspended", "--json", NULL);
    assert_int_equal(r.code, 0);
    json_t *rows = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(status_of(rows, "Garcia"), "suspended");
    json_decref(rows);
    out_free(&r);

    r = run(w->s, "2025-06-01T20:00:00Z", "registry", "search", "--name", "nguyen", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Luis Nguyen"));
    assert_null(strstr(r.out, "Garcia"));
    out_free(&r);

    r = run(w->s, "2025-06-01T20:00:00Z", "registry", "search", "--number", w->number_c, "--format", "csv", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, w->number_c));
    assert_null(strstr(r.out, w->number_a));
    out_free(&r);

    r = run(w->s, "2025-06-01T20:00:00Z", "registry", "search", "--county", "alameda", "--status", "revoked", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "James Smith"));
    assert_null(strstr(r.out, "Maria Garcia"));
    out_free(&r);

    r = run(w->s, "2025-06-01T20:00:00Z", "registry", "search", "--status", "retired", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "active, lapsed, suspended, revoked"));
    out_free(&r);
}

/* REG_1: past and present: who held a certification stays, with its status; applicants never appear. */
static void test_REG_1_past_and_present_with_status(void **state)
{
    world *w = *state;
    out r = run(w->s, "2025-06-01T20:00:00Z", "registry", "export", "--format", "json", NULL);
    json_t *rows = json_loads(r.out, 0, NULL);
    assert_string_equal(status_of(rows, "Reyes"), "active");
    assert_string_equal(status_of(rows, "Nguyen"), "active");
    assert_string_equal(status_of(rows, "Garcia"), "suspended");
    assert_string_equal(status_of(rows, "Smith"), "revoked");
    assert_null(row_of(rows, "Eve"));
    json_decref(rows);
    out_free(&r);

    /* two years on, A and B were not renewed: they expired and are still on record as lapsed */
    sc_tick(w->s, "2027-03-01T20:00:00Z");
    assert_string_equal(sc_state(w->s, w->b), "expired");
    char *path = cft_path(w->s->dir, "registry.json");
    r = run(w->s, "2027-03-01T20:00:00Z", "registry", "export", "--format", "json", "--out", path, NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, ""); /* --out: the file, not stdout */
    out_free(&r);
    char *text = cft_slurp(path);
    rows = json_loads(text, 0, NULL);
    free(text);
    free(path);
    assert_non_null(rows);
    assert_int_equal(json_array_size(rows), 4);
    assert_string_equal(status_of(rows, "Reyes"), "lapsed");
    assert_string_equal(status_of(rows, "Nguyen"), "lapsed");
    assert_string_equal(status_of(rows, "Garcia"), "suspended");
    assert_string_equal(status_of(rows, "Smith"), "revoked");
    json_decref(rows);
}

static long long fig(json_t *report, const char *section, const char *name)
{
    json_t *v = json_object_get(json_object_get(report, section), name);
    if (!json_is_integer(v))
        fail_msg("report has no %s.%s", section, name);
    return (long long)json_integer_value(v);
}

static json_t *report(sc *s, const char *now, const char *from, const char *to)
{
    out r = run(s, now, "report", "--from", from, "--to", to, "--format", "json", NULL);
    if (r.code != 0)
        fail_msg("report failed (%d): %s", r.code, r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    out_free(&r);
    return doc;
}

/* REG_4 and REG_3: the yearly report's figures from the records. */
static void test_REG_4_yearly_report_figures(void **state)
{
    world *w = *state;
    json_t *y = report(w->s, "2026-01-15T20:00:00Z", "2025-01-01", "2025-12-31");
    json_t *by = json_object_get(json_object_get(y, "certificants"), "by_status");
    assert_int_equal(json_integer_value(json_object_get(by, "active")), 2);
    assert_int_equal(json_integer_value(json_object_get(by, "suspended")), 1);
    assert_int_equal(json_integer_value(json_object_get(by, "revoked")), 1);
    assert_int_equal(json_integer_value(json_object_get(by, "lapsed")), 0);
    json_t *county = json_object_get(json_object_get(y, "certificants"), "by_county");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(county, "alameda"), "total")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(county, "san_diego"), "active")), 2);
    json_t *pathway = json_object_get(json_object_get(y, "certificants"), "by_pathway");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(pathway, "initial"), "total")), 4);
    json_t *spec = json_object_get(json_object_get(y, "certificants"), "active_by_specialization");
    assert_int_equal(json_integer_value(json_object_get(spec, "crisis")), 1);
    assert_int_equal(fig(y, "applications", "started"), 5);
    assert_int_equal(fig(y, "applications", "submitted"), 5);
    assert_int_equal(fig(y, "applications", "approved"), 4);
    assert_int_equal(fig(y, "exam", "attempts"), 4);
    assert_int_equal(fig(y, "exam", "passed"), 4);
    assert_true(json_real_value(json_object_get(json_object_get(y, "exam"), "pass_rate_percent")) > 99.9);
    assert_int_equal(fig(y, "certifications", "issued"), 4);
    assert_int_equal(fig(y, "discipline", "suspensions"), 1);
    assert_int_equal(fig(y, "discipline", "revocations"), 1);
    assert_int_equal(fig(y, "discipline", "complaints_received"), 1);
    assert_int_equal(fig(y, "training", "core_training_completed"), 4); /* REG_3 */
    assert_int_equal(fig(y, "training", "supervisors_trained"), 1);     /* REG_3 */
    json_decref(y);

    /* a period before anything happened counts nothing */
    y = report(w->s, "2026-01-15T20:00:00Z", "2024-01-01", "2024-12-31");
    assert_int_equal(fig(y, "applications", "submitted"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(y, "certificants"), "by_status"),
                                                        "total")),
                     0);
    json_decref(y);

    /* text and csv carry the same figures */
    out r = run(w->s, "2026-01-15T20:00:00Z", "report", NULL); /* default: the calendar year before --now */
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "2025-01-01 to 2025-12-31"));
    assert_non_null(strstr(r.out, "suspensions"));
    out_free(&r);
    r = run(w->s, "2026-01-15T20:00:00Z", "report", "--format", "csv", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "section,item,value\r\n"));
    assert_non_null(strstr(r.out, "certifications,issued,4\r\n"));
    assert_non_null(strstr(r.out, "certificants.by_status,suspended,1\r\n"));
    out_free(&r);
}

/* REG_4: statuses are as of --to (replayed from the history), expiries counted in their year. */
static void test_REG_4_status_as_of_period_end(void **state)
{
    world *w = *state;
    sc_tick(w->s, "2027-03-01T20:00:00Z");
    json_t *y = report(w->s, "2027-03-01T20:00:00Z", "2025-01-01", "2025-12-31");
    json_t *by = json_object_get(json_object_get(y, "certificants"), "by_status");
    assert_int_equal(json_integer_value(json_object_get(by, "active")), 2); /* as of 2025-12-31, not today */
    json_decref(y);
    y = report(w->s, "2027-03-01T20:00:00Z", "2027-01-01", "2027-12-31");
    by = json_object_get(json_object_get(y, "certificants"), "by_status");
    assert_int_equal(json_integer_value(json_object_get(by, "lapsed")), 2);
    assert_int_equal(json_integer_value(json_object_get(by, "active")), 0);
    assert_int_equal(fig(y, "certifications", "expiries"), 2);
    assert_int_equal(fig(y, "certifications", "issued"), 0);
    json_decref(y);
}

/* REG_4: the figures the report used to miss: a late cancellation is a no-show (EX_7); a
 * denied renewal, its appeal and the renewal after an overturned appeal (DIS_7); and the
 * billing and employment data for the state (seed 003). */
static void test_REG_4_report_counts_late_cancellations_renewal_appeals_billing_employment(void **state)
{
    (void)state;
    sc *s = sc_open("2025-01-06T20:00:00Z", NULL);
    const char *late = applicant(s, "Rosa Late", "fresno");
    const char *x = applicant(s, "Xavier Peer", "fresno");
    /* the hire of X while uncertified: grace, then certified with the certification */
    const char *emp = sc_new(s, "employment", "fresno",
                             jf("{\"name\": \"Xavier Peer\", \"hired_on\": \"2025-01-06\", \"certification_id\": \"%s\", "
                                "\"program\": \"Fresno Wellness\", \"position\": \"peer support specialist\"}",
                                x));
    sc_expect(s, emp, "start", NULL, CF_OK);
    certify(s, x);
    assert_string_equal(sc_state(s, emp), "certified");
    sc_at(s, at("2025-03-03"));
    sc_expect(s, emp, "bill", "{\"code_type\": \"peer\", \"code\": \"H0038\"}", CF_OK);
    sc_expect(s, emp, "bill", "{\"code_type\": \"peer\", \"code\": \"H0038\"}", CF_OK);
    sc_expect(s, emp, "bill", "{\"code_type\": \"non_peer\", \"code\": \"H2017\"}", CF_REJECTED);
    /* Rosa cancels her in-person exam 21 hours before: late, a no-show */
    sc_at(s, at("2025-01-10"));
    sc_expect(s, late, "upload_training",
              "{\"provider\":\"Peer Academy\",\"provider_approved_from\":\"2022-07-01\",\"hours\":80,"
              "\"completed_on\":\"2025-01-08\"" CORE_COMPETENCIES_JSON "}",
              CF_OK);
    sc_expect(s, late, "accept_training", NULL, CF_OK);
    sc_expect(s, late, "schedule_exam", "{\"at\":\"2025-02-03T17:00:00Z\",\"mode\":\"in_person\",\"fee_paid\":150}",
              CF_OK);
    sc_at(s, at("2025-02-02"));
    sc_expect(s, late, "cancel_exam", NULL, CF_OK);
    /* X's renewal is denied, appealed and the denial overturned: a renewal */
    sc_at(s, at("2026-12-01"));
    sc_expect(s, x, "deny_renewal", "{\"reason\": \"CE records unreadable\"}", CF_OK);
    sc_at(s, at("2026-12-05"));
    sc_expect(s, x, "appeal_renewal_denial", NULL, CF_OK);
    sc_at(s, at("2027-01-10"));
    sc_expect(s, x, "renewal_appeal_overturned",
              jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2027-01-05\", "
                 "\"fee_paid\": 80}",
                 ce(20, "2026-01-10", 6, "2026-02-01")),
              CF_OK);
    sc_at(s, at("2027-02-01"));
    sc_expect(s, emp, "end", NULL, CF_OK);

    json_t *y = report(s, "2028-01-15T20:00:00Z", "2025-01-01", "2025-12-31");
    assert_int_equal(fig(y, "exam", "no_shows"), 1);
    assert_int_equal(fig(y, "exam", "late_cancellations"), 1);
    assert_int_equal(fig(y, "billing", "peer_services_billed"), 2);
    assert_int_equal(fig(y, "billing", "non_peer_services_billed"), 0);
    assert_int_equal(fig(y, "billing", "bills_refused"), 1);
    assert_int_equal(fig(y, "employment", "hires"), 1);
    assert_int_equal(fig(y, "employed_at_end", "employed"), 1);
    assert_int_equal(fig(y, "employed_at_end", "certified_billing_peer_codes"), 1);
    json_decref(y);
    y = report(s, "2028-01-15T20:00:00Z", "2026-01-01", "2026-12-31");
    assert_int_equal(fig(y, "certifications", "renewal_denials"), 1);
    assert_int_equal(fig(y, "certifications", "renewal_denials_appealed"), 1);
    assert_int_equal(fig(y, "certifications", "renewals"), 0);
    assert_int_equal(fig(y, "exam", "no_shows"), 0);
    json_decref(y);
    y = report(s, "2028-01-15T20:00:00Z", "2027-01-01", "2027-12-31");
    assert_int_equal(fig(y, "certifications", "renewals"), 1);
    assert_int_equal(fig(y, "certifications", "renewals_after_appeal"), 1);
    assert_int_equal(fig(y, "employment", "separations"), 1);
    assert_int_equal(fig(y, "employed_at_end", "employed"), 0);
    json_decref(y);
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_REG_2_export_shows_public_fields_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_2_search_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_1_past_and_present_with_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_4_yearly_report_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_4_status_as_of_period_end, setup, teardown),
        cmocka_unit_test(test_REG_4_report_counts_late_cancellations_renewal_appeals_billing_employment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
