/*
 * program.h — what the registry, the report and the simulation know of the
 * shipped program (docs/lifecycles.md): registry statuses, the public fields of
 * a certification, calendar dates in the program's zone, and the report's
 * figures. Everything goes through the public API (certflow/certflow.h).
 */
#ifndef CF_CLI_PROGRAM_H
#define CF_CLI_PROGRAM_H

#include "../cli/cli.h"

#include <stdint.h>

/* ---- Dates ----
 * Dates are the public API's day numbers (days since 1970-01-01; cf_date_parse),
 * and local dates are those of the engine's time zone (cf_options.time_zone,
 * through cf_local_date and cf_local_midnight): the program keeps no calendar. */

/* Parse exactly "YYYY-MM-DD" as the program's records write it (years 1900 to
 * 9999) into a day number; -1 if malformed, not a date or outside those years. */
int prog_parse_date(const char *s, int64_t *day);
/* "YYYY-MM-DD" of a day number into buf (11 bytes); returns buf, which holds ""
 * if the date lies outside years 1 to 9999. */
const char *prog_format_date(int64_t day, char buf[11]);
/* The same month and day of the month `years` later into *out (a day past the
 * month's end runs into the next month: Feb 29 one year on is Mar 1). Returns a
 * cf_result: CF_EINVAL if the date leaves years 1 to 9999. */
int prog_add_years(int64_t day, int years, int64_t *out);

/* ---- Registry (REG_1, REG_2) ---- */

/* The registry statuses, in display order. */
enum { PROG_ACTIVE, PROG_LAPSED, PROG_SUSPENDED, PROG_REVOKED, PROG_NSTATUS };
extern const char *const prog_status_names[PROG_NSTATUS];

/* The registry status a certification state means (docs/lifecycles.md), or -1
 * for states in which nobody holds or held a certification (draft, submitted,
 * approved, ...). For a state the table does not name, hint (data.registry_status)
 * and then expires_on decide; either may be NULL. */
int prog_status_of(const char *state, const char *hint, const char *expires_on, int64_t today);
/* Index of a status name, or -1. */
int prog_status_find(const char *name);

/* One registry row: public fields only, copied. */
typedef struct prog_entry {
    char *number;
    char *name;
    int status;
    char *issued_on, *expires_on;
    char *specializations; /* "a;b" in CSV order of the record */
    json_t *spec_array;    /* the same as a JSON array */
    char *county;
} prog_entry;

typedef struct prog_registry {
    prog_entry *rows;
    size_t count, cap;
    cf_time updated_at; /* the latest change to any row's instance (0: no rows) */
} prog_registry;

/* Read every certification that has a number (past and present), sorted by
 * number. today decides statuses of states the table does not name. Returns a
 * cf_result; rows owned by reg (free with prog_registry_free). */
int prog_registry_load(cf_engine *e, int64_t today, prog_registry *reg);
void prog_registry_free(prog_registry *reg);
/* The public JSON object of one row. New reference. */
json_t *prog_entry_json(const prog_entry *row);

/* ---- The report (REG_3, REG_4) ---- */

/* Compute the report for local dates from_day..to_day (inclusive) as a JSON
 * object (new reference in *out). Returns a cf_result. */
int prog_report_build(cf_engine *e, int64_t from_day, int64_t to_day, json_t **out);
/* Print a report: "text", "json" or "csv". Returns 0, or -1 if writing failed. */
int prog_report_print(FILE *f, const json_t *report, const char *format);

#endif
