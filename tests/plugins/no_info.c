/* no_info.c — a test plugin without certflow_plugin_info: not a certflow plugin. */
#include <certflow/plugin.h>

#include <stdlib.h>

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)host, (void)self, (void)config_json;
    abort(); /* never called */
}
