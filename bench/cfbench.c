/*
 * cfbench.c — certflow's side of the benchmarks (scripts/bench.sh runs it and
 * prints the table): fires one per transaction and in batches against raw
 * SQLite doing only the two statements, the Lua guard against a bare
 * lua_pcall, tick and the due list over a large database, resident memory, and
 * opening the engine. Every measurement prints one line
 *     RESULT <name> <value> <unit> <note>
 * on standard output; everything else goes to standard error.
 *
 * The workload (bench/fixtures): instances of `benchcert` driven through ten
 * events, one guard per transition, in event-major order (event 1 to every
 * instance, then event 2, ...).
 *
 * Large databases are populated by a bulk loader that writes, through the
 * store's own internal functions (cf__store_instance_insert, cf__audit_append,
 * cf__store_timer_add) in transactions of 10,000 instances, exactly the rows
 * cf_instance_create writes for an instance created in state `certified`
 * (instance row, creation history row in the hash chain, expiry timer), without
 * running the workflow and policy layer. It links the static library for that
 * and for the guard measurement (cf__policy_guard); everything else uses the
 * public API only.
 *
 * For experiments: CFB_PRAGMA="PRAGMA ..." runs SQL on every engine's database
 * after it opens; CFB_WALSIZE=1 prints the WAL pages written per fire (run with
 * CFB_PRAGMA="PRAGMA wal_autocheckpoint=0" for a meaningful figure).
 */
#include "internal.h"

#include <sqlite3.h> /* the raw SQLite baselines, on database files of their own (never the engine's handle) */

#include <openssl/crypto.h> /* OpenSSL_version, for the versions the table prints */

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_FIXTURES
#error "BENCH_FIXTURES must name bench/fixtures"
#endif
#ifndef BENCH_SOURCE_DIR
#error "BENCH_SOURCE_DIR must name the source tree"
#endif

#define NEVENTS 10
static const char *const EVENTS[NEVENTS] = {"review",  "schedule", "pass",      "issue", "report_ce",
                                            "renew",   "suspend",  "reinstate", "lapse", "reapply"};
static const char *const EVENT_DATA[NEVENTS] = {
    NULL, NULL, "{\"score\":85}", NULL, "{\"hours\":6}", NULL, "{\"cause\":\"audit\"}", NULL, NULL, NULL};
/* The state each event leads to (for the raw SQLite baseline's UPDATE). */
static const char *const TO_STATE[NEVENTS] = {"eligible",  "scheduled", "passed",    "certified", "certified",
                                              "certified", "suspended", "certified", "lapsed",    "eligible"};
static const char *const INSTANCE_DATA =
    "{\"attempts\":1,\"background\":\"clear\",\"ce_hours\":24,\"degree\":true,\"fines_due\":0,\"lapses\":0,"
    "\"name\":\"Pat Example\",\"renewals\":0}";
static const char *const COUNTY = "kern";
/* The virtual clock of every run: 2025-01-06T17:00:00Z. */
#define T0 ((cf_time)1736182800)

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "cfbench: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void result(const char *name, double value, const char *unit, const char *note)
{
    printf("RESULT %s %.6g %s %s\n", name, value, unit, note ? note : "");
    fflush(stdout);
}

static void make_id(int64_t i, char out[37])
{
    snprintf(out, 37, "%08" PRIx32 "-0000-4000-8000-%012" PRIx64, (uint32_t)(i >> 16),
             (uint64_t)i & UINT64_C(0xffffffffffff));
}

static cf_time fixed_clock(void *ud)
{
    return *(cf_time *)ud;
}

static cf_time clock_now = T0;

static const char *plugin_dir; /* the shipped plugins, for `open` */

static cf_engine *open_engine(const char *db, int sync, const char *wf_dir, const char *policy_dir)
{
    cf_options o = CF_OPTIONS_INIT;
    o.plugin_dir = wf_dir ? plugin_dir : NULL;
    o.workflow_dir = wf_dir ? wf_dir : BENCH_FIXTURES "/workflows";
    o.policy_dir = policy_dir ? policy_dir : BENCH_FIXTURES "/lua";
    o.clock = fixed_clock;
    o.clock_ud = &clock_now;
    o.synchronous = sync;
    cf_engine *e = NULL;
    int rc = cf_engine_open(db, &o, &e);
    if (rc != CF_OK)
        die("cf_engine_open", cf_errmsg(e));
    return e;
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

static char *db_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- creating the workload's instances through the API ---- */

static char (*create_instances(cf_engine *e, int n))[37]
{
    char(*ids)[37] = malloc((size_t)n * 37);
    for (int i = 0; i < n; i++) {
        if (i % 1000 == 0 && cf_batch_begin(e) != CF_OK)
            die("cf_batch_begin", cf_errmsg(e));
        if (cf_instance_create(e, "benchcert", COUNTY, INSTANCE_DATA, "bench", ids[i]) != CF_OK)
            die("cf_instance_create", cf_errmsg(e));
        if ((i % 1000 == 999 || i == n - 1) && cf_batch_commit(e) != CF_OK)
            die("cf_batch_commit", cf_errmsg(e));
    }
    return ids;
}

/* Fire the ten events at every instance; per_batch 0 = one transaction per fire. */
static double run_fires(cf_engine *e, char (*ids)[37], int n, int per_batch)
{
    double t0 = now_s();
    long in_batch = 0;
    for (int ev = 0; ev < NEVENTS; ev++) {
        for (int i = 0; i < n; i++) {
            if (per_batch && in_batch == 0 && cf_batch_begin(e) != CF_OK)
                die("cf_batch_begin", cf_errmsg(e));
            int rc = cf_instance_fire(e, ids[i], EVENTS[ev], EVENT_DATA[ev], "bench", NULL, NULL);
            if (rc != CF_OK) {
                fprintf(stderr, "cfbench: fire %s at %s: %s\n", EVENTS[ev], ids[i], cf_result_name(rc));
                die("cf_instance_fire", cf_errmsg(e));
            }
            if (per_batch && ++in_batch == per_batch) {
                if (cf_batch_commit(e) != CF_OK)
                    die("cf_batch_commit", cf_errmsg(e));
                in_batch = 0;
            }
        }
    }
    if (per_batch && in_batch && cf_batch_commit(e) != CF_OK)
        die("cf_batch_commit", cf_errmsg(e));
    double dt = now_s() - t0;
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (cf_instance_get(e, ids[n - 1], &info) != CF_OK || strcmp(info.state, "eligible") != 0)
        die("workload", "an instance did not end in state eligible");
    return dt;
}

static void bench_certflow_fires(const char *dir, const char *name, int sync, int n, int per_batch, const char *note)
{
    char *db = db_path(dir, "certflow.db");
    remove_db(db);
    cf_engine *e = open_engine(db, sync, NULL, NULL);
    char(*ids)[37] = create_instances(e, n);
    double dt = run_fires(e, ids, n, per_batch);
    if (getenv("CFB_WALSIZE")) {
        char w[4096];
        snprintf(w, sizeof w, "%s-wal", db);
        struct stat st;
        if (stat(w, &st) == 0)
            fprintf(stderr, "cfbench: wal %lld bytes = %.1f pages per fire\n", (long long)st.st_size,
                    (double)st.st_size / 4120.0 / (n * NEVENTS));
    }
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(e, &rep) != CF_OK)
        die("verify", cf_errmsg(e));
    char full[256];
    snprintf(full, sizeof full, "%d_fires_%s", n * NEVENTS, note);
    result(name, (double)n * NEVENTS / dt, "fires/s", full);
    free(ids);
    cf_engine_close(e);
    remove_db(db);
    free(db);
}

/* The same on a database given by its connection string (PostgreSQL: scripts/bench-pg.sh),
 * which the caller made empty; the engine's instances are its own, so several processes
 * run it at once at different instances. */
static void bench_uri_fires(const char *uri, const char *name, int n, int per_batch)
{
    cf_engine *e = open_engine(uri, CF_SYNC_NORMAL, NULL, NULL);
    char(*ids)[37] = create_instances(e, n);
    double dt = run_fires(e, ids, n, per_batch);
    char full[256];
    snprintf(full, sizeof full, "%d_fires_%s", n * NEVENTS, per_batch ? "batched" : "1_per_tx");
    result(name, (double)n * NEVENTS / dt, "fires/s", full);
    free(ids);
    cf_engine_close(e);
}

/* ---- raw SQLite: only UPDATE instance + INSERT event ---- */

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg);
}

static void bench_raw(const char *dir, const char *name, const char *sync, int n, int per_tx)
{
    char *path = db_path(dir, "raw.db");
    remove_db(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite3_open", path);
    exec_or_die(db, "PRAGMA journal_mode=WAL");
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", sync);
    exec_or_die(db, pragma);
    exec_or_die(db, "CREATE TABLE instance(id TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL,"
                    " updated_at INTEGER NOT NULL);"
                    "CREATE TABLE event(seq INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, event TEXT NOT NULL,"
                    " data TEXT NOT NULL, at INTEGER NOT NULL)");
    sqlite3_stmt *ins = NULL, *upd = NULL, *ev = NULL, *begin = NULL, *commit = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO instance VALUES(?1, 'applied', ?2, 0)", -1, &ins, NULL);
    sqlite3_prepare_v2(db, "UPDATE instance SET state = ?2, updated_at = ?3 WHERE id = ?1", -1, &upd, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO event(instance_id, event, data, at) VALUES(?1, ?2, ?3, ?4)", -1, &ev, NULL);
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
    if (!ins || !upd || !ev || !begin || !commit)
        die("prepare", sqlite3_errmsg(db));
    char(*ids)[37] = malloc((size_t)n * 37);
    exec_or_die(db, "BEGIN");
    for (int i = 0; i < n; i++) {
        make_id(i, ids[i]);
        sqlite3_bind_text(ins, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, INSTANCE_DATA, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            die("insert", sqlite3_errmsg(db));
        sqlite3_reset(ins);
    }
    exec_or_die(db, "COMMIT");
    double t0 = now_s();
    long in_tx = 0;
    for (int e = 0; e < NEVENTS; e++) {
        for (int i = 0; i < n; i++) {
            if (in_tx == 0) {
                if (sqlite3_step(begin) != SQLITE_DONE)
                    die("begin", sqlite3_errmsg(db));
                sqlite3_reset(begin);
            }
            sqlite3_bind_text(upd, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(upd, 2, TO_STATE[e], -1, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 3, T0);
            if (sqlite3_step(upd) != SQLITE_DONE)
                die("update", sqlite3_errmsg(db));
            sqlite3_reset(upd);
            sqlite3_bind_text(ev, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(ev, 2, EVENTS[e], -1, SQLITE_STATIC);
            sqlite3_bind_text(ev, 3, EVENT_DATA[e] ? EVENT_DATA[e] : "{}", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ev, 4, T0);
            if (sqlite3_step(ev) != SQLITE_DONE)
                die("insert event", sqlite3_errmsg(db));
            sqlite3_reset(ev);
            if (++in_tx == per_tx) {
                if (sqlite3_step(commit) != SQLITE_DONE)
                    die("commit", sqlite3_errmsg(db));
                sqlite3_reset(commit);
                in_tx = 0;
            }
        }
    }
    if (in_tx) {
        sqlite3_step(commit);
        sqlite3_reset(commit);
    }
    double dt = now_s() - t0;
    char note[128];
    snprintf(note, sizeof note, "%d_pairs_%d_per_tx", n * NEVENTS, per_tx);
    result(name, (double)n * NEVENTS / dt, "tx-pairs/s", note);
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_finalize(ev);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    free(ids);
    remove_db(path);
    free(path);
}

/* ---- the guard: certflow's policy host against a bare lua_pcall ---- */

#define GUARD_INSTANCES 1000

static double guard_run(cf__policy *p, int fn, cf__decision_call *call, char (*ids)[37], json_t **data, long calls,
                        int same)
{
    cf__err err;
    double t0 = now_s();
    for (long i = 0; i < calls; i++) {
        if (!same) {
            call->instance_id = ids[i % GUARD_INSTANCES];
            call->data = data[i % GUARD_INSTANCES];
        }
        bool ok = false;
        char *reason = NULL;
        if (cf__policy_guard(p, fn, call, &ok, &reason, &err) != CF_OK || !ok)
            die("guard", err.msg);
    }
    return (now_s() - t0) * 1e9 / (double)calls;
}

/* ROUNDS rounds, each timing certflow (a different instance each call, as in the workload),
 * certflow on the same instance every call (the per-call tables need no refresh) and the
 * bare call, one after the other, and printing "ROUND r" and the three figures. */
static void bench_guard(long calls, int rounds)
{
    cf__err err;
    cf__tz tz;
    if (cf__tz_parse("PST8PDT,M3.2.0,M11.1.0", &tz, &err) != CF_OK)
        die("tz", err.msg);
    cf__policy_config pc = {BENCH_FIXTURES "/lua", 1000000, (size_t)16 << 20, &tz, NULL, NULL, 0, 0};
    cf__policy *p = NULL;
    if (cf__policy_open(&pc, &p, &err) != CF_OK)
        die("cf__policy_open", err.msg);
    int fn = cf__policy_find(p, CF__ROLE_GUARD, "attempts_left");
    if (fn < 0)
        die("guard", "attempts_left not found");
    char(*ids)[37] = malloc(GUARD_INSTANCES * 37);
    json_t **data = malloc(GUARD_INSTANCES * sizeof *data);
    for (int i = 0; i < GUARD_INSTANCES; i++) {
        make_id(i, ids[i]);
        data[i] = json_loads(INSTANCE_DATA, 0, NULL);
    }
    json_t *evdata = json_object();
    cf__decision_call call = {COUNTY, ids[0], "benchcert", "eligible", data[0], "schedule", evdata, "bench", T0, 1};

    /* bare: the same function from the same file in a plain Lua state, called
     * with an instance table built once per instance beforehand */
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadfile(L, BENCH_FIXTURES "/lua/policy/state.lua") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        die("bare lua", lua_tostring(L, -1));
    lua_getfield(L, -1, "params");
    lua_setglobal(L, "params");
    lua_getfield(L, -1, "guards");
    lua_getfield(L, -1, "attempts_left");
    int fref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    int *inst = malloc(GUARD_INSTANCES * sizeof *inst);
    for (int i = 0; i < GUARD_INSTANCES; i++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, ids[i]);
        lua_setfield(L, -2, "id");
        lua_createtable(L, 0, 8);
        lua_pushinteger(L, 1);
        lua_setfield(L, -2, "attempts");
        lua_pushinteger(L, 24);
        lua_setfield(L, -2, "ce_hours");
        lua_setfield(L, -2, "data");
        inst[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_newtable(L);
    int evref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    int ctxref = luaL_ref(L, LUA_REGISTRYINDEX);
    char note[96];
    snprintf(note, sizeof note, "%ld_calls", calls);
    for (int r = 1; r <= rounds; r++) {
        double cf_ns = guard_run(p, fn, &call, ids, data, calls, 0);
        call.instance_id = ids[0];
        call.data = data[0];
        double same_ns = guard_run(p, fn, &call, ids, data, calls, 1);
        double t0 = now_s();
        for (long i = 0; i < calls; i++) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, fref);
            lua_rawgeti(L, LUA_REGISTRYINDEX, inst[i % GUARD_INSTANCES]);
            lua_rawgeti(L, LUA_REGISTRYINDEX, evref);
            lua_rawgeti(L, LUA_REGISTRYINDEX, ctxref);
            if (lua_pcall(L, 3, 2, 0) != LUA_OK || !lua_toboolean(L, -2))
                die("bare guard", lua_tostring(L, -1));
            lua_pop(L, 2);
        }
        double bare_ns = (now_s() - t0) * 1e9 / (double)calls;
        printf("ROUND %d\n", r);
        result("guard_certflow_ns", cf_ns, "ns/call", note);
        result("guard_certflow_same_instance_ns", same_ns, "ns/call", note);
        result("guard_bare_pcall_ns", bare_ns, "ns/call", note);
    }
    lua_close(L);
    for (int i = 0; i < GUARD_INSTANCES; i++)
        json_decref(data[i]);
    json_decref(evdata);
    free(data);
    free(ids);
    free(inst);
    cf__policy_close(p);
}

/* ---- the bulk loader ---- */

/* n instances in state certified; due of instance i's expiry timer: the first
 * `due` ones are overdue (T0 - 1 day), the rest spread over the two years after T0. */
static void bulk_load(const char *db, int64_t n, int64_t due)
{
    remove_db(db);
    cf_engine *e = open_engine(db, CF_SYNC_NORMAL, NULL, NULL);
    cf__workflow *wf = cf__engine_workflow(e, "benchcert");
    if (!wf)
        die("bulk load", "benchcert not loaded");
    const char *policy_hash = cf__policy_hash(e->policy, COUNTY);
    double t0 = now_s();
    for (int64_t i = 0; i < n; i++) {
        if (i % 10000 == 0 && cf_batch_begin(e) != CF_OK)
            die("cf_batch_begin", cf_errmsg(e));
        cf__instance_row row = {0};
        make_id(i, row.id);
        row.workflow = wf->name;
        row.def_hash = wf->hash;
        row.county = (char *)COUNTY;
        row.state = (char *)"certified";
        row.data = (char *)INSTANCE_DATA;
        row.created_at = row.updated_at = T0 - 400 * 86400;
        row.version = 1;
        cf__history_row h;
        memset(&h, 0, sizeof h);
        h.number = 1;
        h.instance_id = row.id;
        h.at = h.effective_at = row.created_at;
        h.actor = "bulk";
        h.event = "";
        h.data = "{}";
        h.outcome = "created";
        h.from_state = "";
        h.to_state = "certified";
        h.reasons = "[]";
        h.policy_hash = policy_hash;
        h.def_hash = wf->hash;
        cf_time at = i < due ? T0 - 86400 : T0 + 3600 + (cf_time)((i - due) % (730 * 24)) * 3600;
        if (cf__store_instance_insert(e->store, &row, &e->err) != CF_OK ||
            cf__audit_append(e->store, &h, &e->err) != CF_OK ||
            cf__store_timer_add(e->store, row.id, "certified", "expiry", "expire", at, &e->err) != CF_OK)
            die("bulk load", cf_errmsg(e));
        if ((i % 10000 == 9999 || i == n - 1) && cf_batch_commit(e) != CF_OK)
            die("cf_batch_commit", cf_errmsg(e));
    }
    fprintf(stderr, "cfbench: loaded %" PRId64 " instances into %s in %.1f s\n", n, db, now_s() - t0);
    cf_engine_close(e);
    /* Checkpoint so that every measurement starts from the same, compact file. */
    sqlite3 *s = NULL;
    sqlite3_open(db, &s);
    sqlite3_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(s);
}

static int count_timer(void *ud, const cf_timer_info *t)
{
    (void)t;
    ++*(long *)ud;
    return 0;
}

static void bench_due(const char *db, int64_t n)
{
    cf_engine *e = open_engine(db, CF_SYNC_NORMAL, NULL, NULL);
    double best = 1e9;
    long count = 0;
    for (int rep = 0; rep < 3; rep++) {
        count = 0;
        double t0 = now_s();
        if (cf_timer_list(e, T0, T0 + 30 * 86400, count_timer, &count) != CF_OK)
            die("cf_timer_list", cf_errmsg(e));
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    char note[128];
    snprintf(note, sizeof note, "%ld_timers_listed_of_%" PRId64 "_instances", count, n);
    result("due_30d_s", best, "s", note);
    cf_engine_close(e);
}

static void bench_tick(const char *db, int64_t n, int64_t due)
{
    cf_engine *e = open_engine(db, CF_SYNC_NORMAL, NULL, NULL);
    uint64_t fired = 0;
    double t0 = now_s();
    int rc = cf_engine_tick(e, T0, &fired);
    double dt = now_s() - t0;
    if (rc != CF_OK)
        die("cf_engine_tick", cf_errmsg(e));
    if ((int64_t)fired != due)
        die("cf_engine_tick", "fired a different number of timers than were due");
    char note[128];
    snprintf(note, sizeof note, "%" PRIu64 "_due_of_%" PRId64 "_pending", fired, n);
    result("tick_fires_per_s", (double)fired / dt, "fires/s", note);
    cf_engine_close(e);
}

/* ---- memory ---- */

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* Open the engine on db (n instances) and do what a server does all day: fires
 * at random instances, instance reads, the due list, a tick; then report the
 * peak resident size. */
static void bench_mem(const char *db, int64_t n, const char *name)
{
    cf_engine *e = open_engine(db, CF_SYNC_NORMAL, NULL, NULL);
    uint64_t x = 88172645463325252ull;
    char id[37];
    for (int b = 0; b < 10; b++) {
        if (cf_batch_begin(e) != CF_OK)
            die("cf_batch_begin", cf_errmsg(e));
        for (int i = 0; i < 200; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            make_id((int64_t)(x % (uint64_t)n), id);
            int rc = cf_instance_fire(e, id, "report_ce", "{\"hours\":6}", "bench", NULL, NULL);
            if (rc != CF_OK)
                die("fire", cf_errmsg(e));
            cf_instance_info info = CF_INSTANCE_INFO_INIT;
            make_id((int64_t)((x >> 20) % (uint64_t)n), id);
            if (cf_instance_get(e, id, &info) != CF_OK)
                die("get", cf_errmsg(e));
        }
        if (cf_batch_commit(e) != CF_OK)
            die("cf_batch_commit", cf_errmsg(e));
    }
    long count = 0;
    if (cf_timer_list(e, T0, T0 + 30 * 86400, count_timer, &count) != CF_OK)
        die("cf_timer_list", cf_errmsg(e));
    uint64_t fired = 0;
    if (cf_engine_tick(e, T0 - 2 * 86400, &fired) != CF_OK) /* nothing due yet: the query only */
        die("tick", cf_errmsg(e));
    char note[96];
    snprintf(note, sizeof note, "%" PRId64 "_instances_rss_now_%ld_kB", n, status_kb("VmRSS"));
    result(name, (double)status_kb("VmHWM"), "kB", note);
    cf_engine_close(e);
}

/* ---- opening ---- */

static int count_plugin(void *ud, const cf_plugin_status *st)
{
    *(int *)ud += st->loaded;
    return 0;
}

static void bench_open(const char *dir)
{
    char *db = db_path(dir, "open.db");
    remove_db(db);
    const char *wf = BENCH_SOURCE_DIR "/workflows", *lua = BENCH_SOURCE_DIR "/lua";
    double t0 = now_s();
    cf_engine *e = open_engine(db, CF_SYNC_NORMAL, wf, lua);
    double first = now_s() - t0;
    int nwf = 0;
    for (size_t i = 0; i < e->defs.ncurrent; i++)
        nwf++;
    cf_engine_close(e);
    double best = 1e9;
    for (int rep = 0; rep < 10; rep++) {
        t0 = now_s();
        e = open_engine(db, CF_SYNC_NORMAL, wf, lua);
        double dt = now_s() - t0;
        cf_engine_close(e);
        if (dt < best)
            best = dt;
    }
    char note[128];
    int nplugins = 0;
    e = open_engine(db, CF_SYNC_NORMAL, wf, lua);
    cf_plugin_list(e, count_plugin, &nplugins);
    cf_engine_close(e);
    snprintf(note, sizeof note, "%d_workflows_%d_plugins_2_county_overlays_existing_db_best_of_10", nwf, nplugins);
    result("open_ms", best * 1e3, "ms", note);
    snprintf(note, sizeof note, "%d_workflows_%d_plugins_2_county_overlays_new_db", nwf, nplugins);
    result("open_new_db_ms", first * 1e3, "ms", note);
    remove_db(db);
    free(db);
}

/* Copy a database (a bulk-loaded file) to another backend with cf_store_copy: the
 * PostgreSQL tick benchmark starts from such a copy (scripts/bench-pg.sh). */
static void bench_copy(const char *from, const char *to)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = BENCH_FIXTURES "/workflows";
    o.policy_dir = BENCH_FIXTURES "/lua";
    o.clock = fixed_clock;
    o.clock_ud = &clock_now;
    char msg[1024];
    double t0 = now_s();
    int rc = cf_store_copy(from, to, &o, NULL, NULL, msg, sizeof msg);
    if (rc != CF_OK)
        die("cf_store_copy", msg);
    result("store_copy_s", now_s() - t0, "s", "copy_and_verify");
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: cfbench DIR fires N SAMPLE_N FULL_N  (batched over N, one-per-transaction over SAMPLE_N,\n"
            "                                             synchronous=FULL over FULL_N instances)\n"
            "       cfbench DIR one N PER_BATCH           (one certflow run, for profiling; 0 = per transaction)\n"
            "       cfbench DIR guard CALLS [ROUNDS]\n"
            "       cfbench DIR load NAME INSTANCES DUE   (bulk-load DIR/NAME)\n"
            "       cfbench DIR due NAME INSTANCES | tick NAME INSTANCES DUE | mem NAME INSTANCES RESULTNAME\n"
            "       cfbench DIR open PLUGIN_DIR              (the shipped workflows need the shipped plugins)\n"
            "       cfbench DIR versions\n"
            "       cfbench DIR uri URI NAME N PER_BATCH    (fires on the database URI names, e.g. PostgreSQL)\n"
            "       cfbench DIR copy NAME URI               (store copy of DIR/NAME to URI)\n"
            "       cfbench DIR tick_uri URI INSTANCES DUE  (tick on the database URI names)\n"
            "       cfbench DIR due_uri URI INSTANCES | mem_uri URI INSTANCES RESULTNAME (the same on a URI)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *dir = argv[1], *mode = argv[2];
    mkdir(dir, 0700);
    if (strcmp(mode, "versions") == 0) {
        printf("VERSION sqlite %s\nVERSION lua %s\nVERSION certflow %s\n", sqlite3_libversion(), LUA_RELEASE,
               CF_VERSION_STRING);
#if JANSSON_VERSION_HEX >= 0x020d00
        printf("VERSION jansson %s\n", jansson_version_str());
#else
        printf("VERSION jansson %s (headers)\n", JANSSON_VERSION);
#endif
        printf("VERSION openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
    } else if (strcmp(mode, "fires") == 0 && argc == 6) {
        int n = atoi(argv[3]), sample = atoi(argv[4]), full = atoi(argv[5]);
        bench_certflow_fires(dir, "certflow_tx_normal", CF_SYNC_NORMAL, sample, 0, "1_per_tx");
        bench_raw(dir, "raw_tx_normal", "NORMAL", sample, 1);
        bench_certflow_fires(dir, "certflow_tx_full", CF_SYNC_FULL, full, 0, "1_per_tx");
        bench_raw(dir, "raw_tx_full", "FULL", full, 1);
        bench_certflow_fires(dir, "certflow_batch_1000", CF_SYNC_NORMAL, n, 1000, "1000_per_batch");
        bench_raw(dir, "raw_batch_1000", "NORMAL", n, 1000);
    } else if (strcmp(mode, "uri") == 0 && argc == 7) {
        bench_uri_fires(argv[3], argv[4], atoi(argv[5]), atoi(argv[6]));
    } else if (strcmp(mode, "copy") == 0 && argc == 5) {
        char *db = db_path(dir, argv[3]);
        bench_copy(db, argv[4]);
        free(db);
    } else if (strcmp(mode, "tick_uri") == 0 && argc == 6) {
        bench_tick(argv[3], atoll(argv[4]), atoll(argv[5]));
    } else if (strcmp(mode, "due_uri") == 0 && argc == 5) {
        bench_due(argv[3], atoll(argv[4]));
    } else if (strcmp(mode, "mem_uri") == 0 && argc == 6) {
        bench_mem(argv[3], atoll(argv[4]), argv[5]);
    } else if (strcmp(mode, "one") == 0 && argc == 5) { /* for profiling: one certflow run */
        int n = atoi(argv[3]), per = atoi(argv[4]);
        bench_certflow_fires(dir, per ? "certflow_batch" : "certflow_tx_normal", CF_SYNC_NORMAL, n, per,
                             per ? "batched" : "1_per_tx");
    } else if (strcmp(mode, "guard") == 0 && (argc == 4 || argc == 5)) {
        bench_guard(atol(argv[3]), argc == 5 && atoi(argv[4]) > 0 ? atoi(argv[4]) : 1);
    } else if (strcmp(mode, "load") == 0 && argc == 6) {
        char *db = db_path(dir, argv[3]);
        bulk_load(db, atoll(argv[4]), atoll(argv[5]));
        free(db);
    } else if (strcmp(mode, "due") == 0 && argc == 5) {
        char *db = db_path(dir, argv[3]);
        bench_due(db, atoll(argv[4]));
        free(db);
    } else if (strcmp(mode, "tick") == 0 && argc == 6) {
        char *db = db_path(dir, argv[3]);
        bench_tick(db, atoll(argv[4]), atoll(argv[5]));
        free(db);
    } else if (strcmp(mode, "mem") == 0 && argc == 6) {
        char *db = db_path(dir, argv[3]);
        bench_mem(db, atoll(argv[4]), argv[5]);
        free(db);
    } else if (strcmp(mode, "open") == 0 && argc == 4) {
        plugin_dir = argv[3];
        bench_open(dir);
    } else {
        usage();
    }
    return 0;
}
