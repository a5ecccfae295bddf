/* test_runaway.c — a policy or workflow bug cannot flood the store: a timer whose
 * deadline is "now" for the state it re-enters, two workflows whose links answer
 * each other forever, an instance that sends to itself, and a loop through timers
 * and links together. Each is stopped with CF_ELIMIT and a message naming the
 * workflow, the state and the deadline function or the link; nothing beyond the
 * documented bound is written (the rows are counted before and after), the engine
 * serves the next event, and the database stays sound (rel_check: integrity, the
 * hash chain, states replayed from the history, timers, the outbox).
 * Fixtures: tests/reliability/fixtures/runaway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bound docs/workflows.md documents: linked events and immediately due timers
 * that one original event may cause. */
#define CHAIN_MAX 1000
#define T0 "2025-07-01T12:00:00Z"

typedef struct fx {
    char *dir;
    char *db;
    cft_clock clock;
    cf_engine *e;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "runaway.db");
    f->clock.now = cft_time(T0);
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_REL_FIXTURES "/runaway/workflows";
    o.policy_dir = CF_REL_FIXTURES "/runaway/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    int rc = cf_engine_open(f->db, &o, &f->e);
    if (rc != CF_OK)
        fail_msg("cf_engine_open: %s: %s", cf_result_name(rc), cf_errmsg(f->e));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in: %s", needle, hay);
}

static void create(fx *f, const char *workflow, const char *data, char id[37])
{
    int rc = cf_instance_create(f->e, workflow, "alameda", data, "test", id);
    if (rc != CF_OK)
        fail_msg("create %s: %s: %s", workflow, cf_result_name(rc), cf_errmsg(f->e));
}

static void fire(fx *f, const char *id, const char *event, const char *data, int expect)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(f->e, id, event, data, "test", NULL, &r);
    if (rc != expect)
        fail_msg("fire %s: got %s, expected %s: %s", event, cf_result_name(rc), cf_result_name(expect),
                 cf_errmsg(f->e));
}

/* Make a and b each other's partners (their link field). */
static void pair(fx *f, const char *a, const char *b)
{
    char data[96];
    snprintf(data, sizeof data, "{\"partner\":\"%s\"}", b);
    fire(f, a, "pair", data, CF_OK);
}

static json_int_t data_int(fx *f, const char *id, const char *key)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, id, &info), CF_OK);
    json_t *d = json_loads(info.data, 0, NULL);
    assert_non_null(d);
    json_int_t v = json_integer_value(json_object_get(d, key));
    json_decref(d);
    return v;
}

static void census(fx *f, rel_census *c)
{
    rel_check(f->e, c);
}

/* A timer re-entering its state with the deadline ctx.now: one tick used to fire
 * it until max_tick_fires (a million history rows). It is refused at the first
 * repetition, nothing is written, it stays pending, and fixing the deadline's
 * input lets it fire normally. */
static void test_timer_due_at_its_own_instant_is_stopped(void **state)
{
    fx *f = *state;
    char id[37];
    create(f, "echo", NULL, id); /* an ordinary event: a timer due now is allowed */
    rel_census before = {0}, after = {0};
    census(f, &before);
    assert_int_equal(before.rows, 1);
    assert_int_equal(before.timers, 1);

    for (int i = 0; i < 2; i++) { /* every tick says the same and writes nothing */
        uint64_t fired = 99;
        assert_int_equal(cf_engine_tick(f->e, f->clock.now + i * 86400, &fired), CF_ELIMIT);
        assert_int_equal(fired, 0);
        const char *msg = cf_errmsg(f->e);
        assert_has(msg, "runaway timer stopped");
        assert_has(msg, "workflow 'echo'");
        assert_has(msg, "timer 'again' of state 'waiting'");
        assert_has(msg, "deadline function 'rw_now'");
        assert_has(msg, "returns a time after ctx.now");
        assert_has(msg, id);
        census(f, &after);
        assert_int_equal(after.rows, before.rows);
        assert_int_equal(after.timers, before.timers);
        assert_int_equal(cft_timer_count(f->e, f->clock.now), 1); /* still due at its instant */
        rel_census_free(&after);
    }

    /* Still usable: an ordinary event, then the corrected offset lets the timer fire once. */
    fire(f, id, "ok", "{\"offset_s\": 60}", CF_OK);
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 1);
    assert_int_equal(data_int(f, id, "n"), 2);
    assert_int_equal(cft_timer_count(f->e, f->clock.now + 59), 0);
    assert_int_equal(cft_timer_count(f->e, f->clock.now + 60), 1);
    census(f, &after);
    assert_int_equal(after.rows, before.rows + 2);
    rel_census_free(&after);
    rel_census_free(&before);
}

/* Two workflows whose links answer each other forever (ping -> pong -> ping ...):
 * the event that would be the chain's 1001st is recorded as rejected at its
 * instance and dropped, and the fire that started it reports CF_ELIMIT. */
static void test_ping_pong_is_stopped(void **state)
{
    fx *f = *state;
    char p[37], q[37];
    create(f, "ping", NULL, p);
    char data[96];
    snprintf(data, sizeof data, "{\"partner\":\"%s\"}", p);
    create(f, "pong", data, q);
    pair(f, p, q);
    rel_census before = {0}, after = {0};
    census(f, &before);

    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, p, "start", NULL, "test", NULL, &r), CF_ELIMIT);
    assert_int_equal(r.applied, 1); /* the start itself was applied and committed */
    const char *msg = cf_errmsg(f->e);
    assert_has(msg, "event 'start' on instance");
    assert_has(msg, "was applied, but a chain of linked events it started was stopped");
    assert_has(msg, "runaway chain stopped");
    assert_has(msg, "in workflow 'ping', idle --pong--> idle");
    assert_has(msg, "'ping' over link 'partner' to workflow 'pong'");
    assert_has(msg, "more than the 1000 one original event may cause");
    assert_has(msg, "recorded there as rejected and dropped");

    census(f, &after);
    /* start, then deliveries 1..999 applied; the 1000th would queue the 1001st: rejected. */
    assert_int_equal(after.applied, before.applied + 1 + (CHAIN_MAX - 1));
    assert_int_equal(after.rejected, before.rejected + 1);
    assert_int_equal(after.rows, before.rows + 1 + CHAIN_MAX);
    assert_int_equal(data_int(f, q, "n"), CHAIN_MAX / 2);
    assert_int_equal(data_int(f, p, "n"), CHAIN_MAX / 2 - 1);
    rel_census_free(&after);

    /* Nothing stays queued: the next tick has nothing to deliver and the engine serves events. */
    uint64_t fired = 9;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 0);
    fire(f, p, "ok", NULL, CF_OK);
    census(f, &after);
    assert_int_equal(after.rows, before.rows + 2 + CHAIN_MAX);
    rel_census_free(&after);
    rel_census_free(&before);
}

/* The bound is exact: a ping-pong of 499 rounds causes 1000 linked events and
 * runs to its end; 500 rounds would cause 1002 and is stopped. */
static void test_chain_at_the_bound_runs_to_its_end(void **state)
{
    fx *f = *state;
    char p[37], q[37], data[96];
    create(f, "ping", "{\"rounds\": 499}", p);
    snprintf(data, sizeof data, "{\"partner\":\"%s\"}", p);
    create(f, "pong", data, q);
    pair(f, p, q);
    fire(f, p, "start", NULL, CF_OK);
    assert_int_equal(data_int(f, p, "n"), 500); /* 499 answered, the last one not */
    assert_int_equal(data_int(f, q, "n"), 500);
    rel_census c = {0};
    census(f, &c);
    assert_int_equal(c.rejected, 0);
    rel_census_free(&c);

    char p2[37], q2[37];
    create(f, "ping", "{\"rounds\": 500}", p2);
    snprintf(data, sizeof data, "{\"partner\":\"%s\"}", p2);
    create(f, "pong", data, q2);
    pair(f, p2, q2);
    fire(f, p2, "start", NULL, CF_ELIMIT);
    census(f, &c);
    assert_int_equal(c.rejected, 1);
    rel_census_free(&c);
}

/* An instance that sends to itself forever. */
static void test_self_send_is_stopped(void **state)
{
    fx *f = *state;
    char id[37];
    create(f, "self", NULL, id);
    rel_census before = {0}, after = {0};
    census(f, &before);
    fire(f, id, "go", NULL, CF_ELIMIT);
    const char *msg = cf_errmsg(f->e);
    assert_has(msg, "in workflow 'self', idle --loop--> idle");
    assert_has(msg, "'loop' over link 'me' to workflow 'self'");
    assert_has(msg, "an instance that sends to itself");
    census(f, &after);
    assert_int_equal(after.applied, before.applied + 1 + (CHAIN_MAX - 1));
    assert_int_equal(after.rejected, before.rejected + 1);
    assert_int_equal(data_int(f, id, "n"), CHAIN_MAX - 1);
    rel_census_free(&after);
    fire(f, id, "ok", NULL, CF_OK);
    assert_int_equal(data_int(f, id, "n"), CHAIN_MAX);
    rel_census_free(&before);
}

/* In a batch the linked events wait for the commit, which delivers them and
 * reports the stopped chain although the batch itself is committed. */
static void test_batch_commit_reports_a_stopped_chain(void **state)
{
    fx *f = *state;
    char id[37], other[37];
    create(f, "self", NULL, id);
    create(f, "self", "{\"rounds\": 3}", other);
    assert_int_equal(cf_batch_begin(f->e), CF_OK);
    fire(f, id, "go", NULL, CF_OK);
    fire(f, other, "go", NULL, CF_OK);
    assert_int_equal(cf_batch_commit(f->e), CF_ELIMIT);
    assert_has(cf_errmsg(f->e), "the batch was committed, but a chain of linked events it started was stopped");
    assert_has(cf_errmsg(f->e), id);
    assert_int_equal(cf_batch_active(f->e), 0);
    assert_int_equal(data_int(f, id, "n"), CHAIN_MAX - 1);
    assert_int_equal(data_int(f, other, "n"), 4); /* the bounded chain was delivered in full */
    rel_census c = {0};
    census(f, &c);
    assert_int_equal(c.rejected, 1);
    rel_census_free(&c);
}

/* A loop through timers and links: a poke arms a timer due now, which pokes the
 * partner when it fires. No timer re-arms itself; the chain bound stops it
 * inside one tick, which still reports it (CF_ELIMIT) and fires nothing more. */
static void test_timer_and_link_loop_is_stopped(void **state)
{
    fx *f = *state;
    char a[37], b[37];
    create(f, "relay", NULL, a);
    create(f, "relay", NULL, b);
    pair(f, a, b);
    pair(f, b, a);
    fire(f, a, "poke", NULL, CF_OK); /* armed, its timer due now: chain event 1 */
    rel_census before = {0}, after = {0};
    census(f, &before);
    assert_int_equal(before.timers, 1);

    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_ELIMIT);
    const char *msg = cf_errmsg(f->e);
    assert_has(msg, "runaway chain stopped");
    assert_has(msg, "in workflow 'relay', idle --poke--> armed");
    assert_has(msg, "and scheduling timers already due");
    /* Events 2, 4 .. 1000 are the timers fired, 3 .. 999 the pokes delivered; the
     * poke that would arm event 1001 is rejected. */
    assert_int_equal(fired, CHAIN_MAX / 2);
    census(f, &after);
    assert_int_equal(after.applied, before.applied + CHAIN_MAX / 2 + (CHAIN_MAX / 2 - 1));
    assert_int_equal(after.rejected, before.rejected + 1);
    assert_int_equal(after.timers, 0);
    rel_census_free(&after);

    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 0);
    fire(f, a, "ok", NULL, CF_OK);
    rel_census_free(&before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timer_due_at_its_own_instant_is_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_pong_is_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_at_the_bound_runs_to_its_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_send_is_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_commit_reports_a_stopped_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_and_link_loop_is_stopped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
