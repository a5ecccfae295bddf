/*
 * migrate.c — certflow migrate NAME --to current [--from HASH] [--map OLD=NEW]...
 * [--where county=C|state=S]... [--dry-run]: the plan (cf_migrate_plan) or the
 * migration (cf_migrate_apply) of a workflow's live instances to another version.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print_plan(cli_run *r, json_t *doc, int dry)
{
    cli_textf(r->out, "%s%s to version %.12s at %s: %lld to move, %lld movable, %lld blocked", dry ? "dry run: " : "",
              str(doc, "workflow"), str(doc, "to"), str(doc, "at"), num(doc, "candidates"), num(doc, "movable"),
              num(doc, "blocked"));
    if (!dry)
        cli_textf(r->out, ", %lld migrated", num(doc, "migrated"));
    cli_textf(r->out, " (%lld ended left as they are, %lld on it already)\n", num(doc, "ended"), num(doc, "already"));
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(doc, "instances"), i, in)
    {
        const char *who = str(in, "who");
        if (!json_is_true(json_object_get(in, "movable"))) {
            cli_textf(r->out, "%s%s%s%s  %s  cannot move: %s\n", str(in, "id"), *who ? " (" : "", who, *who ? ")" : "",
                      str(in, "from_state"), str(in, "why"));
            continue;
        }
        cli_textf(r->out, "%s%s%s%s  %s -> %s  (from version %.12s)%s\n", str(in, "id"), *who ? " (" : "", who,
                  *who ? ")" : "", str(in, "from_state"), str(in, "to_state"), str(in, "from_definition"),
                  dry ? "" : json_is_true(json_object_get(in, "migrated")) ? "  migrated" : "");
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(in, "timers"), k, t)
        {
            const char *due = json_string_value(json_object_get(t, "due"));
            cli_textf(r->out, "    %-8s  %s.%s fires %s, %s%s\n", str(t, "action"), str(t, "state"), str(t, "timer"),
                      str(t, "event"), due ? "due " : "no timer: its deadline says none", due ? due : "");
        }
    }
}

int cli_cmd_migrate(cli_run *r)
{
    const cli_args *a = r->a;
    const char *maps[CLI_MAX_POS];
    size_t nmap = 0;
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = a->pos[0];
    o.to = a->opt[CLI_OPT_TO];
    o.from = a->opt[CLI_OPT_FROM];
    o.actor = r->actor;
    for (int i = 0; i < a->nmulti; i++) {
        const char *v = a->multi[i];
        if (a->multi_opt[i] == CLI_OPT_MAP) {
            maps[nmap++] = v;
        } else if (strncmp(v, "county=", 7) == 0 && v[7]) {
            o.county = v + 7;
        } else if (strncmp(v, "state=", 6) == 0 && v[6]) {
            o.state = v + 6;
        } else {
            return cli_usage(r, CLI_CMD_MIGRATE, "--where takes county=COUNTY or state=STATE, not '%.60s'", v);
        }
    }
    o.map = maps;
    o.nmap = nmap;
    int dry = a->opt[CLI_OPT_DRY_RUN] != NULL;
    char *text = NULL;
    int rc = dry ? cf_migrate_plan(r->e, &o, &text) : cf_migrate_apply(r->e, &o, &text);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!doc) {
        fprintf(r->err, "certflow: out of memory reading the engine's answer\n");
        return CLI_EXIT_OTHER;
    }
    int code = num(doc, "blocked") > 0 ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
    if (a->opt[CLI_OPT_JSON]) {
        if (cli_json_print(r->out, doc))
            return CLI_EXIT_OTHER;
        return code;
    }
    print_plan(r, doc, dry);
    json_decref(doc);
    return code;
}
