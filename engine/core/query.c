/*
 * query.c — history queries across instances (cf_history_between), for reports
 * that summarise a period, and cf_history_after, for change feeds that follow
 * the history by its cursor: the filter is checked here, the store reads the rows
 * (cf__store_history_between) and hands them to the caller in chain order.
 */
#include "internal.h"

#include <stdint.h>
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

/* The caller's filter, whatever its size, as this version's. */
static int copy_filter(cf_engine *e, const char *fn, const cf_history_filter *filter, cf_history_filter *f)
{
    cf_history_filter init = CF_HISTORY_FILTER_INIT;
    *f = init;
    if (!filter)
        return CF_OK;
    if (filter->size < sizeof(size_t))
        return cf__fail(&e->err, CF_EINVAL, "%s: filter->size is not set (start from CF_HISTORY_FILTER_INIT)", fn);
    size_t n = filter->size < sizeof *f ? filter->size : sizeof *f;
    memcpy((char *)f + sizeof(size_t), (const char *)filter + sizeof(size_t), n - sizeof(size_t));
    return CF_OK;
}

int cf_history_between(cf_engine *e, cf_time from, cf_time to, const cf_history_filter *filter, cf_history_fn fn,
                       void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_history_between: no callback given");
    cf_history_filter f;
    if ((rc = copy_filter(e, "cf_history_between", filter, &f)) != CF_OK)
        return rc;
    if (to <= from)
        return CF_OK;
    if (f.state) {
        state_pass p = {f.state, fn, ud};
        return cf__store_history_between(e->store, from, to, &f, pass_state, &p, &e->err);
    }
    return cf__store_history_between(e->store, from, to, &f, fn, ud, &e->err);
}

int cf_history_after(cf_engine *e, int64_t after, size_t limit, const cf_history_filter *filter, cf_history_fn fn,
                     void *ud, int64_t *last)
{
    int64_t ignored;
    if (!last)
        last = &ignored;
    *last = after;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_history_after: no callback given");
    if (after < 0)
        return cf__fail(&e->err, CF_EINVAL, "cf_history_after: the cursor %lld is negative: start from 0",
                        (long long)after);
    cf_history_filter f;
    if ((rc = copy_filter(e, "cf_history_after", filter, &f)) != CF_OK)
        return rc;
    if (limit == 0)
        limit = SIZE_MAX;
    if (f.state) {
        state_pass p = {f.state, fn, ud};
        return cf__store_history_after(e->store, after, limit, &f, pass_state, &p, last, &e->err);
    }
    return cf__store_history_after(e->store, after, limit, &f, fn, ud, last, &e->err);
}
