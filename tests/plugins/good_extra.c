/* good_extra.c — a test plugin whose name begins with another's ("good" + "_"):
 * it would share that plugin's table prefix, so it is refused. */
#include <certflow/plugin.h>

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("good_extra", "1.0.0", "nests under good");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)host;
    (void)self;
    (void)config_json;
    return CF_PLUGIN_OK;
}
