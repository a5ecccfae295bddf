/*
 * registry_row.h — the one definition of a row of the public registry (REG_1,
 * REG_2), shared by `certflow registry search|export` (program/program.c) and the
 * registry_export plugin, so that both list the same certifications with the
 * same fields, row for row (docs/registry.md, "Where a row comes from").
 *
 * A row is derived from what the engine keeps, never from what a caller wrote:
 * - the status from the instance's current state (certified.active: active; expired,
 *   lapsed: lapsed; certified.suspended: suspended; revoked; the flat "certified" and
 *   "suspended" of instances on the earlier definition read the same). Any other state is not in the registry,
 *   whatever its data says;
 * - the number, dates and specializations from data fields the certification
 *   workflow declares owned (workflows/certification.lua, `owned`): only its
 *   policies write them (the number is CMPSS- and the instance's serial), and
 *   create and fire data holding them are refused (docs/workflows.md);
 * - the name from the data, the county from the instance.
 * Header-only (static functions): the plugin is its own .so.
 */
#ifndef CF_PLUGINS_REGISTRY_ROW_H
#define CF_PLUGINS_REGISTRY_ROW_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The public columns, in file order. */
#define RR_NCOLUMNS 7
static const char *const RR_COLUMNS[RR_NCOLUMNS] = {"certification_number", "name", "status", "issued_on",
                                                    "expires_on", "specializations", "county"};

/* The registry status of a certification state, or NULL for the states in
 * which nobody holds or held a certification (draft, submitted, approved, ...). */
static inline const char *rr_status_of_state(const char *state)
{
    static const struct {
        const char *state, *status;
    } map[] = {
        {"certified.active", "active"}, {"certified.suspended", "suspended"},
        {"expired", "lapsed"},          {"lapsed", "lapsed"},
        {"revoked", "revoked"},
        /* instances still on the flat definition (before `certified` held active and suspended) */
        {"certified", "active"},        {"suspended", "suspended"},
    };
    for (size_t i = 0; state && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].state, state) == 0)
            return map[i].status;
    return NULL;
}

static inline const char *rr_text(json_t *data, const char *key)
{
    const char *v = json_string_value(json_object_get(data, key));
    return v ? v : "";
}

/* The public row of a certification instance in state `state` of county
 * `county` holding `data` (an object): a new object with exactly RR_COLUMNS
 * (strings; "specializations" an array of the strings among data's), in *out.
 * *out is NULL when the instance is not in the registry: its state holds no
 * certification, or no certification number was issued. Returns 0, or -1 when
 * out of memory. */
static inline int rr_row_build(const char *state, const char *county, json_t *data, json_t **out)
{
    *out = NULL;
    const char *status = rr_status_of_state(state);
    const char *number = rr_text(data, "certification_number");
    if (!status || !*number)
        return 0;
    json_t *specs = json_array(), *row = json_object();
    if (!specs || !row) {
        json_decref(specs);
        json_decref(row);
        return -1;
    }
    size_t i;
    json_t *v;
    int bad = 0;
    json_array_foreach(json_object_get(data, "specializations"), i, v)
    {
        if (json_is_string(v) && json_array_append(specs, v) != 0)
            bad = 1;
    }
    const char *text[RR_NCOLUMNS] = {number, rr_text(data, "name"), status, rr_text(data, "issued_on"),
                                     rr_text(data, "expires_on"), NULL, county ? county : ""};
    for (int c = 0; c < RR_NCOLUMNS && !bad; c++)
        bad = json_object_set_new(row, RR_COLUMNS[c], text[c] ? json_string(text[c]) : json_incref(specs)) != 0;
    json_decref(specs);
    if (bad) {
        json_decref(row);
        return -1;
    }
    *out = row;
    return 0;
}

/* One CSV field per RFC 4180 (quoted when it holds a comma, quote, CR or LF). */
static inline void rr_csv_field(FILE *f, const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The specializations of a row as CSV shows them: "a;b" (malloc'd; NULL when out of memory). */
static inline char *rr_join_specializations(json_t *specs)
{
    size_t len = 1, i;
    json_t *v;
    json_array_foreach(specs, i, v) if (json_is_string(v)) len += json_string_length(v) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    out[0] = '\0';
    size_t used = 0;
    json_array_foreach(specs, i, v)
    {
        if (!json_is_string(v))
            continue;
        if (used)
            out[used++] = ';';
        memcpy(out + used, json_string_value(v), json_string_length(v));
        used += json_string_length(v);
        out[used] = '\0';
    }
    return out;
}

/* The CSV header line, CRLF-terminated. */
static inline void rr_csv_header(FILE *f)
{
    for (int c = 0; c < RR_NCOLUMNS; c++)
        fprintf(f, "%s%s", c ? "," : "", RR_COLUMNS[c]);
    fputs("\r\n", f);
}

/* One CSV line of RR_NCOLUMNS cells in RR_COLUMNS order (NULL cells are empty),
 * CRLF-terminated: the one row writer of the plugin and of `certflow registry`. */
static inline void rr_csv_cells(FILE *f, const char *const cells[RR_NCOLUMNS])
{
    for (int c = 0; c < RR_NCOLUMNS; c++) {
        if (c)
            fputc(',', f);
        rr_csv_field(f, cells[c]);
    }
    fputs("\r\n", f);
}

/* One row (an object of rr_row_build's shape) as a CSV line. Returns 0, -1 when out of memory. */
static inline int rr_csv_row(FILE *f, json_t *row)
{
    const char *cells[RR_NCOLUMNS];
    char *joined = NULL;
    for (int c = 0; c < RR_NCOLUMNS; c++) {
        json_t *v = json_object_get(row, RR_COLUMNS[c]);
        if (json_is_array(v) && !joined) {
            if (!(joined = rr_join_specializations(v)))
                return -1;
            cells[c] = joined;
        } else {
            cells[c] = json_is_string(v) ? json_string_value(v) : "";
        }
    }
    rr_csv_cells(f, cells);
    free(joined);
    return 0;
}

#endif
