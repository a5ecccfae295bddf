/*
 * timer.c — the SQLite backend's timers and outbox (linked events queued inside a
 * write), and the one-off statements rarer operations prepare on each call.
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <string.h>

/* ---- timers ---- */

int cf__sqlite_timer_add(cf__sqlite *s, const char *instance_id, const char *state, const char *name,
                        const char *event, cf_time due, cf__err *err)
{
    return cf__sqlite_timer_add_chain(s, instance_id, state, name, event, due, NULL, 0, err);
}

int cf__sqlite_timer_add_chain(cf__sqlite *s, const char *instance_id, const char *state, const char *name,
                              const char *event, cf_time due, const char *chain_root, int64_t chain_count,
                              cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_ADD];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, instance_id, &brc);
    cf__sqlite_bind_text(st, 2, state, &brc);
    cf__sqlite_bind_text(st, 3, name, &brc);
    cf__sqlite_bind_text(st, 4, event, &brc);
    cf__sqlite_bind_int(st, 5, due, &brc);
    if (chain_root) {
        cf__sqlite_bind_text(st, 6, chain_root, &brc);
        cf__sqlite_bind_int(st, 7, chain_count, &brc);
    }
    return cf__sqlite_run(s, st, brc, "scheduling a timer", NULL, err);
}

int cf__sqlite_timer_cancel(cf__sqlite *s, const char *instance_id, const char *state, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_CANCEL];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, instance_id, &brc);
    cf__sqlite_bind_text(st, 2, state, &brc);
    return cf__sqlite_run(s, st, brc, "cancelling timers", NULL, err);
}

int cf__sqlite_timer_next(cf__sqlite *s, cf_time now, cf__timer_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row); /* safe to clear whatever happens */
    sqlite3_stmt *st = s->stmt[ST_TIMER_NEXT];
    int rc = sqlite3_bind_int64(st, 1, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no timer is due");
    }
    if (rc != SQLITE_ROW)
        return cf__sqlite_step_fail(s, st, rc, "reading the next timer", err);
    row->id = sqlite3_column_int64(st, 0);
    cf__sqlite_col_id(st, 1, row->instance_id);
    row->state = cf__sqlite_col_dup(st, 2);
    row->name = cf__sqlite_col_dup(st, 3);
    row->event = cf__sqlite_col_dup(st, 4);
    row->due = sqlite3_column_int64(st, 5);
    bool rooted = sqlite3_column_type(st, 6) != SQLITE_NULL;
    row->chain_root = rooted ? cf__sqlite_col_dup(st, 6) : NULL;
    row->chain_count = sqlite3_column_int64(st, 7);
    cf__sqlite_done(st);
    if (!row->state || !row->name || !row->event || (rooted && !row->chain_root)) {
        cf__timer_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a timer");
    }
    return CF_OK;
}

int cf__sqlite_timer_delete(cf__sqlite *s, int64_t id, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_DELETE];
    return cf__sqlite_run(s, st, sqlite3_bind_int64(st, 1, id), "deleting a timer", NULL, err);
}

int cf__sqlite_timer_list(cf__sqlite *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_LIST];
    int rc = SQLITE_OK;
    cf__sqlite_bind_int(st, 1, from, &rc);
    cf__sqlite_bind_int(st, 2, to, &rc);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__timer_row t = {0};
        t.id = sqlite3_column_int64(st, 0);
        cf__sqlite_col_id(st, 1, t.instance_id);
        t.state = (char *)sqlite3_column_text(st, 2);
        t.name = (char *)sqlite3_column_text(st, 3);
        t.event = (char *)sqlite3_column_text(st, 4);
        t.due = sqlite3_column_int64(st, 5);
        const char *workflow = (const char *)sqlite3_column_text(st, 6);
        const char *county = (const char *)sqlite3_column_text(st, 7);
        rc = fn(ud, &t, workflow, county) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return cf__sqlite_step_fail(s, st, rc, "listing timers", err);
    cf__sqlite_done(st);
    return CF_OK;
}

/* ---- outbox ---- */
int cf__sqlite_outbox_add(cf__sqlite *s, const char *source_id, const char *target_id, const char *event,
                         const char *data, cf_time now, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_ADD];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, source_id, &brc);
    cf__sqlite_bind_text(st, 2, target_id, &brc);
    cf__sqlite_bind_text(st, 3, event, &brc);
    cf__sqlite_bind_text(st, 4, data, &brc);
    cf__sqlite_bind_int(st, 5, now, &brc);
    if (s->chain_root[0])
        cf__sqlite_bind_text(st, 6, s->chain_root, &brc);
    int r = cf__sqlite_run(s, st, brc, "queueing a linked event", NULL, err);
    if (r == CF_OK) {
        s->queued = true;
        s->chain_queued++;
    }
    return r;
}

void cf__sqlite_chain_begin(cf__sqlite *s, const char *root)
{
    snprintf(s->chain_root, sizeof s->chain_root, "%s", root ? root : "");
    s->chain_queued = 0;
}

int64_t cf__sqlite_chain_queued(const cf__sqlite *s)
{
    return s->chain_queued;
}

int cf__sqlite_chain_count(cf__sqlite *s, const char *root, int64_t count, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_CHAIN];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, root, &brc);
    cf__sqlite_bind_int(st, 2, count, &brc);
    return cf__sqlite_run(s, st, brc, "counting a chain of linked events", NULL, err);
}

bool cf__sqlite_queued(const cf__sqlite *s)
{
    return s->queued;
}

void cf__sqlite_clear_queued(cf__sqlite *s)
{
    s->queued = false;
}

int cf__sqlite_outbox_next(cf__sqlite *s, cf__outbox_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row); /* safe to clear whatever happens */
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_NEXT];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no queued linked event");
    }
    if (rc != SQLITE_ROW)
        return cf__sqlite_step_fail(s, st, rc, "reading the next linked event", err);
    row->id = sqlite3_column_int64(st, 0);
    cf__sqlite_col_id(st, 1, row->source_id);
    row->target_id = cf__sqlite_col_dup(st, 2);
    row->event = cf__sqlite_col_dup(st, 3);
    row->data = cf__sqlite_col_dup(st, 4);
    bool rooted = sqlite3_column_type(st, 5) != SQLITE_NULL;
    row->chain_root = rooted ? cf__sqlite_col_dup(st, 5) : NULL;
    row->chain_count = sqlite3_column_int64(st, 6);
    cf__sqlite_done(st);
    if (!row->target_id || !row->event || !row->data || (rooted && !row->chain_root)) {
        cf__outbox_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a linked event");
    }
    return CF_OK;
}

int cf__sqlite_outbox_delete(cf__sqlite *s, int64_t id, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_DELETE];
    return cf__sqlite_run(s, st, sqlite3_bind_int64(st, 1, id), "deleting a delivered linked event", NULL, err);
}

/* ---- one-off statements, and the timer operations of policy changes ----
 * Prepared on each call: policy changes, previews and the like are rare, and
 * keeping them out of the statement table leaves that table to the hot paths
 * (policy.c and watch.c use them too). */

int cf__sqlite_prepare_once(cf__sqlite *s, const char *sql, sqlite3_stmt **st, const char *what, cf__err *err)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return cf__sqlite_fail(s, rc, what, err);
    }
    return CF_OK;
}

/* Step a one-off statement to the end and finalize it. */
int cf__sqlite_run_once(cf__sqlite *s, sqlite3_stmt *st, int brc, const char *what, cf__err *err)
{
    int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
    int r = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? CF_OK : cf__sqlite_fail(s, rc, what, err);
    sqlite3_finalize(st);
    return r;
}

/* The statements a policy change runs once per instance of a county are kept
 * instead (cf__sqlite.kept): preparing them is most of what they cost. */
int cf__sqlite_prepare_kept(cf__sqlite *s, int which, const char *sql, sqlite3_stmt **st, const char *what,
                            cf__err *err)
{
    if (!s->kept[which]) {
        int r = cf__sqlite_prepare_once(s, sql, &s->kept[which], what, err);
        if (r != CF_OK)
            return r;
    }
    *st = s->kept[which];
    return CF_OK;
}

int cf__sqlite_timer_set_due(cf__sqlite *s, int64_t id, cf_time due, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_kept(s, CF__KEPT_TIMER_SET_DUE, "UPDATE timer SET due = ?2 WHERE id = ?1", &st,
                                    "moving a timer", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_int(st, 1, id, &brc);
    cf__sqlite_bind_int(st, 2, due, &brc);
    return cf__sqlite_run(s, st, brc, "moving a timer", NULL, err);
}

int cf__sqlite_timer_each(cf__sqlite *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_kept(s, CF__KEPT_TIMER_EACH,
                                    "SELECT id, instance_id, state, name, event, due FROM timer WHERE instance_id = ?1"
                                    " ORDER BY due, id",
                                    &st, "listing an instance's timers", err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__timer_row t = {0};
        t.id = sqlite3_column_int64(st, 0);
        cf__sqlite_col_id(st, 1, t.instance_id);
        t.state = (char *)sqlite3_column_text(st, 2);
        t.name = (char *)sqlite3_column_text(st, 3);
        t.event = (char *)sqlite3_column_text(st, 4);
        t.due = sqlite3_column_int64(st, 5);
        rc = fn(ud, &t) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return cf__sqlite_step_fail(s, st, rc, "listing an instance's timers", err);
    cf__sqlite_done(st);
    return CF_OK;
}
