/*
 * test_plugin_notices.c — the notices plugin through whole lifecycles on the
 * virtual clock: notices appear on the days the shipped workflows' timers fire
 * or states are entered (REN_4 renewal window and approaching expiry, EMP_1 end
 * of the grace period, SUP_2 supervisor training, DIS_5 overdue investigation),
 * from their templates, and are listed and marked sent (query and command).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plugin_helpers.h"

#include <string.h>

/* The outbox (notices.list with args), new reference. */
static json_t *outbox(sc *s, const char *args)
{
    return sc_query(s, "notices.list", args);
}

static const char *field(json_t *rows, size_t i, const char *key)
{
    json_t *v = json_object_get(json_array_get(rows, i), key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static void test_REN_4_renewal_window_and_expiry_notices_on_their_days(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    assert_string_equal(dget(s, id, "expires_on"), "2026-04-04");
    /* the window opens 90 days before the expiry: not on day 91 before it */
    tick_day(s, "2026-01-03");
    json_t *n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 0);
    json_decref(n);
    tick_day(s, "2026-01-04");
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(field(n, 0, "type"), "renewal_window_open");
    assert_string_equal(field(n, 0, "recipient"), "person");
    assert_string_equal(field(n, 0, "recipient_name"), "Ana Ruiz");
    assert_string_equal(field(n, 0, "date"), "2026-04-04");
    assert_string_equal(field(n, 0, "county"), "san_diego");
    assert_string_equal(field(n, 0, "status"), "pending");
    assert_memory_equal(field(n, 0, "created"), "2026-01-04", 10);
    assert_string_equal(field(n, 0, "text"),
                        jf("Dear Ana Ruiz, you may now renew certification %s: submit your renewal by 2026-04-04, "
                           "its expiry date.",
                           dget(s, id, "certification_number")));
    json_decref(n);
    /* approaching expiry: 30 days before (expiry_notice_days) */
    tick_day(s, "2026-03-04");
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 1);
    json_decref(n);
    tick_day(s, "2026-03-05");
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 2);
    assert_string_equal(field(n, 1, "type"), "expiry_approaching");
    assert_non_null(strstr(field(n, 1, "text"), "expires on 2026-04-04"));
    json_int_t first = json_integer_value(json_object_get(json_array_get(n, 0), "id"));
    json_int_t second = json_integer_value(json_object_get(json_array_get(n, 1), "id"));
    json_decref(n);

    /* marked sent: the rest stays pending; again: reported as already sent */
    json_t *m = sc_query(s, "notices.mark_sent", jf("{\"ids\": [%lld]}", (long long)first));
    assert_int_equal(json_array_size(json_object_get(m, "marked")), 1);
    json_decref(m);
    n = outbox(s, "{\"status\": \"pending\"}");
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(field(n, 0, "type"), "expiry_approaching");
    json_decref(n);
    n = outbox(s, "{\"status\": \"sent\"}");
    assert_int_equal(json_array_size(n), 1);
    assert_memory_equal(field(n, 0, "sent"), "2026-03-05", 10);
    json_decref(n);
    m = sc_query(s, "notices.mark_sent", jf("{\"ids\": [%lld]}", (long long)first));
    assert_int_equal(json_array_size(json_object_get(m, "marked")), 0);
    assert_int_equal(json_array_size(json_object_get(m, "already_sent")), 1);
    json_decref(m);
    /* an unknown id marks nothing, not even the good one */
    char *answer = NULL;
    assert_int_equal(cf_plugin_query(s->e, "notices.mark_sent", jf("{\"ids\": [%lld, 999]}", (long long)second),
                                     &answer),
                     CF_EPLUGIN);
    assert_null(answer);
    assert_non_null(strstr(cf_errmsg(s->e), "there is no notice 999"));
    n = outbox(s, "{\"status\": \"pending\"}");
    assert_int_equal(json_array_size(n), 1);
    json_decref(n);

    /* renewed: the next cycle's notices come two years later, once each */
    on_day(s, "2026-03-10");
    sc_expect(s, id, "renew",
              jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2026-01-05\", \"fee_paid\": 80}",
                 ce(20, "2025-01-10", 6, "2025-02-01")),
              CF_OK);
    tick_day(s, "2028-01-04");
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 2);
    json_decref(n);
    tick_day(s, "2028-01-05"); /* 2028-04-04 less 90 days (a leap year) */
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 3);
    assert_string_equal(field(n, 2, "date"), "2028-04-04");
    json_decref(n);
    sc_close(s);
}

static void test_EMP_1_grace_period_ending_notice_to_the_county(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-01"), NULL);
    const char *emp = sc_new(s, "employment", "san_diego",
                             "{\"name\": \"Ben Ortiz\", \"hired_on\": \"2025-01-01\", \"program\": \"Recovery Center\"}");
    json_t *n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 0); /* hired, not started */
    json_decref(n);
    sc_expect(s, emp, "start", NULL, CF_OK);
    n = outbox(s, "{\"county\": \"san_diego\"}");
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(field(n, 0, "type"), "grace_period_ending");
    assert_string_equal(field(n, 0, "recipient"), "county");
    assert_string_equal(field(n, 0, "date"), "2025-04-01");
    assert_string_equal(field(n, 0, "text"),
                        jf("san_diego: the grace period of Ben Ortiz (employment %s) ends on 2025-04-01. Without "
                           "certification by then, EHR access for peer services is suspended.",
                           emp));
    json_decref(n);
    n = outbox(s, "{\"county\": \"alameda\"}");
    assert_int_equal(json_array_size(n), 0);
    json_decref(n);
    /* a COR extension: the county hears the new date */
    on_day(s, "2025-03-20");
    sc_expect(s, emp, "extend", "{\"approved_by\": \"COR J. Park\", \"new_date\": \"2025-05-01\", \"reason\": \"exam\"}",
              CF_OK);
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 2);
    assert_string_equal(field(n, 1, "date"), "2025-05-01");
    json_decref(n);
    sc_close(s);
}

static void test_SUP_2_supervisor_training_due_notice(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-02-03"), NULL);
    const char *sup = sc_new(s, "supervision", "san_diego", "{\"name\": \"Grace Lee\", \"employer\": \"SD BHS\"}");
    sc_expect(s, sup, "qualify", "{\"option\": 3, \"education\": \"high_school\", \"direct_service_years\": 6}", CF_OK);
    sc_expect(s, sup, "start_supervising", NULL, CF_OK);
    assert_string_equal(sc_state(s, sup), "training_due");
    json_t *n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(field(n, 0, "type"), "supervisor_training_due");
    assert_string_equal(field(n, 0, "date"), dget(s, sup, "training_due_on"));
    assert_string_equal(field(n, 0, "date"), "2025-04-04");
    assert_string_equal(field(n, 0, "text"), "Dear Grace Lee, complete a DHCS-approved supervisory training by 2025-04-04.");
    json_decref(n);
    sc_close(s);
}

static void test_DIS_5_investigation_overdue_notice_on_day_91(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-02-03"), NULL);
    const char *cert = certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    on_day(s, "2025-02-03");
    const char *c = sc_new(s, "complaint", "san_diego",
                           jf("{\"certification_id\": \"%s\", \"respondent\": \"Ana Ruiz\", \"complainant\": \"R. "
                              "Gomez\", \"summary\": \"boundary violation\", \"incident_on\": \"2025-01-10\", "
                              "\"certification_held_from\": \"2024-04-04\"}",
                              cert));
    sc_expect(s, c, "acknowledge", NULL, CF_OK);
    sc_expect(s, c, "accept", NULL, CF_OK);
    assert_string_equal(dget(s, c, "review_due_on"), "2025-05-04");
    tick_day(s, "2025-05-04");
    json_t *n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 0);
    json_decref(n);
    tick_day(s, "2025-05-05");
    n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(field(n, 0, "type"), "investigation_overdue");
    assert_string_equal(field(n, 0, "text"),
                        jf("san_diego: the investigation of complaint %s about Ana Ruiz was due on 2025-05-04 and "
                           "is overdue.",
                           c));
    json_decref(n);
    sc_close(s);
}

/* Templates come from the configuration; the defaults stay for the other types. */
static void test_REN_4_configured_template(void **state)
{
    (void)state;
    sc *s = sc_open_config(noon("2024-03-02"), NULL,
                           "{\"notices\": {\"templates\": {\"renewal_window_open\": \"{name}: renew {number} by "
                           "{date} ({county}, {unknown})\"}}}");
    const char *id = certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    tick_day(s, "2026-03-05");
    json_t *n = outbox(s, NULL);
    assert_int_equal(json_array_size(n), 2);
    assert_string_equal(field(n, 0, "text"),
                        jf("Ana Ruiz: renew %s by 2026-04-04 (san_diego, {unknown})", dget(s, id, "certification_number")));
    assert_non_null(strstr(field(n, 1, "text"), "expires on 2026-04-04"));
    json_decref(n);
    sc_close(s);
}

/* The command: certflow notices [--status] [--county], notices mark-sent ID... */
static void test_REN_4_notices_command(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    tick_day(s, "2026-03-05");
    cft_run r = run_cli(s, noon("2026-03-06"), "notices", "--status", "pending", "--county", "san_diego", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "renewal_window_open"));
    assert_non_null(strstr(r.out, "expiry_approaching"));
    assert_non_null(strstr(r.out, "person Ana Ruiz"));
    cft_run_free(&r);
    r = run_cli(s, noon("2026-03-06"), "notices", "mark-sent", "1", "2", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "marked sent: 1 2\n");
    cft_run_free(&r);
    r = run_cli(s, noon("2026-03-06"), "notices", "--status", "pending", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "no notices\n");
    cft_run_free(&r);
    r = run_cli(s, noon("2026-03-06"), "--json", "notices", "--status", "sent", NULL);
    json_t *rows = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(field(rows, 0, "sent"), "2026-03-06T20:00:00Z");
    json_decref(rows);
    cft_run_free(&r);
    r = run_cli(s, noon("2026-03-06"), "notices", "mark-sent", "77", NULL);
    assert_int_equal(r.code, 3);
    assert_non_null(strstr(r.err, "there is no notice 77"));
    cft_run_free(&r);
    r = run_cli(s, noon("2026-03-06"), "notices", "--status", "lost", NULL);
    assert_int_equal(r.code, 2);
    cft_run_free(&r);
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_REN_4_renewal_window_and_expiry_notices_on_their_days),
        cmocka_unit_test(test_EMP_1_grace_period_ending_notice_to_the_county),
        cmocka_unit_test(test_SUP_2_supervisor_training_due_notice),
        cmocka_unit_test(test_DIS_5_investigation_overdue_notice_on_day_91),
        cmocka_unit_test(test_REN_4_configured_template),
        cmocka_unit_test(test_REN_4_notices_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
