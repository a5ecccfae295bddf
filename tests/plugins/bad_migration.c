/* bad_migration.c — a test plugin whose migration reaches for a table that is
 * not its own: the engine refuses the plugin and keeps nothing of the migration. */
#include <certflow/plugin.h>

static int act(cf_call *call, void *ud)
{
    (void)call, (void)ud;
    return CF_PLUGIN_OK;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("bad_migration", "1.0.0", "migrates the wrong table");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    int rc = host->add_migration(self, 1, "CREATE TABLE bad_migration_ok(x); DROP TABLE outbox;");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "bad_migration_action", act, NULL);
    return rc;
}
