/* test_complaint.c — the shipped complaint workflow on a virtual clock: intake and
 * investigation (DIS_1), outcomes reaching the certification (DIS_2), the appeal (DIS_3),
 * the record of every step (DIS_4), the acknowledgement and investigation clocks with one
 * extension (DIS_5), the filing limits (DIS_6) and what may be appealed (DIS_7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"

/* A complaint received now against cert about an incident, with the certification's dates
 * as copied at filing (held_until NULL while it is held). */
static const char *complaint(sc *s, const char *cert, const char *incident, const char *held_from,
                             const char *held_until)
{
    const char *until = held_until ? jf(", \"certification_held_until\": \"%s\"", held_until) : "";
    return sc_new(s, "complaint", "san_diego",
                  jf("{\"certification_id\": \"%s\", \"respondent\": \"Ana Ruiz\", \"complainant\": \"R. Gomez\", "
                     "\"summary\": \"boundary violation\", \"incident_on\": \"%s\", "
                     "\"certification_held_from\": \"%s\"%s}",
                     cert, incident, held_from, until));
}

/* A complaint acknowledged and accepted today, investigating. */
static void accept(sc *s, const char *id)
{
    sc_expect(s, id, "acknowledge", NULL, CF_OK);
    sc_expect(s, id, "accept", NULL, CF_OK);
    assert_string_equal(sc_state(s, id), "investigating");
}

static const char *FINDINGS = "{\"findings\": \"violated the Code of Ethics, section 4\"}";
/* A suspension has its term (DIS_2): here through the end of 2026. */
static const char *SUSPENSION =
    "{\"findings\": \"violated the Code of Ethics, section 4\", \"suspended_until\": \"2026-12-31\"}";

/* A certification issued on 2025-02-12 (approved 2025-01-02, exam 2025-02-10). */
static const char *certified(sc *s)
{
    return certified_on(s, "2025-01-02", "2025-02-10T17:00:00Z", "2025-02-12");
}

/* ---------------------------------------------------------------- DIS_1, DIS_4 */

static int count_rows(void *ud, const cf_history_entry *h)
{
    json_t *list = ud;
    json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "event", h->event, "outcome", h->outcome, "to", h->to_state));
    return 0;
}

static void test_DIS_1_DIS_4_received_recorded_investigated_on_record(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-05"), NULL);
    const char *cert = sc_new(s, "certification", "san_diego", "{\"name\": \"Ana Ruiz\"}");
    const char *id = complaint(s, cert, "2025-02-20", "2024-05-01", NULL);
    assert_string_equal(sc_state(s, id), "received");
    assert_string_equal(dget(s, id, "received_on"), "2025-03-05");
    assert_string_equal(dget(s, id, "steps.0.step"), "received");
    assert_string_equal(dget(s, id, "steps.0.note"), "boundary violation");
    accept(s, id);
    sc_expect(s, id, "dismiss", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "record the findings behind the decision (findings)");
    on_day(s, "2025-04-20");
    sc_expect(s, id, "dismiss", "{\"findings\": \"not substantiated\"}", CF_OK);
    assert_string_equal(sc_state(s, id), "dismissed");
    assert_string_equal(dget(s, id, "outcome"), "dismissed");
    assert_string_equal(dget(s, id, "decided_on"), "2025-04-20");

    /* DIS_4: every step in the data and in the history, refusals included */
    assert_int_equal(dlen(s, id, "steps"), 4);
    assert_string_equal(dget(s, id, "steps.1.step"), "acknowledged");
    assert_string_equal(dget(s, id, "steps.2.step"), "accepted");
    assert_string_equal(dget(s, id, "steps.3.step"), "dismissed");
    assert_string_equal(dget(s, id, "steps.3.note"), "not substantiated");
    assert_string_equal(dget(s, id, "steps.3.by"), "scenario");
    json_t *rows = json_array();
    assert_int_equal(cf_instance_history(s->e, id, count_rows, rows), CF_OK);
    char *text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(text, "[{\"event\":\"\",\"outcome\":\"created\",\"to\":\"received\"},"
                              "{\"event\":\"acknowledge\",\"outcome\":\"applied\",\"to\":\"acknowledged\"},"
                              "{\"event\":\"accept\",\"outcome\":\"applied\",\"to\":\"investigating\"},"
                              "{\"event\":\"dismiss\",\"outcome\":\"rejected\",\"to\":\"investigating\"},"
                              "{\"event\":\"dismiss\",\"outcome\":\"applied\",\"to\":\"dismissed\"}]");
    free(text);
    json_decref(rows);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(s->e, &rep), CF_OK);
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS_2 */

static void test_DIS_2_outcomes_reach_the_certification(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s);
    const char *b = certified(s);
    const char *c = certified(s);
    on_day(s, "2025-03-05");
    const char *ca = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    const char *sus = complaint(s, b, "2025-03-01", "2025-02-12", NULL);
    const char *rev = complaint(s, c, "2025-03-01", "2025-02-12", NULL);
    accept(s, ca);
    accept(s, sus);
    accept(s, rev);
    on_day(s, "2025-04-01");
    sc_expect(s, ca, "corrective_action",
              "{\"findings\": \"late notes\", \"corrective_action\": \"ethics class, 6 hours\"}", CF_OK);
    assert_string_equal(sc_state(s, ca), "corrective_action_ordered");
    assert_string_equal(dget(s, ca, "corrective_action"), "ethics class, 6 hours");
    assert_string_equal(sc_state(s, a), "certified.active"); /* recorded there, status unchanged */
    sc_expect(s, sus, "suspend", SUSPENSION, CF_OK);
    assert_string_equal(sc_state(s, sus), "suspended");
    assert_string_equal(dget(s, sus, "outcome"), "suspension");
    assert_string_equal(sc_state(s, b), "certified.suspended");
    sc_expect(s, rev, "revoke", FINDINGS, CF_OK);
    assert_string_equal(sc_state(s, rev), "revoked");
    assert_string_equal(dget(s, rev, "outcome"), "revocation");
    assert_string_equal(sc_state(s, c), "revoked");
    /* the corrective action is completed and the complaint closed */
    on_day(s, "2025-05-01");
    sc_expect(s, ca, "corrective_action_completed", NULL, CF_OK);
    assert_string_equal(sc_state(s, ca), "closed");
    assert_string_equal(dget(s, ca, "corrective_action_completed_on"), "2025-05-01");
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS_3 */

static void test_DIS_3_appeal_day_30_ok_day_31_refused(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s);
    const char *b = certified(s);
    on_day(s, "2025-03-05");
    const char *ok = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    const char *late = complaint(s, b, "2025-03-01", "2025-02-12", NULL);
    accept(s, ok);
    accept(s, late);
    on_day(s, "2025-06-10");
    sc_expect(s, ok, "suspend", SUSPENSION, CF_OK);
    sc_expect(s, late, "revoke", FINDINGS, CF_OK);

    /* day 30 after the decision: the appeal is received and its clocks start (DIS_5) */
    on_day(s, "2025-07-10");
    sc_expect(s, ok, "appeal", "{\"filed_by\": \"Ana Ruiz\", \"grounds\": \"new evidence\"}", CF_OK);
    assert_string_equal(sc_state(s, ok), "appealed");
    assert_string_equal(dget(s, ok, "appeal.action"), "suspension");
    assert_string_equal(dget(s, ok, "appeal.received_on"), "2025-07-10");
    assert_string_equal(dget(s, ok, "appeal.ack_due_on"), "2025-07-17");
    assert_string_equal(dget(s, ok, "appeal.review_due_on"), "2025-10-08");

    /* day 31: the window closes at its start (a step on record), and the appeal is refused */
    assert_int_equal(sc_tick(s, "2025-07-11T07:00:00Z"), 1);
    assert_string_equal(sc_state(s, late), "revoked");
    assert_string_equal(dget(s, late, "appeal_window_closed_on"), "2025-07-11");
    on_day(s, "2025-07-11");
    sc_expect(s, late, "appeal", "{\"filed_by\": \"Ana Ruiz\"}", CF_REJECTED);
    ASSERT_REASON_IS(s, "the appeal window closed on 2025-07-10 (30 days after the decision on 2025-06-10)");

    /* overturned: the certification is restored to its status before the action */
    assert_string_equal(sc_state(s, a), "certified.suspended");
    on_day(s, "2025-08-01");
    sc_expect(s, ok, "overturn", "{\"findings\": \"the evidence does not support the finding\"}", CF_OK);
    assert_string_equal(sc_state(s, ok), "overturned");
    assert_string_equal(dget(s, ok, "appeal.outcome"), "overturned");
    assert_string_equal(sc_state(s, a), "certified.active");
    sc_close(s);
}

static void test_DIS_3_appeal_upheld_keeps_the_action(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s);
    on_day(s, "2025-03-05");
    const char *id = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    accept(s, id);
    on_day(s, "2025-04-01");
    sc_expect(s, id, "revoke", FINDINGS, CF_OK);
    on_day(s, "2025-04-02");
    sc_expect(s, id, "appeal", NULL, CF_OK);
    sc_expect(s, id, "uphold", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "record the findings behind the decision (findings)");
    sc_expect(s, id, "uphold", "{\"findings\": \"the revocation stands\"}", CF_OK);
    assert_string_equal(sc_state(s, id), "upheld");
    assert_string_equal(dget(s, id, "appeal.outcome"), "upheld");
    assert_string_equal(dget(s, id, "outcome"), "revocation");
    assert_string_equal(sc_state(s, a), "revoked");
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS_5 */

static void test_DIS_5_ack_5th_business_day_ok_6th_overdue(void **state)
{
    (void)state;
    /* received on Wednesday 2025-03-05: the 5th business day is Wednesday 2025-03-12 */
    sc *s = sc_open(noon("2025-03-05"), NULL);
    const char *cert = sc_new(s, "certification", "san_diego", "{\"name\": \"Ana Ruiz\"}");
    const char *ontime = complaint(s, cert, "2025-02-20", "2024-05-01", NULL);
    const char *late = complaint(s, cert, "2025-02-20", "2024-05-01", NULL);
    assert_string_equal(dget(s, ontime, "ack_due_on"), "2025-03-12");
    on_day(s, "2025-03-12");
    sc_expect(s, ontime, "acknowledge", NULL, CF_OK);
    assert_string_equal(dget(s, ontime, "ack_late"), "false");
    assert_int_equal(sc_tick(s, "2025-03-13T06:59:59Z"), 0);
    /* the 6th business day (Thursday 2025-03-13) begins: overdue, reported */
    assert_int_equal(sc_tick(s, "2025-03-13T07:00:00Z"), 1);
    assert_string_equal(sc_state(s, late), "received");
    assert_string_equal(dget(s, late, "ack_overdue_since"), "2025-03-13");
    assert_string_equal(dget(s, late, "steps.1.step"), "acknowledgement overdue");
    assert_string_equal(dget(s, late, "steps.1.note"),
                        "not acknowledged within 5 business days of receipt on 2025-03-05 (due by 2025-03-12)");
    on_day(s, "2025-03-13");
    sc_expect(s, late, "acknowledge", NULL, CF_OK);
    assert_string_equal(dget(s, late, "ack_late"), "true");
    sc_close(s);
}

static void test_DIS_5_investigation_day_90_and_one_extension(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-05"), NULL);
    const char *cert = sc_new(s, "certification", "san_diego", "{\"name\": \"Ana Ruiz\"}");
    const char *a = complaint(s, cert, "2025-02-20", "2024-05-01", NULL);
    const char *b = complaint(s, cert, "2025-02-20", "2024-05-01", NULL);
    accept(s, a);
    accept(s, b);
    assert_string_equal(dget(s, a, "review_due_on"), "2025-06-03");

    /* day 90 after receipt is inside; day 91 is overdue */
    assert_int_equal(sc_tick(s, "2025-06-04T06:59:59Z"), 0);
    on_day(s, "2025-06-03");
    sc_expect(s, a, "extend", "{\"days\": 31}", CF_REJECTED);
    ASSERT_REASON_IS(s, "an extension adds 1 to 30 days (days); asked 31");
    sc_expect(s, a, "extend", "{\"days\": 30, \"reason\": \"witness unavailable\"}", CF_OK);
    assert_string_equal(dget(s, a, "review_due_on"), "2025-07-03");
    assert_string_equal(dget(s, a, "extension.from"), "2025-06-03");
    sc_expect(s, a, "extend", "{\"days\": 1}", CF_REJECTED);
    ASSERT_REASON_IS(s, "the investigation was already extended once (on 2025-06-03, by 30 days to 2025-07-03); a "
                        "second extension is refused");

    assert_int_equal(sc_tick(s, "2025-06-04T07:00:00Z"), 1);
    assert_string_equal(dget(s, b, "review_overdue_since"), "2025-06-04");
    assert_string_equal(sc_state(s, b), "investigating");
    assert_string_equal(dget(s, a, "review_overdue_since"), "");
    /* the extended deadline: day 120 inside, day 121 overdue */
    assert_int_equal(sc_tick(s, noon("2025-07-03")), 0);
    assert_int_equal(sc_tick(s, noon("2025-07-04")), 1);
    assert_string_equal(dget(s, a, "review_overdue_since"), "2025-07-04");
    assert_string_equal(dget(s, a, "steps.4.step"), "investigation overdue");
    assert_string_equal(dget(s, a, "steps.4.note"), "investigation not completed by 2025-07-03");
    sc_close(s);
}

static void test_DIS_5_appeal_acknowledged_and_reviewed_on_the_same_clocks(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s);
    on_day(s, "2025-03-05");
    const char *id = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    accept(s, id);
    on_day(s, "2025-04-01");
    sc_expect(s, id, "suspend", SUSPENSION, CF_OK);
    /* appeal received Wednesday 2025-04-02: acknowledge by Wednesday 2025-04-09, review by 2025-07-01 */
    on_day(s, "2025-04-02");
    sc_expect(s, id, "appeal", NULL, CF_OK);
    assert_string_equal(dget(s, id, "appeal.ack_due_on"), "2025-04-09");
    assert_int_equal(sc_tick(s, noon("2025-04-09")), 0);
    assert_int_equal(sc_tick(s, noon("2025-04-10")), 1);
    assert_string_equal(dget(s, id, "appeal.ack_overdue_since"), "2025-04-10");
    sc_expect(s, id, "acknowledge", NULL, CF_OK);
    assert_string_equal(dget(s, id, "appeal.acknowledged_on"), "2025-04-10");
    sc_expect(s, id, "acknowledge", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "the appeal was already acknowledged on 2025-04-10");
    sc_expect(s, id, "extend", "{\"days\": 10}", CF_OK);
    assert_string_equal(dget(s, id, "appeal.review_due_on"), "2025-07-11");
    sc_expect(s, id, "extend", "{\"days\": 10}", CF_REJECTED);
    ASSERT_REASON_IS(s, "the appeal review was already extended once (on 2025-04-10, by 10 days to 2025-07-11); a "
                        "second extension is refused");
    /* the complaint's own extension was not used by the appeal's */
    assert_string_equal(dget(s, id, "extension"), "");
    assert_int_equal(sc_tick(s, noon("2025-07-11")), 0);
    assert_int_equal(sc_tick(s, noon("2025-07-12")), 1);
    assert_string_equal(dget(s, id, "appeal.review_overdue_since"), "2025-07-12");
    assert_string_equal(sc_state(s, id), "appealed");
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS_6 */

static void test_DIS_6_three_years_to_the_day_then_one_day_more(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-15"), NULL);
    const char *cert = sc_new(s, "certification", "san_diego", "{\"name\": \"Ana Ruiz\"}");
    const char *in = complaint(s, cert, "2022-03-15", "2022-01-10", NULL);
    sc_expect(s, in, "acknowledge", NULL, CF_OK);
    sc_expect(s, in, "decline", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "the complaint meets the filing limits (filed on 2025-03-15, within 3 years of the incident "
                        "on 2022-03-15, while the certification was held): accept and investigate it");
    sc_expect(s, in, "accept", NULL, CF_OK);

    on_day(s, "2025-03-16");
    const char *out = complaint(s, cert, "2022-03-15", "2022-01-10", NULL);
    sc_expect(s, out, "acknowledge", NULL, CF_OK);
    sc_expect(s, out, "accept", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "filed on 2025-03-16, more than 3 years after the incident on 2022-03-15 (the limit was "
                        "2025-03-15)");
    assert_string_equal(sc_state(s, out), "acknowledged");
    sc_expect(s, out, "decline", NULL, CF_OK);
    assert_string_equal(sc_state(s, out), "declined");
    assert_string_equal(dget(s, out, "declined_reason"),
                        "filed on 2025-03-16, more than 3 years after the incident on 2022-03-15 (the limit was "
                        "2025-03-15)");
    sc_close(s);
}

static void test_DIS_6_only_conduct_while_certified(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-03-05"), NULL);
    const char *cert = sc_new(s, "certification", "san_diego", "{\"name\": \"Ana Ruiz\"}");
    const char *before = complaint(s, cert, "2022-12-01", "2023-01-10", NULL);
    sc_expect(s, before, "acknowledge", NULL, CF_OK);
    sc_expect(s, before, "accept", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "the incident on 2022-12-01 happened before the person held the certification (held from "
                        "2023-01-10)");
    const char *after = complaint(s, cert, "2024-07-01", "2023-01-10", "2024-06-30");
    sc_expect(s, after, "acknowledge", NULL, CF_OK);
    sc_expect(s, after, "accept", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "the incident on 2024-07-01 happened after the certification ended on 2024-06-30");
    const char *last_day = complaint(s, cert, "2024-06-30", "2023-01-10", "2024-06-30");
    sc_expect(s, last_day, "acknowledge", NULL, CF_OK);
    sc_expect(s, last_day, "accept", NULL, CF_OK);
    const char *nobody = sc_new(s, "complaint", "san_diego",
                                "{\"incident_on\": \"2024-07-01\", \"certification_held_from\": \"2023-01-10\"}");
    sc_expect(s, nobody, "acknowledge", NULL, CF_OK);
    sc_expect(s, nobody, "accept", NULL, CF_REJECTED);
    ASSERT_REASON_IS(s, "the complaint names no certification (certification_id): it must be against a certificant");
    sc_close(s);
}

/* ---------------------------------------------------------------- DIS_7 */

static void test_DIS_7_any_adverse_action_appealable_corrective_action_included(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s);
    on_day(s, "2025-03-05");
    const char *ca = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    const char *dis = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    accept(s, ca);
    accept(s, dis);
    on_day(s, "2025-04-01");
    sc_expect(s, ca, "corrective_action", FINDINGS, CF_OK);
    sc_expect(s, dis, "dismiss", FINDINGS, CF_OK);
    on_day(s, "2025-04-02");
    /* seed 003: "Receive appeals of any adverse action": a corrective action is one */
    sc_expect(s, ca, "appeal", NULL, CF_OK);
    assert_string_equal(dget(s, ca, "appeal.action"), "corrective action");
    sc_expect(s, dis, "appeal", NULL, CF_REJECTED);
    ASSERT_REASON(s, "'dismissed' is a final state");
    /* upheld: the corrective action stands and is completed as ordered; one appeal only */
    sc_expect(s, ca, "uphold", "{\"findings\": \"the class is required\"}", CF_OK);
    assert_string_equal(sc_state(s, ca), "corrective_action_ordered");
    sc_expect(s, ca, "appeal", NULL, CF_REJECTED);
    ASSERT_REASON(s, "the corrective action was already appealed (filed 2025-04-02, upheld on 2025-04-02); the "
                     "decision on appeal is final");
    sc_close(s);
}

/* DIS_3, REN_3: a corrective action bars renewal until it is completed on the complaint
 * (the completion reaches the certification) or overturned on appeal. */
static void test_DIS_3_REN_3_corrective_action_completed_or_overturned_restores_good_standing(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s);
    const char *b = certified(s);
    on_day(s, "2025-03-05");
    const char *ca = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    const char *cb = complaint(s, b, "2025-03-01", "2025-02-12", NULL);
    accept(s, ca);
    accept(s, cb);
    on_day(s, "2025-04-01");
    sc_expect(s, ca, "corrective_action", "{\"findings\": \"late notes\", \"corrective_action\": \"ethics class\"}",
              CF_OK);
    sc_expect(s, cb, "corrective_action", "{\"findings\": \"late notes\", \"corrective_action\": \"ethics class\"}",
              CF_OK);
    assert_string_equal(dget(s, a, "corrective_actions.0.complaint_id"), ca);
    on_day(s, "2026-12-01"); /* inside the renewal window of the expiry on 2027-02-12 */
    const char *renewal = jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2026-11-05\", "
                             "\"fee_paid\": 80}",
                             ce(20, "2026-01-10", 6, "2026-02-01"));
    sc_expect(s, a, "renew", renewal, CF_REJECTED);
    ASSERT_REASON(s, "not in good standing: a corrective action ordered on 2025-04-01 is open");
    /* completed on the complaint: the certification hears of it */
    sc_expect(s, ca, "corrective_action_completed", NULL, CF_OK);
    assert_string_equal(dget(s, a, "corrective_actions.0.completed_on"), "2026-12-01");
    sc_expect(s, a, "renew", renewal, CF_OK);
    assert_string_equal(dget(s, a, "expires_on"), "2029-02-12");
    /* overturned on appeal: no longer open either */
    on_day(s, "2025-04-20");
    sc_expect(s, cb, "appeal", "{\"grounds\": \"the notes were on time\"}", CF_OK);
    sc_expect(s, cb, "overturn", "{\"findings\": \"the notes were on time\"}", CF_OK);
    assert_string_equal(sc_state(s, cb), "overturned");
    assert_string_equal(dget(s, b, "corrective_actions.0.overturned_on"), "2025-04-20");
    assert_string_equal(sc_state(s, b), "certified.active");
    on_day(s, "2026-12-01");
    sc_expect(s, b, "renew", renewal, CF_OK);
    sc_close(s);
}

/* DIS_2: a suspension has a term or lasts until lifted; it is lifted at the day after its
 * last day (the certification comes back), or by the entity; an expiry date that passes
 * while suspended leaves the certification expired on lifting (REN_6), to be reinstated
 * within the limit (REN_7) once in good standing, or lapsed beyond it. */
static void test_DIS_2_suspension_term_lifting_and_expiry_during_it(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s); /* expires 2027-02-12 */
    const char *b = certified(s);
    const char *c = certified(s);
    on_day(s, "2025-03-05");
    const char *ka = complaint(s, a, "2025-03-01", "2025-02-12", NULL);
    const char *kb = complaint(s, b, "2025-03-01", "2025-02-12", NULL);
    const char *kc = complaint(s, c, "2025-03-01", "2025-02-12", NULL);
    accept(s, ka);
    accept(s, kb);
    accept(s, kc);
    on_day(s, "2025-04-01");
    sc_expect(s, ka, "suspend", FINDINGS, CF_REJECTED);
    ASSERT_REASON(s, "a suspension needs its term: suspended_until (its last day, YYYY-MM-DD) or until_lifted = "
                     "true (until the entity lifts it)");
    sc_expect(s, ka, "suspend", "{\"findings\": \"x\", \"suspended_until\": \"2025-03-31\"}", CF_REJECTED);
    ASSERT_REASON(s, "the suspension's last day 2025-03-31 is before the decision on 2025-04-01");
    sc_expect(s, ka, "suspend", "{\"findings\": \"x\", \"suspended_until\": \"2025-09-30\"}", CF_OK);
    sc_expect(s, kb, "suspend", "{\"findings\": \"x\", \"until_lifted\": true}", CF_OK);
    sc_expect(s, kc, "suspend", "{\"findings\": \"x\", \"suspended_until\": \"2027-03-31\"}", CF_OK);
    assert_string_equal(sc_state(s, a), "certified.suspended");
    /* the term's last day is suspended; the next day (local midnight) it is lifted */
    sc_tick(s, "2025-10-01T06:59:59Z");
    assert_string_equal(sc_state(s, a), "certified.suspended");
    sc_tick(s, "2025-10-01T07:00:00Z");
    assert_string_equal(sc_state(s, ka), "suspension_lifted");
    assert_string_equal(sc_state(s, a), "certified.active");
    assert_string_equal(dget(s, a, "registry_status"), "active");
    /* until lifted: no timer lifts it; the entity does */
    assert_string_equal(sc_state(s, b), "certified.suspended");
    on_day(s, "2025-12-01");
    sc_expect(s, kb, "lift_suspension", "{\"reason\": \"conditions met\"}", CF_OK);
    assert_string_equal(sc_state(s, b), "certified.active");
    /* the expiry (2027-02-12) falls inside c's suspension: lifted on 2027-04-01, it is expired */
    tick_day(s, "2027-04-01");
    assert_string_equal(sc_state(s, kc), "suspension_lifted");
    assert_string_equal(sc_state(s, c), "expired");
    assert_string_equal(dget(s, c, "registry_status"), "lapsed");
    /* reinstated with the renewal requirements while in good standing, within 365 days of the expiry */
    on_day(s, "2027-04-02");
    sc_expect(s, c, "reinstate",
              jf("{\"ce\": %s, \"ethics_version\": \"2021-07-26\", \"ethics_signed_on\": \"2027-04-01\", "
                 "\"fee_paid\": 160}",
                 ce(20, "2026-01-10", 6, "2026-02-01")),
              CF_OK);
    assert_string_equal(sc_state(s, c), "certified.active");
    sc_close(s);
}

/* DIS_3, REN_6: a suspension overturned on appeal after the expiry date passed during it
 * restores the status the certification would have: expired, not active. */
static void test_DIS_3_suspension_overturned_after_expiry_restores_expired(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2025-01-02"), NULL);
    const char *a = certified(s); /* both expire 2027-02-12 */
    const char *b = certified(s);
    on_day(s, "2026-12-20");
    const char *ka = complaint(s, a, "2026-12-01", "2025-02-12", NULL);
    const char *kb = complaint(s, b, "2026-12-01", "2025-02-12", NULL);
    accept(s, ka);
    accept(s, kb);
    on_day(s, "2027-01-20");
    sc_expect(s, ka, "suspend", "{\"findings\": \"x\", \"until_lifted\": true}", CF_OK);
    sc_expect(s, kb, "suspend", "{\"findings\": \"x\", \"until_lifted\": true}", CF_OK);
    on_day(s, "2027-02-10");
    sc_expect(s, ka, "appeal", NULL, CF_OK);
    sc_expect(s, kb, "appeal", NULL, CF_OK);
    on_day(s, "2027-02-12"); /* the expiry date itself: restored active */
    sc_expect(s, kb, "overturn", "{\"findings\": \"not supported\"}", CF_OK);
    assert_string_equal(sc_state(s, b), "certified.active");
    on_day(s, "2027-02-13"); /* the day after: restored expired */
    sc_expect(s, ka, "overturn", "{\"findings\": \"not supported\"}", CF_OK);
    assert_string_equal(sc_state(s, a), "expired");
    assert_string_equal(dget(s, a, "registry_status"), "lapsed");
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_DIS_1_DIS_4_received_recorded_investigated_on_record),
        cmocka_unit_test(test_DIS_2_outcomes_reach_the_certification),
        cmocka_unit_test(test_DIS_3_appeal_day_30_ok_day_31_refused),
        cmocka_unit_test(test_DIS_3_appeal_upheld_keeps_the_action),
        cmocka_unit_test(test_DIS_5_ack_5th_business_day_ok_6th_overdue),
        cmocka_unit_test(test_DIS_5_investigation_day_90_and_one_extension),
        cmocka_unit_test(test_DIS_5_appeal_acknowledged_and_reviewed_on_the_same_clocks),
        cmocka_unit_test(test_DIS_6_three_years_to_the_day_then_one_day_more),
        cmocka_unit_test(test_DIS_6_only_conduct_while_certified),
        cmocka_unit_test(test_DIS_7_any_adverse_action_appealable_corrective_action_included),
        cmocka_unit_test(test_DIS_3_REN_3_corrective_action_completed_or_overturned_restores_good_standing),
        cmocka_unit_test(test_DIS_2_suspension_term_lifting_and_expiry_during_it),
        cmocka_unit_test(test_DIS_3_suspension_overturned_after_expiry_restores_expired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
