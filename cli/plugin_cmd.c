/*
 * plugin_cmd.c — certflow plugin list|query: the plugins the command loaded (or
 * refused, with why), the queries they offer, and running one; plus the helper
 * the plugin-backed commands (fees, notices, exam) use to run a query.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

json_t *cli_plugin_query(cli_run *r, const char *name, json_t *args, int *code)
{
    char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
    char *answer = NULL;
    int rc = cf_plugin_query(r->e, name, text, &answer);
    free(text);
    if (rc != CF_OK) {
        *code = cli_fail(r, rc);
        return NULL;
    }
    json_t *doc = json_loads(answer, JSON_DECODE_ANY, NULL);
    cf_free(answer);
    if (!doc) {
        cli_textf(r->err, "certflow: plugin query %s gave an answer that is not JSON\n", name);
        *code = CLI_EXIT_OTHER;
    }
    return doc;
}

typedef struct listing {
    cli_run *r;
    json_t *plugins, *queries;
    json_t *by_name; /* plugin name -> its entry in plugins */
} listing;

static int add_function(void *ud, const cf_plugin_function *f)
{
    listing *l = ud;
    json_t *p = json_object_get(l->by_name, f->plugin);
    if (!p)
        return 0;
    const char *key = strcmp(f->kind, "action") == 0 ? "actions" : strcmp(f->kind, "guard") == 0 ? "guards" : "queries";
    json_array_append_new(json_object_get(p, key), json_string(f->name));
    return 0;
}

static int add_plugin(void *ud, const cf_plugin_status *p)
{
    listing *l = ud;
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "path", p->path, "name", p->name, "version", p->version,
                          "loaded", p->loaded, "message", p->message);
    if (o && p->loaded) {
        json_object_set_new(o, "actions", json_array());
        json_object_set_new(o, "guards", json_array());
        json_object_set_new(o, "queries", json_array());
        json_object_set(l->by_name, p->name, o);
    }
    json_array_append_new(l->plugins, o);
    return 0;
}

static int add_query(void *ud, const char *name)
{
    listing *l = ud;
    json_array_append_new(l->queries, json_string(name));
    return 0;
}

static void join_list(FILE *f, const char *label, json_t *arr)
{
    if (!json_array_size(arr))
        return;
    cli_textf(f, "    %s:", label);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) cli_textf(f, "%s%s", i ? ", " : " ", json_string_value(v));
    fputc('\n', f);
}

/* plugin list: also when the engine did not open (r->open_failed), to show why. */
static int cmd_list(cli_run *r)
{
    listing l = {r, json_array(), json_array(), json_object()};
    int rc = cf_plugin_list(r->e, add_plugin, &l);
    if (rc == CF_OK)
        rc = cf_plugin_functions(r->e, add_function, &l);
    if (rc == CF_OK && !r->open_failed)
        rc = cf_plugin_queries(r->e, add_query, &l);
    json_decref(l.by_name);
    if (rc != CF_OK) {
        json_decref(l.plugins);
        json_decref(l.queries);
        return cli_fail(r, rc);
    }
    if (r->a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, json_pack("{s:s?, s:o, s:o}", "plugin_dir", r->plugins, "plugins", l.plugins,
                                                "queries", l.queries))
                   ? CLI_EXIT_OTHER
                   : 0;
    cli_textf(r->out, "plugins: %s\n", r->plugins ? r->plugins : "(none)");
    size_t i;
    json_t *p;
    json_array_foreach(l.plugins, i, p)
    {
        if (json_is_true(json_object_get(p, "loaded"))) {
            cli_textf(r->out, "  %s %s  %s\n", json_string_value(json_object_get(p, "name")),
                    json_string_value(json_object_get(p, "version")), json_string_value(json_object_get(p, "path")));
            join_list(r->out, "actions", json_object_get(p, "actions"));
            join_list(r->out, "guards", json_object_get(p, "guards"));
            join_list(r->out, "queries", json_object_get(p, "queries"));
        } else {
            cli_textf(r->out, "  refused: %s\n", json_string_value(json_object_get(p, "message")));
        }
    }
    fputs("queries:", r->out);
    json_array_foreach(l.queries, i, p) cli_textf(r->out, "%s%s", i ? ", " : " ", json_string_value(p));
    fputc('\n', r->out);
    json_decref(l.plugins);
    json_decref(l.queries);
    return r->open_failed ? CLI_EXIT_INVALID : 0;
}

int cli_cmd_plugin(cli_run *r)
{
    const cli_args *a = r->a;
    const char *verb = a->pos[0];
    if (strcmp(verb, "list") == 0) {
        if (a->npos != 1)
            return cli_usage(r, CLI_CMD_PLUGIN, "'plugin list' takes no argument");
        return cmd_list(r);
    }
    if (strcmp(verb, "query") != 0)
        return cli_usage(r, CLI_CMD_PLUGIN, "unknown plugin action '%.60s' (use list or query)", verb);
    if (a->npos != 2)
        return cli_usage(r, CLI_CMD_PLUGIN, "'plugin query' needs the query's name (see certflow plugin list)");
    json_t *args = NULL;
    const char *data;
    char *buf;
    int x = cli_load_data(r, &data, &buf);
    if (x)
        return x;
    if (data) {
        json_error_t jerr;
        args = json_loads(data, 0, &jerr);
        free(buf);
        if (!json_is_object(args)) {
            json_decref(args);
            cli_textf(r->err, "certflow: --data must be a JSON object such as {} (%s)\n",
                      args ? "it is another JSON value" : jerr.text);
            return CLI_EXIT_INVALID;
        }
    }
    int code = 0;
    json_t *doc = cli_plugin_query(r, a->pos[1], args, &code);
    json_decref(args);
    if (!doc)
        return code;
    return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : 0;
}
