/*
 * reliability.h — helpers shared by the reliability tests (tests/reliability):
 * a seeded random generator, opening an engine on the reliability fixtures,
 * the database-wide consistency check run after every crash, and file hashes.
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef CF_RELIABILITY_H
#define CF_RELIABILITY_H

#include "testutil.h"

#include <stdint.h>

/* The seeded generator of program/random.h (splitmix64), behind the tests' names. */
typedef struct rel_rng {
    uint64_t s;
} rel_rng;

uint64_t rel_next(rel_rng *r);
/* Uniform in [lo, hi]. */
int64_t rel_range(rel_rng *r, int64_t lo, int64_t hi);

/* The run's seed: $CF_RELIABILITY_SEED if set, else `fallback`. Printed, so a
 * failing run can be repeated. */
uint64_t rel_seed(const char *test, uint64_t fallback);
/* A count from the environment variable `name` (at least 1), else `fallback`. */
long rel_env_count(const char *name, long fallback);

/* Open an engine on db with tests/reliability/fixtures and a virtual clock.
 * busy_ms: busy timeout (0 = default). On failure returns NULL and, if rc is
 * not NULL, stores the code; the message goes to msg (if not NULL, size bytes). */
cf_engine *rel_open(const char *db, cft_clock *clock, int busy_ms, int *rc, char *msg, size_t size);
/* The same, failing the test when the engine does not open. */
cf_engine *rel_open_ok(const char *db, cft_clock *clock, int busy_ms);

/* What rel_check found. */
typedef struct rel_census {
    int64_t instances;
    int64_t rows;     /* history rows */
    int64_t applied, rejected, created;
    int64_t timers;
    char **keys;      /* every idempotency key in the history, sorted (malloc'd) */
    size_t nkeys;
} rel_census;

/* Check the whole database through the engine and fail the test on the first
 * problem: SQLite's integrity check; the hash chain (cf_engine_verify); for every
 * instance, its stored state is what replaying its history's applied rows from
 * the creation row gives, its version is its number of rows, numbered 1..n;
 * the history has no rows of unknown instances; every pending timer belongs to
 * the state its instance is in, once per (instance, name); the outbox is empty
 * or points at existing instances. Fills *out (free with rel_census_free). */
void rel_check(cf_engine *e, rel_census *out);
void rel_census_free(rel_census *c);
/* True when key is in the census. */
bool rel_census_has_key(const rel_census *c, const char *key);
/* Rows of the history that carry this idempotency key (any instance). */
int rel_key_rows(cf_engine *e, const char *key);

/* SHA-256 (hex) of a file's bytes, or "missing" if it does not exist. */
void rel_file_hash(const char *path, char out[65]);

#endif
