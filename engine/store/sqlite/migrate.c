/*
 * migrate.c — the SQLite backend's part of workflow versions and
 * migrations: the stored definitions of a workflow, how many instances run on
 * each (per state), and the writes of a migration (an instance moved to another
 * definition, a kept timer renamed with its state). One-off statements: these
 * are rare operations, kept out of the hot paths' statement table.
 */
#include "store/sqlite/sqlite_private.h"

#include <string.h>

int cf__sqlite_def_each(cf__sqlite *s, const char *name, cf__def_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "SELECT hash, name, first_seen FROM workflow_def WHERE ?1 IS NULL OR name = ?1"
                                   " ORDER BY name, first_seen, hash",
                                   &st, "listing stored workflow definitions", err);
    if (r != CF_OK)
        return r;
    int rc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, name, &rc);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                sqlite3_column_int64(st, 2)) != 0
                 ? SQLITE_DONE
                 : SQLITE_OK;
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "listing stored workflow definitions", err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_def_states(cf__sqlite *s, const char *hash, cf__def_state_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "SELECT state, count(*) FROM instance WHERE def_hash = ?1 GROUP BY state"
                                   " ORDER BY state",
                                   &st, "counting the instances of a workflow definition", err);
    if (r != CF_OK)
        return r;
    int rc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, hash, &rc);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)) != 0 ? SQLITE_DONE
                                                                                               : SQLITE_OK;
    r = rc == SQLITE_DONE ? CF_OK : cf__sqlite_fail(s, rc, "counting the instances of a workflow definition", err);
    sqlite3_finalize(st);
    return r;
}

int cf__sqlite_instance_redefine(cf__sqlite *s, const cf__instance_row *row, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s,
                                   "UPDATE instance SET def_hash = ?2, state = ?3, updated_at = ?4, version = ?5"
                                   " WHERE id = ?1",
                                   &st, "moving an instance to another workflow definition", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_text(st, 1, row->id, &brc);
    cf__sqlite_bind_text(st, 2, row->def_hash, &brc);
    cf__sqlite_bind_text(st, 3, row->state, &brc);
    cf__sqlite_bind_int(st, 4, row->updated_at, &brc);
    cf__sqlite_bind_int(st, 5, row->version, &brc);
    int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
    if (rc != SQLITE_DONE) {
        r = cf__sqlite_fail(s, rc, "moving an instance to another workflow definition", err);
        sqlite3_finalize(st);
        return r;
    }
    int changes = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    if (changes == 0)
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with cf_instance_list)", row->id);
    return CF_OK;
}

int cf__sqlite_timer_set_state(cf__sqlite *s, int64_t id, const char *state, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__sqlite_prepare_once(s, "UPDATE timer SET state = ?2 WHERE id = ?1", &st,
                                   "moving a timer to a renamed state", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__sqlite_bind_int(st, 1, id, &brc);
    cf__sqlite_bind_text(st, 2, state, &brc);
    return cf__sqlite_run_once(s, st, brc, "moving a timer to a renamed state", err);
}
