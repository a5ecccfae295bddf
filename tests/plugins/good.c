/*
 * good.c — a test plugin that uses every part of the host table: a ledger table
 * of its own (two migrations), actions that write it, patch data, send events
 * and fail, guards that read it, and its configuration.
 */
#include <certflow/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cf_host *H; /* the host table is the same for every engine */

typedef struct good {
    char label[64];
} good;

static int exec1(cf_call *call, const char *sql, const char *a, const char *b, int64_t n)
{
    cf_stmt *st = NULL;
    int rc = H->sql_prepare(call, sql, &st);
    if (rc == CF_PLUGIN_OK && a)
        rc = H->sql_bind_text(st, 1, a);
    if (rc == CF_PLUGIN_OK && b)
        rc = H->sql_bind_text(st, 2, b);
    if (rc == CF_PLUGIN_OK && n >= 0)
        rc = H->sql_bind_int(st, 3, n);
    if (rc == CF_PLUGIN_OK && (rc = H->sql_step(st)) == CF_PLUGIN_DONE)
        rc = CF_PLUGIN_OK;
    if (st)
        H->sql_finish(st);
    return rc;
}

static int64_t count_rows(cf_call *call)
{
    cf_stmt *st = NULL;
    int64_t n = -1;
    if (H->sql_prepare(call, "SELECT count(*) FROM good_ledger WHERE instance_id = ?1", &st) == CF_PLUGIN_OK &&
        H->sql_bind_text(st, 1, H->instance_id(call)) == CF_PLUGIN_OK && H->sql_step(st) == CF_PLUGIN_ROW)
        n = H->sql_column_int(st, 0);
    if (st)
        H->sql_finish(st);
    return n;
}

/* good_log: a ledger row with the event's amount; data gets the row count, the event and the label. */
static int log_entry(cf_call *call, void *ud)
{
    const good *g = ud;
    char amount[32] = "0";
    const char *ev = NULL;
    if (H->event_data_get(call, NULL, &ev) == CF_PLUGIN_OK)
        H->json_field(ev, "amount", amount, sizeof amount);
    int rc = exec1(call, "INSERT INTO good_ledger(instance_id, event, amount) VALUES(?1, ?2, ?3)",
                   H->instance_id(call), H->event(call), strtoll(amount, NULL, 10));
    if (rc != CF_PLUGIN_OK)
        return rc;
    char patch[256];
    snprintf(patch, sizeof patch, "{\"logged\": %lld, \"last_event\": \"%s\", \"label\": \"%s\", \"at\": %lld}",
             (long long)count_rows(call), H->event(call), g->label, (long long)H->now(call));
    H->log(call, CF_PLUGIN_LOG_INFO, "logged an entry");
    return H->data_patch(call, patch);
}

/* good_fail: writes a row, then fails: the row must roll back with the transition. */
static int fail_after_write(cf_call *call, void *ud)
{
    (void)ud;
    int rc = exec1(call, "INSERT INTO good_ledger(instance_id, event, amount) VALUES(?1, ?2, ?3)",
                   H->instance_id(call), "doomed", 999);
    if (rc != CF_PLUGIN_OK)
        return rc;
    return H->set_error(call, "the ledger refused the entry");
}

/* good_send: queue "entry" for the instance named by the data field "peer". */
static int send_peer(cf_call *call, void *ud)
{
    (void)ud;
    const char *data = NULL;
    char peer[64];
    if (H->data_get(call, NULL, &data) != CF_PLUGIN_OK || H->json_field(data, "peer", peer, sizeof peer) != CF_PLUGIN_OK)
        return H->set_error(call, "no peer in the data");
    char msg[128];
    snprintf(msg, sizeof msg, "{\"from\": \"%s\"}", H->instance_id(call));
    return H->send(call, peer, "entry", msg);
}

/* good_send_bad: queue an event the peer's workflow does not know. */
static int send_bad(cf_call *call, void *ud)
{
    (void)ud;
    const char *peer = NULL;
    if (H->data_get(call, "peer", &peer) != CF_PLUGIN_OK)
        return H->set_error(call, "no peer");
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)strlen(peer) - 2, peer + 1); /* strip the JSON quotes */
    return H->send(call, id, "no_such_event", NULL);
}

/* good_touch: tries to write the engine's instance table. */
static int touch_engine(cf_call *call, void *ud)
{
    (void)ud;
    return exec1(call, "UPDATE instance SET state = 'hacked'", NULL, NULL, -1);
}

/* good_or_rollback: a conflict clause that would end the engine's transaction. */
static int or_rollback(cf_call *call, void *ud)
{
    (void)ud;
    int rc = exec1(call, "INSERT INTO good_ledger(id, instance_id, event, amount) VALUES(1000, 'x', 'x', 0)", NULL,
                   NULL, -1);
    if (rc == CF_PLUGIN_OK)
        rc = exec1(call, "INSERT OR ROLLBACK INTO good_ledger(id, instance_id, event, amount) VALUES(1000, 'x', 'x', 0)",
                   NULL, NULL, -1);
    return rc == CF_PLUGIN_OK ? CF_PLUGIN_OK : rc;
}

/* good_has_amount: the event must carry an amount. */
static int has_amount(cf_call *call, void *ud, int *allow)
{
    (void)ud;
    const char *v = NULL;
    *allow = H->event_data_get(call, "amount", &v) == CF_PLUGIN_OK;
    if (!*allow && H->event_data_get(call, "bad_reason", &v) == CF_PLUGIN_OK)
        H->set_reason(call, "no \xff amount"); /* not UTF-8: the engine must refuse to store it */
    else if (!*allow)
        H->set_reason(call, "no amount given");
    return CF_PLUGIN_OK;
}

/* good_has_entries: the ledger has a row for this instance (a guard reading its table). */
static int has_entries(cf_call *call, void *ud, int *allow)
{
    (void)ud;
    int64_t n = count_rows(call);
    if (n < 0)
        return CF_PLUGIN_ERROR;
    *allow = n > 0;
    if (!*allow)
        H->set_reason(call, "the ledger is empty");
    return CF_PLUGIN_OK;
}

/* good_guard_writes: a guard that tries to write (refused). */
static int guard_writes(cf_call *call, void *ud, int *allow)
{
    (void)ud;
    int rc = exec1(call, "DELETE FROM good_ledger", NULL, NULL, -1);
    *allow = 1;
    return rc;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("good", "2.1.0", "a ledger for the plugin tests");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    H = host;
    good *g = calloc(1, sizeof *g);
    if (!g)
        return host->init_error(self, "out of memory");
    if (host->at_close(self, free, g) != CF_PLUGIN_OK)
        return CF_PLUGIN_ENOMEM;
    if (host->json_field(config_json, "label", g->label, sizeof g->label) != CF_PLUGIN_OK)
        strcpy(g->label, "none");
    char msg[128];
    snprintf(msg, sizeof msg, "loaded with label %s", g->label);
    host->plugin_log(self, CF_PLUGIN_LOG_INFO, msg);
    int rc = host->add_migration(self, 1,
                                 "CREATE TABLE good_ledger(id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL,"
                                 " event TEXT NOT NULL, amount INTEGER NOT NULL);");
    if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(self, 2, "CREATE INDEX good_ledger_by_instance ON good_ledger(instance_id);");
    struct {
        const char *name;
        cf_plugin_action_fn fn;
    } actions[] = {{"good_log", log_entry},     {"good_fail", fail_after_write}, {"good_send", send_peer},
                   {"good_send_bad", send_bad}, {"good_touch", touch_engine},    {"good_or_rollback", or_rollback}};
    for (size_t i = 0; rc == CF_PLUGIN_OK && i < sizeof actions / sizeof actions[0]; i++)
        rc = host->register_action(self, actions[i].name, actions[i].fn, g);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_guard(self, "good_has_amount", has_amount, g);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_guard(self, "good_has_entries", has_entries, g);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_guard(self, "good_guard_writes", guard_writes, g);
    return rc;
}
