/*
 * pattern_compile.h — what compiling a pattern gives the matcher
 * (pattern_compile.c compiles a pattern into a program of items; pattern.c
 * matches it and holds string.find/match/gmatch/gsub): the program's items and
 * byte sets, and the step meter. Not part of the engine's interface.
 */
#ifndef CERTFLOW_PATTERN_COMPILE_H
#define CERTFLOW_PATTERN_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "internal.h"

enum {
    MAX_CAPTURES = 32,  /* as Lua's LUA_MAXCAPTURES */
    MAX_NESTING = 200,  /* as Lua's limit on the matcher's nesting */
    CHARGE_EVERY = 1024 /* steps gathered before the charge function is called */
};

/* What an item does. */
enum {
    IT_END,       /* the end of the pattern: a match */
    IT_EOS,       /* '$' as the last character: the subject must end here */
    IT_RUN,       /* literal bytes pat[x .. x+n), each matched once */
    IT_BYTE,      /* one byte equal to a, with quantifier q */
    IT_ANYBYTE,   /* '.': any one byte, with quantifier q */
    IT_INSET,     /* one byte in byte set x, with quantifier q */
    IT_OPEN,      /* '(' opening capture a */
    IT_POSITION,  /* '()' : capture a is the current position */
    IT_CLOSE,     /* ')' closing capture a */
    IT_BALANCED,  /* %bab */
    IT_FRONTIER,  /* %f[set]: the set's byte set is x */
    IT_SAME,      /* %1-%9: the text of capture a again */
    IT_MALFORMED  /* raise error a (with the digit b for a capture index) */
};

/* Quantifiers. */
enum { Q_ONCE, Q_OPTIONAL, Q_MANY, Q_SOME, Q_FEWEST }; /* none, '?', '*', '+', '-' */

/* The messages of a malformed pattern, worded as Lua's. */
enum { BAD_PERCENT_END, BAD_SET_END, BAD_BALANCE, BAD_FRONTIER, BAD_INDEX, BAD_CLOSE, BAD_TOO_MANY };

typedef struct {
    uint8_t kind, q;
    uint8_t a, b;
    uint8_t caps_before; /* capture items before this one (each nests one level) */
    uint32_t x, n;
} pat_item;

typedef struct {
    uint8_t bits[32];
} byte_set;

typedef struct {
    uint32_t nitems, nsets;
    uint32_t sets_at; /* where the sets start, counted in items */
    int ncaps;        /* captures a match has (those opened before the end) */
    int first_byte;   /* a byte every match starts with, or -1 */
    /* pat_item items[nitems], then from items + sets_at: byte_set sets[nsets] */
} pat_prog;

static inline pat_item *prog_items(const pat_prog *pg)
{
    return (pat_item *)(void *)((char *)(uintptr_t)pg + sizeof(pat_prog));
}

static inline byte_set *prog_sets(const pat_prog *pg)
{
    return (byte_set *)(void *)(prog_items(pg) + pg->sets_at);
}

static inline bool set_has(const byte_set *set, unsigned char c)
{
    return (set->bits[c >> 3] >> (c & 7)) & 1;
}

static inline void set_add(byte_set *set, unsigned char c)
{
    set->bits[c >> 3] = (uint8_t)(set->bits[c >> 3] | (1u << (c & 7)));
}

/* ---- the charge ---- */

/* Shared by the four functions of one state: where steps go, and the byte set
 * of each class letter (lower case, in CLASS_LETTERS order), worked out with
 * <ctype.h> once, when the functions are installed. */
static const char CLASS_LETTERS[] = "acdglpsuwxz";

typedef struct {
    cf__pattern_charge_fn charge;
    void *ud;
    byte_set classes[sizeof CLASS_LETTERS - 1];
} pat_meter;

typedef struct {
    lua_State *L;
    const pat_meter *meter;
    size_t pending; /* steps not charged yet */
} pat_steps;

static inline void steps_flush(pat_steps *st)
{
    if (st->pending > 0) {
        size_t n = st->pending;
        st->pending = 0;
        st->meter->charge(st->L, st->meter->ud, n);
    }
}

static inline void steps_add(pat_steps *st, size_t n)
{
    st->pending += n;
    if (st->pending >= CHARGE_EVERY)
        steps_flush(st);
}

/* Room on the C stack for the program of a typical pattern. */
typedef union {
    pat_prog pg;
    uint64_t align;
    char bytes[4096];
} prog_room;

/* ---- pattern_compile.c ---- */

/* Whether byte c is in class `letter` (lower case, as in CLASS_LETTERS), by <ctype.h>. */
bool cf__pattern_class_has(unsigned char letter, int c);
/* Compile pat[0 .. len) into buf when it surely fits there (buf may be NULL);
 * else into a new userdata, pushed on the stack. Charges its steps to st. */
const pat_prog *cf__pattern_compile(lua_State *L, pat_steps *st, const char *pat, size_t len, void *buf,
                                     size_t buf_size);

#endif
