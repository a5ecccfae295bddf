/* clash.c — a test plugin registering an action the state policy defines
 * ("increment"), and ignoring the error it gets: the engine refuses it anyway. */
#include <certflow/plugin.h>

static int act(cf_call *call, void *ud)
{
    (void)call, (void)ud;
    return CF_PLUGIN_OK;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("clash", "1.0.0", "takes a policy's name");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    host->register_action(self, "increment", act, NULL);
    return CF_PLUGIN_OK;
}
