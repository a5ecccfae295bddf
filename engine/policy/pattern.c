/*
 * pattern.c — string.find, string.match, string.gmatch and string.gsub for the
 * policy sandbox: certflow's own implementation of the pattern syntax that the
 * Lua 5.4 reference manual documents (§6.4.1 "Patterns", and §6.4 for the four
 * functions), with a step meter.
 *
 * Why: the stock functions backtrack inside C, where the count hook that
 * enforces a policy's instruction budget never runs, so string.find(("a"):rep(40),
 * ("a*"):rep(25) .. "b") would run for hours. These count their work in steps
 * and hand the steps to a charge function (policy_meter.c charges them to the calling
 * policy's instruction budget), which raises a Lua error when the budget is
 * spent. Results and error messages are the stock library's; tests/test_pattern.c
 * compares the two on a fixed table and on thousands of generated cases.
 *
 * How: a pattern is compiled once into an array of items (a run of literal
 * bytes; one byte — a literal, '.', a class or a [set], all sets and classes
 * turned into 256-bit byte sets — with its quantifier; capture open, close and
 * position; %b; %f; a back-reference; '$' at the end; the end). A malformed
 * construct compiles to an error item: Lua reports a malformed pattern only when
 * the match gets that far, and so does this. The matcher walks the items with
 * an explicit stack of choice points (a quantified byte that could match
 * otherwise), so it uses a fixed amount of C stack whatever the pattern. As Lua
 * does, it refuses a match that would nest more than 200 deep ("pattern too
 * complex"): a choice point or a capture item passed on the way counts one
 * level. Classes use <ctype.h> (isalpha...), as Lua does; their byte sets are
 * worked out once, when the functions are installed. A short pattern's program
 * is built on the C stack; a longer one's, and gmatch's, in a userdata.
 *
 * What a step is (about the cost of one Lua instruction):
 *   - compiling: one step per item, plus one per 64 bytes of pattern;
 *   - one item tried at one position of the subject (so each start position
 *     of an unanchored search is a step), and each return to a choice point;
 *   - one subject byte scanned by a repetition (*, +, -) or by %b ('.'
 *     repeated takes the rest of the subject at once: one step);
 *   - 64 bytes compared or searched in bulk (a literal run, a back-reference,
 *     a plain find, the skip to the next possible start of a pattern that
 *     begins with a literal byte), and 64 bytes of replacement text copied;
 *   - one escape (%0-%9, %%) expanded in a gsub replacement string.
 * Steps are gathered and charged every CHARGE_EVERY steps (a bulk compare
 * right after it is done) and before a function returns or calls back into
 * Lua. Everything a match holds lives on the C stack or in Lua-managed memory
 * (a userdata, a luaL_Buffer), so the charge function may raise a Lua error at
 * any charge without leaking.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
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

static pat_item *prog_items(const pat_prog *pg)
{
    return (pat_item *)(void *)((char *)(uintptr_t)pg + sizeof(pat_prog));
}

static byte_set *prog_sets(const pat_prog *pg)
{
    return (byte_set *)(void *)(prog_items(pg) + pg->sets_at);
}

static bool set_has(const byte_set *set, unsigned char c)
{
    return (set->bits[c >> 3] >> (c & 7)) & 1;
}

static void set_add(byte_set *set, unsigned char c)
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

static void steps_flush(pat_steps *st)
{
    if (st->pending > 0) {
        size_t n = st->pending;
        st->pending = 0;
        st->meter->charge(st->L, st->meter->ud, n);
    }
}

static void steps_add(pat_steps *st, size_t n)
{
    st->pending += n;
    if (st->pending >= CHARGE_EVERY)
        steps_flush(st);
}

/* ---- compiling ---- */

static bool is_quantifier(unsigned char c)
{
    return c == '*' || c == '+' || c == '-' || c == '?';
}

/* Where letter (either case) is in CLASS_LETTERS — the class letters of §6.4.1,
 * and 'z', which Lua 5.4 still reads as the zero byte — or -1. */
static int class_index(unsigned char letter)
{
    switch (letter | 0x20) {
    case 'a': return 0;
    case 'c': return 1;
    case 'd': return 2;
    case 'g': return 3;
    case 'l': return 4;
    case 'p': return 5;
    case 's': return 6;
    case 'u': return 7;
    case 'w': return 8;
    case 'x': return 9;
    case 'z': return 10;
    default: return -1;
    }
}

static bool is_class_letter(unsigned char c)
{
    return class_index(c) >= 0; /* only an ASCII letter gets there */
}

static bool class_has(unsigned char letter, int c)
{
    switch (letter) {
    case 'a': return isalpha(c) != 0;
    case 'c': return iscntrl(c) != 0;
    case 'd': return isdigit(c) != 0;
    case 'g': return isgraph(c) != 0;
    case 'l': return islower(c) != 0;
    case 'p': return ispunct(c) != 0;
    case 's': return isspace(c) != 0;
    case 'u': return isupper(c) != 0;
    case 'w': return isalnum(c) != 0;
    case 'x': return isxdigit(c) != 0;
    default: return c == 0; /* 'z' */
    }
}

typedef struct {
    const char *pat;
    size_t len;
    pat_prog *out; /* NULL while counting */
    uint32_t nitems, nsets;
    int level;                  /* captures opened so far */
    bool closed[MAX_CAPTURES];  /* closed (or a position) at this point */
    int caps_seen;              /* capture items so far */
    int32_t class_set[2][26];   /* byte set made for %x / %X, or -1 */
    const pat_meter *meter;     /* its class byte sets */
} pat_compiler;

static void emit(pat_compiler *c, pat_item it)
{
    it.caps_before = (uint8_t)c->caps_seen;
    if (c->out)
        prog_items(c->out)[c->nitems] = it;
    c->nitems++;
}

static void emit_malformed(pat_compiler *c, int why, int digit)
{
    emit(c, (pat_item){.kind = IT_MALFORMED, .a = (uint8_t)why, .b = (uint8_t)digit});
}

static uint32_t new_set(pat_compiler *c)
{
    if (c->out)
        memset(&prog_sets(c->out)[c->nsets], 0, sizeof(byte_set));
    return c->nsets++;
}

static byte_set *set_at(pat_compiler *c, uint32_t i)
{
    return c->out ? &prog_sets(c->out)[i] : NULL;
}

/* Adds the bytes of class letter (upper case: the complement) to set. */
static void set_add_class(const pat_compiler *c, byte_set *set, unsigned char letter)
{
    if (!set)
        return;
    bool complement = letter < 'a'; /* upper case */
    const byte_set *cls = &c->meter->classes[class_index(letter)];
    for (int b = 0; b < 32; b++)
        set->bits[b] = (uint8_t)(set->bits[b] | (complement ? ~cls->bits[b] : cls->bits[b]));
}

/* The byte set of %letter, made once per pattern. */
static uint32_t class_set(pat_compiler *c, unsigned char letter)
{
    int upper = letter < 'a' ? 1 : 0, k = (letter | 0x20) - 'a';
    if (c->class_set[upper][k] < 0) {
        uint32_t i = new_set(c);
        set_add_class(c, set_at(c, i), letter);
        c->class_set[upper][k] = (int32_t)i;
    }
    return (uint32_t)c->class_set[upper][k];
}

/* A [set] starting at pat[at] == '['. Its end is the first ']' after the first
 * member that no '%' escapes; its members are read from the left: %x (a class,
 * or the byte x), a-b (a range, when a byte follows the '-' before the end),
 * or a byte; a leading '^' complements. Returns false when there is no end. */
static bool compile_set(pat_compiler *c, size_t at, uint32_t *set_index, size_t *after)
{
    const char *p = c->pat;
    size_t len = c->len, j = at + 1;
    if (j < len && p[j] == '^')
        j++;
    do { /* the first member may be ']' */
        if (j >= len)
            return false;
        if (p[j++] == '%' && j < len)
            j++;
    } while (j >= len || p[j] != ']');
    size_t end = j;

    uint32_t i = new_set(c);
    byte_set *set = set_at(c, i);
    bool complement = p[at + 1] == '^';
    for (size_t k = at + 1 + (complement ? 1 : 0); k < end; k++) {
        unsigned char ch = (unsigned char)p[k];
        if (ch == '%') {
            unsigned char e = (unsigned char)p[++k]; /* k <= end: p[end] is the ']' */
            if (is_class_letter(e))
                set_add_class(c, set, e);
            else if (set)
                set_add(set, e);
        } else if (p[k + 1] == '-' && k + 2 < end) {
            unsigned char hi = (unsigned char)p[k + 2];
            for (unsigned b = ch; set && b <= hi; b++)
                set_add(set, (unsigned char)b);
            k += 2;
        } else if (set) {
            set_add(set, ch);
        }
    }
    if (set && complement)
        for (int b = 0; b < 32; b++)
            set->bits[b] = (uint8_t)~set->bits[b];
    *set_index = i;
    *after = end + 1;
    return true;
}

/* A byte is taken literally unless it starts an item of its own. */
static bool is_literal_at(const pat_compiler *c, size_t i)
{
    unsigned char ch = (unsigned char)c->pat[i];
    if (ch == '(' || ch == ')' || ch == '%' || ch == '[' || ch == '.')
        return false;
    return !(ch == '$' && i + 1 == c->len);
}

/* One pass over the pattern: counts the items and sets (c->out == NULL) or
 * writes them. Stops at the first malformed construct, which becomes an
 * IT_MALFORMED item (nothing after it can be reached). */
static void compile_pass(pat_compiler *c)
{
    const char *p = c->pat;
    size_t len = c->len, i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '(') {
            if (c->level >= MAX_CAPTURES)
                return emit_malformed(c, BAD_TOO_MANY, 0);
            bool position = i + 1 < len && p[i + 1] == ')';
            emit(c, (pat_item){.kind = position ? IT_POSITION : IT_OPEN, .a = (uint8_t)c->level});
            c->closed[c->level++] = position;
            c->caps_seen++;
            i += position ? 2 : 1;
            continue;
        }
        if (ch == ')') {
            int k = c->level - 1;
            while (k >= 0 && c->closed[k])
                k--;
            if (k < 0)
                return emit_malformed(c, BAD_CLOSE, 0);
            emit(c, (pat_item){.kind = IT_CLOSE, .a = (uint8_t)k});
            c->closed[k] = true;
            c->caps_seen++;
            i++;
            continue;
        }
        if (ch == '$' && i + 1 == len) {
            emit(c, (pat_item){.kind = IT_EOS});
            i++;
            continue;
        }
        if (ch == '%') {
            if (i + 1 >= len)
                return emit_malformed(c, BAD_PERCENT_END, 0);
            unsigned char e = (unsigned char)p[i + 1];
            if (e == 'b') {
                if (i + 3 >= len)
                    return emit_malformed(c, BAD_BALANCE, 0);
                emit(c, (pat_item){.kind = IT_BALANCED, .a = (uint8_t)p[i + 2], .b = (uint8_t)p[i + 3]});
                i += 4;
                continue;
            }
            if (e == 'f') {
                uint32_t set;
                if (i + 2 >= len || p[i + 2] != '[')
                    return emit_malformed(c, BAD_FRONTIER, 0);
                if (!compile_set(c, i + 2, &set, &i))
                    return emit_malformed(c, BAD_SET_END, 0);
                emit(c, (pat_item){.kind = IT_FRONTIER, .x = set});
                continue;
            }
            if (e >= '0' && e <= '9') {
                int k = e - '1';
                if (k < 0 || k >= c->level || !c->closed[k])
                    return emit_malformed(c, BAD_INDEX, e - '0');
                emit(c, (pat_item){.kind = IT_SAME, .a = (uint8_t)k});
                i += 2;
                continue;
            }
        }
        if (is_literal_at(c, i) && !(i + 1 < len && is_quantifier((unsigned char)p[i + 1]))) {
            size_t from = i;
            while (i < len && is_literal_at(c, i) && !(i + 1 < len && is_quantifier((unsigned char)p[i + 1])))
                i++;
            emit(c, (pat_item){.kind = IT_RUN, .x = (uint32_t)from, .n = (uint32_t)(i - from)});
            continue;
        }
        /* One byte: a literal, '.', %x or [set]; then perhaps a quantifier. */
        pat_item it = {.kind = IT_BYTE, .a = ch};
        if (ch == '.') {
            it.kind = IT_ANYBYTE;
            i++;
        } else if (ch == '%') {
            unsigned char e = (unsigned char)p[i + 1];
            if (is_class_letter(e)) {
                it.kind = IT_INSET;
                it.x = class_set(c, e);
            } else {
                it.a = e;
            }
            i += 2;
        } else if (ch == '[') {
            if (!compile_set(c, i, &it.x, &i))
                return emit_malformed(c, BAD_SET_END, 0);
            it.kind = IT_INSET;
        } else {
            i++;
        }
        it.q = Q_ONCE;
        if (i < len && is_quantifier((unsigned char)p[i])) {
            switch (p[i]) {
            case '?': it.q = Q_OPTIONAL; break;
            case '*': it.q = Q_MANY; break;
            case '+': it.q = Q_SOME; break;
            default: it.q = Q_FEWEST; break;
            }
            i++;
        }
        emit(c, it);
    }
    emit(c, (pat_item){.kind = IT_END});
}

/* Compiles pat[0 .. len) into buf when it surely fits there (buf may be
 * NULL): in one pass; else into a new userdata, pushed on the stack: one pass
 * to count the items and sets, one to write them. */
static const pat_prog *compile(lua_State *L, pat_steps *st, const char *pat, size_t len, void *buf,
                               size_t buf_size)
{
    if (len > UINT32_MAX / 2)
        luaL_error(L, "pattern too complex");
    /* At most an item a byte and the end; a set takes two bytes or more. */
    size_t most = sizeof(pat_prog) + (len + 1) * sizeof(pat_item) + (len / 2 + 1) * sizeof(byte_set);
    pat_prog *pg = buf;
    if (buf && most <= buf_size) {
        pg->sets_at = (uint32_t)len + 1;
    } else {
        pat_compiler count = {.pat = pat, .len = len, .meter = st->meter};
        memset(count.class_set, 0xff, sizeof count.class_set);
        compile_pass(&count);
        size_t size = sizeof(pat_prog) + count.nitems * sizeof(pat_item) + count.nsets * sizeof(byte_set);
        pg = lua_newuserdatauv(L, size, 0);
        pg->sets_at = count.nitems;
    }
    pat_compiler c = {.pat = pat, .len = len, .out = pg, .meter = st->meter};
    memset(c.class_set, 0xff, sizeof c.class_set);
    compile_pass(&c);
    pg->nitems = c.nitems;
    pg->nsets = c.nsets;
    pg->ncaps = c.level;
    const pat_item *first = prog_items(pg);
    pg->first_byte = first->kind == IT_RUN                                            ? (unsigned char)pat[first->x]
                     : first->kind == IT_BYTE && (first->q == Q_ONCE || first->q == Q_SOME) ? first->a
                                                                                      : -1;
    steps_add(st, c.nitems + len / 64);
    return pg;
}

/* Room on the C stack for the program of a typical pattern. */
typedef union {
    pat_prog pg;
    uint64_t align;
    char bytes[4096];
} prog_room;

/* ---- matching ---- */

#define NO_MATCH SIZE_MAX
enum { CAP_OPEN = -1, CAP_AT = -2 }; /* a capture's len: not closed yet; a position */

typedef struct {
    pat_steps steps;
    const char *subj;
    size_t len;
    const char *pat;
    const pat_prog *pg;
    const pat_item *items;
    const byte_set *sets;
    struct {
        size_t start;
        ptrdiff_t len;
    } cap[MAX_CAPTURES];
} pat_matcher;

/* A place to come back to: quantified item pc, and where its byte run ends now
 * (for '?': where the item started; for '*' and '+' fewest is the shortest end). */
typedef struct {
    uint32_t pc;
    size_t at, fewest;
} pat_choice;

static bool byte_ok(const pat_matcher *m, const pat_item *it, unsigned char c)
{
    switch (it->kind) {
    case IT_BYTE: return c == it->a;
    case IT_ANYBYTE: return true;
    default: return set_has(&m->sets[it->x], c);
    }
}

/* How many bytes from s on item it matches, one step each. */
static size_t count_run(pat_matcher *m, const pat_item *it, size_t s)
{
    if (it->kind == IT_ANYBYTE)
        return m->len - s;
    size_t n = 0;
    while (s + n < m->len && byte_ok(m, it, (unsigned char)m->subj[s + n])) {
        n++;
        if ((n & (CHARGE_EVERY - 1)) == 0)
            steps_add(&m->steps, CHARGE_EVERY);
    }
    steps_add(&m->steps, n & (CHARGE_EVERY - 1));
    return n;
}

static void too_deep(lua_State *L, const pat_item *it, int nchoices, int extra)
{
    if (it->caps_before + nchoices + extra >= MAX_NESTING)
        luaL_error(L, "pattern too complex");
}

static void raise_malformed(lua_State *L, const pat_item *it)
{
    switch (it->a) {
    case BAD_PERCENT_END: luaL_error(L, "malformed pattern (ends with '%%')"); break;
    case BAD_SET_END: luaL_error(L, "malformed pattern (missing ']')"); break;
    case BAD_BALANCE: luaL_error(L, "malformed pattern (missing arguments to '%%b')"); break;
    case BAD_FRONTIER: luaL_error(L, "missing '[' after '%%f' in pattern"); break;
    case BAD_INDEX: luaL_error(L, "invalid capture index %%%d", it->b); break;
    case BAD_CLOSE: luaL_error(L, "invalid pattern capture"); break;
    default: luaL_error(L, "too many captures"); break;
    }
}

/* Matches the whole program at subject position s; returns where the match
 * ends, or NO_MATCH. The alternatives are tried in Lua's order: '*' and '+'
 * longest first, '-' shortest first, '?' with the byte first. */
static size_t match_at(pat_matcher *m, size_t s)
{
    pat_choice choices[MAX_NESTING];
    int top = 0;
    uint32_t pc = 0;
    const pat_item *items = m->items;
    const char *subj = m->subj;
    size_t len = m->len;
    lua_State *L = m->steps.L;

    for (;;) {
        const pat_item *it = &items[pc];
        if (++m->steps.pending >= CHARGE_EVERY)
            steps_flush(&m->steps);
        switch (it->kind) {
        case IT_END:
            return s;
        case IT_EOS:
            if (s == len)
                return s;
            goto backtrack;
        case IT_RUN:
            steps_add(&m->steps, it->n / 64);
            if (len - s < it->n || memcmp(subj + s, m->pat + it->x, it->n) != 0)
                goto backtrack;
            s += it->n;
            pc++;
            continue;
        case IT_BYTE:
        case IT_ANYBYTE:
        case IT_INSET: {
            bool here = s < len && byte_ok(m, it, (unsigned char)subj[s]);
            switch (it->q) {
            case Q_ONCE:
                if (!here)
                    goto backtrack;
                s++;
                break;
            case Q_OPTIONAL:
                if (here) {
                    too_deep(L, it, top, 1);
                    choices[top++] = (pat_choice){.pc = pc, .at = s};
                    s++;
                }
                break;
            case Q_FEWEST:
                if (here) {
                    too_deep(L, it, top, 1);
                    choices[top++] = (pat_choice){.pc = pc, .at = s};
                }
                break;
            default: { /* Q_MANY, Q_SOME */
                if (!here) {
                    if (it->q == Q_SOME)
                        goto backtrack;
                    break;
                }
                size_t n = count_run(m, it, s);
                too_deep(L, it, top, 1);
                choices[top++] = (pat_choice){.pc = pc, .at = s + n, .fewest = it->q == Q_SOME ? s + 1 : s};
                s += n;
                break;
            }
            }
            pc++;
            continue;
        }
        case IT_OPEN:
        case IT_POSITION:
            too_deep(L, it, top, 1);
            m->cap[it->a].start = s;
            m->cap[it->a].len = it->kind == IT_OPEN ? CAP_OPEN : CAP_AT;
            pc++;
            continue;
        case IT_CLOSE:
            too_deep(L, it, top, 1);
            m->cap[it->a].len = (ptrdiff_t)(s - m->cap[it->a].start);
            pc++;
            continue;
        case IT_BALANCED: {
            if (s >= len || (unsigned char)subj[s] != it->a)
                goto backtrack;
            size_t depth = 1, k = s + 1, charged = 0;
            for (; k < len; k++) {
                unsigned char c = (unsigned char)subj[k];
                if (c == it->b) {
                    if (--depth == 0)
                        break;
                } else if (c == it->a) {
                    depth++;
                }
                if (k - s - charged >= CHARGE_EVERY) {
                    steps_add(&m->steps, CHARGE_EVERY);
                    charged += CHARGE_EVERY;
                }
            }
            steps_add(&m->steps, k - s - charged);
            if (k >= len)
                goto backtrack;
            s = k + 1;
            pc++;
            continue;
        }
        case IT_FRONTIER: {
            unsigned char before = s > 0 ? (unsigned char)subj[s - 1] : 0;
            unsigned char after = s < len ? (unsigned char)subj[s] : 0;
            const byte_set *set = &m->sets[it->x];
            if (set_has(set, before) || !set_has(set, after))
                goto backtrack;
            pc++;
            continue;
        }
        case IT_SAME: {
            ptrdiff_t n = m->cap[it->a].len;
            if (n < 0) /* a position capture: Lua never matches it again */
                goto backtrack;
            steps_add(&m->steps, (size_t)n / 64);
            if (len - s < (size_t)n || memcmp(subj + s, subj + m->cap[it->a].start, (size_t)n) != 0)
                goto backtrack;
            s += (size_t)n;
            pc++;
            continue;
        }
        default: /* IT_MALFORMED */
            raise_malformed(L, it);
            return NO_MATCH;
        }

    backtrack:
        for (;;) {
            if (top == 0)
                return NO_MATCH;
            pat_choice *ch = &choices[top - 1];
            const pat_item *ci = &items[ch->pc];
            if (++m->steps.pending >= CHARGE_EVERY)
                steps_flush(&m->steps);
            pc = ch->pc + 1;
            if (ci->q == Q_OPTIONAL) { /* now without the byte */
                s = ch->at;
                top--;
                break;
            }
            if (ci->q == Q_FEWEST) { /* one byte more, if it matches */
                if (ch->at < len && byte_ok(m, ci, (unsigned char)subj[ch->at])) {
                    s = ++ch->at;
                    break;
                }
                top--;
                continue;
            }
            if (ch->at == ch->fewest) { /* '*', '+': one byte fewer */
                top--;
                continue;
            }
            s = --ch->at;
            break;
        }
    }
}

/* The first position from s on where a match could start (every match of a
 * pattern that begins with a literal byte starts with that byte), or NO_MATCH. */
static size_t next_start(pat_matcher *m, size_t s)
{
    int b = m->pg->first_byte;
    if (b < 0 || (s < m->len && (unsigned char)m->subj[s] == b))
        return s;
    if (s >= m->len)
        return NO_MATCH;
    const char *hit = memchr(m->subj + s, b, m->len - s);
    size_t to = hit ? (size_t)(hit - m->subj) : m->len;
    steps_add(&m->steps, (to - s) / 64);
    return hit ? to : NO_MATCH;
}

static void matcher_init(pat_matcher *m, lua_State *L, const char *subj, size_t len, const char *pat)
{
    m->steps.L = L;
    m->steps.pending = 0;
    m->steps.meter = lua_touserdata(L, lua_upvalueindex(1));
    m->subj = subj;
    m->len = len;
    m->pat = pat;
}

static void matcher_use(pat_matcher *m, const pat_prog *pg)
{
    m->pg = pg;
    m->items = prog_items(pg);
    m->sets = prog_sets(pg);
}

/* Pushes capture i of the match [s, e): with no captures, capture 0 is the whole match. */
static void push_capture(pat_matcher *m, int i, size_t s, size_t e)
{
    lua_State *L = m->steps.L;
    if (i >= m->pg->ncaps) {
        if (i != 0)
            luaL_error(L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(L, m->subj + s, e - s);
    } else if (m->cap[i].len == CAP_OPEN) {
        luaL_error(L, "unfinished capture");
    } else if (m->cap[i].len == CAP_AT) {
        lua_pushinteger(L, (lua_Integer)m->cap[i].start + 1);
    } else {
        lua_pushlstring(L, m->subj + m->cap[i].start, (size_t)m->cap[i].len);
    }
}

/* Pushes the captures (the whole match when there are none and whole is set). */
static int push_captures(pat_matcher *m, size_t s, size_t e, bool whole)
{
    int n = m->pg->ncaps == 0 && whole ? 1 : m->pg->ncaps;
    luaL_checkstack(m->steps.L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* A 1-based position from a Lua init argument, as string.find reads it. */
static size_t start_position(lua_Integer init, size_t len)
{
    if (init > 0)
        return (size_t)init;
    if (init == 0 || init < -(lua_Integer)len)
        return 1;
    return len - (size_t)(-init) + 1;
}

static bool has_magic(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (p[i]) {
        case '^': case '$': case '*': case '+': case '?': case '.': case '(': case '[': case '%': case '-':
            return true;
        default:
            break;
        }
    }
    return false;
}

/* needle in hay[from ..), plainly; its 0-based position or NO_MATCH. */
static size_t plain_search(pat_steps *st, const char *hay, size_t hay_len, size_t from, const char *needle,
                           size_t n)
{
    if (n == 0)
        return from;
    if (n > hay_len - from)
        return NO_MATCH;
    size_t last = hay_len - n; /* the last start that fits */
    size_t at = from;
    while (at <= last) {
        const char *hit = memchr(hay + at, needle[0], last - at + 1);
        if (!hit) {
            steps_add(st, (last - at + 1) / 64 + 1);
            return NO_MATCH;
        }
        size_t k = (size_t)(hit - hay);
        steps_add(st, (k - at) / 64 + n / 64 + 1);
        if (memcmp(hit + 1, needle + 1, n - 1) == 0)
            return k;
        at = k + 1;
    }
    return NO_MATCH;
}

static int find_or_match(lua_State *L, bool find)
{
    size_t len, plen;
    const char *subj = luaL_checklstring(L, 1, &len);
    const char *pat = luaL_checklstring(L, 2, &plen);
    size_t init = start_position(luaL_optinteger(L, 3, 1), len);
    if (init > len + 1) {
        luaL_pushfail(L);
        return 1;
    }
    pat_matcher m;
    matcher_init(&m, L, subj, len, pat);
    if (find && (lua_toboolean(L, 4) || !has_magic(pat, plen))) {
        size_t at = plain_search(&m.steps, subj, len, init - 1, pat, plen);
        steps_flush(&m.steps);
        if (at == NO_MATCH) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)at + 1);
        lua_pushinteger(L, (lua_Integer)(at + plen));
        return 2;
    }
    bool anchored = plen > 0 && pat[0] == '^';
    if (anchored)
        pat++, plen--;
    m.pat = pat;
    prog_room room;
    matcher_use(&m, compile(L, &m.steps, pat, plen, &room, sizeof room));
    size_t s = init - 1;
    for (;;) {
        if (!anchored && (s = next_start(&m, s)) == NO_MATCH)
            break;
        size_t e = match_at(&m, s);
        if (e != NO_MATCH) {
            steps_flush(&m.steps);
            if (!find)
                return push_captures(&m, s, e, true);
            lua_pushinteger(L, (lua_Integer)s + 1);
            lua_pushinteger(L, (lua_Integer)e);
            return 2 + push_captures(&m, s, e, false);
        }
        if (anchored || s >= len)
            break;
        s++;
    }
    steps_flush(&m.steps);
    luaL_pushfail(L);
    return 1;
}

static int pat_find(lua_State *L)
{
    return find_or_match(L, true);
}

static int pat_match(lua_State *L)
{
    return find_or_match(L, false);
}

/* gmatch's iterator; upvalues: meter, subject, pattern, state, program. */
typedef struct {
    size_t next, last; /* where to search next; the end of the last match (NO_MATCH: none yet) */
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    size_t len, plen;
    const char *subj = lua_tolstring(L, lua_upvalueindex(2), &len);
    const char *pat = lua_tolstring(L, lua_upvalueindex(3), &plen);
    gmatch_state *gs = lua_touserdata(L, lua_upvalueindex(4));
    pat_matcher m;
    matcher_init(&m, L, subj, len, pat);
    matcher_use(&m, lua_touserdata(L, lua_upvalueindex(5)));
    for (size_t s = gs->next; s <= len; s++) {
        if ((s = next_start(&m, s)) == NO_MATCH)
            break;
        size_t e = match_at(&m, s);
        if (e != NO_MATCH && e != gs->last) {
            gs->next = gs->last = e;
            steps_flush(&m.steps);
            return push_captures(&m, s, e, true);
        }
    }
    gs->next = len + 1;
    steps_flush(&m.steps);
    return 0;
}

static int pat_gmatch(lua_State *L)
{
    size_t len, plen;
    luaL_checklstring(L, 1, &len);
    const char *pat = luaL_checklstring(L, 2, &plen);
    size_t init = start_position(luaL_optinteger(L, 3, 1), len) - 1;
    if (init > len)
        init = len + 1; /* past the end: no match, not even an empty one */
    lua_settop(L, 2);
    pat_steps st = {L, lua_touserdata(L, lua_upvalueindex(1)), 0};
    gmatch_state *gs = lua_newuserdatauv(L, sizeof *gs, 0);
    gs->next = init;
    gs->last = NO_MATCH;
    compile(L, &st, pat, plen, NULL, 0); /* '^' is an ordinary byte here, as in Lua 5.4 */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_rotate(L, 1, 1); /* meter, subject, pattern, state, program */
    lua_pushcclosure(L, gmatch_next, 5);
    steps_flush(&st);
    return 1;
}

/* Adds repl (gsub's string replacement) for the match [s, e) to b. */
static void add_expanded(pat_matcher *m, luaL_Buffer *b, const char *repl, size_t rlen, size_t s, size_t e)
{
    lua_State *L = m->steps.L;
    size_t i = 0;
    while (i < rlen) {
        const char *pct = memchr(repl + i, '%', rlen - i);
        size_t stop = pct ? (size_t)(pct - repl) : rlen;
        luaL_addlstring(b, repl + i, stop - i);
        steps_add(&m->steps, (stop - i) / 64);
        if (!pct)
            return;
        steps_add(&m->steps, 1);
        i = stop + 1;
        unsigned char d = i < rlen ? (unsigned char)repl[i] : 0;
        if (d == '%') {
            luaL_addchar(b, '%');
        } else if (d == '0') {
            luaL_addlstring(b, m->subj + s, e - s);
            steps_add(&m->steps, (e - s) / 64);
        } else if (isdigit(d)) {
            push_capture(m, d - '1', s, e);
            luaL_tolstring(L, -1, NULL);
            lua_remove(L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", '%');
        }
        i++;
    }
}

/* Adds the replacement for the match [s, e) to b; repl is argument 3. */
static void add_replacement(pat_matcher *m, luaL_Buffer *b, int repl_type, size_t s, size_t e)
{
    lua_State *L = m->steps.L;
    if (repl_type == LUA_TSTRING || repl_type == LUA_TNUMBER) {
        size_t rlen;
        const char *repl = lua_tolstring(L, 3, &rlen);
        add_expanded(m, b, repl, rlen, s, e);
        return;
    }
    if (repl_type == LUA_TFUNCTION) {
        steps_flush(&m->steps); /* the function's own work is counted by the hook */
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e, true);
        lua_call(L, n, 1);
    } else {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the matched text */
        lua_pop(L, 1);
        luaL_addlstring(b, m->subj + s, e - s);
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int pat_gsub(lua_State *L)
{
    size_t len, plen;
    const char *subj = luaL_checklstring(L, 1, &len);
    const char *pat = luaL_checklstring(L, 2, &plen);
    int repl_type = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)len + 1);
    luaL_argexpected(L,
                     repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING || repl_type == LUA_TFUNCTION ||
                         repl_type == LUA_TTABLE,
                     3, "string/function/table");
    bool anchored = plen > 0 && pat[0] == '^';
    if (anchored)
        pat++, plen--;
    pat_matcher m;
    matcher_init(&m, L, subj, len, pat);
    prog_room room;
    matcher_use(&m, compile(L, &m.steps, pat, plen, &room, sizeof room));
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t s = 0, last = NO_MATCH;
    lua_Integer n = 0;
    while (n < max_n) {
        if (!anchored) { /* copy the bytes where no match can start in one go */
            size_t to = next_start(&m, s);
            if (to == NO_MATCH)
                to = len;
            luaL_addlstring(&b, subj + s, to - s);
            s = to;
        }
        size_t e = match_at(&m, s);
        if (e != NO_MATCH && e != last) {
            n++;
            add_replacement(&m, &b, repl_type, s, e);
            s = last = e;
        } else if (s < len) {
            luaL_addchar(&b, subj[s]);
            s++;
        } else {
            break;
        }
        if (anchored)
            break;
    }
    luaL_addlstring(&b, subj + s, len - s);
    steps_add(&m.steps, (len - s) / 64);
    steps_flush(&m.steps);
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void cf__pattern_install(lua_State *L, int t, cf__pattern_charge_fn charge, void *ud)
{
    static const luaL_Reg FUNCS[] = {
        {"find", pat_find}, {"match", pat_match}, {"gmatch", pat_gmatch}, {"gsub", pat_gsub}};
    t = lua_absindex(L, t);
    pat_meter *meter = lua_newuserdatauv(L, sizeof *meter, 0);
    meter->charge = charge;
    meter->ud = ud;
    memset(meter->classes, 0, sizeof meter->classes);
    for (size_t k = 0; k < sizeof CLASS_LETTERS - 1; k++)
        for (int b = 0; b < 256; b++)
            if (class_has((unsigned char)CLASS_LETTERS[k], b))
                set_add(&meter->classes[k], (unsigned char)b);
    for (size_t i = 0; i < sizeof FUNCS / sizeof *FUNCS; i++) {
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, FUNCS[i].func, 1);
        lua_setfield(L, t, FUNCS[i].name);
    }
    lua_pop(L, 1);
}
