/*
 * policy.c — the SQLite backend's record of county policy changes: the
 * overlay texts that cf_policy_apply installed, kept by the policy hash history
 * rows record (policy_text), and the log of every change applied (policy_change);
 * and what a policy change reads of each instance's history (its moves, newest first).
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cf__sqlite_policy_text_put(cf__sqlite *s, const char *hash, const char *county, const char *overlay_hash,
                              const char *source, cf_time now, const char *actor, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                         "INSERT OR IGNORE INTO policy_text(hash, county, overlay_hash, source, applied_at, actor)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                         &st, "recording the applied policy text", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, hash, &brc);
    cf__sqlite_bind_text(st, 2, county, &brc);
    cf__sqlite_bind_text(st, 3, overlay_hash, &brc);
    cf__sqlite_bind_text(st, 4, source, &brc);
    cf__sqlite_bind_int(st, 5, now, &brc);
    cf__sqlite_bind_text(st, 6, actor, &brc);
    return cf__sqlite_run_once(s, st, brc, "recording the applied policy text", err);
}

int cf__sqlite_policy_log_add(cf__sqlite *s, const cf__policy_log_row *row, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                         "INSERT INTO policy_change(at, actor, county, overlay_hash, old_policy_hash,"
                         " new_policy_hash, applies_to, instances, params) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                         &st, "logging the policy change", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_int(st, 1, row->at, &brc);
    cf__sqlite_bind_text(st, 2, row->actor, &brc);
    cf__sqlite_bind_text(st, 3, row->county, &brc);
    cf__sqlite_bind_text(st, 4, row->overlay_hash, &brc);
    cf__sqlite_bind_text(st, 5, row->old_policy_hash, &brc);
    cf__sqlite_bind_text(st, 6, row->new_policy_hash, &brc);
    cf__sqlite_bind_text(st, 7, row->applies_to, &brc);
    cf__sqlite_bind_int(st, 8, row->instances, &brc);
    cf__sqlite_bind_text(st, 9, row->params, &brc);
    return cf__sqlite_run_once(s, st, brc, "logging the policy change", err);
}

int cf__sqlite_policy_log_each(cf__sqlite *s, const char *county, cf__policy_log_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                         "SELECT seq, at, actor, county, overlay_hash, old_policy_hash, new_policy_hash, applies_to,"
                         " instances, params FROM policy_change WHERE ?1 IS NULL OR county = ?1 ORDER BY seq",
                         &st, "reading the policy change log", err);
    if (r != CF_OK)
        return r;
    int rc = county ? sqlite3_bind_text(st, 1, county, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 1);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__policy_log_row row;
        row.seq = sqlite3_column_int64(st, 0);
        row.at = sqlite3_column_int64(st, 1);
        row.actor = (const char *)sqlite3_column_text(st, 2);
        row.county = (const char *)sqlite3_column_text(st, 3);
        row.overlay_hash = (const char *)sqlite3_column_text(st, 4);
        row.old_policy_hash = (const char *)sqlite3_column_text(st, 5);
        row.new_policy_hash = (const char *)sqlite3_column_text(st, 6);
        row.applies_to = (const char *)sqlite3_column_text(st, 7);
        row.instances = sqlite3_column_int64(st, 8);
        row.params = (const char *)sqlite3_column_text(st, 9);
        rc = fn(ud, &row) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "reading the policy change log", err);
    sqlite3_finalize(st);
    return r;
}

/* Read by the instance's back-links (schema 11: CF__SQLITE_CHAIN), newest first; a
 * caller that found what it looks for stops early. */
int cf__sqlite_audit_moves(cf__sqlite *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_kept(s, CF__KEPT_MOVES,
                                    "WITH RECURSIVE " CF__SQLITE_CHAIN
                                    " SELECT h.number, h.effective_at, h.event, h.outcome, h.from_state, h.to_state,"
                                    " h.def_hash FROM chain JOIN history h ON h.seq = chain.s"
                                    " WHERE h.instance_id = ?1 ORDER BY h.number DESC",
                                    &st, "reading an instance's moves", err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__history_row h;
        memset(&h, 0, sizeof h);
        h.instance_id = instance_id;
        h.number = sqlite3_column_int64(st, 0);
        h.effective_at = sqlite3_column_int64(st, 1);
        h.event = (const char *)sqlite3_column_text(st, 2);
        h.outcome = (const char *)sqlite3_column_text(st, 3);
        h.from_state = (const char *)sqlite3_column_text(st, 4);
        h.to_state = (const char *)sqlite3_column_text(st, 5);
        h.def_hash = (const char *)sqlite3_column_text(st, 6);
        if (!h.event || !h.outcome || !h.from_state || !h.to_state || !h.def_hash) {
            rc = SQLITE_NOMEM;
            break;
        }
        rc = fn(ud, &h) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return cf__sqlite_step_fail(s, st, rc, "reading an instance's moves", err);
    cf__sqlite_done(st);
    return CF_OK;
}

/* cf__sqlite_instance_timers_each: the county's instances (ST_INST_LIST) and, in a second
 * statement in the same order, their timers; the timers of the instance at hand are
 * the next rows of the second, copied because the step past them ends their text. */
typedef struct county_walk {
    cf__sqlite *s;
    sqlite3_stmt *timers;
    int trc; /* SQLITE_ROW: the timer statement is on a row not yet handed out */
    cf__timer_row *t;
    size_t n, cap;
    cf__instance_timers_fn fn;
    void *ud;
    int rc; /* CF_OK, or what stopped the walk */
    cf__err *err;
} county_walk;

static void walk_clear(county_walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        cf__timer_row_clear(&w->t[i]);
    w->n = 0;
}

static int walk_instance(void *ud, const cf__instance_row *row)
{
    county_walk *w = ud;
    while (w->trc == SQLITE_ROW) {
        const char *of = (const char *)sqlite3_column_text(w->timers, 1);
        if (!of || strcmp(of, row->id) != 0)
            break;
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 4;
            cf__timer_row *t = realloc(w->t, cap * sizeof *t);
            if (!t) {
                w->rc = cf__fail(w->err, CF_ENOMEM, "out of memory reading the timers of a county's instances");
                return 1;
            }
            w->t = t;
            w->cap = cap;
        }
        cf__timer_row *t = &w->t[w->n++];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(w->timers, 0);
        cf__sqlite_col_id(w->timers, 1, t->instance_id);
        t->state = cf__sqlite_col_dup(w->timers, 2);
        t->name = cf__sqlite_col_dup(w->timers, 3);
        t->event = cf__sqlite_col_dup(w->timers, 4);
        t->due = sqlite3_column_int64(w->timers, 5);
        if (!t->state || !t->name || !t->event) {
            w->rc = cf__fail(w->err, CF_ENOMEM, "out of memory reading the timers of a county's instances");
            return 1;
        }
        w->trc = sqlite3_step(w->timers);
    }
    if (w->trc != SQLITE_ROW && w->trc != SQLITE_DONE) {
        w->rc = cf__sqlite_fail(w->s, w->trc, "reading the timers of a county's instances", w->err);
        return 1;
    }
    int stop = w->fn(w->ud, row, w->t, w->n);
    walk_clear(w);
    return stop;
}

/* The county's instances in ST_INST_LIST's order, sorting only their keys (created_at,
 * rowid) and reading each row by its rowid: sorting whole rows would hold every
 * instance's data in the sorter at once (temp_store=MEMORY), for a county of 100,000
 * instances about 45 MB. */
static int list_instances(cf__sqlite *s, const char *county, cf__instance_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *keys = NULL, *one = NULL;
    int r = cf__sqlite_prepare_kept(s, CF__KEPT_COUNTY_KEYS,
                                    "SELECT rowid FROM instance WHERE (?1 IS NULL OR county = ?1)"
                                    " ORDER BY created_at, rowid",
                                    &keys, "listing a county's instances", err);
    if (r == CF_OK)
        r = cf__sqlite_prepare_kept(s, CF__KEPT_INSTANCE_AT,
                                    "SELECT id, workflow, def_hash, county, state, data, created_at, updated_at,"
                                    " version, rowid FROM instance WHERE rowid = ?1",
                                    &one, "reading an instance", err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_text(keys, 1, county, -1, SQLITE_STATIC);
    bool stop = false;
    while (!stop && rc == SQLITE_OK && (rc = sqlite3_step(keys)) == SQLITE_ROW) {
        rc = sqlite3_bind_int64(one, 1, sqlite3_column_int64(keys, 0));
        if (rc == SQLITE_OK)
            rc = sqlite3_step(one);
        if (rc == SQLITE_DONE) { /* gone since the keys were read: cannot happen in one transaction */
            cf__sqlite_done(one);
            rc = SQLITE_OK;
            continue;
        }
        if (rc != SQLITE_ROW)
            break;
        cf__instance_row row;
        cf__sqlite_col_id(one, 0, row.id);
        row.workflow = (char *)sqlite3_column_text(one, 1);
        row.def_hash = (char *)sqlite3_column_text(one, 2);
        row.county = (char *)sqlite3_column_text(one, 3);
        row.state = (char *)sqlite3_column_text(one, 4);
        row.data = (char *)sqlite3_column_text(one, 5);
        row.created_at = sqlite3_column_int64(one, 6);
        row.updated_at = sqlite3_column_int64(one, 7);
        row.version = sqlite3_column_int64(one, 8);
        row.serial = sqlite3_column_int64(one, 9);
        if (!row.workflow || !row.def_hash || !row.county || !row.state || !row.data) {
            rc = SQLITE_NOMEM;
            break;
        }
        stop = fn(ud, &row) != 0;
        cf__sqlite_done(one);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        cf__sqlite_done(one);
        return cf__sqlite_step_fail(s, keys, rc, "listing a county's instances", err);
    }
    cf__sqlite_done(keys);
    return CF_OK;
}

int cf__sqlite_instance_timers_each(cf__sqlite *s, const char *county, cf__instance_timers_fn fn, void *ud,
                                    cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_kept(s, CF__KEPT_COUNTY_TIMERS,
                                    "SELECT t.id, t.instance_id, t.state, t.name, t.event, t.due FROM timer t"
                                    " JOIN instance i ON i.id = t.instance_id WHERE (?1 IS NULL OR i.county = ?1)"
                                    " ORDER BY i.created_at, i.rowid, t.due, t.id",
                                    &st, "reading the timers of a county's instances", err);
    if (r != CF_OK)
        return r;
    county_walk w = {s, st, SQLITE_OK, NULL, 0, 0, fn, ud, CF_OK, err};
    w.trc = sqlite3_bind_text(st, 1, county, -1, SQLITE_STATIC);
    if (w.trc == SQLITE_OK)
        w.trc = sqlite3_step(st);
    if (w.trc != SQLITE_ROW && w.trc != SQLITE_DONE)
        return cf__sqlite_step_fail(s, st, w.trc, "reading the timers of a county's instances", err);
    r = list_instances(s, county, walk_instance, &w, err);
    walk_clear(&w);
    free(w.t);
    cf__sqlite_done(st);
    return r != CF_OK ? r : w.rc;
}
