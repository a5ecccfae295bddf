/*
 * lua_code.h — what the policy host reads from a Lua function's bytecode, once, at
 * load: whether its own code can run an instruction twice (a loop or a backward
 * jump), how long it is, and whether it or a function nested in it assigns an
 * upvalue. Read from lua_dump's binary chunk (Lua 5.4's format and opcode
 * numbers); anything else reads as unknown, and the host then treats the function
 * as one that may loop and may assign upvalues.
 */
#ifndef CERTFLOW_LUA_CODE_H
#define CERTFLOW_LUA_CODE_H

#include <lua.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cf__lua_code {
    bool known;        /* the chunk was read to its end as Lua 5.4 bytecode */
    bool loops;        /* its own code loops (for, goto or jump backward, or an opcode not known) */
    bool sets_upvalue; /* it or a function nested in it assigns an upvalue (OP_SETUPVAL) */
    bool calls;        /* its own code calls (OP_CALL, OP_TAILCALL, OP_TFORCALL, or an opcode not known) */
    uint32_t length;   /* instructions of its own code */
} cf__lua_code;

/* Read the binary chunk dump[0..len) (lua_dump of one function). false, and
 * *out says unknown (loops, calls and sets_upvalue true), when it is not a chunk of
 * this Lua (version, format, sizes) or does not parse to its exact end. */
bool cf__lua_code_read(const void *dump, size_t len, cf__lua_code *out);

/* Dump the Lua function at index f (stripped) and read it. A C function, a
 * failed dump (out of memory) or an unknown chunk: false, *out unknown. */
bool cf__lua_code_of(lua_State *L, int f, cf__lua_code *out);

#endif
