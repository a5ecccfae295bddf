/* dialect.c — a test plugin that says which SQL dialect the host reports
 * (sql_dialect, the last member of the host table), in a log line at init. */
#include <certflow/plugin.h>

#include <stdio.h>

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("dialect", "1.0.0", "reports the SQL dialect");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    char msg[128];
    snprintf(msg, sizeof msg, "sql dialect: %s",
             CF_HOST_HAS(host, sql_dialect) ? host->sql_dialect(self) : "(host too old)");
    host->plugin_log(self, CF_PLUGIN_LOG_INFO, msg);
    return CF_PLUGIN_OK;
}
