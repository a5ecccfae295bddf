/* failing_init.c — a test plugin whose init registers, then fails: its
 * registrations must be rolled back and its at_close run at once. */
#include <certflow/plugin.h>

#include <stdlib.h>

static int act(cf_call *call, void *ud)
{
    (void)call, (void)ud;
    return CF_PLUGIN_OK;
}

static int guard(cf_call *call, void *ud, int *allow)
{
    (void)call, (void)ud;
    *allow = 1;
    return CF_PLUGIN_OK;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT("failing_init", "0.1.0", "fails in init");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    void *state = malloc(64); /* freed by at_close when init fails (ASan checks) */
    host->at_close(self, free, state);
    host->register_action(self, "failing_action", act, state);
    host->register_guard(self, "failing_guard", guard, state);
    host->add_migration(self, 1, "CREATE TABLE failing_init_t(x);");
    return host->init_error(self, "cannot reach the fee service at fees.example (set \"url\" in its config)");
}
