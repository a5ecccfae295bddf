/*
 * fees.c — certflow fees statement|balance: a certification's fees from the
 * ledger of the fees plugin (FEE_1, SCH_1), through its queries.
 */
#include "../cli/cli.h"

#include <stdlib.h>
#include <string.h>

/* 12345 cents as "$123.45". */
static const char *dollars(json_int_t cents, char buf[32])
{
    snprintf(buf, 32, "%s$%lld.%02lld", cents < 0 ? "-" : "", (long long)(cents < 0 ? -cents : cents) / 100,
             (long long)(cents < 0 ? -cents : cents) % 100);
    return buf;
}

static json_int_t cents_of(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void print_totals(cli_run *r, json_t *doc)
{
    char a[32], b[32], c[32];
    fprintf(r->out, "charged %s, covered by scholarships %s, paid %s\n", dollars(cents_of(doc, "charged_cents"), a),
            dollars(cents_of(doc, "covered_cents"), b), dollars(cents_of(doc, "paid_cents"), c));
}

static int print_statement(cli_run *r, json_t *doc)
{
    static const char *const headers[] = {"#", "date", "type", "amount", "payer", "covered by", "reason"};
    cli_table *t = cli_table_new(7, headers);
    if (!t)
        return CLI_EXIT_OTHER;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "entries"), i, e)
    {
        char id[24], amount[32];
        snprintf(id, sizeof id, "%lld", (long long)cents_of(e, "id"));
        const char *cells[] = {id,
                               json_string_value(json_object_get(e, "charged_on")),
                               json_string_value(json_object_get(e, "type")),
                               dollars(cents_of(e, "amount_cents"), amount),
                               json_string_value(json_object_get(e, "payer")),
                               json_string_value(json_object_get(e, "covered_by")),
                               json_string_value(json_object_get(e, "reason"))};
        if (cli_table_add(t, cells) != 0) {
            cli_table_free(t);
            return CLI_EXIT_OTHER;
        }
    }
    if (cli_table_rows(t) == 0)
        fputs("no fees charged\n", r->out);
    else
        cli_table_print(r->out, t);
    cli_table_free(t);
    print_totals(r, doc);
    return 0;
}

static int print_balance(cli_run *r, json_t *doc)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(doc, "by_type_cents"), key, v)
    {
        char buf[32];
        cli_textf(r->out, "%-14s %s\n", key, dollars(json_integer_value(v), buf));
    }
    fprintf(r->out, "%lld fee%s: ", (long long)cents_of(doc, "fees"), cents_of(doc, "fees") == 1 ? "" : "s");
    print_totals(r, doc);
    return 0;
}

int cli_cmd_fees(cli_run *r)
{
    const cli_args *a = r->a;
    const char *verb = a->pos[0];
    int statement = strcmp(verb, "statement") == 0, balance = strcmp(verb, "balance") == 0;
    if (!statement && !balance)
        return cli_usage(r, CLI_CMD_FEES, "unknown fees action '%.60s' (use statement or balance)", verb);
    if (statement && a->npos < 2)
        return cli_usage(r, CLI_CMD_FEES, "'fees statement' needs the certification's id");
    if (a->npos == 2) {
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        int rc = cf_instance_get(r->e, a->pos[1], &info);
        if (rc != CF_OK)
            return cli_fail(r, rc);
    }
    json_t *args = a->npos == 2 ? json_pack("{s:s}", "instance", a->pos[1]) : json_object();
    int code = 0;
    json_t *doc = cli_plugin_query(r, statement ? "fees.statement" : "fees.balance", args, &code);
    json_decref(args);
    if (!doc)
        return code;
    if (a->opt[CLI_OPT_JSON])
        return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : 0;
    code = statement ? print_statement(r, doc) : print_balance(r, doc);
    json_decref(doc);
    return code;
}
