/*
 * sandbox.c — the capped allocator, the instruction and time limits and the
 * charges for work done in C, shared by every Lua state of the engine (see
 * sandbox.h).
 */
#include "policy/sandbox.h"

#include <lauxlib.h>

#include <stdlib.h>
#include <time.h>

#define CF__HOOK_CHUNK 1000              /* the count hook fires at least this often */
#define CF__BIG_BLOCK ((size_t)64 << 10)  /* blocks this large may be one instruction's operand */
#define CF__SCAN_BYTES ((size_t)16 << 20) /* bytes of big blocks VM instructions may scan between checks */
#define CF__CLOCK_BYTES ((size_t)1 << 20) /* bytes allocated or touched between two looks at the clock */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Look at the clock: true when the run's time is up. The first look starts the
 * clock, so a short run never reads it. */
static bool time_up(cf__sandbox *sb)
{
    sb->tick_bytes = 0;
    if (!sb->armed_ms)
        return false;
    uint64_t now = now_ns();
    if (!sb->deadline_ns) {
        sb->deadline_ns = now + (uint64_t)sb->armed_ms * 1000000u;
        return false;
    }
    return now >= sb->deadline_ns;
}

/* Instructions between two firings of the count hook: at most CF__HOOK_CHUNK, the
 * budget left, and fewer while the state holds big blocks (long strings), so that
 * instructions scanning them reach the clock often enough. */
static int hook_chunk_for(const cf__sandbox *sb)
{
    uint64_t left = sb->instr_used < sb->instr_budget ? sb->instr_budget - sb->instr_used : 1;
    uint64_t chunk = left < CF__HOOK_CHUNK ? left : CF__HOOK_CHUNK;
    if (sb->big > CF__SCAN_BYTES / CF__HOOK_CHUNK) {
        uint64_t scan = CF__SCAN_BYTES / sb->big;
        if (scan < chunk)
            chunk = scan ? scan : 1;
    }
    return (int)chunk;
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* Count from here on: the count hook at the chunk the run's state calls for. */
static void start_counting(cf__sandbox *sb)
{
    sb->counting = true;
    sb->hook_chunk = hook_chunk_for(sb);
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, sb->hook_chunk);
}

/* The hook of a straight run with calls (cf__sandbox_arm_straight): its own
 * function's entry passes, a C function runs as one instruction, any other Lua
 * function switches the count hook on. */
static void call_hook(lua_State *L, lua_Debug *ar)
{
    void *ud;
    lua_getallocf(L, &ud);
    cf__sandbox *sb = ud;
    if (!sb->armed || sb->counting)
        return;
    if (!sb->entered) {
        sb->entered = true; /* the first call of the run: its own function, from lua_pcall */
        return;
    }
    lua_getinfo(L, "f", ar);
    bool c = lua_iscfunction(L, -1);
    lua_pop(L, 1);
    if (!c)
        start_counting(sb);
}

/* Stop the run: from now on every instruction raises (the hook at count 1), so
 * that a pcall in Lua cannot swallow the error and carry on. */
static void stop(cf__sandbox *sb, unsigned which)
{
    if (!sb->limit_first)
        sb->limit_first = which;
    sb->limit_hit |= which;
    sb->hook_chunk = 1;
    sb->counting = true;
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, 1);
}

static void stop_and_raise(lua_State *L, cf__sandbox *sb, unsigned which, const char *where, lua_Debug *ar)
{
    stop(sb, which);
    if (!sb->keep_message)
        sb->starved = true;
    sb->raise(L, sb, which, where, ar);
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    cf__sandbox *sb = ud;
    size_t old = ptr ? osize : 0; /* with ptr NULL, osize is the kind of object */
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        if (old >= CF__BIG_BLOCK)
            sb->big -= old;
        return NULL;
    }
    if (nsize > old) {
        if (sb->used - old + nsize > sb->limit) {
            sb->limit_hit |= CF__LIMIT_MEM;
            if (!sb->limit_first)
                sb->limit_first = CF__LIMIT_MEM;
            return NULL;
        }
        if (sb->armed) {
            /* A stopped run gets no more memory; a growing one looks at the clock
             * every CF__CLOCK_BYTES bytes. Refusing makes Lua raise at once. */
            if (sb->starved)
                return NULL;
            sb->tick_bytes += nsize - old;
            if (sb->tick_bytes >= CF__CLOCK_BYTES && time_up(sb)) {
                stop(sb, CF__LIMIT_TIME);
                sb->starved = true;
                return NULL;
            }
        }
    }
    void *q = realloc(ptr, nsize);
    if (!q)
        return nsize <= old ? ptr : NULL; /* Lua assumes shrinking never fails */
    sb->used = sb->used - old + nsize;
    if (old >= CF__BIG_BLOCK)
        sb->big -= old;
    if (nsize >= CF__BIG_BLOCK) {
        sb->big += nsize;
        /* A new long string: instructions may scan it from now on, so they are
         * counted (a straight run too), in smaller chunks. Never raises. */
        if (sb->armed && !sb->limit_hit && (!sb->counting || hook_chunk_for(sb) < sb->hook_chunk))
            start_counting(sb);
    }
    return q;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    void *ud;
    lua_getallocf(L, &ud);
    cf__sandbox *sb = ud;
    sb->instr_used += (uint64_t)sb->hook_chunk;
    if (sb->limit_hit & (CF__LIMIT_TIME | CF__LIMIT_INSTR))
        stop_and_raise(L, sb, sb->limit_hit & CF__LIMIT_TIME ? CF__LIMIT_TIME : CF__LIMIT_INSTR, "", ar);
    if (sb->instr_used >= sb->instr_budget)
        stop_and_raise(L, sb, CF__LIMIT_INSTR, "", ar);
    if (time_up(sb))
        stop_and_raise(L, sb, CF__LIMIT_TIME, "", ar);
    int chunk = hook_chunk_for(sb);
    if (chunk != sb->hook_chunk) {
        sb->hook_chunk = chunk;
        lua_sethook(L, count_hook, LUA_MASKCOUNT, chunk);
    }
}

void cf__sandbox_charge(lua_State *L, cf__sandbox *sb, uint64_t instr, uint64_t bytes, const char *where)
{
    if (!sb->armed)
        return;
    uint64_t cost = instr + bytes / CF__BYTES_PER_INSTR;
    sb->instr_used = cost > UINT64_MAX - sb->instr_used ? UINT64_MAX : sb->instr_used + cost;
    if (sb->limit_hit & (CF__LIMIT_TIME | CF__LIMIT_INSTR))
        stop_and_raise(L, sb, sb->limit_hit & CF__LIMIT_TIME ? CF__LIMIT_TIME : CF__LIMIT_INSTR, where, NULL);
    if (sb->instr_used >= sb->instr_budget)
        stop_and_raise(L, sb, CF__LIMIT_INSTR, where, NULL);
    uint64_t touched = bytes + instr * CF__BYTES_PER_INSTR;
    sb->tick_bytes = touched > SIZE_MAX - sb->tick_bytes ? SIZE_MAX : sb->tick_bytes + (size_t)touched;
    if (sb->tick_bytes >= CF__CLOCK_BYTES && time_up(sb))
        stop_and_raise(L, sb, CF__LIMIT_TIME, where, NULL);
}

lua_State *cf__sandbox_open(cf__sandbox *sb, size_t limit, cf__sandbox_raise_fn raise, void *owner,
                            bool keep_message)
{
    *sb = (cf__sandbox){0};
    sb->limit = limit;
    sb->raise = raise;
    sb->owner = owner;
    sb->keep_message = keep_message;
    sb->L = lua_newstate(sandbox_alloc, sb);
    return sb->L;
}

static void arm(cf__sandbox *sb, uint64_t budget, size_t cap, uint32_t ms, bool relative)
{
    sb->limit_hit = 0;
    sb->limit_first = 0;
    sb->starved = false;
    sb->instr_used = 0;
    sb->instr_budget = budget;
    sb->armed_ms = ms;
    sb->deadline_ns = 0;
    sb->tick_bytes = 0;
    sb->armed = true;
    size_t base = relative ? sb->used : 0;
    sb->limit = base > SIZE_MAX - cap ? SIZE_MAX : base + cap;
}

void cf__sandbox_arm(cf__sandbox *sb, uint64_t budget, size_t cap, uint32_t ms, bool relative)
{
    arm(sb, budget, cap, ms, relative);
    start_counting(sb);
}

void cf__sandbox_arm_straight(cf__sandbox *sb, uint64_t budget, size_t cap, uint32_t ms, bool relative,
                              uint32_t length, bool calls)
{
    arm(sb, budget, cap, ms, relative);
    if (length == 0 || length > (uint64_t)hook_chunk_for(sb) || length >= budget) {
        start_counting(sb);
        return;
    }
    /* Its own code runs each instruction at most once: charged before it runs. */
    sb->instr_used = length;
    sb->counting = false;
    sb->entered = false;
    sb->hook_chunk = 0;
    if (calls)
        lua_sethook(sb->L, call_hook, LUA_MASKCALL, 0);
    else
        lua_sethook(sb->L, NULL, 0, 0);
}

void cf__sandbox_disarm(cf__sandbox *sb)
{
    sb->limit = SIZE_MAX;
    sb->armed = false;
}
