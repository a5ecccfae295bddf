/*
 * exam.c — certflow exam import FILE: the exam administrator's results file
 * (EX_4), read and checked by the exam_results plugin, every row's candidate
 * checked here, and only then each row fired as exam_result with the key the
 * plugin derived from it. Any bad row stops the import before anything is fired.
 */
#include "../cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (16 * 1024 * 1024)

static char *read_file(cli_run *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_textf(r->err, "certflow: cannot read '%.200s': %s (give the results file)\n", path, strerror(errno));
        return NULL;
    }
    char *b = malloc(MAX_FILE + 1);
    size_t n = b ? fread(b, 1, MAX_FILE + 1, f) : 0;
    int bad = !b || ferror(f);
    fclose(f);
    if (bad || n > MAX_FILE) {
        free(b);
        cli_textf(r->err, "certflow: '%.200s' %s\n", path, bad ? "could not be read" : "is larger than 16 MiB");
        return NULL;
    }
    b[n] = '\0';
    if (strlen(b) != n) {
        free(b);
        cli_textf(r->err, "certflow: '%.200s' is not a text file (it holds a NUL byte)\n", path);
        return NULL;
    }
    return b;
}

static int by_line(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "line"));
    return (x > y) - (x < y);
}

/* Unknown candidates (and instances that are not certifications) are bad rows too. */
static size_t check_candidates(cli_run *r, json_t *rows, json_t *errors)
{
    size_t bad = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "candidate_id"));
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        int rc = cf_instance_get(r->e, id, &info);
        char msg[400];
        if (rc == CF_ENOTFOUND)
            snprintf(msg, sizeof msg, "unknown candidate '%.60s': no certification has this id", id);
        else if (rc != CF_OK)
            snprintf(msg, sizeof msg, "candidate '%.60s': %s", id, cf_errmsg(r->e));
        else if (strcmp(info.workflow, "certification") != 0)
            snprintf(msg, sizeof msg, "candidate '%.60s' is a %s instance, not a certification", id, info.workflow);
        else
            continue;
        json_array_append_new(errors, json_pack("{s:O, s:s}", "line", json_object_get(row, "line"), "message", msg));
        bad++;
    }
    return bad;
}

static int report_errors(cli_run *r, const char *path, json_t *errors, size_t nrows)
{
    size_t n = json_array_size(errors);
    json_t **list = malloc(n * sizeof *list);
    for (size_t i = 0; list && i < n; i++)
        list[i] = json_array_get(errors, i);
    if (list)
        qsort(list, n, sizeof *list, by_line);
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *sorted = json_array();
        for (size_t i = 0; list && i < n; i++)
            json_array_append(sorted, list[i]);
        free(list);
        cli_json_print(r->out, json_pack("{s:s, s:b, s:o}", "file", path, "imported", 0, "errors", sorted));
        return CLI_EXIT_INVALID;
    }
    for (size_t i = 0; list && i < n; i++)
        cli_textf(r->err, "%s:%lld: %s\n", path, (long long)json_integer_value(json_object_get(list[i], "line")),
                json_string_value(json_object_get(list[i], "message")));
    free(list);
    cli_textf(r->err, "certflow: %zu bad row%s in %s; nothing was imported (%zu good row%s). Fix the file and "
                    "import it again.\n",
            n, n == 1 ? "" : "s", path, nrows, nrows == 1 ? "" : "s");
    return CLI_EXIT_INVALID;
}

int cli_cmd_exam(cli_run *r)
{
    const cli_args *a = r->a;
    if (strcmp(a->pos[0], "import") != 0)
        return cli_usage(r, CLI_CMD_EXAM, "unknown exam action '%.60s' (use import)", a->pos[0]);
    const char *path = a->pos[1];
    char *text = read_file(r, path);
    if (!text)
        return CLI_EXIT_DATABASE;
    json_t *args = json_pack("{s:s}", "csv", text);
    free(text);
    if (!args) {
        cli_textf(r->err, "certflow: '%.200s' is not UTF-8 text\n", path);
        return CLI_EXIT_INVALID;
    }
    int code = 0;
    json_t *doc = cli_plugin_query(r, "exam_results.parse", args, &code);
    json_decref(args);
    if (!doc)
        return code;
    json_t *rows = json_object_get(doc, "rows"), *errors = json_object_get(doc, "errors");
    size_t unknown = check_candidates(r, rows, errors);
    if (json_array_size(errors)) {
        code = report_errors(r, path, errors, json_array_size(rows) - unknown);
        json_decref(doc);
        return code;
    }
    size_t applied = 0, replayed = 0, rejected = 0;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "candidate_id"));
        const char *key = json_string_value(json_object_get(row, "key"));
        json_int_t line = json_integer_value(json_object_get(row, "line"));
        char *data = json_dumps(json_object_get(row, "data"), JSON_COMPACT | JSON_SORT_KEYS);
        cf_fire_result res = CF_FIRE_RESULT_INIT;
        int rc = cf_instance_fire(r->e, id, "exam_result", data, r->actor, key, &res);
        free(data);
        if (rc != CF_OK && rc != CF_REJECTED) {
            cli_textf(r->err, "%s:%lld: ", path, (long long)line);
            code = cli_fail(r, rc);
            fprintf(r->err, "certflow: stopped at line %lld: %zu row%s imported before it\n", (long long)line,
                    applied + replayed + rejected, applied + replayed + rejected == 1 ? "" : "s");
            json_decref(out);
            json_decref(doc);
            return code;
        }
        const char *outcome = res.replayed ? (rc == CF_OK ? "already imported (applied)" : "already imported (rejected)")
                              : rc == CF_OK ? "applied"
                                            : "rejected";
        if (res.replayed)
            replayed++;
        else if (rc == CF_OK)
            applied++;
        else
            rejected++;
        if (a->opt[CLI_OPT_JSON]) {
            json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "line", line, "candidate_id", id,
                                                 "outcome", outcome, "from", res.from_state, "to", res.to_state,
                                                 "reasons", cli_json_text(res.reasons)));
        } else if (rc == CF_OK) {
            cli_textf(r->out, "line %lld: %s %s: %s -> %s\n", (long long)line, id, outcome, res.from_state, res.to_state);
        } else {
            char *why = cli_reasons_join(res.reasons, "; ");
            cli_textf(r->out, "line %lld: %s %s: %s\n", (long long)line, id, outcome, why ? why : "");
            free(why);
        }
    }
    if (a->opt[CLI_OPT_JSON])
        cli_json_print(r->out, json_pack("{s:s, s:b, s:i, s:i, s:i, s:o}", "file", path, "imported", 1, "applied",
                                         (int)applied, "already_imported", (int)replayed, "rejected", (int)rejected,
                                         "rows", out));
    else {
        json_decref(out);
        cli_textf(r->out, "%s: %zu row%s: %zu applied, %zu already imported, %zu rejected\n", path,
                json_array_size(rows), json_array_size(rows) == 1 ? "" : "s", applied, replayed, rejected);
    }
    json_decref(doc);
    return rejected ? CLI_EXIT_REJECTED : 0;
}
