/*
 * random.h — the one random generator of the program and of the reliability
 * tests: splitmix64, small, seedable, the same sequence on every platform. The
 * simulation gives each agent its own stream (rng_stream) so that agents do not
 * disturb each other: the same seed gives the same run.
 */
#ifndef CF_PROGRAM_RANDOM_H
#define CF_PROGRAM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

/* The next number of the stream. */
static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The stream of agent `index` of one kind (people, supervisors, ...) in the run of `seed`. */
static inline rng rng_stream(uint64_t seed, uint64_t kind, uint64_t index)
{
    rng r = {seed * 0x2545F4914F6CDD1DULL ^ (kind << 48) ^ index};
    rng_next(&r);
    return r;
}

/* Uniform in [lo, hi]. */
static inline int64_t between(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct / 100. */
static inline int chance(rng *r, int pct)
{
    return (int)(rng_next(r) % 100) < pct;
}

static inline const char *pick(rng *r, const char *const *list, size_t n)
{
    return list[rng_next(r) % n];
}

#define PICK(r, list) pick(r, list, sizeof list / sizeof list[0])

#endif
