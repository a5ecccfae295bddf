/*
 * internal.h — declarations shared by the engine's files; nothing here is public.
 * Internal names carry the cf__ prefix. Each section names the file that owns it.
 */
#ifndef CF_INTERNAL_H
#define CF_INTERNAL_H

#include "certflow/certflow.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

#define CF__HASH_HEX 65 /* 64 hex digits + NUL */
#define CF__MSG_MAX 2048

#if defined(__GNUC__)
#define CF__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CF__PRINTF(a, b)
#endif

/* ===== util.c: errors, buffers, files, hashing ===== */

/* Where a failing internal call writes its message. */
typedef struct cf__err {
    char msg[CF__MSG_MAX];
} cf__err;

/* Write a formatted message into err (if non-NULL) and return rc. */
int cf__fail(cf__err *err, int rc, const char *fmt, ...) CF__PRINTF(3, 4);
/* Prefix the message already in err with formatted text + ": ". */
void cf__err_prefix(cf__err *err, const char *fmt, ...) CF__PRINTF(2, 3);

/* A growable NUL-terminated byte buffer. Zero-initialise; free with cf__buf_free. */
typedef struct cf__buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom; /* set once an append failed; later appends do nothing */
} cf__buf;

void cf__buf_append(cf__buf *b, const char *s, size_t n);
void cf__buf_puts(cf__buf *b, const char *s);
void cf__buf_printf(cf__buf *b, const char *fmt, ...) CF__PRINTF(2, 3);
void cf__buf_free(cf__buf *b);

/* strdup that returns NULL for NULL. */
char *cf__strdup(const char *s);

/* Read a whole file into a malloc'd NUL-terminated buffer. CF_EIO with a message. */
int cf__read_file(const char *path, char **out, size_t *len, cf__err *err);

/* SHA-256 of data as lowercase hex into out (CF__HASH_HEX bytes). */
void cf__sha256_hex(const void *data, size_t len, char out[CF__HASH_HEX]);

/* Incremental SHA-256 (wraps libcrypto's EVP interface). */
typedef struct cf__sha256 cf__sha256;
cf__sha256 *cf__sha256_new(void);
void cf__sha256_update(cf__sha256 *h, const void *data, size_t len);
/* Finishes and frees h. */
void cf__sha256_final(cf__sha256 *h, char out[CF__HASH_HEX]);

/* Sorted list of regular files in dir whose names end in suffix (".lua").
 * *names is a malloc'd array of malloc'd full paths; free with cf__free_list.
 * A missing dir is CF_EIO. */
int cf__list_dir(const char *dir, const char *suffix, char ***names, size_t *count, cf__err *err);
void cf__free_list(char **names, size_t count);

/* Edit distance, for "did you mean" hints. */
size_t cf__edit_distance(const char *a, const char *b);
/* The candidate closest to name (distance <= 3), or NULL. */
const char *cf__closest(const char *name, const char *const *candidates, size_t n);

/* The one check of a table's keys against the names allowed (workflow files,
 * policy files, policy test cases); each caller words its own message. */
typedef struct cf__keys_found {
    bool unknown_found;
    char unknown[512];        /* the smallest unknown key, in name order (not the table's order) */
    const char *closest;      /* the allowed name closest to it, or NULL */
    char allowed[512];        /* the allowed names, joined by ", " */
    bool unnamed;             /* a key that is not a name (Lua: a number, a boolean, ...) */
    bool unnamed_is_int;      /* ... and among them an integer: the smallest is unnamed_int */
    long long unnamed_int;
    const char *unnamed_type; /* else the first such key's type */
} cf__keys_found;
/* True when every key of the JSON object o is among allowed; else *f says which is not. */
bool cf__check_keys_json(const json_t *o, const char *const *allowed, size_t n, cf__keys_found *f);
/* The same for the Lua table at absolute index t (its stack is left as it was). */
struct lua_State;
bool cf__check_keys_lua(struct lua_State *L, int t, const char *const *allowed, size_t n, cf__keys_found *f);

/* ---- util.c: text checked at the door (every caller-given or policy-returned string) ---- */

/* Decode one UTF-8 sequence of s[0..n): its length (1-4) and *cp, or 0 when it is
 * not well formed (overlong, a surrogate, above U+10FFFF, cut short, a stray byte). */
size_t cf__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Offset of the first byte of s[0..n) that is not well-formed UTF-8; n if none. */
size_t cf__utf8_invalid_at(const char *s, size_t n);
bool cf__utf8_valid(const char *s, size_t n);
/* Code points that move the cursor or reorder what is shown: C0, DEL, C1, the
 * line/paragraph separators and the bidirectional marks, embeddings and isolates. */
bool cf__is_control(uint32_t cp);
/* A caller's text argument: CF_EINVAL naming `what` unless it is valid UTF-8 and,
 * with `line`, free of control characters (names, actors, keys). NULL passes. */
int cf__check_text(cf__err *err, const char *what, const char *s, bool line);
/* Text a policy or plugin returned (n bytes): CF_EPOLICY naming `what` if it holds
 * a NUL byte or is not valid UTF-8. NULL passes. */
int cf__check_returned_text(cf__err *err, const char *what, const char *s, size_t n);
/* The one canonical JSON text of v (any value): compact, keys sorted. It is what
 * the store keeps for instance data, history reasons and event data, and so what
 * the audit hashes cover: every such text is produced here. Caller frees; NULL
 * when out of memory. */
char *cf__json_canonical(const json_t *v);
/* A name of the program's kind: a lower case letter, then lower case letters,
 * digits and '_', at most max bytes (plugins; counties below). */
bool cf__valid_name(const char *s, size_t max);
/* A county name: lower-case letters, digits and '_', starting with a letter, at
 * most 64 bytes (the one check of instances, county files, policy changes and
 * policy tests). */
bool cf__valid_county(const char *s);
/* What JSON text meant to hold an object turned out to be. */
typedef enum cf__json_kind { CF__JSON_OBJECT, CF__JSON_INVALID, CF__JSON_ARRAY, CF__JSON_SCALAR } cf__json_kind;
/* The one rule for JSON object text (duplicate keys refused): *out is the object
 * (caller owns it) when CF__JSON_OBJECT is returned, NULL otherwise; jerr says
 * why for CF__JSON_INVALID (a failed allocation included). Callers word the error. */
cf__json_kind cf__json_load_object(const char *text, json_t **out, json_error_t *jerr);
/* cf__json_load_object's fast path (util.c): the value of text, an object or an
 * array made only of objects, arrays, plain ASCII strings, small integers, true,
 * false and null (the same value json_loads gives); NULL for any other text. */
json_t *cf__json_fast_parse(const char *text);
/* A caller's JSON object text named `what`: NULL means {}; "", text that is not
 * JSON and anything but an object are CF_EJSON with a message naming `what`. */
int cf__parse_object(cf__err *err, const char *text, const char *what, json_t **out);
/* RFC 7386 merge patch of patch into target (an object): CF_ENOMEM or CF_OK. */
int cf__json_merge_patch(json_t *target, json_t *patch);

/* ===== datetime.c: calendar arithmetic and the program's time zone ===== */

/* A calendar date. */
typedef struct cf__date {
    int year, month, day; /* month 1..12, day 1..31 */
} cf__date;

/* Days since 1970-01-01 for a valid date (proleptic Gregorian). */
int64_t cf__days_from_civil(cf__date d);
cf__date cf__civil_from_days(int64_t days);
bool cf__date_valid(cf__date d);
int cf__days_in_month(int year, int month);
/* Parse exactly "YYYY-MM-DD"; false if malformed or not a real date. */
bool cf__date_parse(const char *s, cf__date *out);
/* Format as "YYYY-MM-DD" into buf (at least 11 bytes). */
void cf__date_format(cf__date d, char *buf);
cf__date cf__date_add_days(cf__date d, int64_t n);
/* Add months/years clamping the day to the month's end (Jan 31 + 1 month = Feb 28/29). */
cf__date cf__date_add_months(cf__date d, int64_t n);
cf__date cf__date_add_years(cf__date d, int64_t n);
int cf__date_weekday(cf__date d); /* 0 = Sunday .. 6 = Saturday */

/* A parsed POSIX TZ rule ("PST8PDT,M3.2.0,M11.1.0"). Fixed size, no heap. */
typedef struct cf__tz {
    int std_offset; /* seconds east of UTC in standard time (-28800 for PST) */
    int dst_offset; /* seconds east of UTC in daylight time */
    bool has_dst;
    /* rule: month (1-12), week (1-5, 5 = last), weekday (0-6), seconds after local midnight */
    int start_month, start_week, start_wday, start_time;
    int end_month, end_week, end_wday, end_time;
} cf__tz;

/* Parse a POSIX TZ string of the form STDoffset[DST[offset],Mm.w.d[/time],Mm.w.d[/time]]. */
int cf__tz_parse(const char *spec, cf__tz *out, cf__err *err);
/* Offset (seconds east of UTC) in force at instant t. */
int cf__tz_offset_at(const cf__tz *tz, cf_time t);
/* Local calendar date of instant t. */
cf__date cf__tz_local_date(const cf__tz *tz, cf_time t);
/* The instant of local midnight starting date d. */
cf_time cf__tz_midnight(const cf__tz *tz, cf__date d);
/* Parse a date or date-time as a policy returns it: "YYYY-MM-DD" means local
 * midnight at the start of that date in tz; a date-time with Z or an offset is
 * exact; a date-time without one is local time in tz. */
int cf__tz_parse_instant(const cf__tz *tz, const char *iso, cf_time *out);

/* ===== policy.c, policy_load.c (and engine/policy/): the Lua host for policies ===== */

/* What a policy function is for. Names live in separate tables of the policy:
 * guards, assigns (return a data patch), deadlines (compute a timer's due time). */
typedef enum cf__role { CF__ROLE_GUARD = 0, CF__ROLE_ASSIGN = 1, CF__ROLE_DEADLINE = 2 } cf__role;

typedef struct cf__policy cf__policy;

typedef struct cf__policy_config {
    const char *dir;            /* holds policy/ and counties/<name>.lua; NULL = empty policy */
    uint64_t instruction_budget; /* per call */
    size_t memory_cap;           /* bytes per call */
    const cf__tz *tz;            /* copied */
    /* A proposed change, for previews: load candidate_path as the overlay of
     * candidate_county in place of its file (or as its first overlay). NULL: none. */
    const char *candidate_county;
    const char *candidate_path;
    /* Wall-clock limits in ms: one policy call, one file's top level; 0 = default
     * (1000, 5000). */
    uint32_t time_limit_ms;
    uint32_t load_time_limit_ms;
} cf__policy_config;

/* The state policy is the folder <dir>/policy: state.lua (params, overridable, and
 * functions) plus any other *.lua there ("parts": guards, assigns, deadlines and a
 * description only). A function name defined twice across the folder is an error
 * naming both files. The policy hash covers every file, in name order. */

/* Load the state policy and every county overlay. A broken file, or an overlay
 * that overrides a parameter the state policy does not declare overridable,
 * fails with a message naming the file and the parameter. */
int cf__policy_open(const cf__policy_config *cfg, cf__policy **out, cf__err *err);
void cf__policy_close(cf__policy *p);

/* Index of the function `name` in the table for `role`, or -1. */
int cf__policy_find(const cf__policy *p, cf__role role, const char *name);
/* Count the calls of every function from now on (policy test coverage). CF_OK or CF_ENOMEM. */
int cf__policy_count_calls(cf__policy *p);
/* The functions of a role: how many; the i-th name (NULL past the end), the label of the
 * file defining it and how many times it was called since cf__policy_count_calls. */
size_t cf__policy_function_count(const cf__policy *p, cf__role role);
const char *cf__policy_function(const cf__policy *p, cf__role role, size_t i, const char **origin, uint64_t *calls);
/* Count, from now on, which state parameters the policy calls read (`params.NAME`,
 * whatever the county; a `pairs(params)` reads them all): policy test coverage
 * (policy_params.c). CF_OK or CF_ENOMEM. */
int cf__policy_count_param_reads(cf__policy *p);
/* Call fn with each state parameter's name and its reads since
 * cf__policy_count_param_reads (0 for every one when not counting), in no
 * particular order; stops at fn's first non-zero return, which it returns. */
int cf__policy_param_reads(cf__policy *p, int (*fn)(void *ud, const char *name, uint64_t reads), void *ud);
/* SHA-256 hex of the policy text a county's decisions use (state + its overlay).
 * Counties without an overlay use the state policy alone. Owned by p. */
const char *cf__policy_hash(cf__policy *p, const char *county);

/* Everything a policy call may look at. Pointers are borrowed for the call. */
typedef struct cf__decision_call {
    const char *county;
    const char *instance_id;
    const char *workflow;
    const char *state;
    json_t *data;        /* instance data (object), read-only for policies */
    const char *event;   /* NULL for deadline calls */
    json_t *event_data;  /* object or NULL */
    const char *actor;
    cf_time now;         /* the effective time of the event */
    int64_t serial;      /* the instance's creation number (inst.serial), 0 if unknown */
} cf__decision_call;

/* Run guard `fn`. *ok gets the verdict; *reason (malloc'd, may be NULL) the
 * reason given. A Lua error or limit is CF_EPOLICY / CF_ELIMIT, naming the guard. */
int cf__policy_guard(cf__policy *p, int fn, const cf__decision_call *call, bool *ok, char **reason, cf__err *err);
/* Run assign `fn`; *patch gets a new reference to a JSON object (merge patch), or NULL for none. */
int cf__policy_assign(cf__policy *p, int fn, const cf__decision_call *call, json_t **patch, cf__err *err);
/* Run deadline `fn`; *has_due = false when it returned nil (no timer). */
int cf__policy_deadline(cf__policy *p, int fn, const cf__decision_call *call, bool *has_due, cf_time *due,
                        cf__err *err);
/* A parameter's value for a county as JSON (new reference), CF_ENOTFOUND if none. */
int cf__policy_param(cf__policy *p, const char *county, const char *name, json_t **value, cf__err *err);

/* Validate a policy directory without keeping it: for cf_check. Calls fn for
 * each problem (file, message); returns the number of problems via *problems. */
int cf__policy_check(const cf__policy_config *cfg, cf_diagnostic_fn fn, void *ud, int *problems);
/* The same; when the state policy itself loaded (only overlays had problems), *names
 * gets the policy as far as it loaded, for resolving names only (cf__policy_find):
 * certflow check resolves the workflows against it instead of reporting every name
 * as unknown after one bad county file. NULL otherwise. Close it with cf__policy_close. */
int cf__policy_check_names(const cf__policy_config *cfg, cf_diagnostic_fn fn, void *ud, int *problems,
                           cf__policy **names);

/* ===== workflow.c: loading, validating and compiling workflow definitions ===== */

/* Where a guard or action name resolves to. */
typedef enum cf__fn_kind { CF__FN_POLICY = 0, CF__FN_PLUGIN = 1, CF__FN_BUILTIN = 2 } cf__fn_kind;

typedef struct cf__fnref {
    cf__fn_kind kind;
    int index;        /* into the policy's table for the role, the plugin registry, or builtins */
    const char *name; /* owned by the workflow */
} cf__fnref;

/* Resolve a name used in a workflow for a role. Returns true and fills *out if
 * something defines it. */
typedef bool (*cf__resolve_fn)(void *ud, cf__role role, const char *name, cf__fnref *out);

typedef struct cf__timer_def {
    const char *name;   /* unique within the state */
    cf__fnref after;    /* a deadline function: computes the due time */
    int event;          /* index of the event it fires */
} cf__timer_def;

typedef struct cf__send_def {
    int link;           /* index into links */
    const char *event;  /* event name in the target workflow */
} cf__send_def;

typedef struct cf__transition {
    int from, event, to; /* leaves: the state it applies in, the state it lands in (hierarchy.c) */
    bool reenter;       /* target == source: run exit/entry and reset timers */
    cf__fnref *guards;  /* all must pass */
    int nguards;
    cf__fnref *actions; /* run in order */
    int nactions;
    cf__send_def *sends;
    int nsends;
    int next;           /* next candidate for the same (from, event), or -1: innermost source first */
    int source, target; /* as declared in the file: may be parent states (equal from/to when flat) */
    int decl;           /* transitions[decl] in the file (1-based) */
    int *exits; int nexits;   /* states left, innermost first (none: an internal transition) */
    int *enters; int nenters; /* states entered, outermost first, ending with `to` */
} cf__transition;

typedef struct cf__state {
    const char *name;   /* the full path ("certified.suspended"); the key itself at the top level */
    bool terminal;
    cf__fnref *on_enter; int non_enter;
    cf__fnref *on_exit;  int non_exit;
    cf__timer_def *timers; int ntimers;
    /* Nested states (hierarchy.c): */
    const char *key;    /* the name as written under `states` ("suspended") */
    int parent;         /* index of the parent state, or -1 at the top */
    int initial;        /* a parent: its initial child; a leaf: -1 */
    int leaf;           /* the leaf that entering this state ends in (itself for a leaf) */
    int depth;          /* 0 at the top */
    int *chain; int nchain;   /* the state's ancestors from the top down, ending with itself */
    int *leaves; int nleaves; /* the leaves it contains (itself for a leaf), in state order */
} cf__state;

typedef struct cf__link {
    const char *name;
    const char *workflow; /* target workflow name */
    const char *field;    /* data field with the target id (string) or ids (array) */
    bool optional;        /* a missing or null field means no linked instance: a send over it does nothing */
} cf__link;

/* A data field the workflow declares `owned`: only its policies and plugins
 * write it; create and fire data holding it are refused (instance.c). */
typedef struct cf__owned {
    const char *field;
    const char *why; /* "when ...": how the program sets it, quoted in the refusal */
} cf__owned;

/* One field of an event's data as the workflow declares it (`event_data`,
 * event_data.c): checked when a caller fires the event, listed by
 * cf_workflow_event_data (docs/events.md). */
typedef struct cf__event_field {
    int event;           /* index into events */
    const char *field;
    int type;            /* index into event_data.c's type names */
    bool required;
    const char *example; /* JSON text */
    const char *about;
} cf__event_field;

typedef struct cf__workflow {
    char *name;
    char *path;                 /* file it came from ("(database)" for stored versions) */
    char *source;               /* the file's text */
    char hash[CF__HASH_HEX];    /* SHA-256 of source */
    const char *description;
    cf__state *states; int nstates;
    int initial;
    const char **events; int nevents;
    cf__transition *trans; int ntrans;
    int *first;                 /* [state * nevents + event] -> first transition or -1 */
    cf__link *links; int nlinks;
    cf__owned *owned; int nowned; /* sorted by field */
    cf__event_field *event_fields; int nevent_fields; /* sorted by event index, then field */
    void *arena;                /* owns every string and array above except name/path/source */
} cf__workflow;

/* Load, validate and compile one workflow from source text. `path` is used in
 * messages. Limits bound the loading Lua state. On failure err says
 * "<path>: <path in table>: <problem> (hint: ...)". */
int cf__workflow_compile(const char *path, const char *source, size_t len, cf__resolve_fn resolve,
                         void *resolve_ud, cf__workflow **out, cf__err *err);
/* Same, reading the file. */
int cf__workflow_load_file(const char *path, cf__resolve_fn resolve, void *resolve_ud,
                           cf__workflow **out, cf__err *err);
/* The same two with the wall-clock limit of running the file's top level, in ms
 * (0 = default, 5000; cf_options.lua_load_time_limit_ms). */
int cf__workflow_compile_limited(const char *path, const char *source, size_t len, uint32_t time_ms,
                                 cf__resolve_fn resolve, void *resolve_ud, cf__workflow **out, cf__err *err);
int cf__workflow_load_file_limited(const char *path, uint32_t time_ms, cf__resolve_fn resolve, void *resolve_ud,
                                   cf__workflow **out, cf__err *err);
void cf__workflow_free(cf__workflow *wf);

/* Index of a state by its full path or by its key (as written in the file), or -1. */
int cf__workflow_state(const cf__workflow *wf, const char *name);
int cf__workflow_event(const cf__workflow *wf, const char *name); /* index or -1 */
/* A caller's event data against what workflow wf declares for event ev (event_data.c):
 * appends to reasons one sentence per missing required or mistyped field, saying
 * where the field belongs (instance_data: the instance's own, to say it does not
 * stand in). Returns how many, or -1 out of memory. */
int cf__event_data_reasons(const cf__workflow *wf, int ev, json_t *event_data, json_t *instance_data, json_t *reasons);
const char *cf__event_type_name(int type);
int cf__workflow_link(const cf__workflow *wf, const char *name);  /* index or -1 */

/* Graphviz DOT text (malloc'd) of the workflow (workflow_dot.c). */
int cf__workflow_dot(const cf__workflow *wf, char **out, cf__err *err);
/* workflow_graph.c: cf_workflow_graph. */
int cf__workflow_graph(const cf__workflow *wf, const cf_graph_options *o, char **out, cf__err *err);

/* ===== hierarchy.c: nested states, as the rest of the engine sees them ===== */

/* Does the state path `state` lie in `filter` (equal, or a descendant: "certified"
 * matches "certified" and "certified.active")? A NULL filter matches everything. */
bool cf__state_in(const char *state, const char *filter);
/* The timer named `name` of leaf s or of one of its ancestors (innermost first);
 * *owner gets the state that declares it. NULL if none. */
const cf__timer_def *cf__workflow_timer(const cf__workflow *wf, int s, const char *name, int *owner);

/* ===== store.h: the storage interface (declared there) ===== */

#include "store/store.h"

/* ===== engine.c / instance.c / timer.c: the engine handle ===== */

/* Runaway chains. An event a caller fires starts a chain; the linked events its
 * transition queues, and the timers it schedules due no later than its own
 * instant, continue it, and so do theirs. One chain may cause at most
 * CF__CHAIN_MAX of them: a transition that would cause more is refused with
 * CF_ELIMIT. A transition fired by a timer that schedules that same timer (same
 * instance, state and name) again, due no later than the instant it fired at,
 * is refused at once: it would fire at that instant forever. */
#define CF__CHAIN_MAX 1000

typedef struct cf__chain {
    char root[64];  /* "<instance id>#<history number>" of the event that started it */
    int64_t count;  /* linked events and immediate timers the chain caused before this transition */
    int64_t timers; /* immediate timers this transition scheduled */
} cf__chain;

typedef struct cf__defcache {
    cf__workflow **items; /* current workflows (from files) then stored versions */
    size_t count, cap;
    size_t ncurrent;      /* the first ncurrent items are the files' workflows, sorted by name */
} cf__defcache;

struct cf_engine {
    cf_options opts;      /* copy; strings below are owned copies */
    char *workflow_dir, *policy_dir, *plugin_dir, *time_zone;
    cf__tz tz;
    cf__err err;          /* last message; "" after success */
    int open_rc;          /* CF_OK once cf_engine_open succeeded; every call refuses otherwise */
    bool created_db;      /* this open created the database file (removed again if the open fails) */
    cf__store *store;
    cf__policy *policy;
    cf__defcache defs;
    /* scratch returned through the public API, valid until the next call */
    cf__instance_row row;
    char *scratch_reasons;
    char *scratch_from, *scratch_to;
    /* plugin_load.c: loaded plugins and their registry; unloaded last, at close */
    struct cf__plugins *plugins;
    char *plugin_config; /* owned copy of opts.plugin_config */
    cf__chain chain;     /* instance.c: the chain of the transition in progress */
    bool chain_stopped;  /* timer.c: a delivery stopped a runaway chain (CF_ELIMIT, message in err) */
    bool previewing;     /* instance.c: cf_instance_explain runs a transition it rolls back */
};

/* door.c: reset the message at the start of a public call. */
void cf__engine_begin_call(cf_engine *e);
/* Start a public call: CF_OK, or the reason the handle cannot be used. */
int cf__engine_usable(cf_engine *e);
/* definitions.c: CF_ENOTFOUND naming the unknown workflow, the closest name and those loaded. */
int cf__engine_unknown_workflow(cf_engine *e, const char *name);

/* ===== definitions.c: the workflow definitions, by name and by hash ===== */

/* Append a compiled workflow (the cache owns it from then on); CF_ENOMEM on failure. */
int cf__defcache_push(cf__defcache *c, cf__workflow *wf);
/* Free every definition in the cache. */
void cf__defcache_free(cf__defcache *c);
/* The workflow currently loaded from files under this name, or NULL. */
cf__workflow *cf__engine_workflow(cf_engine *e, const char *name);
/* The workflow definition with this hash (current or stored; compiled on first use). */
int cf__engine_definition(cf_engine *e, const char *hash, cf__workflow **out);
/* Resolver for workflow names: policy functions, then plugins. ud is the cf_engine
 * (its policy and plugins), not the policy. */
bool cf__engine_resolve(void *ud, cf__role role, const char *name, cf__fnref *out);

/* instance.c: one transition inside an open transaction (used by fire, tick and delivery). */
typedef struct cf__fire_in {
    const char *id;
    const char *event;
    json_t *event_data;     /* object, borrowed */
    const char *event_text; /* canonical text of event_data */
    const char *actor;
    const char *idem_key;   /* may be NULL */
    cf_time at, effective_at;
    /* The chain the event belongs to (see cf__chain): NULL for an event from a
     * caller, or from a timer scheduled ahead of time; then the chain's count. */
    const char *chain_root;
    int64_t chain_count;
    const struct cf__timer_row *timer; /* the timer that fired it (at effective_at), or NULL */
    bool from_caller;       /* cf_instance_fire: fields the workflow owns are refused */
    bool audited;           /* the caller already compared the instance with its newest history row
                             * (cf_policy_apply, before releasing pins in its data) */
    struct cf__explain *explain; /* cf_instance_explain: records every guard's verdict; NULL otherwise */
    cf__policy *policy;     /* decides, schedules and records the fire: NULL = the engine's
                             * (cf_policy_apply passes the candidate policy it installs) */
} cf__fire_in;

/* What cf_instance_explain collects while it runs a transition it then rolls back. */
typedef struct cf__explain {
    json_t *transitions; /* array: {from, to, reenter, guards: [{guard, passed, reason}], passed, taken} */
    bool started;        /* the guards began to run: a failure from here on is the event's outcome */
} cf__explain;

/* The text arguments of a fire (instance id, event, actor, idempotency key):
 * UTF-8, one printable line each; CF_EINVAL naming the one that is not. */
int cf__check_fire_text(cf_engine *e, const char *id, const char *event, const char *actor, const char *idem_key);

/* Fire inside the caller's transaction. CF_OK (applied) or CF_REJECTED (the
 * rejection is appended to the history) fill the engine's scratch results;
 * any other code means the caller must roll back. */
int cf__fire_locked(cf_engine *e, const cf__fire_in *in, cf_fire_result *out);

/* Record, inside the caller's transaction, that the event `in` was refused with
 * reason (a rejected history row; the instance does not move). */
int cf__fire_refuse(cf_engine *e, const cf__fire_in *in, const char *reason);

/* Deliver queued linked events, each in its own transaction. An event whose
 * transition would take its chain past CF__CHAIN_MAX is recorded as rejected
 * and dropped, the rest are still delivered, and the call returns CF_ELIMIT
 * with e->chain_stopped set. */
int cf__engine_deliver(cf_engine *e);

/* An instance's pending timers read into memory (timer.c), for the code that
 * compares them with a definition: migrations and policy-change previews. */
typedef struct cf__pending {
    int64_t id;
    char *state, *name, *event; /* malloc'd */
    cf_time due;
} cf__pending;
typedef struct cf__pending_list {
    cf__pending *items;
    size_t n, cap;
    bool oom;
} cf__pending_list;
/* Appends the instance's timers to *l (start from {0}); CF_ENOMEM when out of
 * memory. Free with cf__pending_free, whatever the result. */
int cf__pending_load(cf__store *s, const char *instance_id, cf__pending_list *l, cf__err *err);
void cf__pending_free(cf__pending_list *l);

/* ===== send.c: the one path for sending an event to another instance ===== */

typedef struct cf__send_msg {
    const char *from_id;   /* the sending instance */
    const char *target_id; /* the instance to tell */
    const char *workflow;  /* the workflow the target must be of (a link's), or NULL for any */
    const char *event;     /* an event of the target's own definition */
    const char *data;      /* the event's data: canonical text of a JSON object */
    cf_time at;            /* when it was sent (the sending transition's time) */
} cf__send_msg;

/* Queue m in the outbox, inside the sender's transaction: the target must
 * exist, be of m->workflow when one is named, and know the event. A refusal
 * sets *refused and returns CF_ENOTFOUND (no such instance or event) or
 * CF_EINVAL (another workflow), with a message that names the target; any
 * other failure is the store's (or the target definition's), *refused false. */
int cf__send(cf_engine *e, const cf__send_msg *m, bool *refused, cf__err *err);
/* cf__send's type: how the plugin host reaches it (cf__plugins_config.send). */
typedef int (*cf__send_fn)(cf_engine *e, const cf__send_msg *m, bool *refused, cf__err *err);

/* ===== plugin_load.c, plugin_host.c: the plugin host (dlopen, ABI check, registry; the host table) ===== */

typedef struct cf__plugins cf__plugins;

typedef struct cf__plugins_config {
    const char *paths;        /* options.plugin_dir: folders and .so files separated by ':' */
    const char *config_json;  /* options.plugin_config, or NULL */
    const cf__policy *policy; /* names a plugin may not register again; may be NULL */
    cf_log_fn log;
    void *log_ud;
    /* How an action's host send reaches the engine (cf__send, send.c): the plugin
     * host calls nothing of the handle's files. NULL (cf_check) refuses sends. */
    cf__send_fn send;
    const char *dialect;      /* the store's SQL dialect (cf__store_dialect); NULL: "sqlite" */
} cf__plugins_config;

/* Load every plugin the config names (dlopen RTLD_NOW | RTLD_LOCAL, info checked
 * first, then init). A plugin that fails is kept as refused, with a message, and
 * the rest load; only malformed options or memory fail the call. *out is set
 * even on failure (close it). */
int cf__plugins_open(const cf__plugins_config *cfg, cf__plugins **out, cf__err *err);
/* Run the loaded plugins' pending migrations, each version in its own
 * transaction, recording versions per plugin. A plugin whose migration fails is
 * refused (its functions unregistered); only store failures fail the call.
 * Call before any workflow is compiled against the registry. */
int cf__plugins_migrate(cf__plugins *p, cf__store *s, cf_time now, cf__err *err);
/* Finalize the plugins' prepared statements: before the store closes. */
void cf__plugins_release(cf__plugins *p);
/* Unload every plugin and free the registry: last, after the store and the policy. */
void cf__plugins_close(cf__plugins *p);
/* Index of the live plugin function `name` for role (guard or action), or -1. */
int cf__plugins_find(const cf__plugins *p, cf__role role, const char *name);
/* Append to err a note naming the plugins that were refused (for a workflow that
 * failed to load because a name is unknown); nothing if none was. */
void cf__plugins_note_refused(const cf__plugins *p, cf__err *err);
/* True for plugin names whose table prefix could reach the engine's tables. */
bool cf__plugin_name_reserved(const char *name);
/* Call fn for each refused plugin as a diagnostic (for cf_check); returns how many. */
int cf__plugins_diagnose(const cf__plugins *p, cf_diagnostic_fn fn, void *ud);

/* Run plugin guard / action `index` inside the caller's transaction. A guard's
 * *reason is malloc'd (may be NULL). An action changes call->data in place. On
 * failure the message names the function, the plugin and its file. */
int cf__plugin_guard(cf_engine *e, int index, const cf__decision_call *call, bool *ok, char **reason);
int cf__plugin_action(cf_engine *e, int index, const cf__decision_call *call);
/* For the public calls on plugins (plugin_api.c), once the handle is checked:
 * each loaded or refused plugin's status; each query's name; run query `name`
 * (args_json a JSON object or NULL) at time now, *result_json owned by the caller. */
void cf__plugins_list(const cf__plugins *p, cf_plugin_status_fn fn, void *ud);
void cf__plugins_query_names(const cf__plugins *p, cf_name_fn fn, void *ud);
void cf__plugins_functions(const cf__plugins *p, cf_plugin_function_fn fn, void *ud);
int cf__plugins_query(cf_engine *e, const char *name, const char *args_json, cf_time now, char **result_json);

/* ===== pattern.c, pattern_compile.c: Lua 5.4's pattern functions, our own matcher, metered ===== */

struct lua_State;
/* Called by the pattern functions with the steps they took since the last
 * call (a step costs about one Lua instruction; pattern.c says what one is),
 * at least every 1024 steps and before they return. To stop the match it
 * raises a Lua error (it runs inside the Lua call of find/match/gmatch/gsub). */
typedef void (*cf__pattern_charge_fn)(struct lua_State *L, void *ud, size_t steps);
/* Set find, match, gmatch and gsub in the table at index t (the string
 * library) to ours, which give Lua 5.4's results and errors (a matcher written
 * here from the manual's pattern syntax) and whose steps go to
 * charge(L, ud, steps). */
void cf__pattern_install(struct lua_State *L, int t, cf__pattern_charge_fn charge, void *ud);

#endif /* CF_INTERNAL_H */
