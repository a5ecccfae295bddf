/* dup_a.c — a test plugin registering the action "dup_action", as its twin
 * (dup_a / dup_b) does: the second one loaded is refused. */
#include <certflow/plugin.h>

static int act(cf_call *call, void *ud)
{
    (void)ud;
    const cf_host *h = *(const cf_host **)ud;
    return h->data_patch(call, "{\"dup_by\": \"dup_a\"}");
}

static const cf_host *host_ptr;

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("dup_a", "1.0.0", "registers dup_action");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    host_ptr = host;
    int rc = host->register_action(self, "dup_a_own", act, &host_ptr);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "dup_action", act, &host_ptr);
    return rc;
}
