/*
 * mark.c — the SQLite backend's integrity mark: a database found corrupt or tampered
 * with refuses writes until a verify finds nothing wrong; the quick check at open.
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <string.h>

/* ---- the integrity mark (docs/reliability.md, "What verify proves") ----
 * A database found corrupt or tampered with keeps a row in cf_integrity_mark, so
 * every later handle refuses to append to its history until a verify finds
 * nothing wrong again. The mark is written in a transaction of its own; when the
 * file is too damaged (or read-only) to take it, only this handle refuses. */

static const char recover_advice[] =
    "restore the database from a backup; cf_engine_verify_full shows what is wrong; as a last resort, `sqlite3 "
    "DAMAGED.db .recover | sqlite3 NEW.db` salvages what can still be read";

/* Save the mark now if no transaction is open; failures are ignored (see above). */
void cf__sqlite_mark_save(cf__sqlite *s)
{
    if (!s->mark_unsaved || !sqlite3_get_autocommit(s->db))
        return;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT OR REPLACE INTO cf_integrity_mark(id, found_at, problem)"
                                " VALUES(1, CAST(strftime('%s', 'now') AS INTEGER), ?1)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, s->corrupt_why, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        s->mark_unsaved = false;
    else if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Files of at most this many pages get SQLite's quick_check at every open (about
 * 1 ms at this size, see docs/reliability.md); larger ones rely on the mark that
 * verify, or any statement meeting SQLITE_CORRUPT, leaves. */
#define OPEN_CHECK_MAX_PAGES 256

/* quick_check a small file at open; a damaged one is marked (not refused: verify
 * and the read commands still work on it). */
static void open_check(cf__sqlite *s)
{
    int pages = 0;
    if (cf__sqlite_pragma_int(s->db, "PRAGMA page_count", &pages) != SQLITE_OK || pages > OPEN_CHECK_MAX_PAGES)
        return;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    const char *line = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    /* Only damage marks: a busy or failing read says nothing about the file. */
    bool damaged = rc == SQLITE_ROW ? !line || strcmp(line, "ok") != 0
                                    : (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
    if (damaged) {
        char why[200];
        snprintf(why, sizeof why, "SQLite's quick check at open found the file damaged: %.120s",
                 line ? line : sqlite3_errstr(rc));
        for (char *p = why; *p; p++) /* its lines, on one line */
            if ((unsigned char)*p < 0x20)
                *p = ' ';
        sqlite3_finalize(st);
        st = NULL;
        cf__sqlite_mark_set(s, why);
    }
    sqlite3_finalize(st);
}

int cf__sqlite_mark_load(cf__sqlite *s, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT problem FROM cf_integrity_mark WHERE id = 1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *why = sqlite3_column_text(st, 0);
        s->corrupt = true;
        snprintf(s->corrupt_why, sizeof s->corrupt_why, "%s", why ? (const char *)why : "");
        rc = SQLITE_DONE;
    }
    int r = CF_OK;
    /* A file too damaged to read the mark is corrupt itself: cf__sqlite_fail marks it,
     * and the open goes on so that verify can say what is wrong. */
    if (rc != SQLITE_DONE && (r = cf__sqlite_fail(s, rc, "reading the integrity mark", err)) == CF_ECORRUPT) {
        err->msg[0] = '\0';
        r = CF_OK;
    }
    sqlite3_finalize(st);
    if (r == CF_OK && !s->corrupt)
        open_check(s);
    else if (r == CF_OK)
        cf__sqlite_mark_save(s);
    return r;
}

void cf__sqlite_mark_set(cf__sqlite *s, const char *problem)
{
    s->corrupt = true;
    s->mark_unsaved = true;
    snprintf(s->corrupt_why, sizeof s->corrupt_why, "%s", problem);
    cf__sqlite_mark_save(s);
}

int cf__sqlite_mark_clear(cf__sqlite *s, cf__err *err)
{
    s->corrupt = false;
    s->mark_unsaved = false;
    int marked = 0;
    int rc = cf__sqlite_pragma_int(s->db, "SELECT count(*) FROM cf_integrity_mark", &marked);
    if (rc != SQLITE_OK)
        return cf__sqlite_fail(s, rc, "reading the integrity mark", err);
    if (marked == 0) /* nothing to write: a read-only database verifies too */
        return CF_OK;
    /* A file that cannot take the write (read-only, busy) keeps its mark: the
     * verify still found it sound, and this handle writes again. */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE; DELETE FROM cf_integrity_mark; COMMIT", NULL, NULL, NULL) != SQLITE_OK &&
        !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return CF_OK;
}

bool cf__sqlite_corrupt(const cf__sqlite *s)
{
    return s->corrupt;
}

int cf__sqlite_refuse_if_corrupt(cf__sqlite *s, cf__err *err)
{
    if (!s->corrupt)
        return CF_OK;
    return cf__fail(err, CF_ECORRUPT,
                    "%s was found corrupt or tampered with (%s), so certflow no longer writes to it: %s. Once "
                    "cf_engine_verify finds nothing wrong, writing is allowed again",
                    s->path, s->corrupt_why, recover_advice);
}

