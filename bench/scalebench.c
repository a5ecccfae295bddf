/*
 * scalebench.c — the policy-diff figure of issue 13: `cf_policy_diff` of a county
 * parameter over N live instances (not part of the tests; run by scripts/bench.sh).
 *
 *   scalebench DIR policy_diff N PLUGIN_DIR [ROUNDS [DB]]
 *   scalebench DIR policy_apply N PLUGIN_DIR   (one round, on a copy of the policy folder)
 *
 * Creates DIR/diff.db (or the database DB names, e.g. an empty PostgreSQL database given by a
 * postgresql:// URI, which is left as it is afterwards) with N employment instances of the shipped program in one county
 * (los_angeles, no overlay), each started into its grace period (a `grace_period` timer
 * computed from the county's hire_grace_days), then times cf_policy_diff of a proposed
 * overlay that changes hire_grace_days from 90 to 120: every instance's timer moves, so
 * the preview has one row per instance. The preview runs ROUNDS times (default 1), each in a
 * freshly opened engine, and prints for each round, after a line "ROUND <r>", RESULT lines for
 * bench/table.py:
 *   RESULT policy_diff_s <seconds> s <N>_instances_<rows>_rows
 *   RESULT policy_diff_cpu_s <CPU seconds, user + system> s <N>_instances
 *   RESULT policy_diff_open_s <seconds> s engine_open_before_the_diff
 *   RESULT policy_diff_rss_kb <peak RSS> kB <N>_instances
 * The peak RSS is the process's high-water mark reset before each round (/proc/self/clear_refs),
 * so it is the preview's own; where the reset is refused it is the process's peak so far.
 * policy_apply does the same with cf_policy_apply (one transaction: every timer moved, a
 * history row appended to each instance) on a copy of the policy folder in DIR/policy_copy
 * (the overlay is installed there), and prints policy_apply_* lines instead.
 * SCALEBENCH_KEEP=1 keeps DIR/diff.db, and a later run with it reuses the database as it is
 * (to profile the preview alone). Only the public API (certflow.h).
 */
#include <certflow/certflow.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_SOURCE_DIR
#error "BENCH_SOURCE_DIR must be defined"
#endif

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "scalebench: %s: %s\n", what, msg ? msg : "");
    exit(1);
}

static cf_time clock_now;

static cf_time fixed_clock(void *ud)
{
    return *(cf_time *)ud;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_row(void *ud, const cf_policy_change *c)
{
    (void)c;
    (*(long long *)ud)++;
    return 0;
}

/* The process's peak resident size in kB (VmHWM), and its reset (Linux: writing 5 to
 * /proc/self/clear_refs); 0 when the reset is refused. */
static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

static int reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void remove_db(const char *db)
{
    char buf[4096];
    unlink(db);
    snprintf(buf, sizeof buf, "%s-wal", db);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", db);
    unlink(buf);
}

static int policy_diff(const char *dir, long n, const char *plugins, int rounds, const char *uri, int apply)
{
    const char *what = apply ? "policy_apply" : "policy_diff";
    char db[4096], overlay[4096];
    snprintf(db, sizeof db, "%s/diff.db", dir);
    if (uri)
        snprintf(db, sizeof db, "%s", uri);
    snprintf(overlay, sizeof overlay, "%s/los_angeles.lua", dir);
    /* SCALEBENCH_KEEP=1 keeps the database for a profiler's next run, which reuses it */
    const char *keep = getenv("SCALEBENCH_KEEP");
    int reuse = !apply && !uri && keep && *keep == '1' && access(db, F_OK) == 0; /* apply changes it: never reused */
    if (!reuse && !uri)
        remove_db(db);
    FILE *f = fopen(overlay, "w");
    if (!f)
        die("writing the proposed overlay", overlay);
    fputs("return { description = \"scalebench: a longer grace period\", params = { hire_grace_days = 120 } }\n", f);
    fclose(f);

    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = BENCH_SOURCE_DIR "/workflows";
    o.policy_dir = BENCH_SOURCE_DIR "/lua";
    char policy_copy[4096];
    if (apply) { /* apply installs the overlay: into a copy of the shipped policy folder */
        char cmd[16384];
        snprintf(policy_copy, sizeof policy_copy, "%s/policy_copy", dir);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp -r '%s/lua/policy' '%s/lua/counties' '%s/'",
                 policy_copy, policy_copy, BENCH_SOURCE_DIR, BENCH_SOURCE_DIR, policy_copy);
        if (system(cmd) != 0)
            die("copying the policy folder", policy_copy);
        o.policy_dir = policy_copy;
    }
    o.plugin_dir = plugins;
    o.clock = fixed_clock;
    o.clock_ud = &clock_now;
    cf_time_parse("2025-03-03T17:00:00Z", &clock_now);
    cf_engine *e = NULL;
    if (cf_engine_open(db, &o, &e) != CF_OK)
        die("cf_engine_open", cf_errmsg(e));

    double t0 = now_s();
    for (long i = 0; !reuse && i < n; i++) {
        if (i % 1000 == 0 && cf_batch_begin(e) != CF_OK)
            die("cf_batch_begin", cf_errmsg(e));
        char data[256], id[37];
        snprintf(data, sizeof data,
                 "{\"name\": \"Person %ld\", \"hired_on\": \"2025-03-01\", \"program\": \"Los Angeles peer services\","
                 " \"program_type\": \"smhs\", \"position\": \"Peer Support Specialist\"}",
                 i);
        if (cf_instance_create(e, "employment", "los_angeles", data, "county", id) != CF_OK)
            die("cf_instance_create", cf_errmsg(e));
        int rc = cf_instance_fire(e, id, "start", NULL, "county", NULL, NULL);
        if (rc != CF_OK)
            die("start", cf_errmsg(e));
        if ((i % 1000 == 999 || i == n - 1) && cf_batch_commit(e) != CF_OK)
            die("cf_batch_commit", cf_errmsg(e));
    }
    fprintf(stderr, "scalebench: %ld employment instances in their grace period, made in %.1f s\n", n, now_s() - t0);
    cf_engine_close(e);

    /* the preview (or the apply), in a freshly opened engine (as `certflow policy diff` runs it),
     * ROUNDS times (apply: once, it changes the database) */
    for (int r = 1; r <= (apply ? 1 : rounds); r++) {
        int reset = reset_peak_rss();
        t0 = now_s();
        if (cf_engine_open(db, &o, &e) != CF_OK)
            die("cf_engine_open", cf_errmsg(e));
        long long rows = 0;
        double t1 = now_s(), c1 = cpu_s();
        if (apply) {
            if (cf_policy_apply(e, "los_angeles", overlay, "scalebench", count_row, &rows) != CF_OK)
                die("cf_policy_apply", cf_errmsg(e));
        } else if (cf_policy_diff(e, "los_angeles", overlay, count_row, &rows) != CF_OK) {
            die("cf_policy_diff", cf_errmsg(e));
        }
        double t2 = now_s(), c2 = cpu_s();
        cf_engine_close(e);
        if (rows < n)
            die(what, "the preview misses instances whose grace period moves");
        printf("ROUND %d\n", r);
        printf("RESULT %s_s %.3f s %ld_instances_%lld_rows\n", what, t2 - t1, n, rows);
        printf("RESULT %s_cpu_s %.3f s %ld_instances\n", what, c2 - c1, n);
        printf("RESULT %s_open_s %.3f s engine_open_before_the_%s\n", what, t1 - t0, apply ? "apply" : "diff");
        printf("RESULT %s_rss_kb %ld kB %ld_instances%s\n", what, peak_rss_kb(), n,
               reset ? "" : "_peak_of_the_whole_process");
        fflush(stdout);
    }
    if (apply) {
        char cmd[16384];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", policy_copy);
        if (system(cmd) != 0)
            fprintf(stderr, "scalebench: could not remove %s\n", policy_copy);
    }
    if (!(keep && *keep == '1') && !uri)
        remove_db(db);
    unlink(overlay);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && argc <= 7 && (strcmp(argv[2], "policy_diff") == 0 || strcmp(argv[2], "policy_apply") == 0)) {
        int rounds = argc >= 6 ? atoi(argv[5]) : 1;
        if (rounds < 1)
            rounds = 1;
        return policy_diff(argv[1], strtol(argv[3], NULL, 10), argv[4], rounds, argc == 7 ? argv[6] : NULL,
                           strcmp(argv[2], "policy_apply") == 0);
    }
    fprintf(stderr, "usage: scalebench DIR policy_diff|policy_apply N PLUGIN_DIR [ROUNDS [DB]]\n");
    return 2;
}
