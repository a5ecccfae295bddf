/*
 * embed.c — a complete program that embeds certflow: it opens an engine on a
 * temporary database with a virtual clock, starts two tickets, fires events
 * (one rejected, one applied, one replayed by its idempotency key), reads an
 * instance, lets a week pass and catches up the due timers with one tick,
 * walks a history, verifies the hash chain and closes.
 *
 * Build:  cc embed.c $(pkg-config --cflags --libs certflow) -o embed
 * Run:    ./embed WORKFLOW_DIR POLICY_DIR   (e.g. tests/fixtures/cli/workflows tests/fixtures/cli/lua)
 */
#define _POSIX_C_SOURCE 200809L
#include <certflow/certflow.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The virtual clock: the engine asks it for "now"; we move it by hand. */
typedef struct virtual_clock {
    cf_time now;
} virtual_clock;

static cf_time clock_now(void *ud)
{
    return ((virtual_clock *)ud)->now;
}

/* Every call returns a result code; on failure cf_errmsg says what and what to do. */
static int check(cf_engine *engine, int rc, const char *what)
{
    if (rc != CF_OK)
        fprintf(stderr, "embed: %s failed: %s: %s\n", what, cf_result_name(rc), cf_errmsg(engine));
    return rc;
}

static const char *iso(cf_time t, char buf[32])
{
    cf_time_format(t, buf, 32);
    return buf;
}

/* History rows are valid only during the callback: print, do not keep. */
static int print_row(void *ud, const cf_history_entry *h)
{
    char when[32];
    (void)ud;
    printf("  #%lld %s %-8s %-9s %-8s %s -> %s %s\n", (long long)h->number, iso(h->effective_at, when), h->actor,
           *h->event ? h->event : "(create)", h->outcome, *h->from_state ? h->from_state : "-", h->to_state,
           h->reasons);
    return 0; /* 0: continue */
}

static int print_timer(void *ud, const cf_timer_info *t)
{
    char when[32];
    (void)ud;
    printf("  timer %s of %.8s... fires '%s' at %s\n", t->name, t->instance_id, t->event, iso(t->due, when));
    return 0;
}

static int run(cf_engine *engine, virtual_clock *clock)
{
    char when[32];
    char first[37], second[37];
    int rc;

    /* 1. Two tickets in Alameda County (its overlay escalates after 5 days). */
    rc = cf_instance_create(engine, "ticket", "alameda", "{\"title\":\"printer jam\"}", "dispatcher", first);
    if (check(engine, rc, "cf_instance_create"))
        return rc;
    rc = cf_instance_create(engine, "ticket", "alameda", "{\"title\":\"no network\"}", "dispatcher", second);
    if (check(engine, rc, "cf_instance_create"))
        return rc;
    printf("created %s and %s at %s\n", first, second, iso(cf_engine_now(engine), when));

    /* 2. A rejected event is not an error of the call: it is recorded, with reasons. */
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    rc = cf_instance_fire(engine, first, "assign", NULL, "lead", NULL, &res);
    if (rc != CF_REJECTED) {
        check(engine, rc == CF_OK ? CF_EINVAL : rc, "cf_instance_fire (expected a rejection)");
        return rc == CF_OK ? CF_EINVAL : rc;
    }
    printf("rejected: %s -> %s, reasons %s\n", res.from_state, res.to_state, res.reasons);

    /* 3. Applied, under an idempotency key; the same key again replays the outcome. */
    clock->now += 3600;
    rc = cf_instance_fire(engine, first, "assign", "{\"assignee\":\"ana\"}", "lead", "assign-ana-1", &res);
    if (check(engine, rc, "cf_instance_fire"))
        return rc;
    printf("applied: %s -> %s (history row %lld)\n", res.from_state, res.to_state, (long long)res.seq);
    rc = cf_instance_fire(engine, first, "assign", "{\"assignee\":\"ana\"}", "lead", "assign-ana-1", &res);
    if (check(engine, rc, "cf_instance_fire (retry)"))
        return rc;
    printf("retry with the same key: replayed=%d, still %s\n", res.replayed, res.to_state);

    /* 4. Read it back. Strings belong to the engine until the next call: copy what you keep. */
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    rc = cf_instance_get(engine, first, &info);
    if (check(engine, rc, "cf_instance_get"))
        return rc;
    printf("instance %s: state %s, %lld history rows, data %s\n", info.id, info.state, (long long)info.version,
           info.data);

    /* 5. Pending timers in the next 30 days. */
    cf_time now = cf_engine_now(engine);
    rc = cf_timer_list(engine, now, now + 30 * 86400, print_timer, NULL);
    if (check(engine, rc, "cf_timer_list"))
        return rc;

    /* 6. The program was down for a week: one tick catches up, each timer seeing its due time. */
    clock->now += 7 * 86400;
    uint64_t fired = 0;
    rc = cf_engine_tick(engine, cf_engine_now(engine), &fired);
    if (check(engine, rc, "cf_engine_tick"))
        return rc;
    printf("tick at %s fired %llu timer(s)\n", iso(cf_engine_now(engine), when), (unsigned long long)fired);
    rc = cf_instance_get(engine, second, &info);
    if (check(engine, rc, "cf_instance_get"))
        return rc;
    printf("second ticket is now %s\n", info.state);

    /* 7. Its history, oldest first. */
    printf("history of %s:\n", second);
    rc = cf_instance_history(engine, second, print_row, NULL);
    if (check(engine, rc, "cf_instance_history"))
        return rc;

    /* 8. The audit trail is hash-chained: verify walks it. */
    cf_verify_report report = CF_VERIFY_REPORT_INIT;
    rc = cf_engine_verify(engine, &report);
    if (check(engine, rc, "cf_engine_verify"))
        return rc;
    printf("verify: %lld rows, chain intact\n", (long long)report.rows);
    return CF_OK;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WORKFLOW_DIR POLICY_DIR\n", argv[0]);
        return 2;
    }
    /* A fresh database in a temporary folder. */
    const char *tmp = getenv("TMPDIR");
    char dir[512], db[600];
    snprintf(dir, sizeof dir, "%s/certflow-embed-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("embed: mkdtemp");
        return 1;
    }
    snprintf(db, sizeof db, "%s/embed.db", dir);

    virtual_clock clock;
    if (cf_time_parse("2025-01-06T17:00:00Z", &clock.now) != CF_OK)
        return 1;

    cf_options opts = CF_OPTIONS_INIT; /* every other field keeps its default */
    opts.workflow_dir = argv[1];
    opts.policy_dir = argv[2];
    opts.clock = clock_now;
    opts.clock_ud = &clock;

    cf_engine *engine = NULL;
    int rc = cf_engine_open(db, &opts, &engine);
    if (check(engine, rc, "cf_engine_open") == CF_OK)
        rc = run(engine, &clock);
    cf_engine_close(engine); /* always, even after a failed open */

    char path[700];
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
    if (rc != CF_OK)
        return 1;
    printf("embed: ok\n");
    return 0;
}
