/*
 * history_hash.h — the audit format: what a history row, an instance's data and
 * its pending timers hash to. It is the same on every storage backend (a chain
 * written by one verifies on another), so it lives outside the backend; the
 * SQLite backend (store/sqlite/history.c) calls it. engine/history_hash.c spells the format out.
 */
#ifndef CF_HISTORY_HASH_H
#define CF_HISTORY_HASH_H

#include "internal.h"

/* The hash of "no row before": 64 '0'. */
extern const char cf__history_genesis[CF__HASH_HEX];

/* The text fields in hash order, after seq/number/instance_id/at/effective_at. */
enum {
    CF__HF_INSTANCE, CF__HF_ACTOR, CF__HF_EVENT, CF__HF_DATA, CF__HF_OUTCOME, CF__HF_FROM,
    CF__HF_TO, CF__HF_REASONS, CF__HF_POLICY, CF__HF_DEF, CF__HF_KEY, CF__HF_COUNT
};
void cf__history_text_fields(const cf__history_row *row, const char *f[CF__HF_COUNT]);

/* The cf__preimage is built in one buffer and hashed in one call: a row is a few
 * hundred bytes, and formatting with snprintf and feeding the digest field by
 * field cost more than the SHA-256 itself. */
typedef struct cf__preimage {
    char *p;
    size_t len, cap;
    bool oom;
    char stack[2048];
} cf__preimage;

void cf__preimage_init(cf__preimage *b);
/* One netstring "<length>:<bytes>," (p NULL: "~,"). */
void cf__preimage_bytes(cf__preimage *b, const char *p, size_t n);
/* An integer as the netstring of its decimal text. */
void cf__preimage_int(cf__preimage *b, int64_t v);
/* Hex SHA-256 of what was added: CF_OK, or CF_ENOMEM if an add ran out of memory. */
int cf__preimage_finish(const cf__preimage *b, char out[CF__HASH_HEX]);
void cf__preimage_free(cf__preimage *b);

/* Hash row (with its prev_hash) into out. lens gives each text field's length as
 * stored (NULL: use strlen), so bytes after an embedded NUL count too. CF_ENOMEM. */
int cf__history_hash(const cf__history_row *row, const size_t *lens, char out[CF__HASH_HEX]);
/* Hex SHA-256 of the netstrings county, data. */
int cf__history_data_hash(const char *county, const char *data, char out[CF__HASH_HEX], cf__err *err);

#endif /* CF_HISTORY_HASH_H */
