/*
 * host_ext.c — a test plugin for the host functions added at the end of the
 * table in issue 14 (sql_bind_null, data_text, event_data_text, data_number,
 * event_data_number) and after it (today, issue 13): its action reads plain
 * values and the local date, stores a row with a NULL and writes what it saw into
 * the instance data (tests/test_cli_ux.c).
 */
#include <certflow/plugin.h>

#include <stdio.h>
#include <string.h>

static const cf_host *H;

static int record(cf_call *call, void *ud)
{
    (void)ud;
    if (!CF_HOST_HAS(H, data_text) || !CF_HOST_HAS(H, event_data_number) || !CF_HOST_HAS(H, sql_bind_null))
        return H->set_error(call, "the host table lacks the plain-value functions");
    const char *name = NULL, *amount_text = NULL, *note = NULL, *nothing = "unset", *missing = "unset";
    double amount = 0, count = 0;
    int rc = H->data_text(call, "name", &name);
    if (rc == CF_PLUGIN_OK)
        rc = H->data_text(call, "amount", &amount_text);
    if (rc == CF_PLUGIN_OK)
        rc = H->data_number(call, "amount", &amount);
    if (rc == CF_PLUGIN_OK)
        rc = H->event_data_text(call, "note", &note);
    if (rc == CF_PLUGIN_OK)
        rc = H->event_data_number(call, "count", &count);
    if (rc != CF_PLUGIN_OK)
        return H->set_error(call, "reading the data failed");
    int null_rc = H->data_text(call, "nothing", &nothing);
    int missing_rc = H->data_text(call, "missing", &missing);
    double not_a_number = 1;
    int nan_rc = H->data_number(call, "name", &not_a_number);

    char today[11] = "", tiny[5] = "x";
    int today_rc = CF_HOST_HAS(H, today) ? H->today(call, today, sizeof today) : CF_PLUGIN_ERROR;
    int tiny_rc = CF_HOST_HAS(H, today) ? H->today(call, tiny, sizeof tiny) : CF_PLUGIN_ERROR;

    cf_stmt *st = NULL;
    rc = H->sql_prepare(call, "INSERT INTO host_ext_rows(name, cents, note) VALUES (?, ?, ?)", &st);
    if (rc == CF_PLUGIN_OK)
        rc = H->sql_bind_text(st, 1, name);
    if (rc == CF_PLUGIN_OK)
        rc = H->sql_bind_int(st, 2, (int64_t)(amount * 100));
    if (rc == CF_PLUGIN_OK)
        rc = H->sql_bind_null(st, 3);
    if (rc == CF_PLUGIN_OK && H->sql_step(st) != CF_PLUGIN_DONE)
        rc = CF_PLUGIN_ERROR;
    H->sql_finish(st);
    if (rc != CF_PLUGIN_OK)
        return H->set_error(call, "storing the row failed");
    int64_t nulls = -1;
    rc = H->sql_prepare(call, "SELECT count(*) FROM host_ext_rows WHERE note IS NULL AND name = ?", &st);
    if (rc == CF_PLUGIN_OK)
        rc = H->sql_bind_text(st, 1, name);
    if (rc == CF_PLUGIN_OK && H->sql_step(st) == CF_PLUGIN_ROW)
        nulls = H->sql_column_int(st, 0);
    H->sql_finish(st);

    char seen[640];
    snprintf(seen, sizeof seen,
             "{\"seen\": {\"name\": \"%s\", \"amount\": \"%s\", \"cents\": %lld, \"note\": \"%s\", \"count\": %g, "
             "\"today\": \"%s\", \"today_small_einval\": %s, "
             "\"null_ok\": %s, \"missing_notfound\": %s, \"string_not_number\": %s, \"null_rows\": %lld}}",
             name, amount_text, (long long)(amount * 100), note, count, today_rc == CF_PLUGIN_OK ? today : "failed",
             tiny_rc == CF_PLUGIN_EINVAL && tiny[0] == '\0' ? "true" : "false",
             null_rc == CF_PLUGIN_OK && nothing == NULL ? "true" : "false",
             missing_rc == CF_PLUGIN_ENOTFOUND && missing == NULL ? "true" : "false",
             nan_rc == CF_PLUGIN_EINVAL && not_a_number == 0 ? "true" : "false", (long long)nulls);
    return H->data_patch(call, seen);
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("host_ext", "1.0.0", "plain values and NULL binds");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    H = host;
    int rc = host->add_migration(self, 1, "CREATE TABLE host_ext_rows(name TEXT, cents INTEGER, note TEXT)");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "host_ext_record", record, NULL);
    return rc;
}
