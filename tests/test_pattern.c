/* test_pattern.c — engine/policy/pattern.c against the stock Lua 5.4 string library
 * (fixed cases and thousands of generated ones, results and error messages),
 * and its step meter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* Loaded in both states: returns run(fn, ...), which calls one function and
 * serialises what it returned or raised, and runs the fixed cases with it. */
static const char DRIVER[] =
    "local T = { a = 'A', ab = 1.5, b = false, ['('] = {}, [''] = 'E', [1] = 'one', ['2'] = 2 }\n"
    "local function F(...)\n"
    "  local a = ...\n"
    "  if a == 'b' then return nil end\n"
    "  if a == 'ab' then return false end\n"
    "  if a == '' then return 7 end\n"
    "  if a == '(' then return {} end\n"
    "  if a == 'a(' then return 2.5 end\n"
    "  local t = {}\n"
    "  for i = 1, select('#', ...) do t[i] = tostring((select(i, ...))) end\n"
    "  return '<' .. table.concat(t, ',') .. '>'\n"
    "end\n"
    "local function ser(...)\n"
    "  local t = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    t[#t + 1] = type(v) .. ':' .. (type(v) == 'string' and ('%q'):format(v) or tostring(v))\n"
    "  end\n"
    "  return table.concat(t, ',')\n"
    "end\n"
    "local function collect(s, p, init)\n"
    "  local r = {}\n"
    "  for a, b, c in string.gmatch(s, p, init) do\n"
    "    r[#r + 1] = ser(a, b, c)\n"
    "    if #r >= 300 then break end\n"
    "  end\n"
    "  return table.concat(r, '|')\n"
    "end\n"
    "local REPL = { tab = T, fun = F, num = 42, flt = 2.5, bool = true, none = nil }\n"
    "local function run(fn, s, p, a, b, c)\n"
    "  if fn == 'find' then return ser(pcall(string.find, s, p, a, b)) end\n"
    "  if fn == 'match' then return ser(pcall(string.match, s, p, a)) end\n"
    "  if fn == 'gmatch' then return ser(pcall(collect, s, p, a)) end\n"
    "  if fn == 'method' then return ser(pcall(function() return s:find(p, a), s:match(p, a), s:gsub(p, '<%0>') end)) end\n"
    "  local repl = REPL[a]\n"
    "  if repl == nil and a ~= 'none' then repl = a end\n"
    "  return ser(pcall(string.gsub, s, p, repl, b))\n"
    "end\n"
    "local cases = {}\n"
    "local function add(...) cases[#cases + 1] = table.pack(...) end\n"
    "local function all(s, p, init)\n"
    "  add('find', s, p, init) add('match', s, p, init) add('gmatch', s, p, init)\n"
    "  add('gsub', s, p, '[%0]') add('gsub', s, p, 'fun') add('gsub', s, p, 'tab', 2)\n"
    "end\n"
    /* Every class and its complement, over every byte. */
    "local bytes = {} for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end\n"
    "bytes = table.concat(bytes)\n"
    "for c in ('acdglpsuwxzqACDGLPSUWXZQ.%]['):gmatch('.') do\n"
    "  add('gsub', bytes, '%' .. c .. '+', 'fun') add('gsub', bytes, '[%' .. c .. ']', '') add('gsub', bytes, '[^%' .. c .. 'b]', '')\n"
    "end\n"
    "add('gsub', bytes, '.', 'fun') add('gsub', bytes, '[\\0-\\31\\127-\\255]', '?') add('gsub', bytes, '[a-f%d]+', '%%%0')\n"
    /* Init positions. */
    "for _, init in ipairs({ -100, -6, -5, -4, -1, 0, 1, 2, 5, 6, 7, 100, math.mininteger, math.maxinteger, 1.0, 2.5, '2', 'x' }) do\n"
    "  all('hello', 'l+', init) all('hello', '', init) all('hello', '^h', init) all('', '', init)\n"
    "  add('find', 'hello', 'l', init, true) add('find', 'hello', '', init, true) add('find', 'a.b', '.', init, true)\n"
    "end\n"
    /* The manual's constructs, one by one. */
    "local fixed = {\n"
    "  {'hello world', 'o w'}, {'hello world', 'l+'}, {'hello', '^h'}, {'hello', '^e'}, {'hello', 'o$'}, {'hello', 'l$'},\n"
    "  {'hello', '()ll()'}, {'key = value', '(%w+)%s*=%s*(%w+)'}, {'THE (quick) fox', '%((%a+)%)'}, {'f(a(b)c)d', '%b()'},\n"
    "  {'f(a(b)c', '%b()'}, {'THE (quick) fox', '%f[%a]%a+'}, {'THE (quick) fox', '%f[%A]'}, {'hello', ''},\n"
    "  {'a.b', '%.'}, {'a+b', '+'}, {'abc\\0def', '\\0d'}, {'abc\\0def', '%z'}, {'abc\\0def', 'c[\\0]d'}, {'abc\\0def', '%Z+'},\n"
    "  {'x = 1, y = 22', '(%a)%s*=%s*(%d+)'}, {'aaa', 'a-b'}, {'aaab', 'a-b'}, {'aaa', '^a-$'}, {'[[x]]', '%[(.-)%]'},\n"
    "  {'abcabc', '(abc)%1'}, {'abcabd', '(abc)%1'}, {'2024-05-06', '^(%d%d%d%d)-(%d%d)-(%d%d)$'},\n"
    "  {'  trim me  ', '^%s*(.-)%s*$'}, {'x]', '[%]]'}, {']', '[]]'}, {'a-z', '[a%-z]+'}, {'hello', '[^aeiou]+'},\n"
    "  {'HeLLo', '%u+'}, {'HeLLo', '%l+'}, {'tab\\there', '%c'}, {'a,b;c', '%p+'}, {'0x1F', '%x+'}, {'a b', '%g+'},\n"
    "  {'abc', '%W'}, {'abc d', '%S+$'}, {'hello', '(h)(e)(l)(l)(o)'}, {'hello', '((h)(e))'}, {'', 'a*'}, {'', '^$'},\n"
    "  {'abc', 'b?c'}, {'ac', 'ab?c'}, {'abbbc', 'ab*c'}, {'ac', 'ab+c'}, {'aXb', '[%a-]+'}, {'z', '[a-]'}, {'-', '[a-]'},\n"
    "  {'caf\\195\\169', '[\\128-\\255]+'}, {'x.y', '[.]'}, {'a^b', 'a^b'}, {'a$b', 'a$b'}, {'$', '^$$'}, {'a$', '$$'},\n"
    "  {'b', '[%a-z]'}, {'-', '[%a-z]'}, {'a', '[a-%a]'}, {'%', '[a-%a]'}, {']', '[a-%]]'}, {'%', '[a-%]]'}, {']', '[a-%%]'},\n"
    "  {'^', '[^]'}, {'^]', '[^]]'}, {'a', '[^]]'}, {']', '[]]'}, {'a', '[]'}, {'x', '[%'}, {'^', '[%^]'}, {'a', '[^^]'},\n"
    "  {'\"abc\" \"d\"', '%b\"\"'}, {'((a)', '%b()'}, {'aXbXc', '%bXX'}, {')(', '%b)('}, {'a', '%b'}, {'a', '%ba'},\n"
    "  {'abc', '%f'}, {'abc', '%fa'}, {'abc', '%f[a'}, {'abc', '%f[]'}, {'THE END', '%f[%z]'}, {'x', '%f[x]'},\n"
    "  {'abc', '[a'}, {'abc', '[a%'}, {'abc', '%'}, {'xbc', 'x%'}, {'abc', '(()'}, {'abc', '%1'}, {'abc', 'a)'}, {'abc', ')'},\n"
    "  {'abc', ('(a)'):rep(33)}, {'aaa', ('()'):rep(33)}, {'abc', '(a%2)'}, {'abc', '(a%1)'}, {'abc', '%0'},\n"
    "  {'abc', '(a'}, {'xyz', '(a'}, {'abc', '(a)(b'}, {'a()b', '()%1'}, {'xab', '()a%1'}, {'aa', '(a)%1'},\n"
    "  {'abab', '((a)(b))%1%2%3'}, {'a', 'a**'}, {'*', '*'}, {'a+', 'a++'}, {'-', '-'}, {'a?', '?' .. '?'}, {'x', '(*)'},\n"
    "  {'aaa', 'a-'}, {'aaa', 'a-$'}, {'aab', 'a-b'}, {'aaa', '()a-()'}, {'ab', '%a-%a'}, {'a1', '.-%d'},\n"
    "  {'a.b', '%.'}, {'a%b', '%%'}, {'abc', '[b-a]'}, {'b', '[c-a]'}, {'abc', '.+'}, {'abc', '.-'}, {'abc', '.?'},\n"
    "  {'\\0', '.'}, {'\\0\\0', '%z+'}, {'a\\0', '[%z]'}, {'a\\0b', '[^\\0]+'}, {'a\\0b', 'a%\\0b'},\n"
    "}\n"
    "for _, c in ipairs(fixed) do all(c[1], c[2]) add('method', c[1], c[2]) end\n"
    /* gmatch and gsub specifics. */
    "for _, c in ipairs({ {'^a^a', '^a'}, {'abab', '^ab'}, {'one two three', '%a+', 5}, {'one two', '%a+', -3},\n"
    "    {'one', '%a+', 10}, {'a,b,,c', '([^,]*)'}, {'abc', 'a*'}, {'aaa', 'a*'}, {'x', '%'}, {'(a)(b)', '%b()'},\n"
    "    {'abcabc', '', 7}, {'abcabc', '', 8}, {'abcabc', '', -2}, {'abcabc', 'a', 10}, {'abc', '()'} }) do\n"
    "  add('gmatch', c[1], c[2], c[3])\n"
    "end\n"
    "for _, c in ipairs({\n"
    "  {'hello world', 'o', '0'}, {'hello world', 'o', '0', 1}, {'hello world', '(o)', '[%1]'}, {'hello world', 'o', '%0%0'},\n"
    "  {'hello', '', '-'}, {'abc', '%w', '%%'}, {'hello world', '%w+', '%0 %0', 1}, {'hello', 'l', '%2'}, {'hello', 'l', '%1'},\n"
    "  {'hello', '(l)', '%2'}, {'hello', 'l', '%x'}, {'hello', 'l', 'x%'}, {'abc', '^a', 'X'}, {'aaa', '^a', 'X'},\n"
    "  {'abc', 'b*', '-'}, {'abc', 'x*', '-'}, {'abc', '()', '%1'}, {'abc', '()b', '%1'}, {'abc', '(a', 'x'},\n"
    "  {'abc', '(a', '%1'}, {'abc', '(a', 'fun'}, {'abc', '(a', 'tab'}, {'abc', 'b', 'bool'}, {'abc', 'b', 'none'},\n"
    "  {'abc', 'b', 'x', 0}, {'abc', 'b', 'x', -1}, {'abc', 'b', 'x', 1.5}, {'abc', 'b', 'x', 'y'}, {'abc', 'b', 'x', '1'},\n"
    "  {'a.b.c', '%.', '%%.'}, {'abc\\0abc', '%z', '<0>'}, {'abc', '%w', 'num'}, {'abc', '%w', 'flt'}, {'hello', 'l', 'tab'},\n"
    "  {'a ab b ( a(', '%S+', 'fun'}, {'a ab b ( a(', '%S+', 'tab'}, {'a1b22', '(%a)(%d*)', 'fun'}, {'a1b22', '()%d', 'fun'},\n"
    "  {'a1b22', '(%d)', 'tab'}, {'a1 22', '%d+', 'tab'}, {'abc', '', 'fun'}, {'abc', '', 'tab'}, {'$x', '%$(%w+)', 'tab'},\n"
    "  {'hello', '(l)(l)', '%2%1%0%%'}, {'x', 'x', '%'}, {'x', 'x', '%\\0'}, {'x', 'x', 'a\\0b'},\n"
    "}) do add('gsub', c[1], c[2], c[3], c[4]) end\n"
    "add('find', nil, 'x') add('match', 'x', {}) add('find', 12345, '3(4)') add('gsub', 12, 1, 3) add('gmatch', 'x', nil)\n"
    "add('find', 'x', 'x', {}) add('gsub', 'x', 'x', 'x', {}) add('gsub', nil, 'x', 'x')\n"
    /* The nesting limit, at and around Lua's. */
    "for n = 196, 202 do\n"
    "  local ab = ('ab'):rep(n)\n"
    "  add('find', ('a'):rep(n), ('a?'):rep(n)) add('find', ab, ('a*b'):rep(n)) add('find', ab, ('a-b'):rep(n) .. '$')\n"
    "  add('find', ab, ('a+b'):rep(n)) add('find', ('b'):rep(n), ('a?'):rep(n)) add('find', '', ('a*'):rep(n))\n"
    "  add('find', ('a'):rep(n - 40), ('(a?)'):rep(20) .. ('a?'):rep(n - 60) .. '$')\n"
    "  add('find', ('a'):rep(n), ('()'):rep(30) .. ('a?'):rep(n - 30)) add('match', ab, ('(a*b)'):rep(31) .. ('a*b'):rep(n - 93))\n"
    "  add('gmatch', ('a'):rep(n), ('a?'):rep(n)) add('gsub', ab, ('a*b'):rep(n), 'x')\n"
    "end\n"
"local out = {}\n"
    "for i, c in ipairs(cases) do out[i] = run(table.unpack(c, 1, c.n)) end\n"
    "return run, out\n";

static void count_steps(lua_State *L, void *ud, size_t steps)
{
    (void)L;
    *(size_t *)ud += steps;
}

typedef struct {
    lua_State *L;
    size_t steps;
} side;

/* A stock state, or (metered) one whose four functions are ours; leaves the
 * driver's run function on the stack (index 1) and its fixed results (index 2). */
static void side_open(side *sd, bool metered)
{
    sd->L = luaL_newstate();
    assert_non_null(sd->L);
    sd->steps = 0;
    luaL_openlibs(sd->L);
    if (metered) {
        lua_getglobal(sd->L, "string");
        cf__pattern_install(sd->L, -1, count_steps, &sd->steps);
        lua_pop(sd->L, 1);
    }
    if (luaL_loadstring(sd->L, DRIVER) != LUA_OK || lua_pcall(sd->L, 0, 2, 0) != LUA_OK)
        fail_msg("driver: %s", lua_tostring(sd->L, -1));
}

/* find, match, gmatch and gsub (and the method forms) give stock Lua 5.4's
 * results and error messages on every fixed case. */
static void test_fixed_cases_match_stock(void **state)
{
    (void)state;
    side stock, ours;
    side_open(&stock, false);
    side_open(&ours, true);
    lua_Integer n = luaL_len(stock.L, 2);
    assert_int_equal(n, luaL_len(ours.L, 2));
    assert_true(n > 1500);
    int errors = 0, too_complex = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(stock.L, 2, i);
        lua_geti(ours.L, 2, i);
        const char *a = lua_tostring(stock.L, -1), *b = lua_tostring(ours.L, -1);
        if (strcmp(a, b) != 0)
            fail_msg("case %lld differs:\n stock: %.300s\n ours:  %.300s", (long long)i, a, b);
        errors += strncmp(b, "boolean:false", 13) == 0;
        too_complex += strstr(b, "pattern too complex") != NULL;
        lua_pop(stock.L, 1);
        lua_pop(ours.L, 1);
    }
    assert_true(errors > 100);     /* the error cases really are errors */
    assert_true(too_complex >= 24); /* the nesting limit is reached, where Lua reaches it */
    assert_true(ours.steps > 0);    /* and the metered functions really ran */
    lua_close(stock.L);
    lua_close(ours.L);
}

/* ---- generated cases ---- */

typedef struct {
    uint64_t s;
} rng;

static uint32_t rnd(rng *r, uint32_t below)
{
    r->s ^= r->s << 13; /* xorshift64 */
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)((r->s >> 11) % below);
}

static const char *pick(rng *r, const char *const *list, size_t n)
{
    return list[rnd(r, (uint32_t)n)];
}

/* A pattern: pieces from the syntax, quantifiers, and bare special bytes, so
 * malformed patterns and the corners of [sets] come up too. */
static size_t gen_pattern(rng *r, char *out, size_t cap)
{
    static const char *const PIECES[] = {
        "a", "b", "c", ".", "%a", "%A", "%d", "%s", "%w", "%p", "%%", "%-", "%.", "%(", "%]", "[ab]", "[^a]", "[a-c]",
        "[%a-]", "[]a]", "[^]b]", "[a-]", "[%]]", "[b-a]", "[-a]", "[^%w]", "(", ")", "()", "(a)", "(.-)", "%1", "%2",
        "%0", "%b()", "%bab", "%baa", "%f[a]", "%f[%W]", "%f[^b]", "$", "^", "[", "]", "%", "-", "*", "+", "?", " ",
        "%z", "\\0", "%l", "%U", "%x", "%c", "%g", "%G", "[%l%d]", "[^%s%p]", "[%x-]", "[a-%]", "[%a-%d]", "%f[%s]",
        "%f[^%z]", "%b[]", "(%a+)", "(a*)", "A", "1", "\\t", "%3", "(()"};
    static const char *const QUANT[] = {"", "", "", "*", "+", "-", "?"};
    static const char RAW[] = "ab()[]%-^$.*+?f1 ";
    size_t n = 0;
    if (rnd(r, 8) == 0) { /* raw bytes */
        size_t len = rnd(r, 9);
        for (size_t i = 0; i < len && n + 1 < cap; i++)
            out[n++] = RAW[rnd(r, sizeof RAW - 1)];
        return n;
    }
    if (rnd(r, 4) == 0)
        out[n++] = '^';
    size_t pieces = rnd(r, 7);
    for (size_t i = 0; i < pieces; i++) {
        const char *pc = pick(r, PIECES, sizeof PIECES / sizeof *PIECES);
        const char *q = pick(r, QUANT, sizeof QUANT / sizeof *QUANT);
        if (strcmp(pc, "\\0") == 0) {
            out[n++] = '\0';
            pc = "";
        } else if (strcmp(pc, "\\t") == 0) {
            pc = "\t";
        }
        size_t lp = strlen(pc), lq = strlen(q);
        if (n + lp + lq + 1 >= cap)
            break;
        memcpy(out + n, pc, lp);
        n += lp;
        memcpy(out + n, q, lq);
        n += lq;
    }
    if (rnd(r, 5) == 0 && n + 1 < cap)
        out[n++] = '$';
    return n;
}

static size_t gen_subject(rng *r, char *out, size_t cap)
{
    static const char ALPHA[] = "aabbc()[]%-^$. 1AZ9\t\xff";
    size_t len = rnd(r, 13), n = 0;
    for (; n < len && n + 1 < cap; n++)
        out[n] = rnd(r, 40) == 0 ? '\0' : ALPHA[rnd(r, sizeof ALPHA - 1)];
    return n;
}

/* Calls run(fn, s, p, a, b) in sd (a and b: integers, or nil when NO_ARG) and
 * returns its serialised result, on sd's stack (popped by the caller). */
#define NO_ARG INT64_MIN
static const char *side_run(side *sd, const char *fn, const char *s, size_t ls, const char *p, size_t lp, int64_t a,
                            const char *astr, int64_t b)
{
    lua_State *L = sd->L;
    lua_pushvalue(L, 1);
    lua_pushstring(L, fn);
    lua_pushlstring(L, s, ls);
    lua_pushlstring(L, p, lp);
    if (astr)
        lua_pushstring(L, astr);
    else if (a == NO_ARG)
        lua_pushnil(L);
    else
        lua_pushinteger(L, a);
    if (b == NO_ARG)
        lua_pushnil(L);
    else
        lua_pushinteger(L, b);
    if (lua_pcall(L, 5, 1, 0) != LUA_OK)
        fail_msg("driver run: %s", lua_tostring(L, -1));
    return lua_tostring(L, -1);
}

static void print_bytes(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, (unsigned char)s[i] < 32 ? "\\%d" : "%c", (unsigned char)s[i]);
    out[k] = '\0';
}

/* Thousands of generated subjects and patterns (a fixed seed: the same cases
 * on every run) through all four functions: ours answer as stock Lua does. */
static void test_generated_cases_match_stock(void **state)
{
    (void)state;
    static const char *const FNS[] = {"find", "match", "gmatch", "gsub", "method"};
    static const char *const REPLS[] = {"fun", "tab", "%0", "<%1>", "%2%1", "x%%", "%", "num", "%9"};
    side stock, ours;
    side_open(&stock, false);
    side_open(&ours, true);
    rng r = {0x9e3779b97f4a7c15u};
    size_t differ = 0, errors = 0, found = 0;
    for (int i = 0; i < 10000; i++) {
        char s[32], p[64];
        size_t ls = gen_subject(&r, s, sizeof s), lp = gen_pattern(&r, p, sizeof p);
        for (size_t f = 0; f < sizeof FNS / sizeof *FNS; f++) {
            int64_t a = NO_ARG, b = NO_ARG;
            const char *astr = NULL;
            if (f == 3) {
                astr = pick(&r, REPLS, sizeof REPLS / sizeof *REPLS);
                if (rnd(&r, 3) == 0)
                    b = (int64_t)rnd(&r, 4) - 1;
            } else if (rnd(&r, 2) == 0) {
                a = (int64_t)rnd(&r, 31) - 15;
                if (f == 0 && rnd(&r, 4) == 0)
                    b = 1; /* plain find */
            }
            const char *x = side_run(&stock, FNS[f], s, ls, p, lp, a, astr, b);
            const char *y = side_run(&ours, FNS[f], s, ls, p, lp, a, astr, b);
            if (strcmp(x, y) != 0) {
                char ps[256], ss[128];
                print_bytes(ps, sizeof ps, p, lp);
                print_bytes(ss, sizeof ss, s, ls);
                print_message("case %d %s('%s', '%s', %s):\n stock: %.300s\n ours:  %.300s\n", i, FNS[f], ss, ps,
                              astr ? astr : "", x, y);
                differ++;
            }
            errors += strncmp(y, "boolean:false", 13) == 0;
            found += strncmp(y, "boolean:true,number:", 20) == 0 || strncmp(y, "boolean:true,string:", 20) == 0;
            lua_pop(stock.L, 1);
            lua_pop(ours.L, 1);
        }
        if (differ > 20)
            break;
    }
    print_message("generated cases: %zu errors and %zu results with values, all as stock Lua's\n", errors, found);
    assert_int_equal(differ, 0);
    assert_true(errors > 500); /* malformed patterns came up */
    assert_true(found > 5000); /* and so did matches */
    lua_close(stock.L);
    lua_close(ours.L);
}

/* ---- the meter ---- */

typedef struct {
    size_t total, calls, biggest, limit;
} meter_log;

static void charge_or_stop(lua_State *L, void *ud, size_t steps)
{
    meter_log *log = ud;
    log->total += steps;
    log->calls++;
    if (steps > log->biggest)
        log->biggest = steps;
    if (log->limit && log->total >= log->limit)
        luaL_error(L, "step limit reached");
}

static lua_State *metered_state(meter_log *log)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    lua_getglobal(L, "string");
    cf__pattern_install(L, -1, charge_or_stop, log);
    lua_pop(L, 1);
    return L;
}

/* Runs chunk; returns its error message (static copy) or NULL. */
static const char *run_chunk(lua_State *L, const char *chunk)
{
    static char msg[256];
    if (luaL_dostring(L, chunk) == LUA_OK) {
        lua_settop(L, 0);
        return NULL;
    }
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    lua_settop(L, 0);
    return msg;
}

/* The catastrophic pattern stops as soon as the charge function says so, in
 * every function; the charge comes at least every ~1024 steps. */
static void test_backtracking_stops_at_the_limit(void **state)
{
    (void)state;
    static const char *const BOMBS[] = {
        "local s, p = ('a'):rep(40), ('a*'):rep(25) .. 'b' return string.find(s, p)",
        "local s, p = ('a'):rep(40), ('a*'):rep(25) .. 'b' return s:match(p)",
        "local s, p = ('a'):rep(40), ('a*'):rep(25) .. 'b' for _ in s:gmatch(p) do end",
        "local s, p = ('a'):rep(40), ('a*'):rep(25) .. 'b' return s:gsub(p, 'x')",
        "local s, p = ('a'):rep(40), ('a-'):rep(25) .. 'b' return s:find(p)",
        "local s, p = ('a'):rep(40), ('(a?)'):rep(25) .. ('a?'):rep(20) .. 'b' return s:find(p)",
        "local s = ('a'):rep(1 << 21) return s:find(('a'):rep(1 << 20) .. 'b', 1, true)",
        "return ('x'):rep(1 << 16):gsub('', ('%0'):rep(1 << 16))",
    };
    static const size_t LIMITS[] = {1000, 100000, 3000000};
    for (size_t b = 0; b < sizeof BOMBS / sizeof *BOMBS; b++) {
        for (size_t k = 0; k < sizeof LIMITS / sizeof *LIMITS; k++) {
            meter_log log = {.limit = LIMITS[k]};
            lua_State *L = metered_state(&log);
            const char *err = run_chunk(L, BOMBS[b]);
            if (!err || !strstr(err, "step limit reached"))
                fail_msg("bomb %zu, limit %zu: %s", b, LIMITS[k], err ? err : "finished");
            /* Stopped at the first charge past the limit. */
            assert_true(log.total >= LIMITS[k]);
            if (log.total > LIMITS[k] + 70000)
                fail_msg("bomb %zu ran %zu steps past a limit of %zu", b, log.total - LIMITS[k], LIMITS[k]);
            if (b < 6 && log.biggest > 2 * 1024)
                fail_msg("bomb %zu: %zu steps in one charge", b, log.biggest);
            /* The state is still usable afterwards. */
            log.limit = 0;
            assert_null(run_chunk(L, "assert(('key = v'):match('(%w+)%s*=') == 'key')"));
            lua_close(L);
        }
    }
}

/* Steps grow with the work: linear scans cost about a step a byte (or one per
 * 64 compared in bulk), and every call charges what it did before returning. */
static void test_steps_follow_the_work(void **state)
{
    (void)state;
    static const struct {
        const char *chunk;
        size_t lo, hi;
    } CASES[] = {
        {"return ('7'):rep(10000):find('%d+')", 10000, 10100},
        {"return ('7'):rep(100000):find('%d+')", 100000, 100100},
        {"return (('12 ab '):rep(10000)):gsub('%d+', '#')", 60000, 130000},
        {"for _ in (('12 ab '):rep(10000)):gmatch('%a+') do end", 60000, 130000},
        {"return (('x'):rep(1 << 20) .. 'needle'):find('needle')", 1 << 14, 1 << 15},
        {"return (('x'):rep(1 << 20) .. 'needle'):find('needle', 1, true)", 1 << 14, 1 << 15},
        {"return (('x'):rep(1 << 20) .. 'needle'):find('needle$')", 1 << 14, 1 << 15},
        {"return (('x'):rep(1 << 20) .. 'needle'):find('.needle$')", 1 << 20, 3 << 20},
        {"return ('hello'):find('l')", 1, 10},
        {"return ('hello'):match('(h)(e)')", 1, 20},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        meter_log log = {0};
        lua_State *L = metered_state(&log);
        const char *err = run_chunk(L, CASES[i].chunk);
        if (err)
            fail_msg("%s: %s", CASES[i].chunk, err);
        if (log.total < CASES[i].lo || log.total > CASES[i].hi)
            fail_msg("%s: %zu steps, expected %zu to %zu", CASES[i].chunk, log.total, CASES[i].lo, CASES[i].hi);
        lua_close(L);
    }
    /* Backtracking: a*a*a*b over n a's tries about n^4/24 ways (n^3/6 from each
     * start); doubling n multiplies the steps by about 16. */
    size_t steps[2];
    for (int k = 0; k < 2; k++) {
        meter_log log = {0};
        lua_State *L = metered_state(&log);
        assert_null(run_chunk(L, k == 0 ? "assert(not (('a'):rep(20)):find(('a*'):rep(3) .. 'b'))"
                                        : "assert(not (('a'):rep(40)):find(('a*'):rep(3) .. 'b'))"));
        steps[k] = log.total;
        lua_close(L);
    }
    if (steps[0] < 20 * 20 * 20 * 20 / 24 || steps[1] < 12 * steps[0] || steps[1] > 20 * steps[0])
        fail_msg("a*a*a*b: %zu steps over 20 a's, %zu over 40", steps[0], steps[1]);
}

/* A charge that raises while gsub holds its buffer, inside a replacement
 * function's caller, or between gmatch steps leaks nothing (ASan and valgrind
 * check) and leaves the functions working. */
static void test_stopping_leaks_nothing(void **state)
{
    (void)state;
    for (size_t limit = 1024; limit <= 1024 * 64; limit *= 4) {
        meter_log log = {.limit = limit};
        lua_State *L = metered_state(&log);
        const char *err = run_chunk(L,
                                    "local s = ('word '):rep(20000)\n"
                                    "local r = s:gsub('%a+', function(w) return w:upper() .. ('!'):rep(50) end)\n"
                                    "local t = s:gsub('(%a)(%a*)', '%2%1%0')\n"
                                    "for a in s:gmatch('%a+') do end\n");
        if (!err || !strstr(err, "step limit reached"))
            fail_msg("limit %zu: %s", limit, err ? err : "finished");
        log.limit = 0;
        assert_null(run_chunk(L, "assert(select(2, ('a b c'):gsub('%a', '%0%0')) == 3)"));
        lua_close(L);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_cases_match_stock),
        cmocka_unit_test(test_generated_cases_match_stock),
        cmocka_unit_test(test_backtracking_stops_at_the_limit),
        cmocka_unit_test(test_steps_follow_the_work),
        cmocka_unit_test(test_stopping_leaks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
