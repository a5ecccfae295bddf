/*
 * history_hash.c — the audit format, the same on every storage backend.
 *
 * The audit format (changing it breaks every existing chain, so don't):
 *
 *   hash(row) = lowercase hex SHA-256 of the bytes
 *       prev_hash                      64 lowercase hex digits, as text, no framing
 *       then, each as a netstring "<decimal length>:<bytes>,":
 *       seq, number, instance_id, at, effective_at, actor, event, data, outcome,
 *       from_state, to_state, reasons, policy_hash, def_hash, idem_key
 *
 *   Integers (seq, number, at, effective_at) are their decimal text ("-5", "17").
 *   Text is its UTF-8 bytes exactly as stored. A NULL idem_key is "~," (which no
 *   netstring can be). prev_hash is the hash of the row with the next lower seq,
 *   or 64 '0' for the first row of the database.
 *
 * Example: seq 1, number 1, instance_id "a", ... is hashed as
 *   "0000...0000" "1:1," "1:1," "1:a," ...
 *
 * Rows written since schema version 4 also record what the row left behind, and
 * their preimage goes on, after idem_key, with two more netstrings:
 *       data_hash, timers_hash
 * data_hash is the hex SHA-256 of the netstrings county, data: the instance's
 * county and its data text after the row (as the instance table stores them);
 * timers_hash the hex SHA-256 of the instance's pending timers after the row,
 * ordered by state then id, each as the netstrings state, name, event, due. Older rows have both NULL and keep their preimage exactly as
 * above, so every existing chain still verifies; on a newer row, clearing either
 * field changes its preimage, so it cannot be turned into an "old" row.
 *
 * Seq is database-wide, so the chain also orders rows across instances: removing,
 * inserting or reordering a row breaks the link of the row after it, and editing
 * any field breaks the row's own hash. (Removing the newest rows leaves a shorter
 * valid chain: cf_engine_anchor's checkpoint, kept elsewhere, catches that.)
 */
#include "integrity/history_hash.h"

#include <stdlib.h>
#include <string.h>

const char cf__history_genesis[CF__HASH_HEX] = "0000000000000000000000000000000000000000000000000000000000000000";

void cf__history_text_fields(const cf__history_row *row, const char *f[CF__HF_COUNT])
{
    f[CF__HF_INSTANCE] = row->instance_id;
    f[CF__HF_ACTOR] = row->actor;
    f[CF__HF_EVENT] = row->event;
    f[CF__HF_DATA] = row->data;
    f[CF__HF_OUTCOME] = row->outcome;
    f[CF__HF_FROM] = row->from_state;
    f[CF__HF_TO] = row->to_state;
    f[CF__HF_REASONS] = row->reasons;
    f[CF__HF_POLICY] = row->policy_hash;
    f[CF__HF_DEF] = row->def_hash;
    f[CF__HF_KEY] = row->idem_key;
}

static void pre_add(cf__preimage *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 256;
        char *q = b->p == b->stack ? malloc(cap) : realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        if (b->p == b->stack)
            memcpy(q, b->stack, b->len);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Decimal text of v into buf (at least 21 bytes); returns its length. */
static size_t u64_text(uint64_t v, char *buf)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

void cf__preimage_bytes(cf__preimage *b, const char *p, size_t n)
{
    if (!p) {
        pre_add(b, "~,", 2);
        return;
    }
    char len[24];
    size_t k = u64_text(n, len);
    len[k++] = ':';
    pre_add(b, len, k);
    pre_add(b, p, n);
    pre_add(b, ",", 1);
}

void cf__preimage_int(cf__preimage *b, int64_t v)
{
    char num[24];
    size_t k = 0;
    if (v < 0) {
        num[k++] = '-';
        k += u64_text((uint64_t)0 - (uint64_t)v, num + 1);
    } else {
        k = u64_text((uint64_t)v, num);
    }
    cf__preimage_bytes(b, num, k);
}

/* Hash row (with its prev_hash) into out. lens gives each text field's length as
 * stored (NULL: use strlen), so bytes after an embedded NUL count too. */
int cf__history_hash(const cf__history_row *row, const size_t *lens, char out[CF__HASH_HEX])
{
    cf__preimage b;
    cf__preimage_init(&b);
    const char *f[CF__HF_COUNT];
    cf__history_text_fields(row, f);
    pre_add(&b, row->prev_hash, strlen(row->prev_hash));
    cf__preimage_int(&b, row->seq);
    cf__preimage_int(&b, row->number);
#define PUT(i) cf__preimage_bytes(&b, f[i], f[i] ? (lens ? lens[i] : strlen(f[i])) : 0)
    PUT(CF__HF_INSTANCE);
    cf__preimage_int(&b, row->at);
    cf__preimage_int(&b, row->effective_at);
    for (int i = CF__HF_ACTOR; i < CF__HF_COUNT; i++)
        PUT(i);
#undef PUT
    if (row->data_hash[0] || row->timers_hash[0]) { /* schema 4 and later: see the top of this file */
        cf__preimage_bytes(&b, row->data_hash, strlen(row->data_hash));
        cf__preimage_bytes(&b, row->timers_hash, strlen(row->timers_hash));
    }
    int rc = cf__preimage_finish(&b, out);
    cf__preimage_free(&b);
    return rc;
}

void cf__preimage_init(cf__preimage *b)
{
    b->p = b->stack;
    b->len = 0;
    b->cap = sizeof b->stack;
    b->oom = false;
}

int cf__preimage_finish(const cf__preimage *b, char out[CF__HASH_HEX])
{
    if (b->oom)
        return CF_ENOMEM;
    cf__sha256_hex(b->p, b->len, out);
    return CF_OK;
}

void cf__preimage_free(cf__preimage *b)
{
    if (b->p != b->stack)
        free(b->p);
    cf__preimage_init(b);
}

/* The last preimage cf__history_data_hash hashed on this thread, and its hash
 * (issue 13): a fire hashes the instance's data when it checks the row and again
 * for the history row it appends, and most fires leave the data as it was. The
 * function is pure, so the memo needs no invalidation; a preimage longer than
 * the buffer is not kept. */
static _Thread_local struct {
    size_t len;
    char hash[CF__HASH_HEX];
    char pre[1024];
} data_memo;

/* Hex SHA-256 of the netstrings county, data (see the top of this file). */
int cf__history_data_hash(const char *county, const char *data, char out[CF__HASH_HEX], cf__err *err)
{
    cf__preimage b;
    cf__preimage_init(&b);
    cf__preimage_bytes(&b, county, strlen(county));
    cf__preimage_bytes(&b, data, strlen(data));
    int rc = CF_OK;
    if (!b.oom && b.len == data_memo.len && memcmp(b.p, data_memo.pre, b.len) == 0) {
        memcpy(out, data_memo.hash, CF__HASH_HEX);
    } else {
        rc = cf__preimage_finish(&b, out);
        if (rc == CF_OK && b.len <= sizeof data_memo.pre) {
            memcpy(data_memo.pre, b.p, b.len);
            memcpy(data_memo.hash, out, CF__HASH_HEX);
            data_memo.len = b.len;
        }
    }
    cf__preimage_free(&b);
    return rc == CF_OK ? CF_OK : cf__fail(err, CF_ENOMEM, "out of memory hashing an instance's data");
}

