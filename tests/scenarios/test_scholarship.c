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
#include "testutil.h"

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

/* An award's field by path ("covers", "fees.0.type") as the fees plugin keeps it (query
 * fees.award): the shipped pool holds its counters, each award is the plugin's rows. Text
 * like dget; "" if absent. */
static const char *aget(sc *s, const char *award, const char *path)
{
    static char ring[8][1024];
    static int next;
    char *b = ring[next++ % 8];
    json_t *doc = sc_query(s, "fees.award", jf("{\"award_id\": \"%s\"}", award));
    json_t *v = jpath(doc, path);
    b[0] = '\0';
    if (json_is_string(v)) {
        snprintf(b, sizeof ring[0], "%s", json_string_value(v));
    } else if (v) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        snprintf(b, sizeof ring[0], "%s", t ? t : "");
        free(t);
    }
    json_decref(doc);
    return b;
}

static size_t alen(sc *s, const char *award, const char *path)
{
    json_t *doc = sc_query(s, "fees.award", jf("{\"award_id\": \"%s\"}", award));
    size_t n = json_array_size(jpath(doc, path));
    json_decref(doc);
    return n;
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
    assert_string_equal(aget(s, "SAPC25-0001", "covers"),
                        "{\"application_fee\":100,\"core_training\":400,\"exam\":150}");
    assert_string_equal(aget(s, "SAPC25-0001", "amount"), "650");
    assert_string_equal(aget(s, "SAPC25-0001", "expires_on"), "2026-02-28");

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
    assert_string_equal(aget(s, "SAPC25-0002", "status"), "released");
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
    assert_string_equal(aget(s, "SAPC25-0001", "status"), "expired");
    assert_string_equal(aget(s, "SAPC25-0001", "returned"), "150");
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
    assert_string_equal(aget(s, "SAPC25-0001", "fees.0.type"), "application_fee");
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
    assert_string_equal(aget(s, "SAPC25-0001", "fees"),
                        "[{\"amount\":100,\"covered_by\":\"SAPC25-0001\",\"on\":\"2025-03-03\",\"type\":"
                        "\"application_fee\"}]");
    sc_expect(s, p, "cover", use("SAPC25-0001", "ana", "application_fee"), CF_REJECTED);
    ASSERT_REASON_IS(s, "award SAPC25-0001 already paid its application fee on 2025-03-03");
    assert_int_equal(sc_int(s, p, "spent"), 100);
    /* released: only the unpaid part returns; the fee paid stays paid and on record */
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0001\", \"reason\": \"left the program\"}", CF_OK);
    assert_string_equal(aget(s, "SAPC25-0001", "returned"), "550");
    assert_int_equal(sc_int(s, p, "balance"), 4900);
    assert_int_equal(alen(s, "SAPC25-0001", "fees"), 1);
    sc_close(s);
}

/* The awards are the fees plugin's rows, written by its actions (fees_award_add, _cover,
 * _retake, _release, _expire) and read by holder with the query fees.awards (certflow
 * simulate reads an award's status there) or one by one with fees.award. */
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
    /* the awards are the plugin's rows: the pool's data holds its counters and the last day
     * of the award that ends first (its expiry timer's), no award and no action input */
    assert_string_equal(dget(s, p, "awards"), "");
    assert_string_equal(dget(s, p, "award_new"), "");
    assert_string_equal(dget(s, p, "awards_changed"), "");
    assert_string_equal(dget(s, p, "next_expiry"), "2026-02-28");
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
    assert_string_equal(aget(s, "SAPC25-0001", "status"), "expired");
    assert_string_equal(mirrored(s, "ana", "status"), "one:expired");
    assert_string_equal(mirrored(s, "bo", "status"), "one:released");
    assert_string_equal(dget(s, p, "next_expiry"), ""); /* no active award left */
    /* a query without a holder is refused with what to give */
    char *answer = NULL;
    assert_int_not_equal(cf_plugin_query(s->e, "fees.awards", "{}", &answer), CF_OK);
    assert_null(answer);
    assert_non_null(strstr(cf_errmsg(s->e), "fees.awards needs {\"holder\": ID}"));
    sc_close(s);
}

/* Each award is its own rows: the pool's data keeps the same fields however many awards it
 * has made, so a fire of the pool does not grow with them (docs/performance.md, issue 13). */
static void test_SCH_1_pool_data_does_not_grow_with_its_awards(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-01"), NULL);
    const char *p = pool(s, 100000, "2025-12-31");
    sc_expect(s, p, "award", request("a0", 400), CF_OK);
    json_t *d = sc_data(s, p);
    size_t fields = json_object_size(d);
    json_decref(d);
    for (int i = 1; i < 40; i++)
        sc_expect(s, p, "award", request(jf("a%d", i), 400), CF_OK);
    sc_expect(s, p, "release", "{\"award_id\": \"SAPC25-0007\", \"reason\": \"withdrew\"}", CF_OK);
    sc_expect(s, p, "cover", use("SAPC25-0031", "a30", "exam"), CF_OK);
    d = sc_data(s, p);
    assert_int_equal(json_object_size(d), fields);
    assert_null(json_object_get(d, "awards"));
    json_decref(d);
    assert_string_equal(dget(s, p, "last_award_id"), "SAPC25-0040");
    assert_int_equal(sc_int(s, p, "balance"), 100000 - 40 * 650 + 650);
    assert_int_equal(sc_int(s, p, "spent"), 150);
    assert_string_equal(aget(s, "SAPC25-0031", "fees.0.on"), "2025-03-01");
    assert_string_equal(aget(s, "SAPC25-0007", "release_reason"), "withdrew");
    assert_string_equal(aget(s, "SAPC25-0040", "applicant_id"), "a39");
    sc_close(s);
}

/* Pools created by the first version keep their awards in data.awards and stay on that
 * version, whose functions the policy keeps: after the shipped workflow changed, such a pool
 * still makes, covers, releases and expires awards as before, beside a pool of the shipped
 * version, and the ledger takes either pool's awards. */
static void test_SCH_1_pools_of_the_first_version_keep_working(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    static const char *const shipped[] = {"certification.lua", "employment.lua", "supervision.lua", "complaint.lua"};
    for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++) {
        char *from = cft_path(CF_SOURCE_DIR "/workflows", shipped[i]);
        char *text = cft_slurp(from);
        free(cft_write(dir, shipped[i], text));
        free(text);
        free(from);
    }
    char *v1 = cft_slurp(CF_TEST_FIXTURES "/scholarship/scholarship_v1.lua");
    free(cft_write(dir, "scholarship.lua", v1));
    free(v1);
    sc *s = sc_open_workflows(noon("2025-03-01"), dir);
    const char *old = pool(s, 5000, "2025-12-31");
    sc_expect(s, old, "award", request("ana", 400), CF_OK);
    assert_string_equal(dget(s, old, "awards.SAPC25-0001.status"), "active");

    sc_reopen(s, NULL); /* the shipped workflows: the old pool keeps its version */
    const char *fresh = sc_new(s, "scholarship", "los_angeles",
                               "{\"name\": \"New pool\", \"code\": \"NEW25\", \"funds\": 5000, "
                               "\"closes_on\": \"2025-12-31\"}");
    sc_expect(s, old, "award", request("bo", 400), CF_OK);
    sc_expect(s, fresh, "award", request("bo", 400), CF_OK);
    assert_string_equal(dget(s, old, "awards.SAPC25-0002.applicant_id"), "bo");
    assert_string_equal(dget(s, fresh, "awards"), "");
    assert_string_equal(aget(s, "NEW25-0001", "applicant_id"), "bo");
    sc_expect(s, old, "award", request("ana", 400), CF_REJECTED);
    ASSERT_REASON_IS(s, "ana already holds award SAPC25-0001 from this pool");
    sc_expect(s, old, "cover", use("SAPC25-0001", "ana", "exam"), CF_OK);
    assert_string_equal(dget(s, old, "awards.SAPC25-0001.fees.0.type"), "exam");
    sc_expect(s, old, "release", "{\"award_id\": \"SAPC25-0002\", \"reason\": \"withdrew\"}", CF_OK);
    assert_int_equal(sc_int(s, old, "balance"), 5000 - 650);
    /* the certification's ledger takes an award of either pool */
    const char *id = new_applicant(s, NULL);
    sc_expect(s, old, "award", request(id, 400), CF_OK);
    sc_expect(s, id, "submit", "{\"covered_by\": \"SAPC25-0003\"}", CF_OK);
    assert_string_equal(fget(s, id, "0.covered_by"), "SAPC25-0003");
    assert_string_equal(dget(s, old, "awards.SAPC25-0003.fees.0.type"), "application_fee");
    /* the old pool's awards expire by its own timer */
    assert_int_equal(sc_tick(s, noon("2026-01-01")), 3); /* both pools close, and a timer of the certification */
    assert_int_equal(sc_tick(s, noon("2026-03-01")), 2);
    assert_string_equal(dget(s, old, "awards.SAPC25-0001.status"), "expired");
    assert_string_equal(aget(s, "NEW25-0001", "status"), "expired");
    sc_close(s);
    cft_rmtree(dir);
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
        cmocka_unit_test(test_SCH_1_pool_data_does_not_grow_with_its_awards),
        cmocka_unit_test(test_SCH_1_pools_of_the_first_version_keep_working),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
