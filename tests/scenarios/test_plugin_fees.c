/*
 * test_plugin_fees.c — the fees plugin through whole certification lifecycles
 * on the virtual clock: every fee charged separately into the ledger with its
 * payer and scholarship cover (FEE_1, APP_6, EX_1, EX_8, REN_4, REN_7, SCH_1),
 * never refunded or changed, and the statement and balance queries and commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plugin_helpers.h"

#include "sqlite_peek.h"
#include <string.h>

/* The CE and ethics a renewal or reinstatement needs, and a fee paid with it. */
static const char *renewal_data(const char *ce_json, int fee)
{
    return jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2026-01-05\", \"fee_paid\": %d}",
              ce_json, fee);
}

/* Applies (a scholarship covers the application fee), fails once, retakes, passes,
 * misses the renewal, expires and is reinstated: six fees, exactly. */
static void test_FEE_1_APP_6_EX_1_EX_8_REN_7_SCH_1_lifecycle_fees_add_up(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = new_applicant(s, NULL);
    const char *award = award_to(s, id, "SAPC24", NULL, NULL);
    sc_expect(s, id, "submit", jf("{\"covered_by\": \"%s\"}", award), CF_OK); /* SCH_1 */
    assert_int_equal(fcount(s, id), 1);
    sc_expect(s, id, "approve", NULL, CF_OK);
    trained(s, id);
    schedule(s, id, "2024-04-02T17:00:00Z", "in_person"); /* EX_1 */
    on_day(s, "2024-04-02");
    assert_int_equal(result(s, id, "fail", 61, "2024-04-02"), CF_OK);
    on_day(s, "2024-04-05");
    retake(s, id); /* EX_8 */
    schedule(s, id, "2024-05-06T17:00:00Z", "online"); /* the retake fee covers this attempt */
    on_day(s, "2024-05-06");
    assert_int_equal(result(s, id, "pass", 90, "2024-05-06"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_int_equal(fcount(s, id), 3);

    /* too late to renew: expired the day after 2026-05-06 (REN_4, REN_6); a refused renewal costs nothing */
    tick_day(s, "2026-05-08");
    assert_string_equal(sc_state(s, id), "expired");
    sc_expect(s, id, "renew", renewal_data(ce(20, "2026-01-10", 6, "2026-02-01"), 80), CF_REJECTED);
    assert_int_equal(fcount(s, id), 3);
    /* reinstated with both fees (REN_7): reinstatement and renewal, each its own entry */
    on_day(s, "2026-06-01");
    sc_expect(s, id, "reinstate", renewal_data(ce(20, "2026-01-10", 6, "2026-02-01"), 159), CF_REJECTED);
    ASSERT_REASON(s, "the reinstatement fee plus renewal fee of $160 is not paid (fee_paid: $159)");
    assert_int_equal(fcount(s, id), 3);
    sc_expect(s, id, "reinstate", renewal_data(ce(20, "2026-01-10", 6, "2026-02-01"), 160), CF_OK);

    assert_string_equal(fget(s, id, ""),
                        "[{\"amount\":100,\"covered_by\":\"SAPC24-0001\",\"on\":\"2024-03-02\",\"type\":\"application\"},"
                        "{\"amount\":150,\"on\":\"2024-03-02\",\"type\":\"exam\"},"
                        "{\"amount\":150,\"on\":\"2024-04-05\",\"type\":\"retake\"},"
                        "{\"amount\":80,\"on\":\"2026-06-01\",\"type\":\"reinstatement\"},"
                        "{\"amount\":80,\"on\":\"2026-06-01\",\"type\":\"renewal\"}]");
    json_t *st = sc_query(s, "fees.statement", jf("{\"instance\": \"%s\"}", id));
    assert_int_equal(json_integer_value(json_object_get(st, "charged_cents")), 56000);
    assert_int_equal(json_integer_value(json_object_get(st, "covered_cents")), 10000);
    assert_int_equal(json_integer_value(json_object_get(st, "paid_cents")), 46000);
    json_t *first = json_array_get(json_object_get(st, "entries"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "payer")), "Ana Ruiz");
    assert_string_equal(json_string_value(json_object_get(first, "reason")), "application fee (APP_6)");
    assert_string_equal(json_string_value(json_object_get(first, "event")), "submit");
    json_decref(st);
    json_t *bal = sc_query(s, "fees.balance", jf("{\"instance\": \"%s\"}", id));
    char *text = json_dumps(json_object_get(bal, "by_type_cents"), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"application\":10000,\"exam\":15000,\"reinstatement\":8000,\"renewal\":8000,"
                              "\"retake\":15000}");
    free(text);
    assert_int_equal(json_integer_value(json_object_get(bal, "fees")), 5);
    json_decref(bal);
    /* the instance data keeps no copy: the ledger is the record */
    assert_string_equal(dget(s, id, "fees"), "");
    assert_string_equal(dget(s, id, "fees_due"), "");
    sc_close(s);
}

/* FEE_1: the ledger refuses changes and deletions, whoever tries; a withdrawal refunds nothing. */
static void test_FEE_1_ledger_never_refunds_or_changes(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-02-03"), NULL);
    const char *id = new_applicant(s, NULL);
    submit(s, id);
    sc_expect(s, id, "withdraw", NULL, CF_OK);
    assert_string_equal(dget(s, id, "fees_forfeited"), "true");
    assert_int_equal(fcount(s, id), 1);

    char *path = cft_path(s->dir, "scenario.db");
    if (cft_pg()) { /* the plugin's schema on PostgreSQL: its trigger refuses whoever tries */
        assert_false(cft_pg_sql(path, "UPDATE fees.fees_ledger SET amount = 0"));
        assert_false(cft_pg_sql(path, "DELETE FROM fees.fees_ledger"));
        assert_true(cft_pg_sql(path, "DO $$BEGIN IF (SELECT count(*) FROM fees.fees_ledger WHERE amount = 10000) <> 1"
                                     " THEN RAISE EXCEPTION 'changed'; END IF; END$$"));
        free(path);
        assert_string_equal(fget(s, id, "0.amount"), "100");
        sc_close(s);
        return;
    }
    char *err = cft_sql_refusal(path, "UPDATE fees_ledger SET amount = 0");
    assert_non_null(err);
    assert_non_null(strstr(err, "append-only"));
    free(err);
    err = cft_sql_refusal(path, "DELETE FROM fees_ledger");
    assert_non_null(err);
    assert_non_null(strstr(err, "never changed, refunded or transferred (FEE_1)"));
    free(err);
    free(path);
    assert_string_equal(fget(s, id, "0.amount"), "100");
    sc_close(s);
}

/* APP_6, FEE_1: a rejected event charges nothing; a fee is charged once per event. */
static void test_APP_6_rejected_submission_charges_nothing(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-02-03"), NULL);
    const char *id = new_applicant(s, NULL);
    sc_expect(s, id, "submit", "{\"fee_paid\": 99}", CF_REJECTED);
    assert_int_equal(fcount(s, id), 0);
    sc_expect(s, id, "submit", "{\"fee_paid\": 100}", CF_OK);
    assert_int_equal(fcount(s, id), 1);
    /* a reciprocity applicant may not use a scholarship (SCH_1): refused, nothing charged */
    const char *other = new_applicant(s, "{\"pathway\": \"reciprocity\"}");
    sc_expect(s, other, "submit", "{\"covered_by\": \"SAPC24-0001\"}", CF_REJECTED);
    assert_int_equal(fcount(s, other), 0);
    sc_close(s);
}

/* REN_4: a renewal in the window charges the renewal fee once, on the day. */
static void test_REN_4_renewal_fee_charged_in_window(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    on_day(s, "2026-03-01");
    sc_expect(s, id, "renew", renewal_data(ce(20, "2025-01-10", 6, "2025-02-01"), 80), CF_OK);
    assert_int_equal(fcount(s, id), 3);
    assert_string_equal(fget(s, id, "2"), "{\"amount\":80,\"on\":\"2026-03-01\",\"type\":\"renewal\"}");
    sc_close(s);
}

/* The commands: certflow fees statement ID, fees balance [ID]. */
static void test_FEE_1_fees_commands(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    trained(s, id);
    schedule(s, id, "2024-04-02T17:00:00Z", "in_person");
    cft_run r = run_cli(s, noon("2024-03-03"), "fees", "statement", id, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "application"));
    assert_non_null(strstr(r.out, "$100.00"));
    assert_non_null(strstr(r.out, "$150.00"));
    assert_non_null(strstr(r.out, "charged $250.00, covered by scholarships $0.00, paid $250.00"));
    cft_run_free(&r);
    r = run_cli(s, noon("2024-03-03"), "--json", "fees", "balance", NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "charged_cents")), 25000);
    json_decref(doc);
    cft_run_free(&r);
    r = run_cli(s, noon("2024-03-03"), "fees", "statement", "00000000-0000-4000-8000-000000000000", NULL);
    assert_int_equal(r.code, 3);
    cft_run_free(&r);
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_FEE_1_APP_6_EX_1_EX_8_REN_7_SCH_1_lifecycle_fees_add_up),
        cmocka_unit_test(test_FEE_1_ledger_never_refunds_or_changes),
        cmocka_unit_test(test_APP_6_rejected_submission_charges_nothing),
        cmocka_unit_test(test_REN_4_renewal_fee_charged_in_window),
        cmocka_unit_test(test_FEE_1_fees_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
