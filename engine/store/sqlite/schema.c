/*
 * schema.c — the SQLite backend's schema: the file's identity (application_id),
 * the forward migrations (user_version), the check at open that a file is certflow's
 * and not newer than this program, and the statements prepared at open.
 */
#include "store/sqlite/sqlite_private.h"

#include <stdio.h>
#include <string.h>

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
    /* 4: what each history row leaves behind, for verify (history.c): the SHA-256 of
     * the instance's data and of its pending timers after the row (NULL on rows
     * written before this version); and the mark that refuses writing to a
     * database found corrupt or tampered with (cf__sqlite_mark_set) */
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
    /* 6: the schema version each plugin's own migrations reached (plugin.c).
     * Before this version the plugin host created the table itself when a plugin
     * first declared migrations, so a database at 5 may already hold it. */
    "CREATE TABLE IF NOT EXISTS plugin_schema("
    "  plugin TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  migrated_at INTEGER NOT NULL);",
    /* 7: the instances of each workflow definition by state (migrate.c): opening
     * checks the versions live instances run on without reading the instance table */
    "CREATE INDEX IF NOT EXISTS instance_by_definition ON instance(def_hash, state);",
    /* 8: the API tokens of certflow serve (tokens.c): only the SHA-256 of each
     * secret is kept; revoked tokens stay, marked, so their names stay taken. */
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
    /* 9: history's outcome CHECK written as `outcome = 'created' OR ...` (issue 13):
     * SQLite evaluated `outcome IN ('created','applied','rejected')` by building and
     * dropping an ephemeral table on every history insert, 15 % of a batched fire.
     * The same three values stay the only ones allowed. SQLite cannot alter a CHECK,
     * so the table is rebuilt: every row copied as it is (seq, hashes and all, so the
     * chain verifies unchanged), then its indexes and its append-only triggers made
     * again. Dropping the old table fires no trigger, and no table refers to history. */
    "CREATE TABLE history_v9("
    "  seq INTEGER PRIMARY KEY,"
    "  instance_id TEXT NOT NULL REFERENCES instance(id),"
    "  number INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  effective_at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  outcome TEXT NOT NULL CHECK(outcome = 'created' OR outcome = 'applied' OR outcome = 'rejected'),"
    "  from_state TEXT NOT NULL,"
    "  to_state TEXT NOT NULL,"
    "  reasons TEXT NOT NULL,"
    "  policy_hash TEXT NOT NULL,"
    "  def_hash TEXT NOT NULL,"
    "  idem_key TEXT,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  data_hash TEXT,"
    "  timers_hash TEXT);"
    "INSERT INTO history_v9(seq, instance_id, number, at, effective_at, actor, event, data, outcome, from_state,"
    "  to_state, reasons, policy_hash, def_hash, idem_key, prev_hash, hash, data_hash, timers_hash)"
    "  SELECT seq, instance_id, number, at, effective_at, actor, event, data, outcome, from_state, to_state,"
    "  reasons, policy_hash, def_hash, idem_key, prev_hash, hash, data_hash, timers_hash FROM history ORDER BY seq;"
    "DROP TABLE history;"
    "ALTER TABLE history_v9 RENAME TO history;"
    "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
    "CREATE UNIQUE INDEX history_by_key ON history(instance_id, idem_key) WHERE idem_key IS NOT NULL;"
    "CREATE INDEX history_by_time ON history(effective_at);"
    "CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
    "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
    "CREATE TRIGGER history_no_delete BEFORE DELETE ON history"
    "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;",
    /* 10: webhook subscriptions of certflow serve (webhooks.c): each one's outbox is
     * the history after its cursor, which moves only when the receiver acknowledged. */
    "CREATE TABLE IF NOT EXISTS cf_webhook("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  county TEXT,"
    "  url TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  removed_at INTEGER,"
    "  removed_by TEXT,"
    "  cursor INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  last_attempt_at INTEGER);",
    /* 11: fewer pages written per fire (issue 13). instance_by_workflow(workflow, state,
     * county) held the state, so every fire moved the instance's entry to another page
     * (1.5 of the 9.7 WAL pages a one-per-transaction fire wrote); no query reads it (the
     * instance list scans the table, its filters being optional), so it goes.
     * history_by_number(instance_id, number), keyed by the random UUID text, put one
     * random leaf in every fire (1.3 pages) and two thirds of the pages of a batch; a
     * back-link replaces it: each history row names the instance's previous row
     * (prev_seq), the instance its newest (last_seq), and an instance's history is read
     * by walking the links (history.c). Existing rows are linked here through the old
     * index before it goes; the append-only trigger is lifted for that one UPDATE. */
    "DROP INDEX IF EXISTS instance_by_workflow;"
    "ALTER TABLE instance ADD COLUMN last_seq INTEGER;"
    "ALTER TABLE history ADD COLUMN prev_seq INTEGER;"
    "DROP TRIGGER history_no_update;"
    "UPDATE history SET prev_seq = (SELECT p.seq FROM history p WHERE p.instance_id = history.instance_id"
    "  AND p.number < history.number ORDER BY p.number DESC LIMIT 1);"
    "UPDATE instance SET last_seq = (SELECT h.seq FROM history h WHERE h.instance_id = instance.id"
    "  ORDER BY h.number DESC LIMIT 1);"
    "CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
    "  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
    "DROP INDEX history_by_number;",
};

#define CF__SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

const int cf__sqlite_schema_version = CF__SCHEMA_VERSION;


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
    {NULL}, /* 7: an index of instance only */
    {"cf_api_token", NULL},
    {NULL}, /* 9: history rebuilt with its outcome CHECK rewritten */
    {"cf_webhook", NULL},
    {NULL}, /* 11: indexes and links only */
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
int cf__sqlite_identify(cf__sqlite *s, int *version, cf__err *err)
{
    int tables = 0, app_id = 0;
    *version = 0;
    int rc = cf__sqlite_pragma_int(s->db, "SELECT count(*) FROM sqlite_master", &tables);
    if (rc == SQLITE_OK)
        rc = cf__sqlite_pragma_int(s->db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = cf__sqlite_pragma_int(s->db, "PRAGMA user_version", version);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return cf__fail(err, CF_ESCHEMA,
                        "%s is not an SQLite database (%s); give cf_engine_open a certflow database or a new file", s->path,
                        sqlite3_errmsg(s->db));
    if (s->read_only && ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN))
        return cf__fail(err, CF_EREADONLY,
                        "cannot read %s: %s (%s-wal exists, so a process is using the database or one stopped "
                        "before checkpointing, and SQLite cannot create %s-shm beside it; read it while that folder "
                        "is writable, or copy the database with its -wal file somewhere writable)",
                        s->path, sqlite3_errmsg(s->db), s->path, s->path);
    if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN)
        return cf__sqlite_readonly_fail(s, err);
    if (rc != SQLITE_OK)
        return cf__sqlite_fail(s, rc, "reading the database header", err);
    if (app_id != CF__APPLICATION_ID && (tables > 0 || app_id != 0 || *version != 0))
        return cf__fail(err, CF_ESCHEMA,
                        "%s is not a certflow database (application_id 0x%08X, expected 0x%08X; user_version %d); "
                        "give cf_engine_open a certflow database or a new file",
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
        return cf__sqlite_fail(s, rc, "reading the database schema", err);
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
        return cf__sqlite_readonly_fail(s, err);
    return CF_OK;
}

/* Apply the missing migrations, each in its own transaction. The version is read
 * again inside the transaction, so two processes opening a new file at once are safe. */
int cf__sqlite_migrate(cf__sqlite *s, cf__err *err)
{
    for (;;) {
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return cf__sqlite_fail(s, rc, "starting the schema migration", err);
        int version = 0;
        rc = cf__sqlite_pragma_int(s->db, "PRAGMA user_version", &version);
        if (rc != SQLITE_OK || version >= CF__SCHEMA_VERSION) {
            int r = CF_OK;
            if (rc != SQLITE_OK)
                r = cf__sqlite_fail(s, rc, "reading the schema version", err);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
        if (version < 0) { /* changed by another program since cf__sqlite_identify() looked */
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
            int r = cf__sqlite_fail(s, rc, what, err);
            if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
    }
}


/* The history's statements, which history.c runs (prepared here with the others, so
 * that the history needs nothing of store.c but its handle). */
#define HISTORY_COLS                                                                                  \
    "seq, number, instance_id, at, effective_at, actor, event, data, outcome, from_state, to_state, " \
    "reasons, policy_hash, def_hash, idem_key, prev_hash, hash, data_hash, timers_hash"

static const char *const audit_sql[CF__AUDIT_NSTMT] = {
    [CF__AUDIT_LAST] = "SELECT seq, hash FROM history ORDER BY seq DESC LIMIT 1",
    /* The row follows the instance's newest (prev_seq), and only if its number is the next:
     * nothing inserted when not (cf__sqlite_audit_append says why). */
    [CF__AUDIT_INSERT] = "INSERT INTO history(" HISTORY_COLS ", prev_seq) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                         " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, i.last_seq FROM instance i"
                         " WHERE i.id = ?3 AND ?2 = 1 + coalesce((SELECT p.number FROM history p"
                         " WHERE p.seq = i.last_seq), 0)",
    [CF__AUDIT_FIND_KEY] = "SELECT " HISTORY_COLS " FROM history WHERE instance_id = ?1 AND idem_key = ?2",
    [CF__AUDIT_EACH] = "WITH RECURSIVE " CF__SQLITE_CHAIN " SELECT " HISTORY_COLS " FROM history"
                       " WHERE seq IN (SELECT s FROM chain) AND instance_id = ?1 ORDER BY seq",
    [CF__AUDIT_ALL] = "SELECT " HISTORY_COLS " FROM history ORDER BY seq",
    [CF__AUDIT_TIMERS] = "SELECT state, name, event, due FROM timer WHERE instance_id = ?1 ORDER BY state, id",
    [CF__AUDIT_AT] = "SELECT h.seq, h.to_state, h.data_hash FROM instance i JOIN history h ON h.seq = i.last_seq"
                     " WHERE i.id = ?1 AND h.instance_id = ?1 AND h.number = ?2",
    [CF__AUDIT_LINK] = "UPDATE instance SET last_seq = ?2 WHERE id = ?1",
};

int cf__sqlite_prepare_all(cf__sqlite *s, cf__err *err)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
        if (rc != SQLITE_OK)
            return cf__sqlite_fail(s, rc, "preparing the store's statements", err);
    }
    for (int i = 0; i < CF__AUDIT_NSTMT; i++) {
        int rc = sqlite3_prepare_v3(s->db, audit_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->audit[i], NULL);
        if (rc != SQLITE_OK)
            return cf__sqlite_fail(s, rc, "preparing the history's statements", err);
    }
    return CF_OK;
}

