/*
 * query.c — history queries across instances (cf_history_between), for reports
 * that summarise a period: the filter is checked here, the store reads the rows
 * (cf__store_history_between) and hands them to the caller in chain order.
 */
#include "internal.h"

#include <string.h>

/* The state filter (nested states: a parent matches its descendants) is applied
 * here, on the rows the store reads for the other filters. */
typedef struct state_pass {
    const char *state;
    cf_history_fn fn;
    void *ud;
} state_pass;

static int pass_state(void *ud, const cf_history_entry *h)
{
    const state_pass *p = ud;
    return cf__state_in(h->to_state, p->state) ? p->fn(p->ud, h) : 0;
}

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
    if (f.state) {
        state_pass p = {f.state, fn, ud};
        return cf__store_history_between(e->store, from, to, &f, pass_state, &p, &e->err);
    }
    return cf__store_history_between(e->store, from, to, &f, fn, ud, &e->err);
}
