/* test_certification.c — the application side of the shipped certification workflow
 * on a virtual clock: eligibility at submission (APP_1..APP_6), the review SLA (APP_7),
 * the denial appeal (DIS_7), the 12-month window (APP_8, APP_9), the legacy and
 * reciprocity pathways (PATH_1, PATH_2) and the training record (TRN_1..TRN_4).
 * Exams are in test_cert_exam.c, the certification itself in test_cert_renewal.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "testutil.h"

/* ---------------------------------------------------------------- APP */

static void test_APP_1_eighteenth_birthday_allowed_day_before_refused(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *id = new_applicant(s, "{\"birth_date\": \"2007-03-15\"}");
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "applicant is 17 on 2025-03-14 (born 2007-03-15); must be at least 18 on the submission day");
    assert_string_equal(sc_state(s, id), "draft");
    on_day(s, "2025-03-15");
    submit(s, id);
    assert_string_equal(sc_state(s, id), "submitted");
    assert_string_equal(dget(s, id, "submitted_on"), "2025-03-15");
    sc_close(s);
}

static void test_APP_2_diploma_or_equivalency_required(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *id = new_applicant(s, "{\"education\": \"none\"}");
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "no high-school diploma, equivalency or higher degree recorded (education: none; expected "
                     "high_school, equivalency or degree)");
    sc_expect(s, id, "update", "{\"education\": \"equivalency\"}", CF_OK);
    submit(s, id);
    /* only application fields may be updated, and only in the draft */
    const char *other = new_applicant(s, NULL);
    sc_expect(s, other, "update", "{\"note\": \"X\"}", CF_REJECTED);
    ASSERT_REASON(s, "'note' is not a field of the application");
    /* a field the program sets (workflows/certification.lua, owned) cannot even be given */
    sc_expect(s, other, "update", "{\"certification_number\": \"X\"}", CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(s->e), "'certification_number', a field workflow 'certification' sets itself"));
    sc_expect(s, id, "update", "{\"education\": \"degree\"}", CF_REJECTED);
    ASSERT_REASON(s, "event 'update' does not apply in state 'submitted'");
    sc_close(s);
}

static void test_APP_3_homelessness_alone_is_not_lived_experience(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *id = new_applicant(s, "{\"lived_experience\": [\"homelessness\"]}");
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "homelessness alone does not qualify as lived experience: attest recovery from mental illness "
                     "or substance use, as a consumer or as a parent, caregiver or family member of one");
    const char *none = new_applicant(s, "{\"lived_experience\": []}");
    sc_expect(s, none, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "lived experience of recovery (as a consumer, or as a parent, caregiver or family member of one) "
                     "not attested");
    /* homelessness with a qualifying experience, or a family member's experience, qualifies */
    sc_expect(s, id, "update", "{\"lived_experience\": [\"homelessness\", \"family_member\"]}", CF_OK);
    submit(s, id);
    sc_close(s);
}

static void test_APP_4_willingness_attested(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *id = new_applicant(s, "{\"attests_willingness\": false}");
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "willingness to share one's experience and dedication to recovery not attested");
    sc_expect(s, id, "update", "{\"attests_willingness\": true}", CF_OK);
    submit(s, id);
    sc_close(s);
}

static void test_APP_5_code_of_ethics_version_and_date_recorded(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *id = new_applicant(s, "{\"ethics_signed_on\": null}");
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "Code of Ethics agreement not recorded (ethics_version and ethics_signed_on are required)");
    sc_expect(s, id, "update", "{\"ethics_signed_on\": \"2025-03-15\"}", CF_OK);
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "Code of Ethics agreement is dated 2025-03-15, after 2025-03-14");
    sc_expect(s, id, "update", "{\"ethics_signed_on\": \"2025-03-10\"}", CF_OK);
    submit(s, id);
    assert_string_equal(dget(s, id, "ethics.version"), "2021-07-26");
    assert_string_equal(dget(s, id, "ethics.signed_on"), "2025-03-10");
    sc_close(s);
}

static void test_APP_6_application_fee_charged_at_submission(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *id = new_applicant(s, NULL);
    sc_expect(s, id, "submit", "{\"fee_paid\": 99}", CF_REJECTED);
    ASSERT_REASON(s, "the application fee of $100 is not paid (fee_paid: $99)");
    assert_int_equal(fcount(s, id), 0);
    submit(s, id);
    assert_int_equal(fcount(s, id), 1);
    assert_string_equal(fget(s, id, "0"), "{\"amount\":100,\"on\":\"2025-03-14\",\"type\":\"application\"}");
    /* a scholarship award made to this applicant covers it (SCH_1): recorded with the award's id */
    const char *other = new_applicant(s, NULL);
    const char *award = award_to(s, other, "APP6", NULL, NULL);
    sc_expect(s, other, "submit", jf("{\"covered_by\": \"%s\"}", award), CF_OK);
    assert_string_equal(fget(s, other, "0.covered_by"), "APP6-0001");
    assert_string_equal(fget(s, other, "0.amount"), "100");
    sc_close(s);
}

static void test_APP_7_review_overdue_on_day_31_not_day_30(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-10"), NULL);
    const char *id = new_applicant(s, NULL);
    submit(s, id);
    /* day 30 after submission is 2025-02-09: its last second (Los Angeles) is still in time */
    sc_tick(s, "2025-02-10T07:59:59Z");
    assert_string_equal(dget(s, id, "review_overdue_since"), "");
    /* day 31 starts at local midnight */
    assert_int_equal(sc_tick(s, "2025-02-10T08:00:00Z"), 1);
    assert_string_equal(sc_state(s, id), "submitted");
    assert_string_equal(dget(s, id, "review_overdue_since"), "2025-02-10");
    /* approving clears the mark */
    on_day(s, "2025-02-12");
    sc_expect(s, id, "approve", NULL, CF_OK);
    assert_string_equal(dget(s, id, "review_overdue_since"), "");
    sc_close(s);
}

static void test_APP_8_window_ends_after_12_months_fees_forfeited(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    assert_string_equal(dget(s, id, "window_ends"), "2025-03-01");
    /* the last day of the window is whole */
    sc_tick(s, "2025-03-02T07:59:59Z");
    assert_string_equal(sc_state(s, id), "approved");
    sc_tick(s, "2025-03-02T08:00:00Z");
    assert_string_equal(sc_state(s, id), "window_closed");
    assert_string_equal(dget(s, id, "closed_on"), "2025-03-02");
    assert_string_equal(dget(s, id, "fees_forfeited"), "true");
    assert_int_equal(fcount(s, id), 1);
    sc_expect(s, id, "schedule_exam", "{}", CF_REJECTED);
    ASSERT_REASON(s, "'window_closed' is a final state: no event moves it");
    /* a new application is a new instance, charged again */
    const char *again = new_applicant(s, NULL);
    submit(s, again);
    assert_int_equal(fcount(s, again), 1);
    assert_string_equal(sc_state(s, again), "submitted");
    sc_close(s);
}

/* APP_8, CERT_1: the sitting is what must fall inside the window. An exam sat on the window's
 * last day whose result arrives after it certifies; the application waits
 * exam_result_wait_days (30) after the window for it, then closes. */
static void test_APP_8_exam_sat_on_last_day_result_after_window_certifies(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    trained(s, id);
    const char *other = approved_app(s, NULL);
    trained(s, other);
    const char *missing = approved_app(s, NULL);
    trained(s, missing);
    on_day(s, "2025-02-20");
    schedule(s, id, "2025-03-01T17:00:00Z", "online"); /* the window's last day */
    schedule(s, other, "2025-03-01T18:00:00Z", "online");
    schedule(s, missing, "2025-03-01T19:00:00Z", "online");
    /* the window's end passes: the applications with a sitting on the last day stay open */
    sc_tick(s, "2025-03-02T08:00:00Z");
    assert_string_equal(sc_state(s, id), "approved");
    assert_string_equal(dget(s, id, "window_waits_for_result_since"), "2025-03-02");
    on_day(s, "2025-03-09");
    assert_int_equal(result(s, id, "pass", 88, "2025-03-01"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "issued_on"), "2025-03-09");
    /* a sitting after the last day does not count */
    assert_int_equal(result(s, other, "pass", 88, "2025-03-02"), CF_REJECTED);
    ASSERT_REASON(s, "the exam taken on 2025-03-02 is outside the window ending 2025-03-01");
    /* a failed result after the window: no more attempts can fall inside it, it closes */
    assert_int_equal(result(s, other, "fail", 60, "2025-03-01"), CF_OK);
    sc_tick(s, "2025-03-09T21:00:00Z");
    assert_string_equal(sc_state(s, other), "window_closed");
    /* no result by 30 days after the window (2025-03-31): closed the next day */
    sc_tick(s, "2025-04-01T06:59:59Z");
    assert_string_equal(sc_state(s, missing), "approved");
    sc_tick(s, "2025-04-01T07:00:00Z");
    assert_string_equal(sc_state(s, missing), "window_closed");
    sc_close(s);
}

static void test_APP_9_training_valid_through_the_window_only(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    trained(s, id);
    /* the training recorded in March still counts for an exam on the window's last day */
    on_day(s, "2025-02-20");
    schedule(s, id, "2025-03-01T17:00:00Z", "online");
    on_day(s, "2025-03-01");
    assert_int_equal(result(s, id, "pass", 90, "2025-03-01"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    /* a window that ends takes its training with it: the next application starts without one */
    const char *late = approved_app(s, NULL);
    trained(s, late);
    sc_tick(s, "2026-03-01T08:00:00Z");
    assert_string_equal(sc_state(s, late), "window_closed");
    const char *next = approved_app(s, NULL);
    assert_string_equal(dget(s, next, "training"), "");
    sc_expect(s, next, "schedule_exam", "{\"at\": \"2026-04-01T17:00:00Z\", \"mode\": \"online\", \"fee_paid\": 150}",
              CF_REJECTED);
    ASSERT_REASON(s, "the 80-hour core training is not yet recorded; it must be completed before the first exam attempt");
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS_7: a denial may be appealed */

static void test_DIS_7_denial_appeal_overturned_upheld_or_late(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-10"), NULL);
    /* overturned back to review: the review clock starts again */
    const char *a = new_applicant(s, NULL);
    submit(s, a);
    sc_expect(s, a, "deny", "{\"reason\": \"letters missing\"}", CF_OK);
    assert_string_equal(sc_state(s, a), "denied");
    assert_string_equal(dget(s, a, "denial_reason"), "letters missing");
    on_day(s, "2025-02-09");
    sc_expect(s, a, "appeal", NULL, CF_OK);
    assert_string_equal(sc_state(s, a), "denial_appealed");
    on_day(s, "2025-02-20");
    sc_expect(s, a, "appeal_overturned", NULL, CF_OK);
    assert_string_equal(sc_state(s, a), "submitted");
    assert_string_equal(dget(s, a, "review_started_on"), "2025-02-20");
    assert_string_equal(dget(s, a, "appeals.0.outcome"), "overturned");
    assert_string_equal(dget(s, a, "appeals.0.filed_on"), "2025-02-09");

    /* overturned straight to approval */
    const char *b = new_applicant(s, NULL);
    submit(s, b);
    sc_expect(s, b, "deny", NULL, CF_OK);
    sc_expect(s, b, "appeal", NULL, CF_OK);
    sc_expect(s, b, "appeal_overturned", "{\"restore_to\": \"approved\"}", CF_OK);
    assert_string_equal(sc_state(s, b), "approved");
    assert_string_equal(dget(s, b, "window_ends"), "2026-02-19");

    /* upheld: denied for good */
    const char *c = new_applicant(s, NULL);
    submit(s, c);
    sc_expect(s, c, "deny", NULL, CF_OK);
    sc_expect(s, c, "appeal", NULL, CF_OK);
    sc_expect(s, c, "appeal_upheld", NULL, CF_OK);
    assert_string_equal(sc_state(s, c), "denial_final");
    assert_string_equal(dget(s, c, "appeals.0.outcome"), "upheld");

    /* the appeal window: day 30 after the denial is the last (denied 2025-02-20) */
    const char *d = new_applicant(s, NULL);
    submit(s, d);
    sc_expect(s, d, "deny", NULL, CF_OK);
    sc_at(s, noon("2025-03-23"));
    sc_expect(s, d, "appeal", NULL, CF_REJECTED);
    ASSERT_REASON(s, "the appeal window closed on 2025-03-22 (30 days after the denial on 2025-02-20)");
    sc_tick(s, "2025-03-22T23:59:59-07:00");
    assert_string_equal(sc_state(s, d), "denied");
    sc_tick(s, "2025-03-23T07:00:00Z");
    assert_string_equal(sc_state(s, d), "denial_final");
    sc_close(s);
}

/* ---------------------------------------------------------------- PATH */

static const char *legacy_json(const char *ce_json)
{
    return jf("{\"pathway\": \"legacy\", \"ethics_signed_on\": \"2023-01-05\", \"legacy\": {\"employed_from\": \"2020-06-01\", \"peer_hours\": 2000, "
              "\"ce\": %s, \"supervisor_letter\": true, \"colleague_letter\": true, "
              "\"employment_verification\": true}}",
              ce_json);
}

static void test_PATH_1_legacy_through_2023_06_30_refused_2023_07_01(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2023-06-30"), NULL);
    const char *ok = new_applicant(s, legacy_json(ce(20, "2023-01-10", 6, "2023-02-10")));
    submit(s, ok);
    assert_string_equal(dget(s, ok, "pathway"), "legacy");
    /* no 80-hour training, but the exam is still required */
    sc_expect(s, ok, "approve", NULL, CF_OK);
    schedule(s, ok, "2023-07-20T17:00:00Z", "online");
    on_day(s, "2023-07-20");
    assert_int_equal(result(s, ok, "pass", 80, "2023-07-20"), CF_OK);
    assert_string_equal(sc_state(s, ok), "certified.active");

    on_day(s, "2023-07-01");
    const char *late = new_applicant(s, legacy_json(ce(20, "2023-01-10", 6, "2023-02-10")));
    sc_expect(s, late, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy pathway: legacy (grandparenting) applications were accepted through 2023-06-30");

    /* the other requirements, each named */
    on_day(s, "2023-06-01");
    const char *weak = new_applicant(
        s, "{\"pathway\": \"legacy\", \"legacy\": {\"employed_from\": \"2022-01-02\", \"peer_hours\": 1549, "
           "\"supervisor_letter\": true}}");
    sc_expect(s, weak, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy pathway: not employed as a peer on 2022-01-01; peer work: 1549 of 1550 hours; "
                     "continuing education: 0 of 20 hours inside the records given; law and ethics: 0 of 6 hours "
                     "inside the records given; colleague's letter missing; employment verification missing");
    sc_close(s);
}

/* PATH_1 at each boundary, both sides: 1,549 and 1,550 peer hours; employment that starts
 * exactly on the legacy date (2022-01-01) or the day after, or ends on it; the deadline bounds
 * the application (submitted 2023-06-30 in time, 2023-07-01 refused), not the exam. */
static void test_PATH_1_boundaries_1549_1550_hours_employed_from_legacy_date(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2023-06-30"), NULL);
    const char *c = ce(20, "2023-01-10", 6, "2023-02-10");
    const char *fmt = "{\"pathway\": \"legacy\", \"ethics_signed_on\": \"2023-01-05\", \"legacy\": {\"employed_from\": \"%s\", %s\"peer_hours\": %d, "
                      "\"ce\": %s, \"supervisor_letter\": true, \"colleague_letter\": true, "
                      "\"employment_verification\": true}}";
    const char *h1549 = new_applicant(s, jf(fmt, "2020-06-01", "", 1549, c));
    sc_expect(s, h1549, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy pathway: peer work: 1549 of 1550 hours");
    const char *h1550 = new_applicant(s, jf(fmt, "2020-06-01", "", 1550, c));
    submit(s, h1550);
    /* employed from exactly 2022-01-01: employed on it */
    const char *on = new_applicant(s, jf(fmt, "2022-01-01", "", 1600, c));
    submit(s, on);
    const char *after = new_applicant(s, jf(fmt, "2022-01-02", "", 1600, c));
    sc_expect(s, after, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy pathway: not employed as a peer on 2022-01-01");
    /* an employment that ended exactly on 2022-01-01 still covers it; one that ended the day before does not */
    const char *ended = new_applicant(s, jf(fmt, "2020-06-01", "\"employed_until\": \"2022-01-01\", ", 1600, c));
    submit(s, ended);
    const char *gone = new_applicant(s, jf(fmt, "2020-06-01", "\"employed_until\": \"2021-12-31\", ", 1600, c));
    sc_expect(s, gone, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy pathway: not employed as a peer on 2022-01-01");
    /* submitted on the deadline: the exam may follow inside the 12-month window */
    sc_expect(s, on, "approve", NULL, CF_OK);
    schedule(s, on, "2024-01-10T17:00:00Z", "online");
    on_day(s, "2024-01-10");
    assert_int_equal(result(s, on, "pass", 80, "2024-01-10"), CF_OK);
    assert_string_equal(sc_state(s, on), "certified.active");
    on_day(s, "2023-07-01");
    const char *late = new_applicant(s, jf(fmt, "2022-01-01", "", 1600, c));
    sc_expect(s, late, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy (grandparenting) applications were accepted through 2023-06-30");
    sc_close(s);
}

/* The shipped policy in a temporary folder with state.lua's readings switched (docs/rules.md,
 * "Where the documents disagree"): each replacement must be found. Returns the folder (free it
 * with cft_rmtree). */
static char *policy_with(const char *const *from, const char *const *to, int n)
{
    static const char *const FILES[] = {"policy/state.lua",       "policy/certification.lua", "policy/complaint.lua",
                                        "policy/employment.lua",  "policy/scholarship.lua",   "policy/supervision.lua",
                                        "counties/example.lua",   "counties/san_diego.lua"};
    char *dir = cft_tmpdir();
    for (size_t f = 0; f < sizeof FILES / sizeof FILES[0]; f++) {
        char *src = cft_path(CF_SOURCE_DIR "/lua", FILES[f]);
        char *text = cft_slurp(src);
        assert_non_null(text);
        for (int i = 0; f == 0 && i < n; i++) {
            char *at = strstr(text, from[i]);
            if (!at)
                fail_msg("state.lua has no \"%s\"", from[i]);
            size_t head = (size_t)(at - text), lf = strlen(from[i]), lt = strlen(to[i]);
            char *out = malloc(strlen(text) - lf + lt + 1);
            assert_non_null(out);
            memcpy(out, text, head);
            memcpy(out + head, to[i], lt);
            strcpy(out + head + lt, at + lf);
            free(text);
            text = out;
        }
        free(cft_write(dir, FILES[f], text));
        free(text);
        free(src);
    }
    return dir;
}

/* APP_8, PATH_1: the other readings, switched on by their parameters: the window from the
 * submission; the legacy deadline bounding the exam too; "employed as a certified peer". */
static void test_APP_8_PATH_1_the_other_readings_by_their_parameters(void **state)
{
    (void)state;
    static const char *const from[] = {"application_window_starts = \"approval\"",
                                       "legacy_deadline_applies_to = \"application\"",
                                       "legacy_requires_certified_peer = false"};
    static const char *const to[] = {"application_window_starts = \"submission\"",
                                     "legacy_deadline_applies_to = \"certification\"",
                                     "legacy_requires_certified_peer = true"};
    char *dir = policy_with(from, to, 3);
    sc *s = sc_open(noon("2023-06-01"), dir);
    const char *init = new_applicant(s, "{\"ethics_signed_on\": \"2023-01-05\"}");
    submit(s, init);
    on_day(s, "2023-06-20");
    sc_expect(s, init, "approve", NULL, CF_OK);
    assert_string_equal(dget(s, init, "window_ends"), "2024-05-31"); /* 12 months from the submission */
    const char *fmt = "{\"pathway\": \"legacy\", \"ethics_signed_on\": \"2023-01-05\", \"legacy\": {\"employed_from\": "
                      "\"2020-06-01\", %s\"peer_hours\": 1600, \"ce\": %s, \"supervisor_letter\": true, "
                      "\"colleague_letter\": true, \"employment_verification\": true}}";
    const char *c = ce(20, "2023-01-10", 6, "2023-02-10");
    const char *peer = new_applicant(s, jf(fmt, "", c));
    sc_expect(s, peer, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "legacy pathway: not employed as a certified peer on 2022-01-01 (legacy.certified_on_employed_date)");
    const char *cert = new_applicant(s, jf(fmt, "\"certified_on_employed_date\": true, ", c));
    submit(s, cert);
    const char *late = new_applicant(s, jf(fmt, "\"certified_on_employed_date\": true, ", c));
    submit(s, late);
    sc_expect(s, cert, "approve", NULL, CF_OK);
    sc_expect(s, late, "approve", NULL, CF_OK);
    /* the exam too must be taken by the deadline: 2023-06-30 certifies, 2023-07-01 does not */
    schedule(s, cert, "2023-06-30T17:00:00Z", "online");
    schedule(s, late, "2023-07-01T17:00:00Z", "online");
    on_day(s, "2023-07-02");
    assert_int_equal(result(s, cert, "pass", 80, "2023-06-30"), CF_OK);
    assert_string_equal(sc_state(s, cert), "certified.active");
    assert_int_equal(result(s, late, "pass", 80, "2023-07-01"), CF_REJECTED);
    ASSERT_REASON(s, "the legacy pathway closed on 2023-06-30: its exam had to be taken by then (taken on 2023-07-01)");
    sc_close(s);
    cft_rmtree(dir);
}

static const char *reciprocity_json(int hours, const char *ended_on)
{
    return jf("{\"pathway\": \"reciprocity\", \"reciprocity\": {\"state\": \"AZ\", \"certification_active\": true, "
              "\"peer_work\": [{\"hours\": %d, \"ended_on\": \"%s\"}], "
              "\"ce\": [{\"hours\": 14, \"completed_on\": \"2024-05-01\"}, "
              "{\"hours\": 6, \"law_ethics\": true, \"completed_on\": \"2024-06-01\"}], "
              "\"supervisor_letter\": true, \"colleague_letter\": true, \"self_letter\": true}}",
              hours, ended_on);
}

static void test_PATH_2_reciprocity_requirements_and_no_scholarship(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    const char *ok = new_applicant(s, reciprocity_json(1550, "2022-03-14"));
    sc_expect(s, ok, "submit", "{\"covered_by\": \"award-3\"}", CF_REJECTED);
    ASSERT_REASON(s, "reciprocity applicants are not eligible for scholarships: the application fee of $100 cannot "
                     "be covered by award award-3");
    submit(s, ok);
    sc_expect(s, ok, "approve", NULL, CF_OK);
    /* no training; the California exam is required */
    schedule(s, ok, "2025-04-01T17:00:00Z", "online");
    on_day(s, "2025-04-01");
    assert_int_equal(result(s, ok, "pass", 75, "2025-04-01"), CF_OK);
    assert_string_equal(sc_state(s, ok), "certified.active");

    /* 1,549 hours is one short (1,550 passed above) */
    const char *short_hours = new_applicant(s, reciprocity_json(1549, "2025-03-01"));
    sc_expect(s, short_hours, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "reciprocity pathway: peer work: 1549 of 1550 hours since 2022-04-01 (the last 3 years)");
    /* hours that ended the day before the 3-year span do not count */
    const char *old = new_applicant(s, reciprocity_json(1550, "2022-03-31"));
    on_day(s, "2025-04-01");
    sc_expect(s, old, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "reciprocity pathway: peer work: 0 of 1550 hours since 2022-04-01 (the last 3 years)");
    const char *disciplined = new_applicant(
        s, "{\"pathway\": \"reciprocity\", \"reciprocity\": {\"certification_active\": false, "
           "\"pending_discipline\": true}}");
    sc_expect(s, disciplined, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "no current and active certification from the other state");
    ASSERT_REASON(s, "pending discipline or an unresolved complaint in the other state");
    ASSERT_REASON(s, "self letter missing");
    sc_close(s);
}

/* ---------------------------------------------------------------- TRN */

static void upload(sc *s, const char *id, const char *provider_from, int hours, const char *completed_on)
{
    sc_expect(s, id, "upload_training",
              jf("{\"provider\": \"Peer Academy\", \"provider_approved_from\": \"%s\", \"hours\": %d, "
                 "\"completed_on\": \"%s\"" CORE_COMPETENCIES_JSON "}",
                 provider_from, hours, completed_on),
              CF_OK);
}

static void test_TRN_1_80_hours_from_an_approved_provider_before_the_exam(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    /* no exam before the training */
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-04-01T17:00:00Z\", \"mode\": \"online\", \"fee_paid\": 150}",
              CF_REJECTED);
    ASSERT_REASON(s, "the 80-hour core training is not yet recorded; it must be completed before the first exam attempt");
    upload(s, id, "2022-08-01", 79, "2024-01-20");
    sc_expect(s, id, "accept_training", NULL, CF_REJECTED);
    ASSERT_REASON(s, "training has 79 hours; 80 required");
    sc_expect(s, id, "reject_training", "{\"reason\": \"short\"}", CF_OK);
    assert_string_equal(dget(s, id, "training_rejections.0.reason"), "short");
    /* a provider not on the approved list */
    sc_expect(s, id, "upload_training", "{\"provider\": \"Unlisted Inc\", \"hours\": 80, \"completed_on\": \"2024-01-20\"" CORE_COMPETENCIES_JSON "}",
              CF_OK);
    sc_expect(s, id, "accept_training", NULL, CF_REJECTED);
    ASSERT_REASON(s, "training provider Unlisted Inc is not on the approved list");
    sc_expect(s, id, "reject_training", NULL, CF_OK);
    upload(s, id, "2022-08-01", 80, "2024-01-20");
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    assert_string_equal(dget(s, id, "training.hours"), "80");
    schedule(s, id, "2024-04-01T17:00:00Z", "online");
    sc_close(s);
}

static void test_TRN_2_record_names_provider_hours_and_date(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    sc_expect(s, id, "upload_training", "{\"hours\": 80}", CF_REJECTED);
    ASSERT_REASON(s, "the training certificate must name provider, completed_on");
    upload(s, id, "2022-08-01", 80, "2024-01-20");
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    assert_string_equal(dget(s, id, "training.provider"), "Peer Academy");
    assert_string_equal(dget(s, id, "training.completed_on"), "2024-01-20");
    assert_string_equal(dget(s, id, "training.accepted_on"), "2024-03-02");
    sc_close(s);
}

static void test_TRN_3_from_2022_07_01_and_provider_approved_on_completion(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    upload(s, id, "2022-01-01", 80, "2022-06-30");
    sc_expect(s, id, "accept_training", NULL, CF_REJECTED);
    ASSERT_REASON(s, "training completed on 2022-06-30, before 2022-07-01, does not count");
    sc_expect(s, id, "reject_training", NULL, CF_OK);
    /* the provider was approved after the completion date */
    upload(s, id, "2023-02-01", 80, "2023-01-31");
    sc_expect(s, id, "accept_training", NULL, CF_REJECTED);
    ASSERT_REASON(s, "training provider Peer Academy was not approved on the completion date 2023-01-31 (approved "
                     "2023-02-01 to now)");
    sc_expect(s, id, "reject_training", NULL, CF_OK);
    /* approval that ended before completion */
    sc_expect(s, id, "upload_training",
              "{\"provider\": \"Old Co\", \"provider_approved_from\": \"2022-07-01\", \"provider_approved_until\": "
              "\"2023-06-30\", \"hours\": 80, \"completed_on\": \"2023-07-01\"" CORE_COMPETENCIES_JSON "}",
              CF_OK);
    sc_expect(s, id, "accept_training", NULL, CF_REJECTED);
    ASSERT_REASON(s, "training provider Old Co was not approved on the completion date 2023-07-01 (approved "
                     "2022-07-01 to 2023-06-30)");
    sc_expect(s, id, "reject_training", NULL, CF_OK);
    /* the first day counts */
    upload(s, id, "2022-07-01", 80, "2022-07-01");
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    sc_close(s);
}

static void test_TRN_4_uploaded_certificate_review_overdue_after_14_days(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    upload(s, id, "2022-08-01", 80, "2024-01-20");
    assert_string_equal(dget(s, id, "training_upload.review_due_on"), "2024-03-16");
    sc_expect(s, id, "upload_training", "{\"provider\": \"X\", \"hours\": 80, \"completed_on\": \"2024-01-20\"" CORE_COMPETENCIES_JSON "}",
              CF_REJECTED);
    ASSERT_REASON(s, "a training certificate uploaded on 2024-03-02 is still under review");
    /* day 14 (2024-03-16) is in time; day 15 starts overdue (midnight PDT is 07:00Z) */
    sc_tick(s, "2024-03-17T06:59:59Z");
    assert_string_equal(dget(s, id, "training_upload.overdue_since"), "");
    sc_tick(s, "2024-03-17T07:00:00Z");
    assert_string_equal(dget(s, id, "training_upload.overdue_since"), "2024-03-17");
    /* reviewed late: accepted, with the overdue date kept; no second overdue mark */
    on_day(s, "2024-03-20");
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    assert_string_equal(dget(s, id, "training.review_overdue_since"), "2024-03-17");
    assert_string_equal(dget(s, id, "training_upload"), "");
    assert_int_equal(tick_day(s, "2024-04-30"), 0);
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_APP_1_eighteenth_birthday_allowed_day_before_refused),
        cmocka_unit_test(test_APP_2_diploma_or_equivalency_required),
        cmocka_unit_test(test_APP_3_homelessness_alone_is_not_lived_experience),
        cmocka_unit_test(test_APP_4_willingness_attested),
        cmocka_unit_test(test_APP_5_code_of_ethics_version_and_date_recorded),
        cmocka_unit_test(test_APP_6_application_fee_charged_at_submission),
        cmocka_unit_test(test_APP_7_review_overdue_on_day_31_not_day_30),
        cmocka_unit_test(test_APP_8_window_ends_after_12_months_fees_forfeited),
        cmocka_unit_test(test_APP_8_exam_sat_on_last_day_result_after_window_certifies),
        cmocka_unit_test(test_APP_9_training_valid_through_the_window_only),
        cmocka_unit_test(test_DIS_7_denial_appeal_overturned_upheld_or_late),
        cmocka_unit_test(test_PATH_1_legacy_through_2023_06_30_refused_2023_07_01),
        cmocka_unit_test(test_PATH_1_boundaries_1549_1550_hours_employed_from_legacy_date),
        cmocka_unit_test(test_APP_8_PATH_1_the_other_readings_by_their_parameters),
        cmocka_unit_test(test_PATH_2_reciprocity_requirements_and_no_scholarship),
        cmocka_unit_test(test_TRN_1_80_hours_from_an_approved_provider_before_the_exam),
        cmocka_unit_test(test_TRN_2_record_names_provider_hours_and_date),
        cmocka_unit_test(test_TRN_3_from_2022_07_01_and_provider_approved_on_completion),
        cmocka_unit_test(test_TRN_4_uploaded_certificate_review_overdue_after_14_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
