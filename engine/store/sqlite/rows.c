/*
 * rows.c — the SQLite backend's workflow definitions (by hash) and instances
 * (serial numbers are the row id).
 */
#include "store/sqlite/sqlite_private.h"

#include <stdlib.h>
#include <string.h>

/* ---- workflow definitions ---- */

int cf__sqlite_def_put(cf__sqlite *s, const char *hash, const char *name, const char *source, cf_time now,
                      cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_DEF_PUT];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, hash, &brc);
    cf__sqlite_bind_text(st, 2, name, &brc);
    cf__sqlite_bind_text(st, 3, source, &brc);
    cf__sqlite_bind_int(st, 4, now, &brc);
    return cf__sqlite_run(s, st, brc, "storing a workflow definition", NULL, err);
}

int cf__sqlite_def_get(cf__sqlite *s, const char *hash, char **name, char **source, cf__err *err)
{
    if (name)
        *name = NULL;
    if (source)
        *source = NULL;
    sqlite3_stmt *st = s->stmt[ST_DEF_GET];
    int rc = sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no stored workflow definition with hash %s", hash);
    }
    if (rc != SQLITE_ROW)
        return cf__sqlite_step_fail(s, st, rc, "reading a workflow definition", err);
    char *n = name ? cf__sqlite_col_dup(st, 0) : NULL;
    char *src = source ? cf__sqlite_col_dup(st, 1) : NULL;
    cf__sqlite_done(st);
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

/* ---- instances ---- */
int cf__sqlite_instance_insert(cf__sqlite *s, const cf__instance_row *row, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_INSERT];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, row->id, &brc);
    cf__sqlite_bind_text(st, 2, row->workflow, &brc);
    cf__sqlite_bind_text(st, 3, row->def_hash, &brc);
    cf__sqlite_bind_text(st, 4, row->county, &brc);
    cf__sqlite_bind_text(st, 5, row->state, &brc);
    cf__sqlite_bind_text(st, 6, row->data, &brc);
    cf__sqlite_bind_int(st, 7, row->created_at, &brc);
    cf__sqlite_bind_int(st, 8, row->updated_at, &brc);
    cf__sqlite_bind_int(st, 9, row->version, &brc);
    if (row->serial > 0)
        cf__sqlite_bind_int(st, 10, row->serial, &brc);
    else if (brc == SQLITE_OK)
        brc = sqlite3_bind_null(st, 10); /* numbered by SQLite: max + 1 */
    return cf__sqlite_run_named(s, st, brc, "storing instance", row->id, NULL, err);
}

int cf__sqlite_def_exists(cf__sqlite *s, const char *hash, bool *exists, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_DEF_EXISTS];
    int rc = sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cf__sqlite_step_fail(s, st, rc, "looking up a workflow definition", err);
    *exists = rc == SQLITE_ROW;
    cf__sqlite_done(st);
    return CF_OK;
}

int cf__sqlite_next_serial(cf__sqlite *s, int64_t *serial, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_NEXT_SERIAL];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return cf__sqlite_step_fail(s, st, rc, "numbering a new instance", err);
    *serial = sqlite3_column_int64(st, 0);
    cf__sqlite_done(st);
    return CF_OK;
}

/* Fill row from an instance_get/instance_list result, pointing into the statement. */
static void instance_borrow(sqlite3_stmt *st, cf__instance_row *row)
{
    cf__sqlite_col_id(st, 0, row->id);
    row->workflow = (char *)sqlite3_column_text(st, 1);
    row->def_hash = (char *)sqlite3_column_text(st, 2);
    row->county = (char *)sqlite3_column_text(st, 3);
    row->state = (char *)sqlite3_column_text(st, 4);
    row->data = (char *)sqlite3_column_text(st, 5);
    row->created_at = sqlite3_column_int64(st, 6);
    row->updated_at = sqlite3_column_int64(st, 7);
    row->version = sqlite3_column_int64(st, 8);
    row->serial = sqlite3_column_int64(st, 9);
}

int cf__sqlite_instance_get(cf__sqlite *s, const char *id, cf__instance_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row); /* safe to clear whatever happens */
    sqlite3_stmt *st = s->stmt[ST_INST_GET];
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__sqlite_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with cf_instance_list)", id);
    }
    if (rc != SQLITE_ROW)
        return cf__sqlite_step_fail(s, st, rc, "reading an instance", err);
    cf__sqlite_col_id(st, 0, row->id);
    row->workflow = cf__sqlite_col_dup(st, 1);
    row->def_hash = cf__sqlite_col_dup(st, 2);
    row->county = cf__sqlite_col_dup(st, 3);
    row->state = cf__sqlite_col_dup(st, 4);
    row->data = cf__sqlite_col_dup(st, 5);
    row->created_at = sqlite3_column_int64(st, 6);
    row->updated_at = sqlite3_column_int64(st, 7);
    row->version = sqlite3_column_int64(st, 8);
    row->serial = sqlite3_column_int64(st, 9);
    cf__sqlite_done(st);
    if (!row->workflow || !row->def_hash || !row->county || !row->state || !row->data) {
        cf__instance_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading instance %s", id);
    }
    return CF_OK;
}

int cf__sqlite_instance_update(cf__sqlite *s, const cf__instance_row *row, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_UPDATE];
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, row->id, &brc);
    cf__sqlite_bind_text(st, 2, row->state, &brc);
    cf__sqlite_bind_text(st, 3, row->data, &brc);
    cf__sqlite_bind_int(st, 4, row->updated_at, &brc);
    cf__sqlite_bind_int(st, 5, row->version, &brc);
    int changes = 0;
    int r = cf__sqlite_run_named(s, st, brc, "updating instance", row->id, &changes, err);
    if (r == CF_OK && changes == 0)
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with cf_instance_list)", row->id);
    return r;
}

int cf__sqlite_instance_list(cf__sqlite *s, const char *workflow, const char *state, const char *county,
                            cf__instance_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_LIST];
    int rc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, workflow, &rc);
    cf__sqlite_bind_text(st, 2, state, &rc);
    cf__sqlite_bind_text(st, 3, county, &rc);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__instance_row row;
        instance_borrow(st, &row);
        if (fn(ud, &row) != 0)
            rc = SQLITE_DONE;
        else
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return cf__sqlite_step_fail(s, st, rc, "listing instances", err);
    cf__sqlite_done(st);
    return CF_OK;
}

