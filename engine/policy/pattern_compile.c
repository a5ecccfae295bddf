/*
 * pattern_compile.c — compiling a pattern of the policy sandbox's string
 * functions into a program: an array of items (literal runs, single bytes and
 * byte sets with their quantifiers, captures, %b, %f, back-references, '$', the
 * end) and the 256-bit byte sets of its classes and [sets]. A malformed construct
 * becomes an error item, raised only if the match reaches it, as Lua does. The
 * syntax, the step meter and the matcher are described in pattern.c.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/pattern_compile.h"

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

bool cf__pattern_class_has(unsigned char letter, int c)
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
const pat_prog *cf__pattern_compile(lua_State *L, pat_steps *st, const char *pat, size_t len, void *buf,
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
