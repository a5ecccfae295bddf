/*
 * policy_change.c — what a proposed county overlay would change: the candidate
 * policy, the plan of its changes on the county's live instances (deadlines,
 * eligibility, pins; policy_change.h), and the preview cf_policy_diff(_for).
 * Applying the plan is policy_apply.c; the data files are policy_data.c; the
 * policy test runner (cf_policy_test) is policy_test.c.
 */
#include "internal.h"
#include "policy/policy_change.h"
#include "core/versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIFF_ACTOR "policy diff"     /* ev.actor that guards see in a preview */

/* ---- the changes a proposed overlay makes (the plan: policy_change.h) ---- */

/* Free the strings of the rows [from, pl->n). */
static void changes_free(plan *pl, size_t from)
{
    for (size_t i = from; i < pl->n; i++) {
        change *c = &pl->items[i];
        free(c->kind);
        free(c->instance_id);
        free(c->workflow);
        free(c->state);
        free(c->name);
        free(c->event);
        free(c->old_value);
        free(c->new_value);
        free(c->who);
        free(c->county);
        free(c->effect);
        free(c->timer_state);
    }
}

void cf__plan_free(plan *pl)
{
    changes_free(pl, 0);
    free(pl->items);
    memset(pl, 0, sizeof *pl);
}

static change *plan_add(plan *pl, const char *kind, const char *id, const char *workflow, const char *state,
                        const char *name, const char *event, const char *old_value, const char *new_value)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        change *items = realloc(pl->items, cap * sizeof *items);
        if (!items) {
            pl->oom = true;
            return NULL;
        }
        pl->items = items;
        pl->cap = cap;
    }
    change *c = &pl->items[pl->n++];
    memset(c, 0, sizeof *c);
    c->kind = cf__strdup(kind);
    c->instance_id = cf__strdup(id);
    c->workflow = cf__strdup(workflow);
    c->state = cf__strdup(state);
    c->name = cf__strdup(name);
    c->event = cf__strdup(event);
    c->old_value = cf__strdup(old_value);
    c->new_value = cf__strdup(new_value);
    if (!c->kind || (id && !c->instance_id) || (workflow && !c->workflow) || (state && !c->state) ||
        (name && !c->name) || (event && !c->event) || (old_value && !c->old_value) ||
        (new_value && !c->new_value))
        pl->oom = true;
    return c;
}

/* Drop the rows [from, pl->n) (an instance's rows that "new" replaces by pins). */
static void plan_truncate(plan *pl, size_t from)
{
    changes_free(pl, from);
    pl->n = from;
}

void cf__change_time_text(cf_time t, char buf[32])
{
    if (cf_time_format(t, buf, 32) != CF_OK)
        snprintf(buf, 32, "@%lld", (long long)t);
}

/* Replace every occurrence of from by to in msg (bounded by CF__MSG_MAX). */
static void msg_replace(char *msg, const char *from, const char *to)
{
    if (!from || !to || !*from || strcmp(from, to) == 0)
        return;
    char out[CF__MSG_MAX];
    size_t used = 0, flen = strlen(from), tlen = strlen(to);
    for (const char *s = msg; *s && used + 1 < sizeof out;) {
        if (strncmp(s, from, flen) == 0 && used + tlen + 1 < sizeof out) {
            memcpy(out + used, to, tlen);
            used += tlen;
            s += flen;
        } else {
            out[used++] = *s++;
        }
    }
    out[used] = '\0';
    memcpy(msg, out, used + 1);
}

/* Load the policy folder with path standing in for county's overlay. `shown`
 * is the path messages name (the caller's file when path is a copy of it). The
 * state policy and the other counties' overlays must be what the engine runs
 * now: the preview compares one file's change, nothing else. */
int cf__change_open_candidate(cf_engine *e, const char *county, const char *path, const char *shown, cf__policy **out)
{
    *out = NULL;
    cf__policy_config cfg = {e->policy_dir, e->opts.lua_instruction_budget, e->opts.lua_memory_cap, &e->tz,
                             county, path, e->opts.lua_time_limit_ms, e->opts.lua_load_time_limit_ms};
    cf__policy *cand = NULL;
    int rc = cf__policy_open(&cfg, &cand, &e->err);
    if (rc != CF_OK) {
        msg_replace(e->err.msg, path, shown);
        if (!strstr(e->err.msg, shown))
            cf__err_prefix(&e->err, "the proposed overlay %s for county %s does not load", shown, county);
        else
            cf__err_prefix(&e->err, "the proposed overlay for county %s does not load", county);
        return rc;
    }
    const char *now_state = cf__policy_hash(e->policy, NULL), *cand_state = cf__policy_hash(cand, NULL);
    if (strcmp(now_state, cand_state) != 0) {
        cf__policy_close(cand);
        return cf__fail(&e->err, CF_ECONFLICT,
                        "the state policy in %s/policy changed on disk since this engine opened (hash %.12s, now "
                        "%.12s); reopen the engine (run the command again) so that only the overlay differs",
                        e->policy_dir, now_state, cand_state);
    }
    char *cdir = NULL;
    size_t clen = strlen(e->policy_dir) + 16;
    if ((cdir = malloc(clen)) == NULL) {
        cf__policy_close(cand);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    snprintf(cdir, clen, "%s/counties", e->policy_dir);
    char **files = NULL;
    size_t nfiles = 0;
    struct stat st;
    cf__err ignore;
    if (stat(cdir, &st) == 0 && S_ISDIR(st.st_mode))
        cf__list_dir(cdir, ".lua", &files, &nfiles, &ignore);
    rc = CF_OK;
    for (size_t i = 0; i < nfiles && rc == CF_OK; i++) {
        char name[80];
        const char *base = strrchr(files[i], '/') + 1;
        size_t n = strlen(base) - 4;
        if (n >= sizeof name)
            continue;
        memcpy(name, base, n);
        name[n] = '\0';
        if (strcmp(name, county) == 0)
            continue;
        if (strcmp(cf__policy_hash(e->policy, name), cf__policy_hash(cand, name)) != 0)
            rc = cf__fail(&e->err, CF_ECONFLICT,
                          "%s changed on disk since this engine opened; reopen the engine (run the command "
                          "again) so that only the overlay of %s differs",
                          files[i], county);
    }
    cf__free_list(files, nfiles);
    free(cdir);
    if (rc == CF_OK) /* every live version must still find what it names (versions.c) */
        rc = cf__versions_check_live(e, cand, &e->err);
    if (rc != CF_OK) {
        cf__policy_close(cand);
        return rc;
    }
    *out = cand;
    return CF_OK;
}

/* The `params` keys of an overlay file, added to the set `names`. A file that is
 * not plain data (it computes with globals) adds nothing. */
static void overlay_param_names(const char *path, json_t *names)
{
    json_t *v = NULL;
    cf__err ignore;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || cf__change_load_data_file(path, &v, &ignore) != CF_OK)
        return;
    json_t *params = json_object_get(v, "params");
    const char *key;
    json_t *value;
    if (json_is_object(params))
        json_object_foreach(params, key, value) json_object_set_new(names, key, json_true());
    json_decref(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One "param" row per parameter whose value for the county differs. */
static int diff_params(cf_engine *e, cf__policy *cand, const char *county, const char *overlay_path, plan *pl)
{
    json_t *names = json_object();
    if (!names)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    size_t len = strlen(e->policy_dir) + strlen(county) + 32;
    char *installed = malloc(len);
    if (installed) {
        snprintf(installed, len, "%s/counties/%s.lua", e->policy_dir, county);
        overlay_param_names(installed, names);
        free(installed);
    }
    overlay_param_names(overlay_path, names);
    size_t n = json_object_size(names), k = 0;
    const char **sorted = calloc(n ? n : 1, sizeof *sorted);
    const char *key;
    json_t *value;
    json_object_foreach(names, key, value) if (sorted) sorted[k++] = key;
    if (sorted)
        qsort(sorted, k, sizeof *sorted, cmp_str);
    for (size_t i = 0; sorted && i < k; i++) {
        json_t *a = NULL, *b = NULL;
        cf__err ignore;
        if (cf__policy_param(e->policy, county, sorted[i], &a, &ignore) == CF_OK &&
            cf__policy_param(cand, county, sorted[i], &b, &ignore) == CF_OK && !json_equal(a, b)) {
            char *ta = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
            char *tb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
            if (ta && tb)
                plan_add(pl, "param", NULL, NULL, NULL, sorted[i], NULL, ta, tb);
            else
                pl->oom = true;
            free(ta);
            free(tb);
        }
        json_decref(a);
        json_decref(b);
    }
    free(sorted);
    json_decref(names);
    return pl->oom ? cf__fail(&e->err, CF_ENOMEM, "out of memory") : CF_OK;
}

/* ---- per instance ---- */

/* When the instance entered the state that declares a timer (its current state,
 * or with nested states one of its parents): the timer was computed then, so a
 * deadline that reads ctx.now is recomputed with the same now. The history is read
 * newest first (cf__audit_moves) and only as far back as the newest entry. */
typedef struct entry_scan {
    cf_engine *e;     /* for the definitions of rows from before a migration */
    const cf__workflow *wf;
    int owner;        /* the state declaring the timers */
    cf_time entered;  /* the answer; the instance's updated_at when no row says */
    bool carried;     /* the newest entry is a migration from a state outside the owner:
                         the stay began with the newest entry into that state before it */
} entry_scan;

/* An applied row from inside the owner to inside it entered the owner again when the
 * transition that leads there enters it (re-entering it, or a parent of it). */
static bool reenters(const entry_scan *es, const char *from, const char *to, const char *event)
{
    const cf__workflow *wf = es->wf;
    int s = cf__workflow_state(wf, from), t = cf__workflow_state(wf, to), ev = cf__workflow_event(wf, event);
    if (s < 0 || t < 0 || ev < 0)
        return false;
    for (int i = wf->first[s * wf->nevents + ev]; i >= 0; i = wf->trans[i].next)
        for (int k = 0; wf->trans[i].to == t && k < wf->trans[i].nenters; k++)
            if (wf->trans[i].enters[k] == es->owner)
                return true;
    return false;
}

/* A row of another version (before a migration) that stayed in its state: did its
 * transition re-enter that state, in the row's own definition? */
static bool reentered_before(const entry_scan *es, const cf__history_row *h)
{
    cf__workflow *old = NULL;
    if (!h->def_hash || cf__engine_definition(es->e, h->def_hash, &old) != CF_OK) {
        es->e->err.msg[0] = '\0'; /* a version that no longer compiles: not known to re-enter */
        return false;
    }
    int s = cf__workflow_state(old, h->from_state), t = cf__workflow_state(old, h->to_state);
    int ev = cf__workflow_event(old, h->event);
    if (s < 0 || t < 0 || ev < 0)
        return false;
    for (int i = old->first[s * old->nevents + ev]; i >= 0; i = old->trans[i].next)
        if (old->trans[i].to == t && old->trans[i].nenters > 0)
            return true;
    return false;
}

/* One history row, newest first: 1 (stop) once es->entered is known. */
static int entry_row(void *ud, const cf__history_row *h)
{
    entry_scan *es = ud;
    const char *owner = es->wf->states[es->owner].name;
    bool migrated = strcmp(h->event, "(migrate)") == 0; /* migrate.c: a move between versions, not an entry */
    if (es->carried) {
        /* rows of another version's state: when the instance entered the state the
         * migration carried over into the owner (a renamed state) */
        if (!cf__state_in(h->to_state, owner) &&
            (strcmp(h->outcome, "created") == 0 ||
             (strcmp(h->outcome, "applied") == 0 && !migrated &&
              (strcmp(h->from_state, h->to_state) != 0 ||
               (strcmp(h->event, POLICY_EVENT) != 0 && reentered_before(es, h)))))) {
            es->entered = h->effective_at;
            return 1;
        }
        return 0;
    }
    if (!cf__state_in(h->to_state, owner))
        return 0;
    if (strcmp(h->outcome, "created") == 0) {
        es->entered = h->effective_at;
        return 1;
    }
    if (migrated && !cf__state_in(h->from_state, owner)) {
        es->carried = true; /* the stay goes on under the new name */
        return 0;
    }
    if (strcmp(h->outcome, "applied") == 0 && !migrated &&
        (!cf__state_in(h->from_state, owner) ||
         (strcmp(h->event, POLICY_EVENT) != 0 && reenters(es, h->from_state, h->to_state, h->event)))) {
        es->entered = h->effective_at; /* a policy change that moved the instance entered its state too */
        return 1;
    }
    return 0;
}

int cf__change_deadline(cf__policy *p, const char *fname, const cf__decision_call *call, bool *has, cf_time *due,
                        cf__err *err)
{
    int fn = cf__policy_find(p, CF__ROLE_DEADLINE, fname);
    if (fn < 0)
        return cf__fail(err, CF_EPOLICY, "the policy has no deadline '%s'", fname);
    return cf__policy_deadline(p, fn, call, has, due, err);
}

/* A guard's verdict as text: "ok", "no: <reason>" or "error: <message>" (malloc'd). */
static char *verdict(cf__policy *p, const char *gname, const cf__decision_call *call)
{
    cf__err err;
    err.msg[0] = '\0';
    cf__buf b = {0};
    int fn = cf__policy_find(p, CF__ROLE_GUARD, gname);
    bool ok = false;
    char *reason = NULL;
    int rc = fn < 0 ? cf__fail(&err, CF_EPOLICY, "the policy has no guard '%s'", gname)
                    : cf__policy_guard(p, fn, call, &ok, &reason, &err);
    if (rc != CF_OK)
        cf__buf_printf(&b, "error: %s", err.msg);
    else if (ok)
        cf__buf_puts(&b, "ok");
    else
        cf__buf_printf(&b, "no: %s", reason ? reason : gname);
    free(reason);
    if (b.oom) {
        cf__buf_free(&b);
        return NULL;
    }
    return b.data;
}

typedef struct examine {
    cf_engine *e;
    cf__policy *cand;
    plan *pl;
    json_t *empty;   /* {} as event data */
    json_t *changed; /* {parameter: {"old": value, "new": value}} for the county */
    cf_time now;
    int rc; /* of the instance that stopped the listing */
    const cf__timer_row *timers; /* the pending timers of the instance at hand */
    size_t ntimers;
} examine;

/* "Ana Ruiz", else "CMPSS-000123", else "": who an instance is about. */
static const char *who_of(json_t *data)
{
    const char *name = json_string_value(json_object_get(data, "name"));
    if (name && *name)
        return name;
    const char *number = json_string_value(json_object_get(data, "certification_number"));
    return number ? number : "";
}

/* Set who, county and effect (may be NULL) on the rows [from, pl->n). */
static void describe(plan *pl, size_t from, const char *who, const char *county)
{
    for (size_t i = from; i < pl->n; i++) {
        change *c = &pl->items[i];
        if (!c->who && !(c->who = cf__strdup(who)))
            pl->oom = true;
        if (!c->county && !(c->county = cf__strdup(county)))
            pl->oom = true;
    }
}

static void set_effect(plan *pl, change *c, cf__buf *b)
{
    if (!c || b->oom) {
        pl->oom = pl->oom || b->oom;
        cf__buf_free(b);
        return;
    }
    c->effect = b->data;
    b->data = NULL;
    cf__buf_free(b);
}

/* What apply does to one timer, in a sentence. */
static void timer_effect(examine *x, change *c, cf_time old_due, bool has_old, const char *event)
{
    cf__buf b = {0};
    if (c->op == OP_REMOVE)
        cf__buf_printf(&b, "the timer is removed: '%s' will not fire", event);
    else if (c->due <= x->now)
        cf__buf_printf(&b, "due already under the new policy: '%s' fires at the next tick", event);
    else if (c->op == OP_ADD || !has_old)
        cf__buf_printf(&b, "a timer is added: '%s' fires then", event);
    else {
        long long by = (long long)(c->due > old_due ? c->due - old_due : old_due - c->due);
        bool days = by % 86400 == 0;
        long long n = days ? by / 86400 : by / 3600;
        cf__buf_printf(&b, "the timer moves %s by %lld %s%s", c->due > old_due ? "later" : "earlier", n,
                       days ? "day" : "hour", n == 1 ? "" : "s");
    }
    set_effect(x->pl, c, &b);
}

/* Deadline rows for the instance's pending (and would-be) timers. */
static int examine_timers(examine *x, const cf__instance_row *row, const cf__workflow *wf, int s, json_t *data,
                          json_t *data_new, bool *touched)
{
    cf_engine *e = x->e;
    int rc = CF_OK;
    /* the timers of the state and of its parents (nested states), outermost first */
    for (int a = 0; rc == CF_OK && a < wf->states[s].nchain; a++) {
        const cf__state *st = &wf->states[wf->states[s].chain[a]];
        entry_scan es = {e, wf, wf->states[s].chain[a], row->updated_at, false};
        if (st->ntimers > 0)
            rc = cf__audit_moves(e->store, row->id, entry_row, &es, &e->err);
        for (int i = 0; rc == CF_OK && i < st->ntimers; i++) {
            const cf__timer_def *td = &st->timers[i];
            if (td->after.kind != CF__FN_POLICY)
                continue;
            const cf__timer_row *pend = NULL;
            for (size_t k = 0; k < x->ntimers && !pend; k++)
                if (strcmp(x->timers[k].name, td->name) == 0 && strcmp(x->timers[k].state, st->name) == 0)
                    pend = &x->timers[k];
            cf__decision_call call = {row->county, row->id, wf->name, row->state, data, NULL, NULL, NULL, es.entered, row->serial};
            bool has_old = false, has_new = false;
            cf_time old_due = 0, new_due = 0;
            cf__err olderr;
            if (cf__change_deadline(e->policy, td->after.name, &call, &has_old, &old_due, &olderr) != CF_OK) {
                /* The current policy cannot say: take what is scheduled as its answer. */
                has_old = pend != NULL;
                old_due = pend ? pend->due : 0;
            }
            call.data = data_new;
            rc = cf__change_deadline(x->cand, td->after.name, &call, &has_new, &new_due, &e->err);
            if (rc != CF_OK) {
                cf__err_prefix(&e->err, "instance %s (%s, state %s), timer '%s', with the proposed overlay", row->id,
                               wf->name, st->name, td->name);
                break;
            }
            if (has_old == has_new && (!has_new || old_due == new_due))
                continue; /* the change does not touch this deadline */
            int op = OP_NONE;
            if (pend && has_new)
                op = OP_MOVE;
            else if (pend)
                op = OP_REMOVE;
            else if (!has_old && has_new)
                op = OP_ADD;
            if (op == OP_NONE || (op == OP_MOVE && pend->due == new_due))
                continue; /* fired already, or already where the new policy puts it */
            char old_text[32] = "none", new_text[32] = "none";
            if (pend)
                cf__change_time_text(pend->due, old_text);
            if (has_new)
                cf__change_time_text(new_due, new_text);
            change *c = plan_add(x->pl, "deadline", row->id, wf->name, row->state, td->name, wf->events[td->event],
                                 old_text, new_text);
            if (!c)
                break;
            c->op = op;
            c->timer_id = pend ? pend->id : 0;
            if (!(c->timer_state = cf__strdup(st->name)))
                x->pl->oom = true;
            c->due = new_due;
            timer_effect(x, c, pend ? pend->due : 0, pend != NULL, wf->events[td->event]);
            *touched = true;
        }
    }
    return rc;
}

/* Eligibility rows: guards of transitions out of the state whose verdict changes
 * (POLICY_EVENT's are not: what it would do is a "state" row, see examine_event). */
static int examine_guards(examine *x, const cf__instance_row *row, const cf__workflow *wf, int s, json_t *data,
                          json_t *data_new, bool *touched)
{
    cf_engine *e = x->e;
    for (int t = 0; t < wf->ntrans; t++) {
        const cf__transition *tr = &wf->trans[t];
        if (tr->from != s || strcmp(wf->events[tr->event], POLICY_EVENT) == 0)
            continue;
        for (int g = 0; g < tr->nguards; g++) {
            const cf__fnref *gr = &tr->guards[g];
            if (gr->kind != CF__FN_POLICY)
                continue;
            /* The same guard on the same event is asked once. */
            bool seen = false;
            for (int t2 = 0; t2 < t && !seen; t2++) {
                const cf__transition *o = &wf->trans[t2];
                for (int g2 = 0; o->from == s && o->event == tr->event && g2 < o->nguards && !seen; g2++)
                    seen = strcmp(o->guards[g2].name, gr->name) == 0;
            }
            if (seen)
                continue;
            const char *event = wf->events[tr->event];
            cf__decision_call call = {row->county, row->id, wf->name, row->state, data, event, x->empty, DIFF_ACTOR, x->now, row->serial};
            char *before = verdict(e->policy, gr->name, &call);
            call.data = data_new;
            char *after = verdict(x->cand, gr->name, &call);
            if (!before || !after) {
                free(before);
                free(after);
                return cf__fail(&e->err, CF_ENOMEM, "out of memory");
            }
            if (strcmp(before, after) != 0) {
                change *c = plan_add(x->pl, "eligibility", row->id, wf->name, row->state, gr->name, event, before,
                                     after);
                cf__buf b = {0};
                cf__buf_printf(&b, "'%s' %s", event,
                               strcmp(after, "ok") == 0 ? "passes this guard from now on" : "no longer passes this guard");
                set_effect(x->pl, c, &b);
                *touched = true;
            }
            free(before);
            free(after);
        }
    }
    return x->pl->oom ? cf__fail(&e->err, CF_ENOMEM, "out of memory") : CF_OK;
}

/* What the workflow's POLICY_EVENT would do under the new policy: *fire when a
 * transition on it passes its guards now. A transition to another state is a
 * "state" row (with the deadlines the new state would set). */
static int examine_event(examine *x, const cf__instance_row *row, const cf__workflow *wf, int s, json_t *data_new,
                         bool *touched, bool *fire)
{
    cf_engine *e = x->e;
    *fire = false;
    int ev = cf__workflow_event(wf, POLICY_EVENT);
    if (ev < 0)
        return CF_OK;
    const cf__transition *chosen = NULL;
    cf__decision_call call = {row->county, row->id, wf->name, row->state, data_new, POLICY_EVENT, x->empty, DIFF_ACTOR, x->now,
                     row->serial};
    for (int i = wf->first[s * wf->nevents + ev]; i >= 0 && !chosen; i = wf->trans[i].next) {
        const cf__transition *tr = &wf->trans[i];
        bool all = true;
        for (int g = 0; g < tr->nguards && all; g++) {
            const cf__fnref *gr = &tr->guards[g];
            int fn = gr->kind == CF__FN_POLICY ? cf__policy_find(x->cand, CF__ROLE_GUARD, gr->name) : -1;
            bool ok = false;
            char *reason = NULL;
            if (fn >= 0) {
                int rc = cf__policy_guard(x->cand, fn, &call, &ok, &reason, &e->err);
                free(reason);
                if (rc != CF_OK) {
                    cf__err_prefix(&e->err, "instance %s (%s, state %s), event '%s', with the proposed overlay",
                                   row->id, wf->name, row->state, POLICY_EVENT);
                    return rc;
                }
            }
            all = ok; /* a guard the preview cannot ask (a plugin's) holds the transition back */
        }
        if (all)
            chosen = tr;
    }
    if (!chosen)
        return CF_OK;
    *fire = true;
    if (chosen->nenters == 0) /* internal: nothing is left or entered */
        return CF_OK;
    const cf__state *to = &wf->states[chosen->to];
    change *c = plan_add(x->pl, "state", row->id, wf->name, row->state, to->name, POLICY_EVENT, row->state, to->name);
    cf__buf b = {0};
    cf__buf_printf(&b, "moves from '%s' to '%s' (event '%s', recorded in the history)", row->state, to->name,
                   POLICY_EVENT);
    set_effect(x->pl, c, &b);
    *touched = true;
    /* The timers entering the new state (and the parents it enters) schedules
     * (apply's fire schedules them). */
    call.state = to->name;
    call.event = NULL;
    call.event_data = NULL;
    call.actor = NULL;
    for (int k = 0; k < chosen->nenters; k++) {
        const cf__state *in = &wf->states[chosen->enters[k]];
        for (int i = 0; i < in->ntimers; i++) {
            const cf__timer_def *td = &in->timers[i];
            if (td->after.kind != CF__FN_POLICY)
                continue;
            bool has = false;
            cf_time due = 0;
            int rc = cf__change_deadline(x->cand, td->after.name, &call, &has, &due, &e->err);
            if (rc != CF_OK)
                return rc;
            if (!has)
                continue;
            char text[32];
            cf__change_time_text(due, text);
            change *d = plan_add(x->pl, "deadline", row->id, wf->name, row->state, td->name, wf->events[td->event],
                                 "none", text);
            if (!d)
                break;
            d->op = OP_NONE; /* scheduled by the transition itself */
            d->due = due;
            cf__buf tb = {0};
            cf__buf_printf(&tb, "set on entering '%s': '%s' fires then", in->name, wf->events[td->event]);
            set_effect(x->pl, d, &tb);
        }
    }
    return x->pl->oom ? cf__fail(&e->err, CF_ENOMEM, "out of memory") : CF_OK;
}

/* The pins (data.policy_pins) of the changed parameters the instance holds. */
static json_t *held_pins(examine *x, json_t *data)
{
    json_t *pins = json_object_get(data, "policy_pins"), *out = json_object();
    const char *key;
    json_t *v;
    if (out && json_is_object(pins))
        json_object_foreach(pins, key, v) if (json_object_get(x->changed, key)) json_object_set(out, key, v);
    return out;
}

static char *value_text(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* One instance: its rows, its pins, whether apply fires POLICY_EVENT on it. */
static int examine_instance(examine *x, const cf__instance_row *row, const cf__workflow *wf, int s, json_t *data)
{
    plan *pl = x->pl;
    size_t mark = pl->n;
    json_t *held = held_pins(x, data);
    /* The data the candidate sees differs only when "all" releases pins this instance holds:
     * otherwise both policies read the same document (no copy per instance) */
    bool release = !pl->for_new && held && json_object_size(held) > 0;
    json_t *data_new = release ? json_deep_copy(data) : json_incref(data);
    if (!held || !data_new) {
        json_decref(held);
        json_decref(data_new);
        return cf__fail(&x->e->err, CF_ENOMEM, "out of memory");
    }
    const char *key;
    json_t *v;
    if (release) {
        /* "all": the new values reach pinned instances too, releasing their pins */
        json_t *pins = json_object_get(data_new, "policy_pins");
        json_object_foreach(held, key, v) json_object_del(pins, key);
        if (json_is_object(pins) && json_object_size(pins) == 0)
            json_object_del(data_new, "policy_pins");
    }
    bool touched = false, fire = false;
    int rc = examine_timers(x, row, wf, s, data, data_new, &touched);
    if (rc == CF_OK)
        rc = examine_guards(x, row, wf, s, data, data_new, &touched);
    if (rc == CF_OK)
        rc = examine_event(x, row, wf, s, data_new, &touched, &fire);
    if (rc == CF_OK && !pl->for_new) {
        json_object_foreach(held, key, v)
        {
            char *old = value_text(v), *now = value_text(json_object_get(json_object_get(x->changed, key), "new"));
            change *c = old && now ? plan_add(pl, "pin", row->id, wf->name, row->state, key, NULL, old, now) : NULL;
            cf__buf b = {0};
            cf__buf_printf(&b, "released from %s = %s: takes the county's new value %s", key, old ? old : "?",
                           now ? now : "?");
            set_effect(pl, c, &b);
            free(old);
            free(now);
            touched = true;
        }
    } else if (rc == CF_OK && touched) {
        /* "new": this instance keeps the old values; nothing of it moves */
        plan_truncate(pl, mark);
        fire = false;
        json_object_foreach(x->changed, key, v)
        {
            if (json_object_get(held, key))
                continue;
            char *old = value_text(json_object_get(v, "old")), *now = value_text(json_object_get(v, "new"));
            change *c = old && now ? plan_add(pl, "pin", row->id, wf->name, row->state, key, NULL, old, old) : NULL;
            cf__buf b = {0};
            cf__buf_printf(&b, "stays on %s = %s (pinned; the new value %s is for instances it does not move now)",
                           key, old ? old : "?", now ? now : "?");
            set_effect(pl, c, &b);
            free(old);
            free(now);
        }
        touched = pl->n > mark;
    }
    if (rc == CF_OK && touched) {
        pl->affected++;
        describe(pl, mark, who_of(data), row->county);
        for (size_t i = mark; i < pl->n; i++)
            pl->items[i].fire = fire;
    }
    json_decref(held);
    json_decref(data_new);
    if (rc == CF_OK && pl->oom)
        rc = cf__fail(&x->e->err, CF_ENOMEM, "out of memory");
    return rc;
}

/* One instance of the county as the listing reads it, with its pending timers (valid
 * during the call). */
static int plan_instance(void *ud, const cf__instance_row *row, const cf__timer_row *timers, size_t ntimers)
{
    examine *x = ud;
    x->timers = timers;
    x->ntimers = ntimers;
    cf_engine *e = x->e;
    cf__workflow *wf = NULL;
    int rc = cf__engine_definition(e, row->def_hash, &wf);
    if (rc != CF_OK) {
        x->rc = rc;
        return 1;
    }
    int s = cf__workflow_state(wf, row->state);
    if (s < 0 || wf->states[s].terminal)
        return 0;
    x->pl->instances++;
    json_error_t jerr;
    json_t *data = json_loads(row->data, 0, &jerr);
    if (!data) {
        x->rc = cf__fail(&e->err, CF_EJSON, "instance %s has malformed stored data: %s", row->id, jerr.text);
        return 1;
    }
    x->rc = examine_instance(x, row, wf, s, data);
    json_decref(data);
    if (x->rc == CF_OK && x->pl->report) {
        /* a preview: hand over what is planned so far (the policy and parameter rows
         * first) and keep none of it */
        cf__plan_report(x->pl, x->pl->report, x->pl->report_ud);
        plan_truncate(x->pl, 0);
        return x->pl->stopped;
    }
    return x->rc != CF_OK;
}

/* Every change cand makes for county, into pl (which starts with the policy and param rows). */
int cf__plan_make(cf_engine *e, cf__policy *cand, const char *county, const char *overlay_path, plan *pl)
{
    plan_add(pl, "policy", NULL, NULL, NULL, "policy_hash", NULL, cf__policy_hash(e->policy, county),
             cf__policy_hash(cand, county));
    int rc = diff_params(e, cand, county, overlay_path, pl);
    if (rc != CF_OK)
        return rc;
    examine x = {e, cand, pl, json_object(), json_object(), cf_engine_now(e), CF_OK, NULL, 0};
    for (size_t i = 1; x.changed && i < pl->n; i++) {
        const change *c = &pl->items[i];
        json_t *o = json_loads(c->old_value, JSON_DECODE_ANY, NULL), *n = json_loads(c->new_value, JSON_DECODE_ANY, NULL);
        if (o && n)
            json_object_set_new(x.changed, c->name, json_pack("{s:o, s:o}", "old", o, "new", n));
        else {
            json_decref(o);
            json_decref(n);
        }
    }
    if (!x.empty || !x.changed)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    /* Each instance is examined as the listing reads it: none is held after its rows are planned. */
    if (rc == CF_OK) {
        x.rc = CF_OK;
        rc = cf__store_instance_timers_each(e->store, county, plan_instance, &x, &e->err);
        if (rc == CF_OK)
            rc = x.rc;
    }
    json_decref(x.empty);
    json_decref(x.changed);
    return rc;
}

void cf__plan_report(plan *pl, cf_policy_change_fn fn, void *ud)
{
    for (size_t i = 0; fn && !pl->stopped && i < pl->n; i++) {
        const change *c = &pl->items[i];
        cf_policy_change out = {sizeof out, c->kind,      c->instance_id, c->workflow, c->state, c->name,
                                c->event,   c->old_value, c->new_value,   c->who,      c->county, c->effect};
        if (fn(ud, &out) != 0)
            pl->stopped = true;
    }
}

int cf__change_check_args(cf_engine *e, const char *county, const char *overlay_path, const char *fname)
{
    if (!county || !overlay_path)
        return cf__fail(&e->err, CF_EINVAL, "%s: a county and the proposed overlay file are required", fname);
    if (!cf__valid_county(county))
        return cf__fail(&e->err, CF_EINVAL,
                        "county '%s' is not a county name: use lower case letters, digits and '_' (e.g. san_diego)",
                        county);
    if (!e->policy_dir)
        return cf__fail(&e->err, CF_EINVAL,
                        "%s: the engine has no policy folder (options.policy_dir); county overlays live in "
                        "<policy folder>/counties/",
                        fname);
    return CF_OK;
}

int cf__change_check_for(cf_engine *e, const char *applies_to, bool *for_new, const char *fname)
{
    *for_new = false;
    if (!applies_to || strcmp(applies_to, "all") == 0)
        return CF_OK;
    if (strcmp(applies_to, "new") == 0) {
        *for_new = true;
        return CF_OK;
    }
    return cf__fail(&e->err, CF_EINVAL,
                    "%s: a change applies to \"all\" (every live instance takes the new values) or \"new\" "
                    "(instances it would move keep the old ones); got \"%.40s\"",
                    fname, applies_to);
}

static int ignore_change(void *ud, const cf_policy_change *c)
{
    (void)ud;
    (void)c;
    return 0;
}

int cf_policy_diff_for(cf_engine *e, const char *county, const char *overlay_path, const char *applies_to,
                       cf_policy_change_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    bool for_new = false;
    rc = cf__change_check_args(e, county, overlay_path, "cf_policy_diff");
    if (rc == CF_OK)
        rc = cf__change_check_for(e, applies_to, &for_new, "cf_policy_diff");
    if (rc != CF_OK)
        return rc;
    cf__policy *cand = NULL;
    rc = cf__change_open_candidate(e, county, overlay_path, overlay_path, &cand);
    if (rc != CF_OK)
        return rc;
    plan pl = {0};
    pl.for_new = for_new;
    pl.report = fn ? fn : ignore_change;
    pl.report_ud = ud;
    /* One read transaction: the plan sees one snapshot, and the store takes its
     * read lock once instead of once per statement. */
    bool began = false;
    rc = cf__audit_read_begin(e->store, &began, &e->err);
    if (rc == CF_OK)
        rc = cf__plan_make(e, cand, county, overlay_path, &pl);
    cf__audit_read_end(e->store, began);
    if (rc == CF_OK)
        cf__plan_report(&pl, fn, ud);
    cf__plan_free(&pl);
    cf__policy_close(cand);
    return rc;
}

int cf_policy_diff(cf_engine *e, const char *county, const char *overlay_path, cf_policy_change_fn fn, void *ud)
{
    return cf_policy_diff_for(e, county, overlay_path, NULL, fn, ud);
}
