/*
 * registry.c — certflow registry search|export: the public registry of Peer
 * Support Specialists, past and present (REG_1), showing only public fields
 * (REG_2: name, number, status, issue and expiry dates, specializations, county).
 */
#include "program.h"

#include "../plugins/common/registry_row.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The columns are the registry's own (plugins/common/registry_row.h). */
#define NCOLUMNS RR_NCOLUMNS

/* Case-insensitive substring test (ASCII folding; names are matched as typed). */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 1;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static int equal_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

typedef struct filters {
    const char *name, *number, *county;
    int status; /* -1: any */
} filters;

static int matches(const filters *f, const prog_entry *r)
{
    if (f->name && !contains_ci(r->name, f->name))
        return 0;
    if (f->number && !equal_ci(r->number, f->number))
        return 0;
    if (f->county && strcmp(r->county, f->county) != 0)
        return 0;
    if (f->status >= 0 && r->status != f->status)
        return 0;
    return 1;
}

static void cells_of(const prog_entry *r, const char *cells[NCOLUMNS])
{
    cells[0] = r->number;
    cells[1] = r->name;
    cells[2] = prog_status_names[r->status];
    cells[3] = r->issued_on;
    cells[4] = r->expires_on;
    cells[5] = r->specializations;
    cells[6] = r->county;
}

static int write_csv(FILE *f, const prog_registry *reg, const filters *flt)
{
    rr_csv_header(f);
    for (size_t i = 0; i < reg->count; i++) {
        if (!matches(flt, &reg->rows[i]))
            continue;
        const char *cells[NCOLUMNS];
        cells_of(&reg->rows[i], cells);
        rr_csv_cells(f, cells);
    }
    return ferror(f) ? -1 : 0;
}

static int write_json(FILE *f, const prog_registry *reg, const filters *flt)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < reg->count; i++)
        if (matches(flt, &reg->rows[i]) && json_array_append_new(arr, prog_entry_json(&reg->rows[i])) != 0) {
            json_decref(arr);
            return -1;
        }
    return cli_json_print(f, arr);
}

static int write_text(FILE *f, const prog_registry *reg, const filters *flt)
{
    static const char *const headers[NCOLUMNS] = {"number", "name", "status", "issued", "expires",
                                                   "specializations", "county"};
    cli_table *t = cli_table_new(NCOLUMNS, headers);
    if (!t)
        return -1;
    for (size_t i = 0; i < reg->count; i++) {
        if (!matches(flt, &reg->rows[i]))
            continue;
        const char *cells[NCOLUMNS];
        cells_of(&reg->rows[i], cells);
        if (cli_table_add(t, cells) != 0) {
            cli_table_free(t);
            return -1;
        }
    }
    if (cli_table_rows(t) == 0)
        fputs("no certification matches\n", f);
    else
        cli_table_print(f, t);
    cli_table_free(t);
    return ferror(f) ? -1 : 0;
}

int cli_cmd_registry(cli_run *r)
{
    const cli_args *a = r->a;
    const char *verb = a->pos[0];
    int search = strcmp(verb, "search") == 0, export = strcmp(verb, "export") == 0;
    if (!search && !export)
        return cli_usage(r, CLI_CMD_REGISTRY, "unknown registry action '%.60s' (use search or export)", verb);
    filters flt = {a->opt[CLI_OPT_NAME], a->opt[CLI_OPT_NUMBER], a->opt[CLI_OPT_COUNTY], -1};
    if (a->opt[CLI_OPT_STATUS]) {
        flt.status = prog_status_find(a->opt[CLI_OPT_STATUS]);
        if (flt.status < 0)
            return cli_usage(r, CLI_CMD_REGISTRY, "--status '%.60s' is not a status (active, lapsed, suspended, revoked)",
                             a->opt[CLI_OPT_STATUS]);
    }
    const char *format = a->opt[CLI_OPT_FORMAT];
    if (!format)
        format = a->opt[CLI_OPT_JSON] ? "json" : search ? "text" : "csv";
    if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 && (export || strcmp(format, "text") != 0))
        return cli_usage(r, CLI_CMD_REGISTRY, "--format '%.60s' is not one of %s", format,
                         export ? "csv, json" : "text, csv, json");

    prog_registry reg;
    int64_t today;
    int rc = cf_local_date(r->e, cf_engine_now(r->e), &today);
    if (rc == CF_OK)
        rc = prog_registry_load(r->e, today, &reg);
    if (rc != CF_OK)
        return cli_fail(r, rc);

    FILE *f = r->out;
    const char *path = a->opt[CLI_OPT_OUT];
    if (path && !(f = fopen(path, "wb"))) {
        fprintf(r->err, "certflow: cannot write '%.200s': %s (give a writable --out file)\n", path, strerror(errno));
        prog_registry_free(&reg);
        return CLI_EXIT_DATABASE;
    }
    int bad = strcmp(format, "csv") == 0    ? write_csv(f, &reg, &flt)
              : strcmp(format, "json") == 0 ? write_json(f, &reg, &flt)
                                            : write_text(f, &reg, &flt);
    if (path && fclose(f) != 0)
        bad = -1;
    prog_registry_free(&reg);
    if (bad) {
        fprintf(r->err, "certflow: could not write the registry%s%.200s: %s\n", path ? " to " : "", path ? path : "",
                strerror(errno));
        return CLI_EXIT_DATABASE;
    }
    return 0;
}
