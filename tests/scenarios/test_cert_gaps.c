/* test_cert_gaps.c — three rules of the certification lifecycle closed late: the denial
 * of a renewal and its appeal (DIS_7), the review of a transfer from another California
 * program by a policy function (PATH_2, params.transfer_review) and the 17 core
 * competencies a training completion record names (TRN_2, params.core_competencies).
 * The usual certificant is issued on 2024-04-11 and expires on 2026-04-11; the renewal
 * window opens on 2026-01-11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"

static const char *usual(sc **out)
{
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = certified_on(s, "2024-03-02", "2024-04-10T17:00:00Z", "2024-04-11");
    *out = s;
    return id;
}

static const char *renewal(int fee)
{
    return jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2026-01-05\", \"fee_paid\": %d}",
              ce(20, "2025-05-01", 6, "2025-06-01"), fee);
}

/* ---------------------------------------------------------------- DIS_7 */

static void test_DIS_7_renewal_denial_appealed_on_day_30(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    assert_string_equal(dget(s, id, "expires_on"), "2026-04-11");
    /* only in the renewal window, and only with a reason */
    on_day(s, "2026-01-10");
    sc_expect(s, id, "deny_renewal", "{\"reason\": \"CE records unverifiable\"}", CF_REJECTED);
    ASSERT_REASON(s, "renewal opens on 2026-01-11");
    on_day(s, "2026-03-01");
    sc_expect(s, id, "deny_renewal", NULL, CF_REJECTED);
    ASSERT_REASON(s, "a denial of renewal must give its reason");
    sc_expect(s, id, "deny_renewal", "{\"reason\": \"CE records unverifiable\"}", CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "renewal_denial.status"), "denied");
    assert_string_equal(dget(s, id, "renewal_denial.reason"), "CE records unverifiable");
    assert_string_equal(dget(s, id, "renewal_denials.0.denied_on"), "2026-03-01");
    /* a denied renewal is not renewed by `renew` */
    sc_expect(s, id, "renew", renewal(80), CF_REJECTED);
    ASSERT_REASON(s, "the renewal was denied on 2026-03-01 (CE records unverifiable)");
    /* day 30 (2026-03-31) is in time */
    tick_day(s, "2026-03-31");
    sc_expect(s, id, "appeal_renewal_denial", NULL, CF_OK);
    assert_string_equal(dget(s, id, "renewal_denial.status"), "appealed");
    assert_string_equal(dget(s, id, "appeals.0.action"), "renewal_denial");
    assert_string_equal(dget(s, id, "appeals.0.filed_on"), "2026-03-31");
    /* the pending appeal stays the expiry: still active after 2026-04-11 */
    tick_day(s, "2026-04-20");
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "registry_status"), "active");
    /* upheld after the expiry date: expired at once */
    sc_expect(s, id, "renewal_appeal_upheld", NULL, CF_OK);
    assert_string_equal(sc_state(s, id), "expired");
    assert_string_equal(dget(s, id, "registry_status"), "lapsed");
    assert_string_equal(dget(s, id, "appeals.0.outcome"), "upheld");
    assert_string_equal(dget(s, id, "renewal_denial.status"), "upheld");
    sc_close(s);
}

static void test_DIS_7_renewal_denial_appeal_on_day_31_refused(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2026-03-01");
    sc_expect(s, id, "deny_renewal", "{\"reason\": \"open complaint findings\"}", CF_OK);
    on_day(s, "2026-04-01");
    sc_expect(s, id, "appeal_renewal_denial", NULL, CF_REJECTED);
    ASSERT_REASON(s, "the appeal window closed on 2026-03-31 (30 days after the denial of renewal on 2026-03-01)");
    /* the window closes at the start of day 31: the denial is final, the expiry date holds */
    tick_day(s, "2026-04-01");
    assert_string_equal(dget(s, id, "renewal_denial.status"), "final");
    assert_string_equal(sc_state(s, id), "certified.active");
    sc_expect(s, id, "renew", renewal(80), CF_REJECTED);
    ASSERT_REASON(s, "the denial is final");
    tick_day(s, "2026-04-11");
    assert_string_equal(sc_state(s, id), "certified.active");
    tick_day(s, "2026-04-12");
    assert_string_equal(sc_state(s, id), "expired");
    sc_close(s);
}

static void test_DIS_7_renewal_denial_unappealed_past_expiry_expires_when_window_closes(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2026-04-10");
    sc_expect(s, id, "deny_renewal", "{\"reason\": \"no good standing\"}", CF_OK);
    /* the expiry is stayed while the denial may be appealed (through 2026-05-10) */
    tick_day(s, "2026-05-10");
    assert_string_equal(sc_state(s, id), "certified.active");
    tick_day(s, "2026-05-11");
    assert_string_equal(sc_state(s, id), "expired");
    assert_string_equal(dget(s, id, "renewal_denial.status"), "final");
    sc_close(s);
}

static void test_DIS_7_renewal_denial_upheld_before_expiry_expires_as_usual(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2026-02-01");
    sc_expect(s, id, "deny_renewal", "{\"reason\": \"CE records unverifiable\"}", CF_OK);
    on_day(s, "2026-02-10");
    sc_expect(s, id, "renewal_appeal_upheld", NULL, CF_REJECTED);
    ASSERT_REASON(s, "no appeal of a denial of renewal is pending");
    sc_expect(s, id, "appeal_renewal_denial", NULL, CF_OK);
    sc_expect(s, id, "appeal_renewal_denial", NULL, CF_REJECTED);
    on_day(s, "2026-02-20");
    sc_expect(s, id, "renewal_appeal_upheld", NULL, CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    sc_expect(s, id, "renew", renewal(80), CF_REJECTED);
    ASSERT_REASON(s, "the denial is upheld");
    tick_day(s, "2026-04-11");
    assert_string_equal(sc_state(s, id), "certified.active");
    tick_day(s, "2026-04-12");
    assert_string_equal(sc_state(s, id), "expired");
    sc_close(s);
}

static void test_DIS_7_renewal_denial_overturned_renews(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    size_t fees = fcount(s, id);
    on_day(s, "2026-02-01");
    sc_expect(s, id, "deny_renewal", "{\"reason\": \"CE records unverifiable\"}", CF_OK);
    on_day(s, "2026-02-10");
    sc_expect(s, id, "appeal_renewal_denial", NULL, CF_OK);
    /* decided after the expiry date: the stay kept the certification active */
    tick_day(s, "2026-04-20");
    assert_string_equal(sc_state(s, id), "certified.active");
    /* the overturn carries the renewal and passes its requirements */
    sc_expect(s, id, "renewal_appeal_overturned", renewal(0), CF_REJECTED);
    ASSERT_REASON(s, "the renewal fee of $80 is not paid");
    sc_expect(s, id, "renewal_appeal_overturned", renewal(80), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "appeals.0.outcome"), "overturned");
    assert_string_equal(dget(s, id, "renewal_denial"), "");
    assert_string_equal(dget(s, id, "expires_on"), "2028-04-11");
    assert_string_equal(dget(s, id, "period_starts_on"), "2026-04-12");
    assert_int_equal(fcount(s, id), fees + 1);
    assert_string_equal(fget(s, id, jf("%zu.type", fees)), "renewal");
    tick_day(s, "2026-05-01");
    assert_string_equal(sc_state(s, id), "certified.active");
    sc_close(s);
}

/* ---------------------------------------------------------------- PATH_2 */

static const char *transfer_json(const char *program, const char *certified_on, int good)
{
    return jf("{\"pathway\": \"reciprocity\", \"transfer\": {\"program\": \"%s\", \"certified_on\": \"%s\", "
              "\"in_good_standing\": %s}}",
              program, certified_on, good ? "true" : "false");
}

static void test_PATH_2_transfer_reviewed_by_policy(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-14"), NULL);
    /* a transfer in good standing: reviewed by params.transfer_review, not the other-state rules */
    const char *ok = new_applicant(s, transfer_json("Los Angeles County Peer Certification", "2023-05-01", 1));
    submit(s, ok);
    assert_string_equal(sc_state(s, ok), "submitted");
    assert_string_equal(dget(s, ok, "transfer.program"), "Los Angeles County Peer Certification");
    /* not in good standing */
    const char *bad = new_applicant(s, transfer_json("Los Angeles County Peer Certification", "2023-05-01", 0));
    sc_expect(s, bad, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "transfer from another California program (Los Angeles County Peer Certification) refused by "
                     "the transfer review: not in good standing with that program");
    /* no program, a certification date in the future */
    const char *vague = new_applicant(s, transfer_json("", "2025-04-01", 1));
    sc_expect(s, vague, "submit", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "the California program transferred from is not named");
    ASSERT_REASON(s, "the certification date in that program (2025-04-01) is after 2025-03-14");
    /* still the reciprocity pathway: no scholarship */
    const char *award = new_applicant(s, transfer_json("Alameda County", "2023-05-01", 1));
    sc_expect(s, award, "submit", "{\"covered_by\": \"award-9\"}", CF_REJECTED);
    ASSERT_REASON(s, "reciprocity applicants are not eligible for scholarships");
    /* transfer is a draft field */
    const char *draft = new_applicant(s, "{\"pathway\": \"reciprocity\"}");
    sc_expect(s, draft, "update",
              "{\"transfer\": {\"program\": \"Alameda County\", \"certified_on\": \"2024-01-02\", \"in_good_standing\": "
              "true}}",
              CF_OK);
    submit(s, draft);
    sc_close(s);
}

/* ---------------------------------------------------------------- TRN_2 */

static void test_TRN_2_missing_competencies_refused(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    /* none named */
    sc_expect(s, id, "upload_training",
              "{\"provider\": \"Peer Academy\", \"provider_approved_from\": \"2022-08-01\", \"hours\": 80, "
              "\"completed_on\": \"2024-01-20\"}",
              CF_REJECTED);
    ASSERT_REASON(s, "the training certificate must name competencies");
    /* 15 of the 17: confidentiality and digital literacy missing */
    sc_expect(s, id, "upload_training",
              "{\"provider\": \"Peer Academy\", \"provider_approved_from\": \"2022-08-01\", \"hours\": 80, "
              "\"completed_on\": \"2024-01-20\", \"competencies\": [\"hope_recovery_wellness\", \"advocacy\", "
              "\"consumers_and_family_members\", \"rehabilitation_and_recovery_practices\", "
              "\"cultural_and_structural_competence\", \"trauma_informed_care\", \"group_facilitation\", "
              "\"self_awareness_and_self_care\", \"co_occurring_disorders\", \"conflict_resolution\", "
              "\"professional_boundaries_and_ethics\", \"employment_preparation\", \"safety_and_crisis_planning\", "
              "\"navigation_and_referral\", \"documentation\", \"cpr\"]}",
              CF_REJECTED);
    ASSERT_REASON(s, "the training record covers 15 of the 17 core competencies: 2 missing (confidentiality, "
                     "digital_literacy)");
    assert_string_equal(dget(s, id, "training_upload"), "");
    /* all 17 */
    sc_expect(s, id, "upload_training",
              "{\"provider\": \"Peer Academy\", \"provider_approved_from\": \"2022-08-01\", \"hours\": 80, "
              "\"completed_on\": \"2024-01-20\"" CORE_COMPETENCIES_JSON "}",
              CF_OK);
    assert_int_equal(dlen(s, id, "training_upload.competencies"), 17);
    sc_expect(s, id, "accept_training", NULL, CF_OK);
    assert_int_equal(dlen(s, id, "training.competencies"), 17);
    assert_string_equal(dget(s, id, "training.competencies.16"), "digital_literacy");
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_DIS_7_renewal_denial_appealed_on_day_30),
        cmocka_unit_test(test_DIS_7_renewal_denial_appeal_on_day_31_refused),
        cmocka_unit_test(test_DIS_7_renewal_denial_unappealed_past_expiry_expires_when_window_closes),
        cmocka_unit_test(test_DIS_7_renewal_denial_upheld_before_expiry_expires_as_usual),
        cmocka_unit_test(test_DIS_7_renewal_denial_overturned_renews),
        cmocka_unit_test(test_PATH_2_transfer_reviewed_by_policy),
        cmocka_unit_test(test_TRN_2_missing_competencies_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
