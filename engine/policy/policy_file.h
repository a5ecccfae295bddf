/*
 * policy_file.h — what the files that load the policies share (policy_load.c:
 * the folder and the loader's run; policy_params.c: the parameters and what a
 * county may override; policy_globals.c: the globals a policy sees;
 * policy_file.c: one file's problems and its value read as data): the loader,
 * the stack slots of the loading state, and their helpers. Not part of the
 * engine's interface.
 */
#ifndef CERTFLOW_POLICY_FILE_H
#define CERTFLOW_POLICY_FILE_H

#include "internal.h"
#include "policy/policy_private.h"

#include <lua.h>

typedef struct source {
    char *path;  /* full path */
    char *label; /* "policy/state.lua", "counties/<name>.lua" */
    char *name;  /* county name (overlays) */
    char *text;
    size_t len;
} source;

typedef struct loader {
    cf__policy *p;
    const cf__policy_config *cfg;
    cf__err *err;
    cf_diagnostic_fn diag; /* check mode: report and go on */
    void *diag_ud;
    int problems;
    bool stop;
    int rc;
    source state;
    bool has_state;
    bool state_ok;
    source *overlays;
    size_t noverlays;
    source *parts;      /* policy/<name>.lua beside state.lua, in name order */
    size_t nparts;
    cf__buf state_text; /* state.lua and the parts, as hashed */
} loader;

/* Stack slots inside load_all. */
enum {
    S_ARG = 1,
    S_ENV,       /* backing of the globals */
    S_ENV_P,     /* the globals the state policy sees */
    S_ENV_MT,
    S_OVL_P,     /* the globals overlays see: always read-only */
    S_GUARDS,
    S_ASSIGNS,
    S_DEADLINES,
    S_PARAMS,
    S_INST,
    S_EV,
    S_CTX,
    S_INST_P,
    S_EV_P,
    S_CTX_P,
    S_VIEW_MT,
    S_DEFAULTS,  /* the state's params, copied */
    S_FN_GUARDS, /* name -> function, gathered from every file of the state policy */
    S_FN_ASSIGNS,
    S_FN_DEADLINES,
    S_ORIGIN,    /* "role.name" -> label of the file that defined it */
    S_SEEN,      /* what the freezing has met (cf__policy_freeze_reachable, policy_freeze.c) */
    S_BINDINGS,  /* the bindings it recorded, checked after each overlay's top level */
    S_COUNT = S_BINDINGS
};

/* ---- policy_file.c ---- */

/* Report a problem of src (NULL: of the folder): in check mode a diagnostic, and
 * loading goes on; else the error in ld->err. Returns rc. */
int cf__load_problem(loader *ld, const source *src, int rc, const char *fmt, ...) CF__PRINTF(4, 5);
/* A Lua identifier: a letter or '_', then letters, digits and '_'. */
bool cf__load_is_identifier(const char *s);
/* Push t[key] without metamethods (a file's value is read as data); its type. */
int cf__load_rawfield(lua_State *L, int t, const char *key);
/* A problem when the table at t (`what` in messages) has a metatable. */
int cf__load_refuse_metatable(loader *ld, lua_State *L, const source *src, int t, const char *what);

/* ---- policy_params.c ---- */

/* The state policy's params (table at t) into S_DEFAULTS. */
int cf__params_absorb(loader *ld, lua_State *L, const source *src, int t);
/* The state policy's overridable declarations (t.overridable) into ld->p. */
int cf__params_absorb_overridable(loader *ld, lua_State *L, const source *src, int t);
/* The declaration of overridable parameter name, or NULL. */
const param_decl *cf__params_find_decl(const cf__policy *p, const char *name);
/* Why the value at idx cannot be a parameter, or NULL. */
const char *cf__params_value_problem(lua_State *L, int idx);
/* Why an overlay may not set params[key] to the value on top of the stack, or
 * NULL; with buf NULL only whether (no text, no costly hint). */
const char *cf__params_override_problem(loader *ld, lua_State *L, const char *key, char *buf, size_t size);

/* ---- policy_globals.c ---- */

/* Build the sandbox's globals and the per-call tables on the stack slots of the loading state. */
void cf__load_build_sandbox(cf__policy *p, lua_State *L);

#endif
