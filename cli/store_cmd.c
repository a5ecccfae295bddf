/*
 * store_cmd.c — certflow store copy --from DB --to DB: a whole database moved to
 * another backend over cf_store_copy (docs/deployment.md, "Moving a county's data").
 */
#include "cli.h"

#include <string.h>

static int add_count(void *ud, const char *table, int64_t rows)
{
    return json_object_set_new((json_t *)ud, table, json_integer(rows));
}

int cli_cmd_store(cli_run *r)
{
    const cli_args *a = r->a;
    if (strcmp(a->pos[0], "copy"))
        return cli_usage(r, CLI_CMD_STORE, "unknown store command '%.60s' (the one there is: copy)", a->pos[0]);
    const char *from = a->opt[CLI_OPT_FROM], *to = a->opt[CLI_OPT_TO];
    json_t *tables = json_object();
    if (!tables)
        return cli_fail(r, CF_ENOMEM);
    char msg[1024];
    int rc = cf_store_copy(from, to, &r->opts, add_count, tables, msg, sizeof msg);
    if (rc != CF_OK) {
        json_decref(tables);
        cli_textf(r->err, "certflow: %s\n", msg[0] ? msg : cf_strerror(rc));
        return cli_exit_code(rc);
    }
    if (a->opt[CLI_OPT_JSON]) {
        json_t *o = json_pack("{s:b, s:o}", "verified", 1, "tables", tables);
        return cli_json_print(r->out, o) ? CLI_EXIT_OTHER : CLI_EXIT_OK;
    }
    fputs("copied and verified (rows per table):\n", r->out);
    const char *table;
    json_t *n;
    json_object_foreach(tables, table, n)
        fprintf(r->out, "  %-15s %lld\n", table, (long long)json_integer_value(n));
    json_decref(tables);
    return CLI_EXIT_OK;
}
