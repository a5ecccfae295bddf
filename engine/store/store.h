/*
 * store.h — the storage interface: what the engine asks of a backend, operation
 * by operation. Nothing here names SQLite. store.c dispatches each call to the
 * backend that opened the handle: engine/store/sqlite/ (the only code that includes
 * SQLite's header) or engine/store/pg/ (the only code that includes libpq's); only
 * the backends hold SQL text.
 *
 * The contract every backend keeps:
 * - Results: every int function returns a certflow result code (CF_OK, CF_EBUSY,
 *   CF_EFULL, CF_EREADONLY, CF_ENOMEM, CF_ECORRUPT, CF_ESCHEMA, CF_ESTORE,
 *   CF_ENOTFOUND where said) and writes a message into err that says what failed
 *   and what to do. The backend maps its own error codes; no caller sees them.
 * - Writes happen only between cf__store_begin and cf__store_commit/rollback
 *   (or inside a batch); a failed call inside a batch undoes only itself
 *   (a savepoint), leaving the batch usable. Rollback never fails.
 * - Reads that need one snapshot take cf__store_begin_read or cf__audit_read_begin.
 * - Strings handed to a callback are valid only during the callback; strings a
 *   function returns are malloc'd and owned by the caller (the *_clear helpers).
 * - Single writer per transaction: the backend may cache what its open write
 *   transaction wrote (the chain head); it must forget it at every begin outside
 *   a batch, commit and rollback.
 * - The audit format is not the backend's business: every backend hashes history
 *   rows, data and pending timers with engine/history_hash.h, so a chain written
 *   on one backend verifies on another.
 * - What is the backend's own business: serial numbers (SQLite: the row id), the
 *   cached chain head, schema migrations, the integrity check, how plugin tables
 *   are kept apart (SQLite: one name prefix and an authorizer; see the plugin
 *   section below and docs/plugins.md).
 */
#ifndef CF_STORE_H
#define CF_STORE_H

#include "certflow/certflow.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef CF__HASH_HEX
#define CF__HASH_HEX 65 /* 64 hex digits + NUL */
#endif

typedef struct cf__err cf__err;
typedef struct cf__buf cf__buf;
typedef struct cf__store cf__store;

/* ---- opening and closing ---- */

/* True when db names a PostgreSQL database (a postgresql:// or postgres:// URI, or
 * a libpq connection string of keyword=value pairs): cf__store_open then opens the
 * PostgreSQL backend; anything else (a path, ":memory:") is a SQLite file. */
bool cf__store_is_postgresql(const char *db);
/* "sqlite" or "postgresql": the backend that opened s. */
const char *cf__store_backend(const cf__store *s);

/* Open or create the database, set WAL, foreign keys and the busy timeout,
 * migrate the schema. A file that is not certflow's, or a schema newer than this
 * program knows (CF_ESCHEMA), is refused without changing it. */
int cf__store_open(const char *path, int busy_timeout_ms, cf__store **out, cf__err *err);
/* Open an existing database for reading only: creates no file (not even -wal or
 * -shm when no process has the database open: it is then read as immutable),
 * migrates nothing; a schema that needs migrating is refused with CF_EREADONLY.
 * cf__store_begin on it fails with CF_EREADONLY; cf__store_begin_read works. */
int cf__store_open_read_only(const char *path, int busy_timeout_ms, cf__store **out, cf__err *err);
bool cf__store_read_only(const cf__store *s);
void cf__store_close(cf__store *s);
/* The path the store was opened with (for messages, and for tests that look at the file). */
const char *cf__store_path(const cf__store *s);
/* CF_SYNC_NORMAL (set at open) or CF_SYNC_FULL. */
int cf__store_set_synchronous(cf__store *s, int level, cf__err *err);

/* ---- transactions and savepoints ---- */

/* BEGIN IMMEDIATE (waits for the busy timeout), COMMIT, ROLLBACK. While a batch
 * is open they are SAVEPOINT, RELEASE and ROLLBACK TO + RELEASE inside it instead,
 * so each call stays all-or-nothing and a failed one leaves the batch usable. */
int cf__store_begin(cf__store *s, cf__err *err);
/* A transaction that only reads: cf__store_begin on a writable store, a deferred
 * BEGIN on a read-only one. End it with cf__store_rollback. */
int cf__store_begin_read(cf__store *s, cf__err *err);
int cf__store_commit(cf__store *s, cf__err *err);
void cf__store_rollback(cf__store *s);

/* A fire's transaction (cf_instance_fire, issue 13). Outside a batch the same as
 * cf__store_begin. Inside one it opens no savepoint: a fire makes every decision
 * that can fail before its first write, so the savepoint (whose sub-journal copies
 * every page the fire touches) is needed only by a fire that runs something which
 * writes before a later step can still fail (a plugin, a linked event): it calls
 * cf__store_savepoint first, and that call's savepoint covers everything after it.
 * End the call with cf__store_commit or cf__store_rollback_fire. A rollback of a
 * call that wrote without a savepoint cannot undo it alone: the backend rolls the
 * whole batch back, every later call of the batch and its commit fail with
 * CF_ESTORE, and err's message (the fire's) is prefixed to say so. A backend may
 * simply open the savepoint at cf__store_begin_fire (PostgreSQL does). */
int cf__store_begin_fire(cf__store *s, cf__err *err);
int cf__store_savepoint(cf__store *s, cf__err *err);
void cf__store_rollback_fire(cf__store *s, cf__err *err);

/* Batches: one BEGIN IMMEDIATE ... COMMIT around many calls (cf_batch_*, and the
 * runs of timers a tick fires). Begin refuses when one is open (CF_EINVAL);
 * commit and rollback refuse when none is. After any of the latter two no batch is open. */
int cf__store_batch_begin(cf__store *s, cf__err *err);
int cf__store_batch_commit(cf__store *s, cf__err *err);
int cf__store_batch_rollback(cf__store *s, cf__err *err);
bool cf__store_in_batch(const cf__store *s);

/* ---- instances ---- */

typedef struct cf__instance_row {
    char id[37];
    char *workflow;
    char *def_hash;
    char *county;
    char *state;
    char *data;     /* JSON object text */
    cf_time created_at;
    cf_time updated_at;
    int64_t version; /* history rows so far */
    int64_t serial;  /* creation number in this database: 1, 2, ... (the row id) */
} cf__instance_row;

/* Frees the strings of a row (not the row). */
void cf__instance_row_clear(cf__instance_row *row);

/* ---- definitions (workflow sources, kept by hash) ---- */

int cf__store_def_put(cf__store *s, const char *hash, const char *name, const char *source, cf_time now,
                      cf__err *err);
/* Whether a definition with this hash is stored (reads no source). */
int cf__store_def_exists(cf__store *s, const char *hash, bool *exists, cf__err *err);
/* *source is malloc'd. CF_ENOTFOUND if absent. */
int cf__store_def_get(cf__store *s, const char *hash, char **name, char **source, cf__err *err);

/* ---- serial numbers ---- */
/* Every instance gets a serial, 1, 2, ... in creation order in this database, never
 * reused; the SQLite backend takes it from the row id. */
int cf__store_instance_insert(cf__store *s, const cf__instance_row *row, cf__err *err);
/* The serial the next instance created in this transaction gets. */
int cf__store_next_serial(cf__store *s, int64_t *serial, cf__err *err);
/* CF_ENOTFOUND if absent; strings malloc'd (clear with cf__instance_row_clear). */
int cf__store_instance_get(cf__store *s, const char *id, cf__instance_row *row, cf__err *err);
int cf__store_instance_update(cf__store *s, const cf__instance_row *row, cf__err *err);
/* Rows valid only during the callback. */
typedef int (*cf__instance_row_fn)(void *ud, const cf__instance_row *row);
int cf__store_instance_list(cf__store *s, const char *workflow, const char *state, const char *county,
                            cf__instance_row_fn fn, void *ud, cf__err *err);

/* ---- timers: add, due (next), claim (delete inside the firing transaction), cancel ---- */

typedef struct cf__timer_row {
    int64_t id;
    char instance_id[37];
    char *state;
    char *name;
    char *event;
    cf_time due;
    char *chain_root;    /* NULL unless the timer is part of a chain (see cf__chain) */
    int64_t chain_count;
} cf__timer_row;

void cf__timer_row_clear(cf__timer_row *row);
int cf__store_timer_add(cf__store *s, const char *instance_id, const char *state, const char *name,
                        const char *event, cf_time due, cf__err *err);
/* The same for a timer that belongs to a chain (chain_root NULL: none). */
int cf__store_timer_add_chain(cf__store *s, const char *instance_id, const char *state, const char *name,
                              const char *event, cf_time due, const char *chain_root, int64_t chain_count,
                              cf__err *err);
/* Delete the instance's timers scheduled by `state`. */
int cf__store_timer_cancel(cf__store *s, const char *instance_id, const char *state, cf__err *err);
/* The earliest timer with due <= now (ties by id); CF_ENOTFOUND if none. */
int cf__store_timer_next(cf__store *s, cf_time now, cf__timer_row *row, cf__err *err);
int cf__store_timer_delete(cf__store *s, int64_t id, cf__err *err);
/* Timers with from <= due <= to in due order, joined with their instance. */
typedef int (*cf__timer_row_fn)(void *ud, const cf__timer_row *timer, const char *workflow,
                                const char *county);
int cf__store_timer_list(cf__store *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud,
                         cf__err *err);

/* ---- outbox: linked events queued inside a write, delivered after its commit ---- */

typedef struct cf__outbox_row {
    int64_t id;
    char source_id[37];
    char *target_id;
    char *event;
    char *data;
    char *chain_root;    /* NULL for an event queued before chains were recorded */
    int64_t chain_count;
} cf__outbox_row;

void cf__outbox_row_clear(cf__outbox_row *row);
int cf__store_outbox_add(cf__store *s, const char *source_id, const char *target_id, const char *event,
                         const char *data, cf_time now, cf__err *err);
/* True when this handle queued an event since cf__store_clear_queued: a fire
 * (or a batch's commit) that queued nothing has nothing to deliver. */
bool cf__store_queued(const cf__store *s);
void cf__store_clear_queued(cf__store *s);
/* The oldest queued event; CF_ENOTFOUND if none. */
int cf__store_outbox_next(cf__store *s, cf__outbox_row *row, cf__err *err);
int cf__store_outbox_delete(cf__store *s, int64_t id, cf__err *err);
/* Linked events queued from now on belong to the chain `root` (NULL: none);
 * cf__store_chain_queued counts those queued since. */
void cf__store_chain_begin(cf__store *s, const char *root);
int64_t cf__store_chain_queued(const cf__store *s);
/* Raise the count of every queued event of chain root to at least count. */
int cf__store_chain_count(cf__store *s, const char *root, int64_t count, cf__err *err);

/* ---- watching what a transaction writes, to show it before rolling it back ---- */

/* cf_instance_explain. watch_begin starts recording every row inserted, updated
 * or deleted (tables with a rowid: every table of the engine and of the shipped
 * plugins); watch_each calls fn once per row, in the order first written, with
 * the table, "insert", "update" or "delete", and the row's columns as a JSON
 * object as they are now (NULL for a deleted row; borrowed for the call);
 * watch_end stops, forgets the rows and restores the "queued" flag as it was
 * at watch_begin. A backend reports the rows its transaction wrote, before the
 * rollback that follows. */
void cf__store_watch_begin(cf__store *s);
typedef int (*cf__watched_fn)(void *ud, const char *table, const char *op, json_t *row);
int cf__store_watch_each(cf__store *s, cf__watched_fn fn, void *ud, cf__err *err);
void cf__store_watch_end(cf__store *s);

/* ---- history: append and chain head, idempotency lookup, reads ---- */

typedef struct cf__history_row {
    int64_t seq;             /* filled by append */
    int64_t number;          /* per instance, 1-based */
    const char *instance_id;
    cf_time at;
    cf_time effective_at;
    const char *actor;
    const char *event;       /* "" for creation */
    const char *data;        /* JSON text */
    const char *outcome;     /* "created" | "applied" | "rejected" */
    const char *from_state;  /* "" for creation */
    const char *to_state;
    const char *reasons;     /* JSON array text */
    const char *policy_hash;
    const char *def_hash;
    const char *idem_key;    /* may be NULL */
    char prev_hash[CF__HASH_HEX]; /* filled by append */
    char hash[CF__HASH_HEX];      /* filled by append */
    /* The instance's data text after this row, set by the caller so that append
     * records data_hash and timers_hash (the pending timers are read from the
     * store); NULL records neither, as rows before schema 4 did. */
    const char *result_data;
    const char *result_county;      /* the instance's county (with result_data) */
    char data_hash[CF__HASH_HEX];   /* filled by append / read back; "" if none */
    char timers_hash[CF__HASH_HEX]; /* filled by append / read back; "" if none */
} cf__history_row;

/* Append a row inside the caller's transaction: links it to the chain head (the
 * newest row's hash). How the head is found is the backend's business: the SQLite
 * backend caches it while its write transaction holds the only write lock. */
int cf__audit_append(cf__store *s, cf__history_row *row, cf__err *err);
/* Idempotency lookup: the row an idempotency key recorded for an instance; CF_ENOTFOUND if none.
 * Strings point into storage owned by `keep` (free with cf__buf_free). */
int cf__audit_find_key(cf__store *s, const char *instance_id, const char *key, cf__history_row *row,
                       cf__buf *keep, cf__err *err);
/* Rows of one instance, oldest first; valid only during the callback. */
typedef int (*cf__history_row_fn)(void *ud, const cf__history_row *row);
int cf__audit_each(cf__store *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err);
/* The moves of one instance, newest first (fn returning non-zero stops the read, so
 * that a caller looking for the latest entry into a state reads no further back): only
 * instance_id, number, effective_at, event, outcome, from_state, to_state and def_hash
 * are filled, the other strings are NULL and the hashes empty; valid only during the
 * callback. */
int cf__audit_moves(cf__store *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err);
/* Walk the whole chain. *rows = rows checked, *first_bad = seq of the first
 * broken row or 0. CF_ECORRUPT with a message naming the row and what differs. */
int cf__audit_verify(cf__store *s, int64_t *rows, int64_t *first_bad, cf__err *err);
/* Hex SHA-256 of county and data, and of the instance's pending timers as they are now
 * (the SQLite backend's history.c says how): what a history row records as data_hash / timers_hash. */
int cf__audit_result_hashes(cf__store *s, const char *instance_id, const char *county, const char *data,
                            char data_hash[CF__HASH_HEX], char timers_hash[CF__HASH_HEX], cf__err *err);

/* Before a write: the instance (as read) must be what its newest history row
 * (number = version) recorded: its state and, for rows of schema 4 on, its data
 * and county. CF_ECORRUPT otherwise, and the database is marked (see below), so
 * that a change made outside certflow is never written over and made to look
 * recorded. (Timers are left to verify: a timer's fire has deleted it by now.) */
int cf__audit_check_instance(cf__store *s, const char *id, int64_t version, const char *state, const char *county,
                             const char *data, cf__err *err);

/* ---- verify's reads (engine/verify.c decides what they mean) ---- */

/* A read transaction around a whole verify, so that it sees one snapshot
 * (nothing when a transaction is open already). */
int cf__audit_read_begin(cf__store *s, bool *began, cf__err *err);
void cf__audit_read_end(cf__store *s, bool began);
/* The backend's own integrity check (SQLite: integrity_check, quick: quick_check), at most 100 problems: fn gets
 * each line that is not "ok". */
typedef int (*cf__text_fn)(void *ud, const char *text);
int cf__audit_integrity(cf__store *s, bool quick, cf__text_fn fn, void *ud, cf__err *err);
/* One instance row and what its history says about it. */
typedef struct cf__verify_inst {
    const char *id, *workflow, *def_hash, *county, *state;
    int64_t version;
    const char *def_name;           /* the workflow_def name stored under def_hash; NULL if none */
    int64_t rows;                   /* history rows of the instance */
    int64_t min_number, max_number; /* their numbers */
    int64_t last_seq;               /* the row with the highest number (0 if none) */
    const char *last_outcome, *last_to_state, *last_def_hash;
    bool proven;    /* that row recorded data_hash and timers_hash */
    bool data_ok;   /* (proven) the data hashes to its data_hash */
    bool timers_ok; /* (proven) the pending timers hash to its timers_hash */
} cf__verify_inst;
typedef int (*cf__verify_inst_fn)(void *ud, const cf__verify_inst *inst);
int cf__audit_instances(cf__store *s, cf__verify_inst_fn fn, void *ud, cf__err *err);
/* The first history row (by seq) whose instance does not exist: *seq 0 if none. */
int cf__audit_orphan_row(cf__store *s, int64_t *seq, char id[37], cf__err *err);
/* Every pending timer with its instance's state and definition (NULL if the
 * instance does not exist). */
typedef int (*cf__verify_timer_fn)(void *ud, const cf__timer_row *t, const char *inst_state, const char *def_hash);
int cf__audit_timers(cf__store *s, cf__verify_timer_fn fn, void *ud, cf__err *err);
/* The newest row: *seq 0 and the genesis hash when the history is empty. */
int cf__audit_head(cf__store *s, int64_t *seq, char hash[CF__HASH_HEX], cf__err *err);
/* Row seq's stored hash; *found false if there is no such row. */
int cf__audit_row_hash(cf__store *s, int64_t seq, bool *found, char hash[CF__HASH_HEX], cf__err *err);

/* ---- integrity checks and the corrupt mark (a database found corrupt is not written) ---- */

/* Read the mark at open: a marked database refuses history appends. */
int cf__store_mark_load(cf__store *s, cf__err *err);
/* Mark the database corrupt (problem: a short description); saved in the file
 * when possible, always remembered by this handle. */
void cf__store_mark_set(cf__store *s, const char *problem);
/* A verify found nothing wrong: remove the mark. */
int cf__store_mark_clear(cf__store *s, cf__err *err);
bool cf__store_corrupt(const cf__store *s);
/* CF_OK, or CF_ECORRUPT saying the database is marked and how to recover. */
int cf__store_refuse_if_corrupt(cf__store *s, cf__err *err);

/* ---- queries across instances ---- */

/* History rows with from <= effective_at < to (filter fields NULL: any), in chain
 * order, handed to fn as public entries (valid only during the call); fn
 * returning non-zero stops the walk with CF_OK. */
int cf__store_history_between(cf__store *s, cf_time from, cf_time to, const cf_history_filter *filter,
                              cf_history_fn fn, void *ud, cf__err *err);
/* The first `limit` history rows with seq > after that match the filter's
 * workflow, county, event and outcome (state is the caller's), in chain order,
 * handed to fn as public entries (valid only during the call); *last gets the
 * seq of the last row read (after when none). Reads by the seq key: the cost is
 * the rows after the cursor, not the history's size (GET /v1/changes, webhooks). */
int cf__store_history_after(cf__store *s, int64_t after, size_t limit, const cf_history_filter *filter,
                            cf_history_fn fn, void *ud, int64_t *last, cf__err *err);

/* ---- plugin tables: statements and migrations ----
 *
 * A plugin keeps its data in tables of its own, named <plugin>_...; its SQL runs
 * inside the engine's transaction and reaches nothing else. How that is enforced
 * is the backend's business (SQLite: an authorizer installed around every prepare
 * and step; a server backend: one schema per plugin and a role with rights on it
 * only; see docs/plugins.md). Functions here return CF_PLUGIN_* codes (the ABI's,
 * certflow/plugin.h) with the reason in err. */

typedef struct cf__pstmt cf__pstmt; /* one prepared statement of a plugin */

/* The SQL dialect plugins write for (the ABI's sql_dialect) on the database db
 * names (as given to cf__store_open): "sqlite" or "postgresql". Known before the
 * store opens, so that plugins can read it in their init. */
const char *cf__store_dialect(const char *db);

/* Whether a transaction is open on this handle (plugin SQL must not end it). */
bool cf__store_in_transaction(cf__store *s);
/* Prepare one statement of plugin `plugin` (read_only: a guard, reads only).
 * CF_PLUGIN_EDENIED when it reaches outside the plugin's tables or does what
 * plugins may not (transactions, PRAGMA, ATTACH, triggers outside a migration),
 * CF_PLUGIN_ESQL for bad SQL, CF_PLUGIN_EINVAL for none or more than one statement. */
int cf__store_plugin_prepare(cf__store *s, const char *plugin, bool read_only, const char *sql, cf__pstmt **out,
                             cf__err *err);
/* True when the statement writes nothing (a cached statement a guard may reuse). */
bool cf__store_plugin_reads_only(const cf__pstmt *p);
/* Bind parameter i (1-based): value NULL binds SQL NULL. CF_PLUGIN_EINVAL when i is out of range. */
int cf__store_plugin_bind_text(cf__pstmt *p, int i, const char *value, cf__err *err);
int cf__store_plugin_bind_int(cf__pstmt *p, int i, int64_t value, cf__err *err);
int cf__store_plugin_bind_double(cf__pstmt *p, int i, double value, cf__err *err); /* value is finite */
/* CF_PLUGIN_ROW, CF_PLUGIN_DONE (*changes: rows the statement changed), or an
 * error: CF_PLUGIN_EDENIED also when the statement ended the transaction. The same
 * rules as at prepare stay in force (sql names the statement in messages). */
int cf__store_plugin_step(cf__store *s, cf__pstmt *p, const char *plugin, bool read_only, const char *sql,
                          int64_t *changes, cf__err *err);
int cf__store_plugin_column_count(cf__pstmt *p);
/* NULL for SQL NULL; valid until the next step, reset or finalize. */
const char *cf__store_plugin_column_text(cf__pstmt *p, int i);
int64_t cf__store_plugin_column_int(cf__pstmt *p, int i);
double cf__store_plugin_column_double(cf__pstmt *p, int i);
int cf__store_plugin_column_type(cf__pstmt *p, int i); /* a CF_PLUGIN_TYPE_* */
/* Ready the statement for another use and drop its bindings. */
void cf__store_plugin_reset(cf__pstmt *p);
void cf__store_plugin_finalize(cf__pstmt *p); /* NULL is fine */

/* The schema version recorded for plugin (0 if none; works read-only). The
 * record is part of the engine's own schema (SQLite: the table plugin_schema,
 * created by the store's versioned migrations). */
int cf__store_plugin_version(cf__store *s, const char *plugin, int *version, cf__err *err);
/* Inside the caller's write transaction: run migration `version` of plugin (its
 * SQL, which may hold several statements and create triggers on its own tables)
 * and record the version. CF_EPLUGIN with the reason when the plugin's SQL failed
 * or was refused (the caller rolls back and refuses the plugin); a store problem
 * (CF_EBUSY, CF_EFULL, CF_EREADONLY, CF_ENOMEM, ...) is returned as such. */
int cf__store_plugin_migrate(cf__store *s, const char *plugin, int version, const char *sql, cf_time now,
                             cf__err *err);

/* ---- policy texts and the policy change log (changing a county's policy) ---- */

/* Move one pending timer to a new due time. */
int cf__store_timer_set_due(cf__store *s, int64_t id, cf_time due, cf__err *err);
/* The pending timers of one instance in due order; rows valid only during the callback. */
typedef int (*cf__timer_each_fn)(void *ud, const cf__timer_row *timer);
int cf__store_timer_each(cf__store *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err);
/* The instances of county (NULL: of every county) in cf__store_instance_list's order
 * (created_at, then serial), each with its pending timers in due order (then id): what
 * a policy change reads of a county, in two statements for the whole county instead of
 * one per instance. fn returning non-zero stops (CF_OK); the row and the timers
 * (instance_id, state, name, event, due and id filled) are valid only during the callback. */
typedef int (*cf__instance_timers_fn)(void *ud, const cf__instance_row *row, const cf__timer_row *timers,
                                      size_t ntimers);
int cf__store_instance_timers_each(cf__store *s, const char *county, cf__instance_timers_fn fn, void *ud,
                                   cf__err *err);
/* Keep the text of an applied county overlay under hash (the county's policy
 * hash, as history rows record it); a text already kept is left as it is. */
int cf__store_policy_text_put(cf__store *s, const char *hash, const char *county, const char *overlay_hash,
                              const char *source, cf_time now, const char *actor, cf__err *err);
/* One row of the log of applied policy changes (table policy_change, schema 4). */
typedef struct cf__policy_log_row {
    int64_t seq;
    cf_time at;
    const char *actor, *county, *overlay_hash, *old_policy_hash, *new_policy_hash, *applies_to;
    int64_t instances;
    const char *params; /* JSON text */
} cf__policy_log_row;
/* Append a row (seq is chosen by the store). */
int cf__store_policy_log_add(cf__store *s, const cf__policy_log_row *row, cf__err *err);
/* The rows of county (NULL: all), oldest first; rows valid only during the callback. */
typedef int (*cf__policy_log_fn)(void *ud, const cf__policy_log_row *row);
int cf__store_policy_log_each(cf__store *s, const char *county, cf__policy_log_fn fn, void *ud, cf__err *err);

/* ---- workflow versions and migration (SQLite: sqlite/migrate.c; PostgreSQL: pg/migrate.c) ---- */

/* Every stored definition of workflow `name` (NULL: of every workflow), by
 * workflow name, then oldest first (first stored, then hash); strings valid only during the callback. */
typedef int (*cf__def_fn)(void *ud, const char *hash, const char *name, cf_time first_seen);
int cf__store_def_each(cf__store *s, const char *name, cf__def_fn fn, void *ud, cf__err *err);
/* How many instances run on definition `hash`, per state: fn(state, count), in
 * state order. Reads only the instances of that definition (SQLite: the index
 * instance_by_definition, schema 7), so opening can check old versions cheaply. */
typedef int (*cf__def_state_fn)(void *ud, const char *state, int64_t count);
int cf__store_def_states(cf__store *s, const char *hash, cf__def_state_fn fn, void *ud, cf__err *err);
/* Move an instance to another definition (a migration): def_hash, state,
 * updated_at and version, inside the caller's transaction. CF_ENOTFOUND if absent. */
int cf__store_instance_redefine(cf__store *s, const cf__instance_row *row, cf__err *err);
/* Give a pending timer another state (the state it belongs to was renamed by a migration). */
int cf__store_timer_set_state(cf__store *s, int64_t id, const char *state, cf__err *err);

/* ---- API tokens (certflow serve; SQLite: sqlite/tokens.c, schema 8; PostgreSQL: pg/tokens.c, schema 4) ---- */

/* One API token as kept: the secret itself never is, only its SHA-256 (hex). */
typedef struct cf__token_row {
    int64_t id;
    const char *name, *role, *county; /* county NULL for the role "admin" */
    const char *secret_hash;
    cf_time created_at;
    const char *created_by;
    cf_time expires_at; /* 0: never */
    cf_time revoked_at; /* 0: not revoked */
    const char *revoked_by; /* NULL unless revoked */
} cf__token_row;
typedef int (*cf__token_fn)(void *ud, const cf__token_row *row);
/* Inside a write transaction: add a token (row->id is ignored; *id gets the new
 * one). CF_ECONFLICT, naming it, when a token of that name exists (revoked ones too). */
int cf__store_token_add(cf__store *s, const cf__token_row *row, int64_t *id, cf__err *err);
/* The token whose secret hashes to secret_hash (at most one row; none: fn is not
 * called); with secret_hash NULL, every token by id. Rows valid only during fn. */
int cf__store_token_each(cf__store *s, const char *secret_hash, cf__token_fn fn, void *ud, cf__err *err);
/* Inside a write transaction: mark the token named `name` revoked at `at` by
 * `actor`. CF_ENOTFOUND when no token has that name or it is revoked already. */
int cf__store_token_revoke(cf__store *s, const char *name, cf_time at, const char *actor, cf__err *err);

/* ---- webhook subscriptions (certflow serve; SQLite: sqlite/webhooks.c, schema 10;
 * PostgreSQL: pg/webhooks.c, schema 5) ----
 * A subscription's outbox is the history after its cursor: a delivery is derived
 * from the history in order, and the cursor moves only after the receiver
 * acknowledged it, so nothing is lost across a restart and the order holds. */
typedef struct cf__webhook_row {
    int64_t id;
    const char *name;
    const char *county;     /* NULL: every county */
    const char *url;
    const char *secret;     /* the HMAC key: kept as it is, the server signs with it */
    cf_time created_at;
    const char *created_by;
    cf_time removed_at;     /* 0: active */
    const char *removed_by;
    int64_t cursor;         /* the history seq delivered up to */
    int64_t attempts;       /* failed attempts since the cursor last moved */
    const char *last_error; /* NULL: none */
    cf_time last_attempt_at;
} cf__webhook_row;
typedef int (*cf__webhook_fn)(void *ud, const cf__webhook_row *row);
/* Inside a write transaction: add a subscription (row->id, removed_*, attempts,
 * last_* ignored; *id gets the new id). CF_ECONFLICT when the name is taken. */
int cf__store_webhook_add(cf__store *s, const cf__webhook_row *row, int64_t *id, cf__err *err);
/* Every subscription, removed ones too, by id. Rows valid only during fn. */
int cf__store_webhook_each(cf__store *s, cf__webhook_fn fn, void *ud, cf__err *err);
/* Inside a write transaction: mark the active subscription `name` removed.
 * CF_ENOTFOUND when there is none. */
int cf__store_webhook_remove(cf__store *s, const char *name, cf_time at, const char *actor, cf__err *err);
/* Inside a write transaction: record a delivery attempt of active subscription
 * id: the cursor moves to `cursor` (never back), attempts and last_error are set.
 * CF_ENOTFOUND when it is removed or unknown. */
int cf__store_webhook_progress(cf__store *s, int64_t id, int64_t cursor, int64_t attempts, const char *last_error,
                               cf_time at, cf__err *err);

/* ---- copying a whole database to another backend (certflow store copy; sqlite/copy.c, pg/copy.c) ----
 *
 * The engine's tables under names and columns every backend shares (SQLite keeps
 * the mark and the tokens as cf_integrity_mark and cf_api_token, and an instance's
 * serial as its row id). Values travel as text (NULL for SQL NULL), so a row copied
 * from one backend to another keeps every column as stored, and the chain verifies. */

typedef struct cf__copy_table {
    const char *name;    /* "workflow_def", "instance", ... */
    const char *columns; /* comma-separated, the first the key rows are read in order of */
    int ncolumns;
} cf__copy_table;
/* The tables in the order they are written (a row's references first); NULL-terminated. */
extern const cf__copy_table cf__copy_tables[];
/* Rows of table t, by its first column; values valid only during the callback. */
typedef int (*cf__copy_row_fn)(void *ud, const char *const *values);
int cf__store_copy_each(cf__store *s, const cf__copy_table *t, cf__copy_row_fn fn, void *ud, cf__err *err);
/* Inside a write transaction: insert one row of t as read by cf__store_copy_each. */
int cf__store_copy_put(cf__store *s, const cf__copy_table *t, const char *const *values, cf__err *err);
int cf__store_copy_count(cf__store *s, const cf__copy_table *t, int64_t *rows, cf__err *err);
/* Inside the write transaction, after the last put: what the backend numbers
 * from (PostgreSQL: the serial sequence and identity columns) continues after the copied rows. */
int cf__store_copy_finish(cf__store *s, cf__err *err);
/* Plugin tables, copied by column name (the target's tables are made by the
 * plugins' own migrations, in the target's dialect). The tables of every plugin in
 * plugin_schema (SQLite: named <plugin>_...; PostgreSQL: those of the plugin's
 * schema), in the order they were created (a table's references first). */
typedef int (*cf__copy_plugin_fn)(void *ud, const char *plugin, const char *table);
int cf__store_copy_plugin_tables(cf__store *s, cf__copy_plugin_fn fn, void *ud, cf__err *err);
/* The rows of one plugin table (in insertion order where the backend keeps one):
 * n columns, their names and values (NULL for SQL NULL), valid only during fn. */
typedef int (*cf__copy_prow_fn)(void *ud, int n, const char *const *names, const char *const *values);
int cf__store_copy_plugin_each(cf__store *s, const char *plugin, const char *table, cf__copy_prow_fn fn, void *ud,
                               cf__err *err);
int cf__store_copy_plugin_put(cf__store *s, const char *plugin, const char *table, int n, const char *const *names,
                              const char *const *values, cf__err *err);
int cf__store_copy_plugin_count(cf__store *s, const char *plugin, const char *table, int64_t *rows, cf__err *err);
/* After the rows of a table: what numbers its rows (PostgreSQL: identity and serial
 * columns) continues after the copied ones. */
int cf__store_copy_plugin_finish(cf__store *s, const char *plugin, const char *table, cf__err *err);

#endif /* CF_STORE_H */
