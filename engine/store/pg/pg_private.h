/*
 * pg_private.h — the PostgreSQL backend's own header: the inside of a cf__pg and
 * the helpers its files share. Only engine/store/pg/ includes it (and libpq's header).
 *
 * How the backend keeps store.h's contract on a server several engine processes
 * share (docs/deployment.md says why):
 * - Its tables live in the schema `certflow` of the database the connection string
 *   names, recorded in certflow.schema_version and migrated forward like SQLite's.
 * - Every statement is prepared once per connection (PQprepare) and run with bound
 *   parameters (PQexecPrepared); the only SQL text built at run time is none.
 * - A write transaction is READ COMMITTED and first takes the row lock of the chain
 *   head (SELECT ... FOR UPDATE on certflow.chain_head): writers take turns, as with
 *   SQLite's BEGIN IMMEDIATE, so the hash chain never forks, no update is lost and
 *   each statement sees every commit made before the lock was granted. Waiting is
 *   bounded by lock_timeout (options.busy_timeout_ms), then CF_EBUSY.
 * - A batch is one transaction; each call inside it a savepoint.
 * - Serials come from a sequence; timer and outbox ids from identity columns.
 */
#ifndef CF_PG_PRIVATE_H
#define CF_PG_PRIVATE_H

#include "internal.h"
#include "store/backend.h"
#include "store/pg/pg.h"

#include <libpq-fe.h>
#include <stdlib.h>

/* The statements prepared at connect, by index (their SQL is in conn.c). */
enum {
    /* (transaction control and the writers' lock are constant text: txn.c) */
    PG_DEF_PUT, PG_DEF_GET, PG_DEF_EXISTS,
    PG_INST_INSERT, PG_INST_NEXT_SERIAL, PG_INST_GET, PG_INST_UPDATE, PG_INST_LIST,
    PG_TIMER_ADD, PG_TIMER_CANCEL, PG_TIMER_NEXT, PG_TIMER_DELETE, PG_TIMER_LIST, PG_TIMER_SET_DUE, PG_TIMER_EACH,
    PG_OUTBOX_ADD, PG_OUTBOX_NEXT, PG_OUTBOX_DELETE, PG_OUTBOX_CHAIN,
    PG_H_LAST, PG_H_INSERT, PG_H_FIND_KEY, PG_H_EACH, PG_H_PAGE, PG_H_TIMERS, PG_H_AT, PG_H_MOVES, PG_COUNTY_TIMERS,
    PG_V_INST, PG_V_COUNT, PG_V_LAST, PG_V_ORPHAN, PG_V_TIMERS, PG_V_ROW_HASH, PG_H_BETWEEN,
    PG_MARK_GET, PG_MARK_PUT, PG_MARK_DEL,
    PG_POLICY_TEXT_PUT, PG_POLICY_LOG_ADD, PG_POLICY_LOG_EACH,
    PG_PLUGIN_VERSION, PG_WATCH_ROW, PG_PLUGIN_SETUP, PG_PLUGIN_RECORD, PG_PLUGIN_CONFINE, PG_PLUGIN_UNCONFINE,
    PG_PLUGIN_WATCH_TABLES,
    PG_DEF_EACH, PG_DEF_STATES, PG_INST_REDEFINE, PG_TIMER_SET_STATE,
    PG_TOKEN_NAME, PG_TOKEN_ADD, PG_TOKEN_EACH, PG_TOKEN_REVOKE,
    PG_H_AFTER,
    PG_WEBHOOK_NAME, PG_WEBHOOK_ADD, PG_WEBHOOK_EACH, PG_WEBHOOK_REMOVE, PG_WEBHOOK_PROGRESS,
    PG_NSTMT
};

/* A row a watched transaction wrote: the table and the row's key, as text. */
struct cf__pg_watched {
    char *table;
    char *key;
    int op; /* 'i', 'u' or 'd' */
};

struct cf__pg {
    cf__store base; /* first: the dispatcher sees a cf__store */
    PGconn *conn;
    char *name;       /* postgresql://user@host:port/db, without a password: for messages */
    int busy_timeout_ms;
    bool read_only;
    bool in_txn;      /* BEGIN sent and not yet ended */
    bool lost;        /* the connection broke: every call fails until the engine is opened again */
    int batch;
    bool savepoint;   /* a call's savepoint inside the batch is open */
    bool last_known;  /* the chain head, cached while this handle holds the head lock */
    int64_t last_seq;
    char last_hash[CF__HASH_HEX];
    bool queued;
    char chain_root[64];
    int64_t chain_queued;
    bool corrupt, mark_unsaved;
    char corrupt_why[256];
    struct cf__pg_watched *watched;
    size_t nwatched, capwatched;
    bool watching, watch_oom, watch_queued;
    bool watch_armed; /* this transaction copies plugin rows into pg_temp.cf_watched (rows.c) */
    char *search_path;    /* the session's search_path, restored after plugin SQL */
    unsigned plugin_stmts; /* names the plugins' prepared statements: cfp<n> */
};

/* Parameters of one statement, as text (libpq's text format). */
typedef struct cf__pgp {
    const char *v[20];
    char num[20][24];
    int n;
} cf__pgp;

void cf__pgp_text(cf__pgp *p, const char *t); /* NULL binds NULL */
void cf__pgp_int(cf__pgp *p, int64_t v);

/* Run prepared statement `which` with p's parameters. CF_OK with *res (PQclear it;
 * res may be NULL to drop it), or a certflow code with a message naming `what`. */
int cf__pg_run(cf__pg *s, int which, const cf__pgp *p, PGresult **res, const char *what, cf__err *err);
/* Map a failed result (or a broken connection, res NULL) to a code and message. */
int cf__pg_fail(cf__pg *s, const PGresult *res, const char *what, cf__err *err);
/* The SQLSTATE of a failed result ("" if none). */
const char *cf__pg_state(const PGresult *res);

/* Column helpers: NULL-safe text (NULL when SQL NULL), a malloc'd copy ("" for NULL), an integer. */
const char *cf__pg_text(const PGresult *r, int row, int col);
char *cf__pg_dup(const PGresult *r, int row, int col);
int64_t cf__pg_int(const PGresult *r, int row, int col);

/* Run constant SQL (transaction control) with no parameters (conn.c). */
int cf__pg_exec_const(cf__pg *s, const char *sql, const char *what, cf__err *err);

/* Point t at row i of a timer result (id, instance_id, state, name, event, due). */
void cf__pg_timer_borrow(const PGresult *r, int i, cf__timer_row *t);

/* Save the integrity mark when no transaction is open (txn.c). */
void cf__pg_mark_save(cf__pg *s);
/* Record a written row while explain watches (rows.c). */
void cf__pg_watch_note(cf__pg *s, const char *table, const char *key, int op);
void cf__pg_watch_forget(cf__pg *s);
bool cf__pg_txn_open(const cf__pg *s);
/* While watching, before a plugin's statement: start copying plugin rows (rows.c). */
int cf__pg_watch_arm(cf__pg *s, cf__err *err);

#endif /* CF_PG_PRIVATE_H */
