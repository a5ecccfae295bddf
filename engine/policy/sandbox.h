/*
 * sandbox.h — the one Lua sandbox every Lua state of the engine runs in: the
 * workflow loader, the policy host and the data files of policy changes.
 *
 * A sandbox is an allocator with a memory cap plus a count hook with an
 * instruction budget and a wall-clock deadline. Three limits stop a run: the
 * instruction budget (deterministic: the same work is stopped on every machine),
 * the memory cap, and a wall-clock deadline (CLOCK_MONOTONIC) for the work the
 * count cannot see: one VM instruction on long strings (`..`, `==`, `<`) and C
 * library functions. The clock is read by the count hook (every CF__HOOK_CHUNK
 * instructions, more often while big blocks exist), by the allocator (every
 * CF__CLOCK_BYTES bytes) and by cf__sandbox_charge (work done in C). A stopped run
 * raises from then on at every instruction, so that a pcall in Lua cannot
 * swallow it, and is refused allocations (see keep_message).
 */
#ifndef CERTFLOW_SANDBOX_H
#define CERTFLOW_SANDBOX_H

#include <lua.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF__LIMIT_INSTR 1u
#define CF__LIMIT_MEM 2u
#define CF__LIMIT_TIME 4u

typedef struct cf__sandbox cf__sandbox;

/* Raise the error of a run stopped by `which` (CF__LIMIT_INSTR or _TIME): where
 * is text to append ("" from the hook), ar the hook's debug record (NULL when the
 * stop comes from cf__sandbox_charge). Must not return (lua_error / luaL_error). */
typedef void (*cf__sandbox_raise_fn)(lua_State *L, cf__sandbox *sb, unsigned which, const char *where,
                                     lua_Debug *ar);

struct cf__sandbox {
    lua_State *L;
    void *owner;                 /* for the raise function */
    cf__sandbox_raise_fn raise;
    /* false: a stop refuses every allocation at once (the owner reports from
     * limit_first, not from the Lua message). true: a run stopped by the instruction
     * budget may still allocate, so that the raise function can build its message;
     * a time stop starves only once the raise function sets `starved`. */
    bool keep_message;
    bool starved;                /* armed and stopped: every allocation is refused */
    /* allocator accounting */
    size_t used, limit;
    unsigned limit_hit;          /* CF__LIMIT_* reached since the last arm */
    unsigned limit_first;        /* the limit that stopped the run first */
    /* instruction budget: the hook fires every hook_chunk instructions; while
     * counting is false (cf__sandbox_arm_straight) only calls are hooked */
    uint64_t instr_used, instr_budget;
    int hook_chunk;
    bool counting;
    bool entered;                /* a straight run: its function has been entered */
    /* wall-clock limit: deadline_ns is 0 until the first look at the clock of the
     * run (made within CF__HOOK_CHUNK instructions or CF__CLOCK_BYTES bytes of its
     * start); armed_ms 0 = no wall-clock limit */
    bool armed;
    uint32_t armed_ms;
    uint64_t deadline_ns;
    size_t tick_bytes;           /* bytes allocated or touched since the last look at the clock */
    size_t big;                  /* bytes held in blocks of CF__BIG_BLOCK or more */
};

/* Create the Lua state of sb (zeroed here) with a memory limit of `limit` bytes
 * until the first arm. NULL when out of memory. */
lua_State *cf__sandbox_open(cf__sandbox *sb, size_t limit, cf__sandbox_raise_fn raise, void *owner,
                            bool keep_message);
/* Start a run: budget instructions, cap bytes (above what the state holds now when
 * relative), ms of wall clock (0 = none). Installs the count hook. */
void cf__sandbox_arm(cf__sandbox *sb, uint64_t budget, size_t cap, uint32_t ms, bool relative);
/* Start a run of a function whose own code cannot run an instruction twice (no
 * loop, no backward jump: lua_code.h) and is `length` instructions long. When it
 * fits before the count hook's first firing (length <= the chunk cf__sandbox_arm
 * would use: at most CF__HOOK_CHUNK, less than the budget left, fewer while big
 * blocks are held), the length is charged up front and the count hook is not
 * installed (Lua routes every VM instruction through its hook code once a count
 * hook is set):
 * - calls false: the caller guarantees that no Lua function can run during the
 *   run (its code calls nothing and no value it can meet has a metamethod
 *   written in Lua): no hook at all;
 * - calls true: a call hook. A C function runs as one instruction of its caller
 *   (the costly ones charge their work, cf__sandbox_charge); the first Lua
 *   function entered is the run's own (the caller calls it directly with
 *   lua_pcall), the next one (called by the code, a metamethod or a C function)
 *   switches the count hook on, and from there on the run is counted as under
 *   cf__sandbox_arm.
 * Either way a block of CF__BIG_BLOCK bytes allocated or a limit reached switches
 * the count hook on as well. Otherwise (length 0 = not proven, too long) this is
 * cf__sandbox_arm. */
void cf__sandbox_arm_straight(cf__sandbox *sb, uint64_t budget, size_t cap, uint32_t ms, bool relative,
                              uint32_t length, bool calls);
/* End a run: no cap, no clock. The hook stays installed; the next arm re-arms it. */
void cf__sandbox_disarm(cf__sandbox *sb);
/* Charge work done in C during a run: instr instructions and bytes touched (each
 * CF__BYTES_PER_INSTR bytes one more instruction). Raises when a limit is reached. */
void cf__sandbox_charge(lua_State *L, cf__sandbox *sb, uint64_t instr, uint64_t bytes, const char *where);

#define CF__BYTES_PER_INSTR 64u /* library calls: one instruction per 64 bytes touched */

#endif
