/* test_employment.c — the shipped employment workflow on a virtual clock: the hire grace
 * period and its COR extension (EMP_1), billing eligibility (EMP_2), EHR access for peer
 * services (EMP_3), the county overlays that set the grace period, and the events that
 * cross to and from the certification (docs/lifecycles.md).
 * Events from the certification are fired as the link delivers them ({from, from_workflow,
 * from_state}); test_EMP_1_real_certification_notifies_the_hire drives the real link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "eligibility.h"

#include <string.h>

/* A certification instance for the person (its state does not matter to the hire). */
static const char *person(sc *s, const char *county)
{
    return sc_new(s, "certification", county, "{\"name\": \"Ana Ruiz\"}");
}

/* A hire on hired_on in county, linked to cert (or not, when NULL), started today. */
static const char *hire(sc *s, const char *county, const char *hired_on, const char *cert)
{
    const char *data = cert ? jf("{\"name\": \"Ana Ruiz\", \"hired_on\": \"%s\", \"certification_id\": \"%s\", "
                                 "\"program\": \"Recovery Center\", \"program_type\": \"smhs\"}",
                                 hired_on, cert)
                            : jf("{\"name\": \"Ana Ruiz\", \"hired_on\": \"%s\", \"program\": \"Recovery Center\", "
                                 "\"program_type\": \"smhs\"}",
                                 hired_on);
    const char *id = sc_new(s, "employment", county, data);
    sc_expect(s, id, "start", NULL, CF_OK);
    /* seed 002 C.2: San Diego and the example county require a supervisor linked to the hire */
    const char *sup = sc_new(s, "supervision", county, "{\"name\": \"Lee Ortiz\", \"employer\": \"Recovery Center\"}");
    sc_expect(s, id, "assign_supervisor", jf("{\"supervisor_id\": \"%s\"}", sup), CF_OK);
    return id;
}

/* An event from the certification, as its link delivers it. */
static const char *from_cert(const char *cert, const char *state)
{
    return jf("{\"from\": \"%s\", \"from_workflow\": \"certification\", \"from_state\": \"%s\"}", cert, state);
}

static const char *PEER = "{\"code_type\": \"peer\", \"code\": \"H0038\"}";
static const char *NON_PEER = "{\"code_type\": \"non_peer\", \"code\": \"H2017\"}";

/* ---------------------------------------------------------------- EMP_1 */

static void test_EMP_1_day_90_inside_day_91_suspends_ehr(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "san_diego");
    const char *emp = hire(s, "san_diego", "2025-01-01", cert);
    assert_string_equal(sc_state(s, emp), "grace");
    assert_string_equal(dget(s, emp, "grace_ends_on"), "2025-04-01");
    assert_int_equal(sc_int(s, emp, "grace_days"), 90);
    assert_string_equal(dget(s, emp, "ehr_access"), "active");

    /* day 90, the last moment of it in Los Angeles (PDT): still inside */
    sc_tick(s, "2025-04-02T06:59:59Z");
    assert_string_equal(sc_state(s, emp), "grace");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: this hire is not "
                        "certified yet (grace period until 2025-04-01, 90 days after hire on 2025-01-01)");

    /* day 91 starts: EHR access for peer services is suspended (EMP_3) */
    assert_int_equal(sc_tick(s, "2025-04-02T07:00:00Z"), 1);
    assert_string_equal(sc_state(s, emp), "ehr_suspended");
    assert_string_equal(dget(s, emp, "ehr_access"), "suspended");
    assert_string_equal(dget(s, emp, "ehr_suspended_on"), "2025-04-02");
    assert_string_equal(dget(s, emp, "peer_billing"), "false");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: the grace period ended "
                        "on 2025-04-01 (90 days after hire on 2025-01-01) without certification; EHR access for "
                        "peer services is suspended since 2025-04-02");
    /* a COR extension comes before the end, not after it */
    sc_expect(s, emp, "extend", "{\"approved_by\": \"COR J. Park\", \"new_date\": \"2025-05-01\"}", CF_REJECTED);
    ASSERT_REASON(s, "event 'extend' does not apply in state 'ehr_suspended'");
    sc_close(s);
}

static void test_EMP_1_cor_extension_moves_the_timer(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "san_diego");
    const char *emp = hire(s, "san_diego", "2025-01-01", cert);

    on_day(s, "2025-03-20");
    sc_expect(s, emp, "extend", "{\"new_date\": \"2025-05-01\"}", CF_REJECTED);
    /* The workflow declares extend's data (event_data): a missing field is a rejection saying where it belongs. */
    ASSERT_REASON_IS(s, "'approved_by' is missing from the event data of 'extend' (string: the county contract officer "
                        "(COR) who approved the extension; e.g. {\"approved_by\": \"COR J. Park\"}): it belongs in the "
                        "data the event is fired with, not in the instance's data");
    sc_expect(s, emp, "extend", "{\"approved_by\": \"COR J. Park\", \"new_date\": 20250501}", CF_REJECTED);
    ASSERT_REASON_IS(s, "'new_date' in the event data of 'extend' must be a date \"YYYY-MM-DD\" (the new last day of the "
                        "grace period, after the current one; e.g. \"2025-05-01\"), not a number");
    sc_expect(s, emp, "extend", "{\"approved_by\": \"COR J. Park\", \"new_date\": \"2025-04-01\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "the new date 2025-04-01 is not after the current end of the grace period, 2025-04-01 "
                        "(90 days after hire on 2025-01-01)");
    sc_expect(s, emp, "extend",
              "{\"approved_by\": \"COR J. Park\", \"new_date\": \"2025-05-01\", \"reason\": \"exam date\"}", CF_OK);
    assert_string_equal(sc_state(s, emp), "grace");
    assert_string_equal(dget(s, emp, "grace_ends_on"), "2025-05-01");
    assert_string_equal(dget(s, emp, "extensions.0.approved_by"), "COR J. Park");
    assert_string_equal(dget(s, emp, "extensions.0.approved_on"), "2025-03-20");
    assert_string_equal(dget(s, emp, "extensions.0.from"), "2025-04-01");
    assert_string_equal(dget(s, emp, "extensions.0.to"), "2025-05-01");

    /* the old end passes quietly; the new one is the boundary */
    assert_int_equal(sc_tick(s, noon("2025-04-02")), 0);
    assert_string_equal(sc_state(s, emp), "grace");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: this hire is not "
                        "certified yet (grace period until 2025-05-01, 90 days after hire on 2025-01-01, extended "
                        "to 2025-05-01 by COR J. Park on 2025-03-20)");
    assert_int_equal(sc_tick(s, noon("2025-05-01")), 0);
    assert_int_equal(sc_tick(s, noon("2025-05-02")), 1);
    assert_string_equal(sc_state(s, emp), "ehr_suspended");
    assert_string_equal(dget(s, emp, "ehr_suspended_on"), "2025-05-02");
    sc_close(s);
}

static void test_EMP_1_certified_within_window_bills_peer_codes(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "san_diego");
    const char *emp = hire(s, "san_diego", "2025-01-01", cert);
    /* the hire told its certification about itself */
    assert_string_equal(dget(s, cert, "employment_ids.0"), emp);

    on_day(s, "2025-04-01");
    /* only the hire's own certification can say it is certified */
    const char *other = person(s, "san_diego");
    sc_expect(s, emp, "certification_granted", from_cert(other, "certified"), CF_REJECTED);
    ASSERT_REASON_IS(s, jf("'certification_granted' must come from this hire's certification %s over its link (it "
                           "came from %s)",
                           cert, other));
    sc_expect(s, emp, "certification_granted", from_cert(cert, "certified"), CF_OK);
    assert_string_equal(sc_state(s, emp), "certified");
    assert_string_equal(dget(s, emp, "certified_on"), "2025-04-01");
    assert_string_equal(dget(s, emp, "peer_billing"), "true");
    sc_expect(s, emp, "bill", PEER, CF_OK);
    assert_string_equal(dget(s, emp, "billed.peer"), "1");
    /* the grace timer went with the grace state */
    assert_int_equal(sc_tick(s, noon("2025-06-01")), 0);
    assert_string_equal(sc_state(s, emp), "certified");
    sc_close(s);
}

static void test_EMP_1_hire_already_certified_or_not_yet_applied(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    /* certified at hire: the county found the number in the registry */
    const char *cert = person(s, "san_diego");
    const char *emp = sc_new(s, "employment", "san_diego",
                             jf("{\"hired_on\": \"2025-01-06\", \"certification_id\": \"%s\"}", cert));
    sc_expect(s, emp, "start", "{\"certification_number\": \"CMPSS-000123\"}", CF_OK);
    assert_string_equal(sc_state(s, emp), "certified");
    assert_string_equal(dget(s, emp, "certification_number"), "CMPSS-000123");
    assert_string_equal(dget(s, cert, "employment_ids.0"), emp);

    /* a claimed certification needs its instance linked */
    const char *unlinked = sc_new(s, "employment", "san_diego", "{\"hired_on\": \"2025-01-06\"}");
    sc_expect(s, unlinked, "start", "{\"certification_number\": \"CMPSS-000124\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "certification CMPSS-000124 was given at hire, but no certification is linked: set "
                        "certification_id when creating the hire");

    /* not applied yet: the grace period runs; the certification is linked when it exists */
    const char *later = hire(s, "san_diego", "2025-01-06", NULL);
    assert_string_equal(sc_state(s, later), "grace");
    on_day(s, "2025-02-01");
    const char *app = person(s, "san_diego");
    sc_expect(s, later, "link_certification", jf("{\"certification_id\": \"%s\"}", app), CF_OK);
    assert_string_equal(dget(s, later, "certification_id"), app);
    assert_string_equal(dget(s, app, "employment_ids.0"), later);
    sc_expect(s, later, "link_certification", jf("{\"certification_id\": \"%s\"}", app), CF_REJECTED);
    ASSERT_REASON_IS(s, jf("this hire is already linked to certification %s", app));

    /* a hire date is required when the hire is created */
    char id[37];
    assert_int_equal(cf_instance_create(s->e, "employment", "san_diego", "{\"hired_on\": \"2025-02-30\"}", "t", id),
                     CF_EPOLICY);
    assert_non_null(strstr(cf_errmsg(s->e), "an employment needs hired_on, the hire date as \"YYYY-MM-DD\" (got "
                                            "\"2025-02-30\")"));
    sc_close(s);
}

/* The real certification: approved, linked, certified by its exam; the link tells the hire. */
static void test_EMP_1_real_certification_notifies_the_hire(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *cert = approved_app(s, NULL);
    const char *emp = hire(s, "san_diego", "2025-01-02", cert);
    assert_string_equal(dget(s, cert, "employment_ids.0"), emp);
    trained(s, cert);
    schedule(s, cert, "2025-02-10T17:00:00Z", "in_person");
    on_day(s, "2025-02-12");
    assert_int_equal(result(s, cert, "pass", 88, "2025-02-10"), CF_OK);
    assert_string_equal(sc_state(s, cert), "certified.active");
    assert_string_equal(sc_state(s, emp), "certified");
    assert_string_equal(dget(s, emp, "certified_on"), "2025-02-12");
    sc_expect(s, emp, "bill", PEER, CF_OK);
    /* a suspension of the certification stops peer billing (certification_lost) */
    sc_expect(s, cert, "suspend", "{\"reason\": \"complaint\"}", CF_OK);
    assert_string_equal(sc_state(s, emp), "not_in_good_standing");
    assert_string_equal(dget(s, emp, "certification_status"), "certified.suspended");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: the certification was "
                        "lost on 2025-02-12 (certified.suspended)");
    sc_close(s);
}

/* ---------------------------------------------------------------- county overlays */

static void test_EMP_1_county_overlays_set_the_grace_period(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *sd = hire(s, "san_diego", "2025-01-01", NULL);
    const char *ex = hire(s, "example", "2025-01-01", NULL);
    const char *none = hire(s, "fresno", "2025-01-01", NULL); /* no overlay: the state default */
    assert_int_equal(sc_int(s, sd, "grace_days"), 90);
    assert_string_equal(dget(s, sd, "grace_ends_on"), "2025-04-01");
    assert_int_equal(sc_int(s, ex, "grace_days"), 120);
    assert_string_equal(dget(s, ex, "grace_ends_on"), "2025-05-01");
    assert_int_equal(sc_int(s, none, "grace_days"), 90);
    assert_string_equal(dget(s, none, "grace_ends_on"), "2025-04-01");

    assert_int_equal(sc_tick(s, noon("2025-04-02")), 2);
    assert_string_equal(sc_state(s, sd), "ehr_suspended");
    assert_string_equal(sc_state(s, none), "ehr_suspended");
    assert_string_equal(sc_state(s, ex), "grace");
    /* day 120 of the example county is inside, day 121 is not */
    assert_int_equal(sc_tick(s, noon("2025-05-01")), 0);
    assert_string_equal(sc_state(s, ex), "grace");
    assert_int_equal(sc_tick(s, noon("2025-05-02")), 1);
    assert_string_equal(sc_state(s, ex), "ehr_suspended");
    sc_expect(s, ex, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: the grace period ended "
                        "on 2025-05-01 (120 days after hire on 2025-01-01) without certification; EHR access for "
                        "peer services is suspended since 2025-05-02");
    sc_close(s);
}

/* ---------------------------------------------------------------- EMP_2 */

static void test_EMP_2_uncertified_bills_non_peer_only_with_oqp(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "san_diego");
    const char *emp = hire(s, "san_diego", "2025-01-01", cert);
    assert_string_equal(dget(s, emp, "non_peer_billing"), "false");

    sc_expect(s, emp, "bill", NON_PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "non-peer service code H2017 needs the program to record that this hire meets the Other "
                        "Qualified Provider criteria; none is recorded");
    sc_expect(s, emp, "bill", "{\"code\": \"H2017\"}", CF_REJECTED);
    ASSERT_REASON(s, "a bill names its code_type");
    sc_expect(s, emp, "record_oqp", "{\"criteria\": \"OPOH Section M\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "'recorded_by' is missing from the event data of 'record_oqp' (string: who at the program "
                        "recorded the Other Qualified Provider criteria; e.g. {\"recorded_by\": \"M. Chen, program "
                        "manager\"}): it belongs in the data the event is fired with, not in the instance's data");
    sc_expect(s, emp, "record_oqp", "{\"recorded_by\": \"M. Chen, program manager\", \"criteria\": \"OPOH Section M\"}",
              CF_OK);
    assert_string_equal(dget(s, emp, "oqp.criteria"), "OPOH Section M");
    assert_string_equal(dget(s, emp, "non_peer_billing"), "true");
    sc_expect(s, emp, "bill", NON_PEER, CF_OK);
    /* peer codes still need the certification */
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON(s, "peer service code H0038 needs a certification in good standing");
    assert_string_equal(dget(s, emp, "billed.non_peer"), "1");
    assert_string_equal(dget(s, emp, "billed.peer"), "0");

    /* certified: peer codes; lost: no more peer codes, non-peer codes still under OQP */
    sc_expect(s, emp, "certification_granted", from_cert(cert, "certified"), CF_OK);
    sc_expect(s, emp, "bill", PEER, CF_OK);
    on_day(s, "2025-06-30");
    sc_expect(s, emp, "certification_lost", from_cert(cert, "expired"), CF_OK);
    assert_string_equal(sc_state(s, emp), "not_in_good_standing");
    assert_string_equal(dget(s, emp, "peer_billing"), "false");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: the certification was "
                        "lost on 2025-06-30 (expired)");
    sc_expect(s, emp, "bill", NON_PEER, CF_OK);
    /* reinstated: good standing again */
    on_day(s, "2025-07-15");
    sc_expect(s, emp, "certification_granted", from_cert(cert, "certified"), CF_OK);
    assert_string_equal(sc_state(s, emp), "certified");
    sc_expect(s, emp, "bill", PEER, CF_OK);
    assert_string_equal(dget(s, emp, "billed.peer"), "2");
    assert_string_equal(dget(s, emp, "last_bill.on"), "2025-07-15");
    sc_close(s);
}

/* ---------------------------------------------------------------- EMP_3 */

static void test_EMP_3_certification_notified_restores_ehr_within_48_hours(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "san_diego");
    const char *emp = hire(s, "san_diego", "2025-01-01", cert);
    sc_tick(s, noon("2025-04-02"));
    assert_string_equal(sc_state(s, emp), "ehr_suspended");

    sc_at(s, "2025-04-10T17:00:00Z");
    sc_expect(s, emp, "certification_granted", from_cert(cert, "certified"), CF_OK);
    assert_string_equal(sc_state(s, emp), "ehr_restoring");
    assert_string_equal(dget(s, emp, "ehr_access"), "restore_pending");
    assert_string_equal(dget(s, emp, "ehr_notified_at"), "2025-04-10T17:00:00Z");
    assert_string_equal(dget(s, emp, "ehr_restore_by"), "2025-04-12T17:00:00Z");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038: EHR access for peer services is being restored after "
                        "certification on 2025-04-10 (due by 2025-04-12T17:00:00Z); bill once it is restored");

    /* restored on time: in good standing with access */
    sc_at(s, "2025-04-11T18:30:00Z");
    sc_expect(s, emp, "ehr_restored", NULL, CF_OK);
    assert_string_equal(sc_state(s, emp), "certified");
    assert_string_equal(dget(s, emp, "ehr_access"), "active");
    assert_string_equal(dget(s, emp, "ehr_restored_at"), "2025-04-11T18:30:00Z");
    assert_string_equal(dget(s, emp, "ehr_restore_overdue_since"), "");
    sc_expect(s, emp, "bill", PEER, CF_OK);
    assert_int_equal(sc_tick(s, noon("2025-04-20")), 0);
    sc_close(s);
}

static void test_EMP_3_restore_overdue_after_the_county_hours(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "example");
    const char *emp = hire(s, "example", "2025-01-01", cert); /* 120 days, restore within 24 hours */
    sc_tick(s, noon("2025-05-02"));
    assert_string_equal(sc_state(s, emp), "ehr_suspended");
    sc_at(s, "2025-05-05T16:00:00Z");
    sc_expect(s, emp, "certification_granted", from_cert(cert, "certified"), CF_OK);
    assert_string_equal(dget(s, emp, "ehr_restore_by"), "2025-05-06T16:00:00Z");
    assert_int_equal(sc_tick(s, "2025-05-06T15:59:59Z"), 0);
    assert_int_equal(sc_tick(s, "2025-05-06T16:00:00Z"), 1);
    assert_string_equal(sc_state(s, emp), "ehr_restoring");
    assert_string_equal(dget(s, emp, "ehr_restore_overdue_since"), "2025-05-06T16:00:00Z");
    /* lost again before access came back: uncertified and still suspended */
    sc_at(s, "2025-05-07T16:00:00Z");
    sc_expect(s, emp, "certification_lost", from_cert(cert, "suspended"), CF_OK);
    assert_string_equal(sc_state(s, emp), "ehr_suspended");
    sc_expect(s, emp, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "peer service code H0038 needs a certification in good standing: the certification was "
                        "lost on 2025-05-07 (suspended) before EHR access was restored");
    sc_close(s);
}

static void test_EMP_3_separation_ends_billing(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *cert = person(s, "san_diego");
    const char *emp = hire(s, "san_diego", "2025-01-01", cert);
    sc_expect(s, emp, "record_oqp", "{\"recorded_by\": \"M. Chen\", \"criteria\": \"OPOH Section M\"}", CF_OK);
    on_day(s, "2025-02-15");
    sc_expect(s, emp, "end", "{\"reason\": \"resigned\"}", CF_OK);
    assert_string_equal(sc_state(s, emp), "ended");
    assert_string_equal(dget(s, emp, "ended_on"), "2025-02-15");
    assert_string_equal(dget(s, emp, "non_peer_billing"), "false");
    sc_expect(s, emp, "bill", NON_PEER, CF_REJECTED);
    ASSERT_REASON(s, "'ended' is a final state");
    /* the grace timer is gone with the state */
    assert_int_equal(sc_tick(s, noon("2025-04-02")), 0);
    sc_close(s);
}

/* EMP_2 (seed 002): the Other Qualified Provider route is for specialty mental health
 * programs; in DMC-ODS an uncertified peer has only the peer codes, which need certification. */
static void test_EMP_2_program_type_dmc_ods_peer_codes_only_oqp_for_smhs(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    const char *OQP = "{\"recorded_by\": \"M. Chen\", \"criteria\": \"OPOH Section M\"}";
    const char *dmc = sc_new(s, "employment", "kern",
                             "{\"name\": \"Ana Ruiz\", \"hired_on\": \"2025-01-06\", \"program_type\": \"dmc_ods\"}");
    sc_expect(s, dmc, "start", NULL, CF_OK);
    sc_expect(s, dmc, "record_oqp", OQP, CF_REJECTED);
    ASSERT_REASON_IS(s, "the Other Qualified Provider route is for specialty mental health (SMHS) programs only; this "
                        "hire's program is Drug Medi-Cal Organized Delivery System (DMC-ODS)");
    sc_expect(s, dmc, "bill", NON_PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "non-peer service code H2017: in a DMC-ODS program a peer bills only the peer-specific codes "
                        "(seed 002)");
    sc_expect(s, dmc, "bill", PEER, CF_REJECTED);
    ASSERT_REASON(s, "peer service code H0038 needs a certification in good standing");

    /* no program type recorded: no OQP route either */
    const char *none = sc_new(s, "employment", "kern", "{\"name\": \"Bo Lee\", \"hired_on\": \"2025-01-06\"}");
    sc_expect(s, none, "start", NULL, CF_OK);
    sc_expect(s, none, "record_oqp", OQP, CF_REJECTED);
    ASSERT_REASON(s, "this hire's program is not recorded (program_type)");

    /* SMHS: OQP, then non-peer codes */
    const char *smhs = sc_new(s, "employment", "kern",
                              "{\"name\": \"Cy Park\", \"hired_on\": \"2025-01-06\", \"program_type\": \"smhs\"}");
    sc_expect(s, smhs, "start", NULL, CF_OK);
    sc_expect(s, smhs, "bill", NON_PEER, CF_REJECTED);
    sc_expect(s, smhs, "record_oqp", OQP, CF_OK);
    sc_expect(s, smhs, "bill", NON_PEER, CF_OK);

    /* a program type that is neither is refused at creation: nothing is created */
    char id[37];
    assert_int_equal(cf_instance_create(s->e, "employment", "kern",
                                        "{\"hired_on\": \"2025-01-06\", \"program_type\": \"mental_health\"}", "t", id),
                     CF_EPOLICY);
    if (!strstr(cf_errmsg(s->e), "program_type is \"smhs\""))
        fail_msg("EMP_2: %s", cf_errmsg(s->e));
    sc_close(s);
}

/* EMP_2 (seed 002 C.2): where the county requires it (San Diego), a bill needs a supervisor
 * linked to the peer's employment; a county without that requirement (kern) does not. */
static void test_EMP_2_supervisor_linked_where_the_county_requires_one(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    const char *data = "{\"name\": \"Ana Ruiz\", \"hired_on\": \"2025-01-06\", \"program_type\": \"smhs\"}";
    const char *sd = sc_new(s, "employment", "san_diego", data);
    const char *kern = sc_new(s, "employment", "kern", data);
    const char *sdc = person(s, "san_diego");
    sc_expect(s, sd, "start", NULL, CF_OK);
    sc_expect(s, kern, "start", NULL, CF_OK);
    sc_expect(s, sd, "certification_granted", from_cert(sdc, "certified"), CF_REJECTED); /* not linked */
    /* peer codes in San Diego: certified is not enough without a supervisor */
    sc_expect(s, sd, "link_certification", jf("{\"certification_id\": \"%s\"}", sdc), CF_OK);
    sc_expect(s, sd, "certification_granted", from_cert(sdc, "certified"), CF_OK);
    sc_expect(s, sd, "bill", PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "service code H0038: this county requires a supervisor linked to each peer's employment; none "
                        "is (assign_supervisor)");
    sc_expect(s, sd, "assign_supervisor", "{}", CF_REJECTED);
    ASSERT_REASON(s, "supervisor_id");
    const char *sup = sc_new(s, "supervision", "san_diego", "{\"name\": \"Lee Ortiz\", \"employer\": \"BHS\"}");
    sc_expect(s, sd, "assign_supervisor", jf("{\"supervisor_id\": \"%s\"}", sup), CF_OK);
    assert_string_equal(dget(s, sd, "supervisor_since"), "2025-01-06");
    sc_expect(s, sd, "bill", PEER, CF_OK);
    /* kern: no supervisor required (the state default) */
    sc_expect(s, kern, "record_oqp", "{\"recorded_by\": \"M. Chen\", \"criteria\": \"OPOH Section M\"}", CF_OK);
    sc_expect(s, kern, "bill", NON_PEER, CF_OK);
    sc_close(s);
}

/* Seed 003 "Complete formal hiring ... prior to provision": no service before the hire date,
 * tested on the day before and on the hire date itself. */
static void test_EMP_2_no_service_before_the_hire_date(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *emp = sc_new(s, "employment", "kern",
                             "{\"name\": \"Ana Ruiz\", \"hired_on\": \"2025-01-06\", \"program_type\": \"smhs\"}");
    sc_expect(s, emp, "start", NULL, CF_OK);
    sc_expect(s, emp, "record_oqp", "{\"recorded_by\": \"M. Chen\", \"criteria\": \"OPOH Section M\"}", CF_OK);
    /* today (2025-01-02) is before the hire date: a bill for today is refused */
    sc_expect(s, emp, "bill", NON_PEER, CF_REJECTED);
    ASSERT_REASON_IS(s, "service code H2017 on 2025-01-02 is before the hire date 2025-01-06: hiring must be complete "
                        "before a service is provided");
    on_day(s, "2025-01-10");
    sc_expect(s, emp, "bill", "{\"code_type\": \"non_peer\", \"code\": \"H2017\", \"service_on\": \"2025-01-05\"}",
              CF_REJECTED);
    ASSERT_REASON(s, "on 2025-01-05 is before the hire date 2025-01-06");
    sc_expect(s, emp, "bill", "{\"code_type\": \"non_peer\", \"code\": \"H2017\", \"service_on\": \"2025-01-06\"}",
              CF_OK);
    assert_string_equal(dget(s, emp, "last_bill.service_on"), "2025-01-06");
    sc_expect(s, emp, "bill", "{\"code_type\": \"non_peer\", \"code\": \"H2017\", \"service_on\": \"2025-01-11\"}",
              CF_REJECTED);
    ASSERT_REASON(s, "the date of service 2025-01-11 is after today (2025-01-10)");
    sc_expect(s, emp, "bill", "{\"code_type\": \"non_peer\", \"service_on\": \"Jan 6\"}", CF_REJECTED);
    ASSERT_REASON(s, "service_on");
    sc_close(s);
}

/* ---------------------------------------------------------------- eligibility on a date of service */

/* prog_eligibility (program/eligibility.c) for the hire on day: the answer (a new reference). */
static json_t *elig(sc *s, const char *emp, const char *day)
{
    json_t *doc = NULL;
    char msg[1024];
    if (prog_eligibility(s->e, emp, day, &doc, msg, sizeof msg) != CF_OK)
        fail_msg("eligibility %s on %s: %s", emp, day, msg);
    assert_non_null(doc);
    return doc;
}

/* "peer,non_peer" as "yes"/"no", then the reasons joined by " | ". */
static const char *verdict(sc *s, const char *emp, const char *day)
{
    json_t *doc = elig(s, emp, day);
    char *reasons = json_dumps(json_object_get(doc, "reasons"), JSON_COMPACT);
    const char *out = jf("%s,%s %s", json_is_true(json_object_get(doc, "peer_codes")) ? "yes" : "no",
                         json_is_true(json_object_get(doc, "non_peer_codes")) ? "yes" : "no", reasons);
    free(reasons);
    json_decref(doc);
    return out;
}

/* EMP_2: peer codes from the day of certification, not the day before; nothing before
 * the hire date (seed 003); nothing from the day the certification is suspended. The
 * answer names the history rows it relied on. */
static void test_EMP_2_eligibility_day_before_and_day_of_certification(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *cert = approved_app(s, NULL);
    const char *emp = hire(s, "san_diego", "2025-01-02", cert);
    trained(s, cert);
    schedule(s, cert, "2025-02-10T17:00:00Z", "in_person");
    on_day(s, "2025-02-12");
    assert_int_equal(result(s, cert, "pass", 88, "2025-02-10"), CF_OK);
    on_day(s, "2025-03-10");
    sc_expect(s, cert, "suspend", "{\"reason\": \"complaint\"}", CF_OK);

    assert_string_equal(verdict(s, emp, "2025-01-01"),
                        "no,no [\"2025-01-01 is before the hire date 2025-01-02: no service before hiring is "
                        "complete\"]");
    const char *grace = verdict(s, emp, "2025-02-11");
    assert_non_null(strstr(grace, "no,no [\"peer codes: not certified yet on 2025-02-11 (certification: "
                                  "approved), inside the grace period after the hire on 2025-01-02"));
    assert_non_null(strstr(verdict(s, emp, "2025-02-12"), "yes,no [\"certified in good standing on 2025-02-12"));
    assert_non_null(strstr(verdict(s, emp, "2025-03-09"), "yes,no"));
    assert_non_null(strstr(verdict(s, emp, "2025-03-10"),
                           "no,no [\"peer codes: the certification was 'certified.suspended' on 2025-03-10"));

    /* The rows relied on: the employment's certification_granted and the certification's exam_result. */
    json_t *doc = elig(s, emp, "2025-02-12");
    json_t *rows = json_object_get(doc, "rows");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "event")), "certification_granted");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "event")), "exam_result");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "instance")), cert);
    json_int_t number = json_integer_value(json_object_get(json_array_get(rows, 1), "number"));
    json_decref(doc);
    assert_true(number > 1); /* the certification's own numbering, as `certflow history` shows it */

    /* Bad input: not an employment, no such id, not a date. */
    json_t *none = NULL;
    char msg[1024];
    assert_int_equal(prog_eligibility(s->e, cert, "2025-02-12", &none, msg, sizeof msg), CF_EINVAL);
    assert_non_null(strstr(msg, "give the id of its 'employment' instance"));
    assert_int_equal(prog_eligibility(s->e, "no-such-id", "2025-02-12", &none, msg, sizeof msg), CF_ENOTFOUND);
    assert_int_equal(prog_eligibility(s->e, emp, "2025-02-30", &none, msg, sizeof msg), CF_EINVAL);
    assert_null(none);
    sc_close(s);
}

/* EMP_1, EMP_3: the last day of the grace period and the day after; EMP_2: the Other
 * Qualified Provider route from the day it is recorded, specialty mental health only. */
static void test_EMP_2_eligibility_grace_end_and_other_qualified_provider(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *emp = sc_new(s, "employment", "san_diego",
                             "{\"name\": \"Ana Ruiz\", \"hired_on\": \"2025-01-01\", \"program_type\": \"smhs\"}");
    sc_expect(s, emp, "start", NULL, CF_OK);
    const char *dmc = sc_new(s, "employment", "san_diego",
                             "{\"name\": \"Bo Li\", \"hired_on\": \"2025-01-01\", \"program_type\": \"dmc_ods\"}");
    sc_expect(s, dmc, "start", NULL, CF_OK);
    on_day(s, "2025-01-15");
    const char *oqp = "{\"recorded_by\": \"program manager\", \"criteria\": \"OPOH Section M\"}";
    sc_expect(s, emp, "record_oqp", oqp, CF_OK);
    sc_expect(s, dmc, "record_oqp", oqp, CF_REJECTED); /* the OQP route is for SMHS only */
    sc_tick(s, "2025-04-02T07:00:00Z");
    assert_string_equal(sc_state(s, emp), "ehr_suspended");

    assert_non_null(strstr(verdict(s, emp, "2025-01-14"), "no,no"));
    assert_non_null(strstr(verdict(s, emp, "2025-01-15"),
                           "no,yes [\"peer codes: not certified yet on 2025-01-15 (certification: none linked)"));
    assert_non_null(strstr(verdict(s, emp, "2025-04-01"), "inside the grace period after the hire on 2025-01-01; "
                                                          "it ended on 2025-04-02"));
    assert_non_null(strstr(verdict(s, emp, "2025-04-02"),
                           "no,yes [\"peer codes: EHR access for peer services was suspended on 2025-04-02 (EMP_3)"));
    assert_non_null(strstr(verdict(s, dmc, "2025-01-15"), "no,no"));
    assert_non_null(strstr(verdict(s, dmc, "2025-01-15"), "a DMC-ODS program has only peer codes"));
    json_t *doc = elig(s, dmc, "2025-01-15");
    assert_string_equal(json_string_value(json_object_get(doc, "program_type")), "dmc_ods");
    json_decref(doc);

    /* separated on a day: that day is still worked, the next is not */
    on_day(s, "2025-05-01");
    sc_expect(s, emp, "end", "{\"reason\": \"resigned\"}", CF_OK);
    assert_non_null(strstr(verdict(s, emp, "2025-05-01"), "no,yes"));
    assert_non_null(strstr(verdict(s, emp, "2025-05-02"), "no,no [\"separated from the position on 2025-05-01"));
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EMP_2_program_type_dmc_ods_peer_codes_only_oqp_for_smhs),
        cmocka_unit_test(test_EMP_2_supervisor_linked_where_the_county_requires_one),
        cmocka_unit_test(test_EMP_2_no_service_before_the_hire_date),
        cmocka_unit_test(test_EMP_1_day_90_inside_day_91_suspends_ehr),
        cmocka_unit_test(test_EMP_1_cor_extension_moves_the_timer),
        cmocka_unit_test(test_EMP_1_certified_within_window_bills_peer_codes),
        cmocka_unit_test(test_EMP_1_hire_already_certified_or_not_yet_applied),
        cmocka_unit_test(test_EMP_1_real_certification_notifies_the_hire),
        cmocka_unit_test(test_EMP_1_county_overlays_set_the_grace_period),
        cmocka_unit_test(test_EMP_2_uncertified_bills_non_peer_only_with_oqp),
        cmocka_unit_test(test_EMP_3_certification_notified_restores_ehr_within_48_hours),
        cmocka_unit_test(test_EMP_3_restore_overdue_after_the_county_hours),
        cmocka_unit_test(test_EMP_3_separation_ends_billing),
        cmocka_unit_test(test_EMP_2_eligibility_day_before_and_day_of_certification),
        cmocka_unit_test(test_EMP_2_eligibility_grace_end_and_other_qualified_provider),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
