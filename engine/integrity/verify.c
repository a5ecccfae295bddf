/*
 * verify.c — is the whole database sound? The file's integrity (SQLite), the
 * history's hash chain, every instance and pending timer against what the
 * history recorded, and the chain's head against an anchor kept elsewhere.
 * the backend (store/sqlite/history.c, store/pg/) reads (all SQL stays there); this file decides what is wrong and says
 * so. What it proves and what it cannot: docs/reliability.md.
 */
#include "internal.h"

#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_INTEGRITY, K_CHAIN, K_INSTANCE, K_TIMER, K_ANCHOR, K_COUNT };
static const char *const kind_name[K_COUNT] = {"integrity", "chain", "instance", "timer", "anchor"};

/* Findings passed to the callback per kind; the counts go on. */
#define MAX_PER_KIND 100

#define RESTORE "restore the database from a backup"

typedef struct vctx {
    cf_engine *e;
    cf_verify_fn fn;
    void *ud;
    bool quiet; /* fn asked to stop: no more calls, the checks go on */
    int64_t count[K_COUNT];
    int64_t problems;
    int first_kind; /* -1 until the first finding */
    int64_t first_seq;
    char first[CF__MSG_MAX];
    int64_t instances, unproven, timers;
} vctx;

static void finding(vctx *v, int kind, int64_t seq, const char *id, const char *fmt, ...) CF__PRINTF(5, 6);

static void finding(vctx *v, int kind, int64_t seq, const char *id, const char *fmt, ...)
{
    char msg[CF__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->count[kind]++;
    v->problems++;
    if (v->first_kind < 0) {
        v->first_kind = kind;
        v->first_seq = seq;
        memcpy(v->first, msg, sizeof msg);
    }
    if (v->fn && !v->quiet && v->count[kind] <= MAX_PER_KIND) {
        cf_verify_finding f = {sizeof f, kind_name[kind], CF_ECORRUPT, seq, id, msg};
        if (v->fn(v->ud, &f) != 0)
            v->quiet = true;
    }
}

/* ---- 1. the file ---- */

static int integrity_line(void *ud, const char *text)
{
    vctx *v = ud;
    char line[512]; /* SQLite's lines, on one line */
    snprintf(line, sizeof line, "%s", text);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (strcmp(cf__store_backend(v->e->store), "postgresql") == 0)
        finding(v, K_INTEGRITY, 0, NULL,
                "the database is damaged: the check of the schema certflow says \"%s\"; " RESTORE
                " (PostgreSQL's own checks: pg_amcheck, data checksums)",
                line);
    else
        finding(v, K_INTEGRITY, 0, NULL,
                "the database file is damaged: SQLite's integrity check says \"%s\"; " RESTORE
                " (as a last resort, `sqlite3 DAMAGED.db .recover | sqlite3 NEW.db` salvages what can still be read)",
                line);
    return 0;
}

/* ---- 3. instances against their history ---- */

static int check_instance(void *ud, const cf__verify_inst *in)
{
    vctx *v = ud;
    v->instances++;
    const char *id = in->id;
    if (in->rows == 0) {
        finding(v, K_INSTANCE, 0, id,
                "instance %s has no history: it was inserted outside certflow, or its history was removed; " RESTORE,
                id);
        return 0;
    }
    if (!in->def_name) {
        finding(v, K_INSTANCE, in->last_seq, id,
                "instance %s runs on workflow definition %.12s, which the database does not hold: it was changed "
                "outside certflow; " RESTORE,
                id, in->def_hash);
        return 0;
    }
    if (strcmp(in->def_name, in->workflow) != 0 || !in->last_def_hash || strcmp(in->last_def_hash, in->def_hash) != 0) {
        finding(v, K_INSTANCE, in->last_seq, id,
                "instance %s says workflow '%s', definition %.12s, but its history (row %" PRId64
                ") recorded definition %.12s ('%s'): it was changed outside certflow; " RESTORE,
                id, in->workflow, in->def_hash, in->last_seq, in->last_def_hash ? in->last_def_hash : "?",
                in->def_name);
        return 0;
    }
    if (in->min_number != 1 || in->max_number != in->rows) {
        finding(v, K_INSTANCE, in->last_seq, id,
                "the history of instance %s has %" PRId64 " rows numbered %" PRId64 " to %" PRId64
                ": rows were removed outside certflow; " RESTORE,
                id, in->rows, in->min_number, in->max_number);
        return 0;
    }
    if (in->version != in->max_number) {
        finding(v, K_INSTANCE, in->last_seq, id,
                "instance %s is at version %" PRId64 ", but its history has %" PRId64 " row%s (the newest is row %" PRId64
                "): the instance or its newest history rows were changed outside certflow; " RESTORE,
                id, in->version, in->max_number, in->max_number == 1 ? "" : "s", in->last_seq);
        return 0;
    }
    if (!in->last_to_state || strcmp(in->state, in->last_to_state) != 0) {
        finding(v, K_INSTANCE, in->last_seq, id,
                "instance %s is in state '%s', but its history (row %" PRId64
                ") leaves it in '%s': the state was changed outside certflow; " RESTORE,
                id, in->state, in->last_seq, in->last_to_state ? in->last_to_state : "?");
        return 0;
    }
    cf__workflow *wf = NULL;
    if (cf__engine_definition(v->e, in->def_hash, &wf) == CF_OK && cf__workflow_state(wf, in->state) < 0) {
        finding(v, K_INSTANCE, in->last_seq, id, "instance %s is in state '%s', which its workflow '%s' does not define; " RESTORE,
                id, in->state, wf->name);
        return 0;
    }
    v->e->err.msg[0] = '\0'; /* a definition that does not compile is not this check's business */
    if (!in->proven) {
        v->unproven++;
        return 0;
    }
    if (!in->data_ok)
        finding(v, K_INSTANCE, in->last_seq, id,
                "the data or county of instance %s is not what its history row %" PRId64
                " recorded: it was changed outside certflow; " RESTORE,
                id, in->last_seq);
    if (!in->timers_ok)
        finding(v, K_TIMER, in->last_seq, id,
                "the pending timers of instance %s are not what its history row %" PRId64
                " recorded: a timer was changed, added or removed outside certflow; " RESTORE,
                id, in->last_seq);
    return 0;
}

/* ---- 4. timers ---- */

static int check_timer(void *ud, const cf__timer_row *t, const char *inst_state, const char *def_hash)
{
    vctx *v = ud;
    v->timers++;
    if (!inst_state || !def_hash) {
        finding(v, K_TIMER, 0, t->instance_id,
                "timer %" PRId64 " ('%s') is for instance %s, which does not exist: it was changed outside certflow; " RESTORE,
                t->id, t->name, t->instance_id);
        return 0;
    }
    if (!cf__state_in(inst_state, t->state)) { /* its state, or a parent of it (nested states) */
        finding(v, K_TIMER, 0, t->instance_id,
                "timer %" PRId64 " ('%s') of instance %s belongs to state '%s', but the instance is in state '%s': "
                "it was changed outside certflow; " RESTORE,
                t->id, t->name, t->instance_id, t->state, inst_state);
        return 0;
    }
    cf__workflow *wf = NULL;
    if (cf__engine_definition(v->e, def_hash, &wf) != CF_OK) {
        v->e->err.msg[0] = '\0'; /* the instance check names a missing definition */
        return 0;
    }
    int s = cf__workflow_state(wf, t->state);
    if (s < 0)
        return 0; /* the instance check names the unknown state */
    const cf__state *st = &wf->states[s];
    for (int i = 0; i < st->ntimers; i++)
        if (strcmp(st->timers[i].name, t->name) == 0 && strcmp(wf->events[st->timers[i].event], t->event) == 0)
            return 0;
    finding(v, K_TIMER, 0, t->instance_id,
            "timer %" PRId64 " of instance %s is '%s' firing '%s', but state '%s' of workflow '%s' declares no such "
            "timer: it was changed outside certflow; " RESTORE,
            t->id, t->instance_id, t->name, t->event, t->state, wf->name);
    return 0;
}

/* ---- 5. the anchor ---- */

#define ANCHOR_TAG "certflow-anchor-v1"

typedef struct anchor {
    int64_t seq;
    char hash[CF__HASH_HEX];
    bool signed_;
    char mac[CF__HASH_HEX];
    size_t body_len; /* the signed part: everything before " hmac-sha256=" */
} anchor;

static bool is_hex64(const char *p)
{
    for (int i = 0; i < 64; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Parse "certflow-anchor-v1 seq=N hash=H[ hmac-sha256=M]" with trailing blanks allowed. */
static bool parse_anchor(const char *text, anchor *a)
{
    memset(a, 0, sizeof *a);
    const char *p = text;
    size_t tag = strlen(ANCHOR_TAG " seq=");
    if (strncmp(p, ANCHOR_TAG " seq=", tag) != 0)
        return false;
    p += tag;
    if (*p < '0' || *p > '9')
        return false;
    int64_t seq = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (seq > (INT64_MAX - 9) / 10)
            return false;
        seq = seq * 10 + (*p - '0');
    }
    if (strncmp(p, " hash=", 6) != 0 || strnlen(p + 6, 64) < 64 || !is_hex64(p + 6))
        return false;
    memcpy(a->hash, p + 6, 64);
    a->hash[64] = '\0';
    p += 6 + 64;
    a->seq = seq;
    a->body_len = (size_t)(p - text);
    if (strncmp(p, " hmac-sha256=", 13) == 0) {
        if (strnlen(p + 13, 64) < 64 || !is_hex64(p + 13))
            return false;
        memcpy(a->mac, p + 13, 64);
        a->mac[64] = '\0';
        a->signed_ = true;
        p += 13 + 64;
    }
    for (; *p; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
            return false;
    return true;
}

static bool hmac_hex(const void *key, size_t key_len, const char *text, size_t len, char out[CF__HASH_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const unsigned char none = 0;
    if (!HMAC(EVP_sha256(), key ? key : &none, (int)key_len, (const unsigned char *)text, len, md, &n) || n != 32)
        return false;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return true;
}

static int check_anchor(vctx *v, const cf_verify_options *o, const anchor *a)
{
    cf_engine *e = v->e;
    if (a->signed_) {
        char mac[CF__HASH_HEX];
        if (!hmac_hex(o->key, o->key_len, o->anchor, a->body_len, mac))
            return cf__fail(&e->err, CF_ENOMEM, "out of memory checking the anchor's signature");
        if (CRYPTO_memcmp(mac, a->mac, 64) != 0) {
            finding(v, K_ANCHOR, a->seq, NULL,
                    "the anchor's signature does not match under the key given: the anchor was altered, or the key "
                    "is not the one it was signed with; use the anchor and key you stored");
            return CF_OK;
        }
    }
    int64_t head = 0;
    char head_hash[CF__HASH_HEX];
    int rc = cf__audit_head(e->store, &head, head_hash, &e->err);
    if (rc != CF_OK)
        return rc;
    if (head < a->seq) {
        finding(v, K_ANCHOR, a->seq, NULL,
                "the history ends at row %" PRId64 ", but the anchor names row %" PRId64
                ": the newest rows were removed outside certflow (or this is an older copy of the database); " RESTORE,
                head, a->seq);
        return CF_OK;
    }
    if (a->seq == 0)
        return CF_OK; /* anchored when the history was empty: any chain extends it */
    bool found = false;
    char hash[CF__HASH_HEX];
    rc = cf__audit_row_hash(e->store, a->seq, &found, hash, &e->err);
    if (rc != CF_OK)
        return rc;
    if (!found)
        finding(v, K_ANCHOR, a->seq, NULL,
                "history row %" PRId64 ", which the anchor names, is missing: rows were removed outside certflow; " RESTORE,
                a->seq);
    else if (strcmp(hash, a->hash) != 0)
        finding(v, K_ANCHOR, a->seq, NULL,
                "history row %" PRId64 " does not have the hash the anchor recorded (%.12s..., now %.12s...): the "
                "history up to that row was rewritten and re-hashed outside certflow; " RESTORE,
                a->seq, a->hash, hash);
    return CF_OK;
}

/* ---- the whole check ---- */

/* A check that failed with CF_ECORRUPT because SQLite could not read the file is
 * a finding (and the other checks go on); anything else stops verify. */
static int as_finding(vctx *v, int kind, int rc)
{
    if (rc != CF_ECORRUPT)
        return rc;
    finding(v, kind, 0, NULL, "%s", v->e->err.msg);
    v->e->err.msg[0] = '\0';
    return CF_OK;
}

static void fill_report(cf_verify_report *out, const cf_verify_report *r)
{
    if (!out || out->size < sizeof(size_t))
        return;
    size_t n = out->size < sizeof *r ? out->size : sizeof *r;
    memcpy((char *)out + sizeof(size_t), (const char *)r + sizeof(size_t), n - sizeof(size_t));
}

int cf_engine_verify_full(cf_engine *e, const cf_verify_options *opts, cf_verify_fn fn, void *ud,
                          cf_verify_report *report)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    cf_verify_options o = CF_VERIFY_OPTIONS_INIT;
    if (opts) {
        if (opts->size < sizeof(size_t))
            return cf__fail(&e->err, CF_EINVAL, "cf_verify_options.size is not set (start from CF_VERIFY_OPTIONS_INIT)");
        size_t n = opts->size < sizeof o ? opts->size : sizeof o;
        memcpy((char *)&o + sizeof(size_t), (const char *)opts + sizeof(size_t), n - sizeof(size_t));
    }
    anchor a;
    memset(&a, 0, sizeof a);
    if (o.anchor) {
        if (!parse_anchor(o.anchor, &a))
            return cf__fail(&e->err, CF_EINVAL,
                            "the anchor is not one certflow wrote: expected \"" ANCHOR_TAG
                            " seq=N hash=<64 hex digits>\" optionally followed by \" hmac-sha256=<64 hex digits>\" "
                            "(as cf_engine_anchor makes it)");
        if (a.signed_ && (!o.key || o.key_len == 0))
            return cf__fail(&e->err, CF_EINVAL, "the anchor is signed: give the key it was signed with (cf_verify_options.key)");
        if (!a.signed_ && o.key)
            return cf__fail(&e->err, CF_EINVAL,
                            "a key was given but the anchor is not signed: it cannot prove anything about the key; "
                            "drop the key, or use an anchor made with it");
        if (o.key_len > INT_MAX)
            return cf__fail(&e->err, CF_EINVAL, "the anchor key is too long (at most %d bytes)", INT_MAX);
    }
    vctx v;
    memset(&v, 0, sizeof v);
    v.e = e;
    v.fn = fn;
    v.ud = ud;
    v.first_kind = -1;
    bool began = false;
    rc = cf__audit_read_begin(e->store, &began, &e->err);
    int64_t rows = 0, first_bad = 0;
    if (rc == CF_OK)
        rc = as_finding(&v, K_INTEGRITY, cf__audit_integrity(e->store, o.quick != 0, integrity_line, &v, &e->err));
    if (rc == CF_OK) {
        rc = cf__audit_verify(e->store, &rows, &first_bad, &e->err);
        if (rc == CF_ECORRUPT) {
            finding(&v, K_CHAIN, first_bad, NULL, "%s", e->err.msg);
            e->err.msg[0] = '\0';
            rc = CF_OK;
        }
    }
    if (rc == CF_OK)
        rc = as_finding(&v, K_INSTANCE, cf__audit_instances(e->store, check_instance, &v, &e->err));
    if (rc == CF_OK) {
        int64_t seq = 0;
        char id[37];
        rc = as_finding(&v, K_INSTANCE, cf__audit_orphan_row(e->store, &seq, id, &e->err));
        if (rc == CF_OK && seq)
            finding(&v, K_INSTANCE, seq, id,
                    "history row %" PRId64 " belongs to instance %s, which does not exist or whose history does "
                    "not lead to it: the instance was removed, or the row inserted, outside certflow; " RESTORE,
                    seq, id);
    }
    if (rc == CF_OK)
        rc = as_finding(&v, K_TIMER, cf__audit_timers(e->store, check_timer, &v, &e->err));
    if (rc == CF_OK && o.anchor)
        rc = as_finding(&v, K_ANCHOR, check_anchor(&v, &o, &a));
    cf__audit_read_end(e->store, began);

    cf_verify_report r = CF_VERIFY_REPORT_INIT;
    r.rows = rows;
    r.first_bad = first_bad;
    r.instances = v.instances;
    r.unproven = v.unproven;
    r.timers = v.timers;
    r.problems = v.problems;
    r.anchor_seq = o.anchor ? a.seq : 0;
    fill_report(report, &r);
    if (rc != CF_OK)
        return rc;
    if (v.problems == 0) {
        /* Sound: a mark left by an earlier finding (or a read that failed) goes. */
        return cf__store_mark_clear(e->store, &e->err);
    }
    char why[200];
    snprintf(why, sizeof why, "verify found %" PRId64 " problem%s, the first of kind '%s'", v.problems,
             v.problems == 1 ? "" : "s", kind_name[v.first_kind]);
    cf__store_mark_set(e->store, why);
    char counts[160] = "";
    size_t used = 0;
    for (int k = 0; k < K_COUNT; k++)
        if (v.count[k] && used < sizeof counts)
            used += (size_t)snprintf(counts + used, sizeof counts - used, "%s%" PRId64 " %s", used ? ", " : "",
                                     v.count[k], kind_name[k]);
    return cf__fail(&e->err, CF_ECORRUPT, "%s [%" PRId64 " problem%s: %s; writing to this database is refused until "
                    "a verify finds nothing wrong]", v.first, v.problems, v.problems == 1 ? "" : "s", counts);
}

int cf_engine_verify(cf_engine *e, cf_verify_report *report)
{
    return cf_engine_verify_full(e, NULL, NULL, NULL, report);
}

int cf_engine_anchor(cf_engine *e, const void *key, size_t key_len, char **anchor_out)
{
    if (anchor_out)
        *anchor_out = NULL;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!anchor_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_engine_anchor: anchor_out is required");
    if ((key && key_len == 0) || (!key && key_len) || key_len > INT_MAX)
        return cf__fail(&e->err, CF_EINVAL, "cf_engine_anchor: give a key of 1 to %d bytes, or none (NULL, 0)",
                        INT_MAX);
    rc = cf__store_refuse_if_corrupt(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    int64_t seq = 0;
    char hash[CF__HASH_HEX];
    rc = cf__audit_head(e->store, &seq, hash, &e->err);
    if (rc != CF_OK)
        return rc;
    char text[256];
    int n = snprintf(text, sizeof text, ANCHOR_TAG " seq=%" PRId64 " hash=%s", seq, hash);
    if (key) {
        char mac[CF__HASH_HEX];
        if (!hmac_hex(key, key_len, text, (size_t)n, mac))
            return cf__fail(&e->err, CF_ENOMEM, "out of memory signing the anchor");
        snprintf(text + n, sizeof text - (size_t)n, " hmac-sha256=%s", mac);
    }
    *anchor_out = cf__strdup(text);
    if (!*anchor_out)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    return CF_OK;
}
