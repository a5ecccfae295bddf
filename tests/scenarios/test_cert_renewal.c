/* test_cert_renewal.c — the certification itself in the shipped certification workflow
 * on a virtual clock: issue and number (CERT_1), specializations (CERT_2), validity
 * and the leap day (CERT_3), renewal (REN_1..REN_5), expiry (REN_6), reinstatement
 * (REN_7), discipline received from complaints (DIS_2, DIS_3), the registry status
 * (REG_1), the fee record (FEE_1) and the events exchanged with employments.
 * The usual certificant is issued on 2024-04-11 and expires on 2026-04-11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"

#include <ctype.h>

static const char *usual(sc **out)
{
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = certified_on(s, "2024-03-02", "2024-04-10T17:00:00Z", "2024-04-11");
    *out = s;
    return id;
}

/* A renewal (or reinstatement) request: CE records, the current Code of Ethics, a fee. */
static const char *renewal(const char *ce_json, int fee)
{
    return jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2026-01-05\", \"fee_paid\": %d}",
              ce_json, fee);
}

static const char *good_ce(void)
{
    return ce(20, "2025-05-01", 6, "2025-06-01");
}

/* Link data as a complaint sends it. */
static const char *from_complaint(const char *complaint)
{
    return jf("{\"from\": \"%s\", \"from_workflow\": \"complaint\", \"from_state\": \"decided\"}", complaint);
}

/* ---------------------------------------------------------------- CERT */

static void test_CERT_1_certified_with_a_unique_number(void **state)
{
    (void)state;
    sc *s;
    const char *a = usual(&s);
    char first[128];
    snprintf(first, sizeof first, "%s", dget(s, a, "certification_number"));
    /* the number is the instance's serial in this database: the first instance created */
    assert_string_equal(first, "CMPSS-000001");
    assert_string_equal(dget(s, a, "issued_on"), "2024-04-11");
    assert_string_equal(dget(s, a, "expires_on"), "2026-04-11");
    const char *b = certified_on(s, "2024-03-02", "2024-04-10T17:00:00Z", "2024-04-11");
    assert_string_equal(dget(s, b, "certification_number"), "CMPSS-000002");
    /* a pass outside the window does not certify */
    const char *c = approved_app(s, NULL);
    trained(s, c);
    schedule(s, c, "2024-05-10T17:00:00Z", "online");
    on_day(s, "2024-05-11");
    assert_int_equal(result(s, c, "pass", 90, "2025-04-11"), CF_REJECTED);
    ASSERT_REASON(s, "the exam taken on 2025-04-11 is outside the window ending 2025-04-10");
    assert_string_equal(sc_state(s, c), "approved");
    sc_close(s);
}

static void test_CERT_2_specializations_after_core_40_hours_end_with_it(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *pending = approved_app(s, NULL);
    sc_expect(s, pending, "add_specialization",
              "{\"kind\": \"crisis\", \"provider\": \"P\", \"hours\": 40, \"completed_on\": \"2024-02-01\"}", CF_REJECTED);
    ASSERT_REASON(s, "event 'add_specialization' does not apply in state 'approved'");
    const char *id = certified_on(s, "2024-03-02", "2024-04-10T17:00:00Z", "2024-04-11");
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"crisis\", \"provider\": \"P\", \"hours\": 39, \"completed_on\": \"2024-05-01\"}", CF_REJECTED);
    ASSERT_REASON(s, "crisis specialization training has 39 hours; 40 required");
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"veterans\", \"provider\": \"P\", \"hours\": 40, \"completed_on\": \"2024-05-01\"}",
              CF_REJECTED);
    ASSERT_REASON(s, "unknown specialization 'veterans' (parent_caregiver_family, crisis, justice_involved or unhoused)");
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"crisis\", \"provider\": \"P\", \"hours\": 40, \"completed_on\": \"2024-05-01\"}", CF_OK);
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"unhoused\", \"provider\": \"P\", \"hours\": 44, \"completed_on\": \"2024-05-02\"}", CF_OK);
    assert_string_equal(dget(s, id, "specializations"), "[\"crisis\",\"unhoused\"]");
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"crisis\", \"provider\": \"P\", \"hours\": 40, \"completed_on\": \"2024-05-01\"}", CF_REJECTED);
    ASSERT_REASON(s, "specialization crisis is already held");
    /* they end with the certification: expired, then past reinstatement */
    sc_tick(s, "2027-04-13T07:00:00Z");
    assert_string_equal(sc_state(s, id), "lapsed");
    assert_string_equal(dget(s, id, "specializations"), "[]");
    assert_string_equal(dget(s, id, "specializations_ended_on"), "2027-04-12");
    assert_int_equal(dlen(s, id, "specialization_records"), 2);
    sc_close(s);
}

static void test_CERT_3_leap_day_issue_expires_feb_28(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-01-10"), NULL);
    const char *id = certified_on(s, "2024-01-10", "2024-02-27T17:00:00Z", "2024-02-29");
    assert_string_equal(dget(s, id, "issued_on"), "2024-02-29");
    assert_string_equal(dget(s, id, "expires_on"), "2026-02-28");
    /* valid through 2026-02-28 */
    sc_tick(s, "2026-03-01T07:59:59Z");
    assert_string_equal(sc_state(s, id), "certified.active");
    sc_tick(s, "2026-03-01T08:00:00Z");
    assert_string_equal(sc_state(s, id), "expired");
    /* a certification issued on another day runs 2 years to the day */
    const char *other = certified_on(s, "2026-03-01", "2026-03-10T17:00:00Z", "2026-03-12");
    assert_string_equal(dget(s, other, "expires_on"), "2028-03-12");
    sc_close(s);
}

/* ---------------------------------------------------------------- REN */

static void test_REN_1_renewal_every_2_years(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2026-03-01");
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "expires_on"), "2028-04-11");
    assert_string_equal(dget(s, id, "period_starts_on"), "2026-04-12");
    assert_string_equal(dget(s, id, "renewals.0.renewed_on"), "2026-03-01");
    /* the old expiry passes without effect; the new one is 2 years on */
    sc_tick(s, "2026-04-13T07:00:00Z");
    assert_string_equal(sc_state(s, id), "certified.active");
    sc_tick(s, "2028-04-12T07:00:00Z");
    assert_string_equal(sc_state(s, id), "expired");
    sc_close(s);
}

static void test_REN_2_ce_20_hours_6_law_ethics_inside_the_period(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2026-03-01");
    /* 4 of the 20 hours were done the day before the period began */
    sc_expect(s, id, "renew",
              renewal("[{\"hours\": 4, \"completed_on\": \"2024-04-10\"}, {\"hours\": 10, \"completed_on\": "
                      "\"2024-04-11\"}, {\"hours\": 6, \"law_ethics\": true, \"completed_on\": \"2026-03-01\"}]",
                      80),
              CF_REJECTED);
    ASSERT_REASON(s, "continuing education: 16 of 20 hours inside the current period (2024-04-11 to 2026-04-11) (4 hours "
                     "outside it do not count)");
    sc_expect(s, id, "renew", renewal(ce(20, "2025-01-01", 5, "2025-02-01"), 80), CF_REJECTED);
    ASSERT_REASON(s, "law and ethics: 5 of 6 hours inside the current period (2024-04-11 to 2026-04-11)");
    /* hours dated after the submission day do not count either */
    sc_expect(s, id, "renew", renewal(ce(20, "2025-01-01", 6, "2026-03-02"), 80), CF_REJECTED);
    ASSERT_REASON(s, "law and ethics: 0 of 6 hours");
    sc_expect(s, id, "renew", renewal(ce(20, "2024-04-11", 6, "2026-03-01"), 80), CF_OK);
    sc_close(s);
}

static void test_REN_3_only_in_good_standing(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2025-10-01");
    sc_expect(s, id, "corrective_action", jf("{\"from\": \"c-1\", \"what\": \"ethics class\"}"), CF_OK);
    on_day(s, "2026-03-01");
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_REJECTED);
    ASSERT_REASON(s, "not in good standing: a corrective action ordered on 2025-10-01 is open");
    sc_expect(s, id, "complete_corrective_action", NULL, CF_OK);
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_OK);
    /* suspended: no renewal at all */
    sc_expect(s, id, "suspend", from_complaint("c-2"), CF_OK);
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_REJECTED);
    ASSERT_REASON(s, "event 'renew' does not apply in state 'certified.suspended'");
    sc_close(s);
}

static void test_REN_4_window_opens_day_90_before_not_91_closes_on_expiry(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    const char *late = certified_on(s, "2024-03-02", "2024-04-10T17:00:00Z", "2024-04-11");
    on_day(s, "2026-01-10"); /* 91 days before 2026-04-11 */
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_REJECTED);
    ASSERT_REASON(s, "renewal opens on 2026-01-11 (90 days before the expiry on 2026-04-11)");
    /* the window's opening is marked */
    sc_tick(s, "2026-01-11T08:00:00Z");
    assert_string_equal(dget(s, id, "renewal_open_since"), "2026-01-11");
    on_day(s, "2026-01-11");
    sc_expect(s, id, "renew", renewal(good_ce(), 79), CF_REJECTED);
    ASSERT_REASON(s, "the renewal fee of $80 is not paid (fee_paid: $79)");
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_OK);
    assert_string_equal(fget(s, id, "2"), "{\"amount\":80,\"on\":\"2026-01-11\",\"type\":\"renewal\"}");
    assert_string_equal(dget(s, id, "renewal_open_since"), "");
    /* the expiry date itself is the last day */
    on_day(s, "2026-04-12");
    sc_expect(s, late, "renew", renewal(good_ce(), 80), CF_REJECTED);
    ASSERT_REASON(s, "the certification expired on 2026-04-11; renewal had to be submitted by then");
    on_day(s, "2026-04-11");
    sc_expect(s, late, "renew", renewal(good_ce(), 80), CF_OK);
    sc_close(s);
}

static void test_REN_5_most_recent_code_of_ethics_recorded(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    on_day(s, "2026-03-01");
    sc_expect(s, id, "renew",
              jf("{\"ce\": %s, \"ethics_version\": \"2019\", \"ethics_signed_on\": \"2026-01-05\", \"fee_paid\": 80}",
                 good_ce()),
              CF_REJECTED);
    ASSERT_REASON(s, "agreement to the most recent Code of Ethics (version 2021-07-26) with its date is required (given: 2019)");
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_OK);
    assert_string_equal(dget(s, id, "ethics"), "{\"signed_on\":\"2026-01-05\",\"version\":\"2021-07-26\"}");
    sc_close(s);
}

static void test_REN_6_expires_at_the_end_of_the_expiry_date_registry_lapsed(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    sc_tick(s, "2026-04-12T06:59:59Z");
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "registry_status"), "active");
    sc_tick(s, "2026-04-12T07:00:00Z");
    assert_string_equal(sc_state(s, id), "expired");
    assert_string_equal(dget(s, id, "registry_status"), "lapsed");
    sc_close(s);
}

static void test_REN_7_reinstatement_day_365_allowed_366_refused(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    const char *gone = certified_on(s, "2024-03-02", "2024-04-10T17:00:00Z", "2024-04-11");
    sc_tick(s, "2026-04-12T07:00:00Z");
    assert_string_equal(sc_state(s, id), "expired");
    /* day 366 after the expiry (without the timer having run yet) is refused */
    on_day(s, "2027-04-12");
    sc_expect(s, id, "reinstate", renewal(ce(20, "2026-05-01", 6, "2026-06-01"), 160), CF_REJECTED);
    ASSERT_REASON(s, "reinstatement closed on 2027-04-11 (365 days after the expiry on 2026-04-11); only a new "
                     "application is possible");
    /* day 365 is allowed, with both fees and the renewal requirements */
    on_day(s, "2027-04-11");
    sc_expect(s, id, "reinstate", renewal(ce(20, "2026-05-01", 6, "2026-06-01"), 80), CF_REJECTED);
    ASSERT_REASON(s, "the reinstatement fee plus renewal fee of $160 is not paid (fee_paid: $80)");
    sc_expect(s, id, "reinstate", renewal(ce(20, "2025-04-10", 6, "2026-06-01"), 160), CF_REJECTED);
    ASSERT_REASON(s, "continuing education: 6 of 20 hours inside the 2 years before reinstatement (2025-04-11 to "
                     "2027-04-11) (14 hours outside it do not count)");
    sc_expect(s, id, "reinstate", renewal(ce(20, "2026-05-01", 6, "2026-06-01"), 160), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "registry_status"), "active");
    assert_string_equal(dget(s, id, "expires_on"), "2029-04-11");
    assert_string_equal(fget(s, id, "2.type"), "reinstatement");
    assert_string_equal(fget(s, id, "3.type"), "renewal");
    /* the other one passes day 365: the timer closes it at the start of day 366 */
    sc_tick(s, "2027-04-12T06:59:59Z");
    assert_string_equal(sc_state(s, gone), "expired");
    sc_tick(s, "2027-04-12T07:00:00Z");
    assert_string_equal(sc_state(s, gone), "lapsed");
    sc_expect(s, gone, "reinstate", renewal(good_ce(), 160), CF_REJECTED);
    ASSERT_REASON(s, "'lapsed' is a final state: no event moves it");
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS, REG */

static void test_DIS_2_DIS_4_suspension_revocation_corrective_action_recorded(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"justice_involved\", \"provider\": \"P\", \"hours\": 40, \"completed_on\": \"2024-05-01\"}",
              CF_OK);
    on_day(s, "2025-01-15");
    sc_expect(s, id, "corrective_action", from_complaint("complaint-1"), CF_OK);
    assert_string_equal(dget(s, id, "corrective_actions.0.complaint_id"), "complaint-1");
    assert_string_equal(dget(s, id, "corrective_actions.0.ordered_on"), "2025-01-15");
    on_day(s, "2025-02-01");
    sc_expect(s, id, "suspend", from_complaint("complaint-2"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.suspended");
    assert_string_equal(dget(s, id, "sanctions.0"),
                        "{\"action\":\"suspension\",\"complaint_id\":\"complaint-2\",\"from_state\":\"certified.active\","
                        "\"on\":\"2025-02-01\"}");
    on_day(s, "2025-03-01");
    sc_expect(s, id, "revoke", from_complaint("complaint-2"), CF_OK);
    assert_string_equal(sc_state(s, id), "revoked");
    assert_string_equal(dget(s, id, "registry_status"), "revoked");
    assert_string_equal(dget(s, id, "specializations"), "[]");
    assert_int_equal(dlen(s, id, "sanctions"), 2);
    assert_int_equal(dlen(s, id, "corrective_actions"), 1);
    sc_close(s);
}

static void test_DIS_3_overturned_action_restores_the_previous_status(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"crisis\", \"provider\": \"P\", \"hours\": 40, \"completed_on\": \"2024-05-01\"}", CF_OK);
    on_day(s, "2025-02-01");
    sc_expect(s, id, "suspend", from_complaint("c-1"), CF_OK);
    sc_expect(s, id, "revoke", from_complaint("c-1"), CF_OK);
    /* the revocation is overturned: back to suspended; then the suspension: back to certified */
    sc_expect(s, id, "restore", from_complaint("c-1"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.suspended");
    assert_string_equal(dget(s, id, "specializations"), "[\"crisis\"]");
    sc_expect(s, id, "restore", from_complaint("c-1"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "registry_status"), "active");
    assert_string_equal(dget(s, id, "sanctions.3.to_state"), "certified.active");
    /* an expired certification revoked and restored is expired again, with its reinstatement clock */
    sc_tick(s, "2026-04-12T07:00:00Z");
    assert_string_equal(sc_state(s, id), "expired");
    sc_expect(s, id, "revoke", from_complaint("c-3"), CF_OK);
    sc_expect(s, id, "restore", from_complaint("c-3"), CF_OK);
    assert_string_equal(sc_state(s, id), "expired");
    sc_tick(s, "2027-04-12T07:00:00Z");
    assert_string_equal(sc_state(s, id), "lapsed");
    sc_close(s);
}

static void test_REG_1_registry_status_follows_the_certification(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    assert_string_equal(dget(s, id, "registry_status"), "active");
    sc_expect(s, id, "suspend", from_complaint("c-1"), CF_OK);
    assert_string_equal(dget(s, id, "registry_status"), "suspended");
    sc_expect(s, id, "restore", from_complaint("c-1"), CF_OK);
    assert_string_equal(dget(s, id, "registry_status"), "active");
    sc_tick(s, "2026-04-12T07:00:00Z");
    assert_string_equal(dget(s, id, "registry_status"), "lapsed");
    sc_expect(s, id, "revoke", from_complaint("c-2"), CF_OK);
    assert_string_equal(dget(s, id, "registry_status"), "revoked");
    sc_close(s);
}

/* REG_3 (certification side): the applicant and the approved core training stay on the record. */
static void test_REG_3_applicant_and_core_training_kept_on_record(void **state)
{
    (void)state;
    sc *s;
    const char *id = usual(&s);
    assert_string_equal(dget(s, id, "name"), "Ana Ruiz");
    assert_string_equal(dget(s, id, "training.provider"), "Peer Academy");
    assert_string_equal(dget(s, id, "training.provider_approved_from"), "2022-08-01");
    assert_string_equal(dget(s, id, "training.hours"), "80");
    assert_string_equal(dget(s, id, "training.completed_on"), "2024-01-20");
    sc_tick(s, "2027-04-13T07:00:00Z");
    assert_string_equal(sc_state(s, id), "lapsed");
    assert_string_equal(dget(s, id, "training.provider"), "Peer Academy");
    sc_close(s);
}

/* ---------------------------------------------------------------- FEE_1 */

static void test_FEE_1_every_fee_recorded_never_removed(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    trained(s, id);
    schedule(s, id, "2024-04-10T17:00:00Z", "online");
    /* a no-show forfeits the fee; it stays on record */
    on_day(s, "2024-04-10");
    sc_expect(s, id, "no_show", NULL, CF_OK);
    const char *award = award_to(s, id, "FEE1", "K. Lam", NULL); /* a pre-approved retake (SCH_1) */
    sc_expect(s, id, "request_retake", jf("{\"covered_by\": \"%s\"}", award), CF_OK);
    sc_expect(s, id, "process_retake", NULL, CF_OK);
    schedule(s, id, "2024-05-10T17:00:00Z", "online");
    on_day(s, "2024-05-10");
    assert_int_equal(result(s, id, "pass", 77, "2024-05-10"), CF_OK);
    on_day(s, "2026-03-01");
    sc_expect(s, id, "renew", renewal(good_ce(), 80), CF_OK);
    assert_string_equal(fget(s, id, ""),
                        "[{\"amount\":100,\"on\":\"2024-03-02\",\"type\":\"application\"},"
                        "{\"amount\":150,\"on\":\"2024-03-02\",\"type\":\"exam\"},"
                        "{\"amount\":150,\"covered_by\":\"FEE1-0001\",\"on\":\"2024-04-10\",\"type\":\"retake\"},"
                        "{\"amount\":80,\"on\":\"2026-03-01\",\"type\":\"renewal\"}]");
    /* a closed application keeps its fees */
    const char *closed = approved_app(s, NULL);
    sc_expect(s, closed, "withdraw", NULL, CF_OK);
    assert_string_equal(dget(s, closed, "fees_forfeited"), "true");
    assert_int_equal(fcount(s, closed), 1);
    sc_close(s);
}

/* ---------------------------------------------------------------- links (docs/lifecycles.md) */

static void test_links_employment_started_granted_and_lost(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *cert = approved_app(s, NULL);
    const char *emp = sc_new(s, "employment", "san_diego",
                             jf("{\"name\": \"Ana Ruiz\", \"hired_on\": \"2024-03-02\", \"certification_id\": \"%s\"}", cert));
    char cert_id[37], emp_id[37];
    snprintf(cert_id, sizeof cert_id, "%s", cert);
    snprintf(emp_id, sizeof emp_id, "%s", emp);
    sc_expect(s, emp_id, "start", NULL, CF_OK);
    sc_tick(s, noon("2024-03-02"));
    assert_string_equal(dget(s, cert_id, "employment_ids"), jf("[\"%s\"]", emp_id));
    trained(s, cert_id);
    schedule(s, cert_id, "2024-04-10T17:00:00Z", "online");
    on_day(s, "2024-04-10");
    assert_int_equal(result(s, cert_id, "pass", 80, "2024-04-10"), CF_OK);
    sc_tick(s, noon("2024-04-10"));
    assert_string_equal(sc_state(s, emp_id), "certified");
    sc_expect(s, cert_id, "suspend", from_complaint("c-1"), CF_OK);
    sc_tick(s, noon("2024-04-10"));
    assert_string_equal(sc_state(s, emp_id), "not_in_good_standing");
    sc_expect(s, cert_id, "restore", from_complaint("c-1"), CF_OK);
    sc_tick(s, noon("2024-04-10"));
    assert_string_equal(sc_state(s, emp_id), "certified");
    sc_tick(s, "2026-04-11T07:00:00Z");
    assert_string_equal(sc_state(s, cert_id), "expired");
    assert_string_equal(sc_state(s, emp_id), "not_in_good_standing");
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_CERT_1_certified_with_a_unique_number),
        cmocka_unit_test(test_CERT_2_specializations_after_core_40_hours_end_with_it),
        cmocka_unit_test(test_CERT_3_leap_day_issue_expires_feb_28),
        cmocka_unit_test(test_REN_1_renewal_every_2_years),
        cmocka_unit_test(test_REN_2_ce_20_hours_6_law_ethics_inside_the_period),
        cmocka_unit_test(test_REN_3_only_in_good_standing),
        cmocka_unit_test(test_REN_4_window_opens_day_90_before_not_91_closes_on_expiry),
        cmocka_unit_test(test_REN_5_most_recent_code_of_ethics_recorded),
        cmocka_unit_test(test_REN_6_expires_at_the_end_of_the_expiry_date_registry_lapsed),
        cmocka_unit_test(test_REN_7_reinstatement_day_365_allowed_366_refused),
        cmocka_unit_test(test_DIS_2_DIS_4_suspension_revocation_corrective_action_recorded),
        cmocka_unit_test(test_DIS_3_overturned_action_restores_the_previous_status),
        cmocka_unit_test(test_REG_1_registry_status_follows_the_certification),
        cmocka_unit_test(test_REG_3_applicant_and_core_training_kept_on_record),
        cmocka_unit_test(test_FEE_1_every_fee_recorded_never_removed),
        cmocka_unit_test(test_links_employment_started_granted_and_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
