/* test_supervision.c — the shipped supervision workflow on a virtual clock: the three
 * supervisor qualification options (SUP_1) and the supervisory-training deadline after
 * starting to supervise (SUP_2): a DHCS standard, the same in every county. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "testutil.h"

#include <string.h>
#include <unistd.h>

static const char *supervisor(sc *s, const char *county)
{
    return sc_new(s, "supervision", county, "{\"name\": \"Lee Ortiz\", \"employer\": \"Recovery Center\"}");
}

static const char *TRAINING =
    "{\"dhcs_approved\": true, \"course\": \"Supervision of Peer Workers (CalMHSA)\", \"completed_on\": \"%s\"}";

/* ---------------------------------------------------------------- SUP_1 */

static void test_SUP_1_option_1_certified_peer_two_years(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    const char *id = supervisor(s, "san_diego");
    sc_expect(s, id, "qualify", "{\"option\": 1, \"certification_number\": \"CMPSS-000123\", \"bh_years\": 1.5}",
              CF_REJECTED);
    ASSERT_REASON_IS(s, "option 1 (certified peer): 1.5 years in behavioral health (bh_years); needs 2");
    sc_expect(s, id, "qualify", "{\"option\": 1, \"bh_years\": 3}", CF_REJECTED);
    ASSERT_REASON_IS(s, "option 1 (certified peer): no Medi-Cal Peer Support Specialist certification number "
                        "(certification_number)");
    sc_expect(s, id, "qualify", "{\"option\": 1, \"certification_number\": \"CMPSS-000123\", \"bh_years\": 2}", CF_OK);
    assert_string_equal(sc_state(s, id), "qualified");
    assert_string_equal(dget(s, id, "qualification.option"), "1");
    assert_string_equal(dget(s, id, "qualification.basis"), "certified peer");
    assert_string_equal(dget(s, id, "qualification.checked_on"), "2025-01-06");
    sc_close(s);
}

static void test_SUP_1_option_2_non_peer_professional_incl_sud_counselor(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    const char *id = supervisor(s, "san_diego");
    sc_expect(s, id, "qualify", "{\"option\": 2, \"profession\": \"peer mentor\", \"bh_years\": 5}", CF_REJECTED);
    ASSERT_REASON_IS(s, "option 2 (non-peer behavioral health professional): not recorded as a non-peer behavioral "
                        "health professional (bh_professional, or profession registered_sud_counselor or "
                        "certified_sud_counselor)");
    sc_expect(s, id, "qualify", "{\"option\": 2, \"profession\": \"registered_sud_counselor\", \"bh_years\": 1}",
              CF_REJECTED);
    ASSERT_REASON_IS(s, "option 2 (non-peer behavioral health professional): 1 years in behavioral health "
                        "(bh_years); needs 2");
    /* a registered SUD counselor counts as a non-peer professional (seed 002 C.1) */
    sc_expect(s, id, "qualify", "{\"option\": 2, \"profession\": \"registered_sud_counselor\", \"bh_years\": 2}",
              CF_OK);
    assert_string_equal(dget(s, id, "qualification.basis"), "non-peer behavioral health professional");
    const char *lcsw = supervisor(s, "san_diego");
    sc_expect(s, lcsw, "qualify", "{\"bh_professional\": true, \"profession\": \"LCSW\", \"bh_years\": 6}", CF_OK);
    assert_string_equal(dget(s, lcsw, "qualification.option"), "2");
    sc_close(s);
}

static void test_SUP_1_option_3_diploma_four_years_direct_service(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    const char *id = supervisor(s, "san_diego");
    sc_expect(s, id, "qualify", "{\"option\": 3, \"education\": \"ged\", \"direct_service_years\": 3.9}", CF_REJECTED);
    ASSERT_REASON_IS(s, "option 3 (high-school diploma or GED with direct service): 3.9 years of direct behavioral "
                        "health service (direct_service_years); needs 4");
    sc_expect(s, id, "qualify", "{\"option\": 3, \"education\": \"none\", \"direct_service_years\": 10}", CF_REJECTED);
    ASSERT_REASON_IS(s, "option 3 (high-school diploma or GED with direct service): no high-school diploma or GED "
                        "recorded (education)");
    sc_expect(s, id, "qualify", "{\"option\": 4}", CF_REJECTED);
    ASSERT_REASON_IS(s, "there is no qualification option 4 (options are 1, 2 and 3)");
    /* without an option named, every option is tried and every shortfall is said */
    sc_expect(s, id, "qualify", "{\"education\": \"high_school\", \"direct_service_years\": 2, \"bh_years\": 2}",
              CF_REJECTED);
    ASSERT_REASON_IS(s, "meets no supervisor qualification option: option 1 (certified peer): no Medi-Cal Peer "
                        "Support Specialist certification number (certification_number); option 2 (non-peer "
                        "behavioral health professional): not recorded as a non-peer behavioral health professional "
                        "(bh_professional, or profession registered_sud_counselor or certified_sud_counselor); "
                        "option 3 (high-school diploma or GED with direct service): 2 years of direct behavioral "
                        "health service (direct_service_years); needs 4");
    sc_expect(s, id, "qualify", "{\"education\": \"high_school\", \"direct_service_years\": 4}", CF_OK);
    assert_string_equal(dget(s, id, "qualification.option"), "3");
    /* the training is part of every option: a training that is not DHCS-approved does not count */
    sc_expect(s, id, "record_training", "{\"completed_on\": \"2025-01-02\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "the supervisory training must be DHCS-approved (dhcs_approved)");
    sc_expect(s, id, "record_training", jf(TRAINING, "2025-01-07"), CF_REJECTED);
    ASSERT_REASON_IS(s, "the training completion date 2025-01-07 is after today (2025-01-06)");
    sc_expect(s, id, "record_training", jf(TRAINING, "2025-01-02"), CF_OK);
    /* trained before starting: supervising starts active, no deadline */
    sc_expect(s, id, "start_supervising", NULL, CF_OK);
    assert_string_equal(sc_state(s, id), "active");
    assert_string_equal(dget(s, id, "training_due_on"), "");
    sc_close(s);
}

/* ---------------------------------------------------------------- SUP_2 */

static void test_SUP_2_day_60_on_time_day_61_overdue(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-06"), NULL);
    const char *late = supervisor(s, "san_diego");
    const char *ontime = supervisor(s, "san_diego");
    const char *q = "{\"certification_number\": \"CMPSS-000123\", \"bh_years\": 3}";
    sc_expect(s, late, "qualify", q, CF_OK);
    sc_expect(s, ontime, "qualify", q, CF_OK);
    on_day(s, "2025-01-10");
    sc_expect(s, late, "start_supervising", NULL, CF_OK);
    sc_expect(s, ontime, "start_supervising", NULL, CF_OK);
    /* billing may begin before the training is finished */
    assert_string_equal(sc_state(s, late), "training_due");
    assert_string_equal(dget(s, late, "billing_allowed"), "true");
    assert_string_equal(dget(s, late, "training_due_on"), "2025-03-11");
    assert_int_equal(sc_int(s, late, "training_days"), 60);

    /* day 60 (2025-03-11): still on time */
    assert_int_equal(sc_tick(s, noon("2025-03-11")), 0);
    sc_expect(s, ontime, "record_training", jf(TRAINING, "2025-03-11"), CF_OK);
    assert_string_equal(sc_state(s, ontime), "active");
    assert_string_equal(dget(s, ontime, "training_late_days"), "");
    assert_string_equal(sc_state(s, late), "training_due");

    /* day 61 starts: overdue, reported */
    assert_int_equal(sc_tick(s, "2025-03-12T07:00:00Z"), 1);
    assert_string_equal(sc_state(s, late), "overdue");
    assert_string_equal(dget(s, late, "training_overdue_since"), "2025-03-12");
    assert_string_equal(dget(s, late, "overdue_reason"),
                        "supervisory training was due by 2025-03-11 (60 days after starting to supervise on "
                        "2025-01-10) and is not recorded");
    assert_string_equal(dget(s, late, "billing_allowed"), "true");
    assert_string_equal(sc_state(s, ontime), "active");

    /* stopping and starting again does not reset the deadline */
    sc_expect(s, late, "stop_supervising", NULL, CF_OK);
    on_day(s, "2025-04-01");
    sc_expect(s, late, "start_supervising", NULL, CF_OK);
    assert_string_equal(dget(s, late, "training_due_on"), "2025-03-11");
    assert_int_equal(sc_tick(s, noon("2025-04-01")), 1);
    assert_string_equal(sc_state(s, late), "overdue");

    /* done late: active, with the days late on record */
    on_day(s, "2025-04-03");
    sc_expect(s, late, "record_training", jf(TRAINING, "2025-04-02"), CF_OK);
    assert_string_equal(sc_state(s, late), "active");
    assert_int_equal(sc_int(s, late, "training_late_days"), 22);
    sc_close(s);
}

/* SUP_2 is a DHCS standard (seed 000): 60 days in every county, the example county
 * (which overrides the county-side timelines) included, and no overlay may change it. */
static void test_SUP_2_sixty_days_statewide_not_county_overridable(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-10"), NULL);
    const char *ex = supervisor(s, "example");
    const char *none = supervisor(s, "kern"); /* no overlay */
    const char *q = "{\"bh_professional\": true, \"bh_years\": 3}";
    sc_expect(s, ex, "qualify", q, CF_OK);
    sc_expect(s, none, "qualify", q, CF_OK);
    sc_expect(s, ex, "start_supervising", NULL, CF_OK);
    sc_expect(s, none, "start_supervising", NULL, CF_OK);
    assert_string_equal(dget(s, ex, "training_due_on"), "2025-03-11");
    assert_string_equal(dget(s, none, "training_due_on"), "2025-03-11");
    /* day 60 is inside for both; day 61 starts overdue for both */
    assert_int_equal(sc_tick(s, noon("2025-03-11")), 0);
    assert_string_equal(sc_state(s, ex), "training_due");
    assert_int_equal(sc_tick(s, "2025-03-12T08:00:00Z"), 2);
    assert_string_equal(sc_state(s, none), "overdue");
    assert_string_equal(sc_state(s, ex), "overdue");
    sc_close(s);

    /* an overlay that sets it is refused when the engine opens */
    char *dir = cft_tmpdir();
    char *policy = cft_path(dir, "policy");
    assert_int_equal(symlink(CF_SOURCE_DIR "/lua/policy", policy), 0);
    free(cft_write(dir, "counties/kern.lua", "return { params = { supervisor_training_days = 90 } }\n"));
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_SOURCE_DIR "/workflows";
    o.policy_dir = dir;
    cf_engine *e = NULL;
    assert_int_equal(cft_engine_open(":memory:", &o, &e), CF_EPOLICY);
    if (!strstr(cf_errmsg(e), "a county may not override 'supervisor_training_days'"))
        fail_msg("SUP_2: %s", cf_errmsg(e));
    cf_engine_close(e);
    free(policy);
    cft_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_SUP_1_option_1_certified_peer_two_years),
        cmocka_unit_test(test_SUP_1_option_2_non_peer_professional_incl_sud_counselor),
        cmocka_unit_test(test_SUP_1_option_3_diploma_four_years_direct_service),
        cmocka_unit_test(test_SUP_2_day_60_on_time_day_61_overdue),
        cmocka_unit_test(test_SUP_2_sixty_days_statewide_not_county_overridable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
