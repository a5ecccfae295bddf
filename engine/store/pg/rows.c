/*
 * rows.c — the PostgreSQL backend's rows: workflow definitions, instances (serials
 * from the sequence certflow.instance_serial), timers (claimed FOR UPDATE SKIP
 * LOCKED), the outbox, the policy texts and change log, and explain's window on
 * the rows a transaction wrote.
 */
#include "store/pg/pg_private.h"

#include <stdio.h>
#include <string.h>

/* ---- explain's window (watch) ----
 * The backend notes each row its own statements write while watching (the table
 * and the row's key); watch_each reads them back as JSON before the rollback; the
 * notes are freed by cf__pg_watch_forget (conn.c, which frees them at close too). */

void cf__pg_watch_note(cf__pg *s, const char *table, const char *key, int op)
{
    if (!s->watching || s->watch_oom)
        return;
    for (size_t i = 0; i < s->nwatched; i++) {
        struct cf__pg_watched *w = &s->watched[i];
        if (strcmp(w->table, table) == 0 && strcmp(w->key, key) == 0) {
            /* an insert stays an insert until deleted; an update stays an update */
            if (op == 'd')
                w->op = 'd';
            return;
        }
    }
    if (s->nwatched == s->capwatched) {
        size_t cap = s->capwatched ? s->capwatched * 2 : 16;
        struct cf__pg_watched *n = realloc(s->watched, cap * sizeof *n);
        if (!n) {
            s->watch_oom = true;
            return;
        }
        s->watched = n;
        s->capwatched = cap;
    }
    char *t = cf__strdup(table), *k = cf__strdup(key);
    if (!t || !k) {
        free(t);
        free(k);
        s->watch_oom = true;
        return;
    }
    s->watched[s->nwatched++] = (struct cf__pg_watched){t, k, op};
}

/* Note every row a statement returned the key of (RETURNING). */
static void note_rows(cf__pg *s, const char *table, const PGresult *r, int op)
{
    if (!s->watching || !r)
        return;
    for (int i = 0; i < PQntuples(r); i++)
        cf__pg_watch_note(s, table, PQgetvalue(r, i, 0), op);
}

int cf__pg_watch_arm(cf__pg *s, cf__err *err)
{
    if (!s->watching || s->watch_armed)
        return CF_OK;
    int rc = cf__pg_exec_const(s,
                               "CREATE TEMP TABLE IF NOT EXISTS cf_watched(seq bigserial, tbl text, op text, row text)"
                               " ON COMMIT DROP; SELECT set_config('certflow.watching', 'on', true)",
                               "watching the rows a preview writes", err);
    s->watch_armed = rc == CF_OK;
    return rc;
}

void cf__pg_watch_begin(cf__pg *s)
{
    cf__pg_watch_end(s);
    s->watch_queued = s->queued;
    s->watching = true;
}

int cf__pg_watch_each(cf__pg *s, cf__watched_fn fn, void *ud, cf__err *err)
{
    if (s->watch_oom)
        return cf__fail(err, CF_ENOMEM, "out of memory recording the rows a preview wrote");
    bool was = s->watching;
    s->watching = false;
    int r = CF_OK;
    for (size_t i = 0; i < s->nwatched && r == CF_OK; i++) {
        const struct cf__pg_watched *w = &s->watched[i];
        json_t *row = NULL;
        if (w->op != 'd') {
            cf__pgp p = {0};
            cf__pgp_text(&p, w->table);
            cf__pgp_text(&p, w->key);
            PGresult *res = NULL;
            r = cf__pg_run(s, PG_WATCH_ROW, &p, &res, "reading a row the preview wrote", err);
            if (r != CF_OK)
                break;
            const char *text = PQntuples(res) ? cf__pg_text(res, 0, 0) : NULL;
            if (text) {
                row = json_loads(text, JSON_DECODE_ANY, NULL);
                if (!row)
                    r = cf__fail(err, CF_ENOMEM, "out of memory");
            }
            PQclear(res);
            if (r != CF_OK)
                break;
        }
        const char *op = w->op == 'i' ? "insert" : w->op == 'u' ? "update" : "delete";
        int stop = fn(ud, w->table, op, row);
        json_decref(row);
        if (stop)
            return r;
    }
    if (r == CF_OK && s->watch_armed) { /* the rows of plugin tables, as their trigger copied them */
        PGresult *res = PQexec(s->conn, "SELECT tbl, op, row FROM pg_temp.cf_watched ORDER BY seq");
        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
            r = cf__pg_fail(s, res, "reading the rows a preview wrote", err);
        for (int i = 0; r == CF_OK && i < PQntuples(res); i++) {
            const char *text = cf__pg_text(res, i, 2);
            json_t *row = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
            if (text && !row) {
                r = cf__fail(err, CF_ENOMEM, "out of memory");
                break;
            }
            int stop = fn(ud, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), row);
            json_decref(row);
            if (stop)
                break;
        }
        PQclear(res);
    }
    s->watching = was;
    return r;
}

void cf__pg_watch_end(cf__pg *s)
{
    if (!s)
        return;
    if (s->watching) {
        s->queued = s->watch_queued;
        s->watching = false;
    }
    if (s->watch_armed && cf__pg_in_transaction(s)) {
        PGresult *r = PQexec(s->conn, "SELECT set_config('certflow.watching', 'off', true)");
        PQclear(r);
    }
    s->watch_armed = false;
    cf__pg_watch_forget(s);
}

/* ---- workflow definitions ---- */

int cf__pg_def_put(cf__pg *s, const char *hash, const char *name, const char *source, cf_time now, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, hash);
    cf__pgp_text(&p, name);
    cf__pgp_text(&p, source);
    cf__pgp_int(&p, now);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_DEF_PUT, &p, &r, "storing a workflow definition", err);
    note_rows(s, "workflow_def", r, 'i');
    PQclear(r);
    return rc;
}

int cf__pg_def_get(cf__pg *s, const char *hash, char **name, char **source, cf__err *err)
{
    if (name)
        *name = NULL;
    if (source)
        *source = NULL;
    cf__pgp p = {0};
    cf__pgp_text(&p, hash);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_DEF_GET, &p, &r, "reading a workflow definition", err);
    if (rc != CF_OK)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cf__fail(err, CF_ENOTFOUND, "no stored workflow definition with hash %s", hash);
    }
    char *n = name ? cf__pg_dup(r, 0, 0) : NULL;
    char *src = source ? cf__pg_dup(r, 0, 1) : NULL;
    PQclear(r);
    if ((name && !n) || (source && !src)) {
        free(n);
        free(src);
        return cf__fail(err, CF_ENOMEM, "out of memory reading workflow definition %s", hash);
    }
    if (name)
        *name = n;
    if (source)
        *source = src;
    return CF_OK;
}

int cf__pg_def_exists(cf__pg *s, const char *hash, bool *exists, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, hash);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_DEF_EXISTS, &p, &r, "looking up a workflow definition", err);
    if (rc == CF_OK)
        *exists = PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

/* ---- instances ---- */

int cf__pg_instance_insert(cf__pg *s, const cf__instance_row *row, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, row->id);
    cf__pgp_text(&p, row->workflow);
    cf__pgp_text(&p, row->def_hash);
    cf__pgp_text(&p, row->county);
    cf__pgp_text(&p, row->state);
    cf__pgp_text(&p, row->data);
    cf__pgp_int(&p, row->created_at);
    cf__pgp_int(&p, row->updated_at);
    cf__pgp_int(&p, row->version);
    if (row->serial > 0)
        cf__pgp_int(&p, row->serial);
    else
        cf__pgp_text(&p, NULL); /* numbered by the sequence */
    char what[96];
    snprintf(what, sizeof what, "storing instance %s", row->id);
    int rc = cf__pg_run(s, PG_INST_INSERT, &p, NULL, what, err);
    if (rc == CF_OK)
        cf__pg_watch_note(s, "instance", row->id, 'i');
    return rc;
}

int cf__pg_next_serial(cf__pg *s, int64_t *serial, cf__err *err)
{
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_INST_NEXT_SERIAL, NULL, &r, "numbering a new instance", err);
    if (rc == CF_OK)
        *serial = cf__pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

/* Fill row from row i of an INST_COLS result, pointing into the result. */
static void instance_borrow(const PGresult *r, int i, cf__instance_row *row)
{
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(r, i, 0));
    row->workflow = PQgetvalue(r, i, 1);
    row->def_hash = PQgetvalue(r, i, 2);
    row->county = PQgetvalue(r, i, 3);
    row->state = PQgetvalue(r, i, 4);
    row->data = PQgetvalue(r, i, 5);
    row->created_at = cf__pg_int(r, i, 6);
    row->updated_at = cf__pg_int(r, i, 7);
    row->version = cf__pg_int(r, i, 8);
    row->serial = cf__pg_int(r, i, 9);
}

int cf__pg_instance_get(cf__pg *s, const char *id, cf__instance_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row);
    cf__pgp p = {0};
    cf__pgp_text(&p, id);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_INST_GET, &p, &r, "reading an instance", err);
    if (rc != CF_OK)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with cf_instance_list)", id);
    }
    cf__instance_row b;
    instance_borrow(r, 0, &b);
    *row = b;
    row->workflow = cf__strdup(b.workflow);
    row->def_hash = cf__strdup(b.def_hash);
    row->county = cf__strdup(b.county);
    row->state = cf__strdup(b.state);
    row->data = cf__strdup(b.data);
    PQclear(r);
    if (!row->workflow || !row->def_hash || !row->county || !row->state || !row->data) {
        cf__instance_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading instance %s", id);
    }
    return CF_OK;
}

int cf__pg_instance_update(cf__pg *s, const cf__instance_row *row, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, row->id);
    cf__pgp_text(&p, row->state);
    cf__pgp_text(&p, row->data);
    cf__pgp_int(&p, row->updated_at);
    cf__pgp_int(&p, row->version);
    PGresult *r = NULL;
    char what[96];
    snprintf(what, sizeof what, "updating instance %s", row->id);
    int rc = cf__pg_run(s, PG_INST_UPDATE, &p, &r, what, err);
    if (rc != CF_OK)
        return rc;
    bool changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!changed)
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with cf_instance_list)", row->id);
    cf__pg_watch_note(s, "instance", row->id, 'u');
    return CF_OK;
}

int cf__pg_instance_list(cf__pg *s, const char *workflow, const char *state, const char *county,
                         cf__instance_row_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, workflow);
    cf__pgp_text(&p, state);
    cf__pgp_text(&p, county);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_INST_LIST, &p, &r, "listing instances", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__instance_row row;
        instance_borrow(r, i, &row);
        if (fn(ud, &row) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

/* The county's instances and, in a second result in the same order, their timers: the
 * timers of the instance at hand are the next rows of the second. */
int cf__pg_instance_timers_each(cf__pg *s, const char *county, cf__instance_timers_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, NULL);
    cf__pgp_text(&p, NULL);
    cf__pgp_text(&p, county);
    PGresult *r = NULL, *tr = NULL;
    int rc = cf__pg_run(s, PG_INST_LIST, &p, &r, "listing instances", err);
    if (rc != CF_OK)
        return rc;
    cf__pgp q = {0};
    cf__pgp_text(&q, county);
    rc = cf__pg_run(s, PG_COUNTY_TIMERS, &q, &tr, "reading the timers of a county's instances", err);
    if (rc != CF_OK) {
        PQclear(r);
        return rc;
    }
    cf__timer_row *t = NULL;
    size_t cap = 0;
    int k = 0, nt = PQntuples(tr);
    for (int i = 0; i < PQntuples(r); i++) {
        cf__instance_row row;
        instance_borrow(r, i, &row);
        size_t n = 0;
        for (; k < nt && strcmp(PQgetvalue(tr, k, 1), row.id) == 0; k++) {
            if (n == cap) {
                size_t c = cap ? cap * 2 : 4;
                cf__timer_row *more = realloc(t, c * sizeof *more);
                if (!more) {
                    rc = cf__fail(err, CF_ENOMEM, "out of memory reading the timers of a county's instances");
                    break;
                }
                t = more;
                cap = c;
            }
            cf__pg_timer_borrow(tr, k, &t[n++]);
        }
        if (rc != CF_OK || fn(ud, &row, t, n) != 0)
            break;
    }
    free(t);
    PQclear(tr);
    PQclear(r);
    return rc;
}

/* ---- timers ---- */

int cf__pg_timer_add(cf__pg *s, const char *instance_id, const char *state, const char *name, const char *event,
                     cf_time due, cf__err *err)
{
    return cf__pg_timer_add_chain(s, instance_id, state, name, event, due, NULL, 0, err);
}

int cf__pg_timer_add_chain(cf__pg *s, const char *instance_id, const char *state, const char *name,
                           const char *event, cf_time due, const char *chain_root, int64_t chain_count, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    cf__pgp_text(&p, state);
    cf__pgp_text(&p, name);
    cf__pgp_text(&p, event);
    cf__pgp_int(&p, due);
    cf__pgp_text(&p, chain_root);
    if (chain_root)
        cf__pgp_int(&p, chain_count);
    else
        cf__pgp_text(&p, NULL);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TIMER_ADD, &p, &r, "scheduling a timer", err);
    note_rows(s, "timer", r, 'i');
    PQclear(r);
    return rc;
}

int cf__pg_timer_cancel(cf__pg *s, const char *instance_id, const char *state, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    cf__pgp_text(&p, state);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TIMER_CANCEL, &p, &r, "cancelling timers", err);
    note_rows(s, "timer", r, 'd');
    PQclear(r);
    return rc;
}

void cf__pg_timer_borrow(const PGresult *r, int i, cf__timer_row *t)
{
    memset(t, 0, sizeof *t);
    t->id = cf__pg_int(r, i, 0);
    snprintf(t->instance_id, sizeof t->instance_id, "%s", PQgetvalue(r, i, 1));
    t->state = PQgetvalue(r, i, 2);
    t->name = PQgetvalue(r, i, 3);
    t->event = PQgetvalue(r, i, 4);
    t->due = cf__pg_int(r, i, 5);
}

int cf__pg_timer_next(cf__pg *s, cf_time now, cf__timer_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row);
    cf__pgp p = {0};
    cf__pgp_int(&p, now);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TIMER_NEXT, &p, &r, "reading the next timer", err);
    if (rc != CF_OK)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cf__fail(err, CF_ENOTFOUND, "no timer is due");
    }
    row->id = cf__pg_int(r, 0, 0);
    snprintf(row->instance_id, sizeof row->instance_id, "%s", PQgetvalue(r, 0, 1));
    row->state = cf__pg_dup(r, 0, 2);
    row->name = cf__pg_dup(r, 0, 3);
    row->event = cf__pg_dup(r, 0, 4);
    row->due = cf__pg_int(r, 0, 5);
    bool rooted = !PQgetisnull(r, 0, 6);
    row->chain_root = rooted ? cf__pg_dup(r, 0, 6) : NULL;
    row->chain_count = cf__pg_int(r, 0, 7);
    PQclear(r);
    if (!row->state || !row->name || !row->event || (rooted && !row->chain_root)) {
        cf__timer_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a timer");
    }
    return CF_OK;
}

int cf__pg_timer_delete(cf__pg *s, int64_t id, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, id);
    int rc = cf__pg_run(s, PG_TIMER_DELETE, &p, NULL, "deleting a timer", err);
    if (rc == CF_OK)
        cf__pg_watch_note(s, "timer", p.v[0], 'd');
    return rc;
}

int cf__pg_timer_list(cf__pg *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, from);
    cf__pgp_int(&p, to);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TIMER_LIST, &p, &r, "listing timers", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__timer_row t;
        cf__pg_timer_borrow(r, i, &t);
        if (fn(ud, &t, PQgetvalue(r, i, 6), PQgetvalue(r, i, 7)) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

int cf__pg_timer_set_due(cf__pg *s, int64_t id, cf_time due, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, id);
    cf__pgp_int(&p, due);
    int rc = cf__pg_run(s, PG_TIMER_SET_DUE, &p, NULL, "moving a timer", err);
    if (rc == CF_OK)
        cf__pg_watch_note(s, "timer", p.v[0], 'u');
    return rc;
}

int cf__pg_timer_each(cf__pg *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, instance_id);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_TIMER_EACH, &p, &r, "listing an instance's timers", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__timer_row t;
        cf__pg_timer_borrow(r, i, &t);
        if (fn(ud, &t) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}

/* ---- outbox ---- */

int cf__pg_outbox_add(cf__pg *s, const char *source_id, const char *target_id, const char *event, const char *data,
                      cf_time now, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, source_id);
    cf__pgp_text(&p, target_id);
    cf__pgp_text(&p, event);
    cf__pgp_text(&p, data);
    cf__pgp_int(&p, now);
    cf__pgp_text(&p, s->chain_root[0] ? s->chain_root : NULL);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_OUTBOX_ADD, &p, &r, "queueing a linked event", err);
    note_rows(s, "outbox", r, 'i');
    PQclear(r);
    if (rc == CF_OK) {
        s->queued = true;
        s->chain_queued++;
    }
    return rc;
}

bool cf__pg_queued(const cf__pg *s)
{
    return s->queued;
}

void cf__pg_clear_queued(cf__pg *s)
{
    s->queued = false;
}

void cf__pg_chain_begin(cf__pg *s, const char *root)
{
    snprintf(s->chain_root, sizeof s->chain_root, "%s", root ? root : "");
    s->chain_queued = 0;
}

int64_t cf__pg_chain_queued(const cf__pg *s)
{
    return s->chain_queued;
}

int cf__pg_chain_count(cf__pg *s, const char *root, int64_t count, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, root);
    cf__pgp_int(&p, count);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_OUTBOX_CHAIN, &p, &r, "counting a chain of linked events", err);
    note_rows(s, "outbox", r, 'u');
    PQclear(r);
    return rc;
}

int cf__pg_outbox_next(cf__pg *s, cf__outbox_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_OUTBOX_NEXT, NULL, &r, "reading the next linked event", err);
    if (rc != CF_OK)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cf__fail(err, CF_ENOTFOUND, "no queued linked event");
    }
    row->id = cf__pg_int(r, 0, 0);
    snprintf(row->source_id, sizeof row->source_id, "%s", PQgetvalue(r, 0, 1));
    row->target_id = cf__pg_dup(r, 0, 2);
    row->event = cf__pg_dup(r, 0, 3);
    row->data = cf__pg_dup(r, 0, 4);
    bool rooted = !PQgetisnull(r, 0, 5);
    row->chain_root = rooted ? cf__pg_dup(r, 0, 5) : NULL;
    row->chain_count = cf__pg_int(r, 0, 6);
    PQclear(r);
    if (!row->target_id || !row->event || !row->data || (rooted && !row->chain_root)) {
        cf__outbox_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a linked event");
    }
    return CF_OK;
}

int cf__pg_outbox_delete(cf__pg *s, int64_t id, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, id);
    int rc = cf__pg_run(s, PG_OUTBOX_DELETE, &p, NULL, "deleting a delivered linked event", err);
    if (rc == CF_OK)
        cf__pg_watch_note(s, "outbox", p.v[0], 'd');
    return rc;
}

/* ---- policy texts and the policy change log ---- */

int cf__pg_policy_text_put(cf__pg *s, const char *hash, const char *county, const char *overlay_hash,
                           const char *source, cf_time now, const char *actor, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, hash);
    cf__pgp_text(&p, county);
    cf__pgp_text(&p, overlay_hash);
    cf__pgp_text(&p, source);
    cf__pgp_int(&p, now);
    cf__pgp_text(&p, actor);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_POLICY_TEXT_PUT, &p, &r, "recording the applied policy text", err);
    note_rows(s, "policy_text", r, 'i');
    PQclear(r);
    return rc;
}

int cf__pg_policy_log_add(cf__pg *s, const cf__policy_log_row *row, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, row->at);
    cf__pgp_text(&p, row->actor);
    cf__pgp_text(&p, row->county);
    cf__pgp_text(&p, row->overlay_hash);
    cf__pgp_text(&p, row->old_policy_hash);
    cf__pgp_text(&p, row->new_policy_hash);
    cf__pgp_text(&p, row->applies_to);
    cf__pgp_int(&p, row->instances);
    cf__pgp_text(&p, row->params);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_POLICY_LOG_ADD, &p, &r, "logging the policy change", err);
    note_rows(s, "policy_change", r, 'i');
    PQclear(r);
    return rc;
}

int cf__pg_policy_log_each(cf__pg *s, const char *county, cf__policy_log_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, county);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_POLICY_LOG_EACH, &p, &r, "reading the policy change log", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        cf__policy_log_row row = {
            .seq = cf__pg_int(r, i, 0),
            .at = cf__pg_int(r, i, 1),
            .actor = PQgetvalue(r, i, 2),
            .county = PQgetvalue(r, i, 3),
            .overlay_hash = PQgetvalue(r, i, 4),
            .old_policy_hash = PQgetvalue(r, i, 5),
            .new_policy_hash = PQgetvalue(r, i, 6),
            .applies_to = PQgetvalue(r, i, 7),
            .instances = cf__pg_int(r, i, 8),
            .params = PQgetvalue(r, i, 9),
        };
        if (fn(ud, &row) != 0)
            break;
    }
    PQclear(r);
    return CF_OK;
}
