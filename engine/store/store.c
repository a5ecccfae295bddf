/*
 * store.c — the storage interface's dispatcher: cf__store_open picks the backend
 * from the database string (a postgresql:// or postgres:// URI, or a libpq
 * connection string of keyword=value pairs, is PostgreSQL; anything else, a path
 * or ":memory:", is SQLite), and every other operation of store.h goes to the
 * backend that opened the handle. The rows' *_clear helpers, which no backend
 * owns, are in rows.c.
 */
#include "internal.h"
#include "store/backend.h"
#include "store/sqlite/sqlite.h"
#ifdef CERTFLOW_POSTGRESQL
#include "store/pg/pg.h"
#endif

#include <stdlib.h>
#include <string.h>

/* ---- choosing the backend ---- */

bool cf__store_is_postgresql(const char *db)
{
    if (!db)
        return false;
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
        return true;
    /* libpq's keyword form: "dbname=... host=...", "service=...". A file name never
     * starts with one of libpq's keywords followed by '='. */
    static const char *const keywords[] = {"dbname=", "host=", "hostaddr=", "service=", "user=", "port=", NULL};
    for (int i = 0; keywords[i]; i++)
        if (strncmp(db, keywords[i], strlen(keywords[i])) == 0)
            return true;
    return false;
}

static int open_backend(const char *db, int busy_timeout_ms, bool read_only, cf__store **out, cf__err *err)
{
    *out = NULL;
    if (cf__store_is_postgresql(db)) {
#ifdef CERTFLOW_POSTGRESQL
        cf__pg *pg = NULL;
        int rc = read_only ? cf__pg_open_read_only(db, busy_timeout_ms, &pg, err)
                           : cf__pg_open(db, busy_timeout_ms, &pg, err);
        *out = (cf__store *)pg;
        return rc;
#else
        return cf__fail(err, CF_EINVAL,
                        "this certflow was built without PostgreSQL (libpq was not found at build time): install "
                        "libpq-dev and build again, or give a database file instead of a PostgreSQL connection "
                        "string");
#endif
    }
    cf__sqlite *lite = NULL;
    int rc = read_only ? cf__sqlite_open_read_only(db, busy_timeout_ms, &lite, err)
                       : cf__sqlite_open(db, busy_timeout_ms, &lite, err);
    *out = (cf__store *)lite;
    return rc;
}

int cf__store_open(const char *path, int busy_timeout_ms, cf__store **out, cf__err *err)
{
    return open_backend(path, busy_timeout_ms, false, out, err);
}

int cf__store_open_read_only(const char *path, int busy_timeout_ms, cf__store **out, cf__err *err)
{
    return open_backend(path, busy_timeout_ms, true, out, err);
}

const char *cf__store_dialect(const char *db)
{
    return cf__store_is_postgresql(db) ? "postgresql" : "sqlite";
}

const char *cf__store_backend(const cf__store *s)
{
    return s && s->backend == CF__BACKEND_PG ? "postgresql" : "sqlite";
}

/* ---- every other operation: the backend that opened the handle ---- */

bool cf__store_read_only(const cf__store *s)
{
    if (!s)
        return false;
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_read_only((const cf__pg *)s);
#endif
    return cf__sqlite_read_only((const cf__sqlite *)s);
}

void cf__store_close(cf__store *s)
{
    if (!s)
        return;
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_close((cf__pg *)s);
        return;
    }
#endif
    cf__sqlite_close((cf__sqlite *)s);
}

const char *cf__store_path(const cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_path((const cf__pg *)s);
#endif
    return cf__sqlite_path((const cf__sqlite *)s);
}

int cf__store_set_synchronous(cf__store *s, int level, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_set_synchronous((cf__pg *)s, level, err);
#endif
    return cf__sqlite_set_synchronous((cf__sqlite *)s, level, err);
}

int cf__store_begin(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_begin((cf__pg *)s, err);
#endif
    return cf__sqlite_begin((cf__sqlite *)s, err);
}

int cf__store_begin_read(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_begin_read((cf__pg *)s, err);
#endif
    return cf__sqlite_begin_read((cf__sqlite *)s, err);
}

int cf__store_commit(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_commit((cf__pg *)s, err);
#endif
    return cf__sqlite_commit((cf__sqlite *)s, err);
}

void cf__store_rollback(cf__store *s)
{
    if (!s)
        return;
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_rollback((cf__pg *)s);
        return;
    }
#endif
    cf__sqlite_rollback((cf__sqlite *)s);
}

int cf__store_begin_fire(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_begin((cf__pg *)s, err);
#endif
    return cf__sqlite_begin_fire((cf__sqlite *)s, err);
}

int cf__store_savepoint(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) /* its fires always hold a savepoint in a batch */
        return CF_OK;
#endif
    return cf__sqlite_savepoint((cf__sqlite *)s, err);
}

void cf__store_rollback_fire(cf__store *s, cf__err *err)
{
    if (!s)
        return;
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_rollback((cf__pg *)s);
        return;
    }
#endif
    cf__sqlite_rollback_fire((cf__sqlite *)s, err);
}

int cf__store_batch_begin(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_batch_begin((cf__pg *)s, err);
#endif
    return cf__sqlite_batch_begin((cf__sqlite *)s, err);
}

int cf__store_batch_commit(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_batch_commit((cf__pg *)s, err);
#endif
    return cf__sqlite_batch_commit((cf__sqlite *)s, err);
}

int cf__store_batch_rollback(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_batch_rollback((cf__pg *)s, err);
#endif
    return cf__sqlite_batch_rollback((cf__sqlite *)s, err);
}

bool cf__store_in_batch(const cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_in_batch((const cf__pg *)s);
#endif
    return cf__sqlite_in_batch((const cf__sqlite *)s);
}

int cf__store_def_put(cf__store *s, const char *hash, const char *name, const char *source, cf_time now, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_def_put((cf__pg *)s, hash, name, source, now, err);
#endif
    return cf__sqlite_def_put((cf__sqlite *)s, hash, name, source, now, err);
}

int cf__store_def_exists(cf__store *s, const char *hash, bool *exists, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_def_exists((cf__pg *)s, hash, exists, err);
#endif
    return cf__sqlite_def_exists((cf__sqlite *)s, hash, exists, err);
}

int cf__store_def_get(cf__store *s, const char *hash, char **name, char **source, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_def_get((cf__pg *)s, hash, name, source, err);
#endif
    return cf__sqlite_def_get((cf__sqlite *)s, hash, name, source, err);
}

int cf__store_instance_insert(cf__store *s, const cf__instance_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_instance_insert((cf__pg *)s, row, err);
#endif
    return cf__sqlite_instance_insert((cf__sqlite *)s, row, err);
}

int cf__store_next_serial(cf__store *s, int64_t *serial, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_next_serial((cf__pg *)s, serial, err);
#endif
    return cf__sqlite_next_serial((cf__sqlite *)s, serial, err);
}

int cf__store_instance_get(cf__store *s, const char *id, cf__instance_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_instance_get((cf__pg *)s, id, row, err);
#endif
    return cf__sqlite_instance_get((cf__sqlite *)s, id, row, err);
}

int cf__store_instance_update(cf__store *s, const cf__instance_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_instance_update((cf__pg *)s, row, err);
#endif
    return cf__sqlite_instance_update((cf__sqlite *)s, row, err);
}

int cf__store_instance_list(cf__store *s, const char *workflow, const char *state, const char *county, cf__instance_row_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_instance_list((cf__pg *)s, workflow, state, county, fn, ud, err);
#endif
    return cf__sqlite_instance_list((cf__sqlite *)s, workflow, state, county, fn, ud, err);
}

int cf__store_timer_add(cf__store *s, const char *instance_id, const char *state, const char *name, const char *event, cf_time due, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_add((cf__pg *)s, instance_id, state, name, event, due, err);
#endif
    return cf__sqlite_timer_add((cf__sqlite *)s, instance_id, state, name, event, due, err);
}

int cf__store_timer_add_chain(cf__store *s, const char *instance_id, const char *state, const char *name, const char *event, cf_time due, const char *chain_root, int64_t chain_count, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_add_chain((cf__pg *)s, instance_id, state, name, event, due, chain_root, chain_count, err);
#endif
    return cf__sqlite_timer_add_chain((cf__sqlite *)s, instance_id, state, name, event, due, chain_root, chain_count, err);
}

int cf__store_timer_cancel(cf__store *s, const char *instance_id, const char *state, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_cancel((cf__pg *)s, instance_id, state, err);
#endif
    return cf__sqlite_timer_cancel((cf__sqlite *)s, instance_id, state, err);
}

int cf__store_timer_next(cf__store *s, cf_time now, cf__timer_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_next((cf__pg *)s, now, row, err);
#endif
    return cf__sqlite_timer_next((cf__sqlite *)s, now, row, err);
}

int cf__store_timer_delete(cf__store *s, int64_t id, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_delete((cf__pg *)s, id, err);
#endif
    return cf__sqlite_timer_delete((cf__sqlite *)s, id, err);
}

int cf__store_timer_list(cf__store *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_list((cf__pg *)s, from, to, fn, ud, err);
#endif
    return cf__sqlite_timer_list((cf__sqlite *)s, from, to, fn, ud, err);
}

int cf__store_outbox_add(cf__store *s, const char *source_id, const char *target_id, const char *event, const char *data, cf_time now, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_outbox_add((cf__pg *)s, source_id, target_id, event, data, now, err);
#endif
    return cf__sqlite_outbox_add((cf__sqlite *)s, source_id, target_id, event, data, now, err);
}

bool cf__store_queued(const cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_queued((const cf__pg *)s);
#endif
    return cf__sqlite_queued((const cf__sqlite *)s);
}

void cf__store_clear_queued(cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_clear_queued((cf__pg *)s);
        return;
    }
#endif
    cf__sqlite_clear_queued((cf__sqlite *)s);
}

int cf__store_outbox_next(cf__store *s, cf__outbox_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_outbox_next((cf__pg *)s, row, err);
#endif
    return cf__sqlite_outbox_next((cf__sqlite *)s, row, err);
}

int cf__store_outbox_delete(cf__store *s, int64_t id, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_outbox_delete((cf__pg *)s, id, err);
#endif
    return cf__sqlite_outbox_delete((cf__sqlite *)s, id, err);
}

void cf__store_chain_begin(cf__store *s, const char *root)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_chain_begin((cf__pg *)s, root);
        return;
    }
#endif
    cf__sqlite_chain_begin((cf__sqlite *)s, root);
}

int64_t cf__store_chain_queued(const cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_chain_queued((const cf__pg *)s);
#endif
    return cf__sqlite_chain_queued((const cf__sqlite *)s);
}

int cf__store_chain_count(cf__store *s, const char *root, int64_t count, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_chain_count((cf__pg *)s, root, count, err);
#endif
    return cf__sqlite_chain_count((cf__sqlite *)s, root, count, err);
}

void cf__store_watch_begin(cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_watch_begin((cf__pg *)s);
        return;
    }
#endif
    cf__sqlite_watch_begin((cf__sqlite *)s);
}

int cf__store_watch_each(cf__store *s, cf__watched_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_watch_each((cf__pg *)s, fn, ud, err);
#endif
    return cf__sqlite_watch_each((cf__sqlite *)s, fn, ud, err);
}

void cf__store_watch_end(cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_watch_end((cf__pg *)s);
        return;
    }
#endif
    cf__sqlite_watch_end((cf__sqlite *)s);
}

int cf__audit_append(cf__store *s, cf__history_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_append((cf__pg *)s, row, err);
#endif
    return cf__sqlite_audit_append((cf__sqlite *)s, row, err);
}

int cf__audit_find_key(cf__store *s, const char *instance_id, const char *key, cf__history_row *row, cf__buf *keep, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_find_key((cf__pg *)s, instance_id, key, row, keep, err);
#endif
    return cf__sqlite_audit_find_key((cf__sqlite *)s, instance_id, key, row, keep, err);
}

int cf__audit_each(cf__store *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_each((cf__pg *)s, instance_id, fn, ud, err);
#endif
    return cf__sqlite_audit_each((cf__sqlite *)s, instance_id, fn, ud, err);
}

int cf__audit_moves(cf__store *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_moves((cf__pg *)s, instance_id, fn, ud, err);
#endif
    return cf__sqlite_audit_moves((cf__sqlite *)s, instance_id, fn, ud, err);
}

int cf__audit_verify(cf__store *s, int64_t *rows, int64_t *first_bad, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_verify((cf__pg *)s, rows, first_bad, err);
#endif
    return cf__sqlite_audit_verify((cf__sqlite *)s, rows, first_bad, err);
}

int cf__audit_result_hashes(cf__store *s, const char *instance_id, const char *county, const char *data, char data_hash[CF__HASH_HEX], char timers_hash[CF__HASH_HEX], cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_result_hashes((cf__pg *)s, instance_id, county, data, data_hash, timers_hash, err);
#endif
    return cf__sqlite_audit_result_hashes((cf__sqlite *)s, instance_id, county, data, data_hash, timers_hash, err);
}

int cf__audit_check_instance(cf__store *s, const char *id, int64_t version, const char *state, const char *county, const char *data, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_check_instance((cf__pg *)s, id, version, state, county, data, err);
#endif
    return cf__sqlite_audit_check_instance((cf__sqlite *)s, id, version, state, county, data, err);
}

int cf__audit_read_begin(cf__store *s, bool *began, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_read_begin((cf__pg *)s, began, err);
#endif
    return cf__sqlite_audit_read_begin((cf__sqlite *)s, began, err);
}

void cf__audit_read_end(cf__store *s, bool began)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_audit_read_end((cf__pg *)s, began);
        return;
    }
#endif
    cf__sqlite_audit_read_end((cf__sqlite *)s, began);
}

int cf__audit_integrity(cf__store *s, bool quick, cf__text_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_integrity((cf__pg *)s, quick, fn, ud, err);
#endif
    return cf__sqlite_audit_integrity((cf__sqlite *)s, quick, fn, ud, err);
}

int cf__audit_instances(cf__store *s, cf__verify_inst_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_instances((cf__pg *)s, fn, ud, err);
#endif
    return cf__sqlite_audit_instances((cf__sqlite *)s, fn, ud, err);
}

int cf__audit_orphan_row(cf__store *s, int64_t *seq, char id[37], cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_orphan_row((cf__pg *)s, seq, id, err);
#endif
    return cf__sqlite_audit_orphan_row((cf__sqlite *)s, seq, id, err);
}

int cf__audit_timers(cf__store *s, cf__verify_timer_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_timers((cf__pg *)s, fn, ud, err);
#endif
    return cf__sqlite_audit_timers((cf__sqlite *)s, fn, ud, err);
}

int cf__audit_head(cf__store *s, int64_t *seq, char hash[CF__HASH_HEX], cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_head((cf__pg *)s, seq, hash, err);
#endif
    return cf__sqlite_audit_head((cf__sqlite *)s, seq, hash, err);
}

int cf__audit_row_hash(cf__store *s, int64_t seq, bool *found, char hash[CF__HASH_HEX], cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_audit_row_hash((cf__pg *)s, seq, found, hash, err);
#endif
    return cf__sqlite_audit_row_hash((cf__sqlite *)s, seq, found, hash, err);
}

int cf__store_mark_load(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_mark_load((cf__pg *)s, err);
#endif
    return cf__sqlite_mark_load((cf__sqlite *)s, err);
}

void cf__store_mark_set(cf__store *s, const char *problem)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG) {
        cf__pg_mark_set((cf__pg *)s, problem);
        return;
    }
#endif
    cf__sqlite_mark_set((cf__sqlite *)s, problem);
}

int cf__store_mark_clear(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_mark_clear((cf__pg *)s, err);
#endif
    return cf__sqlite_mark_clear((cf__sqlite *)s, err);
}

bool cf__store_corrupt(const cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_corrupt((const cf__pg *)s);
#endif
    return cf__sqlite_corrupt((const cf__sqlite *)s);
}

int cf__store_refuse_if_corrupt(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_refuse_if_corrupt((cf__pg *)s, err);
#endif
    return cf__sqlite_refuse_if_corrupt((cf__sqlite *)s, err);
}

int cf__store_history_between(cf__store *s, cf_time from, cf_time to, const cf_history_filter *filter, cf_history_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_history_between((cf__pg *)s, from, to, filter, fn, ud, err);
#endif
    return cf__sqlite_history_between((cf__sqlite *)s, from, to, filter, fn, ud, err);
}

int cf__store_webhook_add(cf__store *s, const cf__webhook_row *row, int64_t *id, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_webhook_add((cf__pg *)s, row, id, err);
#endif
    return cf__sqlite_webhook_add((cf__sqlite *)s, row, id, err);
}

int cf__store_webhook_each(cf__store *s, cf__webhook_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_webhook_each((cf__pg *)s, fn, ud, err);
#endif
    return cf__sqlite_webhook_each((cf__sqlite *)s, fn, ud, err);
}

int cf__store_webhook_remove(cf__store *s, const char *name, cf_time at, const char *actor, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_webhook_remove((cf__pg *)s, name, at, actor, err);
#endif
    return cf__sqlite_webhook_remove((cf__sqlite *)s, name, at, actor, err);
}

int cf__store_webhook_progress(cf__store *s, int64_t id, int64_t cursor, int64_t attempts, const char *last_error,
                               cf_time at, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_webhook_progress((cf__pg *)s, id, cursor, attempts, last_error, at, err);
#endif
    return cf__sqlite_webhook_progress((cf__sqlite *)s, id, cursor, attempts, last_error, at, err);
}

int cf__store_history_after(cf__store *s, int64_t after, size_t limit, const cf_history_filter *filter,
                            cf_history_fn fn, void *ud, int64_t *last, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_history_after((cf__pg *)s, after, limit, filter, fn, ud, last, err);
#endif
    return cf__sqlite_history_after((cf__sqlite *)s, after, limit, filter, fn, ud, last, err);
}

bool cf__store_in_transaction(cf__store *s)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_in_transaction((cf__pg *)s);
#endif
    return cf__sqlite_in_transaction((cf__sqlite *)s);
}

int cf__store_plugin_prepare(cf__store *s, const char *plugin, bool read_only, const char *sql, cf__pstmt **out, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_plugin_prepare((cf__pg *)s, plugin, read_only, sql, (cf__pg_pstmt **)out, err);
#endif
    return cf__sqlite_plugin_prepare((cf__sqlite *)s, plugin, read_only, sql, (cf__sqlite_pstmt **)out, err);
}

bool cf__store_plugin_reads_only(const cf__pstmt *p)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_reads_only((const cf__pg_pstmt *)p);
#endif
    return cf__sqlite_plugin_reads_only((const cf__sqlite_pstmt *)p);
}

int cf__store_plugin_bind_text(cf__pstmt *p, int i, const char *value, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_bind_text((cf__pg_pstmt *)p, i, value, err);
#endif
    return cf__sqlite_plugin_bind_text((cf__sqlite_pstmt *)p, i, value, err);
}

int cf__store_plugin_bind_int(cf__pstmt *p, int i, int64_t value, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_bind_int((cf__pg_pstmt *)p, i, value, err);
#endif
    return cf__sqlite_plugin_bind_int((cf__sqlite_pstmt *)p, i, value, err);
}

int cf__store_plugin_bind_double(cf__pstmt *p, int i, double value, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_bind_double((cf__pg_pstmt *)p, i, value, err);
#endif
    return cf__sqlite_plugin_bind_double((cf__sqlite_pstmt *)p, i, value, err);
}

int cf__store_plugin_step(cf__store *s, cf__pstmt *p, const char *plugin, bool read_only, const char *sql, int64_t *changes, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_plugin_step((cf__pg *)s, (cf__pg_pstmt *)p, plugin, read_only, sql, changes, err);
#endif
    return cf__sqlite_plugin_step((cf__sqlite *)s, (cf__sqlite_pstmt *)p, plugin, read_only, sql, changes, err);
}

int cf__store_plugin_column_count(cf__pstmt *p)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_column_count((cf__pg_pstmt *)p);
#endif
    return cf__sqlite_plugin_column_count((cf__sqlite_pstmt *)p);
}

const char *cf__store_plugin_column_text(cf__pstmt *p, int i)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_column_text((cf__pg_pstmt *)p, i);
#endif
    return cf__sqlite_plugin_column_text((cf__sqlite_pstmt *)p, i);
}

int64_t cf__store_plugin_column_int(cf__pstmt *p, int i)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_column_int((cf__pg_pstmt *)p, i);
#endif
    return cf__sqlite_plugin_column_int((cf__sqlite_pstmt *)p, i);
}

double cf__store_plugin_column_double(cf__pstmt *p, int i)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_column_double((cf__pg_pstmt *)p, i);
#endif
    return cf__sqlite_plugin_column_double((cf__sqlite_pstmt *)p, i);
}

int cf__store_plugin_column_type(cf__pstmt *p, int i)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG)
        return cf__pg_plugin_column_type((cf__pg_pstmt *)p, i);
#endif
    return cf__sqlite_plugin_column_type((cf__sqlite_pstmt *)p, i);
}

void cf__store_plugin_reset(cf__pstmt *p)
{
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG) {
        cf__pg_plugin_reset((cf__pg_pstmt *)p);
        return;
    }
#endif
    cf__sqlite_plugin_reset((cf__sqlite_pstmt *)p);
}

void cf__store_plugin_finalize(cf__pstmt *p)
{
    if (!p)
        return;
#ifdef CERTFLOW_POSTGRESQL
    if (p->backend == CF__BACKEND_PG) {
        cf__pg_plugin_finalize((cf__pg_pstmt *)p);
        return;
    }
#endif
    cf__sqlite_plugin_finalize((cf__sqlite_pstmt *)p);
}

int cf__store_plugin_version(cf__store *s, const char *plugin, int *version, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_plugin_version((cf__pg *)s, plugin, version, err);
#endif
    return cf__sqlite_plugin_version((cf__sqlite *)s, plugin, version, err);
}

int cf__store_plugin_migrate(cf__store *s, const char *plugin, int version, const char *sql, cf_time now, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_plugin_migrate((cf__pg *)s, plugin, version, sql, now, err);
#endif
    return cf__sqlite_plugin_migrate((cf__sqlite *)s, plugin, version, sql, now, err);
}

int cf__store_timer_set_due(cf__store *s, int64_t id, cf_time due, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_set_due((cf__pg *)s, id, due, err);
#endif
    return cf__sqlite_timer_set_due((cf__sqlite *)s, id, due, err);
}

int cf__store_instance_timers_each(cf__store *s, const char *county, cf__instance_timers_fn fn, void *ud,
                                   cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_instance_timers_each((cf__pg *)s, county, fn, ud, err);
#endif
    return cf__sqlite_instance_timers_each((cf__sqlite *)s, county, fn, ud, err);
}

int cf__store_timer_each(cf__store *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_each((cf__pg *)s, instance_id, fn, ud, err);
#endif
    return cf__sqlite_timer_each((cf__sqlite *)s, instance_id, fn, ud, err);
}

int cf__store_policy_text_put(cf__store *s, const char *hash, const char *county, const char *overlay_hash, const char *source, cf_time now, const char *actor, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_policy_text_put((cf__pg *)s, hash, county, overlay_hash, source, now, actor, err);
#endif
    return cf__sqlite_policy_text_put((cf__sqlite *)s, hash, county, overlay_hash, source, now, actor, err);
}

int cf__store_policy_log_add(cf__store *s, const cf__policy_log_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_policy_log_add((cf__pg *)s, row, err);
#endif
    return cf__sqlite_policy_log_add((cf__sqlite *)s, row, err);
}

int cf__store_policy_log_each(cf__store *s, const char *county, cf__policy_log_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_policy_log_each((cf__pg *)s, county, fn, ud, err);
#endif
    return cf__sqlite_policy_log_each((cf__sqlite *)s, county, fn, ud, err);
}

/* ---- workflow versions and migration ---- */

int cf__store_def_each(cf__store *s, const char *name, cf__def_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_def_each((cf__pg *)s, name, fn, ud, err);
#endif
    return cf__sqlite_def_each((cf__sqlite *)s, name, fn, ud, err);
}

int cf__store_def_states(cf__store *s, const char *hash, cf__def_state_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_def_states((cf__pg *)s, hash, fn, ud, err);
#endif
    return cf__sqlite_def_states((cf__sqlite *)s, hash, fn, ud, err);
}

int cf__store_instance_redefine(cf__store *s, const cf__instance_row *row, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_instance_redefine((cf__pg *)s, row, err);
#endif
    return cf__sqlite_instance_redefine((cf__sqlite *)s, row, err);
}

int cf__store_timer_set_state(cf__store *s, int64_t id, const char *state, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_timer_set_state((cf__pg *)s, id, state, err);
#endif
    return cf__sqlite_timer_set_state((cf__sqlite *)s, id, state, err);
}

/* ---- API tokens ---- */

int cf__store_token_add(cf__store *s, const cf__token_row *row, int64_t *id, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_token_add((cf__pg *)s, row, id, err);
#endif
    return cf__sqlite_token_add((cf__sqlite *)s, row, id, err);
}

int cf__store_token_each(cf__store *s, const char *secret_hash, cf__token_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_token_each((cf__pg *)s, secret_hash, fn, ud, err);
#endif
    return cf__sqlite_token_each((cf__sqlite *)s, secret_hash, fn, ud, err);
}

int cf__store_token_revoke(cf__store *s, const char *name, cf_time at, const char *actor, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_token_revoke((cf__pg *)s, name, at, actor, err);
#endif
    return cf__sqlite_token_revoke((cf__sqlite *)s, name, at, actor, err);
}

/* ---- copying a whole database (store copy) ---- */

const cf__copy_table cf__copy_tables[] = {
    {"workflow_def", "hash, name, source, first_seen", 4},
    {"instance", "serial, id, workflow, def_hash, county, state, data, created_at, updated_at, version", 10},
    {"history",
     "seq, instance_id, number, at, effective_at, actor, event, data, outcome, from_state, to_state, reasons, "
     "policy_hash, def_hash, idem_key, prev_hash, hash, data_hash, timers_hash",
     19},
    {"timer", "id, instance_id, state, name, event, due, chain_root, chain_count", 8},
    {"outbox", "id, source_id, target_id, event, data, created_at, chain_root, chain_count", 8},
    {"policy_text", "hash, county, overlay_hash, source, applied_at, actor", 6},
    {"policy_change",
     "seq, at, actor, county, overlay_hash, old_policy_hash, new_policy_hash, applies_to, instances, params", 10},
    {"integrity_mark", "id, found_at, problem", 3},
    {"plugin_schema", "plugin, version, migrated_at", 3},
    {"api_token", "id, name, role, county, secret_hash, created_at, created_by, expires_at, revoked_at, revoked_by",
     10},
    {"webhook",
     "id, name, county, url, secret, created_at, created_by, removed_at, removed_by, cursor, attempts, last_error, "
     "last_attempt_at",
     13},
    {NULL, NULL, 0},
};

int cf__store_copy_each(cf__store *s, const cf__copy_table *t, cf__copy_row_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_each((cf__pg *)s, t, fn, ud, err);
#endif
    return cf__sqlite_copy_each((cf__sqlite *)s, t, fn, ud, err);
}

int cf__store_copy_put(cf__store *s, const cf__copy_table *t, const char *const *values, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_put((cf__pg *)s, t, values, err);
#endif
    return cf__sqlite_copy_put((cf__sqlite *)s, t, values, err);
}

int cf__store_copy_count(cf__store *s, const cf__copy_table *t, int64_t *rows, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_count((cf__pg *)s, t, rows, err);
#endif
    return cf__sqlite_copy_count((cf__sqlite *)s, t, rows, err);
}

int cf__store_copy_finish(cf__store *s, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_finish((cf__pg *)s, err);
#endif
    return cf__sqlite_copy_finish((cf__sqlite *)s, err);
}

int cf__store_copy_plugin_tables(cf__store *s, cf__copy_plugin_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_plugin_tables((cf__pg *)s, fn, ud, err);
#endif
    return cf__sqlite_copy_plugin_tables((cf__sqlite *)s, fn, ud, err);
}

int cf__store_copy_plugin_each(cf__store *s, const char *plugin, const char *table, cf__copy_prow_fn fn, void *ud, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_plugin_each((cf__pg *)s, plugin, table, fn, ud, err);
#endif
    return cf__sqlite_copy_plugin_each((cf__sqlite *)s, plugin, table, fn, ud, err);
}

int cf__store_copy_plugin_put(cf__store *s, const char *plugin, const char *table, int n, const char *const *names,
                              const char *const *values, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_plugin_put((cf__pg *)s, plugin, table, n, names, values, err);
#endif
    return cf__sqlite_copy_plugin_put((cf__sqlite *)s, plugin, table, n, names, values, err);
}

int cf__store_copy_plugin_count(cf__store *s, const char *plugin, const char *table, int64_t *rows, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_plugin_count((cf__pg *)s, plugin, table, rows, err);
#endif
    return cf__sqlite_copy_plugin_count((cf__sqlite *)s, plugin, table, rows, err);
}

int cf__store_copy_plugin_finish(cf__store *s, const char *plugin, const char *table, cf__err *err)
{
#ifdef CERTFLOW_POSTGRESQL
    if (s->backend == CF__BACKEND_PG)
        return cf__pg_copy_plugin_finish((cf__pg *)s, plugin, table, err);
#endif
    return cf__sqlite_copy_plugin_finish((cf__sqlite *)s, plugin, table, err);
}
