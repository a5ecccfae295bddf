/* bad_abi.c — a test plugin built for a future ABI: the engine must refuse it
 * after reading its info, without calling its init. */
#include <certflow/plugin.h>

#include <stdlib.h>

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = {sizeof(cf_plugin_info), CF_PLUGIN_ABI_VERSION + 1, "bad_abi", "1.0.0",
                                        "from the future", "9.0.0"};
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)host, (void)self, (void)config_json;
    abort(); /* never called: the ABI check comes first */
}
