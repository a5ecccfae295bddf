/*
 * template.c — a certflow plugin to copy when you write your own. It keeps a
 * table of its own (template_records), adds a row there each time its action
 * runs and counts the rows in the instance's data; its guard lets a transition
 * through once an instance has enough rows. docs/plugins.md walks through it.
 */
#include <certflow/plugin.h>

#include <stdio.h>
#include <stdlib.h>

/* Read from the configuration at init, handed back to every call as `ud`,
 * freed when the engine closes. */
typedef struct settings {
    const cf_host *host;
    int64_t min_records;
} settings;

/* The rows this instance has so far in template_records, into *count. */
static int count_records(const cf_host *h, cf_call *call, int64_t *count)
{
    cf_stmt *st = NULL;
    int rc = h->sql_prepare(call, "SELECT count(*) FROM template_records WHERE instance_id = ?1", &st);
    if (rc == CF_PLUGIN_OK)
        rc = h->sql_bind_text(st, 1, h->instance_id(call));
    if (rc == CF_PLUGIN_OK && (rc = h->sql_step(st)) == CF_PLUGIN_ROW) {
        *count = h->sql_column_int(st, 0);
        rc = CF_PLUGIN_OK;
    }
    if (st)
        h->sql_finish(st);
    return rc;
}

/* Action "template_record": one row per call, and the count in the data. */
static int record(cf_call *call, void *ud)
{
    const settings *s = ud;
    const cf_host *h = s->host;
    cf_stmt *st = NULL;
    int rc = h->sql_prepare(call,
                            "INSERT INTO template_records(instance_id, event, state, at) VALUES(?1, ?2, ?3, ?4)",
                            &st);
    if (rc == CF_PLUGIN_OK)
        rc = h->sql_bind_text(st, 1, h->instance_id(call));
    if (rc == CF_PLUGIN_OK)
        rc = h->sql_bind_text(st, 2, h->event(call));
    if (rc == CF_PLUGIN_OK)
        rc = h->sql_bind_text(st, 3, h->state(call));
    if (rc == CF_PLUGIN_OK)
        rc = h->sql_bind_int(st, 4, h->now(call));
    if (rc == CF_PLUGIN_OK && (rc = h->sql_step(st)) == CF_PLUGIN_DONE)
        rc = CF_PLUGIN_OK;
    if (st)
        h->sql_finish(st);
    int64_t count = 0;
    if (rc == CF_PLUGIN_OK)
        rc = count_records(h, call, &count);
    if (rc != CF_PLUGIN_OK)
        return rc; /* the host has the message; the transition rolls back */
    char patch[64];
    snprintf(patch, sizeof patch, "{\"template_records\": %lld}", (long long)count);
    return h->data_patch(call, patch);
}

/* Guard "template_enough_records": at least min_records rows. */
static int enough_records(cf_call *call, void *ud, int *allow)
{
    const settings *s = ud;
    int64_t count = 0;
    int rc = count_records(s->host, call, &count);
    if (rc != CF_PLUGIN_OK)
        return rc;
    *allow = count >= s->min_records;
    if (!*allow) {
        char reason[96];
        snprintf(reason, sizeof reason, "%lld of %lld records so far", (long long)count,
                 (long long)s->min_records);
        s->host->set_reason(call, reason);
    }
    return CF_PLUGIN_OK;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info =
        CF_PLUGIN_INFO_INIT("template", "1.0.0", "records each call in its own table (a plugin to copy)");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    settings *s = calloc(1, sizeof *s);
    if (!s)
        return host->init_error(self, "out of memory");
    s->host = host;
    s->min_records = 1;
    int rc = host->at_close(self, free, s);
    char value[32];
    if (rc == CF_PLUGIN_OK && host->json_field(config_json, "min_records", value, sizeof value) == CF_PLUGIN_OK) {
        char *end = NULL;
        s->min_records = strtoll(value, &end, 10);
        if (*end != '\0' || s->min_records < 0)
            return host->init_error(self, "min_records must be a whole number, 0 or more");
    }
    if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(self, 1,
                                 "CREATE TABLE template_records("
                                 "  id INTEGER PRIMARY KEY,"
                                 "  instance_id TEXT NOT NULL,"
                                 "  event TEXT NOT NULL,"
                                 "  state TEXT NOT NULL,"
                                 "  at INTEGER NOT NULL);"
                                 "CREATE INDEX template_records_by_instance ON template_records(instance_id);");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "template_record", record, s);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_guard(self, "template_enough_records", enough_records, s);
    return rc;
}
