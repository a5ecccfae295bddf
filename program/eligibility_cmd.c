/*
 * eligibility_cmd.c — certflow eligibility ID --on DATE, and the bulk form
 * certflow eligibility --csv FILE: was a hire billable on a date of service, and
 * why (prog_eligibility, eligibility.c; docs/billing.md).
 */
#include "../cli/cli.h"
#include "eligibility.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *yes(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key)) ? "yes" : "no";
}

static void print_answer(cli_run *r, json_t *doc)
{
    json_t *cert = json_object_get(doc, "certification");
    cli_textf(r->out, "%s on %s: %s (peer codes: %s, non-peer codes: %s)\n", str(doc, "employment"), str(doc, "date"),
              json_is_true(json_object_get(doc, "billable")) ? "billable" : "not billable", yes(doc, "peer_codes"),
              yes(doc, "non_peer_codes"));
    cli_textf(r->out, "name: %s\n", str(doc, "name"));
    cli_textf(r->out, "county: %s\n", str(doc, "county"));
    cli_textf(r->out, "hired on: %s\n", str(doc, "hired_on"));
    cli_textf(r->out, "employment state that day: %s\n",
              json_is_string(json_object_get(doc, "employment_state")) ? str(doc, "employment_state") : "(none)");
    if (json_is_object(cert))
        cli_textf(r->out, "certification %s that day: %s (since %s)\n", str(cert, "id"), str(cert, "state"),
                  str(cert, "since"));
    else
        cli_textf(r->out, "certification that day: none linked\n");
    cli_textf(r->out, "program type: %s\n",
              json_is_string(json_object_get(doc, "program_type")) ? str(doc, "program_type") : "not recorded");
    cli_textf(r->out, "supervisor: %s\n",
              json_is_string(json_object_get(doc, "supervisor")) ? str(doc, "supervisor") : "none recorded");
    size_t i;
    json_t *v;
    cli_textf(r->out, "why:\n");
    json_array_foreach(json_object_get(doc, "reasons"), i, v)
    {
        cli_textf(r->out, "  %s\n", json_string_value(v) ? json_string_value(v) : "");
    }
    cli_textf(r->out, "history rows relied on:\n");
    json_array_foreach(json_object_get(doc, "rows"), i, v)
    {
        cli_textf(r->out, "  %s %s row %lld: %s -> %s at %s (%s)\n", str(v, "workflow"), str(v, "instance"),
                  (long long)json_integer_value(json_object_get(v, "number")), str(v, "event"), str(v, "to_state"),
                  str(v, "at"), str(v, "why"));
    }
}

/* The answer: a new reference, or NULL with *rc set and the message in msg. */
static json_t *ask(cli_run *r, const char *id, const char *date, int *rc, char *msg, size_t size)
{
    json_t *doc = NULL;
    *rc = prog_eligibility(r->e, id, date, &doc, msg, size);
    return doc;
}

/* One CSV field, quoted when it must be, control characters shown escaped. */
static void csv_field(FILE *f, const char *s, int last)
{
    char *esc = cli_escape(s ? s : "", 0);
    const char *t = esc ? esc : "";
    if (strpbrk(t, ",\"\n")) {
        fputc('"', f);
        for (const char *c = t; *c; c++) {
            if (*c == '"')
                fputc('"', f);
            fputc(*c, f);
        }
        fputc('"', f);
    } else {
        fputs(t, f);
    }
    fputc(last ? '\n' : ',', f);
    free(esc);
}

static void csv_answer(FILE *f, const char *id, const char *date, json_t *doc, const char *error)
{
    char rows[1024] = "";
    char *reasons = NULL;
    if (doc) {
        size_t i, n = 0;
        json_t *v;
        json_array_foreach(json_object_get(doc, "rows"), i, v)
        {
            n += (size_t)snprintf(rows + n, n < sizeof rows ? sizeof rows - n : 0, "%s%s#%lld", i ? " " : "",
                                  str(v, "workflow"), (long long)json_integer_value(json_object_get(v, "number")));
            if (n >= sizeof rows)
                n = sizeof rows - 1;
        }
        char *joined = json_dumps(json_object_get(doc, "reasons"), JSON_COMPACT);
        reasons = joined ? cli_reasons_join(joined, "; ") : NULL;
        free(joined);
    }
    json_t *cert = doc ? json_object_get(doc, "certification") : NULL;
    csv_field(f, id, 0);
    csv_field(f, date, 0);
    csv_field(f, doc ? yes(doc, "billable") : "", 0);
    csv_field(f, doc ? yes(doc, "peer_codes") : "", 0);
    csv_field(f, doc ? yes(doc, "non_peer_codes") : "", 0);
    csv_field(f, doc ? str(doc, "employment_state") : "", 0);
    csv_field(f, cert ? str(cert, "state") : "", 0);
    csv_field(f, doc ? str(doc, "program_type") : "", 0);
    csv_field(f, error ? error : reasons, 0);
    csv_field(f, rows, 1);
    free(reasons);
}

/* Split one CSV line of two fields (no quoting needed for ids and dates). */
static int split_pair(char *line, char **a, char **b)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    char *comma = strchr(line, ',');
    if (!comma)
        return -1;
    *comma = '\0';
    *a = line;
    *b = comma + 1;
    while (**a == ' ' || **a == '"')
        (*a)++;
    while (**b == ' ' || **b == '"')
        (*b)++;
    for (char *p = *a + strlen(*a); p > *a && (p[-1] == ' ' || p[-1] == '"');)
        *--p = '\0';
    for (char *p = *b + strlen(*b); p > *b && (p[-1] == ' ' || p[-1] == '"');)
        *--p = '\0';
    return 0;
}

static int bulk(cli_run *r, const char *path)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        cli_textf(r->err, "certflow: cannot read %s: %s (give a CSV file of employment id, date rows)\n", path,
                  strerror(errno));
        return CLI_EXIT_INVALID;
    }
    int as_json = r->a->opt[CLI_OPT_JSON] != NULL;
    json_t *arr = as_json ? json_array() : NULL;
    if (!as_json)
        fputs("employment,date,billable,peer_codes,non_peer_codes,employment_state,certification_state,"
              "program_type,reasons,rows\n",
              r->out);
    char line[1024];
    int lineno = 0, failed = 0, code = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(in)) {
            cli_textf(r->err, "certflow: %s line %d is longer than %zu bytes\n", path, lineno, sizeof line - 2);
            code = CLI_EXIT_INVALID;
            break;
        }
        char *id, *date;
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '#')
            continue;
        if (split_pair(line, &id, &date) != 0) {
            cli_textf(r->err, "certflow: %s line %d: expected \"employment id,date\"\n", path, lineno);
            code = CLI_EXIT_INVALID;
            break;
        }
        if (lineno == 1 && strcmp(date, "date") == 0)
            continue; /* the header */
        int rc;
        char msg[1024];
        json_t *doc = ask(r, id, date, &rc, msg, sizeof msg);
        const char *error = doc ? NULL : msg;
        if (!doc)
            failed++;
        if (as_json) {
            json_t *item = doc ? json_incref(doc) : json_pack("{s:s, s:s, s:s}", "employment", id, "date", date,
                                                             "error", error);
            if (!item || json_array_append_new(arr, item) != 0)
                code = CLI_EXIT_OTHER;
        } else {
            csv_answer(r->out, id, date, doc, error);
        }
        json_decref(doc);
    }
    if (in != stdin)
        fclose(in);
    if (as_json) {
        if (code == 0 && cli_json_print(r->out, arr))
            code = CLI_EXIT_OTHER;
        else if (code != 0)
            json_decref(arr);
    }
    if (code == 0 && failed) {
        cli_textf(r->err, "certflow: %d row%s could not be answered (see their error)\n", failed,
                  failed == 1 ? "" : "s");
        code = CLI_EXIT_INVALID;
    }
    return code;
}

int cli_cmd_eligibility(cli_run *r)
{
    const char *csv = r->a->opt[CLI_OPT_CSV], *on = r->a->opt[CLI_OPT_ON];
    if (csv) {
        if (r->a->npos > 0 || on)
            return cli_usage(r, CLI_CMD_ELIGIBILITY, "--csv takes the ids and dates from the file: give no ID and no --on");
        return bulk(r, csv);
    }
    if (r->a->npos != 1 || !on)
        return cli_usage(r, CLI_CMD_ELIGIBILITY, "give an employment ID and --on DATE, or --csv FILE");
    int rc;
    char msg[1024];
    json_t *doc = ask(r, r->a->pos[0], on, &rc, msg, sizeof msg);
    if (!doc) {
        cli_textf(r->err, "certflow: %s\n", msg);
        return cli_exit_code(rc);
    }
    if (r->a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : 0;
    print_answer(r, doc);
    json_decref(doc);
    return 0;
}
