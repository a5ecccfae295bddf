/*
 * notices.c — certflow notices [list] | notices mark-sent ID...: the outbox of
 * notices due to people and counties, kept by the notices plugin.
 */
#include "../cli/cli.h"

#include <stdlib.h>
#include <string.h>

static int list(cli_run *r)
{
    const cli_args *a = r->a;
    const char *status = a->opt[CLI_OPT_STATUS];
    if (status && strcmp(status, "pending") != 0 && strcmp(status, "sent") != 0)
        return cli_usage(r, CLI_CMD_NOTICES, "--status '%.60s' is not pending or sent", status);
    json_t *args = json_object();
    if (status)
        json_object_set_new(args, "status", json_string(status));
    if (a->opt[CLI_OPT_COUNTY])
        json_object_set_new(args, "county", json_string(a->opt[CLI_OPT_COUNTY]));
    int code = 0;
    json_t *rows = cli_plugin_query(r, "notices.list", args, &code);
    json_decref(args);
    if (!rows)
        return code;
    if (a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, rows) ? CLI_EXIT_OTHER : 0;
    static const char *const headers[] = {"id", "created", "county", "type", "to", "status", "text"};
    cli_table *t = cli_table_new(7, headers);
    size_t i;
    json_t *n;
    json_array_foreach(rows, i, n)
    {
        char id[24], to[300];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(n, "id")));
        snprintf(to, sizeof to, "%s %s", json_string_value(json_object_get(n, "recipient")),
                 json_string_value(json_object_get(n, "recipient_name")));
        const char *cells[] = {id,
                               json_string_value(json_object_get(n, "created")),
                               json_string_value(json_object_get(n, "county")),
                               json_string_value(json_object_get(n, "type")),
                               to,
                               json_string_value(json_object_get(n, "status")),
                               json_string_value(json_object_get(n, "text"))};
        if (t)
            cli_table_add(t, cells);
    }
    if (!t || cli_table_rows(t) == 0)
        fputs("no notices\n", r->out);
    else
        cli_table_print(r->out, t);
    cli_table_free(t);
    json_decref(rows);
    return 0;
}

static int mark_sent(cli_run *r)
{
    const cli_args *a = r->a;
    if (a->npos < 2)
        return cli_usage(r, CLI_CMD_NOTICES, "'notices mark-sent' needs the ids of the notices sent");
    json_t *ids = json_array();
    for (int i = 1; i < a->npos; i++) {
        char *end = NULL;
        long long id = strtoll(a->pos[i], &end, 10);
        if (!*a->pos[i] || *end || id <= 0) {
            json_decref(ids);
            return cli_usage(r, CLI_CMD_NOTICES, "'%.60s' is not a notice id (a whole number)", a->pos[i]);
        }
        json_array_append_new(ids, json_integer(id));
    }
    json_t *args = json_pack("{s:o}", "ids", ids);
    int code = 0;
    json_t *doc = cli_plugin_query(r, "notices.mark_sent", args, &code);
    json_decref(args);
    if (!doc)
        return strstr(cf_errmsg(r->e), "there is no notice") ? CLI_EXIT_NOTFOUND : code;
    if (a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : 0;
    size_t i;
    json_t *v;
    fputs("marked sent:", r->out);
    json_array_foreach(json_object_get(doc, "marked"), i, v) fprintf(r->out, " %lld", (long long)json_integer_value(v));
    if (json_array_size(json_object_get(doc, "marked")) == 0)
        fputs(" none", r->out);
    fputc('\n', r->out);
    if (json_array_size(json_object_get(doc, "already_sent"))) {
        fputs("already sent:", r->out);
        json_array_foreach(json_object_get(doc, "already_sent"), i, v)
            fprintf(r->out, " %lld", (long long)json_integer_value(v));
        fputc('\n', r->out);
    }
    json_decref(doc);
    return 0;
}

int cli_cmd_notices(cli_run *r)
{
    const cli_args *a = r->a;
    const char *verb = a->npos ? a->pos[0] : "list";
    if (strcmp(verb, "list") == 0) {
        if (a->npos > 1)
            return cli_usage(r, CLI_CMD_NOTICES, "'notices list' takes no argument");
        return list(r);
    }
    if (strcmp(verb, "mark-sent") == 0)
        return mark_sent(r);
    return cli_usage(r, CLI_CMD_NOTICES, "unknown notices action '%.60s' (use list or mark-sent)", verb);
}
