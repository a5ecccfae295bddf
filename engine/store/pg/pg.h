/*
 * pg.h — the PostgreSQL backend as the dispatcher (store.c) sees it: every
 * operation of store.h, on a cf__pg (whose first member is the cf__store the engine
 * holds). The contract of each is store.h's; docs/deployment.md says how the
 * backend keeps it on a server shared by several engine processes.
 */
#ifndef CF_PG_H
#define CF_PG_H

#include "store/store.h"

typedef struct cf__pg cf__pg;
typedef struct cf__pg_pstmt cf__pg_pstmt;

int cf__pg_open(const char *path, int busy_timeout_ms, cf__pg **out, cf__err *err);
int cf__pg_open_read_only(const char *path, int busy_timeout_ms, cf__pg **out, cf__err *err);
bool cf__pg_read_only(const cf__pg *s);
void cf__pg_close(cf__pg *s);
const char *cf__pg_path(const cf__pg *s);
int cf__pg_set_synchronous(cf__pg *s, int level, cf__err *err);
int cf__pg_begin(cf__pg *s, cf__err *err);
int cf__pg_begin_read(cf__pg *s, cf__err *err);
int cf__pg_commit(cf__pg *s, cf__err *err);
void cf__pg_rollback(cf__pg *s);
int cf__pg_batch_begin(cf__pg *s, cf__err *err);
int cf__pg_batch_commit(cf__pg *s, cf__err *err);
int cf__pg_batch_rollback(cf__pg *s, cf__err *err);
bool cf__pg_in_batch(const cf__pg *s);
int cf__pg_def_put(cf__pg *s, const char *hash, const char *name, const char *source, cf_time now, cf__err *err);
int cf__pg_def_exists(cf__pg *s, const char *hash, bool *exists, cf__err *err);
int cf__pg_def_get(cf__pg *s, const char *hash, char **name, char **source, cf__err *err);
int cf__pg_instance_insert(cf__pg *s, const cf__instance_row *row, cf__err *err);
int cf__pg_next_serial(cf__pg *s, int64_t *serial, cf__err *err);
int cf__pg_instance_get(cf__pg *s, const char *id, cf__instance_row *row, cf__err *err);
int cf__pg_instance_update(cf__pg *s, const cf__instance_row *row, cf__err *err);
int cf__pg_instance_list(cf__pg *s, const char *workflow, const char *state, const char *county, cf__instance_row_fn fn, void *ud, cf__err *err);
int cf__pg_timer_add(cf__pg *s, const char *instance_id, const char *state, const char *name, const char *event, cf_time due, cf__err *err);
int cf__pg_timer_add_chain(cf__pg *s, const char *instance_id, const char *state, const char *name, const char *event, cf_time due, const char *chain_root, int64_t chain_count, cf__err *err);
int cf__pg_timer_cancel(cf__pg *s, const char *instance_id, const char *state, cf__err *err);
int cf__pg_timer_next(cf__pg *s, cf_time now, cf__timer_row *row, cf__err *err);
int cf__pg_timer_delete(cf__pg *s, int64_t id, cf__err *err);
int cf__pg_timer_list(cf__pg *s, cf_time from, cf_time to, cf__timer_row_fn fn, void *ud, cf__err *err);
int cf__pg_outbox_add(cf__pg *s, const char *source_id, const char *target_id, const char *event, const char *data, cf_time now, cf__err *err);
bool cf__pg_queued(const cf__pg *s);
void cf__pg_clear_queued(cf__pg *s);
int cf__pg_outbox_next(cf__pg *s, cf__outbox_row *row, cf__err *err);
int cf__pg_outbox_delete(cf__pg *s, int64_t id, cf__err *err);
void cf__pg_chain_begin(cf__pg *s, const char *root);
int64_t cf__pg_chain_queued(const cf__pg *s);
int cf__pg_chain_count(cf__pg *s, const char *root, int64_t count, cf__err *err);
void cf__pg_watch_begin(cf__pg *s);
int cf__pg_watch_each(cf__pg *s, cf__watched_fn fn, void *ud, cf__err *err);
void cf__pg_watch_end(cf__pg *s);
int cf__pg_audit_append(cf__pg *s, cf__history_row *row, cf__err *err);
int cf__pg_audit_find_key(cf__pg *s, const char *instance_id, const char *key, cf__history_row *row, cf__buf *keep, cf__err *err);
int cf__pg_audit_each(cf__pg *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err);
int cf__pg_instance_timers_each(cf__pg *s, const char *county, cf__instance_timers_fn fn, void *ud,
                                cf__err *err);
int cf__pg_audit_moves(cf__pg *s, const char *instance_id, cf__history_row_fn fn, void *ud, cf__err *err);
int cf__pg_audit_verify(cf__pg *s, int64_t *rows, int64_t *first_bad, cf__err *err);
int cf__pg_audit_result_hashes(cf__pg *s, const char *instance_id, const char *county, const char *data, char data_hash[CF__HASH_HEX], char timers_hash[CF__HASH_HEX], cf__err *err);
int cf__pg_audit_check_instance(cf__pg *s, const char *id, int64_t version, const char *state, const char *county, const char *data, cf__err *err);
int cf__pg_audit_read_begin(cf__pg *s, bool *began, cf__err *err);
void cf__pg_audit_read_end(cf__pg *s, bool began);
int cf__pg_audit_integrity(cf__pg *s, bool quick, cf__text_fn fn, void *ud, cf__err *err);
int cf__pg_audit_instances(cf__pg *s, cf__verify_inst_fn fn, void *ud, cf__err *err);
int cf__pg_audit_orphan_row(cf__pg *s, int64_t *seq, char id[37], cf__err *err);
int cf__pg_audit_timers(cf__pg *s, cf__verify_timer_fn fn, void *ud, cf__err *err);
int cf__pg_audit_head(cf__pg *s, int64_t *seq, char hash[CF__HASH_HEX], cf__err *err);
int cf__pg_audit_row_hash(cf__pg *s, int64_t seq, bool *found, char hash[CF__HASH_HEX], cf__err *err);
int cf__pg_mark_load(cf__pg *s, cf__err *err);
void cf__pg_mark_set(cf__pg *s, const char *problem);
int cf__pg_mark_clear(cf__pg *s, cf__err *err);
bool cf__pg_corrupt(const cf__pg *s);
int cf__pg_refuse_if_corrupt(cf__pg *s, cf__err *err);
int cf__pg_history_between(cf__pg *s, cf_time from, cf_time to, const cf_history_filter *filter, cf_history_fn fn, void *ud, cf__err *err);
int cf__pg_webhook_add(cf__pg *s, const cf__webhook_row *row, int64_t *id, cf__err *err);
int cf__pg_webhook_each(cf__pg *s, cf__webhook_fn fn, void *ud, cf__err *err);
int cf__pg_webhook_remove(cf__pg *s, const char *name, cf_time at, const char *actor, cf__err *err);
int cf__pg_webhook_progress(cf__pg *s, int64_t id, int64_t cursor, int64_t attempts, const char *last_error, cf_time at, cf__err *err);
int cf__pg_history_after(cf__pg *s, int64_t after, size_t limit, const cf_history_filter *filter, cf_history_fn fn, void *ud, int64_t *last, cf__err *err);
bool cf__pg_in_transaction(cf__pg *s);
int cf__pg_plugin_prepare(cf__pg *s, const char *plugin, bool read_only, const char *sql, cf__pg_pstmt **out, cf__err *err);
bool cf__pg_plugin_reads_only(const cf__pg_pstmt *p);
int cf__pg_plugin_bind_text(cf__pg_pstmt *p, int i, const char *value, cf__err *err);
int cf__pg_plugin_bind_int(cf__pg_pstmt *p, int i, int64_t value, cf__err *err);
int cf__pg_plugin_bind_double(cf__pg_pstmt *p, int i, double value, cf__err *err);
int cf__pg_plugin_step(cf__pg *s, cf__pg_pstmt *p, const char *plugin, bool read_only, const char *sql, int64_t *changes, cf__err *err);
int cf__pg_plugin_column_count(cf__pg_pstmt *p);
const char *cf__pg_plugin_column_text(cf__pg_pstmt *p, int i);
int64_t cf__pg_plugin_column_int(cf__pg_pstmt *p, int i);
double cf__pg_plugin_column_double(cf__pg_pstmt *p, int i);
int cf__pg_plugin_column_type(cf__pg_pstmt *p, int i);
void cf__pg_plugin_reset(cf__pg_pstmt *p);
void cf__pg_plugin_finalize(cf__pg_pstmt *p);
int cf__pg_plugin_version(cf__pg *s, const char *plugin, int *version, cf__err *err);
int cf__pg_plugin_migrate(cf__pg *s, const char *plugin, int version, const char *sql, cf_time now, cf__err *err);
int cf__pg_timer_set_due(cf__pg *s, int64_t id, cf_time due, cf__err *err);
int cf__pg_timer_each(cf__pg *s, const char *instance_id, cf__timer_each_fn fn, void *ud, cf__err *err);
int cf__pg_policy_text_put(cf__pg *s, const char *hash, const char *county, const char *overlay_hash, const char *source, cf_time now, const char *actor, cf__err *err);
int cf__pg_policy_log_add(cf__pg *s, const cf__policy_log_row *row, cf__err *err);
int cf__pg_policy_log_each(cf__pg *s, const char *county, cf__policy_log_fn fn, void *ud, cf__err *err);
int cf__pg_def_each(cf__pg *s, const char *name, cf__def_fn fn, void *ud, cf__err *err);
int cf__pg_def_states(cf__pg *s, const char *hash, cf__def_state_fn fn, void *ud, cf__err *err);
int cf__pg_instance_redefine(cf__pg *s, const cf__instance_row *row, cf__err *err);
int cf__pg_timer_set_state(cf__pg *s, int64_t id, const char *state, cf__err *err);
int cf__pg_token_add(cf__pg *s, const cf__token_row *row, int64_t *id, cf__err *err);
int cf__pg_token_each(cf__pg *s, const char *secret_hash, cf__token_fn fn, void *ud, cf__err *err);
int cf__pg_token_revoke(cf__pg *s, const char *name, cf_time at, const char *actor, cf__err *err);

/* store copy (copy.c) */
int cf__pg_copy_each(cf__pg *s, const cf__copy_table *t, cf__copy_row_fn fn, void *ud, cf__err *err);
int cf__pg_copy_put(cf__pg *s, const cf__copy_table *t, const char *const *values, cf__err *err);
int cf__pg_copy_count(cf__pg *s, const cf__copy_table *t, int64_t *rows, cf__err *err);
int cf__pg_copy_finish(cf__pg *s, cf__err *err);
int cf__pg_copy_plugin_tables(cf__pg *s, cf__copy_plugin_fn fn, void *ud, cf__err *err);

int cf__pg_copy_plugin_each(cf__pg *s, const char *plugin, const char *table, cf__copy_prow_fn fn, void *ud,
                               cf__err *err);
int cf__pg_copy_plugin_put(cf__pg *s, const char *plugin, const char *table, int n, const char *const *names,
                              const char *const *values, cf__err *err);
int cf__pg_copy_plugin_count(cf__pg *s, const char *plugin, const char *table, int64_t *rows, cf__err *err);
int cf__pg_copy_plugin_finish(cf__pg *s, const char *plugin, const char *table, cf__err *err);

#endif /* CF_PG_H */
