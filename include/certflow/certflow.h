/*
 * certflow.h — the embedding API of certflow, an engine that runs certification
 * lifecycles as declarative state machines with Lua policies, kept in SQLite.
 *
 * Conventions (they hold for every function below):
 * - Every function returns a result code from CF_RESULT_TABLE; CF_OK is 0.
 *   On any other code, cf_errmsg(engine) says what went wrong and what to do.
 * - Strings are UTF-8 and NUL-terminated; text that is not valid UTF-8 is refused
 *   (CF_EINVAL, or CF_EJSON inside JSON), and names, ids, actors and idempotency
 *   keys may hold no control character (docs/embedding.md). JSON data is one
 *   complete object; NULL means {}, "" is refused. Times are cf_time: whole seconds since
 *   1970-01-01T00:00:00Z. Dates and times cross this API as ISO 8601 text.
 * - Pointers the engine returns (inside cf_instance_info, cf_fire_result,
 *   cf_history_entry, ...) are owned by the engine and stay valid until the next
 *   call on the same engine handle, unless the comment says otherwise. Copy what
 *   you keep. Pointers you pass in are only read during the call.
 * - Callbacks (cf_*_fn) receive rows that are valid only during the callback;
 *   a callback returns 0 to continue or non-zero to stop (the call then returns
 *   CF_OK). A callback must not call the engine it was called from.
 * - Threading: an engine handle is not thread-safe; use one handle per thread.
 *   Several handles, in one process or several, may share one database file.
 * - When a call that changes data fails, it changes nothing.
 */
#ifndef CERTFLOW_H
#define CERTFLOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CF_BUILDING_LIBRARY) && defined(__GNUC__)
#define CF_API __attribute__((visibility("default")))
#else
#define CF_API
#endif

#define CF_VERSION_MAJOR 0
#define CF_VERSION_MINOR 1
#define CF_VERSION_PATCH 0
#define CF_VERSION_STRING "0.1.0"

/* Result codes: X(NAME, value, static description). cf_strerror() and
 * cf_result_name() read the same table. New codes are only ever appended. */
#define CF_RESULT_TABLE(X)                                                        \
    X(CF_OK, 0, "success")                                                        \
    X(CF_REJECTED, 1, "event rejected: no transition allowed it (recorded)")      \
    X(CF_EINVAL, 2, "invalid argument")                                           \
    X(CF_ENOMEM, 3, "out of memory")                                              \
    X(CF_ENOTFOUND, 4, "no such instance, workflow or record")                    \
    X(CF_EEVENT, 5, "unknown event for this workflow")                            \
    X(CF_EJSON, 6, "malformed JSON")                                              \
    X(CF_EWORKFLOW, 7, "invalid workflow definition")                             \
    X(CF_EPOLICY, 8, "policy error")                                              \
    X(CF_ELIMIT, 9, "a limit was exceeded (instructions, memory or count)")       \
    X(CF_EPLUGIN, 10, "plugin error")                                             \
    X(CF_ESTORE, 11, "database error")                                            \
    X(CF_EBUSY, 12, "database busy: another process held it past the timeout")   \
    X(CF_ECONFLICT, 13, "idempotency key already used for a different event")     \
    X(CF_ECORRUPT, 14, "database corrupt or tampered with")                       \
    X(CF_ESCHEMA, 15, "database schema not usable by this version")               \
    X(CF_EIO, 16, "file could not be read or written")                            \
    X(CF_EREADONLY, 17, "database is read-only")                                  \
    X(CF_EFULL, 18, "disk or database full")                                      \
    X(CF_EACTION, 19, "an action failed; the transition was rolled back")

typedef enum cf_result {
#define CF__RESULT_ENUM(name, value, text) name = value,
    CF_RESULT_TABLE(CF__RESULT_ENUM)
#undef CF__RESULT_ENUM
} cf_result;

/* Static description of a result code; never NULL. */
CF_API const char *cf_strerror(int rc);
/* Static name of a result code ("CF_EJSON"); "CF_UNKNOWN" for other values. */
CF_API const char *cf_result_name(int rc);

typedef int64_t cf_time;

/* Parse ISO 8601: "2025-03-01" (midnight UTC), "2025-03-01T08:00:00Z",
 * "2025-03-01T08:00:00-08:00" or "2025-03-01T08:00" (UTC). CF_EINVAL if not. */
CF_API int cf_time_parse(const char *iso, cf_time *out);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes; CF_EINVAL if smaller). */
CF_API int cf_time_format(cf_time t, char *buf, size_t size);

/* Calendar dates (proleptic Gregorian, years 1 to 9999) as day numbers: days since
 * 1970-01-01, negative before. A day number plus n is the date n days later. */
/* Parse exactly "YYYY-MM-DD" into *day. CF_EINVAL if malformed or not a real date
 * (2025-02-29); *day is then unchanged. */
CF_API int cf_date_parse(const char *text, int64_t *day);
/* Format day as "YYYY-MM-DD" into buf (at least 11 bytes). CF_EINVAL if buf is
 * smaller or the date lies outside years 1 to 9999. */
CF_API int cf_date_format(int64_t day, char *buf, size_t size);
/* The day number of year-month-dom. CF_EINVAL if that is not a real date. */
CF_API int cf_date_from_civil(int year, int month, int dom, int64_t *day);
/* The year, month (1-12) and day of the month (1-31) of a day number; any
 * output may be NULL. CF_EINVAL if the date lies outside years 1 to 9999. */
CF_API int cf_date_to_civil(int64_t day, int *year, int *month, int *dom);

/* The clock: returns the current time. Replace it to run on a virtual clock. */
typedef cf_time (*cf_clock_fn)(void *ud);

typedef struct cf_engine cf_engine;

/* A log message: level 0 debug, 1 info, 2 warning, 3 error; source names who
 * logged it ("plugin fees"). Strings valid only during the callback. */
typedef void (*cf_log_fn)(void *ud, int level, const char *source, const char *message);

/* Options for cf_engine_open. Start from CF_OPTIONS_INIT; fields are only ever
 * added at the end, and `size` tells the engine which ones you know of. */
typedef struct cf_options {
    size_t size;
    /* Folder of workflow definitions (*.lua). NULL: no workflows. */
    const char *workflow_dir;
    /* Folder holding policy/state.lua and counties/<county>.lua. NULL: none. */
    const char *policy_dir;
    /* Plugins loaded at open: a folder (every *.so in it, in name order), a .so
     * file, or several of these separated by ':'. NULL: none. See docs/plugins.md. */
    const char *plugin_dir;
    /* Lua VM instructions one policy call may run; 0 = default (1,000,000). */
    uint64_t lua_instruction_budget;
    /* Bytes one policy call may allocate; 0 = default (16 MiB). */
    size_t lua_memory_cap;
    /* Clock; NULL = the system clock. */
    cf_clock_fn clock;
    void *clock_ud;
    /* How long to wait for another process's lock, in ms; 0 = default (5000). */
    int busy_timeout_ms;
    /* POSIX TZ rule of the program's time zone; NULL = "PST8PDT,M3.2.0,M11.1.0"
     * (America/Los_Angeles). Dates in policies are local to this zone. */
    const char *time_zone;
    /* Most timers one cf_engine_tick may fire; 0 = default (1,000,000). */
    uint64_t max_tick_fires;
    /* Configuration of plugins: a JSON object text {"<plugin name>": {...}, ...};
     * each plugin's init gets the text of its own member ("{}" if none). NULL: none. */
    const char *plugin_config;
    /* Receives what plugins log (see cf_log_fn); NULL: dropped. */
    cf_log_fn log;
    void *log_ud;
    /* How hard a commit pushes data to the disk: CF_SYNC_NORMAL or CF_SYNC_FULL;
     * 0 = default (CF_SYNC_NORMAL). See docs/performance.md for what each costs. */
    int synchronous;
    /* ---- reading a database without writing it ---- */
    /* 1: open an existing database for reading only. Nothing is created, migrated
     * or written: no -wal or -shm file when no other process has the database
     * open; every call that writes returns CF_EREADONLY. Works on a file or folder
     * this process cannot write. A schema that needs migrating is refused
     * (CF_EREADONLY). 0 (default): open for reading and writing. See docs/embedding.md. */
    int read_only;
    /* Wall-clock limit of one policy call (guard, assign, deadline) in ms; 0 = default
     * (1000). Checked inside the sandbox besides the instruction budget, it also stops
     * work the count cannot see (C library functions, instructions on long strings).
     * A call stopped by it fails with CF_ELIMIT naming the policy file and function. */
    uint32_t lua_time_limit_ms;
    /* Wall-clock limit of running one policy file's or workflow file's top level while
     * loading, in ms; 0 = default (5000). A file stopped by it fails to load (CF_ELIMIT
     * for policies, CF_EWORKFLOW for workflows), naming the file. */
    uint32_t lua_load_time_limit_ms;
} cf_options;

/* Values of cf_options.synchronous (SQLite's synchronous setting in WAL mode). */
#define CF_SYNC_DEFAULT 0
/* A commit survives the program crashing; a power loss or OS crash may undo the
 * last commits (never half of one, never a corrupt file). No fsync per commit. */
#define CF_SYNC_NORMAL 1
/* Every commit is on the disk when it returns, power loss included: one fsync per commit. */
#define CF_SYNC_FULL 2

#define CF_OPTIONS_INIT {sizeof(cf_options), NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0}

/* Open (creating if needed) the database at `path` (a file, or ":memory:"),
 * migrate its schema, load policies, plugins and workflows. *out is set even on
 * failure (unless memory ran out) so that cf_errmsg can explain; close it always. */
CF_API int cf_engine_open(const char *path, const cf_options *opts, cf_engine **out);
/* Close and free the engine; NULL is allowed. */
CF_API int cf_engine_close(cf_engine *engine);
/* The message of the last failed call on this handle ("" after success).
 * Owned by the engine; valid until the next call on it. Never NULL. */
CF_API const char *cf_errmsg(const cf_engine *engine);
/* The engine's current time (its clock). */
CF_API cf_time cf_engine_now(const cf_engine *engine);
/* The backend the engine's database is kept in: "sqlite" or "postgresql" (docs/deployment.md). */
CF_API const char *cf_engine_backend(const cf_engine *engine);
/* The local date (a day number, see cf_date_parse) of instant t in the engine's
 * time zone (cf_options.time_zone). CF_EINVAL if engine or day is NULL, or the
 * date lies outside years 1 to 9999. */
CF_API int cf_local_date(cf_engine *engine, cf_time t, int64_t *day);
/* The instant local midnight starts date day in the engine's time zone (where a
 * change of offset skips midnight, the first instant of that date). CF_EINVAL if
 * engine or out is NULL, or day lies outside years 1 to 9999. */
CF_API int cf_local_midnight(cf_engine *engine, int64_t day, cf_time *out);

/* ---- Instances ---- */

/* Create an instance of `workflow` for `county` with initial data (a JSON
 * object text, or NULL for {}). Runs the initial state's entry actions and
 * schedules its timers. Writes the new id (a UUID, 36 chars + NUL) into id_out.
 * CF_EINVAL, nothing created, when the data holds a field the workflow declares
 * `owned` (docs/workflows.md): only its policies and plugins write those. */
CF_API int cf_instance_create(cf_engine *engine, const char *workflow, const char *county,
                              const char *data_json, const char *actor, char id_out[37]);

/* What happened when an event was fired. Strings are owned by the engine. */
typedef struct cf_fire_result {
    size_t size;          /* set by the caller: sizeof(cf_fire_result) */
    int applied;          /* 1 applied, 0 rejected */
    int replayed;         /* 1 if this is the stored outcome of an earlier fire with the same key */
    const char *from_state;
    const char *to_state; /* equals from_state when rejected */
    const char *reasons;  /* JSON array of strings: why guards refused ("[]" if applied) */
    int64_t seq;          /* the history row that records this event */
} cf_fire_result;

#define CF_FIRE_RESULT_INIT {sizeof(cf_fire_result), 0, 0, NULL, NULL, NULL, 0}

/* Fire `event` at instance `id` with event data (JSON object text or NULL),
 * by `actor`, under an optional idempotency key (NULL for none).
 * Returns CF_OK when applied, CF_REJECTED when no transition allowed it (the
 * rejection and its reasons are recorded), or an error (nothing recorded).
 * Firing a key again returns the first outcome with replayed = 1; the same key
 * with a different event or data is CF_ECONFLICT. Event data holding a field
 * the workflow declares `owned` is CF_EINVAL (nothing recorded). `out` may be NULL. */
CF_API int cf_instance_fire(cf_engine *engine, const char *id, const char *event,
                            const char *data_json, const char *actor, const char *idem_key,
                            cf_fire_result *out);

/* Options for cf_instance_explain and cf_instance_events. Start from
 * CF_EXPLAIN_OPTIONS_INIT; fields are only ever added at the end. */
typedef struct cf_explain_options {
    size_t size;
    const char *data_json; /* the event data the fire would carry (JSON object text); NULL: {} */
    const char *actor;     /* who would fire it; NULL: "api" */
    cf_time now;           /* the instant the policies see; 0: the engine's clock */
} cf_explain_options;

#define CF_EXPLAIN_OPTIONS_INIT {sizeof(cf_explain_options), NULL, NULL, 0}

/* Explain what firing `event` at instance `id` would do, recording nothing.
 * *json_out gets a JSON object text the caller frees with cf_free:
 *   instance, workflow, county, state, event, at (ISO 8601)
 *   outcome      "applied", "rejected", or "error" (an action or policy would fail:
 *                "error" holds the message and "code" the result name, e.g. "CF_EACTION")
 *   to_state     the state it would be in (the current one unless applied)
 *   transitions  every transition of the event from the current state, in the
 *                workflow's order: {from, to, reenter, passed, taken, guards: [{guard,
 *                passed, reason}]} (reason null when passed); the first that passes is taken
 *   reasons      what a rejection would record: each reason once, the decisive first
 *   data_changes {field: {from, to}} for each top-level data field it would change
 *   deadlines    the timers it would set: [{state, timer, event, due}]
 *   cancelled    the pending timers it would cancel: [{state, timer, event, due}]
 *   sends        the linked events it would queue: [{instance, event}]
 *   records      the rows plugins would write (fees charged, notices...):
 *                [{table, op ("insert", "update", "delete"), row}]
 * The transition really runs (guards, actions, plugins, timers, history) inside a
 * transaction (a savepoint in a batch) that is rolled back, so it shows exactly
 * what cf_instance_fire would do at that instant; plugins are told
 * (cf_host.previewing) and act on nothing outside the database. It needs a
 * handle that may write (CF_EREADONLY on a read-only one) and holds the write
 * lock for that moment. Errors as cf_instance_fire (CF_ENOTFOUND, CF_EEVENT,
 * CF_EJSON, CF_EINVAL...) except the failures of the transition itself, which
 * are its outcome. */
CF_API int cf_instance_explain(cf_engine *engine, const char *id, const char *event,
                               const cf_explain_options *opts, char **json_out);

/* One event an instance accepts in its current state (cf_instance_events).
 * Strings valid only during the callback. */
typedef struct cf_event_choice {
    size_t size;
    const char *event;
    int allowed;          /* 1: a transition's guards all pass now (with the options' data) */
    const char *to_state; /* the state it would move to; NULL when not allowed */
    const char *reasons;  /* JSON array: why not, as a fire would record it ("[]" when allowed) */
    int by_timer;         /* 1: a timer of the current state fires this event */
    const char *error;    /* NULL; or why its guards could not be evaluated (a policy error or
                           * limit, naming the guard): then allowed is 0 and reasons "[]" */
} cf_event_choice;

typedef int (*cf_event_choice_fn)(void *ud, const cf_event_choice *choice);
/* Call fn for each event that has a transition from instance id's current state,
 * in the workflow's event order, with whether its guards would pass now (the
 * options' data, actor and time, as cf_instance_explain; opts may be NULL). Runs
 * guards only, in a read transaction: records nothing, works on a read-only handle.
 * A guard that fails to run (CF_EPOLICY, CF_ELIMIT, CF_EPLUGIN) is that event's
 * `error`; the other events are still listed. */
CF_API int cf_instance_events(cf_engine *engine, const char *id, const cf_explain_options *opts,
                              cf_event_choice_fn fn, void *ud);

typedef struct cf_instance_info {
    size_t size; /* set by the caller: sizeof(cf_instance_info) */
    const char *id;
    const char *workflow;
    const char *county;
    const char *state;
    const char *data;        /* JSON object text */
    const char *definition;  /* SHA-256 (hex) of the workflow definition it runs on */
    cf_time created_at;
    cf_time updated_at;
    int64_t version;         /* number of history rows of this instance */
    int terminal;            /* 1 if the state is terminal */
} cf_instance_info;

#define CF_INSTANCE_INFO_INIT {sizeof(cf_instance_info), NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0}

/* Read one instance. CF_ENOTFOUND if there is no such id. */
CF_API int cf_instance_get(cf_engine *engine, const char *id, cf_instance_info *out);

/* Nested states: a state is named by its full path ("certified.suspended"), and
 * a filter naming a parent matches every state inside it. 1 if `state` is
 * `filter` or lies inside it ("certified" holds "certified.active", not
 * "certifiedx"), 0 if not; a NULL filter matches everything. cf_instance_list,
 * cf_history_between and `certflow list/due --state` filter with it. */
CF_API int cf_state_in(const char *state, const char *filter);

/* Filter for cf_instance_list: NULL fields match everything; state matches a
 * parent's descendants too (cf_state_in). */
typedef struct cf_instance_filter {
    size_t size;
    const char *workflow;
    const char *state;
    const char *county;
} cf_instance_filter;

#define CF_INSTANCE_FILTER_INIT {sizeof(cf_instance_filter), NULL, NULL, NULL}

typedef int (*cf_instance_fn)(void *ud, const cf_instance_info *info);
/* Call fn for each matching instance, oldest first (creation time, then creation order). */
CF_API int cf_instance_list(cf_engine *engine, const cf_instance_filter *filter,
                            cf_instance_fn fn, void *ud);

/* One row of an instance's history (applied, rejected or created). */
typedef struct cf_history_entry {
    size_t size;
    int64_t seq;             /* position in the database-wide hash chain */
    int64_t number;          /* 1, 2, ... within the instance */
    const char *instance_id;
    cf_time at;              /* when it was recorded (engine clock) */
    cf_time effective_at;    /* the time policies saw (a timer's due time) */
    const char *actor;
    const char *event;       /* "" for the creation row */
    const char *data;        /* event data, JSON */
    const char *outcome;     /* "created", "applied" or "rejected" */
    const char *from_state;  /* "" for the creation row */
    const char *to_state;
    const char *reasons;     /* JSON array */
    const char *policy_hash; /* SHA-256 of the policy text used */
    const char *definition;  /* workflow definition hash */
    const char *idem_key;    /* NULL if none */
    const char *hash;        /* this row's chain hash */
} cf_history_entry;

typedef int (*cf_history_fn)(void *ud, const cf_history_entry *entry);
/* Call fn for each history row of instance `id`, oldest first. */
CF_API int cf_instance_history(cf_engine *engine, const char *id, cf_history_fn fn, void *ud);

/* ---- Batches ---- */

/* Run many calls in one SQLite transaction, for throughput. Between
 * cf_batch_begin and cf_batch_commit, cf_instance_fire, cf_instance_create and
 * each timer of cf_engine_tick work as usual and each stays all-or-nothing on its
 * own (a savepoint): a call that fails undoes only itself and the batch stays
 * usable; applied and rejected fires stay in it. Idempotency keys, history,
 * timers and linked events behave exactly as for single calls, and a call sees
 * what earlier calls of the batch did. Nothing is durable, or visible to other
 * handles, until cf_batch_commit; cf_batch_rollback, or closing the engine,
 * discards all of it. Linked events queued in a batch are delivered after it
 * commits. The batch holds the database's write lock from begin to commit, so
 * other writers wait (busy_timeout_ms): keep a batch to about a thousand fires.
 * Batches do not nest, and cf_policy_apply refuses to run inside one. */
CF_API int cf_batch_begin(cf_engine *engine);
/* Commit the open batch, then deliver its linked events (a delivery that fails
 * stays queued for the next tick). CF_EINVAL if no batch is open. If the commit
 * fails, nothing of the batch is applied. Either way no batch is open afterwards. */
CF_API int cf_batch_commit(cf_engine *engine);
/* Discard everything done since cf_batch_begin. CF_EINVAL if no batch is open. */
CF_API int cf_batch_rollback(cf_engine *engine);
/* 1 while a batch is open on this engine, else 0. */
CF_API int cf_batch_active(const cf_engine *engine);

/* ---- Timers ---- */

/* Fire every timer due at or before `now`, in due order, each as its own
 * transition whose policies see the timer's due time. Timers that those
 * transitions schedule at or before `now` fire in the same call, so after
 * downtime one tick catches up. Also delivers queued linked events.
 * *fired (may be NULL) gets the number of timers fired. */
CF_API int cf_engine_tick(cf_engine *engine, cf_time now, uint64_t *fired);

typedef struct cf_timer_info {
    size_t size;
    int64_t id;
    const char *instance_id;
    const char *workflow;
    const char *county;
    const char *state;   /* the state that scheduled it */
    const char *name;
    const char *event;   /* the event it fires */
    cf_time due;
} cf_timer_info;

typedef int (*cf_timer_fn)(void *ud, const cf_timer_info *timer);
/* Call fn for each pending timer with from <= due <= to, in due order. */
CF_API int cf_timer_list(cf_engine *engine, cf_time from, cf_time to, cf_timer_fn fn, void *ud);

/* ---- History queries ---- */

/* Filter for cf_history_between: NULL fields match everything. */
typedef struct cf_history_filter {
    size_t size;
    const char *workflow; /* only rows of instances of this workflow */
    const char *county;   /* only rows of instances of this county */
    const char *event;    /* only rows of this event ("" = the creation rows) */
    const char *outcome;  /* only "created", "applied" or "rejected" rows */
    /* Since issue 11 (nested states): */
    const char *state;    /* only rows whose to_state lies in this state (a parent matches its descendants) */
} cf_history_filter;

#define CF_HISTORY_FILTER_INIT {sizeof(cf_history_filter), NULL, NULL, NULL, NULL, NULL}

/* Call fn for each history row of any instance whose effective time t (the time
 * its policies saw) is from <= t < to, in chain order (seq). filter may be NULL.
 * For reports over many instances; it reads the whole history table. */
CF_API int cf_history_between(cf_engine *engine, cf_time from, cf_time to, const cf_history_filter *filter,
                              cf_history_fn fn, void *ud);
/* Since issue 15 (change feeds): call fn for each of the first `limit` history
 * rows after the cursor `after` (seq > after) that match the filter's workflow,
 * county, event and outcome, in chain order; the filter's state is applied to
 * those rows afterwards (a row it leaves out still counts against limit). *last
 * (may be NULL) gets the seq of the last row read, `after` when none: pass it as
 * the next cursor, and no row is missed or read twice. fn returning non-zero
 * stops the walk with CF_OK (*last is then that row). The cost is the rows
 * after the cursor, not the size of the history. limit 0 means no limit. */
CF_API int cf_history_after(cf_engine *engine, int64_t after, size_t limit, const cf_history_filter *filter,
                            cf_history_fn fn, void *ud, int64_t *last);

/* ---- Audit ---- */

typedef struct cf_verify_report {
    size_t size;
    int64_t rows;        /* history rows checked */
    int64_t first_bad;   /* seq of the first broken row of the chain, 0 if none */
    /* Since 0.1 issue 8 (fields are only appended; size says which you know): */
    int64_t instances;   /* instances checked against their history */
    int64_t unproven;    /* of those, how many have data and timers the history cannot prove: their
                            newest row was written before schema 4 (see docs/reliability.md) */
    int64_t timers;      /* pending timers checked */
    int64_t problems;    /* findings in all, of every kind */
    int64_t anchor_seq;  /* the row the anchor names (0 without an anchor) */
} cf_verify_report;

#define CF_VERIFY_REPORT_INIT {sizeof(cf_verify_report), 0, 0, 0, 0, 0, 0, 0}

/* Check the whole database (cf_engine_verify_full with default options). CF_OK
 * if nothing is wrong; CF_ECORRUPT with the first problem's message otherwise
 * (report->first_bad names the first broken row of the chain, if that is one). */
CF_API int cf_engine_verify(cf_engine *engine, cf_verify_report *report);

/* One problem verify found. Strings valid only during the callback. */
typedef struct cf_verify_finding {
    size_t size;
    /* What kind of problem, in the order verify checks:
     *   "integrity": the file itself (SQLite's integrity_check): a damaged page or index
     *   "chain":     the history's hash chain: a row changed, removed or inserted
     *   "instance":  an instance's state, data, version or definition is not what its history
     *                says (or history rows belong to no instance)
     *   "timer":     a pending timer is not what the history recorded, or is not one its
     *                instance's state declares
     *   "anchor":    the history's head does not match the anchor: rows removed or rewritten */
    const char *kind;
    int code;                /* CF_ECORRUPT */
    int64_t seq;             /* the history row concerned; 0 if none */
    const char *instance_id; /* the instance concerned; NULL if none */
    const char *message;     /* what is wrong and what to do */
} cf_verify_finding;

typedef int (*cf_verify_fn)(void *ud, const cf_verify_finding *finding);

typedef struct cf_verify_options {
    size_t size;
    /* 1: SQLite's quick_check instead of integrity_check (skips checking that
     * indexes match their tables: faster on a large file). */
    int quick;
    /* An anchor from cf_engine_anchor, kept outside the database: the history must
     * still hold its row with its hash (NULL: no anchor check). */
    const char *anchor;
    /* The key the anchor was signed with (NULL if unsigned). */
    const void *key;
    size_t key_len;
} cf_verify_options;

#define CF_VERIFY_OPTIONS_INIT {sizeof(cf_verify_options), 0, NULL, NULL, 0}

/* Check that the whole database is sound, in one read snapshot: the file's
 * integrity, the hash chain, every instance's state, data and version against its
 * history, the pending timers, and, with opts->anchor, the chain's head against
 * the anchor. fn (may be NULL) gets each problem, at most 100 of each kind (a
 * non-zero return stops the calls, not the checks); report (may be NULL) the counts. Returns CF_OK when nothing is wrong,
 * CF_ECORRUPT when anything is (cf_errmsg: the first problem and the count),
 * CF_EINVAL for a malformed anchor or a key that does not fit it, or a store
 * error that stopped the check. A problem marks the database: every handle then
 * refuses to write to it (CF_ECORRUPT, with how to recover) until a verify finds
 * nothing wrong. What this proves and what it cannot: docs/reliability.md. */
CF_API int cf_engine_verify_full(cf_engine *engine, const cf_verify_options *opts, cf_verify_fn fn, void *ud,
                                 cf_verify_report *report);

/* A checkpoint of the history's head to keep outside the database (another
 * machine, a ticket, paper): one line of text,
 *   "certflow-anchor-v1 seq=<newest row> hash=<its chain hash>"
 * followed, when key is given, by " hmac-sha256=<hex HMAC-SHA256 of the text
 * before it under key>". *anchor_out (free with cf_free) gets it. Verifying
 * against it later finds the newest rows removed, or the chain rewritten up to
 * that row; with a key, an anchor cannot be forged by whoever can write the
 * database but not read the key. CF_ECORRUPT if the database is marked corrupt:
 * take anchors of a database a verify found sound. */
CF_API int cf_engine_anchor(cf_engine *engine, const void *key, size_t key_len, char **anchor_out);

/* ---- Policy changes ---- */

/* One difference a proposed county overlay makes. Strings are owned by the
 * engine and valid only during the callback.
 *   kind "policy":      name "policy_hash"; old/new: the county's policy hash now and with the overlay
 *                       (always the first row)
 *   kind "param":       name: a parameter; old/new: its value for the county as JSON
 *   kind "deadline":    a pending timer the overlay moves; name: the timer, event: the event it
 *                       fires; old/new: due time "YYYY-MM-DDTHH:MM:SSZ", or "none" (no timer)
 *   kind "eligibility": name: a guard, event: the event it guards; old/new: "ok" or "no: <reason>"
 *   kind "state":       the instance changes state on apply: the engine fires the workflow's
 *                       `policy_changed` event (a transition on it whose guards pass under the
 *                       new policy); name: the new state; old/new: the state now and after
 *   kind "pin":         a parameter the instance keeps (applies_to "new": old/new its value
 *                       now, which it keeps) or gives up (applies_to "all": old the value it
 *                       was pinned to, new the county's new value); name: the parameter
 * instance_id, workflow and state are NULL for "policy" and "param" rows; so are who, county
 * and effect. who: the person (the instance data's `name`, else its `certification_number`,
 * else ""); effect: what apply does, in a sentence (e.g. "the timer moves later by 30 days",
 * "due already: 'grace_ended' fires at the next tick"). */
typedef struct cf_policy_change {
    size_t size;
    const char *kind;
    const char *instance_id;
    const char *workflow;
    const char *state;
    const char *name;
    const char *event;
    const char *old_value;
    const char *new_value;
    const char *who;
    const char *county;
    const char *effect;
} cf_policy_change;

typedef int (*cf_policy_change_fn)(void *ud, const cf_policy_change *change);

/* Preview replacing county's overlay (counties/<county>.lua of the policy
 * folder) with the file overlay_path, without writing anything. The proposed
 * overlay must load and validate (else CF_EPOLICY or CF_EIO naming the file and
 * the problem). For every live instance of the county, fn gets each pending
 * deadline whose due time the overlay changes (recomputed with the timer's
 * deadline function as of the instance's entry into its state), each timer it
 * would remove or add, and each guard of a transition out of the current state
 * whose verdict (empty event data, the engine's now) it changes. fn gets the rows
 * as each instance is examined (the engine keeps none of them, so a county of any
 * size takes the memory of one instance): when the call fails part way (a policy
 * error on one instance), fn has had the rows of the instances before it. */
CF_API int cf_policy_diff(cf_engine *engine, const char *county, const char *overlay_path,
                          cf_policy_change_fn fn, void *ud);

/* Apply what cf_policy_diff shows, in one transaction: move, remove or add the
 * timers, append one "policy_changed" history row (recorded under the new policy
 * hash) to each affected instance, keep the overlay text by its hash; then
 * install the file as counties/<county>.lua (a temporary file renamed into place)
 * and decide with it from now on. fn (may be NULL) gets the changes once all is
 * done. Nothing else changes. If the rename fails after the commit, the call
 * returns CF_EIO and the message names the temporary file to move into place.
 * Other engine handles keep the old overlay until they are reopened. */
CF_API int cf_policy_apply(cf_engine *engine, const char *county, const char *overlay_path,
                           const char *actor, cf_policy_change_fn fn, void *ud);

/* Who a county's policy change is for (docs/administrators.md, "Who a change is for"):
 *   "all" (the default of cf_policy_diff and cf_policy_apply): every live instance takes the
 *        new values now; a value an earlier "new" change pinned on an instance is released;
 *   "new": live instances the change would move keep the old values: apply pins each changed
 *        parameter's old value in the instance data (`policy_pins`, a field the workflow
 *        owns), records it in a policy_changed history row, and moves nothing; instances
 *        the change does not move now, and instances created later, take the new values.
 * Otherwise the same as cf_policy_diff / cf_policy_apply (NULL applies_to is "all"); an
 * applies_to other than "all" or "new" is CF_EINVAL. */
CF_API int cf_policy_diff_for(cf_engine *engine, const char *county, const char *overlay_path,
                              const char *applies_to, cf_policy_change_fn fn, void *ud);
CF_API int cf_policy_apply_for(cf_engine *engine, const char *county, const char *overlay_path,
                               const char *actor, const char *applies_to, cf_policy_change_fn fn, void *ud);

/* One applied county policy change (cf_policy_apply), as the log keeps it. Strings valid
 * only during the callback. A change that moved no instance is logged too. */
typedef struct cf_policy_log_entry {
    size_t size;
    int64_t seq;                 /* 1, 2, ... in the order applied */
    cf_time at;                  /* when it was applied (the engine's clock) */
    const char *actor;           /* who applied it */
    const char *county;
    const char *overlay_hash;    /* SHA-256 of the overlay file's text */
    const char *old_policy_hash; /* the county's policy hash before and after */
    const char *new_policy_hash;
    const char *applies_to;      /* "all" or "new" */
    int64_t instances;           /* live instances it moved, pinned or released */
    const char *params;          /* JSON [{name, old, new}]: the parameters that changed */
} cf_policy_log_entry;

typedef int (*cf_policy_log_fn)(void *ud, const cf_policy_log_entry *entry);

/* The applied policy changes, oldest first; county NULL for every county. fn returning
 * non-zero stops the listing (CF_OK). */
CF_API int cf_policy_log(cf_engine *engine, const char *county, cf_policy_log_fn fn, void *ud);

/* The outcome of one policy test case. Strings valid only during the callback. */
typedef struct cf_policy_case {
    size_t size;
    const char *file;     /* the case file */
    const char *name;     /* the case's name */
    int passed;           /* 1 passed, 0 failed */
    const char *expected; /* what the case expects, as text */
    const char *got;      /* what happened, as text */
} cf_policy_case;

typedef int (*cf_policy_case_fn)(void *ud, const cf_policy_case *result);

/* Run the policy test cases in cases_dir (*.lua files of data, see
 * docs/administrators.md; or one such file) against the engine's workflows and policies, each file
 * in a scratch in-memory engine (the engine's database is not touched). With
 * county and overlay_path (both or neither), overlay_path stands in for the
 * county's overlay. *failed (may be NULL) gets the number of failing cases;
 * a case file that does not load counts as one failing case. CF_OK when the
 * cases ran, whatever their outcome. */
CF_API int cf_policy_test(cf_engine *engine, const char *cases_dir, const char *county,
                          const char *overlay_path, cf_policy_case_fn fn, void *ud, int *failed);

/* Since issue 14: cf_policy_test with options: one named case, and coverage. */
typedef struct cf_policy_uncovered {
    size_t size;
    const char *kind; /* "guard", "deadline" or "parameter" */
    const char *name; /* the policy function no case ran, or the parameter no case's policy call read */
    const char *file; /* the policy file defining it (its label, e.g. policy/state.lua) */
} cf_policy_uncovered;

typedef int (*cf_policy_uncovered_fn)(void *ud, const cf_policy_uncovered *u);

typedef struct cf_policy_test_options {
    size_t size;              /* sizeof(cf_policy_test_options) */
    const char *cases;        /* a folder of case files (*.lua), or one case file */
    const char *county;       /* with overlay_path, as cf_policy_test; NULL: none */
    const char *overlay_path;
    const char *case_name;    /* run only the case(s) of this name; NULL: all. None: CF_ENOTFOUND */
    cf_policy_uncovered_fn uncovered; /* after the cases: each guard and deadline function no case ran, then
                                       * each state parameter no policy call of a case read (kind, then name order) */
    void *uncovered_ud;
} cf_policy_test_options;

#define CF_POLICY_TEST_OPTIONS_INIT {sizeof(cf_policy_test_options), NULL, NULL, NULL, NULL, NULL, NULL}

CF_API int cf_policy_test_run(cf_engine *engine, const cf_policy_test_options *opts, cf_policy_case_fn fn, void *ud,
                              int *failed);

/* ---- Definitions ---- */

typedef int (*cf_name_fn)(void *ud, const char *name);
/* Call fn with the name of each loaded workflow, sorted. */
CF_API int cf_workflow_names(cf_engine *engine, cf_name_fn fn, void *ud);

/* Render workflow `name` as Graphviz DOT into *dot_out, which the caller frees
 * with cf_free. */
CF_API int cf_workflow_dot(cf_engine *engine, const char *name, char **dot_out);

/* Since issue 14: a workflow drawn for people to read (certflow graph). */
typedef struct cf_graph_options {
    size_t size;          /* sizeof(cf_graph_options) */
    const char *format;   /* "dot" (NULL: the default) or "mermaid" (a stateDiagram-v2) */
    int no_guards;        /* 1: transition labels without their [guards] */
    int group_self_loops; /* 1: a state's transitions (and timers) back to itself as one edge */
    const char *phase;    /* only this state and the states inside it, and the edges among them */
    const char *highlight; /* this state (full path, e.g. an instance's) drawn filled */
} cf_graph_options;

#define CF_GRAPH_OPTIONS_INIT {sizeof(cf_graph_options), NULL, 0, 0, NULL, NULL}

/* Render workflow `name` with options into *out (free with cf_free). CF_ENOTFOUND for
 * an unknown workflow, phase or highlighted state; CF_EINVAL for an unknown format. */
CF_API int cf_workflow_graph(cf_engine *engine, const char *name, const cf_graph_options *opts, char **out);

/* Since issue 14: the data an event is fired with, as its workflow declares it
 * (`event_data`, docs/workflows.md; the shipped program's in docs/events.md). A
 * caller's fire (cf_instance_fire, cf_instance_explain) of an event its state takes,
 * whose event data lacks a required field or holds a declared field of another
 * type, is rejected before any guard runs (CF_REJECTED, recorded), each reason
 * naming the field, its type and example, and saying it belongs in the event's data;
 * the engine's own events (timers, link sends, policy_changed) are not checked. */
typedef struct cf_event_field {
    size_t size;
    const char *event;
    const char *field;
    const char *type;    /* "string", "integer", "number", "boolean", "date" ("YYYY-MM-DD"), "object", "array" */
    int required;        /* 1: an event without it is refused */
    const char *example; /* JSON text */
    const char *about;   /* what it holds, a sentence */
} cf_event_field;

typedef int (*cf_event_field_fn)(void *ud, const cf_event_field *field);
/* Call fn for each declared field of the current definition of workflow `name`, in
 * the workflow's event order, then by field name; fn returning non-zero stops.
 * CF_ENOTFOUND for an unknown workflow. */
CF_API int cf_workflow_event_data(cf_engine *engine, const char *name, cf_event_field_fn fn, void *ud);

/* One problem found by cf_check. */
typedef struct cf_diagnostic {
    size_t size;
    const char *file;    /* the file at fault */
    const char *message; /* what is wrong, where in the file, and a hint */
} cf_diagnostic;

typedef int (*cf_diagnostic_fn)(void *ud, const cf_diagnostic *diag);
/* Validate every workflow, the state policy, every county overlay and every
 * plugin named by opts, without opening a database (so plugin migrations do not
 * run); call fn for each problem (a refused plugin is one). *problems gets the
 * count. Returns CF_OK when there are none, otherwise CF_EWORKFLOW if a workflow
 * has one, CF_EPLUGIN if only plugins do, else CF_EPOLICY. */
CF_API int cf_check(const cf_options *opts, cf_diagnostic_fn fn, void *ud, int *problems);

/* Free memory the engine handed to the caller (cf_workflow_dot). */
CF_API void cf_free(void *ptr);

/* ---- Plugins ---- */

/* One plugin the engine tried to load. Strings valid only during the callback. */
typedef struct cf_plugin_status {
    size_t size;
    const char *path;        /* the .so file */
    const char *name;        /* from its info ("" if it could not be read) */
    const char *version;     /* the plugin's own version ("" if unknown) */
    const char *description; /* "" if unknown */
    int loaded;              /* 1 loaded and in use; 0 refused (see message) */
    const char *message;     /* why it was refused, naming the file and what to do; "" when loaded */
} cf_plugin_status;

typedef int (*cf_plugin_status_fn)(void *ud, const cf_plugin_status *plugin);
/* Call fn for each plugin file found at open, in load order, loaded or refused.
 * A refused plugin does not stop the engine from opening; its functions are
 * simply not there, and a workflow naming one fails to load. Also works on a
 * handle whose open failed, to show why. */
CF_API int cf_plugin_list(cf_engine *engine, cf_plugin_status_fn fn, void *ud);

/* Run the query `name` that a loaded plugin registered, named "<plugin>.<query>"
 * (e.g. "fees.statement"), with args_json (a JSON object text, or NULL for {}).
 * *result_json gets the plugin's answer, JSON text the caller frees with cf_free
 * ("null" if it gave none). A query registered as writing runs in a transaction of
 * its own, committed only if it succeeds; any other runs in a read transaction.
 * CF_ENOTFOUND if no loaded plugin has such a query (the message lists those that
 * exist), CF_EJSON for malformed args, CF_EPLUGIN if the plugin fails (the message
 * names the plugin and says why). On failure *result_json is NULL. */
CF_API int cf_plugin_query(cf_engine *engine, const char *name, const char *args_json, char **result_json);
/* Call fn with the full name of each query of the loaded plugins, in load order. */
CF_API int cf_plugin_queries(cf_engine *engine, cf_name_fn fn, void *ud);

/* ---- Workflow versions and migration ---- */

/* Every stored definition (version) of `workflow` (NULL: of every workflow, by
 * name), oldest first. *json_out (free with cf_free) gets {"versions": [{workflow, hash,
 * first_stored (ISO 8601), current (true for the definition the workflow files
 * hold now), live, ended (how many instances run on it in a non-terminal or a
 * terminal state), states ({state: count})}]}. Reads only. CF_ENOTFOUND if no
 * definition of `workflow` is stored and none is loaded. */
CF_API int cf_workflow_versions(cf_engine *engine, const char *workflow, char **json_out);

/* What changed between two versions of `workflow`. old_version and new_version
 * are each a stored definition's hash, a prefix of one that names exactly one
 * definition of the workflow, or "current". *json_out (free with cf_free) gets
 * {workflow, old, new (full hashes), changes: [{kind, change, name, old, new}]}:
 *   kind    "state", "terminal", "initial", "event", "transition", "guard", "action"
 *           or "timer" (rows come in this order of kinds)
 *   change  "added", "removed" or "changed"
 *   name    the state, event or timer ("STATE.TIMER"); a transition as
 *           "FROM --EVENT--> TO"; a guard or action as "NAME in <transition or
 *           STATE.on_enter / STATE.on_exit>"
 *   old/new what it was and is (null when absent): a timer's "EVENT after DEADLINE",
 *           a transition's guards and actions, a state's `terminal`...
 * CF_ENOTFOUND for a hash that names
 * no stored definition of the workflow, CF_EINVAL for an ambiguous prefix. */
CF_API int cf_workflow_diff(cf_engine *engine, const char *workflow, const char *old_version,
                            const char *new_version, char **json_out);

/* What a migration moves: live instances (in a non-terminal state) of `workflow`
 * that run on another definition than `to`. Start from CF_MIGRATE_OPTIONS_INIT. */
typedef struct cf_migrate_options {
    size_t size;
    const char *workflow;   /* required */
    const char *to;         /* the target definition: a hash, a unique prefix or "current" (NULL: "current") */
    const char *from;       /* only instances on this definition (hash or prefix); NULL: every other one */
    const char *const *map; /* nmap entries "OLD_STATE=NEW_STATE": where instances in OLD_STATE land */
    size_t nmap;
    const char *county;     /* only instances of this county; NULL: all */
    const char *state;      /* only instances in this state (of their current definition); NULL: all */
    const char *actor;      /* recorded on each migration row; NULL: "api" */
} cf_migrate_options;
#define CF_MIGRATE_OPTIONS_INIT {sizeof(cf_migrate_options), NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL}

/* The dry run of a migration: writes nothing. *json_out (free with cf_free) gets
 *   workflow, to (the target hash), at (the engine's now, ISO 8601), map (the
 *   explicit --map pairs), candidates, movable, blocked, ended (ended instances
 *   left where they are), already (instances on the target definition already)
 *   instances: [{id, county, who, from_definition, from_state, to_state (null when
 *     blocked), movable, why (null when movable: what keeps it from moving),
 *     timers: [{state, timer, event, action: "cancel" | "keep" | "schedule", due}]}]
 * A state maps to the state of the same name in the target (else, between flat
 * and nested versions, of the same key; a parent means its initial child) unless
 * map says otherwise (keys or full paths; an OLD parent maps every state inside
 * it); an instance in a state with no mapping is blocked, and so is one
 * whose data the target's guards refuse on entry (docs/workflows.md, "Changing a
 * shipped workflow safely", says exactly when). New timers are due when the
 * target's deadline, under the policy in force, says for the instant the instance
 * entered its state. A map naming a state that neither side has (OLD must be a
 * state of a source definition, NEW of the target) is CF_EINVAL before anything
 * is read. */
CF_API int cf_migrate_plan(cf_engine *engine, const cf_migrate_options *opts, char **json_out);

/* Migrate what cf_migrate_plan shows: each movable instance in its own
 * transaction (all or nothing per instance): its timers cancelled, kept or
 * scheduled, its definition and state changed, and one history row appended
 * (event "(migrate)", outcome "applied", from_state and to_state, the new
 * definition's hash, data {from_definition, to_definition, state_map, timers}),
 * so verify passes after it. Blocked instances are left as they are. *json_out
 * (may be NULL; free with cf_free) gets the plan as applied, each instance with
 * "migrated" and the "seq" of its row. Running it again changes nothing: migrated
 * instances are on the target. A store error stops the run: instances migrated
 * before it stay migrated, the one in progress is rolled back; run it again. */
CF_API int cf_migrate_apply(cf_engine *engine, const cf_migrate_options *opts, char **json_out);
/* ---- API tokens (certflow serve; docs/server.md) ---- */

/* A token's secret: "cft_" and 64 lower-case hex digits (32 random bytes), plus NUL. */
#define CF_TOKEN_SECRET_SIZE 69

/* One API token. Strings valid only during the callback. */
typedef struct cf_token_info {
    size_t size;
    int64_t id;
    const char *name;       /* unique; the actor history rows record for its requests */
    const char *role;       /* "admin" (the state), "county" (county staff) or "integration" */
    const char *county;     /* the county it is limited to; NULL for "admin" */
    cf_time created_at;
    const char *created_by;
    cf_time expires_at;     /* refused from this instant on; 0: never expires */
    cf_time revoked_at;     /* 0: not revoked */
} cf_token_info;

typedef int (*cf_token_fn)(void *ud, const cf_token_info *token);

/* Create a token named `name` with role "admin", "county" or "integration";
 * county (required for the last two, refused for "admin") limits it to one
 * county; expires_at (0: never) is the instant from which it is refused. The
 * secret (CF_TOKEN_SECRET_SIZE bytes) is written to secret_out and nowhere else:
 * the database keeps only its SHA-256, so it can be shown once and never again.
 * CF_EINVAL for a bad name, role, county or an expiry not after the clock's now;
 * CF_ECONFLICT when the name is taken (revoked tokens keep their names). */
CF_API int cf_token_create(cf_engine *engine, const char *name, const char *role, const char *county,
                           cf_time expires_at, const char *actor, char secret_out[CF_TOKEN_SECRET_SIZE]);
/* Check a secret presented by a client: fn gets the token when it is known, not
 * revoked and not expired at the engine's clock, and the call returns CF_OK.
 * Otherwise: CF_EINVAL when the text is not a token secret at all, CF_ENOTFOUND
 * when it is unknown, revoked or expired (cf_errmsg says which and names the
 * token, never the secret). Reads only; works on a read-only handle. */
CF_API int cf_token_verify(cf_engine *engine, const char *secret, cf_token_fn fn, void *ud);
/* Revoke the token named `name`: every later cf_token_verify of it fails.
 * CF_ENOTFOUND when there is no such token or it was revoked already. */
CF_API int cf_token_revoke(cf_engine *engine, const char *name, const char *actor);
/* Call fn for each token, revoked and expired ones included, oldest first. */
CF_API int cf_token_list(cf_engine *engine, cf_token_fn fn, void *ud);

/* ---- Webhook subscriptions (certflow serve; docs/server.md "Webhooks") ----
 * A subscriber (a county's or an employer's system) gets each registry change of
 * its county's certificants POSTed to its URL, signed with its secret. The
 * subscription's outbox is the history after its cursor: deliveries are derived
 * from the history in order, and the cursor moves only when the receiver
 * acknowledged one, so nothing is lost across a restart and the order holds. */

/* A webhook's secret: "whs_" and 64 lower-case hex digits, plus NUL. */
#define CF_WEBHOOK_SECRET_SIZE 69

/* One subscription. Strings valid only during the callback. */
typedef struct cf_webhook_info {
    size_t size;
    int64_t id;
    const char *name;       /* unique */
    const char *county;     /* the county whose changes it gets; NULL: every county */
    const char *url;        /* http:// or https:// */
    const char *secret;     /* the HMAC-SHA256 key the deliveries are signed with */
    cf_time created_at;
    const char *created_by;
    cf_time removed_at;     /* 0: active */
    int64_t cursor;         /* the history seq delivered (acknowledged) up to */
    int64_t attempts;       /* failed attempts since the cursor last moved */
    const char *last_error; /* the last failed attempt's reason; NULL: none */
    cf_time last_attempt_at;
} cf_webhook_info;

typedef int (*cf_webhook_fn)(void *ud, const cf_webhook_info *webhook);

/* Subscribe url (http:// or https://, at most 2000 bytes) to the changes of
 * county (NULL: every county) after the history seq `after` (-1: from the
 * history's head now, so only changes to come). The secret (generated,
 * CF_WEBHOOK_SECRET_SIZE bytes) is written to secret_out; the database keeps it,
 * as the server signs with it. CF_EINVAL for a bad name, county or URL;
 * CF_ECONFLICT when the name is taken (removed webhooks keep their names). */
CF_API int cf_webhook_create(cf_engine *engine, const char *name, const char *county, const char *url, int64_t after,
                             const char *actor, char secret_out[CF_WEBHOOK_SECRET_SIZE]);
/* Call fn for each subscription, removed ones too, oldest first. */
CF_API int cf_webhook_list(cf_engine *engine, cf_webhook_fn fn, void *ud);
/* Remove the active subscription `name`: nothing more is delivered to it.
 * CF_ENOTFOUND when there is none. */
CF_API int cf_webhook_remove(cf_engine *engine, const char *name, const char *actor);
/* Record a delivery attempt of subscription id (the server's deliverer): the
 * cursor moves to `cursor` (never back), attempts and last_error (NULL: none)
 * are kept. CF_ENOTFOUND when the subscription was removed. */
CF_API int cf_webhook_progress(cf_engine *engine, int64_t id, int64_t cursor, int64_t attempts,
                               const char *last_error);

/* Since issue 14: what each loaded plugin registered. */
typedef struct cf_plugin_function {
    size_t size;
    const char *plugin; /* the plugin's name */
    const char *kind;   /* "action", "guard" or "query" */
    const char *name;   /* as workflows name it (a query: "<plugin>.<query>") */
} cf_plugin_function;

typedef int (*cf_plugin_function_fn)(void *ud, const cf_plugin_function *f);
/* Call fn for each action, guard and query of each loaded plugin, in registration
 * order (actions and guards first). Like cf_plugin_list, also works on a handle
 * whose open failed. */
CF_API int cf_plugin_functions(cf_engine *engine, cf_plugin_function_fn fn, void *ud);

/* ---- Moving a database to another backend (certflow store copy; docs/deployment.md) ---- */

/* One table of a copy and the rows it holds on the target. */
typedef int (*cf_copy_fn)(void *ud, const char *table, int64_t rows);
/* Copy the whole database `from` into the new, empty database `to` (each a SQLite
 * file or a PostgreSQL connection string): instances with their serials, history
 * with its chain as stored, timers, outbox, workflow definitions, policy texts and
 * the policy change log, the integrity mark, API tokens, and the plugins' tables
 * with their schema versions. opts (may be NULL) gives the plugins (plugin_dir,
 * plugin_config): the target is first opened with them alone, so that their own
 * migrations create their tables in the target's SQL dialect, and each plugin
 * table is then copied by column name; the verify at the end opens the target
 * with all of opts (workflows and policies too, as the county runs it). The rows go in one transaction
 * on the target: all or nothing. Then the target is verified
 * (cf_engine_verify_full) and every table's rows counted against the source's; fn
 * (may be NULL) gets each table and its count. CF_EINVAL, with nothing copied, when
 * the target holds any row, when the two name the same database, or when the
 * source holds tables of a plugin not given or at another schema version (the
 * message names it). On failure msg (msg_size bytes, may be NULL) says what went
 * wrong and what to do. */
CF_API int cf_store_copy(const char *from, const char *to, const cf_options *opts, cf_copy_fn fn, void *ud,
                         char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif

#endif /* CERTFLOW_H */
