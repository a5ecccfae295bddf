/* test_cert_exam.c — exam appointments and attempts in the shipped certification
 * workflow on a virtual clock: fees (EX_1), the attempt limit and exhaustion (EX_2,
 * EX_3), results (EX_4), accommodations (EX_5), cancellation windows (EX_6), no-shows
 * (EX_7) and retake requests (EX_8). Every application here is approved on
 * 2024-03-02, so its window ends on 2025-03-01. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "testutil.h"

#include <sys/stat.h>

/* Approved and trained on 2024-03-02. */
static const char *ready(sc **out)
{
    sc *s = sc_open(noon("2024-03-02"), NULL);
    const char *id = approved_app(s, NULL);
    trained(s, id);
    *out = s;
    return id;
}

static void test_EX_1_exam_fee_per_attempt(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-04-10T16:00:00Z\", \"mode\": \"online\"}", CF_REJECTED);
    ASSERT_REASON(s, "the exam fee of $150 is not paid (fee_paid: $0)");
    schedule(s, id, "2024-04-10T16:00:00Z", "online");
    assert_int_equal(fcount(s, id), 2);
    assert_string_equal(fget(s, id, "1"), "{\"amount\":150,\"on\":\"2024-03-02\",\"type\":\"exam\"}");
    /* cancelled in time: the paid attempt carries over, no second charge */
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-04-12T16:00:00Z\", \"mode\": \"online\"}", CF_OK);
    assert_int_equal(fcount(s, id), 2);
    /* a retake is charged again, with its request */
    on_day(s, "2024-04-12");
    assert_int_equal(result(s, id, "fail", 55, "2024-04-12"), CF_OK);
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_OK);
    assert_int_equal(fcount(s, id), 3);
    assert_string_equal(fget(s, id, "2"), "{\"amount\":150,\"on\":\"2024-04-12\",\"type\":\"retake\"}");
    sc_close(s);
}

/* Fail an attempt on day (exam at 17:00Z), then request and process a retake. */
static void fail_attempt(sc *s, const char *id, const char *day, int with_retake)
{
    on_day(s, jf("%.8s01", day)); /* schedule at the start of the month */
    schedule(s, id, jf("%sT17:00:00Z", day), "in_person");
    on_day(s, day);
    assert_int_equal(result(s, id, "fail", 60, day), CF_OK);
    if (with_retake)
        retake(s, id);
}

static void test_EX_2_third_attempt_allowed_fourth_refused(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    fail_attempt(s, id, "2024-04-10", 1);
    fail_attempt(s, id, "2024-06-10", 1);
    assert_int_equal(sc_int(s, id, "exam_attempts"), 2);
    /* the third attempt may still be scheduled */
    fail_attempt(s, id, "2024-08-10", 0);
    assert_int_equal(sc_int(s, id, "exam_attempts"), 3);
    assert_string_equal(sc_state(s, id), "exhausted");
    /* the fourth is refused with the count and the window */
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_REJECTED);
    ASSERT_REASON(s, "exam attempts used: 3 of 3 within the window ending 2025-03-01");
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-09-10T17:00:00Z\", \"mode\": \"online\", \"fee_paid\": 150}",
              CF_REJECTED);
    ASSERT_REASON(s, "exam attempts used: 3 of 3 within the window ending 2025-03-01");
    assert_int_equal(fcount(s, id), 4); /* application, exam, 2 retakes; nothing for the refused fourth */
    sc_close(s);
}

static void test_EX_3_last_failed_attempt_closes_as_exhausted(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    fail_attempt(s, id, "2024-04-10", 1);
    /* the second failure leaves one attempt: still open */
    fail_attempt(s, id, "2024-05-10", 0);
    assert_string_equal(sc_state(s, id), "approved");
    assert_string_equal(dget(s, id, "retake_required"), "true");
    retake(s, id);
    fail_attempt(s, id, "2024-06-10", 0);
    assert_string_equal(sc_state(s, id), "exhausted");
    assert_string_equal(dget(s, id, "closed_because"), "attempts_exhausted");
    assert_string_equal(dget(s, id, "fees_forfeited"), "true");
    /* nothing runs any more: the window timer is gone */
    assert_int_equal(tick_day(s, "2025-06-01"), 0);
    assert_string_equal(sc_state(s, id), "exhausted");

    /* a no-show on the last attempt closes it too (no_show_counts_as_attempt) */
    const char *other = approved_app(s, NULL);
    trained(s, other);
    fail_attempt(s, other, "2025-07-10", 1);
    fail_attempt(s, other, "2025-08-10", 1);
    on_day(s, "2025-09-01");
    schedule(s, other, "2025-09-10T17:00:00Z", "online");
    on_day(s, "2025-09-10");
    sc_expect(s, other, "no_show", NULL, CF_OK);
    assert_string_equal(sc_state(s, other), "exhausted");
    assert_int_equal(sc_int(s, other, "exam_attempts"), 3);
    sc_close(s);
}

/* EX_4: a refused exam result gives each reason once, the decisive one first (the
 * guard every exam_result transition fails), from the transition nearest to passing
 * (a failed result is meant for "approved": that the exam was not passed, or that
 * attempts remain, only routes), and never the bookkeeping of the link to
 * employments. Before issue 9 it gave nine lines, "no exam appointment is
 * scheduled" four times and "no linked employment to notify" among them. */
static void test_EX_4_refused_result_reasons_once_decisive_first(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    sc_expect(s, id, "exam_result", "{\"result\": \"fail\"}", CF_REJECTED);
    assert_string_equal(s->reasons, "[\"no exam appointment is scheduled\",\"exam result incomplete: score "
                                    "missing; taken_on missing (YYYY-MM-DD)\"]");
    sc_close(s);
}

/* EX_8: explaining a retake request shows the fee it would charge (the fees plugin's
 * ledger row), the review deadline it would set and the guards, and charges, records
 * and schedules nothing; the fire then charges exactly that. */
static void test_EX_8_explain_shows_retake_fee_and_deadline_charges_nothing(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    schedule(s, id, "2024-04-10T16:00:00Z", "online");
    on_day(s, "2024-04-10");
    assert_int_equal(result(s, id, "fail", 55, "2024-04-10"), CF_OK);
    size_t fees = fcount(s, id);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(s->e, id, &info), CF_OK);
    int64_t version = info.version;
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = "{\"fee_paid\": 150}";
    char *text = NULL;
    assert_int_equal(cf_instance_explain(s->e, id, "request_retake", &o, &text), CF_OK);
    json_t *doc = json_loads(text, 0, NULL);
    cf_free(text);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "applied");
    json_t *rec = json_array_get(json_object_get(doc, "records"), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "table")), "fees_ledger");
    json_t *row = json_object_get(rec, "row");
    assert_string_equal(json_string_value(json_object_get(row, "type")), "retake");
    assert_int_equal(json_integer_value(json_object_get(row, "amount")), 15000);
    assert_string_equal(json_string_value(json_object_get(row, "charged_on")), "2024-04-10");
    json_t *dl = json_object_get(doc, "deadlines");
    assert_true(json_array_size(dl) >= 1);
    json_decref(doc);
    assert_int_equal(fcount(s, id), fees);
    assert_int_equal(cf_instance_get(s->e, id, &info), CF_OK);
    assert_int_equal(info.version, version);
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_OK);
    assert_int_equal(fcount(s, id), fees + 1);
    assert_string_equal(fget(s, id, jf("%zu.type", fees)), "retake");
    sc_close(s);
}

/* A certification created before the `employments` link became optional keeps its
 * stored definition, where each notifying transition comes in a pair with the guard
 * has_employments: it still decides with today's policy (the guard is kept), and its
 * refusals still give the two reasons, never "no linked employment to notify". */
static void test_EX_4_certification_on_the_paired_definition_still_decides(void **state)
{
    (void)state;
    sc *s = sc_open(noon("2024-03-02"), NULL);
    static const char *const files[] = {"certification.lua", "complaint.lua", "employment.lua", "scholarship.lua",
                                        "supervision.lua"};
    static const char now_text[] =
        "local function add_notifying(t, event)\n"
        "  add({ from = t.from, event = t.event, to = t.to, guard = t.guard, actions = t.actions,\n"
        "        send = { { link = \"employments\", event = event } } })\n"
        "end\n";
    static const char paired[] =
        "local function add_notifying(t, event)\n"
        "  local guards = {}\n"
        "  for i = 1, #(t.guard or {}) do guards[i] = t.guard[i] end\n"
        "  guards[#guards + 1] = \"has_employments\"\n"
        "  add({ from = t.from, event = t.event, to = t.to, guard = guards, actions = t.actions,\n"
        "        send = { { link = \"employments\", event = event } } })\n"
        "  add(t)\n"
        "end\n";
    char *old = cft_path(s->dir, "old_workflows");
    assert_int_equal(mkdir(old, 0700), 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *src = cft_path(CF_SOURCE_DIR "/workflows", files[i]);
        char *text = cft_slurp(src);
        if (strcmp(files[i], "certification.lua") == 0) {
            char *at = strstr(text, now_text);
            assert_non_null(at);
            size_t head = (size_t)(at - text), tail = strlen(at + strlen(now_text));
            char *joined = malloc(head + sizeof paired + tail);
            memcpy(joined, text, head);
            memcpy(joined + head, paired, sizeof paired - 1);
            memcpy(joined + head + sizeof paired - 1, at + strlen(now_text), tail + 1);
            free(text);
            text = joined;
        }
        free(cft_write(old, files[i], text));
        free(text);
        free(src);
    }
    /* A second handle on the same database loads the paired definition and creates with it. */
    char *db = cft_path(s->dir, "scenario.db");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = old;
    o.policy_dir = CF_SOURCE_DIR "/lua";
    o.plugin_dir = CF_BINARY_DIR "/plugins";
    cf_engine *e2 = NULL;
    assert_int_equal(cft_engine_open(db, &o, &e2), CF_OK);
    char id[37];
    assert_int_equal(cf_instance_create(e2, "certification", "san_diego",
                                        "{\"name\": \"Ana Ruiz\", \"birth_date\": \"1990-05-01\", \"education\": "
                                        "\"high_school\", \"lived_experience\": \"consumer\", \"attests_willingness\": "
                                        "true, \"ethics_version\": \"2022\", \"ethics_signed_on\": \"2024-01-05\"}",
                                        "test", id),
                     CF_OK);
    cf_engine_close(e2);
    free(db);
    free(old);
    submit(s, id);
    sc_expect(s, id, "approve", NULL, CF_OK);
    trained(s, id);
    sc_expect(s, id, "exam_result", "{\"result\": \"fail\"}", CF_REJECTED);
    assert_string_equal(s->reasons, "[\"no exam appointment is scheduled\",\"exam result incomplete: score "
                                    "missing; taken_on missing (YYYY-MM-DD)\"]");
    /* explain shows the pair: the guard runs, its reason is not a reason */
    cf_explain_options eo = CF_EXPLAIN_OPTIONS_INIT;
    eo.data_json = "{\"result\": \"fail\"}";
    char *text = NULL;
    assert_int_equal(cf_instance_explain(s->e, id, "exam_result", &eo, &text), CF_OK);
    assert_non_null(strstr(text, "\"guard\":\"has_employments\""));
    cf_free(text);
    /* and it still certifies */
    schedule(s, id, "2024-04-10T17:00:00Z", "in_person");
    on_day(s, "2024-04-10");
    assert_int_equal(result(s, id, "pass", 90, "2024-04-10"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    sc_close(s);
}

static void test_EX_4_result_pass_fail_score_date_recorded(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    sc_expect(s, id, "exam_result", "{\"result\": \"pass\", \"score\": 90, \"taken_on\": \"2024-04-10\"}", CF_REJECTED);
    ASSERT_REASON(s, "no exam appointment is scheduled");
    schedule(s, id, "2024-04-10T17:00:00Z", "in_person");
    on_day(s, "2024-04-10");
    sc_expect(s, id, "exam_result", "{\"result\": \"pass\"}", CF_REJECTED);
    ASSERT_REASON(s, "exam result incomplete: score missing; taken_on missing (YYYY-MM-DD)");
    assert_int_equal(result(s, id, "fail", 64, "2024-04-10"), CF_OK);
    assert_string_equal(dget(s, id, "last_exam"), "{\"result\":\"fail\",\"score\":64,\"taken_on\":\"2024-04-10\"}");
    assert_string_equal(dget(s, id, "exams.0.at"), "2024-04-10T17:00:00Z");
    assert_string_equal(dget(s, id, "exams.0.mode"), "in_person");
    retake(s, id);
    schedule(s, id, "2024-05-10T17:00:00Z", "online");
    on_day(s, "2024-05-10");
    assert_int_equal(result(s, id, "pass", 81, "2024-05-10"), CF_OK);
    assert_string_equal(sc_state(s, id), "certified.active");
    assert_string_equal(dget(s, id, "exams.1.score"), "81");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 2);
    sc_close(s);
}

static void test_EX_5_accommodation_30_days_ahead_blocks_scheduling_while_pending(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    sc_expect(s, id, "request_accommodation", "{\"desired_date\": \"2024-03-31\", \"signed_by_medical_provider\": true}",
              CF_REJECTED);
    ASSERT_REASON(s, "the request must come at least 30 days before the desired test date 2024-03-31 (on or before "
                     "2024-03-01)");
    sc_expect(s, id, "request_accommodation", "{\"desired_date\": \"2024-04-01\"}", CF_REJECTED);
    ASSERT_REASON(s, "the accommodation form must be signed by a licensed medical provider");
    sc_expect(s, id, "request_accommodation", "{\"desired_date\": \"2024-04-01\", \"signed_by_medical_provider\": true}",
              CF_OK);
    assert_string_equal(dget(s, id, "accommodation.status"), "pending");
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-04-01T17:00:00Z\", \"mode\": \"online\", \"fee_paid\": 150}",
              CF_REJECTED);
    ASSERT_REASON(s, "the accommodation request submitted on 2024-03-02 is pending; scheduling is refused until it is "
                     "decided");
    /* the entity has 30 days: overdue from the 31st (2024-04-02, midnight PDT = 07:00Z) */
    sc_tick(s, "2024-04-02T06:59:59Z");
    assert_string_equal(dget(s, id, "accommodation.overdue_since"), "");
    sc_tick(s, "2024-04-02T07:00:00Z");
    assert_string_equal(dget(s, id, "accommodation.overdue_since"), "2024-04-02");
    on_day(s, "2024-04-03");
    sc_expect(s, id, "decide_accommodation", "{\"granted\": true}", CF_OK);
    assert_string_equal(dget(s, id, "accommodation.status"), "granted");
    schedule(s, id, "2024-04-20T17:00:00Z", "in_person");
    /* a request after scheduling is refused */
    sc_expect(s, id, "request_accommodation", "{\"desired_date\": \"2024-06-01\", \"signed_by_medical_provider\": true}",
              CF_REJECTED);
    ASSERT_REASON(s, "an accommodation must be requested before the exam is scheduled (an exam is scheduled for "
                     "2024-04-20T17:00:00Z)");
    sc_close(s);
}

static void test_EX_6_in_person_cancel_49_hours_before_ok_47_late(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    schedule(s, id, "2024-05-10T16:00:00Z", "in_person");
    sc_at(s, "2024-05-08T15:00:00Z"); /* 49 hours before */
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    assert_string_equal(dget(s, id, "appointment"), "");
    assert_string_equal(dget(s, id, "cancellations.0.late"), "false");
    assert_string_equal(dget(s, id, "exam_fee_credit"), "true");
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-05-10T16:00:00Z\", \"mode\": \"in_person\"}", CF_OK);
    sc_at(s, "2024-05-08T17:00:00Z"); /* 47 hours before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-20T16:00:00Z\", \"mode\": \"in_person\"}", CF_REJECTED);
    ASSERT_REASON(s, "an in-person exam may be cancelled or rescheduled up to 48 hours before the appointment at "
                     "2024-05-10T16:00:00Z; 47 hours remain");
    /* cancelling now is late: a no-show (EX_7) */
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    assert_string_equal(sc_state(s, id), "approved");
    assert_string_equal(dget(s, id, "exams.0.result"), "no_show");
    assert_string_equal(dget(s, id, "exams.0.late_cancellation"), "true");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 1);
    assert_string_equal(dget(s, id, "exam_fee_credit"), "false");
    sc_close(s);
}

static void test_EX_6_online_cancel_61_minutes_before_ok_59_late(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    schedule(s, id, "2024-05-10T16:00:00Z", "online");
    sc_at(s, "2024-05-10T14:59:00Z"); /* 61 minutes before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-11T16:00:00Z\", \"mode\": \"online\"}", CF_OK);
    assert_string_equal(dget(s, id, "appointment.at"), "2024-05-11T16:00:00Z");
    sc_at(s, "2024-05-11T15:01:00Z"); /* 59 minutes before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-12T16:00:00Z\", \"mode\": \"online\"}", CF_REJECTED);
    ASSERT_REASON(s, "an online exam may be cancelled or rescheduled up to 1 hour before the appointment at "
                     "2024-05-11T16:00:00Z; 59 minutes remain");
    sc_at(s, "2024-05-11T14:59:00Z");
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    assert_string_equal(dget(s, id, "cancellations.0.late"), "false");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 0);
    sc_close(s);
}

/* EX_6 at the exact boundary: "up to 48 hours before" includes 48:00:00 exactly; one second
 * later is late (a `<=` in cancel_in_time fails the first half, a `<` against 47 the second). */
static void test_EX_6_in_person_cancel_exactly_48_hours_before_in_time_one_second_less_late(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    schedule(s, id, "2024-05-10T16:00:00Z", "in_person");
    sc_at(s, "2024-05-08T16:00:00Z"); /* exactly 48:00:00 before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-20T16:00:00Z\", \"mode\": \"in_person\"}", CF_OK);
    sc_at(s, "2024-05-18T16:00:00Z"); /* exactly 48:00:00 before the new time */
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    assert_string_equal(dget(s, id, "cancellations.0.late"), "false");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 0);
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-05-24T16:00:00Z\", \"mode\": \"in_person\"}", CF_OK);
    sc_at(s, "2024-05-22T16:00:01Z"); /* 47:59:59 before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-30T16:00:00Z\", \"mode\": \"in_person\"}",
              CF_REJECTED);
    ASSERT_REASON(s, "an in-person exam may be cancelled or rescheduled up to 48 hours before the appointment at "
                     "2024-05-24T16:00:00Z; 47 hours 59 minutes remain");
    sc_expect(s, id, "cancel_exam", NULL, CF_OK); /* late: a no-show (EX_7) */
    assert_string_equal(dget(s, id, "exams.0.late_cancellation"), "true");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 1);
    sc_close(s);
}

/* EX_6 online: exactly 1:00:00 before is in time; 0:59:59 is late. */
static void test_EX_6_online_cancel_exactly_1_hour_before_in_time_one_second_less_late(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    schedule(s, id, "2024-05-10T16:00:00Z", "online");
    sc_at(s, "2024-05-10T15:00:00Z"); /* exactly 1:00:00 before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-11T16:00:00Z\", \"mode\": \"online\"}", CF_OK);
    sc_at(s, "2024-05-11T15:00:00Z");
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    assert_string_equal(dget(s, id, "cancellations.0.late"), "false");
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-05-12T16:00:00Z\", \"mode\": \"online\"}", CF_OK);
    sc_at(s, "2024-05-12T15:00:01Z"); /* 0:59:59 before */
    sc_expect(s, id, "reschedule_exam", "{\"at\": \"2024-05-13T16:00:00Z\", \"mode\": \"online\"}", CF_REJECTED);
    ASSERT_REASON(s, "an online exam may be cancelled or rescheduled up to 1 hour before the appointment at "
                     "2024-05-12T16:00:00Z; 59 minutes remain");
    sc_expect(s, id, "cancel_exam", NULL, CF_OK);
    assert_string_equal(dget(s, id, "exams.0.late_cancellation"), "true");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 1);
    sc_close(s);
}

static void test_EX_7_no_show_forfeits_counts_and_blocks_until_retake_paid(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    schedule(s, id, "2024-05-10T16:00:00Z", "online");
    on_day(s, "2024-05-10");
    sc_expect(s, id, "no_show", NULL, CF_OK);
    assert_string_equal(dget(s, id, "exams.0.result"), "no_show");
    assert_string_equal(dget(s, id, "exams.0.fee_forfeited"), "true");
    assert_string_equal(dget(s, id, "exams.0.counts_as_attempt"), "true");
    assert_int_equal(sc_int(s, id, "exam_attempts"), 1);
    assert_int_equal(fcount(s, id), 2); /* the forfeited fee stays on record */
    /* no new appointment, even paid, until a retake request is filed and paid */
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-06-10T16:00:00Z\", \"mode\": \"online\", \"fee_paid\": 150}",
              CF_REJECTED);
    ASSERT_REASON(s, "a retake request must be filed and its fee paid before a new appointment");
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 100}", CF_REJECTED);
    ASSERT_REASON(s, "the retake fee of $150 is not paid (fee_paid: $100)");
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_OK);
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-06-10T16:00:00Z\", \"mode\": \"online\"}", CF_REJECTED);
    ASSERT_REASON(s, "the retake request filed on 2024-05-10 awaits the entity's processing");
    sc_expect(s, id, "process_retake", NULL, CF_OK);
    sc_expect(s, id, "schedule_exam", "{\"at\": \"2024-06-10T16:00:00Z\", \"mode\": \"online\"}", CF_OK);
    assert_int_equal(fcount(s, id), 3);
    sc_close(s);
}

static void test_EX_8_retake_request_processed_within_30_days(void **state)
{
    (void)state;
    sc *s;
    const char *id = ready(&s);
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_REJECTED);
    ASSERT_REASON(s, "no retake is needed: no failed attempt or no-show awaits one");
    fail_attempt(s, id, "2024-04-10", 0);
    const char *award = award_to(s, id, "EX8", "K. Lam", NULL); /* a pre-approved retake (SCH_1) */
    sc_expect(s, id, "request_retake", jf("{\"covered_by\": \"%s\"}", award), CF_OK);
    assert_string_equal(fget(s, id, "2.covered_by"), "EX8-0001");
    assert_string_equal(dget(s, id, "retake.review_due_on"), "2024-05-10");
    sc_expect(s, id, "request_retake", "{\"fee_paid\": 150}", CF_REJECTED);
    ASSERT_REASON(s, "a retake request was already filed on 2024-04-10");
    /* day 30 (2024-05-10) in time; overdue from day 31 */
    sc_tick(s, "2024-05-11T06:59:59Z");
    assert_string_equal(dget(s, id, "retake.overdue_since"), "");
    sc_tick(s, "2024-05-11T07:00:00Z");
    assert_string_equal(dget(s, id, "retake.overdue_since"), "2024-05-11");
    on_day(s, "2024-05-12");
    sc_expect(s, id, "process_retake", NULL, CF_OK);
    assert_string_equal(dget(s, id, "retake.status"), "approved");
    assert_string_equal(dget(s, id, "retake.processed_on"), "2024-05-12");
    sc_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EX_1_exam_fee_per_attempt),
        cmocka_unit_test(test_EX_2_third_attempt_allowed_fourth_refused),
        cmocka_unit_test(test_EX_3_last_failed_attempt_closes_as_exhausted),
        cmocka_unit_test(test_EX_4_result_pass_fail_score_date_recorded),
        cmocka_unit_test(test_EX_4_refused_result_reasons_once_decisive_first),
        cmocka_unit_test(test_EX_4_certification_on_the_paired_definition_still_decides),
        cmocka_unit_test(test_EX_8_explain_shows_retake_fee_and_deadline_charges_nothing),
        cmocka_unit_test(test_EX_5_accommodation_30_days_ahead_blocks_scheduling_while_pending),
        cmocka_unit_test(test_EX_6_in_person_cancel_49_hours_before_ok_47_late),
        cmocka_unit_test(test_EX_6_online_cancel_61_minutes_before_ok_59_late),
        cmocka_unit_test(test_EX_6_in_person_cancel_exactly_48_hours_before_in_time_one_second_less_late),
        cmocka_unit_test(test_EX_6_online_cancel_exactly_1_hour_before_in_time_one_second_less_late),
        cmocka_unit_test(test_EX_7_no_show_forfeits_counts_and_blocks_until_retake_paid),
        cmocka_unit_test(test_EX_8_retake_request_processed_within_30_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
