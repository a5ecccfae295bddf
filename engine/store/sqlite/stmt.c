/*
 * stmt.c — what every file of the SQLite backend runs statements with: SQLite's
 * errors mapped to certflow's codes with a message saying what to do (a full disk,
 * a file size limit, a busy or read-only database...), binding, stepping and
 * reading columns, and one statement of constant SQL.
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- errors ---- */

/* SQLite says SQLITE_FULL only for ENOSPC on a plain write. A file size limit
 * (EFBIG), a quota, or a full disk met while syncing arrive as I/O errors, and
 * its errno is gone by then: look at the limit and the free space instead. */
static int io_fail(cf__sqlite *s, int sqlite_rc, const char *what, const char *detail, const char *path, cf__err *err)
{
    struct rlimit lim;
    struct statvfs vfs;
    bool writing = sqlite_rc != SQLITE_IOERR_READ && sqlite_rc != SQLITE_IOERR_SHORT_READ;
    if (writing && getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        return cf__fail(err, CF_EFULL,
                        "%s: %s (this process may not write files larger than %llu bytes: raise the file size "
                        "limit, ulimit -f, and retry; nothing was changed)",
                        what, detail, (unsigned long long)lim.rlim_cur);
    if (writing && s && statvfs(path, &vfs) == 0 && vfs.f_bavail == 0)
        return cf__fail(err, CF_EFULL, "%s: %s (the disk holding %s is full; free space and retry; nothing was changed)",
                        what, detail, path);
    return cf__fail(err, CF_ESTORE, "%s: %s (reading or writing %s failed: the disk may be failing or over quota; "
                    "check it and retry)", what, detail, path);
}

int cf__sqlite_fail(cf__sqlite *s, int sqlite_rc, const char *what, cf__err *err)
{
    const char *detail = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlite_rc);
    const char *path = s && s->path ? s->path : "the database";
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return cf__fail(err, CF_EBUSY,
                        "%s: %s (another process held %s for more than %d ms; retry, or raise busy_timeout_ms)",
                        what, detail, path, s ? s->busy_timeout_ms : 0);
    case SQLITE_FULL:
        return cf__fail(err, CF_EFULL, "%s: disk full or database too large (%s); free space and retry; nothing was changed",
                        what, detail);
    case SQLITE_READONLY:
        return cf__fail(err, CF_EREADONLY,
                        "%s: %s (%s is read-only; make the file and its folder writable, or use a writable copy)", what,
                        detail, path);
    case SQLITE_NOMEM:
        return cf__fail(err, CF_ENOMEM, "%s: out of memory", what);
    case SQLITE_NOTADB:
        return cf__fail(err, CF_ESCHEMA, "%s: %s (%s is not a database; give cf_engine_open a certflow database or a new file)",
                        what, detail, path);
    case SQLITE_CORRUPT:
        if (s) {
            /* This handle writes no more; the mark is saved once no transaction is open. */
            s->corrupt = true;
            s->mark_unsaved = true;
            snprintf(s->corrupt_why, sizeof s->corrupt_why, "SQLite found the file malformed while %s", what);
        }
        return cf__fail(err, CF_ECORRUPT, "%s: %s (%s is damaged; restore it from a backup)", what, detail, path);
    case SQLITE_IOERR:
        return io_fail(s, sqlite_rc, what, detail, path, err);
    default:
        return cf__fail(err, CF_ESTORE, "%s: %s", what, detail);
    }
}

/* Fail with the statement's error, then reset it: the message must be read first. */
int cf__sqlite_step_fail(cf__sqlite *s, sqlite3_stmt *st, int rc, const char *what, cf__err *err)
{
    int r = cf__sqlite_fail(s, rc, what, err);
    cf__sqlite_done(st);
    return r;
}

void cf__sqlite_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Bind helpers keep the first failure in *rc so a sequence of binds is checked once. */
void cf__sqlite_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

void cf__sqlite_bind_int(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = sqlite3_bind_int64(st, i, v);
}

/* Run a statement that returns no rows; *changes (may be NULL) gets the rows changed. */
int cf__sqlite_run(cf__sqlite *s, sqlite3_stmt *st, int brc, const char *what, int *changes, cf__err *err)
{
    if (brc != SQLITE_OK)
        return cf__sqlite_step_fail(s, st, brc, what, err);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return cf__sqlite_step_fail(s, st, rc, what, err);
    if (changes)
        *changes = sqlite3_changes(s->db);
    cf__sqlite_done(st);
    return CF_OK;
}

/* cf__sqlite_run() whose message names an instance: "<what> <id>", formatted only on failure. */
int cf__sqlite_run_named(cf__sqlite *s, sqlite3_stmt *st, int brc, const char *what, const char *id, int *changes,
                     cf__err *err)
{
    int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        if (changes)
            *changes = sqlite3_changes(s->db);
        cf__sqlite_done(st);
        return CF_OK;
    }
    char named[96];
    snprintf(named, sizeof named, "%s %s", what, id);
    return cf__sqlite_step_fail(s, st, rc, named, err);
}

char *cf__sqlite_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return cf__strdup(t ? (const char *)t : "");
}

void cf__sqlite_col_id(sqlite3_stmt *st, int i, char out[37])
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, 37, "%s", t ? (const char *)t : "");
}

/* ---- constant statements ---- */

/* Run one statement of constant SQL that may return a single integer. */
int cf__sqlite_pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (out)
                *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- a database or folder that cannot be written ---- */

/* The folder part of path (malloc'd), "." when there is none. */
char *cf__sqlite_folder_of(const char *path)
{
    char *dir = cf__strdup(path);
    if (!dir)
        return NULL;
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return dir;
}

int cf__sqlite_readonly_fail(cf__sqlite *s, cf__err *err)
{
    if (faccessat(AT_FDCWD, s->path, W_OK, AT_EACCESS) != 0)
        return cf__fail(err, CF_EREADONLY,
                        "%s is read-only: certflow needs to write it; make it writable (chmod u+w) or copy it "
                        "somewhere writable",
                        s->path);
    char *dir = cf__sqlite_folder_of(s->path);
    int rc = cf__fail(err, CF_EREADONLY,
                      "the folder %s is not writable: SQLite needs to create %s-wal and %s-shm beside the database; "
                      "make the folder writable or move the database somewhere writable",
                      dir ? dir : "of the database", s->path, s->path);
    free(dir);
    return rc;
}
