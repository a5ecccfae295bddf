/*
 * versions.c — the versions of a workflow: every definition stored by hash,
 * how many live and ended instances run on each (cf_workflow_versions), naming
 * one by hash, prefix or "current", and the check at load that the policy still
 * defines every guard, action and deadline that a live version names.
 */
#include "core/versions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- naming a version ---- */

typedef struct prefix_scan {
    const char *ref;
    size_t len;
    int matches;
    char hash[CF__HASH_HEX];
    cf__buf names; /* the stored hashes, for the message */
} prefix_scan;

static int prefix_row(void *ud, const char *hash, const char *name, cf_time first_seen)
{
    (void)name;
    (void)first_seen;
    prefix_scan *p = ud;
    cf__buf_printf(&p->names, "%s%.12s", p->names.len ? ", " : "", hash);
    if (strncmp(hash, p->ref, p->len) == 0) {
        p->matches++;
        snprintf(p->hash, sizeof p->hash, "%s", hash);
    }
    return 0;
}

static bool is_lower_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

int cf__version_resolve(cf_engine *e, const char *workflow, const char *ref, char out[CF__HASH_HEX])
{
    out[0] = '\0';
    if (!ref || strcmp(ref, "current") == 0) {
        cf__workflow *wf = cf__engine_workflow(e, workflow);
        if (!wf)
            return cf__engine_unknown_workflow(e, workflow);
        snprintf(out, CF__HASH_HEX, "%s", wf->hash);
        return CF_OK;
    }
    size_t len = strlen(ref);
    if (len < 4 || len > 64 || !is_lower_hex(ref))
        return cf__fail(&e->err, CF_EINVAL,
                        "'%.80s' names no version: give 'current', a definition's hash or at least its first 4 "
                        "hex digits (list them with cf_workflow_versions of '%s')",
                        ref, workflow);
    prefix_scan p = {ref, len, 0, "", {0}};
    int rc = cf__store_def_each(e->store, workflow, prefix_row, &p, &e->err);
    if (rc == CF_OK && p.names.oom)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory listing the versions of '%s'", workflow);
    if (rc == CF_OK && p.matches == 0)
        rc = cf__fail(&e->err, CF_ENOTFOUND, "no stored version of workflow '%s' has a hash starting with '%s' "
                      "(stored: %s; see cf_workflow_versions of '%s')",
                      workflow, ref, p.names.len ? p.names.data : "none", workflow);
    else if (rc == CF_OK && p.matches > 1)
        rc = cf__fail(&e->err, CF_EINVAL, "'%s' starts %d stored versions of workflow '%s': give more of the hash",
                      ref, p.matches, workflow);
    if (rc == CF_OK)
        snprintf(out, CF__HASH_HEX, "%s", p.hash);
    cf__buf_free(&p.names);
    return rc;
}

/* ---- a definition's structure, names unresolved ---- */

static bool accept_any(void *ud, cf__role role, const char *name, cf__fnref *out)
{
    (void)ud;
    (void)role;
    (void)name;
    out->kind = CF__FN_BUILTIN;
    out->index = -1;
    return true;
}

int cf__version_structure(cf_engine *e, const char *hash, cf__workflow **out)
{
    *out = NULL;
    char *name = NULL, *source = NULL;
    int rc = cf__store_def_get(e->store, hash, &name, &source, &e->err);
    if (rc != CF_OK)
        return rc;
    char label[128];
    snprintf(label, sizeof label, "(stored definition of %s, %.12s)", name, hash);
    rc = cf__workflow_compile_limited(label, source, strlen(source), e->opts.lua_load_time_limit_ms, accept_any,
                                      NULL, out, &e->err);
    free(name);
    free(source);
    return rc;
}

void cf__version_transition_name(const cf__workflow *wf, const cf__transition *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s --%s--> %s", wf->states[t->from].name, wf->events[t->event], wf->states[t->to].name);
}

/* ---- counting instances per version ---- */

typedef struct version_row {
    char hash[CF__HASH_HEX];
    char *workflow;
    cf_time first_seen;
    int64_t live, ended;
    json_t *states; /* {state: count} */
    cf__workflow *shape; /* its structure (terminal states), compiled on demand */
    bool shape_failed;
} version_row;

typedef struct version_list {
    cf_engine *e;
    version_row *rows;
    size_t n, cap;
    bool oom;
} version_list;

static void versions_free(version_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].workflow);
        json_decref(l->rows[i].states);
        cf__workflow_free(l->rows[i].shape);
    }
    free(l->rows);
    memset(l, 0, sizeof *l);
}

static version_row *versions_add(version_list *l, const char *hash, const char *workflow, cf_time first_seen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        version_row *p = realloc(l->rows, cap * sizeof *p);
        if (!p) {
            l->oom = true;
            return NULL;
        }
        l->rows = p;
        l->cap = cap;
    }
    version_row *r = &l->rows[l->n];
    memset(r, 0, sizeof *r);
    snprintf(r->hash, sizeof r->hash, "%s", hash);
    r->workflow = cf__strdup(workflow);
    r->first_seen = first_seen;
    r->states = json_object();
    if (!r->workflow || !r->states) {
        free(r->workflow);
        json_decref(r->states);
        l->oom = true;
        return NULL;
    }
    l->n++;
    return r;
}

static int def_row(void *ud, const char *hash, const char *name, cf_time first_seen)
{
    version_list *l = ud;
    return versions_add(l, hash, name, first_seen) ? 0 : 1;
}

/* Whether `state` is terminal in the version: the current definition's compiled
 * form, else its structure. A state the definition does not know counts as live. */
static bool state_terminal(version_list *l, version_row *r, const char *state)
{
    const cf__workflow *wf = NULL;
    for (size_t i = 0; i < l->e->defs.ncurrent; i++)
        if (strcmp(l->e->defs.items[i]->hash, r->hash) == 0)
            wf = l->e->defs.items[i];
    if (!wf && !r->shape && !r->shape_failed) {
        if (cf__version_structure(l->e, r->hash, &r->shape) != CF_OK) {
            r->shape_failed = true;
            l->e->err.msg[0] = '\0';
        }
    }
    if (!wf)
        wf = r->shape;
    int s = wf ? cf__workflow_state(wf, state) : -1;
    return s >= 0 && wf->states[s].terminal;
}

typedef struct state_scan {
    version_list *l;
    version_row *r;
} state_scan;

static int state_row(void *ud, const char *state, int64_t count)
{
    state_scan *x = ud;
    if (state_terminal(x->l, x->r, state))
        x->r->ended += count;
    else
        x->r->live += count;
    if (json_object_set_new(x->r->states, state, json_integer(count)) != 0) {
        x->l->oom = true;
        return 1;
    }
    return 0;
}

static bool is_current(cf_engine *e, const char *hash)
{
    for (size_t k = 0; k < e->defs.ncurrent; k++)
        if (strcmp(e->defs.items[k]->hash, hash) == 0)
            return true;
    return false;
}

/* Every stored version of workflow (NULL: all) with its counts; with
 * skip_current, the current versions are listed without counting (opening). */
static int versions_load(cf_engine *e, const char *workflow, bool skip_current, version_list *l)
{
    memset(l, 0, sizeof *l);
    l->e = e;
    /* a deferred read: opening must not wait for a process that writes */
    bool began = false;
    int rc = cf__audit_read_begin(e->store, &began, &e->err);
    if (rc != CF_OK)
        return rc;
    rc = cf__store_def_each(e->store, workflow, def_row, l, &e->err);
    for (size_t i = 0; rc == CF_OK && !l->oom && i < l->n; i++) {
        if (skip_current && is_current(e, l->rows[i].hash))
            continue;
        state_scan x = {l, &l->rows[i]};
        rc = cf__store_def_states(e->store, l->rows[i].hash, state_row, &x, &e->err);
    }
    cf__audit_read_end(e->store, began);
    if (rc == CF_OK && l->oom)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory listing workflow versions");
    return rc;
}

int cf_workflow_versions(cf_engine *e, const char *workflow, char **json_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!json_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_workflow_versions: json_out is required");
    *json_out = NULL;
    if (workflow && (rc = cf__check_text(&e->err, "workflow", workflow, true)) != CF_OK)
        return rc;
    version_list l;
    rc = versions_load(e, workflow, false, &l);
    if (rc == CF_OK && workflow && l.n == 0 && !cf__engine_workflow(e, workflow))
        rc = cf__engine_unknown_workflow(e, workflow);
    json_t *arr = rc == CF_OK ? json_array() : NULL;
    if (rc == CF_OK && !arr)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    for (size_t i = 0; rc == CF_OK && i < l.n; i++) {
        version_row *r = &l.rows[i];
        const cf__workflow *cur = cf__engine_workflow(e, r->workflow);
        char when[32];
        cf_time_format(r->first_seen, when, sizeof when);
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:O}", "workflow", r->workflow, "hash", r->hash,
                              "first_stored", when, "current", cur && strcmp(cur->hash, r->hash) == 0,
                              "live", (json_int_t)r->live, "ended", (json_int_t)r->ended, "states", r->states);
        if (!o || json_array_append_new(arr, o) != 0)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    json_t *doc = rc == CF_OK ? json_pack("{s:O}", "versions", arr) : NULL;
    if (rc == CF_OK && (!doc || !(*json_out = json_dumps(doc, JSON_COMPACT))))
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    json_decref(doc);
    json_decref(arr);
    versions_free(&l);
    return rc;
}

/* ---- every live version's names against a policy ---- */

/* A guard or action may be a plugin's: when a plugin was refused at this open
 * (cf_plugin_list says why, and firing names it), a name nothing defines may be
 * one of its own, so only deadlines (the policy's alone) are held to account. */
static bool defined(cf_engine *e, cf__policy *policy, cf__role role, const char *name)
{
    return (policy && cf__policy_find(policy, role, name) >= 0) ||
           (role != CF__ROLE_DEADLINE &&
            (cf__plugins_find(e->plugins, role, name) >= 0 || cf__plugins_diagnose(e->plugins, NULL, NULL) > 0));
}

static const char *role_noun(cf__role role)
{
    return role == CF__ROLE_GUARD ? "guard" : role == CF__ROLE_ASSIGN ? "action" : "deadline";
}

/* The first name of wf that is not defined: *where says where it is used. */
static const cf__fnref *first_missing(cf_engine *e, cf__policy *policy, const cf__workflow *wf, cf__role *role,
                                      char *where, size_t size)
{
    for (int s = 0; s < wf->nstates; s++) {
        const cf__state *st = &wf->states[s];
        for (int i = 0; i < st->non_enter; i++)
            if (!defined(e, policy, CF__ROLE_ASSIGN, st->on_enter[i].name)) {
                *role = CF__ROLE_ASSIGN;
                snprintf(where, size, "states.%s.on_enter", st->name);
                return &st->on_enter[i];
            }
        for (int i = 0; i < st->non_exit; i++)
            if (!defined(e, policy, CF__ROLE_ASSIGN, st->on_exit[i].name)) {
                *role = CF__ROLE_ASSIGN;
                snprintf(where, size, "states.%s.on_exit", st->name);
                return &st->on_exit[i];
            }
        for (int i = 0; i < st->ntimers; i++)
            if (!defined(e, policy, CF__ROLE_DEADLINE, st->timers[i].after.name)) {
                *role = CF__ROLE_DEADLINE;
                snprintf(where, size, "states.%s.timers.%s", st->name, st->timers[i].name);
                return &st->timers[i].after;
            }
    }
    for (int t = 0; t < wf->ntrans; t++) {
        const cf__transition *tr = &wf->trans[t];
        char name[256];
        cf__version_transition_name(wf, tr, name, sizeof name);
        for (int i = 0; i < tr->nguards; i++)
            if (!defined(e, policy, CF__ROLE_GUARD, tr->guards[i].name)) {
                *role = CF__ROLE_GUARD;
                snprintf(where, size, "transition %s", name);
                return &tr->guards[i];
            }
        for (int i = 0; i < tr->nactions; i++)
            if (!defined(e, policy, CF__ROLE_ASSIGN, tr->actions[i].name)) {
                *role = CF__ROLE_ASSIGN;
                snprintf(where, size, "transition %s", name);
                return &tr->actions[i];
            }
    }
    return NULL;
}

int cf__versions_check_live(cf_engine *e, cf__policy *policy, cf__err *err)
{
    version_list l;
    int rc = versions_load(e, NULL, true, &l);
    if (rc != CF_OK) {
        if (err != &e->err) {
            char why[CF__MSG_MAX];
            snprintf(why, sizeof why, "%s", e->err.msg);
            cf__fail(err, rc, "%s", why);
        }
        versions_free(&l);
        return rc;
    }
    for (size_t i = 0; rc == CF_OK && i < l.n; i++) {
        version_row *r = &l.rows[i];
        if (is_current(e, r->hash) || r->live == 0)
            continue;
        /* A version that does not compile even with its names unresolved is not the
         * policy's doing (a file the validator of this build refuses): it is left to
         * fail where it is used, naming the problem (cf__engine_definition). */
        if (!r->shape)
            continue;
        cf__role role = CF__ROLE_GUARD;
        char where[320];
        const cf__fnref *miss = first_missing(e, policy, r->shape, &role, where, sizeof where);
        if (miss)
            rc = cf__fail(err, CF_EPOLICY,
                          "version %.12s of workflow '%s' (%s), which %" PRId64 " live instance%s run%s on, names %s "
                          "'%s' at %s, which the policy no longer defines (hint: keep '%s' in the policy until no "
                          "live instance runs on that version: migrate them first (cf_migrate_apply, workflow '%s', to the "
                          "current version), see docs/workflows.md, \"Changing a shipped workflow safely\")",
                          r->hash, r->workflow, r->hash, r->live, r->live == 1 ? "" : "s", r->live == 1 ? "s" : "",
                          role_noun(role), miss->name, where, miss->name, r->workflow);
    }
    versions_free(&l);
    return rc;
}
