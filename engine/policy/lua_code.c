/*
 * lua_code.c — reading a Lua 5.4 function's bytecode from lua_dump (see
 * lua_code.h). The binary chunk is a header (signature, version 0x54, format 0,
 * a check string, the sizes of an instruction, an integer and a number, and an
 * integer and a number to check their encoding), the number of upvalues of the
 * main function, then the function: source, line numbers, parameters, its code
 * (a count and 32-bit instructions), constants, upvalue descriptions, nested
 * functions (each the same layout) and debug information. Counts and sizes are
 * variable-length integers: 7 bits a byte, most significant first, the last byte
 * marked with 0x80. Only what the host needs is interpreted: the opcode (low 7
 * bits) of each instruction, and the jump offset of OP_JMP (the high 25 bits,
 * stored with an excess of 2^24 - 1).
 */
#include "policy/lua_code.h"

#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM == 504

/* Lua 5.4's opcode numbers (lopcodes.h), those the reading needs. */
enum {
    OP_SETUPVAL = 10,
    OP_JMP = 56,
    OP_CALL = 68,
    OP_TAILCALL = 69,
    OP_FORLOOP = 73,
    OP_FORPREP = 74,
    OP_TFORPREP = 75,
    OP_TFORCALL = 76,
    OP_TFORLOOP = 77,
    NUM_OPCODES = 83
};
#define OFFSET_SJ ((1 << 24) - 1)

/* Constant type tags of the chunk (lobject.h variants). */
enum { K_NIL = 0x00, K_FALSE = 0x01, K_TRUE = 0x11, K_INT = 0x03, K_FLT = 0x13, K_SHRSTR = 0x04, K_LNGSTR = 0x14 };

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static int rd_byte(reader *r)
{
    if (r->bad || r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

static void rd_skip(reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return;
    }
    r->p += n;
}

/* A count or size: 7 bits a byte, the last marked with 0x80. */
static size_t rd_size(reader *r)
{
    size_t x = 0;
    for (int i = 0; i < 10; i++) {
        int b = rd_byte(r);
        if (r->bad)
            return 0;
        if (x > (SIZE_MAX >> 7)) {
            r->bad = true;
            return 0;
        }
        x = (x << 7) | (size_t)(b & 0x7f);
        if (b & 0x80)
            return x;
    }
    r->bad = true;
    return 0;
}

static void rd_string(reader *r)
{
    size_t n = rd_size(r);
    if (n)
        rd_skip(r, n - 1);
}

/* One function and, recursively, those nested in it; main: the dumped one, whose
 * own code fills out->loops and out->length. */
static void rd_function(reader *r, cf__lua_code *out, bool main, int depth)
{
    if (depth > 200) {
        r->bad = true;
        return;
    }
    rd_string(r);              /* source */
    rd_size(r);                /* linedefined */
    rd_size(r);                /* lastlinedefined */
    rd_skip(r, 3);             /* numparams, is_vararg, maxstacksize */
    size_t n = rd_size(r);     /* sizecode */
    if (r->bad || n > (size_t)(r->end - r->p) / 4) {
        r->bad = true;
        return;
    }
    for (size_t pc = 0; pc < n; pc++) {
        uint32_t i;
        memcpy(&i, r->p + 4 * pc, 4);
        unsigned op = i & 0x7f;
        if (op >= NUM_OPCODES) {
            r->bad = true;
            return;
        }
        if (op == OP_SETUPVAL)
            out->sets_upvalue = true;
        if (main && (op == OP_CALL || op == OP_TAILCALL || op == OP_TFORCALL))
            out->calls = true;
        if (main && (op == OP_FORLOOP || op == OP_FORPREP || op == OP_TFORPREP || op == OP_TFORCALL ||
                     op == OP_TFORLOOP || (op == OP_JMP && (long)(i >> 7) - OFFSET_SJ < 0)))
            out->loops = true;
    }
    if (main)
        out->length = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    r->p += 4 * n;
    n = rd_size(r); /* constants */
    for (size_t k = 0; k < n && !r->bad; k++) {
        switch (rd_byte(r)) {
        case K_NIL:
        case K_FALSE:
        case K_TRUE:
            break;
        case K_INT:
        case K_FLT:
            rd_skip(r, 8);
            break;
        case K_SHRSTR:
        case K_LNGSTR:
            rd_string(r);
            break;
        default:
            r->bad = true;
        }
    }
    n = rd_size(r); /* upvalues: instack, idx, kind */
    if (n > (size_t)(r->end - r->p) / 3)
        r->bad = true;
    else
        rd_skip(r, 3 * n);
    n = rd_size(r); /* nested functions */
    for (size_t k = 0; k < n && !r->bad; k++)
        rd_function(r, out, false, depth + 1);
    rd_skip(r, rd_size(r)); /* line info, a byte each */
    n = rd_size(r);         /* absolute line info: pc, line */
    for (size_t k = 0; k < n && !r->bad; k++)
        rd_size(r), rd_size(r);
    n = rd_size(r); /* local variables: name, startpc, endpc */
    for (size_t k = 0; k < n && !r->bad; k++)
        rd_string(r), rd_size(r), rd_size(r);
    n = rd_size(r); /* upvalue names */
    for (size_t k = 0; k < n && !r->bad; k++)
        rd_string(r);
}

bool cf__lua_code_read(const void *dump, size_t len, cf__lua_code *out)
{
    static const unsigned char head[] = {0x1b, 'L', 'u', 'a', 0x54, 0x00, 0x19, 0x93, '\r', '\n', 0x1a, '\n'};
    *out = (cf__lua_code){false, false, false, false, 0};
    reader r = {dump, (const unsigned char *)dump + len, false};
    bool ok = len > sizeof head + 3 + 16 && memcmp(dump, head, sizeof head) == 0;
    if (ok) {
        r.p += sizeof head;
        ok = rd_byte(&r) == 4 && rd_byte(&r) == (int)sizeof(lua_Integer) && rd_byte(&r) == (int)sizeof(lua_Number) &&
             sizeof(lua_Integer) == 8 && sizeof(lua_Number) == 8;
    }
    if (ok) {
        lua_Integer li;
        lua_Number ln;
        memcpy(&li, r.p, 8);
        memcpy(&ln, r.p + 8, 8);
        ok = li == 0x5678 && ln == (lua_Number)370.5;
        r.p += 16;
    }
    if (ok) {
        rd_byte(&r); /* upvalues of the main function */
        rd_function(&r, out, true, 0);
        ok = !r.bad && r.p == r.end;
    }
    if (!ok) {
        *out = (cf__lua_code){false, true, true, true, 0};
        return false;
    }
    out->known = true;
    return true;
}

#else /* another Lua: nothing is read, every function may loop and assign */

bool cf__lua_code_read(const void *dump, size_t len, cf__lua_code *out)
{
    (void)dump;
    (void)len;
    *out = (cf__lua_code){false, true, true, true, 0};
    return false;
}

#endif

typedef struct dump_buf {
    unsigned char *data;
    size_t len, size;
    bool failed;
} dump_buf;

static int dump_write(lua_State *L, const void *p, size_t n, void *ud)
{
    (void)L;
    dump_buf *b = ud;
    if (b->failed)
        return 1;
    if (n > b->size - b->len) {
        size_t size = b->size ? b->size : 256;
        while (size - b->len < n) {
            if (size > SIZE_MAX / 2) {
                b->failed = true;
                return 1;
            }
            size *= 2;
        }
        unsigned char *d = realloc(b->data, size);
        if (!d) {
            b->failed = true;
            return 1;
        }
        b->data = d;
        b->size = size;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

bool cf__lua_code_of(lua_State *L, int f, cf__lua_code *out)
{
    *out = (cf__lua_code){false, true, true, true, 0};
    if (lua_type(L, f) != LUA_TFUNCTION || lua_iscfunction(L, f) || !lua_checkstack(L, 1))
        return false;
    lua_pushvalue(L, f);
    dump_buf b = {NULL, 0, 0, false};
    int status = lua_dump(L, dump_write, &b, 1);
    lua_pop(L, 1);
    bool ok = status == 0 && !b.failed && cf__lua_code_read(b.data, b.len, out);
    free(b.data);
    return ok;
}
