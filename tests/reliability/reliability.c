/* reliability.c — helpers shared by the reliability tests (see reliability.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include "../../program/random.h"

#include "internal.h" /* the store's path and the SHA-256 helper */
#include "sqlite_peek.h" /* the checks read the file on a connection of their own */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The program's generator (program/random.h): one splitmix64 for both. */
uint64_t rel_next(rel_rng *r)
{
    rng g = {r->s};
    uint64_t v = rng_next(&g);
    r->s = g.s;
    return v;
}

int64_t rel_range(rel_rng *r, int64_t lo, int64_t hi)
{
    rng g = {r->s};
    int64_t v = between(&g, lo, hi);
    r->s = g.s;
    return v;
}

uint64_t rel_seed(const char *test, uint64_t fallback)
{
    const char *env = getenv("CF_RELIABILITY_SEED");
    uint64_t seed = fallback;
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    print_message("%s: seed %" PRIu64 " (repeat with CF_RELIABILITY_SEED=%" PRIu64 ")\n", test, seed, seed);
    return seed;
}

long rel_env_count(const char *name, long fallback)
{
    const char *env = getenv(name);
    long v = env && *env ? strtol(env, NULL, 10) : 0;
    return v > 0 ? v : fallback;
}

cf_engine *rel_open(const char *db, cft_clock *clock, int busy_ms, int *rc, char *msg, size_t size)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_REL_FIXTURES "/workflows";
    o.policy_dir = CF_REL_FIXTURES "/lua";
    o.clock = cft_clock_now;
    o.clock_ud = clock;
    o.busy_timeout_ms = busy_ms;
    cf_engine *e = NULL;
    int r = cf_engine_open(db, &o, &e);
    if (rc)
        *rc = r;
    if (msg && size)
        snprintf(msg, size, "%s", cf_errmsg(e));
    if (r != CF_OK) {
        cf_engine_close(e);
        return NULL;
    }
    return e;
}

cf_engine *rel_open_ok(const char *db, cft_clock *clock, int busy_ms)
{
    int rc = 0;
    char msg[1024];
    cf_engine *e = rel_open(db, clock, busy_ms, &rc, msg, sizeof msg);
    if (!e)
        fail_msg("cf_engine_open(%s): %s: %s", db, cf_result_name(rc), msg);
    return e;
}

/* ---- the consistency check ---- */

typedef struct inst {
    char id[37];
    char *state;
    int64_t version;
} inst;

typedef struct check {
    inst *items;
    size_t n, cap;
    char problem[1024];
    /* replay of one instance */
    const inst *cur;
    char *state; /* the state its history explains so far */
    int64_t number;
    rel_census *census;
    size_t keycap;
} check;

static int collect_instance(void *ud, const cf_instance_info *info)
{
    check *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->items = realloc(c->items, c->cap * sizeof *c->items);
        assert_non_null(c->items);
    }
    inst *it = &c->items[c->n++];
    snprintf(it->id, sizeof it->id, "%s", info->id);
    it->state = strdup(info->state);
    it->version = info->version;
    assert_non_null(it->state);
    return 0;
}

static int replay_row(void *ud, const cf_history_entry *h)
{
    check *c = ud;
    c->number++;
    if (h->number != c->number) {
        snprintf(c->problem, sizeof c->problem, "instance %s: history row seq %" PRId64 " has number %" PRId64
                 ", expected %" PRId64, c->cur->id, h->seq, h->number, c->number);
        return 1;
    }
    bool first = c->number == 1;
    if (first != (strcmp(h->outcome, "created") == 0)) {
        snprintf(c->problem, sizeof c->problem, "instance %s: row %" PRId64 " has outcome '%s'%s", c->cur->id,
                 h->number, h->outcome, first ? " but the first row must be the creation" : " after the creation");
        return 1;
    }
    if (first) {
        c->state = strdup(h->to_state);
        c->census->created++;
    } else if (strcmp(h->from_state, c->state) != 0) {
        snprintf(c->problem, sizeof c->problem,
                 "instance %s: row %" PRId64 " (%s '%s') starts from '%s' but the rows before end in '%s'",
                 c->cur->id, h->number, h->outcome, h->event, h->from_state, c->state);
        return 1;
    } else if (strcmp(h->outcome, "applied") == 0) {
        free(c->state);
        c->state = strdup(h->to_state);
        c->census->applied++;
    } else if (strcmp(h->outcome, "rejected") == 0) {
        if (strcmp(h->to_state, h->from_state) != 0) {
            snprintf(c->problem, sizeof c->problem, "instance %s: rejected row %" PRId64 " moves '%s' -> '%s'",
                     c->cur->id, h->number, h->from_state, h->to_state);
            return 1;
        }
        c->census->rejected++;
    } else {
        snprintf(c->problem, sizeof c->problem, "instance %s: row %" PRId64 " has unknown outcome '%s'", c->cur->id,
                 h->number, h->outcome);
        return 1;
    }
    assert_non_null(c->state);
    if (h->idem_key) {
        rel_census *cs = c->census;
        if (cs->nkeys == c->keycap) {
            c->keycap = c->keycap ? 2 * c->keycap : 256;
            cs->keys = realloc(cs->keys, c->keycap * sizeof *cs->keys);
            assert_non_null(cs->keys);
        }
        cs->keys[cs->nkeys] = strdup(h->idem_key);
        assert_non_null(cs->keys[cs->nkeys]);
        cs->nkeys++;
    }
    return 0;
}

static int cmp_inst(const void *a, const void *b)
{
    return strcmp(((const inst *)a)->id, ((const inst *)b)->id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct timer_seen {
    char key[200]; /* instance id + '/' + name */
    char state[64];
    char id[37];
} timer_seen;

typedef struct timers {
    timer_seen *items;
    size_t n, cap;
} timers;

static int collect_timer(void *ud, const cf_timer_info *t)
{
    timers *ts = ud;
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 64;
        ts->items = realloc(ts->items, ts->cap * sizeof *ts->items);
        assert_non_null(ts->items);
    }
    timer_seen *s = &ts->items[ts->n++];
    snprintf(s->key, sizeof s->key, "%s/%s", t->instance_id, t->name);
    snprintf(s->state, sizeof s->state, "%s", t->state);
    snprintf(s->id, sizeof s->id, "%s", t->instance_id);
    return 0;
}

static int cmp_timer(const void *a, const void *b)
{
    return strcmp(((const timer_seen *)a)->key, ((const timer_seen *)b)->key);
}

static int64_t sql_int(cf_engine *e, const char *sql)
{
    return cft_sql_int(cf__store_path(e->store), sql, NULL);
}

void rel_check(cf_engine *e, rel_census *out)
{
    memset(out, 0, sizeof *out);
    /* The file itself. */
    char *integrity = cft_sql_text(cf__store_path(e->store), "PRAGMA integrity_check", NULL);
    assert_non_null(integrity);
    if (strcmp(integrity, "ok") != 0)
        fail_msg("PRAGMA integrity_check: %s", integrity);
    free(integrity);

    /* The hash chain. */
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    int rc = cf_engine_verify(e, &rep);
    if (rc != CF_OK)
        fail_msg("cf_engine_verify: %s: %s", cf_result_name(rc), cf_errmsg(e));

    /* Every instance's state and version from its history. */
    check c;
    memset(&c, 0, sizeof c);
    c.census = out;
    rc = cf_instance_list(e, NULL, collect_instance, &c);
    if (rc != CF_OK)
        fail_msg("cf_instance_list: %s", cf_errmsg(e));
    int64_t versions = 0;
    for (size_t i = 0; i < c.n && !c.problem[0]; i++) {
        c.cur = &c.items[i];
        c.number = 0;
        c.state = NULL;
        rc = cf_instance_history(e, c.cur->id, replay_row, &c);
        if (rc != CF_OK)
            fail_msg("cf_instance_history(%s): %s", c.cur->id, cf_errmsg(e));
        if (!c.problem[0] && c.number != c.cur->version)
            snprintf(c.problem, sizeof c.problem, "instance %s: version %" PRId64 " but %" PRId64 " history rows",
                     c.cur->id, c.cur->version, c.number);
        if (!c.problem[0] && (!c.state || strcmp(c.state, c.cur->state) != 0))
            snprintf(c.problem, sizeof c.problem,
                     "instance %s: stored state '%s' but its history ends in '%s' (unexplained state)", c.cur->id,
                     c.cur->state, c.state ? c.state : "(no creation row)");
        free(c.state);
        c.state = NULL;
        versions += c.cur->version;
    }
    out->instances = (int64_t)c.n;
    out->rows = sql_int(e, "SELECT count(*) FROM history");
    if (!c.problem[0] && out->rows != versions)
        snprintf(c.problem, sizeof c.problem,
                 "the history has %" PRId64 " rows but the instances' versions add up to %" PRId64
                 " (rows of no instance?)",
                 out->rows, versions);

    /* Timers belong to the state their instance is in, once per name. */
    timers ts = {0};
    if (!c.problem[0]) {
        rc = cf_timer_list(e, INT64_MIN / 2, INT64_MAX / 2, collect_timer, &ts);
        if (rc != CF_OK)
            fail_msg("cf_timer_list: %s", cf_errmsg(e));
        if (c.n) /* qsort(NULL, 0) is undefined */
            qsort(c.items, c.n, sizeof *c.items, cmp_inst);
        for (size_t i = 0; i < ts.n && !c.problem[0]; i++) {
            inst key;
            snprintf(key.id, sizeof key.id, "%s", ts.items[i].id);
            const inst *owner = bsearch(&key, c.items, c.n, sizeof *c.items, cmp_inst);
            if (!owner)
                snprintf(c.problem, sizeof c.problem, "timer %s belongs to no instance", ts.items[i].key);
            else if (strcmp(owner->state, ts.items[i].state) != 0)
                snprintf(c.problem, sizeof c.problem,
                         "timer %s was scheduled by state '%s' but the instance is in '%s' (left state's timer)",
                         ts.items[i].key, ts.items[i].state, owner->state);
        }
        if (ts.n) /* qsort(NULL, 0) is undefined */
            qsort(ts.items, ts.n, sizeof *ts.items, cmp_timer);
        for (size_t i = 1; i < ts.n && !c.problem[0]; i++)
            if (strcmp(ts.items[i - 1].key, ts.items[i].key) == 0)
                snprintf(c.problem, sizeof c.problem, "timer %s is pending twice", ts.items[i].key);
        out->timers = (int64_t)ts.n;
    }
    if (!c.problem[0]) {
        int64_t orphans = sql_int(e, "SELECT count(*) FROM outbox o WHERE NOT EXISTS"
                                     " (SELECT 1 FROM instance i WHERE i.id = o.target_id)");
        if (orphans)
            snprintf(c.problem, sizeof c.problem, "%" PRId64 " queued linked events name no instance", orphans);
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.items[i].state);
    free(c.items);
    free(ts.items);
    if (c.problem[0]) {
        rel_census_free(out);
        fail_msg("consistency: %s", c.problem);
    }
    if (out->nkeys) /* qsort(NULL, 0) is undefined */
        qsort(out->keys, out->nkeys, sizeof *out->keys, cmp_str);
    for (size_t i = 1; i < out->nkeys; i++)
        if (strcmp(out->keys[i - 1], out->keys[i]) == 0)
            fail_msg("idempotency key '%s' is recorded twice", out->keys[i]);
}

void rel_census_free(rel_census *c)
{
    for (size_t i = 0; i < c->nkeys; i++)
        free(c->keys[i]);
    free(c->keys);
    c->keys = NULL;
    c->nkeys = 0;
}

bool rel_census_has_key(const rel_census *c, const char *key)
{
    return c->nkeys && bsearch(&key, c->keys, c->nkeys, sizeof *c->keys, cmp_str) != NULL;
}

int rel_key_rows(cf_engine *e, const char *key)
{
    return (int)cft_sql_int(cf__store_path(e->store), "SELECT count(*) FROM history WHERE idem_key = ?1", key);
}

void rel_file_hash(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        assert_int_equal(errno, ENOENT);
        snprintf(out, 65, "missing");
        return;
    }
    cf__sha256 *h = cf__sha256_new();
    assert_non_null(h);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cf__sha256_update(h, buf, n);
    fclose(f);
    cf__sha256_final(h, out);
}
