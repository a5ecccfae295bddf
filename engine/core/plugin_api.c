/*
 * plugin_api.c — the public calls on the loaded plugins: cf_plugin_list,
 * cf_plugin_queries and cf_plugin_query. Each checks the handle and its
 * arguments at the door and takes the time from the engine's one clock; the
 * plugin host (engine/plugin/) does the rest and never calls back into the
 * handle's files.
 */
#include "internal.h"

int cf_plugin_list(cf_engine *e, cf_plugin_status_fn fn, void *ud)
{
    if (!e)
        return CF_EINVAL;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_list: no callback given");
    /* Works on a handle whose open failed: the refusals may be why. */
    cf__plugins_list(e->plugins, fn, ud);
    return CF_OK;
}

int cf_plugin_functions(cf_engine *e, cf_plugin_function_fn fn, void *ud)
{
    if (!e)
        return CF_EINVAL;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_functions: no callback given");
    /* Like cf_plugin_list, also on a handle whose open failed. */
    cf__plugins_functions(e->plugins, fn, ud);
    return CF_OK;
}

int cf_plugin_queries(cf_engine *e, cf_name_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_queries: no callback given");
    cf__plugins_query_names(e->plugins, fn, ud);
    return CF_OK;
}

int cf_plugin_query(cf_engine *e, const char *name, const char *args_json, char **result_json)
{
    if (result_json)
        *result_json = NULL;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !result_json)
        return cf__fail(&e->err, CF_EINVAL, "cf_plugin_query: a query name and a result pointer are required");
    rc = cf__check_text(&e->err, "the query name", name, true);
    if (rc != CF_OK)
        return rc;
    return cf__plugins_query(e, name, args_json, cf_engine_now(e), result_json);
}
