/*
 * workflow_cmd.c — certflow workflow versions [NAME] (every stored definition of
 * a workflow and the instances on each: cf_workflow_versions) and certflow
 * workflow diff NAME OLD NEW (what changed between two: cf_workflow_diff).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The API's JSON text parsed, or NULL after printing the failure (*code). */
static json_t *parse(cli_run *r, char *text, int *code)
{
    json_error_t jerr;
    json_t *doc = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!doc) {
        fprintf(r->err, "certflow: out of memory reading the engine's answer\n");
        *code = CLI_EXIT_OTHER;
    }
    return doc;
}

static int versions(cli_run *r)
{
    const char *name = r->a->npos > 1 ? r->a->pos[1] : NULL;
    if (r->a->npos > 2)
        return cli_usage(r, CLI_CMD_WORKFLOW, "workflow versions takes at most one NAME");
    char *text = NULL;
    int rc = cf_workflow_versions(r->e, name, &text);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    int code = CLI_EXIT_OK;
    json_t *doc = parse(r, text, &code);
    if (!doc)
        return code;
    if (r->a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : CLI_EXIT_OK;
    static const char *const headers[] = {"workflow", "version", "first stored", "current", "live", "ended"};
    cli_table *t = cli_table_new(6, headers);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "versions"), i, v)
    {
        char hash[13], live[24], ended[24];
        snprintf(hash, sizeof hash, "%s", str(v, "hash"));
        snprintf(live, sizeof live, "%lld", (long long)json_integer_value(json_object_get(v, "live")));
        snprintf(ended, sizeof ended, "%lld", (long long)json_integer_value(json_object_get(v, "ended")));
        const char *cells[] = {str(v, "workflow"), hash, str(v, "first_stored"),
                               json_is_true(json_object_get(v, "current")) ? "yes" : "", live, ended};
        if (t && cli_table_add(t, cells) != 0)
            code = CLI_EXIT_OTHER;
    }
    if (!t)
        code = CLI_EXIT_OTHER;
    else if (cli_table_rows(t) == 0)
        fprintf(r->out, "no stored version%s%s\n", name ? " of " : "", name ? name : "");
    else
        cli_table_print(r->out, t);
    cli_table_free(t);
    json_decref(doc);
    return code;
}

static int diff(cli_run *r)
{
    if (r->a->npos != 4)
        return cli_usage(r, CLI_CMD_WORKFLOW, "workflow diff takes NAME OLD NEW (OLD and NEW: a hash, a prefix or current)");
    char *text = NULL;
    int rc = cf_workflow_diff(r->e, r->a->pos[1], r->a->pos[2], r->a->pos[3], &text);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    int code = CLI_EXIT_OK;
    json_t *doc = parse(r, text, &code);
    if (!doc)
        return code;
    if (r->a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : CLI_EXIT_OK;
    json_t *changes = json_object_get(doc, "changes");
    size_t n = json_array_size(changes);
    cli_textf(r->out, "%s %.12s -> %.12s: %zu change%s\n", str(doc, "workflow"), str(doc, "old"), str(doc, "new"), n,
              n == 1 ? "" : "s");
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const char *old = json_string_value(json_object_get(c, "old"));
        const char *new_ = json_string_value(json_object_get(c, "new"));
        cli_textf(r->out, "  %-10s %-7s %s", str(c, "kind"), str(c, "change"), str(c, "name"));
        if (strcmp(str(c, "change"), "changed") == 0)
            cli_textf(r->out, ": %s -> %s\n", old ? old : "", new_ ? new_ : "");
        else if ((old || new_) && strcmp(old ? old : new_, str(c, "name")) != 0 && strcmp(str(c, "kind"), "guard") != 0 &&
                 strcmp(str(c, "kind"), "action") != 0)
            cli_textf(r->out, " (%s)\n", old ? old : new_);
        else
            fputc('\n', r->out);
    }
    json_decref(doc);
    return code;
}

/* ---- workflow fields [NAME]: the data each event is fired with (cf_workflow_event_data) ---- */

typedef struct fields_out {
    json_t *rows; /* [{workflow, event, field, type, required, example, about}] */
    const char *workflow;
} fields_out;

static int field_row(void *ud, const cf_event_field *f)
{
    fields_out *o = ud;
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "workflow", o->workflow, "event", f->event, "field",
                            f->field, "type", f->type, "required", f->required, "example", f->example, "about",
                            f->about);
    return !row || json_array_append_new(o->rows, row) != 0;
}

static int workflow_name(void *ud, const char *name)
{
    return json_array_append_new(ud, json_string(name)) != 0;
}

/* A Markdown table cell: '|' escaped, the rest as it is. */
static void md_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
}

/* The tables of docs/events.md: one section per workflow, one table per event. */
static void print_markdown(FILE *f, json_t *rows)
{
    const char *wf = NULL, *ev = NULL;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *w = str(row, "workflow"), *e = str(row, "event");
        if (!wf || strcmp(wf, w) != 0) {
            fprintf(f, "%s## %s\n", wf ? "\n" : "", w);
            ev = NULL;
        }
        if (!ev || strcmp(ev, e) != 0) {
            fprintf(f, "\n### %s\n\n| field | type | required | example | what it holds |\n| --- | --- | --- | --- | --- |\n",
                    e);
        }
        wf = w;
        ev = e;
        fprintf(f, "| `%s` | %s | %s | `", str(row, "field"), str(row, "type"),
                json_is_true(json_object_get(row, "required")) ? "yes" : "no");
        md_cell(f, str(row, "example"));
        fputs("` | ", f);
        md_cell(f, str(row, "about"));
        fputs(" |\n", f);
    }
}

static int fields(cli_run *r)
{
    const char *format = r->a->opt[CLI_OPT_FORMAT];
    if (format && strcmp(format, "markdown") != 0 && strcmp(format, "text") != 0)
        return cli_usage(r, CLI_CMD_WORKFLOW, "--format of 'workflow fields' is text or markdown, not '%.40s'", format);
    json_t *names = json_array();
    int rc = r->a->pos[1] ? (json_array_append_new(names, json_string(r->a->pos[1])), CF_OK)
                          : cf_workflow_names(r->e, workflow_name, names);
    fields_out o = {json_array(), NULL};
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        if (rc != CF_OK)
            break;
        o.workflow = json_string_value(n);
        rc = cf_workflow_event_data(r->e, o.workflow, field_row, &o);
    }
    json_decref(names);
    if (rc != CF_OK) {
        json_decref(o.rows);
        return cli_fail(r, rc);
    }
    if (r->a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, o.rows) ? CLI_EXIT_OTHER : 0;
    if (format && strcmp(format, "markdown") == 0) {
        print_markdown(r->out, o.rows);
    } else {
        static const char *const headers[] = {"workflow", "event", "field", "type", "required", "example", "about"};
        cli_table *t = cli_table_new(7, headers);
        json_t *row;
        json_array_foreach(o.rows, i, row)
        {
            const char *cells[] = {str(row, "workflow"), str(row, "event"), str(row, "field"), str(row, "type"),
                                   json_is_true(json_object_get(row, "required")) ? "yes" : "no",
                                   str(row, "example"), str(row, "about")};
            if (t)
                cli_table_add(t, cells);
        }
        if (t && cli_table_rows(t) == 0)
            fputs("no event declares its data (event_data in the workflow file)\n", r->out);
        else if (t)
            cli_table_print(r->out, t);
        cli_table_free(t);
    }
    json_decref(o.rows);
    return 0;
}

int cli_cmd_workflow(cli_run *r)
{
    const char *sub = r->a->pos[0];
    if (r->a->opt[CLI_OPT_FORMAT] && strcmp(sub, "fields") != 0)
        return cli_usage(r, CLI_CMD_WORKFLOW, "--format applies to 'workflow fields' only");
    if (strcmp(sub, "versions") == 0)
        return versions(r);
    if (strcmp(sub, "diff") == 0)
        return diff(r);
    if (strcmp(sub, "fields") == 0)
        return fields(r);
    return cli_usage(r, CLI_CMD_WORKFLOW, "unknown workflow subcommand '%.40s' (versions, diff or fields)", sub);
}
