/* test_batch.c — batches: many fires in one transaction, each still
 * all-or-nothing; rollback of the whole batch; a failed fire leaving the rest;
 * idempotency, linked events and timers inside and outside batches; the runs of
 * timers a tick commits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "sqlite_peek.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    char *db;
    cft_clock clock;
    cf_engine *e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "t.db");
    f->clock.now = cft_time("2025-01-06T17:00:00Z");
    f->e = cft_open_fixture(f->db, &f->clock);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cf_engine_close(f->e);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void create(fixture *f, const char *wf, const char *data, char id[37])
{
    int rc = cf_instance_create(f->e, wf, "kern", data, "t", id);
    if (rc != CF_OK)
        fail_msg("create %s: %s", wf, cf_errmsg(f->e));
}

static void begin(fixture *f)
{
    int rc = cf_batch_begin(f->e);
    if (rc != CF_OK)
        fail_msg("cf_batch_begin: %s", cf_errmsg(f->e));
    assert_int_equal(cf_batch_active(f->e), 1);
}

static void commit(fixture *f)
{
    int rc = cf_batch_commit(f->e);
    if (rc != CF_OK)
        fail_msg("cf_batch_commit: %s", cf_errmsg(f->e));
    assert_int_equal(cf_batch_active(f->e), 0);
}

static void verify(fixture *f)
{
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    int rc = cf_engine_verify(f->e, &rep);
    if (rc != CF_OK)
        fail_msg("verify: %s", cf_errmsg(f->e));
}

static json_t *data_of(cf_engine *e, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    json_t *d = json_loads(info.data, 0, NULL);
    assert_non_null(d);
    return d;
}

static void test_batch_applies_every_fire_at_commit(void **state)
{
    fixture *f = *state;
    char ids[10][37];
    for (int i = 0; i < 10; i++)
        create(f, "permit", NULL, ids[i]);
    /* A second handle on the same file sees nothing of the batch before it commits. */
    cft_clock clock2 = f->clock;
    cf_engine *other = cft_open_fixture(f->db, &clock2);
    begin(f);
    for (int i = 0; i < 10; i++)
        cft_fire(f->e, ids[i], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    /* Inside the batch, the batch's own handle sees its fires. */
    assert_string_equal(cft_state(f->e, ids[3]), "active");
    assert_string_equal(cft_state(other, ids[3]), "pending");
    commit(f);
    assert_string_equal(cft_state(other, ids[3]), "active");
    for (int i = 0; i < 10; i++) {
        assert_string_equal(cft_state(f->e, ids[i]), "active");
        assert_int_equal(cft_history_count(f->e, ids[i]), 2);
    }
    cf_engine_close(other);
    verify(f);
}

static void test_batch_rollback_leaves_nothing(void **state)
{
    fixture *f = *state;
    char ids[5][37];
    for (int i = 0; i < 5; i++)
        create(f, "permit", NULL, ids[i]);
    cf_time far = cft_time("2030-01-01T00:00:00Z");
    int timers = cft_timer_count(f->e, far);
    assert_int_equal(timers, 5);
    begin(f);
    char made[37];
    create(f, "permit", NULL, made);
    for (int i = 0; i < 5; i++)
        cft_fire(f->e, ids[i], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    cft_fire(f->e, ids[0], "approve", NULL, CF_REJECTED); /* now active: no transition */
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    assert_int_equal(cf_batch_active(f->e), 0);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(cft_state(f->e, ids[i]), "pending");
        assert_int_equal(cft_history_count(f->e, ids[i]), 1);
    }
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, made, &info), CF_ENOTFOUND);
    assert_int_equal(cft_timer_count(f->e, far), timers);
    verify(f);
    /* The engine works as before afterwards. */
    cft_fire(f->e, ids[0], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    verify(f);
}

static void test_failed_fire_leaves_the_batch_usable(void **state)
{
    fixture *f = *state;
    char ids[10][37];
    for (int i = 0; i < 10; i++)
        create(f, "permit", NULL, ids[i]);
    cf_time far = cft_time("2030-01-01T00:00:00Z");
    begin(f);
    for (int i = 0; i < 10; i++) {
        if (i == 4) {
            /* Fire 5: `explode` leaves pending (cancelling its timer) and then an
             * action fails: the whole fire, timer included, is undone. */
            cf_fire_result r = CF_FIRE_RESULT_INIT;
            assert_int_equal(cf_instance_fire(f->e, ids[i], "explode", NULL, "t", NULL, &r), CF_EPOLICY);
            assert_non_null(strstr(cf_errmsg(f->e), "the fee service is down"));
            assert_int_equal(cf_batch_active(f->e), 1);
            continue;
        }
        cft_fire(f->e, ids[i], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    }
    /* A rejection inside the batch is recorded, like outside one. */
    cft_fire(f->e, ids[4], "approve", NULL, CF_REJECTED);
    /* Errors that fail before writing anything leave the batch usable too. */
    assert_int_equal(cf_instance_fire(f->e, ids[4], "no_such_event", NULL, "t", NULL, NULL), CF_EEVENT);
    assert_int_equal(cf_instance_fire(f->e, "missing", "approve", NULL, "t", NULL, NULL), CF_ENOTFOUND);
    commit(f);
    for (int i = 0; i < 10; i++) {
        if (i == 4) {
            assert_string_equal(cft_state(f->e, ids[i]), "pending");
            assert_int_equal(cft_history_count(f->e, ids[i]), 2); /* created + rejected */
            json_t *d = data_of(f->e, ids[i]);
            assert_null(json_object_get(d, "count")); /* the increment of `explode` was undone */
            json_decref(d);
        } else {
            assert_string_equal(cft_state(f->e, ids[i]), "active");
            assert_int_equal(cft_history_count(f->e, ids[i]), 2);
        }
    }
    /* 9 active permits have their expiry timer; the pending one kept its auto_deny. */
    assert_int_equal(cft_timer_count(f->e, far), 10);
    verify(f);
}

/* SQL on the database file through a connection of the test's own: here, triggers
 * that make one of the engine's writes fail, as a full disk or an I/O error would. */
static void raw_exec(const char *path, const char *sql)
{
    if (!cft_sql_tamper(path, sql))
        fail_msg("%s was refused", sql);
}

/* A fire in a batch runs without a savepoint when it decides everything before
 * writing: a database error on its first write undoes nothing else and leaves
 * the batch usable, with no trace of the fire. */
static void test_first_write_failing_leaves_the_batch_usable(void **state)
{
    fixture *f = *state;
    if (cft_pg())
        skip(); /* SQLite's triggers; PostgreSQL keeps a savepoint for every call of a batch */
    char ids[3][37];
    for (int i = 0; i < 3; i++)
        create(f, "permit", NULL, ids[i]);
    /* Rejections are refused by the database: the history row is the fire's first write. */
    raw_exec(f->db, "CREATE TRIGGER no_rejections BEFORE INSERT ON history WHEN NEW.outcome = 'rejected'"
                    "  BEGIN SELECT RAISE(ABORT, 'rejections are refused today'); END;");
    begin(f);
    cft_fire(f->e, ids[0], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    int rc = cf_instance_fire(f->e, ids[1], "approve", NULL, "t", NULL, NULL); /* no reviewer: rejected */
    assert_int_equal(rc, CF_ESTORE);
    assert_non_null(strstr(cf_errmsg(f->e), "rejections are refused today"));
    assert_null(strstr(cf_errmsg(f->e), "rolled back whole"));
    assert_int_equal(cf_batch_active(f->e), 1);
    cft_fire(f->e, ids[2], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    commit(f);
    assert_string_equal(cft_state(f->e, ids[0]), "active");
    assert_string_equal(cft_state(f->e, ids[1]), "pending");
    assert_int_equal(cft_history_count(f->e, ids[1]), 1);
    assert_string_equal(cft_state(f->e, ids[2]), "active");
    raw_exec(f->db, "DROP TRIGGER no_rejections");
    verify(f);
}

/* A database error after a fire without savepoint has written cannot be undone
 * for that fire alone: the whole batch is rolled back, the fire says so, and
 * every later call of the batch and its commit fail; nothing half-applied is
 * ever committed. */
static void test_write_failing_midway_rolls_the_batch_back(void **state)
{
    fixture *f = *state;
    if (cft_pg())
        skip(); /* SQLite's triggers; PostgreSQL keeps a savepoint for every call of a batch */
    char ids[4][37];
    for (int i = 0; i < 4; i++)
        create(f, "permit", NULL, ids[i]);
    cf_time far = cft_time("2030-01-01T00:00:00Z");
    int timers = cft_timer_count(f->e, far);
    /* The instance row of ids[2] cannot be updated: its timers and history row are
     * written by then. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER stuck BEFORE UPDATE ON instance WHEN OLD.id = '%s'"
             "  BEGIN SELECT RAISE(ABORT, 'the instance row is stuck'); END;",
             ids[2]);
    raw_exec(f->db, sql);
    begin(f);
    cft_fire(f->e, ids[0], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    cft_fire(f->e, ids[1], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    int rc = cf_instance_fire(f->e, ids[2], "approve", "{\"reviewer\":\"rosa\"}", "t", NULL, NULL);
    assert_int_equal(rc, CF_ESTORE);
    assert_non_null(strstr(cf_errmsg(f->e), "the instance row is stuck"));
    assert_non_null(strstr(cf_errmsg(f->e), "rolled back whole"));
    assert_int_equal(cf_batch_active(f->e), 1);
    /* Later calls of the batch are refused, saying why. */
    rc = cf_instance_fire(f->e, ids[3], "approve", "{\"reviewer\":\"rosa\"}", "t", NULL, NULL);
    assert_int_equal(rc, CF_ESTORE);
    assert_non_null(strstr(cf_errmsg(f->e), "rolled back whole"));
    char made[37];
    assert_int_equal(cf_instance_create(f->e, "permit", "kern", NULL, "t", made), CF_ESTORE);
    /* And so is its commit, which ends it. */
    assert_int_equal(cf_batch_commit(f->e), CF_ESTORE);
    assert_non_null(strstr(cf_errmsg(f->e), "nothing done in the batch was applied"));
    assert_int_equal(cf_batch_active(f->e), 0);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(cft_state(f->e, ids[i]), "pending");
        assert_int_equal(cft_history_count(f->e, ids[i]), 1);
    }
    assert_int_equal(cft_timer_count(f->e, far), timers);
    verify(f);
    /* A batch after it works; so does cf_batch_rollback on a batch rolled back this way. */
    begin(f);
    cft_fire(f->e, ids[0], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    assert_int_equal(cf_instance_fire(f->e, ids[2], "approve", "{\"reviewer\":\"rosa\"}", "t", NULL, NULL), CF_ESTORE);
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    assert_int_equal(cf_batch_active(f->e), 0);
    raw_exec(f->db, "DROP TRIGGER stuck");
    begin(f);
    for (int i = 0; i < 4; i++)
        cft_fire(f->e, ids[i], "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    commit(f);
    for (int i = 0; i < 4; i++)
        assert_string_equal(cft_state(f->e, ids[i]), "active");
    verify(f);
}

/* A transition that writes before a later step can fail (here: a linked event
 * queued, then the next one refused) keeps its savepoint in a batch: it is
 * undone alone and the batch goes on. */
static void test_fire_writing_early_keeps_its_savepoint(void **state)
{
    fixture *f = *state;
    char ledger[37], bad[37], good[37];
    create(f, "ledger", NULL, ledger);
    char data[160];
    snprintf(data, sizeof data, "{\"ledger_id\":[\"%s\",\"00000000-0000-4000-8000-000000000000\"]}", ledger);
    create(f, "permit", data, bad);
    create(f, "permit", NULL, good);
    begin(f);
    int rc = cf_instance_fire(f->e, bad, "post", NULL, "t", NULL, NULL);
    assert_int_equal(rc, CF_EACTION);
    assert_null(strstr(cf_errmsg(f->e), "rolled back whole"));
    assert_int_equal(cf_batch_active(f->e), 1);
    cft_fire(f->e, good, "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    commit(f);
    assert_string_equal(cft_state(f->e, good), "active");
    assert_int_equal(cft_history_count(f->e, bad), 1);
    /* The event queued for the ledger before the refusal went with the fire. */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(cft_history_count(f->e, ledger), 1);
    verify(f);
}

static void test_idempotency_inside_a_batch(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    begin(f);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, id, "bump", NULL, "t", "k1", &r), CF_OK);
    assert_int_equal(r.replayed, 0);
    int64_t seq = r.seq;
    assert_int_equal(cf_instance_fire(f->e, id, "bump", NULL, "t", "k1", &r), CF_OK);
    assert_int_equal(r.replayed, 1);
    assert_int_equal(r.seq, seq);
    assert_int_equal(cf_instance_fire(f->e, id, "note", NULL, "t", "k1", &r), CF_ECONFLICT);
    commit(f);
    /* After the commit the key still replays. */
    assert_int_equal(cf_instance_fire(f->e, id, "bump", NULL, "t", "k1", &r), CF_OK);
    assert_int_equal(r.replayed, 1);
    assert_int_equal(cft_history_count(f->e, id), 2);
    json_t *d = data_of(f->e, id);
    assert_int_equal(json_integer_value(json_object_get(d, "count")), 1);
    json_decref(d);
    /* A key used in a rolled-back batch was never used. */
    begin(f);
    assert_int_equal(cf_instance_fire(f->e, id, "bump", NULL, "t", "k2", &r), CF_OK);
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    assert_int_equal(cf_instance_fire(f->e, id, "bump", NULL, "t", "k2", &r), CF_OK);
    assert_int_equal(r.replayed, 0);
    verify(f);
}

static void test_linked_events_are_delivered_after_commit(void **state)
{
    fixture *f = *state;
    char ledger[37], permit[37];
    create(f, "ledger", NULL, ledger);
    char data[128];
    snprintf(data, sizeof data, "{\"ledger_id\":\"%s\"}", ledger);
    create(f, "permit", data, permit);
    begin(f);
    cft_fire(f->e, permit, "post", NULL, CF_OK);
    cft_fire(f->e, permit, "post", NULL, CF_OK);
    assert_int_equal(cft_history_count(f->e, ledger), 1); /* queued, not delivered */
    commit(f);
    assert_int_equal(cft_history_count(f->e, ledger), 3);
    json_t *d = data_of(f->e, ledger);
    assert_int_equal(json_integer_value(json_object_get(d, "entries")), 2);
    json_decref(d);
    /* Rolled back, the queued events go too. */
    begin(f);
    cft_fire(f->e, permit, "post", NULL, CF_OK);
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(cft_history_count(f->e, ledger), 3);
    verify(f);
}

static void test_tick_inside_and_outside_batches(void **state)
{
    fixture *f = *state;
    char ids[3][37];
    for (int i = 0; i < 3; i++)
        create(f, "permit", NULL, ids[i]);
    /* pending_days = 30: auto_deny is due 2025-02-05 00:00 Pacific. */
    f->clock.now = cft_time("2025-03-01T00:00:00Z");
    uint64_t fired = 0;
    begin(f);
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 3);
    assert_string_equal(cft_state(f->e, ids[0]), "denied");
    assert_int_equal(cf_batch_rollback(f->e), CF_OK);
    /* Rolled back: the timers are pending again and fire outside the batch. */
    assert_string_equal(cft_state(f->e, ids[0]), "pending");
    assert_int_equal(cft_timer_count(f->e, f->clock.now), 3);
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(cft_state(f->e, ids[i]), "denied");
    /* Inside a batch that commits, the tick's fires are kept. */
    char more[37];
    create(f, "permit", NULL, more);
    f->clock.now = cft_time("2025-06-01T00:00:00Z");
    begin(f);
    cft_fire(f->e, ids[0], "approve", NULL, CF_REJECTED); /* denied is final */
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 1);
    commit(f);
    assert_string_equal(cft_state(f->e, more), "denied");
    verify(f);
}

/* A tick's timers run without a savepoint too: a database error after one has
 * written rolls its run back whole, the tick says so, and nothing of the run is
 * committed; the timers stay pending for the next tick. */
static void test_tick_timer_failing_midway_rolls_the_run_back(void **state)
{
    fixture *f = *state;
    if (cft_pg())
        skip(); /* SQLite's triggers; PostgreSQL keeps a savepoint for every call of a run */
    char ids[3][37];
    for (int i = 0; i < 3; i++)
        create(f, "permit", NULL, ids[i]);
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER stuck BEFORE UPDATE ON instance WHEN OLD.id = '%s'"
             "  BEGIN SELECT RAISE(ABORT, 'the instance row is stuck'); END;",
             ids[1]);
    raw_exec(f->db, sql);
    f->clock.now = cft_time("2025-03-01T00:00:00Z"); /* every auto_deny is due */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_ESTORE);
    assert_non_null(strstr(cf_errmsg(f->e), "rolled back whole"));
    assert_int_equal(fired, 0);
    assert_int_equal(cf_batch_active(f->e), 0);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(cft_state(f->e, ids[i]), "pending");
        assert_int_equal(cft_history_count(f->e, ids[i]), 1);
    }
    assert_int_equal(cft_timer_count(f->e, f->clock.now), 3);
    verify(f);
    raw_exec(f->db, "DROP TRIGGER stuck");
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(cft_state(f->e, ids[i]), "denied");
    verify(f);
}

/* More timers than one run of a tick holds: several runs, every timer once. */
static void test_tick_commits_in_runs(void **state)
{
    fixture *f = *state;
    enum { N = 2300 };
    char(*ids)[37] = calloc(N, 37);
    begin(f);
    for (int i = 0; i < N; i++)
        create(f, "permit", NULL, ids[i]);
    commit(f);
    f->clock.now = cft_time("2025-03-01T00:00:00Z");
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(f->e, f->clock.now, &fired), CF_OK);
    assert_int_equal(fired, N);
    assert_int_equal(cft_timer_count(f->e, f->clock.now), 0);
    assert_string_equal(cft_state(f->e, ids[0]), "denied");
    assert_string_equal(cft_state(f->e, ids[N - 1]), "denied");
    assert_int_equal(cft_history_count(f->e, ids[N / 2]), 2);
    verify(f);
    free(ids);
}

static void test_batch_misuse_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(cf_batch_commit(f->e), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "no batch is open"));
    assert_int_equal(cf_batch_rollback(f->e), CF_EINVAL);
    begin(f);
    assert_int_equal(cf_batch_begin(f->e), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "do not nest"));
    assert_int_equal(cf_batch_active(f->e), 1);
    char *overlay = cft_write(f->dir, "kern.lua", "return { params = { pending_days = 10 } }\n");
    assert_int_equal(cf_policy_apply(f->e, "kern", overlay, "t", NULL, NULL), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "inside a batch"));
    free(overlay);
    commit(f);
    assert_int_equal(cf_batch_active(NULL), 0);
}

/* Closing the engine with a batch open discards the batch. */
static void test_close_discards_an_open_batch(void **state)
{
    fixture *f = *state;
    char id[37];
    create(f, "permit", NULL, id);
    begin(f);
    cft_fire(f->e, id, "approve", "{\"reviewer\":\"rosa\"}", CF_OK);
    cf_engine_close(f->e);
    f->e = cft_open_fixture(f->db, &f->clock);
    assert_string_equal(cft_state(f->e, id), "pending");
    assert_int_equal(cft_history_count(f->e, id), 1);
    verify(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_applies_every_fire_at_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_fire_leaves_the_batch_usable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_write_failing_leaves_the_batch_usable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failing_midway_rolls_the_batch_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fire_writing_early_keeps_its_savepoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_inside_a_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linked_events_are_delivered_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_inside_and_outside_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_timer_failing_midway_rolls_the_run_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_commits_in_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_misuse_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_discards_an_open_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
