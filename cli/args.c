/*
 * args.c — the certflow command line as data: the option and command tables,
 * a parser over them with no global state (so it can be fuzzed on its own), the
 * help text drawn from the same tables, and the table mapping results to exit codes.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#define BIT(o) (1UL << (o))

static const cli_opt_spec OPTS[CLI_OPT__COUNT] = {
    [CLI_OPT_DB] = {"db", 0, 1, CLI_MAX_PATH, "PATH",
                    "database file, or a postgresql:// URI (default: $CERTFLOW_DB, else ./certflow.db)"},
    [CLI_OPT_NOW] = {"now", 0, 1, CLI_MAX_NAME, "ISO8601",
                     "run on a fixed clock at this time (e.g. 2025-03-01T08:00:00Z)"},
    [CLI_OPT_JSON] = {"json", 0, 0, 0, NULL, "print one JSON document on stdout instead of text"},
    [CLI_OPT_WORKFLOWS] = {"workflows", 0, 1, CLI_MAX_PATH, "DIR",
                           "workflow definitions (default: $CERTFLOW_WORKFLOWS, ./workflows, installed)"},
    [CLI_OPT_POLICIES] = {"policies", 0, 1, CLI_MAX_PATH, "DIR",
                          "holds policy/state.lua and counties/ (default: $CERTFLOW_POLICIES, ./lua, installed)"},
    [CLI_OPT_PLUGINS] = {"plugins", 0, 1, CLI_MAX_PATH, "DIR",
                         "more plugins to load, before the shipped ones (default: $CERTFLOW_PLUGINS; the shipped: "
                         "./plugins, else the installed or build tree's)"},
    [CLI_OPT_LOG_LEVEL] = {"log-level", 0, 1, CLI_MAX_NAME, "LEVEL",
                           "print what plugins log at this level or above on stderr: debug, info, warn, error"},
    [CLI_OPT_VERBOSE] = {"verbose", 'v', 0, 0, NULL, "print everything plugins log on stderr (--log-level debug)"},
    [CLI_OPT_NO_GUARDS] = {"no-guards", 0, 0, 0, NULL, "transition labels without their [guards]"},
    [CLI_OPT_PHASE] = {"phase", 0, 1, CLI_MAX_NAME, "STATE", "only this state and the states inside it"},
    [CLI_OPT_INSTANCE] = {"instance", 0, 1, CLI_MAX_NAME, "ID", "highlight the current state of this instance"},
    [CLI_OPT_ALL_EDGES] = {"all-edges", 0, 0, 0, NULL,
                           "the complete DOT of cf_workflow_dot: one edge per transition, self-loops not grouped"},
    [CLI_OPT_NO_SHIPPED_PLUGINS] = {"no-shipped-plugins", 0, 0, 0, NULL,
                                    "load only the plugins --plugins gives, not the shipped ones"},
    [CLI_OPT_PLUGIN_CONFIG] = {"plugin-config", 0, 1, CLI_MAX_DATA, "JSON|FILE",
                               "each plugin's configuration, e.g. {\"registry_export\": {\"dir\": \"/srv/registry\"}}, "
                               "or a file holding it (default: $CERTFLOW_PLUGIN_CONFIG)"},
    [CLI_OPT_HELP] = {"help", 'h', 0, 0, NULL, "show help (also: certflow COMMAND --help)"},
    [CLI_OPT_VERSION] = {"version", 0, 0, 0, NULL, "print the version"},
    [CLI_OPT_COUNTY] = {"county", 0, 1, CLI_MAX_NAME, "COUNTY", "county the instance belongs to (e.g. alameda)"},
    [CLI_OPT_DATA] = {"data", 0, 1, CLI_MAX_DATA, "JSON|@FILE",
                      "a JSON object, or @FILE to read it from a file (@- reads stdin)"},
    [CLI_OPT_ACTOR] = {"actor", 0, 1, CLI_MAX_NAME, "NAME", "who does this (default: $USER, else cli)"},
    [CLI_OPT_KEY] = {"key", 0, 1, CLI_MAX_NAME, "KEY",
                     "idempotency key: firing the same key again replays the first outcome"},
    [CLI_OPT_WORKFLOW] = {"workflow", 0, 1, CLI_MAX_NAME, "NAME", "only instances of this workflow"},
    [CLI_OPT_STATE] = {"state", 0, 1, CLI_MAX_NAME, "STATE",
                       "only in this state (a parent state matches every state inside it)"},
    [CLI_OPT_UNTIL] = {"until", 0, 1, CLI_MAX_NAME, "ISO8601",
                       "fire timers due at or before this time (default: the clock's now)"},
    [CLI_OPT_NAME] = {"name", 0, 1, CLI_MAX_NAME, "TEXT",
                     "registry: only people whose name contains TEXT; token create: the token's name"},
    [CLI_OPT_NUMBER] = {"number", 0, 1, CLI_MAX_NAME, "NUMBER", "only this certification number"},
    [CLI_OPT_STATUS] = {"status", 0, 1, CLI_MAX_NAME, "STATUS",
                        "only this status (registry: active, lapsed, suspended, revoked; notices: pending, sent)"},
    [CLI_OPT_FORMAT] = {"format", 0, 1, CLI_MAX_NAME, "FORMAT", "output format"},
    [CLI_OPT_OUT] = {"out", 0, 1, CLI_MAX_PATH, "FILE", "write to FILE instead of standard output"},
    [CLI_OPT_FROM] = {"from", 0, 1, CLI_MAX_PATH, "DATE|HASH|DB",
                      "first date of the period (YYYY-MM-DD); migrate: only instances on this version; "
                      "store copy: the source database"},
    [CLI_OPT_TO] = {"to", 0, 1, CLI_MAX_PATH, "DATE|HASH|DB",
                    "last date of the period (YYYY-MM-DD); migrate: the target version (current, or a hash); "
                    "store copy: the new, empty target database"},
    [CLI_OPT_PEOPLE] = {"people", 0, 1, CLI_MAX_NAME, "N", "how many applicants to simulate"},
    [CLI_OPT_SEED] = {"seed", 0, 1, CLI_MAX_NAME, "N", "random seed (the same seed gives the same run)"},
    [CLI_OPT_YEARS] = {"years", 0, 1, CLI_MAX_NAME, "N", "virtual years to simulate"},
    [CLI_OPT_LUA_TIME_LIMIT] = {"lua-time-limit", 0, 1, CLI_MAX_NAME, "MS",
                                "wall-clock limit of one policy call in ms (default 1000)"},
    [CLI_OPT_LUA_LOAD_TIME_LIMIT] = {"lua-load-time-limit", 0, 1, CLI_MAX_NAME, "MS",
                                     "wall-clock limit of loading one policy or workflow file in ms (default 5000)"},
    [CLI_OPT_ANCHOR] = {"anchor", 0, 0, 0, NULL,
                        "when the database is sound, print an anchor of the history's head to keep elsewhere"},
    [CLI_OPT_SINCE_ANCHOR] = {"since-anchor", 0, 1, CLI_MAX_PATH, "FILE|TEXT",
                              "check the history against an anchor printed by verify --anchor (the text or a file)"},
    [CLI_OPT_KEY_FILE] = {"key-file", 0, 1, CLI_MAX_PATH, "FILE",
                          "sign the anchor (or check its signature) with the key held in FILE (HMAC-SHA256)"},
    [CLI_OPT_FOR] = {"for", 0, 1, CLI_MAX_NAME, "all|new",
                     "who a policy change is for: all live instances (default), or only instances it does not move now"},
    [CLI_OPT_ON] = {"on", 0, 1, CLI_MAX_NAME, "DATE", "the date of service (YYYY-MM-DD)"},
    [CLI_OPT_CSV] = {"csv", 0, 1, CLI_MAX_PATH, "FILE", "a CSV file of employment id,date rows (- reads stdin)"},
    [CLI_OPT_MAP] = {"map", 0, 1, CLI_MAX_NAME, "OLD=NEW",
                     "migrate: instances in state OLD land in state NEW (repeat for more states)"},
    [CLI_OPT_WHERE] = {"where", 0, 1, CLI_MAX_NAME, "county=C|state=S",
                       "migrate: only instances of county C, or in state S (repeat for both)"},
    [CLI_OPT_DRY_RUN] = {"dry-run", 0, 0, 0, NULL, "migrate: show what would happen, change nothing"},
    [CLI_OPT_LISTEN] = {"listen", 0, 1, CLI_MAX_NAME, "HOST:PORT", "address to listen on (default 127.0.0.1:8080; port 0: any)"},
    [CLI_OPT_THREADS] = {"threads", 0, 1, CLI_MAX_NAME, "N", "worker threads, each with its own engine handle (default 4)"},
    [CLI_OPT_MAX_BODY] = {"max-body", 0, 1, CLI_MAX_NAME, "BYTES", "largest request body accepted (default 1048576)"},
    [CLI_OPT_TIMEOUT] = {"timeout", 0, 1, CLI_MAX_NAME, "SECONDS", "close a connection idle this long (default 30)"},
    [CLI_OPT_RATE_LIMIT] = {"rate-limit", 0, 1, CLI_MAX_NAME, "N",
                            "requests without a token per client address per minute (default 60; 0: no limit)"},
    [CLI_OPT_ROLE] = {"role", 0, 1, CLI_MAX_NAME, "ROLE", "the token's role: admin, county or integration"},
    [CLI_OPT_EXPIRES] = {"expires", 0, 1, CLI_MAX_NAME, "ISO8601", "the token is refused from this date or time on"},
    [CLI_OPT_LIVE] = {"live", 0, 0, 0, NULL, "only instances not in a terminal state"},
    [CLI_OPT_OVERDUE] = {"overdue", 0, 0, 0, NULL,
                         "only timers already due and not fired yet (run `certflow tick` to fire them)"},
    [CLI_OPT_EVENT] = {"event", 0, 1, CLI_MAX_NAME, "EVENT", "only rows of this event (\"\" for the creation rows)"},
    [CLI_OPT_OUTCOME] = {"outcome", 0, 1, CLI_MAX_NAME, "OUTCOME", "only created, applied or rejected rows"},
    [CLI_OPT_CASE] = {"case", 0, 1, CLI_MAX_NAME, "NAME", "run only the test case of this name"},
    [CLI_OPT_COVERAGE] = {"coverage", 0, 0, 0, NULL, "also list the guards and deadline functions no case ran and the parameters no case read"},
    [CLI_OPT_WITHIN] = {"within", 0, 1, CLI_MAX_NAME, "DURATION",
                        "how far ahead to look: Nw weeks, Nd days, Nh hours, Nm minutes, Ns seconds (default 30d)"},
};

#define GLOBAL_OPTS                                                                                         \
    (BIT(CLI_OPT_DB) | BIT(CLI_OPT_NOW) | BIT(CLI_OPT_JSON) | BIT(CLI_OPT_WORKFLOWS) | BIT(CLI_OPT_POLICIES) | \
     BIT(CLI_OPT_PLUGINS) | BIT(CLI_OPT_PLUGIN_CONFIG) | BIT(CLI_OPT_HELP) | BIT(CLI_OPT_VERSION) |             \
     BIT(CLI_OPT_LUA_TIME_LIMIT) | BIT(CLI_OPT_LUA_LOAD_TIME_LIMIT) | BIT(CLI_OPT_NO_SHIPPED_PLUGINS) |   \
     BIT(CLI_OPT_LOG_LEVEL) | BIT(CLI_OPT_VERBOSE))

static const cli_cmd_spec CMDS[CLI_CMD__COUNT] = {
    [CLI_CMD_NONE] = {"", 0, 0, 0, 0, "certflow [options] COMMAND [ARGS]", "", NULL, 0},
    [CLI_CMD_INIT] = {"init", 0, 0, 0, 0, "certflow init [options]",
                      "create or migrate the database; show what is loaded",
                      "Creates the database if it does not exist, migrates its schema, and stores the\n"
                      "current workflow definitions. Prints the database path, the workflows loaded\n"
                      "and the policy folder.",
                      1},
    [CLI_CMD_NEW] = {"new", 1, 1, BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_DATA) | BIT(CLI_OPT_ACTOR), BIT(CLI_OPT_COUNTY),
                     "certflow new WORKFLOW --county COUNTY [--data JSON|@FILE] [--actor NAME]",
                     "start an instance of a workflow; prints its id",
                     "Creates an instance in the workflow's initial state, runs its entry actions and\n"
                     "schedules its timers. Prints the new id (with --json: the whole instance).",
                     1},
    [CLI_CMD_FIRE] = {"fire", 2, 2, BIT(CLI_OPT_DATA) | BIT(CLI_OPT_ACTOR) | BIT(CLI_OPT_KEY), 0,
                      "certflow fire ID EVENT [--data JSON|@FILE] [--actor NAME] [--key KEY]",
                      "fire an event at an instance",
                      "Prints \"applied: FROM -> TO\", or \"rejected: REASON\" once per reason (exit 1;\n"
                      "the rejection is recorded in the history). With --key, firing the same key\n"
                      "again prints the first outcome again, marked \"replayed\", and changes nothing.",
                      1},
    [CLI_CMD_SHOW] = {"show", 1, 1, 0, 0, "certflow show ID", "show one instance", NULL, 1},
    [CLI_CMD_HISTORY] = {"history", 0, 1,
                         BIT(CLI_OPT_EVENT) | BIT(CLI_OPT_OUTCOME) | BIT(CLI_OPT_ACTOR) | BIT(CLI_OPT_COUNTY) |
                             BIT(CLI_OPT_WORKFLOW) | BIT(CLI_OPT_STATE) | BIT(CLI_OPT_FROM) | BIT(CLI_OPT_TO),
                         0,
                         "certflow history ID | history [--event E] [--outcome O] [--actor A] [--county C] "
                         "[--workflow W] [--state S] [--from TIME] [--to TIME]",
                         "show an instance's history, or search every instance's",
                         "With ID: one row per event: number, time (the time its policies saw: a timer's\n"
                         "due time), actor, event, outcome, from -> to, reasons. --json gives every\n"
                         "field, including the recording time and the chain hash. Without ID: the rows\n"
                         "of every instance that match the filters, in chain order, with the instance\n"
                         "and who it is (name, certification number); --from/--to bound the time the\n"
                         "policies saw (ISO 8601 times or dates; a --to date includes that whole day,\n"
                         "UTC). --state matches the state a row moved to.",
                         1},
    [CLI_CMD_LIST] = {"list", 0, 0, BIT(CLI_OPT_WORKFLOW) | BIT(CLI_OPT_STATE) | BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_LIVE),
                      0, "certflow list [--workflow NAME] [--state STATE] [--county COUNTY] [--live]",
                      "list instances, oldest first",
                      "Each row shows who the instance is: the name and certification number in its\n"
                      "data, when it has them. --live leaves out instances in a terminal state.",
                      1},
    [CLI_CMD_TICK] = {"tick", 0, 0, BIT(CLI_OPT_UNTIL), 0, "certflow tick [--until ISO8601]",
                      "fire every timer due by then; prints how many fired",
                      "Fires due timers in due order, each as its own transition whose policies see\n"
                      "the timer's due time as now; timers those transitions schedule that are\n"
                      "already due fire in the same tick, so one tick catches up after downtime.",
                      1},
    [CLI_CMD_DUE] = {"due", 0, 0, BIT(CLI_OPT_WITHIN) | BIT(CLI_OPT_STATE) | BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_OVERDUE),
                     0, "certflow due [--within DURATION] [--state STATE] [--county COUNTY] [--overdue]",
                     "list timers due from now to now + DURATION",
                     "DURATION is a whole number and a unit: w (weeks), d (days), h (hours),\n"
                     "m (minutes) or s (seconds); the default is 30d. \"now\" is the clock (--now).\n"
                     "--overdue lists instead the timers due before now that have not fired (no\n"
                     "tick ran since); text output then notes how to fire them. Each row shows who\n"
                     "the instance is (name, certification number).",
                     1},
    [CLI_CMD_CHECK] = {"check", 0, 0, 0, 0, "certflow check [--workflows DIR] [--policies DIR]",
                       "validate workflows, the state policy and county overlays",
                       "Prints each problem as \"FILE: MESSAGE\" (exit 4), or a one-line summary when\n"
                       "all is well. An existing database (--db) is opened read-only to check that\n"
                       "every live version of a workflow still finds the guards, actions and deadlines\n"
                       "it names; the database is never created or written.",
                       0},
    [CLI_CMD_GRAPH] = {"graph", 0, 1,
                       BIT(CLI_OPT_FORMAT) | BIT(CLI_OPT_NO_GUARDS) | BIT(CLI_OPT_PHASE) | BIT(CLI_OPT_INSTANCE) |
                           BIT(CLI_OPT_ALL_EDGES),
                       0,
                       "certflow graph WORKFLOW|--instance ID [--format dot|mermaid] [--no-guards] [--phase STATE] "
                       "[--all-edges]",
                       "print a workflow as Graphviz DOT or Mermaid (certflow graph x | dot -Tsvg > x.svg)",
                       "A state's transitions and timers back to itself are one edge listing them.\n"
                       "--no-guards leaves the guards out of the labels, --phase STATE draws only that\n"
                       "state and the states inside it, --instance ID draws the instance's workflow\n"
                       "with its current state filled (this reads the database), --format mermaid\n"
                       "prints a Mermaid stateDiagram-v2. --all-edges prints the complete DOT, one\n"
                       "edge per transition. Without --instance it does not open the database.",
                       0},
    [CLI_CMD_VERIFY] = {"verify", 0, 0, BIT(CLI_OPT_ANCHOR) | BIT(CLI_OPT_SINCE_ANCHOR) | BIT(CLI_OPT_KEY_FILE), 0,
                        "certflow verify [--anchor] [--since-anchor FILE|TEXT] [--key-file FILE]",
                        "check that the whole database is sound",
                        "Checks the file's integrity (SQLite), the history's hash chain, every instance's\n"
                        "state, data and version and every pending timer against the history, and with\n"
                        "--since-anchor the history's head against an anchor kept elsewhere. Prints a\n"
                        "summary, or one line per problem (exit 6); a database with a problem is then\n"
                        "refused for writing until a verify finds nothing wrong. --anchor prints, when\n"
                        "all is sound, only the anchor line to store outside the database.\n"
                        "See docs/reliability.md for what this proves and what it cannot.",
                        1},
    [CLI_CMD_HELP] = {"help", 0, 1, 0, 0, "certflow help [COMMAND]", "show help for certflow or a command", NULL, 0},
    [CLI_CMD_POLICY] = {"policy", 1, 2, BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_ACTOR) | BIT(CLI_OPT_FOR) | BIT(CLI_OPT_CASE) |
                                      BIT(CLI_OPT_COVERAGE), 0,
                        "certflow policy diff|apply --county COUNTY FILE [--for all|new] [--actor NAME] | policy "
                        "log [--county COUNTY] | policy test DIR|FILE [--case NAME] [--coverage]",
                        "see what a county policy change does, apply it, list the changes applied, or run policy "
                        "test cases",
                        "diff lists the parameters the overlay FILE changes for COUNTY and every live\n"
                        "instance of the county whose pending deadlines, eligibility (guards of the\n"
                        "events out of its state) or state it would change: who, old and new, and what\n"
                        "apply would do; it writes nothing. apply does it in one transaction: moves\n"
                        "those timers, fires policy_changed where the workflow takes it (a hire back\n"
                        "inside a longer grace period returns to grace), adds one policy_changed\n"
                        "history row to each affected instance, logs the change, then installs FILE as\n"
                        "<policies>/counties/COUNTY.lua; a FILE that does not load changes nothing\n"
                        "(exit 4). --for new keeps the instances the change would move on the old\n"
                        "values (pinned in their data, recorded); --for all (the default) moves them.\n"
                        "log lists the changes applied: when, by whom, county, overlay hash, --for and\n"
                        "how many instances each moved. test runs the policy test cases (*.lua data files) in DIR (or\n"
                        "the one FILE; --case NAME: only that case) against the workflows and policies,\n"
                        "one line per case (PASS, or FAIL with expected and got), with --coverage the\n"
                        "guards and deadline functions no case ran and the parameters no case read; exit 4 if any fails. To test a proposed overlay, copy the policy\n"
                        "folder, put it there and pass --policies COPY. See docs/administrators.md.",
                        1},
    [CLI_CMD_REGISTRY] = {"registry", 1, 1,
                          BIT(CLI_OPT_NAME) | BIT(CLI_OPT_NUMBER) | BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_STATUS) |
                              BIT(CLI_OPT_FORMAT) | BIT(CLI_OPT_OUT),
                          0,
                          "certflow registry search|export [--name TEXT] [--number N] [--county C] [--status S] "
                          "[--format text|csv|json] [--out FILE]",
                          "search or export the public registry (public fields only)",
                          "Everyone who holds or held a certification (REG_1), with public fields only\n"
                          "(REG_2): certification number, name, status (active, lapsed, suspended,\n"
                          "revoked), issue and expiry dates, specializations, county; sorted by number.\n"
                          "search prints a table (--json or --format json|csv for programs); export\n"
                          "writes CSV (RFC 4180, the default) or a JSON array. --name matches part of\n"
                          "the name, ignoring case. See docs/registry.md.",
                          1},
    [CLI_CMD_REPORT] = {"report", 0, 0, BIT(CLI_OPT_FROM) | BIT(CLI_OPT_TO) | BIT(CLI_OPT_FORMAT), 0,
                        "certflow report [--from DATE] [--to DATE] [--format text|json|csv]",
                        "the yearly summary for the state",
                        "Counts certificants by status, pathway, county and specialization as of --to,\n"
                        "and what happened from --from to --to (both included, local dates):\n"
                        "applications, exam attempts and pass rate, issues, renewals, reinstatements,\n"
                        "expiries, complaints and disciplinary actions, training, hires (REG_3, REG_4).\n"
                        "Default: the calendar year before the clock's (--now) date. Each figure is\n"
                        "defined in docs/registry.md.",
                        1},
    [CLI_CMD_SIMULATE] = {"simulate", 0, 0, BIT(CLI_OPT_PEOPLE) | BIT(CLI_OPT_SEED) | BIT(CLI_OPT_YEARS), 0,
                          "certflow simulate [--people N] [--seed N] [--years N]",
                          "simulate a county's population through the program on a virtual clock",
                          "Drives N applicants (default 500) in six counties through certification,\n"
                          "employment, supervision, complaints and scholarships, day by day for N years\n"
                          "(default 3) from 2023-01-01 (or --now), on a virtual clock. The same --seed\n"
                          "(default 1) gives the same output. Prints the events fired, the rejections by\n"
                          "cause, the registry counts at the end and a report for each simulated year;\n"
                          "progress goes to stderr. Needs an empty database (--db NEW.db).",
                          1},
    [CLI_CMD_FEES] = {"fees", 1, 2, 0, 0, "certflow fees statement ID | fees balance [ID]",
                      "a certification's fees from the fee ledger (the fees plugin)",
                      "statement lists every fee charged to instance ID, oldest first: date, type,\n"
                      "amount, payer, the scholarship award that covered it, and the totals charged,\n"
                      "covered and paid (FEE_1, SCH_1). balance prints the totals by fee type, of ID\n"
                      "or of the whole ledger. Fees are never refunded: the ledger only grows.",
                      1},
    [CLI_CMD_NOTICES] = {"notices", 0, CLI_MAX_POS, BIT(CLI_OPT_STATUS) | BIT(CLI_OPT_COUNTY), 0,
                         "certflow notices [list] [--status pending|sent] [--county C] | notices mark-sent ID...",
                         "list the notices due to people and counties, or mark them sent (the notices plugin)",
                         "list (the default) prints the outbox, oldest first: id, date created, county,\n"
                         "type, recipient, status and text. mark-sent marks the given notices sent now;\n"
                         "an unknown id marks none (exit 3), one already sent is reported and kept.",
                         1},
    [CLI_CMD_EXAM] = {"exam", 2, 2, BIT(CLI_OPT_ACTOR), 0, "certflow exam import FILE [--actor NAME]",
                      "import the exam administrator's results file (the exam_results plugin)",
                      "FILE is CSV with a header: candidate_id (the certification's id), date\n"
                      "(YYYY-MM-DD), result (pass or fail), score, then one column per domain score\n"
                      "(EX_4). Every row is checked first; if any is bad, each bad row is reported with\n"
                      "its line number and nothing is imported (exit 4). Then each row fires exam_result\n"
                      "at its candidate with an idempotency key made from the candidate, date and\n"
                      "result, so importing the same file again changes nothing. A result the policy\n"
                      "refuses is recorded as a rejection and reported (exit 1).",
                      1},
    [CLI_CMD_PLUGIN] = {"plugin", 1, 2, BIT(CLI_OPT_DATA), 0,
                        "certflow plugin list | plugin query NAME [--data JSON|@FILE]",
                        "list the plugins and their queries, or run a plugin query",
                        "list shows every plugin file loaded or refused (with why) and the queries the\n"
                        "loaded ones offer. query runs one (e.g. fees.statement, registry_export.export)\n"
                        "with --data as its arguments and prints its JSON answer.",
                        1},
    [CLI_CMD_EXPLAIN] = {"explain", 2, 2, BIT(CLI_OPT_DATA) | BIT(CLI_OPT_ACTOR), 0,
                         "certflow explain ID EVENT [--data JSON|@FILE] [--actor NAME]",
                         "what firing EVENT would do now, recording nothing",
                         "Runs the transition as `fire` would (at --now, with --data) and rolls it\n"
                         "back: every transition of EVENT from the current state with each guard's\n"
                         "verdict and reason, the one that would be taken, what a rejection would\n"
                         "record, the data it would change, the deadlines it would set or cancel, the\n"
                         "fees it would charge and what plugins would record. Exit 0 if it would\n"
                         "apply, 1 if it would be rejected or fail. Needs a database it may write\n"
                         "(it writes nothing); see `events` for a read-only look.",
                         1},
    [CLI_CMD_EVENTS] = {"events", 1, 1, BIT(CLI_OPT_DATA) | BIT(CLI_OPT_ACTOR), 0,
                        "certflow events ID [--data JSON|@FILE] [--actor NAME]",
                        "the events an instance accepts now, and whether each would pass its guards",
                        "One row per event with a transition from the current state: allowed or not\n"
                        "(its guards evaluated at --now with --data, default {}), the state it would\n"
                        "move to, whether a timer of the state fires it, and why not. Reads only.",
                        1},
    [CLI_CMD_ELIGIBILITY] = {"eligibility", 0, 1, BIT(CLI_OPT_ON) | BIT(CLI_OPT_CSV), 0,
                             "certflow eligibility ID --on DATE | eligibility --csv FILE",
                             "was a hire billable on a date of service, and why",
                             "ID is the hire's employment instance. Answers from the histories of the\n"
                             "employment and its certification: peer codes (certified in good standing,\n"
                             "EHR access) and non-peer codes (Other Qualified Provider, not DMC-ODS),\n"
                             "with the reasons and the history rows relied on. --csv answers one row per\n"
                             "\"employment id,date\" line, as CSV (or --json). Reads only. docs/billing.md.",
                             1},
    [CLI_CMD_WORKFLOW] = {"workflow", 1, 4, BIT(CLI_OPT_FORMAT), 0,
                          "certflow workflow versions [NAME] | workflow diff NAME OLD NEW | workflow fields [NAME] "
                          "[--format text|markdown]",
                          "the stored versions of a workflow, or what changed between two",
                          "versions lists every definition of NAME (or of every workflow) stored by hash,\n"
                          "oldest first: its hash, when it was first stored, whether it is the one the\n"
                          "workflow files hold now, and how many live and ended instances run on it.\n"
                          "diff lists the states, events, transitions, guards, actions and timers added,\n"
                          "removed or changed from OLD to NEW, each a hash, a unique prefix of one, or\n"
                          "current. fields lists the data each event is fired with, as the workflow declares\n"
                          "it (event_data): field, type, required, example (--format markdown: the tables of\n"
                          "docs/events.md). Reads only. See docs/workflows.md, \"Changing a shipped workflow safely\".",
                          1},
    [CLI_CMD_MIGRATE] = {"migrate", 1, 1,
                         BIT(CLI_OPT_TO) | BIT(CLI_OPT_FROM) | BIT(CLI_OPT_MAP) | BIT(CLI_OPT_WHERE) |
                             BIT(CLI_OPT_DRY_RUN) | BIT(CLI_OPT_ACTOR),
                         BIT(CLI_OPT_TO),
                         "certflow migrate NAME --to current [--from HASH] [--map OLD=NEW]... "
                         "[--where county=C|state=S]... [--dry-run] [--actor NAME]",
                         "move live instances of a workflow to another version (with --dry-run: show how)",
                         "--dry-run lists each live instance of NAME on another version (only --from's,\n"
                         "if given): the state it would land in (the same name, or --map's), the timers\n"
                         "that would be cancelled, kept or scheduled with their due dates, and any that\n"
                         "cannot move and why (a state with no mapping, data the new guards refuse on\n"
                         "entry). Without it, each movable instance moves in its own transaction with\n"
                         "one history row (event \"(migrate)\"); running it again changes nothing. A --map\n"
                         "naming a state neither version has changes nothing (exit 4). Exit 1 when an\n"
                         "instance cannot be moved. See docs/workflows.md.",
                         1},
    [CLI_CMD_SERVE] = {"serve", 0, 0,
                       BIT(CLI_OPT_LISTEN) | BIT(CLI_OPT_THREADS) | BIT(CLI_OPT_MAX_BODY) | BIT(CLI_OPT_TIMEOUT) |
                           BIT(CLI_OPT_RATE_LIMIT),
                       0,
                       "certflow serve [--listen HOST:PORT] [--threads N] [--max-body BYTES] [--timeout SECONDS] "
                       "[--rate-limit N]",
                       "serve the JSON API over HTTP until SIGTERM or Ctrl-C",
                       "Answers /v1/... (docs/server.md; the OpenAPI document is /v1/openapi.json).\n"
                       "Requests carry 'Authorization: Bearer TOKEN' (see certflow token); the registry,\n"
                       "health and version need none. Listens on the loopback address by default: put\n"
                       "a reverse proxy with TLS in front of it. SIGTERM lets requests in progress finish.",
                       1},
    [CLI_CMD_TOKEN] = {"token", 1, 2, BIT(CLI_OPT_ROLE) | BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_NAME) |
                                          BIT(CLI_OPT_EXPIRES) | BIT(CLI_OPT_ACTOR),
                       0,
                       "certflow token create --role ROLE [--county C] [--name N] [--expires DATE] | token list | "
                       "token revoke NAME",
                       "create, list or revoke the API tokens of certflow serve",
                       "ROLE is admin (the state: everything), county (its county's instances: read,\n"
                       "create, fire, explain, policy diff) or integration (its county's instances: read\n"
                       "and fire). create prints the secret once; only its SHA-256 is stored. The name\n"
                       "(default ROLE-COUNTY) is the actor recorded in the history for its requests.",
                       1},
    [CLI_CMD_STORE] = {"store", 1, 1, BIT(CLI_OPT_FROM) | BIT(CLI_OPT_TO), BIT(CLI_OPT_FROM) | BIT(CLI_OPT_TO),
                       "certflow store copy --from DB --to DB",
                       "copy a whole database to another backend (a SQLite file or PostgreSQL)",
                       "Each DB is a SQLite file or a PostgreSQL connection string (postgresql://...).\n"
                       "Copies instances with their serials, the history with its chain, timers, the\n"
                       "outbox, workflow definitions, policy texts and log, the integrity mark, plugin\n"
                       "schema versions, API tokens and webhook subscriptions, in one transaction on\n"
                       "the target; refuses a target that holds anything (exit 4, nothing written), and\n"
                       "a database with plugin tables. Then verifies the target and compares the rows of\n"
                       "every table, and prints the counts. --db is not used. See docs/deployment.md.",
                       0},
    [CLI_CMD_WEBHOOK] = {"webhook", 1, 3, BIT(CLI_OPT_COUNTY) | BIT(CLI_OPT_ACTOR), 0,
                         "certflow webhook create NAME URL [--county C] | webhook list | webhook remove NAME",
                         "subscribe a URL to the registry changes certflow serve delivers",
                         "certflow serve POSTs each registry change (certified, renewed, expired,\n"
                         "suspended, revoked, reinstated) of the county's certificants (no --county:\n"
                         "every county) to URL, in order, signed with HMAC-SHA256 under the secret create\n"
                         "prints; a failed delivery is retried, none is lost across a restart. Changes\n"
                         "from now on. See docs/server.md, Webhooks.",
                         1},
};

/* One exit code per result code: the only place they are mapped. */
static const struct {
    int rc;
    int exit_code;
} EXITS[] = {
    {CF_OK, CLI_EXIT_OK},
    {CF_REJECTED, CLI_EXIT_REJECTED},
    {CF_EINVAL, CLI_EXIT_INVALID},
    {CF_ENOMEM, CLI_EXIT_OTHER},
    {CF_ENOTFOUND, CLI_EXIT_NOTFOUND},
    {CF_EEVENT, CLI_EXIT_INVALID},
    {CF_EJSON, CLI_EXIT_INVALID},
    {CF_EWORKFLOW, CLI_EXIT_INVALID},
    {CF_EPOLICY, CLI_EXIT_INVALID},
    {CF_ELIMIT, CLI_EXIT_LIMIT},
    {CF_EPLUGIN, CLI_EXIT_LIMIT},
    {CF_ESTORE, CLI_EXIT_DATABASE},
    {CF_EBUSY, CLI_EXIT_DATABASE},
    {CF_ECONFLICT, CLI_EXIT_INVALID},
    {CF_ECORRUPT, CLI_EXIT_CORRUPT},
    {CF_ESCHEMA, CLI_EXIT_DATABASE},
    {CF_EIO, CLI_EXIT_DATABASE},
    {CF_EREADONLY, CLI_EXIT_DATABASE},
    {CF_EFULL, CLI_EXIT_DATABASE},
    {CF_EACTION, CLI_EXIT_LIMIT},
};

static const struct {
    int code;
    const char *text;
} EXIT_DOCS[] = {
    {CLI_EXIT_OK, "success"},
    {CLI_EXIT_REJECTED, "the event was rejected (the rejection is recorded)"},
    {CLI_EXIT_USAGE, "usage error (unknown command or option, missing argument)"},
    {CLI_EXIT_NOTFOUND, "not found: no such instance or workflow"},
    {CLI_EXIT_INVALID, "invalid input: JSON, event, idempotency key reuse, workflow, policy, or check found problems"},
    {CLI_EXIT_DATABASE,
     "database problem: busy, full, read-only, schema, store, or a file that cannot be read"},
    {CLI_EXIT_CORRUPT, "the database is corrupt or was tampered with (verify names the problems)"},
    {CLI_EXIT_LIMIT, "a limit was exceeded, or a plugin or action failed"},
    {CLI_EXIT_OTHER, "anything else (e.g. out of memory)"},
};

int cli_exit_code(int rc)
{
    for (size_t i = 0; i < sizeof EXITS / sizeof EXITS[0]; i++)
        if (EXITS[i].rc == rc)
            return EXITS[i].exit_code;
    return CLI_EXIT_OTHER;
}

const cli_opt_spec *cli_opt_get(cli_opt o)
{
    return (o >= 0 && o < CLI_OPT__COUNT) ? &OPTS[o] : NULL;
}

const cli_cmd_spec *cli_cmd_get(cli_cmd c)
{
    return (c >= 0 && c < CLI_CMD__COUNT) ? &CMDS[c] : &CMDS[CLI_CMD_NONE];
}

static cli_cmd cmd_lookup(const char *name, size_t n)
{
    for (int c = CLI_CMD_NONE + 1; c < CLI_CMD__COUNT; c++)
        if (strlen(CMDS[c].name) == n && memcmp(CMDS[c].name, name, n) == 0)
            return (cli_cmd)c;
    return CLI_CMD_NONE;
}

cli_cmd cli_cmd_find(const char *name)
{
    if (!name)
        return CLI_CMD_NONE;
    return cmd_lookup(name, strnlen(name, 32));
}

static int opt_lookup_long(const char *name, size_t n)
{
    for (int o = 0; o < CLI_OPT__COUNT; o++)
        if (strlen(OPTS[o].name) == n && memcmp(OPTS[o].name, name, n) == 0)
            return o;
    return -1;
}

static int opt_lookup_short(char c)
{
    for (int o = 0; o < CLI_OPT__COUNT; o++)
        if (OPTS[o].short_name && OPTS[o].short_name == c)
            return o;
    return -1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int usage_error(cli_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* Longest piece of user text quoted back in a message. */
#define QUOTE 60

static int parse_option(cli_args *a, int argc, char *const argv[], int *i)
{
    const char *s = argv[*i];
    const char *name = NULL, *value = NULL;
    size_t n = 0;
    int o;
    if (s[1] == '-') {
        name = s + 2;
        const char *eq = memchr(name, '=', strnlen(name, 64));
        n = eq ? (size_t)(eq - name) : strnlen(name, 64);
        if (eq)
            value = eq + 1;
        o = opt_lookup_long(name, n);
        if (o < 0)
            return usage_error(a, "unknown option '--%.*s'", (int)(n < QUOTE ? n : QUOTE), name);
    } else {
        if (s[2] != '\0')
            return usage_error(a, "unknown option '%.*s'", QUOTE, s);
        o = opt_lookup_short(s[1]);
        if (o < 0)
            return usage_error(a, "unknown option '%.*s'", QUOTE, s);
    }
    const cli_opt_spec *spec = &OPTS[o];
    if (!spec->takes_value) {
        if (value)
            return usage_error(a, "option --%s takes no value", spec->name);
        a->opt[o] = "1";
        return 0;
    }
    if (!value) {
        if (*i + 1 >= argc || !argv[*i + 1])
            return usage_error(a, "option --%s needs a value (%s)", spec->name, spec->metavar);
        value = argv[++*i];
    }
    if (strnlen(value, spec->max_len + 1) > spec->max_len)
        return usage_error(a, "the value of --%s is longer than %zu bytes", spec->name, spec->max_len);
    if (o == CLI_OPT_MAP || o == CLI_OPT_WHERE) {
        if (a->nmulti >= CLI_MAX_POS)
            return usage_error(a, "--map and --where may be given at most %d times in all", CLI_MAX_POS);
        a->multi[a->nmulti] = value;
        a->multi_opt[a->nmulti++] = (cli_opt)o;
    }
    a->opt[o] = value;
    return 0;
}

int cli_parse(int argc, char *const argv[], cli_args *a)
{
    memset(a, 0, sizeof *a);
    int only_positional = 0;
    for (int i = 1; i < argc && argv && argv[i]; i++) {
        const char *s = argv[i];
        if (!only_positional && s[0] == '-' && s[1] != '\0') {
            if (s[1] == '-' && s[2] == '\0') {
                only_positional = 1;
                continue;
            }
            int rc = parse_option(a, argc, argv, &i);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t n = strnlen(s, CLI_MAX_NAME + 1);
        if (a->cmd == CLI_CMD_NONE) {
            a->cmd = cmd_lookup(s, n);
            if (a->cmd == CLI_CMD_NONE)
                return usage_error(a, "unknown command '%.*s'", QUOTE, s);
            continue;
        }
        if (a->npos >= CLI_MAX_POS || a->npos >= CMDS[a->cmd].max_args)
            return usage_error(a, "unexpected argument '%.*s'", QUOTE, s);
        if (n > CLI_MAX_NAME)
            return usage_error(a, "argument %d is longer than %d bytes", a->npos + 1, CLI_MAX_NAME);
        a->pos[a->npos++] = s;
    }
    if (a->opt[CLI_OPT_HELP] || a->opt[CLI_OPT_VERSION])
        return 0;
    if (a->cmd == CLI_CMD_NONE)
        return usage_error(a, "no command given");
    const cli_cmd_spec *c = &CMDS[a->cmd];
    for (int o = 0; o < CLI_OPT__COUNT; o++) {
        unsigned long bit = BIT(o);
        if (a->opt[o] && !(bit & (GLOBAL_OPTS | c->opts)))
            return usage_error(a, "option --%s does not apply to '%s'", OPTS[o].name, c->name);
        if (!a->opt[o] && (bit & c->required))
            return usage_error(a, "'%s' needs --%s %s", c->name, OPTS[o].name, OPTS[o].metavar);
    }
    if (a->npos < c->min_args)
        return usage_error(a, "'%s' needs %d argument%s", c->name, c->min_args, c->min_args == 1 ? "" : "s");
    return 0;
}

int cli_parse_ms(const char *s, uint32_t *out)
{
    if (!s || !*s || strlen(s) > 8)
        return -1;
    uint32_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    if (v < 1 || v > 86400000u)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_duration(const char *s, int64_t *out)
{
    if (!s)
        return -1;
    size_t n = strnlen(s, 24);
    if (n < 2 || n > 20)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    int64_t unit;
    switch (s[n - 1]) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return -1;
    }
    /* Keep now + duration far from overflow: at most about 10,000 years. */
    if (v > (int64_t)400000000000 / unit)
        return -1;
    *out = v * unit;
    return 0;
}

static void print_options(FILE *f, unsigned long mask)
{
    for (int o = 0; o < CLI_OPT__COUNT; o++) {
        if (!(mask & BIT(o)))
            continue;
        char left[64];
        if (OPTS[o].short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", OPTS[o].short_name, OPTS[o].name,
                     OPTS[o].metavar ? " " : "", OPTS[o].metavar ? OPTS[o].metavar : "");
        else
            snprintf(left, sizeof left, "--%s%s%s", OPTS[o].name, OPTS[o].metavar ? " " : "",
                     OPTS[o].metavar ? OPTS[o].metavar : "");
        fprintf(f, "  %-24s %s\n", left, OPTS[o].help);
    }
}

static void print_exit_codes(FILE *f)
{
    fputs("Exit codes:\n", f);
    for (size_t i = 0; i < sizeof EXIT_DOCS / sizeof EXIT_DOCS[0]; i++)
        fprintf(f, "  %2d  %s\n", EXIT_DOCS[i].code, EXIT_DOCS[i].text);
}

void cli_print_usage(FILE *f, cli_cmd c)
{
    const cli_cmd_spec *s = cli_cmd_get(c);
    fprintf(f, "usage: %s\n", s->usage);
    if (c == CLI_CMD_NONE)
        fputs("see certflow --help\n", f);
    else
        fprintf(f, "see certflow %s --help\n", s->name);
}

void cli_print_help(FILE *f, cli_cmd c)
{
    const cli_cmd_spec *s = cli_cmd_get(c);
    fprintf(f, "usage: %s\n", s->usage);
    if (c == CLI_CMD_NONE) {
        fputs("\nRuns certification lifecycles kept in a certflow database.\n\nCommands:\n", f);
        for (int i = CLI_CMD_NONE + 1; i < CLI_CMD__COUNT; i++)
            fprintf(f, "  %-9s %s\n", CMDS[i].name, CMDS[i].summary);
        fputs("\nOptions (before or after the command):\n", f);
        print_options(f, GLOBAL_OPTS);
        fputc('\n', f);
        print_exit_codes(f);
        fputs("\nRun certflow COMMAND --help for a command's options.\n", f);
        return;
    }
    fprintf(f, "\n%s.\n", s->summary);
    if (s->help)
        fprintf(f, "\n%s\n", s->help);
    if (s->opts) {
        fputs("\nOptions:\n", f);
        print_options(f, s->opts);
    }
    fputs("\nGlobal options:\n", f);
    print_options(f, GLOBAL_OPTS);
    fputs("\nExit codes: 0 ok, 1 rejected, 2 usage, 3 not found, 4 invalid input, 5 database,\n"
          "6 broken history chain, 7 limit or plugin, 10 other (see certflow --help).\n",
          f);
}
