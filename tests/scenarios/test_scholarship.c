/* test_scholarship.c — the shipped scholarship workflow (one pool and its awards) on a
 * virtual clock: what an award covers, exhausted funds, the closing date, unique and
 * non-transferable awards without extension, reciprocity, unused amounts returning to the
 * pool (SCH_1), and the fees an award pays, recorded and never refunded (FEE_1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cert_helpers.h"

/* A pool of funds closing on closes_on (Los Angeles County, no overlay: state fees). */
static const char *pool(sc *s, int funds, const char *closes_on)
{
    return sc_new(s, "scholarship", "los_angeles",
                  jf("{\"name\": \"SAPC Peer Certification Scholarships\", \"code\": \"SAPC25\", \"funds\": %d, "
                     "\"closes_on\": \"%s\"}",
                     funds, closes_on));
}

static const char *request(const char *who, int training_cost)
{
    return jf("{\"applicant_id\": \"%s\", \"applicant\": \"%s\", \"pathway\": \"initial\", \"training_cost\": %d}",
              who, who, training_cost);
}

static const char *use(const char *award, const char *who, const char *item)
{
    return jf("{\"award_id\": \"%s\", \"applicant_id\": \"%s\", \"item\": \"%s\"}", award, who, item);
}

/* ---------------------------------------------------------------- SCH_1 */

static void test_SCH_1_award_covers_fee_training_one_exam(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 1000, "2025-12-31");
    assert_string_equal(sc_state(s, p), "open");
    assert_int_equal(sc_int(s, p, "balance"), 1000);
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    assert_string_equal(dget(s, p, "last_award_id"), "SAPC25-0001");
    assert_int_equal(sc_int(s, p, "balance"), 350);
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.covers"),
                        "{\"application_fee\":100,\"core_training\":400,\"exam\":150}");
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.amount"), "650");
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.expires_on"), "2026-02-28");

    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "exam"), CF_OK);
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "exam"), CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 already paid its one exam attempt on 2025-03-01");
    /* a retake only if pre-approved case by case, once */
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "retake"), CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 covers a retake only if it is pre-approved case by case; none is");
    sc_expect(s, p, "preapprove_retake", "{\"award_id\": \"SAPC25-0001\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "a retake is covered only if pre-approved case by case: name who approved it (approved_by)");
    on_day(s, "2025-05-02");
    sc_expect(s, p, "preapprove_retake", "{\"award_id\": \"SAPC25-0001\", \"approved_by\": \"SAPC reviewer K. Lam\"}",
              CF_OK);
    assert_int_equal(sc_int(s, p, "balance"), 200);
    sc_expect(s, p, "preapprove_retake", "{\"award_id\": \"SAPC25-0001\", \"approved_by\": \"K. Lam\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 already has its one retake pre-approved (by SAPC reviewer K. Lam on "
                        "2025-05-02)");
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "retake"), CF_OK);
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "renewal_fee"), CF_REJECTED);
    ASSERT_REASON_IS(s, "name what to pay (item): application_fee, core_training, exam or retake");
    sc_close(s);
}

static void test_SCH_1_refused_when_pool_exhausted(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 1000, "2025-12-31");
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    sc_expect(s, p, "award", request("bo", 200), CF_REJECTED);
    ASSERT_REASON_IS(s, "the pool is exhausted: $350 left, this award needs $450 (application fee $100, core "
                        "training $200, one exam attempt $150)");
    /* exactly what is left is enough */
    sc_expect(s, p, "award", request("bo", 100), CF_OK);
    assert_string_equal(dget(s, p, "last_award_id"), "SAPC25-0002");
    assert_int_equal(sc_int(s, p, "balance"), 0);
    sc_expect(s, p, "award", request("cy", 100), CF_REJECTED);
    ASSERT_REASON_IS(s, "the pool is exhausted: $0 left, this award needs $350 (application fee $100, core training "
                        "$100, one exam attempt $150)");
    sc_expect(s, p, "preapprove_retake", "{\"award_id\": \"SAPC25-0002\", \"approved_by\": \"K. Lam\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "the pool is exhausted: $0 left, the retake needs $150");

    /* an unused award returns to the pool; its number is not reused */
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0002\", \"reason\": \"withdrew\"}", CF_OK);
    assert_string_equal(dget(s, p, "awards.SAPC25-0002.status"), "released");
    assert_int_equal(sc_int(s, p, "balance"), 350);
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0002\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0002 is released (since 2025-03-01)");
    sc_expect(s, p, "award", request("cy", 100), CF_OK);
    assert_string_equal(dget(s, p, "last_award_id"), "SAPC25-0003");
    sc_close(s);
}

static void test_SCH_1_closing_date_is_the_last_day(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-12-31"), NULL);
    const char *p = pool(s, 5000, "2025-12-31");
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    assert_int_equal(sc_tick(s, "2026-01-01T07:59:59Z"), 0);
    assert_int_equal(sc_tick(s, "2026-01-01T08:00:00Z"), 1); /* local midnight (PST) */
    assert_string_equal(sc_state(s, p), "closed");
    assert_string_equal(dget(s, p, "closed_on"), "2026-01-01");
    on_day(s, "2026-01-01");
    sc_expect(s, p, "award", request("bo", 100), CF_REJECTED);
    ASSERT_REASON_IS(s, "the scholarship pool closed on 2025-12-31; no awards after its closing date");
    /* awards already made are still used after the closing date */
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "application_fee"), CF_OK);
    sc_close(s);
}

static void test_SCH_1_reciprocity_not_eligible_one_award_per_person(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 5000, "2025-12-31");
    sc_expect(s, p, "award",
              "{\"applicant_id\": \"dee\", \"pathway\": \"reciprocity\", \"training_cost\": 400}", CF_REJECTED);
    ASSERT_REASON_IS(s, "reciprocity applicants are not eligible for scholarships");
    sc_expect(s, p, "award", "{\"pathway\": \"initial\", \"training_cost\": 400}", CF_REJECTED);
    ASSERT_REASON_IS(s, "name the applicant (applicant_id): an award belongs to one person");
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    sc_expect(s, p, "award", request("ana", 400), CF_REJECTED);
    ASSERT_REASON_IS(s, "ana already holds award SAPC25-0001 from this pool");
    sc_close(s);
}

static void test_SCH_1_non_transferable_no_extension_unused_returns(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 5000, "2025-12-31");
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    sc_expect(s, p, "cover", use("SAPC25-0001", "bo", "application_fee"), CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 belongs to ana, not bo: awards are non-transferable");
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "core_training"), CF_OK);
    sc_expect(s, p, "extend_award", "{\"award_id\": \"SAPC25-0001\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 cannot be extended: scholarship awards have no extension (it expires on "
                        "2026-02-28)");
    sc_expect(s, p, "cover", use("SAPC25-0009", "ana", "exam"), CF_REJECTED);
    ASSERT_REASON_IS(s, "there is no award SAPC25-0009 in this pool");

    /* the last day of the award is usable; the next day its unpaid part returns */
    assert_int_equal(sc_tick(s, noon("2026-01-01")), 1); /* the pool closes */
    on_day(s, "2026-02-28");
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "application_fee"), CF_OK);
    assert_int_equal(sc_int(s, p, "balance"), 4350);
    assert_int_equal(sc_tick(s, noon("2026-03-01")), 1);
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.status"), "expired");
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.returned"), "150");
    assert_int_equal(sc_int(s, p, "balance"), 4500);
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "exam"), CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 is expired (since 2026-03-01)");
    sc_close(s);
}

/* SCH_1 at the certification: a fee is covered only by an award that exists in a pool, was
 * made to this applicant, covers that fee and has not paid it; the pool then records it. */
static void test_SCH_1_certification_fee_covered_only_by_a_real_unused_award_of_the_holder(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *id = new_applicant(s, NULL);
    const char *bo = new_applicant(s, "{\"name\": \"Bo Chen\"}");
    /* a made-up award pays nothing */
    sc_expect(s, id, "submit", "{\"covered_by\": \"award-17\"}", CF_REJECTED);
    ASSERT_REASON(s, "there is no scholarship award award-17");
    assert_int_equal(fcount(s, id), 0);
    assert_string_equal(sc_state(s, id), "draft");
    const char *p;
    const char *award = award_to(s, id, "SAPC25", NULL, &p);
    assert_string_equal(award, "SAPC25-0001");
    /* non-transferable: Bo cannot use Ana's award */
    sc_expect(s, bo, "submit", "{\"covered_by\": \"SAPC25-0001\"}", CF_REJECTED);
    ASSERT_REASON(s, jf("award SAPC25-0001 was awarded to %s, not to %s: awards are non-transferable", id, bo));
    assert_int_equal(fcount(s, bo), 0);
    /* the holder's application fee, paid once, from the pool */
    sc_expect(s, id, "submit", "{\"covered_by\": \"SAPC25-0001\"}", CF_OK);
    assert_string_equal(fget(s, id, "0.covered_by"), "SAPC25-0001");
    assert_int_equal(sc_int(s, p, "spent"), 100);
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.fees.0.type"), "application_fee");
    sc_expect(s, id, "approve", NULL, CF_OK);
    trained(s, id);
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2025-04-02T17:00:00Z\", \"mode\": \"online\", \"covered_by\": "
                                      "\"SAPC25-0001\"}",
              CF_OK);
    assert_int_equal(sc_int(s, p, "spent"), 250);
    on_day(s, "2025-04-02");
    assert_int_equal(result(s, id, "fail", 60, "2025-04-02"), CF_OK);
    /* one exam attempt: the retake is not covered unless pre-approved */
    sc_expect(s, id, "request_retake", "{\"covered_by\": \"SAPC25-0001\"}", CF_REJECTED);
    ASSERT_REASON(s, "award SAPC25-0001 covers a retake only if it is pre-approved case by case; none is");
    sc_expect(s, p, "preapprove_retake", "{\"award_id\": \"SAPC25-0001\", \"approved_by\": \"K. Lam\"}", CF_OK);
    sc_expect(s, id, "request_retake", "{\"covered_by\": \"SAPC25-0001\"}", CF_OK);
    assert_int_equal(sc_int(s, p, "spent"), 400);
    sc_expect(s, id, "process_retake", NULL, CF_OK);
    schedule(s, id, "2025-05-06T17:00:00Z", "online");
    on_day(s, "2025-05-06");
    assert_int_equal(result(s, id, "fail", 62, "2025-05-06"), CF_OK);
    /* one retake, once: the second is the applicant's own */
    sc_expect(s, id, "request_retake", "{\"covered_by\": \"SAPC25-0001\"}", CF_REJECTED);
    ASSERT_REASON(s, "award SAPC25-0001 already paid its one pre-approved retake on 2025-04-02");
    assert_int_equal(fcount(s, id), 3);
    assert_int_equal(sc_int(s, p, "spent"), 400);
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_OK);
    assert_int_equal(fcount(s, id), 4);
    sc_close(s);
}

/* SCH_1: a released award pays nothing more; renewal fees are never an award's. */
static void test_SCH_1_released_award_and_renewal_fee_not_covered(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *id = new_applicant(s, NULL);
    const char *p;
    award_to(s, id, "SAPC25", NULL, &p);
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0001\", \"reason\": \"declined\"}", CF_OK);
    sc_expect(s, id, "submit", "{\"covered_by\": \"SAPC25-0001\"}", CF_REJECTED);
    ASSERT_REASON(s, "award SAPC25-0001 is released: it pays no more fees");
    submit(s, id);
    /* past its last day the ledger refuses an award even before the pool's timer has expired it */
    const char *late = new_applicant(s, NULL);
    award_to(s, late, "LATE25", NULL, NULL); /* expires 2026-02-28 */
    on_day(s, "2026-03-01");
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(s->e, late, "submit", "{\"covered_by\": \"LATE25-0001\"}", "scenario", NULL, &r),
                     CF_EACTION);
    assert_non_null(strstr(cf_errmsg(s->e), "award LATE25-0001 expired on 2026-02-28; awards have no extension"));
    assert_int_equal(fcount(s, late), 0);
    assert_string_equal(sc_state(s, late), "draft");
    on_day(s, "2025-03-01");
    const char *cert = certified_on(s, "2025-03-02", "2025-04-01T17:00:00Z", "2025-04-03");
    on_day(s, "2027-02-01");
    award_to(s, cert, "REN26", NULL, NULL);
    sc_expect(s, cert, "renew",
              jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2027-01-05\", "
                 "\"covered_by\": \"REN26-0001\"}",
                 ce(20, "2026-01-10", 6, "2026-02-01")),
              CF_REJECTED);
    ASSERT_REASON(s, "a scholarship award pays the application fee, one exam attempt and one pre-approved retake, not "
                     "the renewal fee of $80 (award REN26-0001): pay it with fee_paid");
    sc_close(s);
}

/* ---------------------------------------------------------------- FEE_1 */

static void test_FEE_1_fees_paid_by_an_award_are_recorded_never_refunded(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 5000, "2025-12-31");
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    on_day(s, "2025-03-03");
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "application_fee"), CF_OK);
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.fees"),
                        "[{\"amount\":100,\"covered_by\":\"SAPC25-0001\",\"on\":\"2025-03-03\",\"type\":"
                        "\"application_fee\"}]");
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "application_fee"), CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 already paid its application fee on 2025-03-03");
    assert_int_equal(sc_int(s, p, "spent"), 100);
    /* released: only the unpaid part returns; the fee paid stays paid and on record */
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0001\", \"reason\": \"left the program\"}", CF_OK);
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.returned"), "550");
    assert_int_equal(sc_int(s, p, "balance"), 4900);
    assert_int_equal(dlen(s, p, "awards.SAPC25-0001.fees"), 1);
    sc_close(s);
}

/* The fees plugin's mirror of the awards, kept by fees_sync_awards from the awards each
 * transition names in data.awards_changed (removed once mirrored), and read by holder with
 * the query fees.awards (certflow simulate reads an award's status there). */
static const char *mirrored(sc *s, const char *holder, const char *field)
{
    json_t *doc = sc_query(s, "fees.awards", jf("{\"holder\": \"%s\"}", holder));
    static char buf[4][96];
    static int n;
    char *b = buf[n++ % 4];
    json_t *awards = json_object_get(doc, "awards");
    json_t *row = json_array_get(awards, 0);
    json_t *v = json_object_get(row, field);
    snprintf(b, sizeof buf[0], "%s:%s", json_array_size(awards) == 1 ? "one" : "not one",
             json_is_string(v) ? json_string_value(v) : "");
    json_decref(doc);
    return b;
}

static void test_SCH_1_mirror_follows_each_changed_award(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 5000, "2025-12-31");
    sc_expect(s, p, "award", request("ana", 400), CF_OK);
    sc_expect(s, p, "award", request("bo", 400), CF_OK);
    /* the list of changed awards is the action's input, not part of the pool's record */
    assert_string_equal(dget(s, p, "awards_changed"), "");
    assert_string_equal(mirrored(s, "ana", "award_id"), "one:SAPC25-0001");
    assert_string_equal(mirrored(s, "ana", "status"), "one:active");
    assert_string_equal(mirrored(s, "ana", "pool"), jf("one:%s", p));
    assert_string_equal(mirrored(s, "bo", "award_id"), "one:SAPC25-0002");
    assert_string_equal(mirrored(s, "cy", "award_id"), "not one:");
    /* a release is mirrored for that award only */
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0002\", \"reason\": \"withdrew\"}", CF_OK);
    assert_string_equal(mirrored(s, "bo", "status"), "one:released");
    assert_string_equal(mirrored(s, "ana", "status"), "one:active");
    /* the timer's expiry names every award it expired */
    assert_int_equal(sc_tick(s, noon("2026-01-01")), 1); /* the pool closes */
    assert_int_equal(sc_tick(s, noon("2026-03-01")), 1);
    assert_string_equal(dget(s, p, "awards.SAPC25-0001.status"), "expired");
    assert_string_equal(mirrored(s, "ana", "status"), "one:expired");
    assert_string_equal(mirrored(s, "bo", "status"), "one:released");
    assert_string_equal(dget(s, p, "awards_changed"), "");
    /* a query without a holder is refused with what to give */
    char *answer = NULL;
    assert_int_not_equal(cf_plugin_query(s->e, "fees.awards", "{}", &answer), CF_OK);
    assert_null(answer);
    assert_non_null(strstr(cf_errmsg(s->e), "fees.awards needs {\"holder\": ID}"));
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_SCH_1_award_covers_fee_training_one_exam),
        cmocka_unit_test(test_SCH_1_refused_when_pool_exhausted),
        cmocka_unit_test(test_SCH_1_closing_date_is_the_last_day),
        cmocka_unit_test(test_SCH_1_reciprocity_not_eligible_one_award_per_person),
        cmocka_unit_test(test_SCH_1_non_transferable_no_extension_unused_returns),
        cmocka_unit_test(test_SCH_1_certification_fee_covered_only_by_a_real_unused_award_of_the_holder),
        cmocka_unit_test(test_SCH_1_released_award_and_renewal_fee_not_covered),
        cmocka_unit_test(test_FEE_1_fees_paid_by_an_award_are_recorded_never_refunded),
        cmocka_unit_test(test_SCH_1_mirror_follows_each_changed_award),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
