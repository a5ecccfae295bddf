/*
 * pattern.c — string.find, string.match, string.gmatch and string.gsub for the
 * policy sandbox, and the matcher they share (the compiler is pattern_compile.c):
 * certflow's own implementation of the pattern syntax that the
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
#include <string.h>

#include <lauxlib.h>

#include "policy/pattern_compile.h"

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
    matcher_use(&m, cf__pattern_compile(L, &m.steps, pat, plen, &room, sizeof room));
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
    cf__pattern_compile(L, &st, pat, plen, NULL, 0); /* '^' is an ordinary byte here, as in Lua 5.4 */
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
    matcher_use(&m, cf__pattern_compile(L, &m.steps, pat, plen, &room, sizeof room));
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
            if (cf__pattern_class_has((unsigned char)CLASS_LETTERS[k], b))
                set_add(&meter->classes[k], (unsigned char)b);
    for (size_t i = 0; i < sizeof FUNCS / sizeof *FUNCS; i++) {
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, FUNCS[i].func, 1);
        lua_setfield(L, t, FUNCS[i].name);
    }
    lua_pop(L, 1);
}
