/* test_crash.c — crash consistency: a child process fires a long stream of
 * events (with idempotency keys), creates instances and ticks timers, telling
 * the parent through a pipe what it is about to do and, after each call
 * returns, what committed; the parent SIGKILLs it at seeded random points,
 * hundreds of times, and after every kill reopens the database and checks that
 * nothing acknowledged was lost and nothing is half-applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_INSTANCES 40
#define BASE_TIME "2025-01-06T08:00:00Z"

static const char *const EVENTS[] = {"start", "bump", "bump", "bump", "finish", "pause", "resume", "restart"};
#define NEVENTS (sizeof EVENTS / sizeof *EVENTS)

typedef struct world {
    char ids[MAX_INSTANCES][37];
    int nids;
} world;

/* ---- the child ---- */

/* One message, one write(): under PIPE_BUF bytes, so it arrives whole or not at all. */
static void say(int fd, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (write(fd, line, (size_t)n) != n)
        _exit(3);
}

/* Fires until killed. Protocol (one line each):
 *   S <key> <instance> <event> <n>   about to fire
 *   C <key> <result name>            the fire returned (the event is committed)
 *   N <instance>                     cf_instance_create returned this new id
 *   T <fired>                        cf_engine_tick returned
 *   E <message>                      an unexpected result; the child exits 2 */
static void child(const char *db, const world *w, int run, uint64_t seed, int fd)
{
    cft_clock clock = {cft_time(BASE_TIME) + (cf_time)run * 7200};
    int rc = 0;
    char msg[512];
    cf_engine *e = rel_open(db, &clock, 60000, &rc, msg, sizeof msg);
    if (!e) {
        say(fd, "E open: %s: %.200s\n", cf_result_name(rc), msg);
        _exit(2);
    }
    world mine = *w;
    rel_rng rng = {seed};
    char prev_key[64] = "", prev_id[37] = "", prev_event[16] = "";
    long prev_n = 0;
    for (long i = 0; i < 1000000; i++) {
        clock.now += 600;
        int64_t dice = rel_range(&rng, 0, 99);
        if (dice < 3 && mine.nids < MAX_INSTANCES) {
            char id[37];
            rc = cf_instance_create(e, "job", "alameda", "{\"count\":0}", "crash", id);
            if (rc != CF_OK) {
                say(fd, "E create: %s: %.200s\n", cf_result_name(rc), cf_errmsg(e));
                _exit(2);
            }
            memcpy(mine.ids[mine.nids++], id, 37);
            say(fd, "N %s\n", id);
            continue;
        }
        if (dice < 13) {
            uint64_t fired = 0;
            rc = cf_engine_tick(e, clock.now, &fired);
            if (rc != CF_OK) {
                say(fd, "E tick: %s: %.200s\n", cf_result_name(rc), cf_errmsg(e));
                _exit(2);
            }
            say(fd, "T %" PRIu64 "\n", fired);
            continue;
        }
        char key[64], data[64];
        const char *id, *event;
        long n;
        bool again = dice < 18 && prev_key[0];
        if (again) { /* the same key again: must be a replay, never a second row */
            snprintf(key, sizeof key, "%s", prev_key);
            id = prev_id;
            event = prev_event;
            n = prev_n;
        } else {
            snprintf(key, sizeof key, "r%d-%ld", run, i);
            id = mine.ids[rel_range(&rng, 0, mine.nids - 1)];
            event = EVENTS[rel_range(&rng, 0, NEVENTS - 1)];
            n = (long)rel_range(&rng, 0, 1000);
        }
        snprintf(data, sizeof data, "{\"n\":%ld}", n);
        say(fd, "S %s %s %s %ld\n", key, id, event, n);
        cf_fire_result r = CF_FIRE_RESULT_INIT;
        rc = cf_instance_fire(e, id, event, data, "crash", key, &r);
        if ((rc != CF_OK && rc != CF_REJECTED) || (again && !r.replayed) || (!again && r.replayed)) {
            say(fd, "E fire %s %s: %s replayed=%d: %.200s\n", key, event, cf_result_name(rc), r.replayed,
                cf_errmsg(e));
            _exit(2);
        }
        say(fd, "C %s %s\n", key, cf_result_name(rc));
        if (!again) {
            snprintf(prev_key, sizeof prev_key, "%s", key);
            snprintf(prev_id, sizeof prev_id, "%s", id);
            snprintf(prev_event, sizeof prev_event, "%s", event);
            prev_n = n;
        }
    }
    cf_engine_close(e);
    _exit(0);
}

/* ---- the parent ---- */

typedef struct inflight {
    bool open;
    char key[64], id[37], event[16];
    long n;
} inflight;

typedef struct child_log {
    char *text;
    size_t len, cap;
} log_t;

static void log_add(log_t *l, const char *p, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        l->cap = (l->len + n + 1) * 2;
        l->text = realloc(l->text, l->cap);
        assert_non_null(l->text);
    }
    memcpy(l->text + l->len, p, n);
    l->len += n;
    l->text[l->len] = '\0';
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int count_lines(const log_t *l, char kind)
{
    int n = 0;
    for (size_t i = 0; i < l->len; i++)
        if (l->text[i] == kind && (i == 0 || l->text[i - 1] == '\n'))
            n++;
    return n;
}

/* Read what the child says until `until_commits` commits were acknowledged or
 * `until_us` passed, whichever comes first (-1: no such condition). */
static void read_until(int fd, log_t *l, int until_commits, int64_t until_us)
{
    int64_t guard = now_us() + 60 * 1000000; /* a child that hangs is a failure, not a wait */
    for (;;) {
        if (until_commits >= 0 && count_lines(l, 'C') >= until_commits)
            return;
        int64_t t = now_us();
        if (until_us >= 0 && t >= until_us)
            return;
        if (t >= guard)
            fail_msg("the child neither progressed nor exited for 60 s; its log:\n%s", l->text ? l->text : "");
        int wait_ms = until_us >= 0 ? (int)((until_us - t + 999) / 1000) : 100;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, wait_ms > 100 ? 100 : wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            char buf[4096];
            ssize_t k = read(fd, buf, sizeof buf);
            if (k <= 0)
                return; /* the child is gone */
            log_add(l, buf, (size_t)k);
        }
    }
}

static void drain(int fd, log_t *l)
{
    char buf[4096];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        log_add(l, buf, (size_t)k);
}

typedef struct totals {
    long kills, exits, acked, resent_applied, resent_replayed, creates, ticks;
} totals;

static void test_sigkill_at_random_points(void **state)
{
    (void)state;
    uint64_t seed = rel_seed("crash", 20250106);
    long kills_wanted = rel_env_count("CF_RELIABILITY_KILLS", 200);
    rel_rng rng = {seed};
    char *dir = cft_tmpdir();
    char *db = cft_path(dir, "crash.db");
    cft_clock clock = {cft_time(BASE_TIME)};
    world w = {.nids = 0};
    cf_engine *e = rel_open_ok(db, &clock, 60000);
    for (int i = 0; i < 6; i++) {
        int rc = cf_instance_create(e, "job", "alameda", "{\"count\":0}", "setup", w.ids[w.nids]);
        if (rc != CF_OK)
            fail_msg("create: %s", cf_errmsg(e));
        w.nids++;
    }
    cf_engine_close(e);

    /* Every key ever acknowledged, to check again at the end. */
    char **acked = NULL;
    size_t nacked = 0, capacked = 0;
    totals tot = {0};
    for (int run = 0; tot.kills < kills_wanted; run++) {
        if (run > kills_wanted * 2)
            fail_msg("only %ld of %ld runs ended in a kill: children finish too fast", tot.kills, kills_wanted);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        uint64_t child_seed = rel_next(&rng);
        int mode = (int)rel_range(&rng, 0, 2);
        int commits = (int)rel_range(&rng, 0, 40);
        int64_t delay = mode == 2 ? rel_range(&rng, 0, 4000) : rel_range(&rng, 0, 25000);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(db, &w, run, child_seed, fds[1]);
        }
        close(fds[1]);
        log_t l = {0};
        int64_t start = now_us();
        if (mode == 0) /* right after the K-th acknowledged commit: the next fire is in flight */
            read_until(fds[0], &l, commits, -1);
        else /* at a random moment: during open, a fire, a tick, a commit or a checkpoint */
            read_until(fds[0], &l, -1, start + delay);
        kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0)
            assert_int_equal(errno, EINTR);
        drain(fds[0], &l);
        close(fds[0]);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            tot.kills++;
        } else {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                const char *why = l.text ? strstr(l.text, "\nE ") : NULL;
                fail_msg("run %d: the child failed (status %d): %.900s", run, status,
                         why ? why + 1 : "(it said nothing)");
            }
            tot.exits++;
        }

        /* What the child acknowledged, and what was in flight. */
        inflight fl = {0};
        char **run_keys = NULL;
        size_t nrun = 0;
        for (char *line = l.text, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (!next)
                break; /* cannot happen: every message ends in a newline */
            *next++ = '\0';
            if (line[0] == 'S') {
                fl.open = sscanf(line, "S %63s %36s %15s %ld", fl.key, fl.id, fl.event, &fl.n) == 4;
                assert_true(fl.open);
            } else if (line[0] == 'C') {
                char key[64];
                assert_int_equal(sscanf(line, "C %63s", key), 1);
                assert_string_equal(key, fl.key);
                fl.open = false;
                run_keys = realloc(run_keys, (nrun + 1) * sizeof *run_keys);
                run_keys[nrun++] = strdup(key);
                tot.acked++;
            } else if (line[0] == 'N') {
                char id[37];
                assert_int_equal(sscanf(line, "N %36s", id), 1);
                assert_true(w.nids < MAX_INSTANCES);
                memcpy(w.ids[w.nids++], id, 37);
                tot.creates++;
            } else if (line[0] == 'T') {
                tot.ticks++;
            } else if (line[0] == 'E') {
                fail_msg("run %d: %s", run, line);
            }
        }

        /* Reopen and check. */
        clock.now = cft_time(BASE_TIME) + (cf_time)run * 7200;
        e = rel_open_ok(db, &clock, 60000);
        rel_census census;
        rel_check(e, &census);
        for (size_t i = 0; i < nrun; i++)
            if (!rel_census_has_key(&census, run_keys[i]))
                fail_msg("run %d: the child saw event '%s' committed, but it is not in the history", run,
                         run_keys[i]);
        rel_census_free(&census);
        for (int i = 0; i < w.nids; i++) {
            cf_instance_info info = CF_INSTANCE_INFO_INIT;
            if (cf_instance_get(e, w.ids[i], &info) != CF_OK)
                fail_msg("run %d: instance %s, whose creation was acknowledged, is gone: %s", run, w.ids[i],
                         cf_errmsg(e));
        }
        /* Send the event that was in flight again, with its key: once at most. */
        if (fl.open) {
            char data[64];
            snprintf(data, sizeof data, "{\"n\":%ld}", fl.n);
            int before = rel_key_rows(e, fl.key);
            assert_true(before <= 1);
            cf_fire_result r = CF_FIRE_RESULT_INIT;
            int rc = cf_instance_fire(e, fl.id, fl.event, data, "crash", fl.key, &r);
            if (rc != CF_OK && rc != CF_REJECTED)
                fail_msg("run %d: re-sending %s: %s: %s", run, fl.key, cf_result_name(rc), cf_errmsg(e));
            assert_int_equal(r.replayed, before);
            assert_int_equal(rel_key_rows(e, fl.key), 1);
            if (r.replayed)
                tot.resent_replayed++;
            else
                tot.resent_applied++;
            run_keys = realloc(run_keys, (nrun + 1) * sizeof *run_keys);
            run_keys[nrun++] = strdup(fl.key);
        }
        cf_engine_close(e);
        for (size_t i = 0; i < nrun; i++) {
            if (nacked == capacked) {
                capacked = capacked ? capacked * 2 : 1024;
                acked = realloc(acked, capacked * sizeof *acked);
                assert_non_null(acked);
            }
            acked[nacked++] = run_keys[i];
        }
        free(run_keys);
        free(l.text);
    }

    /* At the end, every key acknowledged in any run is still there, once. */
    e = rel_open_ok(db, &clock, 60000);
    rel_census census;
    rel_check(e, &census);
    for (size_t i = 0; i < nacked; i++) {
        if (!rel_census_has_key(&census, acked[i]))
            fail_msg("acknowledged event '%s' is missing at the end", acked[i]);
        free(acked[i]);
    }
    free(acked);
    print_message("crash: %ld kills, %ld clean exits, %ld acknowledged fires, %ld creates, %ld ticks; "
                  "in flight at the kill: %ld had committed (replayed), %ld had not (applied on resend); "
                  "%" PRId64 " instances, %" PRId64 " history rows (%" PRId64 " applied, %" PRId64
                  " rejected), %" PRId64 " timers pending\n",
                  tot.kills, tot.exits, tot.acked, tot.creates, tot.ticks, tot.resent_replayed, tot.resent_applied,
                  census.instances, census.rows, census.applied, census.rejected, census.timers);
    assert_true(census.applied > 0 && census.rejected > 0);
    rel_census_free(&census);
    cf_engine_close(e);
    free(db);
    cft_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_at_random_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
