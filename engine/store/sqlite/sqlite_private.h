/*
 * sqlite_private.h — the SQLite backend's own header: the inside of a cf__sqlite,
 * shared by the backend's files (engine/store/sqlite/). Outside the backend only its
 * own unit tests and the fault tests include it (see
 * tests/no_sqlite_outside_backend.cmake); everything else uses store.h.
 */
#ifndef CF_SQLITE_PRIVATE_H
#define CF_SQLITE_PRIVATE_H

#include "internal.h"
#include "store/backend.h"
#include "store/sqlite/sqlite.h"

#include <sqlite3.h>
#include <stdlib.h>

/* The history's statements: schema.c prepares them, open.c finalizes them (cf__sqlite.audit), history.c runs them. */
enum {
    CF__AUDIT_LAST = 0,  /* seq and hash of the newest row */
    CF__AUDIT_INSERT,
    CF__AUDIT_FIND_KEY,
    CF__AUDIT_EACH,
    CF__AUDIT_ALL,       /* every row by seq, for verify */
    CF__AUDIT_TIMERS,    /* one instance's pending timers by id, for its result hashes */
    CF__AUDIT_AT,        /* one instance's newest row, if it has that number: checked before a write */
    CF__AUDIT_LINK,      /* an instance's newest row (instance.last_seq), set after each append */
    CF__AUDIT_NSTMT
};

/* The statements prepared at open (schema.c) for the hot paths; indexes into cf__sqlite.stmt. */
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

#define CF__STORE_NSTMT ST_COUNT

/* Statements of rarer operations that run once per instance in a policy change
 * (cf_policy_diff / cf_policy_apply over a whole county): prepared on first use by
 * cf__sqlite_prepare_kept (timer.c), kept in cf__sqlite.kept, finalized at close. */
enum {
    CF__KEPT_TIMER_EACH = 0, /* one instance's pending timers (timer.c) */
    CF__KEPT_TIMER_SET_DUE,  /* move one timer (timer.c) */
    CF__KEPT_MOVES,          /* one instance's moves, newest first (policy.c) */
    CF__KEPT_COUNTY_TIMERS,  /* the pending timers of a county's instances (policy.c) */
    CF__KEPT_COUNTY_KEYS,    /* a county's instances' rowids in listing order (policy.c) */
    CF__KEPT_INSTANCE_AT,    /* one instance by rowid (policy.c) */
    CF__KEPT_NSTMT
};

/* The history rows of instance ?1, newest first, by their back-links (schema 11): its
 * newest row (instance.last_seq), then each row's prev_seq while it names an older row
 * of the same instance. A link that points forward or to another instance ends the walk,
 * so a changed link can neither loop nor borrow rows; verify counts what the walks reach. */
#define CF__SQLITE_CHAIN                                                                        \
    "chain(s) AS (SELECT last_seq FROM instance WHERE id = ?1 UNION ALL SELECT h.prev_seq FROM chain" \
    " JOIN history h ON h.seq = chain.s WHERE h.instance_id = ?1 AND h.prev_seq < h.seq)"

/* Install the connection's one SQL authorizer (plugin.c), switched by plugin_auth. */
void cf__sqlite_auth_install(cf__sqlite *s);

struct cf__sqlite {
    cf__store base; /* first: the dispatcher (store.c) sees a cf__store */
    sqlite3 *db;
    char *path;          /* as given to cf__sqlite_open, for messages */
    int busy_timeout_ms;
    sqlite3_stmt *stmt[CF__STORE_NSTMT];
    sqlite3_stmt *audit[CF__AUDIT_NSTMT];
    sqlite3_stmt *kept[CF__KEPT_NSTMT]; /* NULL until first used */
    /* 1 while a batch (cf_batch_begin, or a tick's run of timers) holds the
     * transaction: begin/commit/rollback then work on a savepoint inside it. */
    int batch;
    /* Inside a batch, a fire begun by cf__sqlite_begin_fire: lean while it runs
     * without a savepoint (changes0: sqlite3_total_changes64 when it began, so its
     * rollback knows whether it wrote); sp_late when its savepoint was opened after
     * it had written. poisoned: such a fire failed after writing, and the batch's
     * transaction was rolled back whole. */
    bool lean, sp_late, poisoned;
    int64_t changes0;
    /* The newest history row, once this handle appended it inside the write
     * transaction in progress: the write lock keeps every other handle out, so
     * the next append needs no look-up. Forgotten whenever a transaction or
     * savepoint starts outside a batch, ends, or rolls back. */
    bool last_known;
    int64_t last_seq;
    char last_hash[CF__HASH_HEX];
    /* verify (history.c): how many history rows the instances' back-links reached in
     * the last cf__sqlite_audit_instances, -1 when it did not walk them all */
    int64_t verify_reached;
    bool queued; /* cf__sqlite_outbox_add succeeded since cf__sqlite_clear_queued */
    /* The chain the linked events queued now belong to ("" = none) and how many
     * were queued since cf__sqlite_chain_begin (see cf__sqlite_chain_begin). */
    char chain_root[64];
    int64_t chain_queued;
    /* Opened for reading only (cf__sqlite_open_read_only): nothing is created,
     * migrated or written; every write transaction is refused with CF_EREADONLY. */
    bool read_only;
    /* The database was found corrupt or tampered with (the integrity mark read at
     * open, verify, or SQLITE_CORRUPT met by any statement): history appends and
     * writing plugin queries are refused. mark_unsaved: not yet in integrity_mark. */
    bool corrupt;
    bool mark_unsaved;
    char corrupt_why[256];
    /* cf__sqlite_watch_begin .. _end (cf_instance_explain): the rows written meanwhile,
     * as sqlite3_update_hook reports them, and the queued flag to restore after. */
    struct cf__watched *watched;
    size_t nwatched, capwatched;
    bool watching, watch_oom, watch_queued;
    /* The plugin rules the connection's authorizer enforces now (plugin.c's
     * auth_ctx), NULL while the engine's own SQL runs. */
    void *plugin_auth;
};

/* The raw connection of a SQLite store, for the backend's files; cf__store_db takes
 * the engine's handle (NULL when it is not SQLite), for the backend's unit tests and
 * the fault tests. */
sqlite3 *cf__store_db(cf__store *s);
sqlite3 *cf__sqlite_db(cf__sqlite *s);
/* Map an SQLite failure to a result code and message naming `what` (cf__store_fail:
 * the same on the engine's handle, for the backend's unit tests). */
int cf__sqlite_fail(cf__sqlite *s, int sqlite_rc, const char *what, cf__err *err);
int cf__store_fail(cf__store *s, int sqlite_rc, const char *what, cf__err *err);

/* Reset a statement after use and drop its bindings (safe on NULL). */
void cf__sqlite_done(sqlite3_stmt *st);

/* A row a watched transaction wrote (watch.c). */
struct cf__watched {
    char *table;
    int op; /* SQLITE_INSERT, SQLITE_UPDATE or SQLITE_DELETE */
    sqlite3_int64 rowid;
};

/* Forget the watched rows (watch.c after a preview; open.c at close). */
static inline void cf__sqlite_watch_forget(cf__sqlite *s)
{
    for (size_t i = 0; i < s->nwatched; i++)
        free(s->watched[i].table);
    free(s->watched);
    s->watched = NULL;
    s->nwatched = s->capwatched = 0;
    s->watch_oom = false;
}

/* Helpers of the backend's files (open.c, timer.c): bind a text (NULL binds NULL) or an
 * integer, keeping the first failure in *rc; prepare a one-off statement (for
 * rare operations, which stay out of the table of statements kept for the hot
 * paths); step it to its end and finalize it, naming `what` in a failure. */
void cf__sqlite_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc);
void cf__sqlite_bind_int(sqlite3_stmt *st, int i, int64_t v, int *rc);
int cf__sqlite_prepare_once(cf__sqlite *s, const char *sql, sqlite3_stmt **st, const char *what, cf__err *err);
int cf__sqlite_run_once(cf__sqlite *s, sqlite3_stmt *st, int brc, const char *what, cf__err *err);
/* *st = the kept statement `which` (CF__KEPT_*), prepared from sql on first use;
 * reset it with cf__sqlite_done after use, never finalize it. */
int cf__sqlite_prepare_kept(cf__sqlite *s, int which, const char *sql, sqlite3_stmt **st, const char *what,
                            cf__err *err);

/* Shared by the backend's files. open.c: run a statement that returns no rows
 * (*changes may be NULL), the same naming an instance in a failure, fail with a
 * statement's error and reset it, copy or borrow a column, run constant SQL that
 * may return one integer, explain why a file cannot be written. schema.c: refuse a
 * file that is not certflow's or too new, migrate, prepare the statements.
 * mark.c: save the integrity mark when no transaction is open. */
int cf__sqlite_run(cf__sqlite *s, sqlite3_stmt *st, int brc, const char *what, int *changes, cf__err *err);
int cf__sqlite_run_named(cf__sqlite *s, sqlite3_stmt *st, int brc, const char *what, const char *id, int *changes,
                         cf__err *err);
int cf__sqlite_step_fail(cf__sqlite *s, sqlite3_stmt *st, int rc, const char *what, cf__err *err);
char *cf__sqlite_col_dup(sqlite3_stmt *st, int i);
void cf__sqlite_col_id(sqlite3_stmt *st, int i, char out[37]);
int cf__sqlite_pragma_int(sqlite3 *db, const char *sql, int *out);
int cf__sqlite_readonly_fail(cf__sqlite *s, cf__err *err);
/* The folder part of path (malloc'd), "." when there is none (stmt.c). */
char *cf__sqlite_folder_of(const char *path);
/* The schema version this build writes (schema.c). */
extern const int cf__sqlite_schema_version;
int cf__sqlite_identify(cf__sqlite *s, int *version, cf__err *err);
int cf__sqlite_migrate(cf__sqlite *s, cf__err *err);
int cf__sqlite_prepare_all(cf__sqlite *s, cf__err *err);
void cf__sqlite_mark_save(cf__sqlite *s);

#endif /* CF_SQLITE_PRIVATE_H */
