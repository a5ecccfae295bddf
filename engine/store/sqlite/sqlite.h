/*
 * sqlite.h — the SQLite backend as the dispatcher (store.c) sees it: every operation
 * of store.h, on a cf__sqlite (whose first member is the cf__store the engine holds).
 * The contract of each is store.h's.
 */
#ifndef CF_SQLITE_H
#define CF_SQLITE_H

#include "store/store.h"

typedef struct cf__sqlite cf__sqlite;
typedef struct cf__sqlite_pstmt cf__sqlite_pstmt;

int cf__sqlite_open(const char *path, int busy_timeout_ms, cf__sqlite **out, cf__err *err);
int cf__sqlite_open_read_only(const char *path, int busy_timeout_ms, cf__sqlite **out, cf__err *err);
bool cf__sqlite_read_only(const cf__sqlite *s);
void cf__sqlite_close(cf__sqlite *s);
const char *cf__sqlite_path(const cf__sqlite *s);
int cf__sqlite_set_synchronous(cf__sqlite *s, int level, cf__err *err);
int cf__sqlite_begin(cf__sqlite *s, cf__err *err);
int cf__sqlite_begin_read(cf__sqlite *s, cf__err *err);
int cf__sqlite_commit(cf__sqlite *s, cf__err *err);
void cf__sqlite_rollback(cf__sqlite *s);
int cf__sqlite_begin_fire(cf__sqlite *s, cf__err *err);
int cf__sqlite_savepoint(cf__sqlite *s, cf__err *err);
void cf__sqlite_rollback_fire(cf__sqlite *s, cf__err *err);
int cf__sqlite_batch_begin(cf__sqlite *s, cf__err *err);
int cf__sqlite_batch_commit(cf__sqlite *s, cf__err *err);
int cf__sqlite_batch_rollback(cf__sqlite *s, cf__err *err);
bool cf__sqlite_in_batch(const cf__sqlite *s);
int cf__sqlite_def_put(cf__sqlite *s, const char *hash, const char *name, const char *source, cf_time now, cf__err *err);
int cf__sqlite_def_exists(cf__sqlite *s, const char *hash, bool *exists, cf__err *err);
int cf__sqlite_def_get(cf__sqlite *s, const char *hash, char **name, char **source, cf__err *err);
int cf__sqlite_instance_insert(cf__sqlite *s, const cf__instance_row *row, cf__err *err);
int cf__sqlite_next_serial(cf__sqlite *s, int64_t *serial, cf__err *err);
int cf__sqlite_instance_get(cf__sqlite *s, const char *id, cf__instance_row *row, cf__err *err);
int cf__sqlite_instance_update(cf__sqlite *s, const cf__instance_row *row, cf__err *err);
int cf__sqlite_instance_list(cf__sqlite *s, const char *workflow, const char *state, const char *county, cf__instance_row_fn fn, void *ud, cf__err *err);
int cf__sqlite_timer_add(cf__sqlite *s, const char *instance_id, const char *state, const char *name, const char *event, cf_time due, cf__err *err);
int cf__sqlite_timer_add_chain(cf__sqlite *s, const char *instance_id, const char *state, const char *name, const char *event, cf_time due, const char *chain_root, int64_t chain_count, cf__err *err);
int cf__sqlite_timer_cancel(cf__sqlite *s, const char *instance_id, const char *state, cf__err *err);
int cf__sqlite_timer_next(cf__sqlite *s, cf_time now, cf__timer_row *row, cf__err *err);
int cf__sqlite_timer_delete(cf__sqlite *s, int64_t id, cf__err *err);
int cf__sqlite_timer_list(cf__sqlite *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud, cf__err *err);
int cf__sqlite_outbox_add(cf__sqlite *s, const char *source_id, const char *target_id, const char *event, const char *data, cf_time now, cf__err *err);
bool cf__sqlite_queued(const cf__sqlite *s);
void cf__sqlite_clear_queued(cf__sqlite *s);
int cf__sqlite_outbox_next(cf__sqlite *s, cf__outbox_row *row, cf__err *err);
int cf__sqlite_outbox_delete(cf__sqlite *s, int64_t id, cf__err *err);
void cf__sqlite_chain_begin(cf__sqlite *s, const char *root);
int64_t cf__sqlite_chain_queued(const cf__sqlite *s);
int cf__sqlite_chain_count(cf__sqlite *s, const char *root, int64_t count, cf__err *err);
void cf__sqlite_watch_begin(cf__sqlite *s);
int cf__sqlite_watch_each(cf__sqlite *s, cf__watched_fn fn, void *ud, cf__err *err);
void cf__sqlite_watch_end(cf__sqlite *s);
int cf__sqlite_audit_append(cf__sqlite *s, cf__history_row *row, cf__err *err);
int cf__sqlite_audit_find_key(cf__sqlite *s, const char *instance_id, const char *key, cf__history_row *row, cf__buf *keep, cf__err *err);
int cf__sqlite_audit_each(cf__sqlite *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err);
int cf__sqlite_audit_moves(cf__sqlite *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err);
int cf__sqlite_audit_verify(cf__sqlite *s, int64_t *rows, int64_t *first_bad, cf__err *err);
int cf__sqlite_audit_result_hashes(cf__sqlite *s, const char *instance_id, const char *county, const char *data, char data_hash[CF__HASH_HEX], char timers_hash[CF__HASH_HEX], cf__err *err);
int cf__sqlite_audit_check_instance(cf__sqlite *s, const char *id, int64_t version, const char *state, const char *county, const char *data, cf__err *err);
int cf__sqlite_audit_read_begin(cf__sqlite *s, bool *began, cf__err *err);
void cf__sqlite_audit_read_end(cf__sqlite *s, bool began);
int cf__sqlite_audit_integrity(cf__sqlite *s, bool quick, cf__text_fn fn, void *ud, cf__err *err);
int cf__sqlite_audit_instances(cf__sqlite *s, cf__verify_inst_fn fn, void *ud, cf__err *err);
int cf__sqlite_audit_orphan_row(cf__sqlite *s, int64_t *seq, char id[37], cf__err *err);
int cf__sqlite_audit_timers(cf__sqlite *s, cf__verify_timer_fn fn, void *ud, cf__err *err);
int cf__sqlite_audit_head(cf__sqlite *s, int64_t *seq, char hash[CF__HASH_HEX], cf__err *err);
int cf__sqlite_audit_row_hash(cf__sqlite *s, int64_t seq, bool *found, char hash[CF__HASH_HEX], cf__err *err);
int cf__sqlite_mark_load(cf__sqlite *s, cf__err *err);
void cf__sqlite_mark_set(cf__sqlite *s, const char *problem);
int cf__sqlite_mark_clear(cf__sqlite *s, cf__err *err);
bool cf__sqlite_corrupt(const cf__sqlite *s);
int cf__sqlite_refuse_if_corrupt(cf__sqlite *s, cf__err *err);
int cf__sqlite_history_between(cf__sqlite *s, cf_time from, cf_time to, const cf_history_filter *filter, cf_history_fn fn, void *ud, cf__err *err);
int cf__sqlite_webhook_add(cf__sqlite *s, const cf__webhook_row *row, int64_t *id, cf__err *err);
int cf__sqlite_webhook_each(cf__sqlite *s, cf__webhook_fn fn, void *ud, cf__err *err);
int cf__sqlite_webhook_remove(cf__sqlite *s, const char *name, cf_time at, const char *actor, cf__err *err);
int cf__sqlite_webhook_progress(cf__sqlite *s, int64_t id, int64_t cursor, int64_t attempts, const char *last_error, cf_time at, cf__err *err);
int cf__sqlite_history_after(cf__sqlite *s, int64_t after, size_t limit, const cf_history_filter *filter, cf_history_fn fn, void *ud, int64_t *last, cf__err *err);
bool cf__sqlite_in_transaction(cf__sqlite *s);
int cf__sqlite_plugin_prepare(cf__sqlite *s, const char *plugin, bool read_only, const char *sql, cf__sqlite_pstmt **out, cf__err *err);
bool cf__sqlite_plugin_reads_only(const cf__sqlite_pstmt *p);
int cf__sqlite_plugin_bind_text(cf__sqlite_pstmt *p, int i, const char *value, cf__err *err);
int cf__sqlite_plugin_bind_int(cf__sqlite_pstmt *p, int i, int64_t value, cf__err *err);
int cf__sqlite_plugin_bind_double(cf__sqlite_pstmt *p, int i, double value, cf__err *err);
int cf__sqlite_plugin_step(cf__sqlite *s, cf__sqlite_pstmt *p, const char *plugin, bool read_only, const char *sql, int64_t *changes, cf__err *err);
int cf__sqlite_plugin_column_count(cf__sqlite_pstmt *p);
const char *cf__sqlite_plugin_column_text(cf__sqlite_pstmt *p, int i);
int64_t cf__sqlite_plugin_column_int(cf__sqlite_pstmt *p, int i);
double cf__sqlite_plugin_column_double(cf__sqlite_pstmt *p, int i);
int cf__sqlite_plugin_column_type(cf__sqlite_pstmt *p, int i);
void cf__sqlite_plugin_reset(cf__sqlite_pstmt *p);
void cf__sqlite_plugin_finalize(cf__sqlite_pstmt *p);
int cf__sqlite_plugin_version(cf__sqlite *s, const char *plugin, int *version, cf__err *err);
int cf__sqlite_plugin_migrate(cf__sqlite *s, const char *plugin, int version, const char *sql, cf_time now, cf__err *err);
int cf__sqlite_timer_set_due(cf__sqlite *s, int64_t id, cf_time due, cf__err *err);
int cf__sqlite_timer_each(cf__sqlite *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err);
int cf__sqlite_instance_timers_each(cf__sqlite *s, const char *county, cf__instance_timers_fn fn, void *ud,
                                    cf__err *err);
int cf__sqlite_policy_text_put(cf__sqlite *s, const char *hash, const char *county, const char *overlay_hash, const char *source, cf_time now, const char *actor, cf__err *err);
int cf__sqlite_policy_log_add(cf__sqlite *s, const cf__policy_log_row *row, cf__err *err);
int cf__sqlite_policy_log_each(cf__sqlite *s, const char *county, cf__policy_log_fn fn, void *ud, cf__err *err);
int cf__sqlite_def_each(cf__sqlite *s, const char *name, cf__def_fn fn, void *ud, cf__err *err);
int cf__sqlite_def_states(cf__sqlite *s, const char *hash, cf__def_state_fn fn, void *ud, cf__err *err);
int cf__sqlite_instance_redefine(cf__sqlite *s, const cf__instance_row *row, cf__err *err);
int cf__sqlite_timer_set_state(cf__sqlite *s, int64_t id, const char *state, cf__err *err);
int cf__sqlite_token_add(cf__sqlite *s, const cf__token_row *row, int64_t *id, cf__err *err);
int cf__sqlite_token_each(cf__sqlite *s, const char *secret_hash, cf__token_fn fn, void *ud, cf__err *err);
int cf__sqlite_token_revoke(cf__sqlite *s, const char *name, cf_time at, const char *actor, cf__err *err);

/* store copy (copy.c) */
int cf__sqlite_copy_each(cf__sqlite *s, const cf__copy_table *t, cf__copy_row_fn fn, void *ud, cf__err *err);
int cf__sqlite_copy_put(cf__sqlite *s, const cf__copy_table *t, const char *const *values, cf__err *err);
int cf__sqlite_copy_count(cf__sqlite *s, const cf__copy_table *t, int64_t *rows, cf__err *err);
int cf__sqlite_copy_finish(cf__sqlite *s, cf__err *err);
int cf__sqlite_copy_plugin_tables(cf__sqlite *s, cf__copy_plugin_fn fn, void *ud, cf__err *err);

int cf__sqlite_copy_plugin_each(cf__sqlite *s, const char *plugin, const char *table, cf__copy_prow_fn fn, void *ud,
                               cf__err *err);
int cf__sqlite_copy_plugin_put(cf__sqlite *s, const char *plugin, const char *table, int n, const char *const *names,
                              const char *const *values, cf__err *err);
int cf__sqlite_copy_plugin_count(cf__sqlite *s, const char *plugin, const char *table, int64_t *rows, cf__err *err);
int cf__sqlite_copy_plugin_finish(cf__sqlite *s, const char *plugin, const char *table, cf__err *err);

#endif /* CF_SQLITE_H */
