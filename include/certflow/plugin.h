/*
 * plugin.h — the ABI between certflow and its C plugins, and the only header a
 * plugin includes. A plugin is a shared object (*.so) that certflow opens with
 * dlopen(RTLD_NOW | RTLD_LOCAL); it never links against libcertflow and reaches
 * the engine only through the cf_host function table it is handed.
 *
 * The contract (docs/plugins.md walks through it):
 * - Export two functions, both with CF_PLUGIN_EXPORT:
 *     const cf_plugin_info *certflow_plugin_info(void);
 *     int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json);
 *   The engine calls certflow_plugin_info first and checks its ABI version before
 *   any other code of the plugin runs; only then does it call certflow_plugin_init,
 *   which registers actions, guards and migrations through `host`.
 * - Every struct that crosses the boundary starts with its size. Plugins never
 *   allocate or size a host struct: cf_plugin, cf_call and cf_stmt are opaque.
 * - The host table only grows at its end. A member exists when
 *   CF_HOST_HAS(host, member) is true; members of ABI version 1 always exist.
 * - Return codes come from CF_PLUGIN_RESULT_TABLE; host->result_text(rc) names one.
 * - Ownership: strings the host returns are owned by the host and valid until the
 *   call (the action or guard invocation) returns, unless said otherwise; copy what
 *   you keep. Strings you pass in are copied by the host or only read during the call.
 * - Threading: the engine calls a plugin from the thread that uses the engine
 *   handle; several engine handles (in several threads) may load the same .so, and
 *   each calls certflow_plugin_init once with its own `self`. Keep state in the
 *   `ud` you register, not in globals, or guard globals yourself.
 * - A plugin stays loaded until the engine that loaded it is closed; it is never
 *   unloaded while any of its functions can still be called.
 */
#ifndef CERTFLOW_PLUGIN_H
#define CERTFLOW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. Bumped only when an existing member changes
 * meaning; growing the host table at its end does not bump it. */
#define CF_PLUGIN_ABI_VERSION 1
/* The certflow release this header ships with (for messages). */
#define CF_PLUGIN_CERTFLOW_VERSION "0.1.0"

#if defined(__GNUC__)
#define CF_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CF_PLUGIN_EXPORT
#endif

/* Result codes: X(NAME, value, static description). New codes are only appended. */
#define CF_PLUGIN_RESULT_TABLE(X)                                                          \
    X(CF_PLUGIN_OK, 0, "success")                                                          \
    X(CF_PLUGIN_ROW, 1, "a row is ready (sql_step)")                                       \
    X(CF_PLUGIN_DONE, 2, "no more rows (sql_step)")                                        \
    X(CF_PLUGIN_ERROR, 3, "failed; the message given to set_error says why")              \
    X(CF_PLUGIN_EINVAL, 4, "invalid argument")                                             \
    X(CF_PLUGIN_ENOMEM, 5, "out of memory")                                                \
    X(CF_PLUGIN_ENOTFOUND, 6, "no such field, instance, event or column")                 \
    X(CF_PLUGIN_EJSON, 7, "malformed JSON")                                                \
    X(CF_PLUGIN_ESQL, 8, "SQL error")                                                      \
    X(CF_PLUGIN_EDENIED, 9, "not allowed here (a table not the plugin's, or a write in a guard)")

enum {
#define CF__PLUGIN_RESULT_ENUM(name, value, text) name = value,
    CF_PLUGIN_RESULT_TABLE(CF__PLUGIN_RESULT_ENUM)
#undef CF__PLUGIN_RESULT_ENUM
};

/* What cf_host.sql_column_type answers: the type of the value in a column of the
 * current row. SQLite answers per value (its columns hold any type); PostgreSQL by
 * the column's declared type (integer types INTEGER; real, double precision and
 * numeric FLOAT; bytea BLOB; the rest TEXT), NULL wherever the value is NULL. */
enum {
    CF_PLUGIN_TYPE_NULL = 0,
    CF_PLUGIN_TYPE_INTEGER = 1,
    CF_PLUGIN_TYPE_FLOAT = 2,
    CF_PLUGIN_TYPE_TEXT = 3,
    CF_PLUGIN_TYPE_BLOB = 4
};

/* Log levels for cf_host.log. */
enum { CF_PLUGIN_LOG_DEBUG = 0, CF_PLUGIN_LOG_INFO = 1, CF_PLUGIN_LOG_WARN = 2, CF_PLUGIN_LOG_ERROR = 3 };

/* What certflow_plugin_info returns: a pointer to static, constant data that
 * stays valid while the plugin is loaded. Build it with CF_PLUGIN_INFO_INIT. */
typedef struct cf_plugin_info {
    size_t size;             /* sizeof(cf_plugin_info) as the plugin was built */
    int abi_version;         /* CF_PLUGIN_ABI_VERSION the plugin was built against */
    const char *name;        /* [a-z][a-z0-9_]*, at most 32 bytes: names its tables (<name>_...) and its config */
    const char *version;     /* the plugin's own version, e.g. "1.0.0" */
    const char *description; /* one line */
    const char *certflow_version; /* CF_PLUGIN_CERTFLOW_VERSION of the header it was built with */
} cf_plugin_info;

#define CF_PLUGIN_INFO_INIT(name, version, description) \
    {sizeof(cf_plugin_info), CF_PLUGIN_ABI_VERSION, name, version, description, CF_PLUGIN_CERTFLOW_VERSION}

/* The plugin as the engine knows it: passed to certflow_plugin_init and valid
 * until the engine is closed. Opaque. */
typedef struct cf_plugin cf_plugin;
/* One invocation of an action or guard: valid only until that function returns. Opaque. */
typedef struct cf_call cf_call;
/* A prepared statement on the plugin's own tables: valid until sql_finish or the
 * end of the call that prepared it, whichever comes first. Opaque. */
typedef struct cf_stmt cf_stmt;

/* An action: runs inside the transition's transaction. Return CF_PLUGIN_OK, or
 * anything else after host->set_error(call, why): the whole transition then rolls
 * back, with the plugin's own table writes. */
typedef int (*cf_plugin_action_fn)(cf_call *call, void *ud);
/* A guard: decides whether a transition may happen. Set *allow to 1 or 0 (for 0,
 * give the reason with host->set_reason). Returning anything but CF_PLUGIN_OK is an
 * error (not a "no"): the event fails and nothing is recorded. A guard may read its
 * plugin's tables but not write them, patch data or send events. */
typedef int (*cf_plugin_guard_fn)(cf_call *call, void *ud, int *allow);
/* A query (see cf_host.register_query): reads (or, when registered with
 * CF_PLUGIN_QUERY_WRITE, changes) the plugin's tables outside any transition and
 * gives its answer with host->query_result. args_json is the caller's arguments,
 * a JSON object text ("{}" if none). Return CF_PLUGIN_OK, or an error after
 * host->set_error(call, why). */
typedef int (*cf_plugin_query_fn)(cf_call *call, void *ud, const char *args_json);

/* Flags of cf_host.register_query. */
enum { CF_PLUGIN_QUERY_READ = 0, CF_PLUGIN_QUERY_WRITE = 1 };

/* The host function table. Owned by the engine, constant, and valid while the
 * plugin is loaded (it is the same table for every engine in the process).
 * Functions taking cf_plugin * work only during certflow_plugin_init; functions
 * taking cf_call * or cf_stmt * only during the call they belong to. */
typedef struct cf_host {
    size_t size;     /* sizeof(cf_host) in the engine: members past it do not exist */
    int abi_version; /* CF_PLUGIN_ABI_VERSION of the engine */

    /* ---- registration (certflow_plugin_init only) ---- */

    /* Register an action or a guard under `name` (copied), unique among the
     * state policy's and every loaded plugin's functions of that kind. `ud` is
     * handed back on every call; the plugin owns it. */
    int (*register_action)(cf_plugin *self, const char *name, cf_plugin_action_fn fn, void *ud);
    int (*register_guard)(cf_plugin *self, const char *name, cf_plugin_guard_fn fn, void *ud);
    /* Declare schema version `version` (1, 2, ... in order, no gaps) as `sql`
     * (copied; several statements allowed). At open the engine runs, in order and
     * each in its own transaction, every version above the one the database
     * records for this plugin, then records the new version. The SQL may only
     * create and change tables, indexes and triggers named <plugin name>_...
     * (triggers on the plugin's own tables, e.g. to make a ledger append-only;
     * only a migration may create them). */
    int (*add_migration)(cf_plugin *self, int version, const char *sql);
    /* Say why init fails (copied) before returning an error from it; the load
     * error the embedder sees quotes it. Returns CF_PLUGIN_ERROR. */
    int (*init_error)(cf_plugin *self, const char *message);
    /* Have fn(ud) called when the engine closes, before the plugin is unloaded
     * (in reverse order of registration), or at once if init then fails: the place
     * to free what init allocated. */
    int (*at_close)(cf_plugin *self, void (*fn)(void *ud), void *ud);

    /* ---- the instance and the event (inside a call) ---- */

    const char *(*instance_id)(cf_call *call);
    const char *(*workflow)(cf_call *call);
    const char *(*county)(cf_call *call);
    /* The state the transition is leaving (guards, exit and transition actions)
     * or entering (entry actions). */
    const char *(*state)(cf_call *call);
    /* The event's name ("" while an instance is being created), and who fired it. */
    const char *(*event)(cf_call *call);
    const char *(*actor)(cf_call *call);
    /* The event's effective time (a timer's due time): seconds since 1970-01-01Z.
     * This is the clock plugins use. */
    int64_t (*now)(cf_call *call);
    /* JSON text of the top-level field `field` of the instance data (the whole
     * object if field is NULL), with earlier patches of this transition applied.
     * CF_PLUGIN_ENOTFOUND if there is no such field (*json_out = NULL). */
    int (*data_get)(cf_call *call, const char *field, const char **json_out);
    /* The same for the event's data. */
    int (*event_data_get)(cf_call *call, const char *field, const char **json_out);
    /* Apply a JSON merge patch (RFC 7386; an object text) to the instance data.
     * Actions only. */
    int (*data_patch)(cf_call *call, const char *merge_patch_json);
    /* Queue `event` with data (a JSON object text, or NULL for {}) for instance
     * `instance_id`, in this transaction: delivered after it commits, dropped if it
     * rolls back. The instance must exist and its workflow must know the event.
     * Actions only. */
    int (*send)(cf_call *call, const char *instance_id, const char *event, const char *data_json);

    /* ---- outcome, messages ---- */

    /* Why the call failed (copied); the engine's error message names the plugin
     * and the function. Returns CF_PLUGIN_ERROR, so `return host->set_error(...)` works. */
    int (*set_error)(cf_call *call, const char *message);
    /* Why a guard said no (copied): recorded in the history with the rejection. */
    int (*set_reason)(cf_call *call, const char *reason);
    /* Hand a message (CF_PLUGIN_LOG_* level) to the embedder's log callback
     * (cf_options.log); dropped if there is none. */
    void (*log)(cf_call *call, int level, const char *message);
    /* The same outside a call: during init, or later with a `self` kept from init. */
    void (*plugin_log)(cf_plugin *self, int level, const char *message);
    /* Static text of a CF_PLUGIN_* code. */
    const char *(*result_text)(int rc);

    /* ---- SQL on the plugin's own tables, inside the transition's transaction ---- */

    /* Prepare one statement. It may read and write only tables named <plugin>_...;
     * anything else (the engine's tables, another plugin's, PRAGMA, ATTACH,
     * transactions) is CF_PLUGIN_EDENIED. In a guard only reads are allowed. */
    int (*sql_prepare)(cf_call *call, const char *sql, cf_stmt **out);
    /* Bind parameter i (1-based): text is copied; NULL text binds SQL NULL. */
    int (*sql_bind_text)(cf_stmt *st, int i, const char *value);
    int (*sql_bind_int)(cf_stmt *st, int i, int64_t value);
    /* CF_PLUGIN_ROW (read the columns), CF_PLUGIN_DONE, or an error (the message
     * is set on the call). */
    int (*sql_step)(cf_stmt *st);
    int (*sql_column_count)(cf_stmt *st);
    /* Column i (0-based) of the current row as text, NULL for SQL NULL; valid
     * until the next sql_step or sql_finish. */
    const char *(*sql_column_text)(cf_stmt *st, int i);
    int64_t (*sql_column_int)(cf_stmt *st, int i);
    /* Release the statement. Statements still open when the call returns are
     * released by the host. */
    int (*sql_finish)(cf_stmt *st);
    /* Rows changed by the last INSERT, UPDATE or DELETE of this call. */
    int64_t (*sql_changes)(cf_call *call);

    /* ---- time ---- */

    /* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
    int (*time_format)(int64_t t, char *buf, size_t size);
    /* Parse ISO 8601 ("2025-03-01", "2025-03-01T08:00:00Z", with an offset). */
    int (*time_parse)(const char *iso, int64_t *out);

    /* ---- JSON ---- */

    /* Copy the top-level field `field` of the JSON object text `json` into buf:
     * a string's characters without quotes, anything else as JSON text ("12",
     * "true", "{...}"). CF_PLUGIN_ENOTFOUND if absent, CF_PLUGIN_EJSON if json is
     * not an object, CF_PLUGIN_EINVAL if buf is too small (buf gets ""). Works at
     * any time, e.g. on the config text in init. */
    int (*json_field)(const char *json, const char *field, char *buf, size_t size);

    /* ---- queries (added in certflow 0.1.0 after the first ABI 1 table: test with
     * CF_HOST_HAS(host, register_query) before using them) ---- */

    /* Register the query `name` (copied; 1 to 64 of [a-z0-9_]), which the embedder
     * runs as "<plugin name>.<name>" with cf_plugin_query, outside any transition:
     * a statement, a balance, an outbox to list, rows to mark. flags is
     * CF_PLUGIN_QUERY_READ (it may only read the plugin's tables; run in a read
     * transaction) or CF_PLUGIN_QUERY_WRITE (it may write them, in a transaction of
     * its own that commits when fn returns CF_PLUGIN_OK and rolls back otherwise).
     * Inside fn, event() is the query's full name, event_data_get reads its
     * arguments, now() is the engine's clock, the instance functions return "" and
     * data_patch and send are refused. Init only. */
    int (*register_query)(cf_plugin *self, const char *name, cf_plugin_query_fn fn, void *ud, int flags);
    /* Set the result of the running query: JSON text (copied; the last call wins).
     * Queries only; without it the caller gets "null". */
    int (*query_result)(cf_call *call, const char *json);

    /* ---- previews (added in certflow 0.1.0 with cf_instance_explain: test with
     * CF_HOST_HAS(host, previewing) before using it) ---- */

    /* 1 while the call belongs to a preview (cf_instance_explain, `certflow explain`):
     * the transition runs in a transaction that is then rolled back, so what the
     * action writes to its tables is shown and undone. An action must then do
     * nothing outside the database (write no file, send nothing, call no service).
     * 0 otherwise. */
    int (*previewing)(cf_call *call);

    /* ---- storage backends (added in certflow 0.1.0 after queries: test with
     * CF_HOST_HAS(host, sql_dialect) before using it) ---- */

    /* The SQL dialect of the database this engine stores in: "sqlite" today,
     * "postgresql" once that backend ships (docs/plugins.md, "Your SQL on another
     * backend"). Write SQL in the portable subset and you never need it; read it
     * to give add_migration the DDL that differs. Any time, init included. */
    const char *(*sql_dialect)(cf_plugin *self);

    /* ---- plain values (added in certflow 0.1.0 after storage backends: test with
     * CF_HOST_HAS(host, data_text) before using them) ---- */

    /* Bind SQL NULL to parameter i (1-based); the same as sql_bind_text(st, i, NULL). */
    int (*sql_bind_null)(cf_stmt *st, int i);
    /* The top-level field `field` of the instance data as a plain value, not JSON:
     * a string's characters without quotes ("Ana", not "\"Ana\""), a number, true or
     * false as their text ("12.5", "true"), an object or array as JSON text. A JSON
     * null gives *out = NULL and CF_PLUGIN_OK; an absent field CF_PLUGIN_ENOTFOUND
     * (*out = NULL). Valid until the call returns. */
    int (*data_text)(cf_call *call, const char *field, const char **out);
    /* The same for the event's data. */
    int (*event_data_text)(cf_call *call, const char *field, const char **out);
    /* The field as a number: CF_PLUGIN_OK with *out, CF_PLUGIN_ENOTFOUND if absent,
     * CF_PLUGIN_EINVAL if it is not a JSON number (*out = 0). */
    int (*data_number)(cf_call *call, const char *field, double *out);
    int (*event_data_number)(cf_call *call, const char *field, double *out);

    /* ---- the local date (added after plain values: test with CF_HOST_HAS(host,
     * today) before using it) ---- */

    /* The date of the call's instant (now) in the engine's time zone, "YYYY-MM-DD"
     * into buf (at least 11 bytes): the date a policy sees as ctx.today.
     * CF_PLUGIN_EINVAL if buf is too small or the instant has no date. */
    int (*today)(cf_call *call, char *buf, size_t size);

    /* ---- numbers and column types (added in certflow 0.1.0 after the local date: test
     * with CF_HOST_HAS(host, sql_bind_double) before using them) ---- */

    /* Bind a double to parameter i (1-based). NaN and the infinities are
     * CF_PLUGIN_EINVAL (neither backend stores them alike): bind NULL instead. */
    int (*sql_bind_double)(cf_stmt *st, int i, double value);
    /* Column i (0-based) of the current row as a double (0 for NULL; text is
     * converted as far as it reads as a number). */
    double (*sql_column_double)(cf_stmt *st, int i);
    /* The CF_PLUGIN_TYPE_* of column i of the current row (CF_PLUGIN_TYPE_NULL for a
     * NULL, and for a column that does not exist). */
    int (*sql_column_type)(cf_stmt *st, int i);

    /* New members are added here, at the end; test them with CF_HOST_HAS. */
} cf_host;

/* True when the engine's host table has `member` (always, for ABI 1 members). */
#define CF_HOST_HAS(host, member) \
    ((host)->size >= offsetof(cf_host, member) + sizeof((host)->member) && (host)->member != NULL)

/* What the plugin exports. Declared here so that definitions are checked. */
CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void);
CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json);

#ifdef __cplusplus
}
#endif

#endif /* CERTFLOW_PLUGIN_H */
