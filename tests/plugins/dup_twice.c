/* dup_twice.c — a test plugin registering the same guard name twice. */
#include <certflow/plugin.h>

static int guard(cf_call *call, void *ud, int *allow)
{
    (void)call, (void)ud;
    *allow = 1;
    return CF_PLUGIN_OK;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("dup_twice", "1.0.0", "registers a guard twice");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    host->register_guard(self, "twice_guard", guard, NULL);
    return host->register_guard(self, "twice_guard", guard, NULL);
}
