/*
 * policy_private.h — what the files of the policy host share (policy.c the call
 * runner; policy_load.c, policy_file.c, policy_params.c and policy_globals.c
 * loading and layering; views.c the read-only views of data; policy_date.c the date
 * library). Not part of the engine's interface:
 * the rest of the engine uses the cf__policy_* functions of internal.h.
 */
#ifndef CERTFLOW_POLICY_PRIVATE_H
#define CERTFLOW_POLICY_PRIVATE_H

#include "internal.h"

#include "policy/sandbox.h"

#include <lua.h>

#include <stdbool.h>
#include <stdint.h>

/* What sits permanently at the bottom of the main thread's stack once the
 * policies are loaded, so that a call pushes it without a table look-up. */
enum {
    HOT_RUNNER = 1, HOT_GUARDS, HOT_ASSIGNS, HOT_DEADLINES, HOT_INST_P, HOT_EV_P, HOT_CTX_P,
    HOT_INST, HOT_EV,   /* the backing tables, whose `data` field each call sets */
    HOT_KEY_DATA,       /* the string "data" */
    HOT_COUNT = HOT_KEY_DATA
};

/* A string field of a per-call table and what it holds now, so that an
 * unchanged value costs a strcmp instead of interning a string. */
typedef struct slot {
    bool known;
    bool is_nil;
    char text[56];
} slot;

/* A loop-free function that calls is run with a call hook (instead of counting
 * each instruction) from this length on: each call into the hook (its own entry,
 * each C function it calls) costs about as much as counting a dozen
 * instructions (callgrind, Lua 5.4.4). */
#define CF__CALL_HOOK_MIN 24u

/* What a policy function's bytecode says (lua_code.h), read once at load. */
typedef struct fn_plan {
    uint32_t length; /* instructions of a function whose own code cannot loop; 0 = it may */
    bool calls;      /* its own code calls functions */
} fn_plan;

typedef struct county_entry {
    char *name;
    char hash[CF__HASH_HEX];
} county_entry;

/* What state.lua declares a county may set a parameter to (P.overridable). */
enum { K_INTEGER, K_NUMBER, K_BOOLEAN, K_STRING, K_DATE, K_FUNCTION };

typedef struct param_decl {
    char *name;
    int kind;
    bool has_min, has_max;
    double min, max;         /* integer, number */
    char min_date[11], max_date[11]; /* date: "" = no bound */
    size_t max_length;       /* string: 0 = no bound */
    char **one_of;           /* string: NULL = any */
    size_t none_of;
} param_decl;

struct cf__policy {
    lua_State *L;
    cf__tz tz;
    uint64_t budget;
    size_t cap;
    cf__sandbox sb;         /* the allocator and the limits of the state L */
    uint32_t time_ms, load_time_ms;
    char **origins[3];      /* label of the file that defines each function, as names */
    /* views made in call number gen are valid only while gen is current */
    uint64_t gen;
    int runner_ref, params_ref, view_mt_ref;
    int hot_ref[HOT_COUNT];  /* registry refs of what stays on the main stack */
    bool data_set[2];        /* inst / ev backing table's `data` holds a root view (else nil) */
    char **names[3];
    size_t nnames[3];
    char **overridable; /* sorted; the names are owned by decls */
    size_t noverridable;
    param_decl *decls;  /* in the order of overridable */
    /* upvalue bindings checked after a call (see bindings_check): per role, per
     * function, the registry ref of its list, 0 = it reaches none */
    int *uv_list[3];
    /* per role, per function: how its calls are metered (see call_run) */
    fn_plan *plan[3];
    /* policy code has called setmetatable (at load or in a call): a value may
     * have a metamethod written in Lua, so no function runs without a hook */
    bool metatables;
    county_entry *counties; /* sorted by name */
    size_t ncounties;
    char state_hash[CF__HASH_HEX];
    /* the call in progress */
    const cf__decision_call *call;
    int role, fn, nres;
    slot s_workflow, s_county, s_state, s_event, s_actor;
    bool now_known;
    cf_time now;
    long params_index; /* index into UV_PARAMS that `params` holds, 0 = unknown */
    uint64_t *hits[3]; /* calls per function, once cf__policy_count_calls asked for it (policy test coverage) */
    int param_reads_ref; /* registry: parameter name -> reads in policy calls, once
                          * cf__policy_count_param_reads asked for it; 0 = not counted */
};

/* A view of nested data (see views.c). */
typedef struct view {
    json_t *j;    /* borrowed from the call */
    uint64_t gen; /* the call it belongs to */
} view;

#define ROOT_TAG(gen, which) ((void *)(uintptr_t)((((uintptr_t)(gen) << 1 | (uintptr_t)(which)) << 1) | 1u))

/* ---- policy.c: the call runner, for loading ---- */

/* Upvalues of the per-call runner closure (hot values, no registry look-ups). */
enum {
    UV_P = 1,
    UV_GUARDS,   /* UV_GUARDS + role: array of functions in name order */
    UV_ASSIGNS,
    UV_DEADLINES,
    UV_INST,     /* backing tables the host writes; policies see read-only proxies */
    UV_EV,
    UV_CTX,
    UV_INST_P,
    UV_EV_P,
    UV_CTX_P,
    UV_ENV,      /* backing table of the globals: the host sets `params` in it */
    UV_PARAMS,   /* [i + 1] = params proxy of county i, [ncounties + 1] = defaults */
    UV_COUNT = UV_PARAMS
};

/* Compare the bindings in the list at l with what the upvalues hold now and
 * restore those that changed: the number of the first changed, 0 if none. */
lua_Integer cf__policy_bindings_verify(lua_State *L, int l);
/* "'count' (a local of policy/state.lua kept between calls)" for binding k of the list at l. */
const char *cf__policy_binding_name(lua_State *L, int l, lua_Integer k, char *buf, size_t size);
/* Charge work done in C during a call (sandbox.h). Raises when a limit is reached. */
void cf__policy_charge(lua_State *L, cf__policy *p, uint64_t instr, uint64_t bytes, const char *where);
/* policy_meter.c: wrap the costly C functions of the library table at t (named
 * lib: "_G", "string", "utf8", "table") so that each charges its work; and the
 * charge function handed to cf__pattern_install (ud is the cf__policy). */
void cf__policy_meter_library(lua_State *L, cf__policy *p, int t, const char *lib);
void cf__policy_pattern_charge(lua_State *L, void *ud, size_t steps);
/* policy_freeze.c: freeze every table reachable from the table at root (owner
 * names where it came from in the messages of refused writes; seen records what
 * was met, bindings the locals found, across calls); and list, for each
 * policy function (the arrays of functions by role sit at fns, fns + 1, fns + 2),
 * the bindings it can reach, its own and, when it uses a global, those of the
 * globals' backing table at env and the params tables at params. */
void cf__policy_freeze_reachable(lua_State *L, int root, int seen, int bindings, const char *owner);
void cf__policy_gather_bindings(lua_State *L, cf__policy *p, int env, int params, int fns);
/* The per-call runner closure (upvalues: the UV_* above). */
int cf__policy_run_call(lua_State *L);
/* The sandbox's raise function for policy calls and files. */
void cf__policy_raise(lua_State *L, cf__sandbox *sb, unsigned which, const char *where, lua_Debug *ar);

/* ---- views.c: read-only proxies and JSON views ---- */

int cf__ro_newindex(lua_State *L);
int cf__ro_pairs(lua_State *L);
int cf__ro_len(lua_State *L);
void cf__push_ro_proxy(lua_State *L, int real, const char *refusal);
int cf__safe_setmetatable(lua_State *L);
int cf__global_write(lua_State *L);
bool cf__is_read_only(lua_State *L, int t);
bool cf__push_backing(lua_State *L, int t);
int cf__safe_next(lua_State *L);
int cf__safe_rawget(lua_State *L);
int cf__safe_rawlen(lua_State *L);
json_t *cf__view_root_json(const cf__policy *p, const void *tag);
int cf__view_index(lua_State *L);
int cf__view_newindex(lua_State *L);
int cf__view_len(lua_State *L);
int cf__view_pairs(lua_State *L);
int cf__view_tostring(lua_State *L);
int cf__view_lazy_id(lua_State *L);

/* Push a new table holding the date library, reading date-times in tz (which
 * must outlive the Lua state). */
void cf__policy_push_date_library(lua_State *L, const cf__tz *tz);

#endif
