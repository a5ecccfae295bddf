/*
 * explain.c — certflow explain ID EVENT (what a fire would do, recording nothing:
 * cf_instance_explain) and certflow events ID (the events an instance accepts now
 * and whether each would pass its guards: cf_instance_events).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The fees a preview would charge: the rows it writes to the fees plugin's ledger. */
static json_t *fees_of(json_t *doc)
{
    json_t *fees = json_array();
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(doc, "records"), i, rec)
    {
        const char *table = json_string_value(json_object_get(rec, "table"));
        const char *op = json_string_value(json_object_get(rec, "op"));
        if (fees && table && op && strcmp(table, "fees_ledger") == 0 && strcmp(op, "insert") == 0)
            json_array_append(fees, json_object_get(rec, "row"));
    }
    return fees;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A JSON value as short text: strings as they are, the rest compact JSON. malloc'd. */
static char *value_text(json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
}

static void print_timers(cli_run *r, json_t *doc, const char *key, const char *title)
{
    json_t *list = json_object_get(doc, key);
    if (json_array_size(list) == 0)
        return;
    cli_textf(r->out, "%s:\n", title);
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        cli_textf(r->out, "  %s  %s (state %s) fires %s\n", str(t, "due"), str(t, "timer"), str(t, "state"),
                  str(t, "event"));
    }
}

static void print_explanation(cli_run *r, json_t *doc, json_t *fees)
{
    const char *outcome = str(doc, "outcome");
    cli_textf(r->out, "%s on %s (%s, %s) in state %s at %s\n", str(doc, "event"), str(doc, "instance"),
              str(doc, "workflow"), str(doc, "county"), str(doc, "state"), str(doc, "at"));
    cli_who_line(r, str(doc, "instance"));
    if (strcmp(outcome, "applied") == 0)
        cli_textf(r->out, "would apply: %s -> %s\n", str(doc, "state"), str(doc, "to_state"));
    else if (strcmp(outcome, "rejected") == 0)
        cli_textf(r->out, "would be rejected\n");
    else
        cli_textf(r->out, "would fail (%s): %s\n", str(doc, "code"), str(doc, "error"));
    size_t i, k;
    json_t *tr, *g, *v;
    const char *key;
    json_array_foreach(json_object_get(doc, "transitions"), i, tr)
    {
        int taken = json_is_true(json_object_get(tr, "taken"));
        int passed = json_is_true(json_object_get(tr, "passed"));
        cli_textf(r->out, "transition %zu: %s -> %s%s\n", i + 1, str(tr, "from"), str(tr, "to"),
                  taken ? "  (would be taken)" : passed ? "  (passes, but an earlier one is taken)" : "");
        json_t *guards = json_object_get(tr, "guards");
        if (json_array_size(guards) == 0)
            cli_textf(r->out, "  (no guard)\n");
        json_array_foreach(guards, k, g)
        {
            if (json_is_true(json_object_get(g, "passed")))
                cli_textf(r->out, "  pass  %s\n", str(g, "guard"));
            else
                cli_textf(r->out, "  FAIL  %s: %s\n", str(g, "guard"), str(g, "reason"));
        }
    }
    json_t *reasons = json_object_get(doc, "reasons");
    if (json_array_size(reasons) > 0) {
        cli_textf(r->out, "a rejection would record, decisive first:\n");
        json_array_foreach(reasons, i, v)
        {
            cli_textf(r->out, "  %s\n", json_string_value(v) ? json_string_value(v) : "");
        }
    }
    json_t *changes = json_object_get(doc, "data_changes");
    if (json_object_size(changes) > 0) {
        cli_textf(r->out, "data it would change:\n");
        json_object_foreach(changes, key, v)
        {
            char *from = value_text(json_object_get(v, "from")), *to = value_text(json_object_get(v, "to"));
            cli_textf(r->out, "  %s: %s -> %s\n", key, from ? from : "?", to ? to : "?");
            free(from);
            free(to);
        }
    }
    print_timers(r, doc, "deadlines", "deadlines it would set");
    print_timers(r, doc, "cancelled", "deadlines it would cancel");
    if (json_array_size(fees) > 0) {
        cli_textf(r->out, "fees it would charge:\n");
        json_array_foreach(fees, i, v)
        {
            json_int_t cents = json_integer_value(json_object_get(v, "amount"));
            const char *cover = str(v, "covered_by");
            cli_textf(r->out, "  %s $%lld.%02lld paid by %s%s%s\n", str(v, "type"), (long long)(cents / 100),
                      (long long)(cents % 100), str(v, "payer"), *cover ? ", covered by " : "", cover);
        }
    }
    json_array_foreach(json_object_get(doc, "sends"), i, v)
    {
        cli_textf(r->out, "would send %s to %s\n", str(v, "event"), str(v, "instance"));
    }
    json_array_foreach(json_object_get(doc, "records"), i, v)
    {
        const char *table = str(v, "table");
        if (strcmp(table, "fees_ledger") == 0)
            continue;
        char *row = value_text(json_object_get(v, "row"));
        cli_textf(r->out, "plugin record: %s %s %s\n", str(v, "op"), table, row ? row : "");
        free(row);
    }
    cli_textf(r->out, "nothing was recorded\n");
}

int cli_cmd_explain(cli_run *r)
{
    const char *data;
    char *buf;
    int x = cli_load_data(r, &data, &buf);
    if (x)
        return x;
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = data;
    o.actor = r->actor;
    char *text = NULL;
    int rc = cf_instance_explain(r->e, r->a->pos[0], r->a->pos[1], &o, &text);
    free(buf);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    json_t *doc = json_loads(text, JSON_PRESERVE_ORDER, NULL);
    cf_free(text);
    if (!doc) {
        fprintf(r->err, "certflow: out of memory reading the explanation\n");
        return CLI_EXIT_OTHER;
    }
    json_t *fees = fees_of(doc);
    int applied = strcmp(str(doc, "outcome"), "applied") == 0;
    int code = applied ? CLI_EXIT_OK : CLI_EXIT_REJECTED;
    if (r->a->opt[CLI_OPT_JSON]) {
        cli_who_json(r, str(doc, "instance"), doc);
        json_object_set_new(doc, "fees", fees ? fees : json_array());
        if (cli_json_print(r->out, doc))
            code = CLI_EXIT_OTHER;
        return code;
    }
    print_explanation(r, doc, fees);
    json_decref(fees);
    json_decref(doc);
    return code;
}

typedef struct events_ctx {
    json_t *arr;
    cli_table *table;
    int oom;
} events_ctx;

static int event_row(void *ud, const cf_event_choice *c)
{
    events_ctx *x = ud;
    json_t *reasons = cli_json_text(c->reasons);
    if (x->arr) {
        json_t *o = json_pack("{s:s, s:b, s:o, s:b, s:o}", "event", c->event, "allowed", c->allowed, "to_state",
                              cli_json_str(c->to_state), "by_timer", c->by_timer, "reasons",
                              reasons ? reasons : json_array());
        if (!o || json_array_append_new(x->arr, o) != 0)
            x->oom = 1;
        return 0;
    }
    json_decref(reasons);
    char *why = c->allowed ? NULL : cli_reasons_join(c->reasons, "; ");
    const char *cells[] = {c->event, c->allowed ? "yes" : "no", c->to_state ? c->to_state : "",
                           c->by_timer ? "timer" : "", why ? why : ""};
    if (cli_table_add(x->table, cells) != 0)
        x->oom = 1;
    free(why);
    return 0;
}

int cli_cmd_events(cli_run *r)
{
    const char *data;
    char *buf;
    int x = cli_load_data(r, &data, &buf);
    if (x)
        return x;
    static const char *const headers[] = {"event", "allowed", "to", "fired by", "why not"};
    events_ctx c = {NULL, NULL, 0};
    if (r->a->opt[CLI_OPT_JSON])
        c.arr = json_array();
    else
        c.table = cli_table_new(5, headers);
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = data;
    o.actor = r->actor;
    int rc = (c.arr || c.table) ? cf_instance_events(r->e, r->a->pos[0], &o, event_row, &c) : CF_ENOMEM;
    free(buf);
    int code = 0;
    if (rc != CF_OK) {
        code = rc == CF_ENOMEM && !c.arr && !c.table ? CLI_EXIT_OTHER : cli_fail(r, rc);
    } else if (c.oom) {
        fprintf(r->err, "certflow: out of memory while listing the events\n");
        code = CLI_EXIT_OTHER;
    } else if (c.arr) {
        json_incref(c.arr);
        code = cli_json_print(r->out, c.arr) ? CLI_EXIT_OTHER : 0;
    } else {
        cli_who_line(r, r->a->pos[0]);
        if (cli_table_rows(c.table) == 0)
            fputs("no event applies in this state (it is final)\n", r->out);
        else
            cli_table_print(r->out, c.table);
    }
    json_decref(c.arr);
    cli_table_free(c.table);
    return code;
}
