/*
 * policy_file.c — one policy file as the loader sees it: a problem reported
 * against the file (a diagnostic in check mode, else the error), and what the
 * file returned read as plain data (fields read raw, tables with a metatable
 * refused, names that must be identifiers). Shared by the loading files
 * (policy_load.c, policy_params.c) through policy_file.h.
 */
#include "policy/policy_file.h"

#include <ctype.h>
#include <stdio.h>

int cf__load_problem(loader *ld, const source *src, int rc, const char *fmt, ...)
{
    char msg[CF__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ld->diag) {
        ld->problems++;
        cf_diagnostic d = {sizeof d, src ? src->path : "", msg};
        if (!ld->stop && ld->diag(ld->diag_ud, &d) != 0)
            ld->stop = true;
    } else {
        cf__fail(ld->err, rc, "%s", msg);
    }
    if (ld->rc == CF_OK)
        ld->rc = rc;
    return rc;
}

bool cf__load_is_identifier(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* t[key] without metamethods: what a policy file returned is read as data. */
int cf__load_rawfield(lua_State *L, int t, const char *key)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

/* A metatable in what a file returns would run the file's code later, whenever
 * the engine read the table: refused, so that nothing of a file runs after it loads. */
int cf__load_refuse_metatable(loader *ld, lua_State *L, const source *src, int t, const char *what)
{
    if (!lua_getmetatable(L, t))
        return CF_OK;
    lua_pop(L, 1);
    return cf__load_problem(ld, src, CF_EPOLICY,
                   "%s: %s has a metatable; a policy file returns plain tables (remove the setmetatable: "
                   "the engine reads what a file returns once, as data)",
                   src->label, what);
}
