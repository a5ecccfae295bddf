/*
 * broken_migration.c — a test plugin whose migration is not valid SQL: the
 * engine refuses it at open, and `certflow check` must say so too
 * (tests/test_cli_ux.c). Built into the nested/ folder, out of the folder the
 * plugin tests load whole.
 */
#include <certflow/plugin.h>

static int act(cf_call *call, void *ud)
{
    (void)call, (void)ud;
    return CF_PLUGIN_OK;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("broken_migration", "1.0.0", "a migration that fails");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    int rc = host->add_migration(self, 1, "CREATE TABLE broken_migration_rows(id INTEGER PRIMARY KEY, x TEXT;");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "broken_migration_action", act, NULL);
    return rc;
}
