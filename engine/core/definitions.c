/*
 * definitions.c — the workflow definitions an engine knows: the ones loaded
 * from files, by name (cf__engine_workflow), and every version an instance may
 * run on, by hash (cf__engine_definition: a stored version is compiled on first
 * use and kept until the engine closes); and the resolver that binds a
 * workflow's guard and action names to policy functions or plugin functions.
 * Loading the files at open is engine.c's.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cf__defcache_push(cf__defcache *c, cf__workflow *wf)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        cf__workflow **p = realloc(c->items, cap * sizeof *p);
        if (!p)
            return CF_ENOMEM;
        c->items = p;
        c->cap = cap;
    }
    c->items[c->count++] = wf;
    return CF_OK;
}

void cf__defcache_free(cf__defcache *c)
{
    for (size_t i = 0; i < c->count; i++)
        cf__workflow_free(c->items[i]);
    free(c->items);
    memset(c, 0, sizeof *c);
}

bool cf__engine_resolve(void *ud, cf__role role, const char *name, cf__fnref *out)
{
    cf_engine *e = ud;
    int idx = e->policy ? cf__policy_find(e->policy, role, name) : -1;
    if (idx >= 0) {
        out->kind = CF__FN_POLICY;
        out->index = idx;
        return true;
    }
    /* A plugin may not register a name the policy defines, so the order only matters for speed. */
    idx = cf__plugins_find(e->plugins, role, name);
    if (idx >= 0) {
        out->kind = CF__FN_PLUGIN;
        out->index = idx;
        return true;
    }
    return false;
}

cf__workflow *cf__engine_workflow(cf_engine *e, const char *name)
{
    size_t lo = 0, hi = e->defs.ncurrent;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, e->defs.items[mid]->name);
        if (c == 0)
            return e->defs.items[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int cf__engine_definition(cf_engine *e, const char *hash, cf__workflow **out)
{
    for (size_t i = 0; i < e->defs.count; i++) {
        if (strcmp(e->defs.items[i]->hash, hash) == 0) {
            *out = e->defs.items[i];
            return CF_OK;
        }
    }
    char *name = NULL, *source = NULL;
    int rc = cf__store_def_get(e->store, hash, &name, &source, &e->err);
    if (rc != CF_OK)
        return rc;
    char label[128];
    snprintf(label, sizeof label, "(stored definition of %s, %.12s)", name, hash);
    cf__workflow *wf = NULL;
    rc = cf__workflow_compile_limited(label, source, strlen(source), e->opts.lua_load_time_limit_ms,
                                      cf__engine_resolve, e, &wf, &e->err);
    free(name);
    free(source);
    if (rc != CF_OK) {
        cf__err_prefix(&e->err,
                       "an instance runs on an older workflow definition that no longer loads "
                       "against the current policy (migrate the instance to the current definition)");
        return rc;
    }
    if (cf__defcache_push(&e->defs, wf) != CF_OK) {
        cf__workflow_free(wf);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory compiling a stored definition");
    }
    *out = wf;
    return CF_OK;
}

/* ---- naming an unknown workflow ---- */

static const char *loaded_names(cf_engine *e, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->defs.ncurrent && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", e->defs.items[i]->name);
    if (!e->defs.ncurrent)
        snprintf(buf, size, "none: check options.workflow_dir");
    return buf;
}

int cf__engine_unknown_workflow(cf_engine *e, const char *name)
{
    char names[512];
    const char *hint = NULL;
    const char *cands[64];
    size_t n = 0;
    for (size_t i = 0; i < e->defs.ncurrent && n < 64; i++)
        cands[n++] = e->defs.items[i]->name;
    hint = cf__closest(name, cands, n);
    return cf__fail(&e->err, CF_ENOTFOUND, "no workflow named '%s'%s%s%s (loaded: %s)", name,
                    hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "",
                    loaded_names(e, names, sizeof names));
}
