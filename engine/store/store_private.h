/*
 * store_private.h — the SQLite backend's own header: the inside of a cf__store,
 * shared by the backend's files (store.c, store_history.c, store_plugin.c). Outside the
 * backend only its own unit tests and the fault tests include it (see
 * tests/no_sqlite_outside_backend.cmake); everything else uses store.h.
 */
#ifndef CF_STORE_PRIVATE_H
#define CF_STORE_PRIVATE_H

#include "internal.h"

#include <sqlite3.h>
#include <stdlib.h>

/* The history's statements: store.c prepares and finalizes them (cf__store.audit), store_history.c runs them. */
enum {
    CF__AUDIT_LAST = 0,  /* seq and hash of the newest row */
    CF__AUDIT_INSERT,
    CF__AUDIT_FIND_KEY,
    CF__AUDIT_EACH,
    CF__AUDIT_ALL,       /* every row by seq, for verify */
    CF__AUDIT_TIMERS,    /* one instance's pending timers by id, for its result hashes */
    CF__AUDIT_AT,        /* one instance's row by number: what it left, checked before a write */
    CF__AUDIT_NSTMT
};

/* The number of statements store.c prepares for itself (see store.c). */
#define CF__STORE_NSTMT 23

struct cf__store {
    sqlite3 *db;
    char *path;          /* as given to cf__store_open, for messages */
    int busy_timeout_ms;
    sqlite3_stmt *stmt[CF__STORE_NSTMT];
    sqlite3_stmt *audit[CF__AUDIT_NSTMT];
    /* 1 while a batch (cf_batch_begin, or a tick's run of timers) holds the
     * transaction: begin/commit/rollback then work on a savepoint inside it. */
    int batch;
    /* The newest history row, once this handle appended it inside the write
     * transaction in progress: the write lock keeps every other handle out, so
     * the next append needs no look-up. Forgotten whenever a transaction or
     * savepoint starts outside a batch, ends, or rolls back. */
    bool last_known;
    int64_t last_seq;
    char last_hash[CF__HASH_HEX];
    bool queued; /* cf__store_outbox_add succeeded since cf__store_clear_queued */
    /* The chain the linked events queued now belong to ("" = none) and how many
     * were queued since cf__store_chain_begin (see cf__store_chain_begin). */
    char chain_root[64];
    int64_t chain_queued;
    /* Opened for reading only (cf__store_open_read_only): nothing is created,
     * migrated or written; every write transaction is refused with CF_EREADONLY. */
    bool read_only;
    /* The database was found corrupt or tampered with (the integrity mark read at
     * open, verify, or SQLITE_CORRUPT met by any statement): history appends and
     * writing plugin queries are refused. mark_unsaved: not yet in integrity_mark. */
    bool corrupt;
    bool mark_unsaved;
    char corrupt_why[256];
    /* cf__store_watch_begin .. _end (cf_instance_explain): the rows written meanwhile,
     * as sqlite3_update_hook reports them, and the queued flag to restore after. */
    struct cf__watched *watched;
    size_t nwatched, capwatched;
    bool watching, watch_oom, watch_queued;
};

/* The raw connection. Only backend files use it (plugin.c's SQL host until it
 * moves behind the interface). */
sqlite3 *cf__store_db(cf__store *s);
/* Map an SQLite failure to a result code and message naming `what`. */
int cf__store_fail(cf__store *s, int sqlite_rc, const char *what, cf__err *err);

/* Reset a statement after use and drop its bindings (safe on NULL). */
void cf__store_done(sqlite3_stmt *st);

/* A row a watched transaction wrote (store_watch.c). */
struct cf__watched {
    char *table;
    int op; /* SQLITE_INSERT, SQLITE_UPDATE or SQLITE_DELETE */
    sqlite3_int64 rowid;
};

/* Forget the watched rows (store_watch.c after a preview; store.c at close). */
static inline void cf__store_watch_forget(cf__store *s)
{
    for (size_t i = 0; i < s->nwatched; i++)
        free(s->watched[i].table);
    free(s->watched);
    s->watched = NULL;
    s->nwatched = s->capwatched = 0;
    s->watch_oom = false;
}

/* Helpers of the backend's files (store.c): bind a text (NULL binds NULL) or an
 * integer, keeping the first failure in *rc; prepare a one-off statement (for
 * rare operations, which stay out of the table of statements kept for the hot
 * paths); step it to its end and finalize it, naming `what` in a failure. */
void cf__store_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc);
void cf__store_bind_int(sqlite3_stmt *st, int i, int64_t v, int *rc);
int cf__store_prepare_once(cf__store *s, const char *sql, sqlite3_stmt **st, const char *what, cf__err *err);
int cf__store_run_once(cf__store *s, sqlite3_stmt *st, int brc, const char *what, cf__err *err);

#endif /* CF_STORE_PRIVATE_H */
