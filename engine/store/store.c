/*
 * store.c — certflow's SQLite database: opening and identifying the file, the
 * schema and its forward migrations, the prepared statements, and transactions.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* 'CFLW': marks a file as certflow's, so we never migrate somebody else's database. */
#define CF__APPLICATION_ID 0x43464C57

/* Schema migrations: migrations[i] takes the schema from version i to i + 1.
 * Each runs in its own transaction together with the user_version bump.
 * To change the schema, append one step; never edit a step that has shipped. */
static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE workflow_def("
    "  hash TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  first_seen INTEGER NOT NULL);"
    "CREATE TABLE instance("
    "  id TEXT PRIMARY KEY,"
    "  workflow TEXT NOT NULL,"
    "  def_hash TEXT NOT NULL REFERENCES workflow_def(hash),"
    "  county TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  data TEXT NOT NULL CHECK(json_valid(data)),"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  version INTEGER NOT NULL);"
    "CREATE INDEX instance_by_workflow ON instance(workflow, state, county);"
    "CREATE INDEX instance_by_county ON instance(county);"
    "CREATE TABLE history("
    "  seq INTEGER PRIMARY KEY,"
    "  instance_id TEXT NOT NULL REFERENCES instance(id),"
    "  number INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  effective_at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  outcome TEXT NOT NULL CHECK(outcome IN ('created','applied','rejected')),"
    "  from_state TEXT NOT NULL,"
    "  to_state TEXT NOT NULL,"
    "  reasons TEXT NOT NULL,"
    "  policy_hash TEXT NOT NULL,"
    "  def_hash TEXT NOT NULL,"
    "  idem_key TEXT,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
    "CREATE UNIQUE INDEX history_by_key ON history(instance_id, idem_key) WHERE idem_key IS NOT NULL;"
    "CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
    "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
    "CREATE TRIGGER history_no_delete BEFORE DELETE ON history"
    "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
    "CREATE TABLE timer("
    "  id INTEGER PRIMARY KEY,"
    "  instance_id TEXT NOT NULL REFERENCES instance(id),"
    "  state TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  due INTEGER NOT NULL);"
    "CREATE INDEX timer_by_due ON timer(due, id);"
    "CREATE INDEX timer_by_state ON timer(instance_id, state);"
    "CREATE TABLE outbox("
    "  id INTEGER PRIMARY KEY,"
    "  source_id TEXT NOT NULL,"
    "  target_id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);",
    /* 2: county overlays installed by cf_policy_apply, kept by the policy hash
     * (state policy + overlay) that history rows record; history by effective
     * time, for reports over a period (cf_history_between) */
    "CREATE INDEX history_by_time ON history(effective_at);"
    "CREATE TABLE policy_text("
    "  hash TEXT PRIMARY KEY,"
    "  county TEXT NOT NULL,"
    "  overlay_hash TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  applied_at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL);",
    /* 3: runaway chains (timer.c): a queued linked event, and a timer due no later
     * than the transition that scheduled it, carry the chain they belong to (the
     * instance and history number of the event that started it) and how many
     * linked events and immediately due timers that chain has caused so far */
    "ALTER TABLE outbox ADD COLUMN chain_root TEXT;"
    "ALTER TABLE outbox ADD COLUMN chain_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE timer ADD COLUMN chain_root TEXT;"
    "ALTER TABLE timer ADD COLUMN chain_count INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX outbox_by_chain ON outbox(chain_root) WHERE chain_root IS NOT NULL;",
    /* 4: what each history row leaves behind, for verify (store_history.c): the SHA-256 of
     * the instance's data and of its pending timers after the row (NULL on rows
     * written before this version); and the mark that refuses writing to a
     * database found corrupt or tampered with (cf__store_mark_set) */
    "ALTER TABLE history ADD COLUMN data_hash TEXT;"
    "ALTER TABLE history ADD COLUMN timers_hash TEXT;"
    "CREATE TABLE cf_integrity_mark("
    "  id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  found_at INTEGER NOT NULL,"
    "  problem TEXT NOT NULL);",
    /* 5: the log of applied county policy changes (cf_policy_apply, cf_policy_log): one row
     * per apply, kept even when the change moved nobody */
    "CREATE TABLE policy_change("
    "  seq INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  county TEXT NOT NULL,"
    "  overlay_hash TEXT NOT NULL,"
    "  old_policy_hash TEXT NOT NULL,"
    "  new_policy_hash TEXT NOT NULL,"
    "  applies_to TEXT NOT NULL CHECK(applies_to IN ('all','new')),"
    "  instances INTEGER NOT NULL,"
    "  params TEXT NOT NULL CHECK(json_valid(params)));"
    "CREATE INDEX policy_change_by_county ON policy_change(county, seq);",
    /* 6: the schema version each plugin's own migrations reached (store_plugin.c).
     * Before this version the plugin host created the table itself when a plugin
     * first declared migrations, so a database at 5 may already hold it. */
    "CREATE TABLE IF NOT EXISTS plugin_schema("
    "  plugin TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  migrated_at INTEGER NOT NULL);",
    /* 7: the API tokens of certflow serve (store_tokens.c): only the SHA-256 of
     * each secret is kept; revoked tokens stay, marked, so their names stay taken. */
    "CREATE TABLE IF NOT EXISTS cf_api_token("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK(role IN ('admin','county','integration')),"
    "  county TEXT,"
    "  secret_hash TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  expires_at INTEGER,"
    "  revoked_at INTEGER,"
    "  revoked_by TEXT);",
};

#define CF__SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* The statements store.c prepares at open; indexes into cf__store.stmt. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_DEF_PUT,
    ST_DEF_GET,
    ST_INST_INSERT,
    ST_INST_GET,
    ST_INST_UPDATE,
    ST_INST_LIST,
    ST_TIMER_ADD,
    ST_TIMER_CANCEL,
    ST_TIMER_NEXT,
    ST_TIMER_DELETE,
    ST_TIMER_LIST,
    ST_OUTBOX_ADD,
    ST_OUTBOX_NEXT,
    ST_OUTBOX_DELETE,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_INST_NEXT_SERIAL,
    ST_DEF_EXISTS,
    ST_OUTBOX_CHAIN,
    ST_COUNT
};

_Static_assert(ST_COUNT == CF__STORE_NSTMT, "set CF__STORE_NSTMT to ST_COUNT in store_private.h");

#define INSTANCE_COLS "id, workflow, def_hash, county, state, data, created_at, updated_at, version"

static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_DEF_PUT] = "INSERT OR IGNORE INTO workflow_def(hash, name, source, first_seen) VALUES(?1, ?2, ?3, ?4)",
    [ST_DEF_GET] = "SELECT name, source FROM workflow_def WHERE hash = ?1",
    [ST_INST_INSERT] = "INSERT INTO instance(rowid, " INSTANCE_COLS ") VALUES(?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_DEF_EXISTS] = "SELECT 1 FROM workflow_def WHERE hash = ?1",
    [ST_INST_NEXT_SERIAL] = "SELECT coalesce(max(rowid), 0) + 1 FROM instance",
    [ST_INST_GET] = "SELECT " INSTANCE_COLS ", rowid FROM instance WHERE id = ?1",
    [ST_INST_UPDATE] = "UPDATE instance SET state = ?2, data = ?3, updated_at = ?4, version = ?5 WHERE id = ?1",
    [ST_INST_LIST] = "SELECT " INSTANCE_COLS ", rowid FROM instance"
                     " WHERE (?1 IS NULL OR workflow = ?1)"
                     /* a parent state matches its descendants: "certified" finds "certified.active" */
                     " AND (?2 IS NULL OR state = ?2 OR substr(state, 1, length(?2) + 1) = ?2 || '.')"
                     " AND (?3 IS NULL OR county = ?3) ORDER BY created_at, rowid",
    [ST_TIMER_ADD] = "INSERT INTO timer(instance_id, state, name, event, due, chain_root, chain_count)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, 0))",
    [ST_TIMER_CANCEL] = "DELETE FROM timer WHERE instance_id = ?1 AND state = ?2",
    [ST_TIMER_NEXT] = "SELECT id, instance_id, state, name, event, due, chain_root, chain_count FROM timer"
                      " WHERE due <= ?1 ORDER BY due, id LIMIT 1",
    [ST_TIMER_DELETE] = "DELETE FROM timer WHERE id = ?1",
    [ST_TIMER_LIST] = "SELECT t.id, t.instance_id, t.state, t.name, t.event, t.due, i.workflow, i.county"
                      " FROM timer t JOIN instance i ON i.id = t.instance_id"
                      " WHERE t.due >= ?1 AND t.due <= ?2 ORDER BY t.due, t.id",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(source_id, target_id, event, data, created_at, chain_root)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_OUTBOX_NEXT] = "SELECT id, source_id, target_id, event, data, chain_root, chain_count FROM outbox"
                       " ORDER BY id LIMIT 1",
    [ST_OUTBOX_CHAIN] = "UPDATE outbox SET chain_count = max(chain_count, ?2) WHERE chain_root = ?1",
    [ST_OUTBOX_DELETE] = "DELETE FROM outbox WHERE id = ?1",
    [ST_SAVEPOINT] = "SAVEPOINT cf_call",
    [ST_RELEASE] = "RELEASE cf_call",
    [ST_ROLLBACK_TO] = "ROLLBACK TO cf_call",
};

/* Save the integrity mark when no transaction is open (see the end of this file). */
static void mark_save(cf__store *s);

/* ---- errors ---- */

/* SQLite says SQLITE_FULL only for ENOSPC on a plain write. A file size limit
 * (EFBIG), a quota, or a full disk met while syncing arrive as I/O errors, and
 * its errno is gone by then: look at the limit and the free space instead. */
static int io_fail(cf__store *s, int sqlite_rc, const char *what, const char *detail, const char *path, cf__err *err)
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

int cf__store_fail(cf__store *s, int sqlite_rc, const char *what, cf__err *err)
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
        return cf__fail(err, CF_ESCHEMA, "%s: %s (%s is not a database; point --db at a certflow database or a new file)",
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
static int step_fail(cf__store *s, sqlite3_stmt *st, int rc, const char *what, cf__err *err)
{
    int r = cf__store_fail(s, rc, what, err);
    cf__store_done(st);
    return r;
}

void cf__store_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Bind helpers keep the first failure in *rc so a sequence of binds is checked once. */
void cf__store_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

void cf__store_bind_int(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = sqlite3_bind_int64(st, i, v);
}

/* Run a statement that returns no rows; *changes (may be NULL) gets the rows changed. */
static int run(cf__store *s, sqlite3_stmt *st, int brc, const char *what, int *changes, cf__err *err)
{
    if (brc != SQLITE_OK)
        return step_fail(s, st, brc, what, err);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return step_fail(s, st, rc, what, err);
    if (changes)
        *changes = sqlite3_changes(s->db);
    cf__store_done(st);
    return CF_OK;
}

/* run() whose message names an instance: "<what> <id>", formatted only on failure. */
static int run_named(cf__store *s, sqlite3_stmt *st, int brc, const char *what, const char *id, int *changes,
                     cf__err *err)
{
    int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        if (changes)
            *changes = sqlite3_changes(s->db);
        cf__store_done(st);
        return CF_OK;
    }
    char named[96];
    snprintf(named, sizeof named, "%s %s", what, id);
    return step_fail(s, st, rc, named, err);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return cf__strdup(t ? (const char *)t : "");
}

static void col_id(sqlite3_stmt *st, int i, char out[37])
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, 37, "%s", t ? (const char *)t : "");
}

/* ---- open and close ---- */

/* Run one statement of constant SQL that may return a single integer. */
static int pragma_int(sqlite3 *db, const char *sql, int *out)
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

/* The folder part of path (malloc'd), "." when there is none. */
static char *folder_of(const char *path)
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

/* When path does not exist and its folder cannot be written, why (EACCES, EROFS);
 * otherwise sys unchanged. */
static int folder_errno(const char *path, int sys)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return sys;
    char *dir = folder_of(path);
    if (!dir)
        return sys;
    /* AT_EACCESS: judge by the effective ids, as open() does. */
    if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) != 0 && (errno == EACCES || errno == EROFS))
        sys = errno;
    free(dir);
    return sys;
}

/* Explain why an existing database cannot be written: the file, or its folder
 * (a WAL database needs <path>-wal and <path>-shm beside it). */
static int readonly_fail(cf__store *s, cf__err *err)
{
    if (faccessat(AT_FDCWD, s->path, W_OK, AT_EACCESS) != 0)
        return cf__fail(err, CF_EREADONLY,
                        "%s is read-only: certflow needs to write it; make it writable (chmod u+w) or copy it "
                        "somewhere writable",
                        s->path);
    char *dir = folder_of(s->path);
    int rc = cf__fail(err, CF_EREADONLY,
                      "the folder %s is not writable: SQLite needs to create %s-wal and %s-shm beside the database; "
                      "make the folder writable or move the database somewhere writable",
                      dir ? dir : "of the database", s->path, s->path);
    free(dir);
    return rc;
}

/* The tables each schema version must have (NULL-terminated; version v has the
 * tables of every version up to v). */
static const char *const version_tables[][7] = {
    {NULL},
    {"workflow_def", "instance", "history", "timer", "outbox", NULL},
    {"policy_text", NULL},
    {NULL}, /* 3: columns of outbox and timer only */
    {"cf_integrity_mark", NULL},
    {"policy_change", NULL},
    {"plugin_schema", NULL},
    {"cf_api_token", NULL},
};

_Static_assert(sizeof version_tables / sizeof version_tables[0] == CF__SCHEMA_VERSION + 1,
               "list the tables of each new schema version in version_tables");

/* The first table schema `version` needs that the file lacks, into *missing (NULL if none). */
static int missing_table(sqlite3 *db, int version, const char **missing)
{
    *missing = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st,
                                NULL);
    for (int v = 1; rc == SQLITE_OK && v <= version && !*missing; v++) {
        for (int i = 0; rc == SQLITE_OK && version_tables[v][i] && !*missing; i++) {
            rc = sqlite3_bind_text(st, 1, version_tables[v][i], -1, SQLITE_STATIC);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                if (sqlite3_column_int(st, 0) == 0)
                    *missing = version_tables[v][i];
                rc = SQLITE_OK;
            }
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Refuse files that are not ours, too new, or at a version this program does not
 * know, before anything writes to them. */
static int identify(cf__store *s, int *version, cf__err *err)
{
    int tables = 0, app_id = 0;
    *version = 0;
    int rc = pragma_int(s->db, "SELECT count(*) FROM sqlite_master", &tables);
    if (rc == SQLITE_OK)
        rc = pragma_int(s->db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = pragma_int(s->db, "PRAGMA user_version", version);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return cf__fail(err, CF_ESCHEMA,
                        "%s is not an SQLite database (%s); point --db at a certflow database or a new file", s->path,
                        sqlite3_errmsg(s->db));
    if (s->read_only && ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN))
        return cf__fail(err, CF_EREADONLY,
                        "cannot read %s: %s (%s-wal exists, so a process is using the database or one stopped "
                        "before checkpointing, and SQLite cannot create %s-shm beside it; read it while that folder "
                        "is writable, or copy the database with its -wal file somewhere writable)",
                        s->path, sqlite3_errmsg(s->db), s->path, s->path);
    if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN)
        return readonly_fail(s, err);
    if (rc != SQLITE_OK)
        return cf__store_fail(s, rc, "reading the database header", err);
    if (app_id != CF__APPLICATION_ID && (tables > 0 || app_id != 0 || *version != 0))
        return cf__fail(err, CF_ESCHEMA,
                        "%s is not a certflow database (application_id 0x%08X, expected 0x%08X; user_version %d); "
                        "point --db at a certflow database or a new file",
                        s->path, (unsigned)app_id, (unsigned)CF__APPLICATION_ID, *version);
    if (*version < 0)
        return cf__fail(err, CF_ESCHEMA,
                        "%s has schema version %d, which no certflow writes: the file was changed by another "
                        "program; nothing was changed: restore it from a backup",
                        s->path, *version);
    if (*version > CF__SCHEMA_VERSION)
        return cf__fail(err, CF_ESCHEMA,
                        "%s was written by a newer certflow (schema %d; this build knows up to %d): upgrade certflow",
                        s->path, *version, CF__SCHEMA_VERSION);
    if (*version == 0 && tables > 0)
        return cf__fail(err, CF_ESCHEMA,
                        "%s is marked as certflow's but has %d schema object%s and no schema version: the file was "
                        "changed by another program; nothing was changed: restore it from a backup",
                        s->path, tables, tables == 1 ? "" : "s");
    const char *missing = NULL;
    rc = missing_table(s->db, *version, &missing);
    if (rc != SQLITE_OK)
        return cf__store_fail(s, rc, "reading the database schema", err);
    if (missing)
        return cf__fail(err, CF_ESCHEMA,
                        "%s is at certflow schema version %d but has no table '%s': the file was changed by another "
                        "program; nothing was changed: restore it from a backup",
                        s->path, *version, missing);
    if (s->read_only) {
        if (*version < CF__SCHEMA_VERSION)
            return cf__fail(err, CF_EREADONLY,
                            "%s %s, and a database opened read-only cannot be migrated: open it once where it is "
                            "writable (any certflow command that writes), or read a migrated copy",
                            s->path, *version == 0 ? "holds no certflow schema yet" : "needs its schema migrated");
        return CF_OK;
    }
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return readonly_fail(s, err);
    return CF_OK;
}

/* Apply the missing migrations, each in its own transaction. The version is read
 * again inside the transaction, so two processes opening a new file at once are safe. */
static int migrate(cf__store *s, cf__err *err)
{
    for (;;) {
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return cf__store_fail(s, rc, "starting the schema migration", err);
        int version = 0;
        rc = pragma_int(s->db, "PRAGMA user_version", &version);
        if (rc != SQLITE_OK || version >= CF__SCHEMA_VERSION) {
            int r = CF_OK;
            if (rc != SQLITE_OK)
                r = cf__store_fail(s, rc, "reading the schema version", err);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
        if (version < 0) { /* changed by another program since identify() looked */
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return cf__fail(err, CF_ESCHEMA,
                            "%s has schema version %d, which no certflow writes: the file was changed by another "
                            "program; nothing was changed: restore it from a backup",
                            s->path, version);
        }
        char bump[96];
        /* Both values are our own integers: nothing here comes from data. */
        snprintf(bump, sizeof bump, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 CF__APPLICATION_ID, version + 1);
        rc = sqlite3_exec(s->db, migrations[version], NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, bump, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof what, "migrating the schema to version %d", version + 1);
            int r = cf__store_fail(s, rc, what, err);
            if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
    }
}

static int configure(cf__store *s, cf__err *err)
{
    /* WAL lets readers run while one process writes; ":memory:" answers "memory".
     * A read-only store keeps the mode the file has: switching is a write. */
    int rc = s->read_only ? SQLITE_OK : sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        /* temp_store=MEMORY keeps the statement journals of a batch's per-fire
         * savepoints in memory: on disk they doubled the writes of a batched fire. */
        rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY",
                          NULL, NULL, NULL);
    if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY)
        return readonly_fail(s, err);
    if (rc != SQLITE_OK)
        return cf__store_fail(s, rc, "setting up the database", err);
    return CF_OK;
}

/* The history's statements, which store_history.c runs (prepared here with the others, so
 * that the history needs nothing of store.c but its handle). */
#define HISTORY_COLS                                                                                  \
    "seq, number, instance_id, at, effective_at, actor, event, data, outcome, from_state, to_state, " \
    "reasons, policy_hash, def_hash, idem_key, prev_hash, hash, data_hash, timers_hash"

static const char *const audit_sql[CF__AUDIT_NSTMT] = {
    [CF__AUDIT_LAST] = "SELECT seq, hash FROM history ORDER BY seq DESC LIMIT 1",
    [CF__AUDIT_INSERT] = "INSERT INTO history(" HISTORY_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                         " ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    [CF__AUDIT_FIND_KEY] = "SELECT " HISTORY_COLS " FROM history WHERE instance_id = ?1 AND idem_key = ?2",
    [CF__AUDIT_EACH] = "SELECT " HISTORY_COLS " FROM history WHERE instance_id = ?1 ORDER BY seq",
    [CF__AUDIT_ALL] = "SELECT " HISTORY_COLS " FROM history ORDER BY seq",
    [CF__AUDIT_TIMERS] = "SELECT state, name, event, due FROM timer WHERE instance_id = ?1 ORDER BY state, id",
    [CF__AUDIT_AT] = "SELECT seq, to_state, data_hash FROM history WHERE instance_id = ?1 AND number = ?2",
};

static int prepare_all(cf__store *s, cf__err *err)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
        if (rc != SQLITE_OK)
            return cf__store_fail(s, rc, "preparing the store's statements", err);
    }
    for (int i = 0; i < CF__AUDIT_NSTMT; i++) {
        int rc = sqlite3_prepare_v3(s->db, audit_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->audit[i], NULL);
        if (rc != SQLITE_OK)
            return cf__store_fail(s, rc, "preparing the history's statements", err);
    }
    return CF_OK;
}

/* path as an SQLite URI: every byte but the unreserved ones and '/' percent-encoded. */
static char *path_uri(const char *path, const char *query)
{
    size_t n = strlen(path);
    char *uri = malloc(8 + 3 * n + strlen(query) + 1);
    if (!uri)
        return NULL;
    /* "file://" + an absolute path has an empty authority; a relative one has none. */
    size_t o = (size_t)sprintf(uri, path[0] == '/' ? "file://" : "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("/-._~", c))
            uri[o++] = (char)c;
        else
            o += (size_t)sprintf(uri + o, "%%%02X", c);
    }
    strcpy(uri + o, query);
    return uri;
}

static bool exists_with_suffix(const char *path, const char *suffix)
{
    char name[4200];
    struct stat st;
    return (size_t)snprintf(name, sizeof name, "%s%s", path, suffix) < sizeof name && lstat(name, &st) == 0;
}

/* Open the connection of a read-only store. With no -wal beside the file no process
 * has the database open, and it is read as immutable: SQLite then creates neither
 * -wal nor -shm and takes no lock. With a -wal, the WAL's content must be read
 * through the -shm index: plain read-only mode. */
static int connect_read_only(cf__store *s, cf__err *err)
{
    const char *path = s->path;
    struct stat st;
    if (stat(path, &st) != 0)
        return cf__fail(err, CF_EIO,
                        "cannot read %s: %s (a read-only open never creates a database: check the path)", path,
                        strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cf__fail(err, CF_EIO, "cannot read %s: it is not a regular file (point --db at a certflow database)",
                        path);
    if (exists_with_suffix(path, "-journal"))
        return cf__fail(err, CF_EREADONLY,
                        "cannot read %s read-only: %s-journal holds an interrupted write that must be rolled back "
                        "first; open it once where it is writable",
                        path, path);
    bool wal = exists_with_suffix(path, "-wal");
    char *uri = path_uri(path, wal ? "?mode=ro" : "?mode=ro&immutable=1");
    if (!uri)
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    int rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (rc == SQLITE_OK)
        return CF_OK;
    if (!s->db)
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    int sys = sqlite3_system_errno(s->db);
    return cf__fail(err, CF_EIO, "cannot read %s: %s%s%s", path, sqlite3_errmsg(s->db), sys ? ": " : "",
                    sys ? strerror(sys) : "");
}

static int connect_read_write(cf__store *s, cf__err *err)
{
    const char *path = s->path;
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        return CF_OK;
    int sys = s->db ? sqlite3_system_errno(s->db) : 0;
    /* SQLite retries read-only after EACCES, so its errno may say ENOENT: ask the folder. */
    if (sys == ENOENT)
        sys = folder_errno(path, sys);
    if (!s->db)
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    if (sys == EACCES || sys == EROFS || sys == EPERM)
        return cf__fail(err, CF_EREADONLY,
                        "cannot create or open %s: %s (%s); make the folder writable or choose another path", path,
                        sqlite3_errmsg(s->db), strerror(sys));
    return cf__fail(err, CF_EIO, "cannot open %s: %s%s%s (check that its folder exists)", path, sqlite3_errmsg(s->db),
                    sys ? ": " : "", sys ? strerror(sys) : "");
}

static int open_store(const char *path, int busy_timeout_ms, bool read_only, cf__store **out, cf__err *err)
{
    *out = NULL;
    if (!path || !*path)
        return cf__fail(err, CF_EINVAL, "no database path given (use a file name, or \":memory:\")");
    cf__store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = cf__strdup(path))) {
        free(s);
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    }
    s->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : 5000;
    s->read_only = read_only;
    int r = read_only ? connect_read_only(s, err) : connect_read_write(s, err);
    /* SQLite fell back to reading a file it may not write. Refuse before reading
     * anything: reading a WAL database would create -wal and -shm it cannot remove. */
    if (r == CF_OK && !read_only && sqlite3_db_readonly(s->db, "main") == 1)
        r = readonly_fail(s, err);
    if (r == CF_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
        int version = 0;
        r = identify(s, &version, err);
        if (r == CF_OK)
            r = configure(s, err);
        if (r == CF_OK && version < CF__SCHEMA_VERSION)
            r = migrate(s, err);
        if (r == CF_OK)
            r = prepare_all(s, err);
    }
    if (r != CF_OK) {
        cf__store_close(s);
        return r;
    }
    *out = s;
    return CF_OK;
}

int cf__store_open(const char *path, int busy_timeout_ms, cf__store **out, cf__err *err)
{
    return open_store(path, busy_timeout_ms, false, out, err);
}

int cf__store_open_read_only(const char *path, int busy_timeout_ms, cf__store **out, cf__err *err)
{
    return open_store(path, busy_timeout_ms, true, out, err);
}

bool cf__store_read_only(const cf__store *s)
{
    return s && s->read_only;
}

const char *cf__store_path(const cf__store *s)
{
    return s->path;
}

void cf__store_close(cf__store *s)
{
    if (!s)
        return;
    cf__store_watch_forget(s); /* the update hook goes with the connection */
    for (int i = 0; i < CF__STORE_NSTMT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (int i = 0; i < CF__AUDIT_NSTMT; i++)
        sqlite3_finalize(s->audit[i]);
    if (s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->db && s->mark_unsaved)
        mark_save(s);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

sqlite3 *cf__store_db(cf__store *s)
{
    return s->db;
}

int cf__store_set_synchronous(cf__store *s, int level, cf__err *err)
{
    /* Our own constant text: nothing here comes from data. */
    const char *sql = level == CF_SYNC_FULL ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? CF_OK : cf__store_fail(s, rc, "setting options.synchronous", err);
}

/* ---- transactions ---- */

/* Step one of the transaction statements; CF_OK or a message naming `what`. */
static int step_txn(cf__store *s, int which, const char *what, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[which];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__store_done(st);
        return CF_OK;
    }
    return step_fail(s, st, rc, what, err);
}

/* SQLite rolls the whole transaction back by itself after some errors (a full
 * disk, an I/O error): a batch then has nothing left to add to or commit. */
static int batch_lost(cf__err *err)
{
    return cf__fail(err, CF_ESTORE,
                    "the batch's transaction was rolled back by the database after an earlier error (a full disk "
                    "or an I/O error): nothing done in the batch was applied; call cf_batch_rollback and run the "
                    "batch again");
}

static int begin_immediate(cf__store *s, cf__err *err)
{
    if (s->read_only)
        return cf__fail(err, CF_EREADONLY,
                        "%s was opened read-only (options.read_only): nothing can be changed through this handle; "
                        "open it without read_only, where the file and its folder are writable",
                        s->path);
    s->last_known = false; /* another process may have appended since our last transaction */
    sqlite3_stmt *st = s->stmt[ST_BEGIN];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__store_done(st);
        return CF_OK;
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        cf__store_done(st);
        return cf__fail(err, CF_EBUSY,
                        "database is locked by another process for more than %d ms; retry, or raise busy_timeout_ms",
                        s->busy_timeout_ms);
    }
    return step_fail(s, st, rc, "starting a transaction", err);
}

int cf__store_begin(cf__store *s, cf__err *err)
{
    if (!s->batch)
        return begin_immediate(s, err);
    if (sqlite3_get_autocommit(s->db))
        return batch_lost(err);
    return step_txn(s, ST_SAVEPOINT, "starting a savepoint in the batch", err);
}

int cf__store_commit(cf__store *s, cf__err *err)
{
    if (s->batch) {
        int r = step_txn(s, ST_RELEASE, "releasing a savepoint in the batch", err);
        if (r != CF_OK)
            cf__store_rollback(s);
        return r;
    }
    s->last_known = false; /* once committed, other handles may append */
    sqlite3_stmt *st = s->stmt[ST_COMMIT];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__store_done(st);
        return CF_OK;
    }
    int r = step_fail(s, st, rc, "committing", err);
    /* A failed COMMIT can leave the transaction open: undo it so nothing half-done stays. */
    cf__store_rollback(s);
    return r;
}

int cf__store_begin_read(cf__store *s, cf__err *err)
{
    if (!s->read_only)
        return cf__store_begin(s, err);
    s->last_known = false;
    /* A deferred BEGIN: our own constant text. */
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    return rc == SQLITE_OK ? CF_OK : cf__store_fail(s, rc, "starting a read transaction", err);
}

void cf__store_rollback(cf__store *s)
{
    if (!s)
        return;
    s->last_known = false; /* the rows appended since are gone */
    if (sqlite3_get_autocommit(s->db))
        return;
    if (s->batch) {
        /* Undo this call's work and drop its savepoint; the batch goes on. */
        cf__err ignored;
        step_txn(s, ST_ROLLBACK_TO, "rolling back a savepoint", &ignored);
        step_txn(s, ST_RELEASE, "releasing a savepoint", &ignored);
        return;
    }
    sqlite3_stmt *st = s->stmt[ST_ROLLBACK];
    sqlite3_step(st);
    cf__store_done(st);
    if (s->mark_unsaved)
        mark_save(s);
}

bool cf__store_in_batch(const cf__store *s)
{
    return s->batch != 0;
}

int cf__store_batch_begin(cf__store *s, cf__err *err)
{
    if (s->batch)
        return cf__fail(err, CF_EINVAL, "a batch is already open on this engine (batches do not nest)");
    int rc = begin_immediate(s, err);
    if (rc == CF_OK)
        s->batch = 1;
    return rc;
}

int cf__store_batch_commit(cf__store *s, cf__err *err)
{
    if (!s->batch)
        return cf__fail(err, CF_EINVAL, "no batch is open on this engine (start one with cf_batch_begin)");
    s->batch = 0;
    if (sqlite3_get_autocommit(s->db)) {
        s->last_known = false;
        mark_save(s);
        return batch_lost(err);
    }
    int r = cf__store_commit(s, err);
    if (s->mark_unsaved) /* found inside the batch (a savepoint rolled back) */
        mark_save(s);
    return r;
}

int cf__store_batch_rollback(cf__store *s, cf__err *err)
{
    if (!s->batch)
        return cf__fail(err, CF_EINVAL, "no batch is open on this engine (start one with cf_batch_begin)");
    s->batch = 0;
    cf__store_rollback(s); /* saves a mark found inside the batch */
    return CF_OK;
}

/* ---- workflow definitions ---- */

int cf__store_def_put(cf__store *s, const char *hash, const char *name, const char *source, cf_time now,
                      cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_DEF_PUT];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, hash, &brc);
    cf__store_bind_text(st, 2, name, &brc);
    cf__store_bind_text(st, 3, source, &brc);
    cf__store_bind_int(st, 4, now, &brc);
    return run(s, st, brc, "storing a workflow definition", NULL, err);
}

int cf__store_def_get(cf__store *s, const char *hash, char **name, char **source, cf__err *err)
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
        cf__store_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no stored workflow definition with hash %s", hash);
    }
    if (rc != SQLITE_ROW)
        return step_fail(s, st, rc, "reading a workflow definition", err);
    char *n = name ? col_dup(st, 0) : NULL;
    char *src = source ? col_dup(st, 1) : NULL;
    cf__store_done(st);
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

void cf__instance_row_clear(cf__instance_row *row)
{
    free(row->workflow);
    free(row->def_hash);
    free(row->county);
    free(row->state);
    free(row->data);
    row->workflow = row->def_hash = row->county = row->state = row->data = NULL;
}

int cf__store_instance_insert(cf__store *s, const cf__instance_row *row, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_INSERT];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, row->id, &brc);
    cf__store_bind_text(st, 2, row->workflow, &brc);
    cf__store_bind_text(st, 3, row->def_hash, &brc);
    cf__store_bind_text(st, 4, row->county, &brc);
    cf__store_bind_text(st, 5, row->state, &brc);
    cf__store_bind_text(st, 6, row->data, &brc);
    cf__store_bind_int(st, 7, row->created_at, &brc);
    cf__store_bind_int(st, 8, row->updated_at, &brc);
    cf__store_bind_int(st, 9, row->version, &brc);
    if (row->serial > 0)
        cf__store_bind_int(st, 10, row->serial, &brc);
    else if (brc == SQLITE_OK)
        brc = sqlite3_bind_null(st, 10); /* numbered by SQLite: max + 1 */
    return run_named(s, st, brc, "storing instance", row->id, NULL, err);
}

int cf__store_def_exists(cf__store *s, const char *hash, bool *exists, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_DEF_EXISTS];
    int rc = sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return step_fail(s, st, rc, "looking up a workflow definition", err);
    *exists = rc == SQLITE_ROW;
    cf__store_done(st);
    return CF_OK;
}

int cf__store_next_serial(cf__store *s, int64_t *serial, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_NEXT_SERIAL];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return step_fail(s, st, rc, "numbering a new instance", err);
    *serial = sqlite3_column_int64(st, 0);
    cf__store_done(st);
    return CF_OK;
}

/* Fill row from an instance_get/instance_list result, pointing into the statement. */
static void instance_borrow(sqlite3_stmt *st, cf__instance_row *row)
{
    col_id(st, 0, row->id);
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

int cf__store_instance_get(cf__store *s, const char *id, cf__instance_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row); /* safe to clear whatever happens */
    sqlite3_stmt *st = s->stmt[ST_INST_GET];
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__store_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with `certflow list`)", id);
    }
    if (rc != SQLITE_ROW)
        return step_fail(s, st, rc, "reading an instance", err);
    col_id(st, 0, row->id);
    row->workflow = col_dup(st, 1);
    row->def_hash = col_dup(st, 2);
    row->county = col_dup(st, 3);
    row->state = col_dup(st, 4);
    row->data = col_dup(st, 5);
    row->created_at = sqlite3_column_int64(st, 6);
    row->updated_at = sqlite3_column_int64(st, 7);
    row->version = sqlite3_column_int64(st, 8);
    row->serial = sqlite3_column_int64(st, 9);
    cf__store_done(st);
    if (!row->workflow || !row->def_hash || !row->county || !row->state || !row->data) {
        cf__instance_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading instance %s", id);
    }
    return CF_OK;
}

int cf__store_instance_update(cf__store *s, const cf__instance_row *row, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_UPDATE];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, row->id, &brc);
    cf__store_bind_text(st, 2, row->state, &brc);
    cf__store_bind_text(st, 3, row->data, &brc);
    cf__store_bind_int(st, 4, row->updated_at, &brc);
    cf__store_bind_int(st, 5, row->version, &brc);
    int changes = 0;
    int r = run_named(s, st, brc, "updating instance", row->id, &changes, err);
    if (r == CF_OK && changes == 0)
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with `certflow list`)", row->id);
    return r;
}

int cf__store_instance_list(cf__store *s, const char *workflow, const char *state, const char *county,
                            cf__instance_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_INST_LIST];
    int rc = SQLITE_OK;
    cf__store_bind_text(st, 1, workflow, &rc);
    cf__store_bind_text(st, 2, state, &rc);
    cf__store_bind_text(st, 3, county, &rc);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__instance_row row;
        instance_borrow(st, &row);
        if (fn(ud, &row) != 0)
            rc = SQLITE_DONE;
        else
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return step_fail(s, st, rc, "listing instances", err);
    cf__store_done(st);
    return CF_OK;
}

/* ---- timers ---- */

void cf__timer_row_clear(cf__timer_row *row)
{
    free(row->state);
    free(row->name);
    free(row->event);
    free(row->chain_root);
    row->state = row->name = row->event = row->chain_root = NULL;
}

int cf__store_timer_add(cf__store *s, const char *instance_id, const char *state, const char *name,
                        const char *event, cf_time due, cf__err *err)
{
    return cf__store_timer_add_chain(s, instance_id, state, name, event, due, NULL, 0, err);
}

int cf__store_timer_add_chain(cf__store *s, const char *instance_id, const char *state, const char *name,
                              const char *event, cf_time due, const char *chain_root, int64_t chain_count,
                              cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_ADD];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, instance_id, &brc);
    cf__store_bind_text(st, 2, state, &brc);
    cf__store_bind_text(st, 3, name, &brc);
    cf__store_bind_text(st, 4, event, &brc);
    cf__store_bind_int(st, 5, due, &brc);
    if (chain_root) {
        cf__store_bind_text(st, 6, chain_root, &brc);
        cf__store_bind_int(st, 7, chain_count, &brc);
    }
    return run(s, st, brc, "scheduling a timer", NULL, err);
}

int cf__store_timer_cancel(cf__store *s, const char *instance_id, const char *state, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_CANCEL];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, instance_id, &brc);
    cf__store_bind_text(st, 2, state, &brc);
    return run(s, st, brc, "cancelling timers", NULL, err);
}

int cf__store_timer_next(cf__store *s, cf_time now, cf__timer_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row); /* safe to clear whatever happens */
    sqlite3_stmt *st = s->stmt[ST_TIMER_NEXT];
    int rc = sqlite3_bind_int64(st, 1, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__store_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no timer is due");
    }
    if (rc != SQLITE_ROW)
        return step_fail(s, st, rc, "reading the next timer", err);
    row->id = sqlite3_column_int64(st, 0);
    col_id(st, 1, row->instance_id);
    row->state = col_dup(st, 2);
    row->name = col_dup(st, 3);
    row->event = col_dup(st, 4);
    row->due = sqlite3_column_int64(st, 5);
    bool rooted = sqlite3_column_type(st, 6) != SQLITE_NULL;
    row->chain_root = rooted ? col_dup(st, 6) : NULL;
    row->chain_count = sqlite3_column_int64(st, 7);
    cf__store_done(st);
    if (!row->state || !row->name || !row->event || (rooted && !row->chain_root)) {
        cf__timer_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a timer");
    }
    return CF_OK;
}

int cf__store_timer_delete(cf__store *s, int64_t id, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_DELETE];
    return run(s, st, sqlite3_bind_int64(st, 1, id), "deleting a timer", NULL, err);
}

int cf__store_timer_list(cf__store *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_TIMER_LIST];
    int rc = SQLITE_OK;
    cf__store_bind_int(st, 1, from, &rc);
    cf__store_bind_int(st, 2, to, &rc);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__timer_row t = {0};
        t.id = sqlite3_column_int64(st, 0);
        col_id(st, 1, t.instance_id);
        t.state = (char *)sqlite3_column_text(st, 2);
        t.name = (char *)sqlite3_column_text(st, 3);
        t.event = (char *)sqlite3_column_text(st, 4);
        t.due = sqlite3_column_int64(st, 5);
        const char *workflow = (const char *)sqlite3_column_text(st, 6);
        const char *county = (const char *)sqlite3_column_text(st, 7);
        rc = fn(ud, &t, workflow, county) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return step_fail(s, st, rc, "listing timers", err);
    cf__store_done(st);
    return CF_OK;
}

/* ---- outbox ---- */

void cf__outbox_row_clear(cf__outbox_row *row)
{
    free(row->target_id);
    free(row->event);
    free(row->data);
    free(row->chain_root);
    row->target_id = row->event = row->data = row->chain_root = NULL;
}

int cf__store_outbox_add(cf__store *s, const char *source_id, const char *target_id, const char *event,
                         const char *data, cf_time now, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_ADD];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, source_id, &brc);
    cf__store_bind_text(st, 2, target_id, &brc);
    cf__store_bind_text(st, 3, event, &brc);
    cf__store_bind_text(st, 4, data, &brc);
    cf__store_bind_int(st, 5, now, &brc);
    if (s->chain_root[0])
        cf__store_bind_text(st, 6, s->chain_root, &brc);
    int r = run(s, st, brc, "queueing a linked event", NULL, err);
    if (r == CF_OK) {
        s->queued = true;
        s->chain_queued++;
    }
    return r;
}

void cf__store_chain_begin(cf__store *s, const char *root)
{
    snprintf(s->chain_root, sizeof s->chain_root, "%s", root ? root : "");
    s->chain_queued = 0;
}

int64_t cf__store_chain_queued(const cf__store *s)
{
    return s->chain_queued;
}

int cf__store_chain_count(cf__store *s, const char *root, int64_t count, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_CHAIN];
    int brc = SQLITE_OK;
    cf__store_bind_text(st, 1, root, &brc);
    cf__store_bind_int(st, 2, count, &brc);
    return run(s, st, brc, "counting a chain of linked events", NULL, err);
}

bool cf__store_queued(const cf__store *s)
{
    return s->queued;
}

void cf__store_clear_queued(cf__store *s)
{
    s->queued = false;
}

int cf__store_outbox_next(cf__store *s, cf__outbox_row *row, cf__err *err)
{
    memset(row, 0, sizeof *row); /* safe to clear whatever happens */
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_NEXT];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cf__store_done(st);
        return cf__fail(err, CF_ENOTFOUND, "no queued linked event");
    }
    if (rc != SQLITE_ROW)
        return step_fail(s, st, rc, "reading the next linked event", err);
    row->id = sqlite3_column_int64(st, 0);
    col_id(st, 1, row->source_id);
    row->target_id = col_dup(st, 2);
    row->event = col_dup(st, 3);
    row->data = col_dup(st, 4);
    bool rooted = sqlite3_column_type(st, 5) != SQLITE_NULL;
    row->chain_root = rooted ? col_dup(st, 5) : NULL;
    row->chain_count = sqlite3_column_int64(st, 6);
    cf__store_done(st);
    if (!row->target_id || !row->event || !row->data || (rooted && !row->chain_root)) {
        cf__outbox_row_clear(row);
        return cf__fail(err, CF_ENOMEM, "out of memory reading a linked event");
    }
    return CF_OK;
}

int cf__store_outbox_delete(cf__store *s, int64_t id, cf__err *err)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_DELETE];
    return run(s, st, sqlite3_bind_int64(st, 1, id), "deleting a delivered linked event", NULL, err);
}

/* ---- one-off statements, and the timer operations of policy changes ----
 * Prepared on each call: policy changes, previews and the like are rare, and
 * keeping them out of the statement table leaves that table to the hot paths
 * (store_policy.c and store_watch.c use them too). */

int cf__store_prepare_once(cf__store *s, const char *sql, sqlite3_stmt **st, const char *what, cf__err *err)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return cf__store_fail(s, rc, what, err);
    }
    return CF_OK;
}

/* Step a one-off statement to the end and finalize it. */
int cf__store_run_once(cf__store *s, sqlite3_stmt *st, int brc, const char *what, cf__err *err)
{
    int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
    int r = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? CF_OK : cf__store_fail(s, rc, what, err);
    sqlite3_finalize(st);
    return r;
}

int cf__store_timer_set_due(cf__store *s, int64_t id, cf_time due, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__store_prepare_once(s, "UPDATE timer SET due = ?2 WHERE id = ?1", &st, "moving a timer", err);
    if (r != CF_OK)
        return r;
    int brc = SQLITE_OK;
    cf__store_bind_int(st, 1, id, &brc);
    cf__store_bind_int(st, 2, due, &brc);
    return cf__store_run_once(s, st, brc, "moving a timer", err);
}

int cf__store_timer_each(cf__store *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err)
{
    sqlite3_stmt *st = NULL;
    int r = cf__store_prepare_once(s, "SELECT id, instance_id, state, name, event, due FROM timer WHERE instance_id = ?1"
                            " ORDER BY due, id",
                         &st, "listing an instance's timers", err);
    if (r != CF_OK)
        return r;
    int rc = sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cf__timer_row t = {0};
        t.id = sqlite3_column_int64(st, 0);
        col_id(st, 1, t.instance_id);
        t.state = (char *)sqlite3_column_text(st, 2);
        t.name = (char *)sqlite3_column_text(st, 3);
        t.event = (char *)sqlite3_column_text(st, 4);
        t.due = sqlite3_column_int64(st, 5);
        rc = fn(ud, &t) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    r = rc == SQLITE_DONE ? CF_OK : cf__store_fail(s, rc, "listing an instance's timers", err);
    sqlite3_finalize(st);
    return r;
}

/* ---- the integrity mark (docs/reliability.md, "What verify proves") ----
 * A database found corrupt or tampered with keeps a row in cf_integrity_mark, so
 * every later handle refuses to append to its history until a verify finds
 * nothing wrong again. The mark is written in a transaction of its own; when the
 * file is too damaged (or read-only) to take it, only this handle refuses. */

static const char recover_advice[] =
    "restore the database from a backup; `certflow verify` shows what is wrong; as a last resort, `sqlite3 "
    "DAMAGED.db .recover | sqlite3 NEW.db` salvages what can still be read";

/* Save the mark now if no transaction is open; failures are ignored (see above). */
static void mark_save(cf__store *s)
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
static void open_check(cf__store *s)
{
    int pages = 0;
    if (pragma_int(s->db, "PRAGMA page_count", &pages) != SQLITE_OK || pages > OPEN_CHECK_MAX_PAGES)
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
        cf__store_mark_set(s, why);
    }
    sqlite3_finalize(st);
}

int cf__store_mark_load(cf__store *s, cf__err *err)
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
    /* A file too damaged to read the mark is corrupt itself: cf__store_fail marks it,
     * and the open goes on so that verify can say what is wrong. */
    if (rc != SQLITE_DONE && (r = cf__store_fail(s, rc, "reading the integrity mark", err)) == CF_ECORRUPT) {
        err->msg[0] = '\0';
        r = CF_OK;
    }
    sqlite3_finalize(st);
    if (r == CF_OK && !s->corrupt)
        open_check(s);
    else if (r == CF_OK)
        mark_save(s);
    return r;
}

void cf__store_mark_set(cf__store *s, const char *problem)
{
    s->corrupt = true;
    s->mark_unsaved = true;
    snprintf(s->corrupt_why, sizeof s->corrupt_why, "%s", problem);
    mark_save(s);
}

int cf__store_mark_clear(cf__store *s, cf__err *err)
{
    s->corrupt = false;
    s->mark_unsaved = false;
    int marked = 0;
    int rc = pragma_int(s->db, "SELECT count(*) FROM cf_integrity_mark", &marked);
    if (rc != SQLITE_OK)
        return cf__store_fail(s, rc, "reading the integrity mark", err);
    if (marked == 0) /* nothing to write: a read-only database verifies too */
        return CF_OK;
    /* A file that cannot take the write (read-only, busy) keeps its mark: the
     * verify still found it sound, and this handle writes again. */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE; DELETE FROM cf_integrity_mark; COMMIT", NULL, NULL, NULL) != SQLITE_OK &&
        !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return CF_OK;
}

bool cf__store_corrupt(const cf__store *s)
{
    return s->corrupt;
}

int cf__store_refuse_if_corrupt(cf__store *s, cf__err *err)
{
    if (!s->corrupt)
        return CF_OK;
    return cf__fail(err, CF_ECORRUPT,
                    "%s was found corrupt or tampered with (%s), so certflow no longer writes to it: %s. Once "
                    "`certflow verify` finds nothing wrong, writing is allowed again",
                    s->path, s->corrupt_why, recover_advice);
}

