/* test_concurrency.c — four processes fire at the same instances and tick the
 * same timers at once; the result must equal one process doing the same work
 * alone, and a busy database must never reach a caller as a failure unless the
 * caller's own timeout ran out, in which case the message says what to do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NPROC 4
#define NINST 6
#define PER_PROC 300   /* events each process fires */
#define NSHARED 24     /* keys every process fires: each must apply once */
#define STEP 900       /* virtual seconds between a process's events */
#define T0 "2025-03-01T00:00:00Z"

typedef struct stats {
    long applied, rejected, replayed, busy, other;
    uint64_t timers;
    char first_error[512];
} stats;

static void note_error(stats *s, const char *what, int rc, const char *msg)
{
    if (!s->first_error[0])
        snprintf(s->first_error, sizeof s->first_error, "%s: %s: %.400s", what, cf_result_name(rc), msg);
    if (rc == CF_EBUSY)
        s->busy++;
    else
        s->other++;
}

/* One process's share of the work: a seeded stream of events at the instances
 * ids[0..NINST-1], some under keys every process uses, with ticks in between
 * and a last tick at the end of the period. The outcome of the whole workload
 * does not depend on how the processes interleave (see fixtures/workflows/tally.lua). */
static void work(cf_engine *e, cft_clock *clock, char ids[NINST][37], int proc, uint64_t seed, stats *s)
{
    rel_rng rng = {seed + (uint64_t)proc * 7919};
    cf_time t0 = cft_time(T0);
    for (int i = 0; i < PER_PROC; i++) {
        clock->now = t0 + (cf_time)i * STEP;
        if (i % 25 == 24) {
            uint64_t fired = 0;
            int rc = cf_engine_tick(e, clock->now, &fired);
            s->timers += fired;
            if (rc != CF_OK)
                note_error(s, "tick", rc, cf_errmsg(e));
            continue;
        }
        char key[32], data[32];
        const char *event = "add";
        int inst;
        long n;
        int64_t dice = rel_range(&rng, 0, 99);
        if (dice < 15) { /* a key all four processes send: the same event and data each time */
            int j = (int)rel_range(&rng, 0, NSHARED - 1);
            snprintf(key, sizeof key, "shared-%d", j);
            inst = j % NINST;
            n = j % 5 + 1;
        } else {
            snprintf(key, sizeof key, "p%d-%d", proc, i);
            inst = (int)rel_range(&rng, 0, NINST - 1);
            n = (long)rel_range(&rng, -3, 12); /* n <= 0 is rejected by the guards */
            if (dice < 22)
                event = "bad"; /* no transition: rejected in any state */
        }
        snprintf(data, sizeof data, "{\"n\":%ld}", n);
        cf_fire_result r = CF_FIRE_RESULT_INIT;
        int rc = cf_instance_fire(e, ids[inst], event, data, "proc", key, &r);
        if (rc == CF_OK || rc == CF_REJECTED) {
            if (r.replayed)
                s->replayed++;
            else if (rc == CF_OK)
                s->applied++;
            else
                s->rejected++;
        } else {
            note_error(s, key, rc, cf_errmsg(e));
        }
    }
    clock->now = t0 + (cf_time)PER_PROC * STEP;
    uint64_t fired = 0;
    int rc = cf_engine_tick(e, clock->now, &fired);
    s->timers += fired;
    if (rc != CF_OK)
        note_error(s, "last tick", rc, cf_errmsg(e));
}

static void create_tallies(cf_engine *e, char ids[NINST][37])
{
    for (int k = 0; k < NINST; k++) {
        char data[128];
        snprintf(data, sizeof data, "{\"idx\":%d,\"next_beat\":\"2025-03-01T01:00:00Z\"}", k);
        int rc = cf_instance_create(e, "tally", "alameda", data, "setup", ids[k]);
        if (rc != CF_OK)
            fail_msg("create: %s", cf_errmsg(e));
    }
}

typedef struct snapshot {
    char state[NINST][16];
    char *data[NINST];
    int64_t version[NINST];
    int timers;
} snapshot;

static int count_timer(void *ud, const cf_timer_info *t)
{
    (void)t;
    ++*(int *)ud;
    return 0;
}

static void take(cf_engine *e, char ids[NINST][37], snapshot *s)
{
    for (int k = 0; k < NINST; k++) {
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        assert_int_equal(cf_instance_get(e, ids[k], &info), CF_OK);
        snprintf(s->state[k], sizeof s->state[k], "%s", info.state);
        s->data[k] = strdup(info.data);
        s->version[k] = info.version;
    }
    s->timers = 0;
    assert_int_equal(cf_timer_list(e, INT64_MIN / 2, INT64_MAX / 2, count_timer, &s->timers), CF_OK);
}

static void test_four_processes_equal_a_serial_run(void **state)
{
    (void)state;
    uint64_t seed = rel_seed("concurrency", 4242);
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "shared.db"), *serial_db = cft_path(dir, "serial.db");
    cft_clock clock = {cft_time(T0)};
    char ids[NINST][37], serial_ids[NINST][37];

    /* The serial run: the four shares one after the other in this process. */
    cf_engine *e = rel_open_ok(serial_db, &clock, 0);
    create_tallies(e, serial_ids);
    stats serial = {0};
    for (int p = 0; p < NPROC; p++)
        work(e, &clock, serial_ids, p, seed, &serial);
    if (serial.busy || serial.other)
        fail_msg("the serial run failed: %s", serial.first_error);
    snapshot want;
    take(e, serial_ids, &want);
    cf_engine_close(e);

    /* The same shares in four processes at once, released together. */
    clock.now = cft_time(T0);
    e = rel_open_ok(db, &clock, 0);
    create_tallies(e, ids);
    cf_engine_close(e);
    int go[2], report[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(report), 0);
    pid_t kids[NPROC];
    fflush(NULL);
    for (int p = 0; p < NPROC; p++) {
        kids[p] = fork();
        assert_true(kids[p] >= 0);
        if (kids[p] == 0) {
            close(go[1]);
            close(report[0]);
            cft_clock mine = {cft_time(T0)};
            stats s = {0};
            int rc = 0;
            char msg[512];
            /* A generous busy timeout: waiting for the others is normal, failing is not. */
            cf_engine *ce = rel_open(db, &mine, 120000, &rc, msg, sizeof msg);
            char c;
            if (read(go[0], &c, 1) < 0)
                _exit(3);
            if (!ce)
                note_error(&s, "open", rc, msg);
            else
                work(ce, &mine, ids, p, seed, &s);
            cf_engine_close(ce);
            /* One write per report: it arrives whole. */
            if (write(report[1], &s, sizeof s) != (ssize_t)sizeof s)
                _exit(4);
            _exit(0);
        }
    }
    close(go[0]);
    close(report[1]);
    close(go[1]); /* go */
    stats total = {0};
    for (int p = 0; p < NPROC; p++) {
        stats s;
        ssize_t got = read(report[0], &s, sizeof s);
        assert_int_equal(got, (ssize_t)sizeof s);
        if (s.busy || s.other)
            fail_msg("a process saw %ld busy and %ld other failures; the first: %s", s.busy, s.other,
                     s.first_error);
        total.applied += s.applied;
        total.rejected += s.rejected;
        total.replayed += s.replayed;
        total.timers += s.timers;
    }
    close(report[0]);
    for (int p = 0; p < NPROC; p++) {
        int status = 0;
        while (waitpid(kids[p], &status, 0) < 0)
            assert_int_equal(errno, EINTR);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    e = rel_open_ok(db, &clock, 0);
    rel_census census;
    rel_check(e, &census);
    rel_census_free(&census);
    snapshot got;
    take(e, ids, &got);
    cf_engine_close(e);
    print_message("concurrency: %d processes x %d events; applied %ld, rejected %ld, replayed %ld, timers fired %"
                  PRIu64 " (serial: %ld, %ld, %ld, %" PRIu64 "); 0 busy, 0 failed\n",
                  NPROC, PER_PROC, total.applied, total.rejected, total.replayed, total.timers, serial.applied,
                  serial.rejected, serial.replayed, serial.timers);
    assert_int_equal(total.applied, serial.applied);
    assert_int_equal(total.rejected, serial.rejected);
    assert_int_equal(total.replayed, serial.replayed);
    assert_int_equal(total.timers, serial.timers);
    assert_true(serial.replayed > 0 && serial.timers > 0 && serial.rejected > 0);
    for (int k = 0; k < NINST; k++) {
        if (strcmp(got.state[k], want.state[k]) != 0 || strcmp(got.data[k], want.data[k]) != 0 ||
            got.version[k] != want.version[k])
            fail_msg("instance %d: concurrent run ends in %s %s with %" PRId64 " rows; the serial run in %s %s with %"
                     PRId64, k, got.state[k], got.data[k], got.version[k], want.state[k], want.data[k],
                     want.version[k]);
        free(got.data[k]);
        free(want.data[k]);
    }
    assert_int_equal(got.timers, want.timers);
    free(db);
    free(serial_db);
    cft_rmtree(dir);
}

/* Hold the write lock from another connection, as another process would. */
static sqlite3 *lock_db(const char *db)
{
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return raw;
}

static void assert_busy_message(cf_engine *e, int rc, const char *what)
{
    if (rc != CF_EBUSY)
        fail_msg("%s under a held lock: %s (%s), expected CF_EBUSY", what, cf_result_name(rc), cf_errmsg(e));
    const char *msg = cf_errmsg(e);
    if (!strstr(msg, "more than 100 ms") || !strstr(msg, "retry, or raise busy_timeout_ms"))
        fail_msg("%s: the busy message does not say what to do: %s", what, msg);
}

/* With a short timeout, a lock held longer is CF_EBUSY saying what to do, and nothing changes. */
static void test_short_timeout_reports_busy_with_advice(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "busy.db");
    cft_clock clock = {cft_time(T0)};
    cf_engine *e = rel_open_ok(db, &clock, 100);
    char ids[NINST][37];
    create_tallies(e, ids);
    sqlite3 *raw = lock_db(db);

    int before = cft_history_count(e, ids[0]);
    assert_busy_message(e, cf_instance_fire(e, ids[0], "add", "{\"n\":5}", "t", "busy-1", NULL), "fire");
    char id[37];
    assert_busy_message(e, cf_instance_create(e, "tally", "alameda", NULL, "t", id), "create");
    clock.now = cft_time("2025-03-02T00:00:00Z");
    assert_busy_message(e, cf_engine_tick(e, clock.now, NULL), "tick");
    /* Reading does not wait for writers (WAL). */
    assert_int_equal(cft_history_count(e, ids[0]), before);
    /* Opening needs no write lock when the workflow definitions are stored already:
     * a second process opens while the first one writes. */
    int rc = 0;
    char msg[1024];
    cf_engine *second = rel_open(db, &clock, 100, &rc, msg, sizeof msg);
    if (!second)
        fail_msg("open while another process writes: %s", msg);
    assert_int_equal(cft_history_count(second, ids[0]), before);
    cf_engine_close(second);

    assert_int_equal(sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    /* Retrying, as the message says, works, and the key was never used. */
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(e, ids[0], "add", "{\"n\":5}", "t", "busy-1", &r), CF_OK);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(cft_history_count(e, ids[0]), before + 1);
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(e, clock.now, &fired), CF_OK);
    assert_true(fired > 0);
    rel_census census;
    rel_check(e, &census);
    rel_census_free(&census);
    cf_engine_close(e);
    free(db);
    cft_rmtree(dir);
}

/* A lock held for a while by another process is waited out within the timeout. */
static void test_lock_held_briefly_is_waited_out(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "wait.db");
    cft_clock clock = {cft_time(T0)};
    cf_engine *e = rel_open_ok(db, &clock, 30000);
    char ids[NINST][37];
    create_tallies(e, ids);
    int held[2];
    assert_int_equal(pipe(held), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(held[0]);
        sqlite3 *raw = NULL;
        if (sqlite3_open(db, &raw) != SQLITE_OK || sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            _exit(2);
        if (write(held[1], "x", 1) != 1)
            _exit(3);
        struct timespec hold = {0, 300 * 1000 * 1000};
        nanosleep(&hold, NULL);
        sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(raw);
        _exit(0);
    }
    close(held[1]);
    char c;
    assert_int_equal(read(held[0], &c, 1), 1);
    close(held[0]);
    int rc = cf_instance_fire(e, ids[1], "add", "{\"n\":3}", "t", "wait-1", NULL);
    if (rc != CF_OK)
        fail_msg("fire while another process held the lock briefly: %s: %s", cf_result_name(rc), cf_errmsg(e));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cf_engine_close(e);
    free(db);
    cft_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_processes_equal_a_serial_run),
        cmocka_unit_test(test_short_timeout_reports_busy_with_advice),
        cmocka_unit_test(test_lock_held_briefly_is_waited_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
