/*
 * cli.h — the certflow command's parts: a table-driven argument parser with no
 * global state (args.c, a pure function a fuzzer can drive), the exit-code table,
 * and output helpers for text tables and JSON (output.c). main.c runs commands
 * through the public API only (certflow/certflow.h).
 */
#ifndef CF_CLI_H
#define CF_CLI_H

#include "certflow/certflow.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* ---- Commands and options (args.c) ---- */

typedef enum cli_cmd {
    CLI_CMD_NONE = 0,
    CLI_CMD_INIT,
    CLI_CMD_NEW,
    CLI_CMD_FIRE,
    CLI_CMD_SHOW,
    CLI_CMD_HISTORY,
    CLI_CMD_LIST,
    CLI_CMD_TICK,
    CLI_CMD_DUE,
    CLI_CMD_CHECK,
    CLI_CMD_GRAPH,
    CLI_CMD_VERIFY,
    CLI_CMD_HELP,
    CLI_CMD_POLICY,   /* cli/policy.c */
    CLI_CMD_REGISTRY, /* program/registry.c */
    CLI_CMD_REPORT,   /* program/report.c */
    CLI_CMD_SIMULATE, /* program/simulate.c */
    CLI_CMD_FEES,     /* program/fees.c */
    CLI_CMD_NOTICES,  /* program/notices.c */
    CLI_CMD_EXAM,     /* program/exam.c */
    CLI_CMD_PLUGIN,   /* cli/plugin_cmd.c */
    CLI_CMD_EXPLAIN,  /* cli/explain.c */
    CLI_CMD_EVENTS,   /* cli/explain.c */
    CLI_CMD_ELIGIBILITY, /* program/eligibility_cmd.c */
    CLI_CMD_WORKFLOW, /* cli/workflow_cmd.c: workflow versions | diff */
    CLI_CMD_MIGRATE,  /* cli/migrate.c */
    CLI_CMD_SERVE,    /* server/serve_cmd.c */
    CLI_CMD_TOKEN,    /* server/serve_cmd.c */
    CLI_CMD_STORE,    /* cli/store_cmd.c: store copy */
    CLI_CMD_WEBHOOK,  /* server/serve_cmd.c */
    CLI_CMD__COUNT
} cli_cmd;

typedef enum cli_opt {
    /* global: every command accepts these */
    CLI_OPT_DB = 0,
    CLI_OPT_NOW,
    CLI_OPT_JSON,
    CLI_OPT_WORKFLOWS,
    CLI_OPT_POLICIES,
    CLI_OPT_PLUGINS,
    CLI_OPT_HELP,
    CLI_OPT_VERSION,
    /* per command */
    CLI_OPT_COUNTY,
    CLI_OPT_DATA,
    CLI_OPT_ACTOR,
    CLI_OPT_KEY,
    CLI_OPT_WORKFLOW,
    CLI_OPT_STATE,
    CLI_OPT_UNTIL,
    CLI_OPT_WITHIN,
    CLI_OPT_NAME,
    CLI_OPT_NUMBER,
    CLI_OPT_STATUS,
    CLI_OPT_FORMAT,
    CLI_OPT_OUT,
    CLI_OPT_FROM,
    CLI_OPT_TO,
    CLI_OPT_PEOPLE,
    CLI_OPT_SEED,
    CLI_OPT_YEARS,
    CLI_OPT_PLUGIN_CONFIG,
    CLI_OPT_LUA_TIME_LIMIT,
    CLI_OPT_LUA_LOAD_TIME_LIMIT,
    CLI_OPT_ANCHOR,       /* verify --anchor */
    CLI_OPT_SINCE_ANCHOR, /* verify --since-anchor FILE|TEXT */
    CLI_OPT_KEY_FILE,     /* verify --key-file FILE */
    CLI_OPT_FOR,
    CLI_OPT_ON,
    CLI_OPT_CSV,
    CLI_OPT_MAP,     /* migrate --map OLD=NEW (repeatable) */
    CLI_OPT_WHERE,   /* migrate --where county=C|state=S (repeatable) */
    CLI_OPT_DRY_RUN, /* migrate --dry-run */
    CLI_OPT_LISTEN,     /* serve */
    CLI_OPT_THREADS,    /* serve */
    CLI_OPT_MAX_BODY,   /* serve */
    CLI_OPT_TIMEOUT,    /* serve */
    CLI_OPT_RATE_LIMIT, /* serve */
    CLI_OPT_ROLE,       /* token create */
    CLI_OPT_EXPIRES,    /* token create */
    CLI_OPT_LIVE,    /* list --live */
    CLI_OPT_OVERDUE, /* due --overdue */
    CLI_OPT_EVENT,   /* history --event */
    CLI_OPT_OUTCOME, /* history --outcome */
    CLI_OPT_CASE,    /* policy test --case */
    CLI_OPT_COVERAGE, /* policy test --coverage */
    CLI_OPT_NO_SHIPPED_PLUGINS, /* global: --plugins replaces the shipped plugins */
    CLI_OPT_LOG_LEVEL, /* global: show plugin log messages from this level */
    CLI_OPT_VERBOSE,   /* global: --log-level debug */
    CLI_OPT_NO_GUARDS, /* graph --no-guards */
    CLI_OPT_PHASE,     /* graph --phase */
    CLI_OPT_INSTANCE,  /* graph --instance */
    CLI_OPT_ALL_EDGES, /* graph --all-edges */
    CLI_OPT__COUNT
} cli_opt;

/* Most positional arguments any command takes. */
#define CLI_MAX_POS 32
/* Bounds on what one argument may hold (longer is a usage error). */
#define CLI_MAX_NAME 256          /* ids, names, keys, actors, times */
#define CLI_MAX_PATH 4096         /* --db, --workflows, --policies, --plugins */
#define CLI_MAX_DATA (1024 * 1024) /* --data inline JSON, and an @FILE's size */

typedef struct cli_opt_spec {
    const char *name;    /* long name without "--" */
    char short_name;     /* 0 if none */
    int takes_value;
    size_t max_len;      /* bound on the value */
    const char *metavar; /* "PATH", "ISO8601", ... */
    const char *help;
} cli_opt_spec;

typedef struct cli_cmd_spec {
    const char *name;
    int min_args, max_args;
    unsigned long opts;     /* bit (1 << cli_opt) for each command option it accepts */
    unsigned long required; /* options that must be given */
    const char *usage;      /* the usage line */
    const char *summary;    /* one line for the command list */
    const char *help;       /* more detail, may be NULL */
    int needs_db;           /* opens the database */
} cli_cmd_spec;

/* The parsed command line. Values point into argv (never copied). */
typedef struct cli_args {
    cli_cmd cmd;
    const char *opt[CLI_OPT__COUNT]; /* NULL when absent; "1" for flags */
    const char *pos[CLI_MAX_POS];
    int npos;
    /* Options that may be given more than once (--map, --where), in order; opt[]
     * holds the last of each. */
    const char *multi[CLI_MAX_POS];
    cli_opt multi_opt[CLI_MAX_POS];
    int nmulti;
    char err[320]; /* the usage problem when cli_parse fails */
} cli_args;

/* The tables (static, read-only). */
const cli_opt_spec *cli_opt_get(cli_opt o);
const cli_cmd_spec *cli_cmd_get(cli_cmd c);
/* Look a command up by name; CLI_CMD_NONE if unknown. name need not be NUL-terminated within n. */
cli_cmd cli_cmd_find(const char *name);

/* Parse argv[1..argc-1]. Returns 0, or 2 (usage error) with a->err set.
 * Reads at most CLI_MAX_* bytes of each argument; never writes argv; no global state.
 * --help and --version make every other check (command, arguments) moot. */
int cli_parse(int argc, char *const argv[], cli_args *a);

/* Print the general help, or one command's help, to f. */
void cli_print_help(FILE *f, cli_cmd c);
/* Print "usage: ..." and "see certflow X --help" for c (CLI_CMD_NONE: the general line). */
void cli_print_usage(FILE *f, cli_cmd c);

/* The exit code for a cf_result code (one table; see the CLI_EXIT_* below). */
int cli_exit_code(int rc);

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REJECTED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_NOTFOUND = 3,
    CLI_EXIT_INVALID = 4,
    CLI_EXIT_DATABASE = 5,
    CLI_EXIT_CORRUPT = 6,
    CLI_EXIT_LIMIT = 7,
    CLI_EXIT_OTHER = 10
};

/* Parse a duration "30d", "12h", "2w", "90m" (minutes), "45s" into seconds.
 * Returns 0, or -1 if malformed or out of range. */
int cli_parse_duration(const char *s, int64_t *out);

/* Parse a time limit in milliseconds: digits only, 1 to 86,400,000 (a day).
 * Returns 0, or -1 if malformed or out of range. */
int cli_parse_ms(const char *s, uint32_t *out);

/* ---- One run of the command (main.c) ---- */

/* Everything one run needs; lives on main's stack (no global state). */
typedef struct cli_run {
    const cli_args *a;
    FILE *out, *err;
    const char *db;
    const char *actor;
    char workflows[CLI_MAX_PATH + 32];
    char policies[CLI_MAX_PATH + 32];
    const char *plugins;
    char plugin_path[3 * CLI_MAX_PATH]; /* the resolved plugin folder or list */
    cf_time fixed_now; /* the --now clock */
    int has_now;
    cf_time until; /* tick --until */
    int has_until;
    int64_t within; /* due --within, seconds */
    cf_options opts;
    cf_engine *e;   /* open unless the command's spec says needs_db = 0 (then ":memory:") */
    int open_failed; /* plugin list runs on a handle whose open failed (cf_plugin_list), to show why */
    char *plugin_config_buf; /* --plugin-config FILE: the file's text (freed by main) */
    int log_level; /* --log-level: plugin messages at or above it go to stderr; 4 = none */
} cli_run;

/* ---- run.c: what every command shares ---- */

/* Print "certflow: <message>" to r->err; returns the exit code for rc. */
int cli_fail(cli_run *r, int rc);
/* Print a usage problem for command c and return CLI_EXIT_USAGE. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int cli_usage(cli_run *r, cli_cmd c, const char *fmt, ...);

/* Who instance id is (cli_who of its data) into buf of size bytes: "" when its
 * data names neither, or it cannot be read (the caller's command has already
 * succeeded or failed on its own; this read changes neither). Returns buf. */
const char *cli_who_of(cli_run *r, const char *id, char *buf, size_t size);
/* The name line of a command that names one instance: "who: NAME (NUMBER)"
 * (escaped) on r->out, nothing when the data names nobody. */
void cli_who_line(cli_run *r, const char *id);
/* Add "who" to a JSON object when instance id's data names someone. */
void cli_who_json(cli_run *r, const char *id, json_t *o);

/* --data: inline JSON, @FILE, or @- for stdin. *buf is malloc'd when read from a
 * file (free it). Refuses an empty value or file, and a file with anything but
 * blanks after its JSON value (a NUL included), naming it and the offset.
 * Returns 0 or the exit code after printing why. */
int cli_load_data(cli_run *r, const char **data, char **buf);

/* Command handlers kept in their own files (the Peer Support program's in
 * program/). Each returns an exit code. */
int cli_cmd_policy(cli_run *r);   /* policy.c: policy diff | apply | test */
int cli_cmd_registry(cli_run *r); /* program/registry.c: registry search | export */
int cli_cmd_report(cli_run *r);   /* program/report.c: the yearly report */
int cli_cmd_simulate(cli_run *r); /* program/simulate.c: the county simulation */
int cli_cmd_fees(cli_run *r);     /* program/fees.c: fees statement | balance (the fees plugin) */
int cli_cmd_notices(cli_run *r);  /* program/notices.c: notices [list] | mark-sent (the notices plugin) */
int cli_cmd_exam(cli_run *r);     /* program/exam.c: exam import FILE (the exam_results plugin) */
int cli_cmd_plugin(cli_run *r);   /* plugin_cmd.c: plugin list | queries | query NAME [JSON] */
int cli_cmd_explain(cli_run *r);  /* explain.c: explain ID EVENT (cf_instance_explain) */
int cli_cmd_events(cli_run *r);   /* explain.c: events ID (cf_instance_events) */
int cli_cmd_eligibility(cli_run *r); /* program/eligibility_cmd.c: eligibility ID --on DATE | --csv FILE */
int cli_cmd_workflow(cli_run *r); /* workflow_cmd.c: workflow versions [NAME] | diff NAME OLD NEW */
int cli_cmd_migrate(cli_run *r);  /* migrate.c: migrate NAME --to current [--from H] [--map A=B]... */
int cli_cmd_serve(cli_run *r);    /* server/serve_cmd.c: the HTTP API (docs/server.md) */
int cli_cmd_store(cli_run *r);    /* store_cmd.c: store copy --from A --to B */
int cli_cmd_token(cli_run *r);    /* server/serve_cmd.c: token create | list | revoke */
int cli_cmd_webhook(cli_run *r);  /* server/serve_cmd.c: webhook create | list | remove */

/* Run a plugin query (cf_plugin_query) and parse its answer: a new reference, or
 * NULL after printing the failure (*code gets the exit code). */
json_t *cli_plugin_query(cli_run *r, const char *name, json_t *args, int *code);

/* ---- Output (output.c) ---- */

/* Text printed for people shows every control character visibly: C0 and DEL as
 * \n, \r, \t or \xHH, C1 and the Unicode line separators and bidirectional
 * controls as \uHHHH, and bytes that are not UTF-8 as \xHH, so that no stored
 * value can move the cursor, colour the terminal or forge a row. JSON output is
 * escaped by jansson instead. */
/* An escaped copy of s (NULL prints as ""), malloc'd; keep_newlines leaves '\n' as it is. */
char *cli_escape(const char *s, int keep_newlines);
/* Write s escaped (no newline added). */
void cli_put(FILE *f, const char *s);
/* fprintf whose whole text is escaped except the format's leading newlines and
 * final newline: for lines that print stored values. Returns 0 or -1. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int cli_textf(FILE *f, const char *fmt, ...);

/* Format t as ISO 8601 UTC into buf (32 bytes); returns buf. */
const char *cli_time(cf_time t, char buf[32]);

/* A text table: left-aligned columns separated by two spaces; the last column
 * is not padded. Cells are copied. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* Add a row of ncols cells (NULL cells print as ""). Returns 0, or -1 out of memory. */
int cli_table_add(cli_table *t, const char *const *cells);
size_t cli_table_rows(const cli_table *t);
void cli_table_print(FILE *f, const cli_table *t);
void cli_table_free(cli_table *t);

/* Parse JSON text; on failure (or NULL) return it as a JSON string (or null). New reference. */
json_t *cli_json_text(const char *text);
/* JSON string or null. New reference. */
json_t *cli_json_str(const char *s);
/* Reasons (a JSON array of strings) joined by sep into a malloc'd string. */
char *cli_reasons_join(const char *reasons_json, const char *sep);

json_t *cli_json_instance(const cf_instance_info *info);
json_t *cli_json_history(const cf_history_entry *h);
json_t *cli_json_timer(const cf_timer_info *t);
json_t *cli_json_fire(const cf_fire_result *r, const char *id, const char *event);

/* Who an instance is, from its own data: "NAME (CERTIFICATION_NUMBER)", either
 * alone, or "" when the data has neither (a complaint's person is its
 * "respondent"). Written into buf (truncated to size); returns buf. Not escaped:
 * print it through cli_textf or cli_put. */
const char *cli_who(const char *data, char *buf, size_t size);

/* Print an instance as "key: value" lines (a "who:" line when the data names
 * someone), data indented JSON. */
void cli_print_instance(FILE *f, const cf_instance_info *info);

/* Dump doc (steals the reference) to f with two-space indent and a final newline.
 * Returns 0, or -1 if doc is NULL or writing failed. */
int cli_json_print(FILE *f, json_t *doc);

#endif
