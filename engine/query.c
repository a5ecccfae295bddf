/*
 * query.c — history queries across instances (cf_history_between), for reports
 * that summarise a period: one prepared statement with bound parameters, rows
 * handed to the caller in chain order.
 */
#include "internal.h"

#include <string.h>

/* No index covers effective_at, so this scans the history table once; the
 * join with instance filters by workflow and county. */
static const char QUERY_SQL[] =
    "SELECT h.seq, h.number, h.instance_id, h.at, h.effective_at, h.actor, h.event, h.data,"
    " h.outcome, h.from_state, h.to_state, h.reasons, h.policy_hash, h.def_hash, h.idem_key, h.hash"
    " FROM history h JOIN instance i ON i.id = h.instance_id"
    " WHERE h.effective_at >= ?1 AND h.effective_at < ?2"
    " AND (?3 IS NULL OR i.workflow = ?3) AND (?4 IS NULL OR i.county = ?4)"
    " AND (?5 IS NULL OR h.event = ?5) AND (?6 IS NULL OR h.outcome = ?6)"
    " ORDER BY h.seq";

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
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
    sqlite3 *db = cf__store_db(e->store);
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, QUERY_SQL, -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_bind_int64(st, 1, from);
    if (src == SQLITE_OK)
        src = sqlite3_bind_int64(st, 2, to);
    const char *texts[4] = {f.workflow, f.county, f.event, f.outcome};
    for (int i = 0; i < 4 && src == SQLITE_OK; i++)
        src = texts[i] ? sqlite3_bind_text(st, 3 + i, texts[i], -1, SQLITE_STATIC) : sqlite3_bind_null(st, 3 + i);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        cf_history_entry h;
        memset(&h, 0, sizeof h);
        h.size = sizeof h;
        h.seq = sqlite3_column_int64(st, 0);
        h.number = sqlite3_column_int64(st, 1);
        h.instance_id = col_text(st, 2);
        h.at = sqlite3_column_int64(st, 3);
        h.effective_at = sqlite3_column_int64(st, 4);
        h.actor = col_text(st, 5);
        h.event = col_text(st, 6);
        h.data = col_text(st, 7);
        h.outcome = col_text(st, 8);
        h.from_state = col_text(st, 9);
        h.to_state = col_text(st, 10);
        h.reasons = col_text(st, 11);
        h.policy_hash = col_text(st, 12);
        h.definition = col_text(st, 13);
        h.idem_key = sqlite3_column_type(st, 14) == SQLITE_NULL ? NULL : col_text(st, 14);
        h.hash = col_text(st, 15);
        src = fn(ud, &h) != 0 ? SQLITE_DONE : SQLITE_OK;
    }
    int r = CF_OK;
    if (src != SQLITE_DONE)
        r = cf__store_fail(e->store, src, "reading the history for a period", &e->err);
    sqlite3_finalize(st);
    return r;
}
