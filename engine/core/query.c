/*
 * query.c — history queries across instances (cf_history_between), for reports
 * that summarise a period: the filter is checked here, the store reads the rows
 * (cf__store_history_between) and hands them to the caller in chain order.
 */
#include "internal.h"

#include <string.h>

int cf_history_between(cf_engine *e, cf_time from, cf_time to, const cf_history_filter *filter, cf_history_fn fn,
                       void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_history_between: no callback given");
    cf_history_filter f = CF_HISTORY_FILTER_INIT;
    if (filter) {
        if (filter->size < sizeof(size_t))
            return cf__fail(&e->err, CF_EINVAL, "cf_history_between: filter->size is not set (start from "
                                                "CF_HISTORY_FILTER_INIT)");
        size_t n = filter->size < sizeof f ? filter->size : sizeof f;
        memcpy((char *)&f + sizeof(size_t), (const char *)filter + sizeof(size_t), n - sizeof(size_t));
    }
    if (to <= from)
        return CF_OK;
    return cf__store_history_between(e->store, from, to, &f, fn, ud, &e->err);
}
