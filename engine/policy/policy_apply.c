/*
 * policy_apply.c — carrying out a policy change: cf_policy_apply(_for) writes
 * the plan that policy_change.c previews (cf_policy_diff) in one transaction,
 * with a policy_changed history row per affected instance, the overlay file
 * replaced atomically and the change logged; cf_policy_log reads that log.
 */
#include "internal.h"
#include "policy/policy_change.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The history row data of the change to one instance: rows [from, to) of pl, as
 * canonical text and (*out, when the fire needs it as event data) as a value. Every
 * object is built with its keys in the canonical (sorted) order, so that the value is
 * what parsing the text would give, without parsing it. */
static char *record_text(const plan *pl, size_t from, size_t to, const char *county, const char *old_hash,
                         const char *new_hash, json_t *params, json_t **out)
{
    json_t *changes = json_array();
    for (size_t i = from; changes && i < to; i++) {
        const change *c = &pl->items[i];
        json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "effect", c->effect ? c->effect : "",
                                                 "event", c->event ? c->event : "", "kind", c->kind, "name", c->name,
                                                 "new", c->new_value, "old", c->old_value));
    }
    json_t *data = changes ? json_pack("{s:o, s:s, s:s, s:s, s:s, s:O}", "changes", changes, "county", county, "for",
                                       pl->for_new ? "new" : "all", "new_policy_hash", new_hash, "old_policy_hash",
                                       old_hash, "params", params)
                           : NULL;
    char *text = data ? cf__json_canonical(data) : NULL;
    if (out && text)
        *out = data;
    else
        json_decref(data);
    return text;
}

/* The instance's data with the pin rows [from, to) of pl: "new" pins the value kept,
 * "all" releases it. NULL when no pin row is there (*changed false). */
static int pin_data(const plan *pl, size_t from, size_t to, const char *stored, char **out, cf__err *err)
{
    *out = NULL;
    bool any = false;
    for (size_t i = from; i < to && !any; i++)
        any = strcmp(pl->items[i].kind, "pin") == 0;
    if (!any)
        return CF_OK;
    json_t *data = json_loads(stored, 0, NULL);
    json_t *pins = json_object_get(data, "policy_pins");
    if (data && !json_is_object(pins)) {
        pins = json_object();
        json_object_set_new(data, "policy_pins", pins);
    }
    for (size_t i = from; data && pins && i < to; i++) {
        const change *c = &pl->items[i];
        if (strcmp(c->kind, "pin") != 0)
            continue;
        if (pl->for_new)
            json_object_set_new(pins, c->name, json_loads(c->old_value, JSON_DECODE_ANY, NULL));
        else
            json_object_del(pins, c->name);
    }
    if (data && json_object_size(pins) == 0)
        json_object_del(data, "policy_pins");
    *out = data ? cf__json_canonical(data) : NULL;
    json_decref(data);
    return *out ? CF_OK : cf__fail(err, CF_ENOMEM, "out of memory recording the policy change");
}

/* Append the instance's "policy_changed" row covering changes [from, to) of pl,
 * or, when the workflow takes the event now, fire it (under cand) as that row. */
static int record_instance(cf_engine *e, const plan *pl, size_t from, size_t to, const char *county,
                           const char *actor, const char *old_hash, const char *new_hash, json_t *params,
                           cf__policy *cand)
{
    const change *first = &pl->items[from];
    cf__instance_row row;
    int rc = cf__store_instance_get(e->store, first->instance_id, &row, &e->err);
    if (rc == CF_OK) /* never write over a change made outside certflow (verify.c) */
        rc = cf__audit_check_instance(e->store, row.id, row.version, row.state, row.county, row.data, &e->err);
    if (rc != CF_OK) {
        cf__instance_row_clear(&row);
        return rc;
    }
    json_t *evdata = NULL; /* the event data of the fire, when it fires */
    char *text = record_text(pl, from, to, county, old_hash, new_hash, params, first->fire ? &evdata : NULL);
    char *pinned = NULL;
    if (!text)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory recording the policy change");
    if (rc == CF_OK)
        rc = pin_data(pl, from, to, row.data, &pinned, &e->err);
    if (rc == CF_OK && pinned) {
        free(row.data);
        row.data = pinned;
        pinned = NULL;
        if (first->fire) /* the fire reads the stored data: released pins first */
            rc = cf__store_instance_update(e->store, &row, &e->err);
    }
    cf_time now = cf_engine_now(e);
    if (rc == CF_OK && first->fire) {
        /* decided, scheduled and recorded under the new policy */
        cf__fire_in in = {row.id, POLICY_EVENT, evdata, text, actor, NULL, now, now, NULL, 0, NULL, false, true, NULL,
                          cand};
        cf_fire_result res = CF_FIRE_RESULT_INIT;
        rc = evdata ? cf__fire_locked(e, &in, &res) : cf__fail(&e->err, CF_ENOMEM, "out of memory");
        json_decref(evdata);
        if (rc == CF_REJECTED)
            rc = cf__fail(&e->err, CF_ECONFLICT, "instance %s refused '%s' that the preview passed; nothing was "
                          "changed, run the change again", row.id, POLICY_EVENT);
        free(text);
        cf__instance_row_clear(&row);
        return rc;
    }
    cf__history_row h;
    memset(&h, 0, sizeof h);
    h.number = row.version + 1;
    h.instance_id = row.id;
    h.at = now;
    h.effective_at = now;
    h.actor = actor;
    h.event = POLICY_EVENT;
    h.data = text;
    h.outcome = "applied";
    h.from_state = row.state;
    h.to_state = row.state;
    h.reasons = "[]";
    h.policy_hash = new_hash;
    h.def_hash = row.def_hash;
    h.result_data = row.data; /* what the row leaves behind, for verify */
    h.result_county = row.county;
    if (rc == CF_OK)
        rc = cf__audit_append(e->store, &h, &e->err);
    if (rc == CF_OK) {
        row.version = h.number; /* state and updated_at stay as they are; data only gains or loses pins */
        rc = cf__store_instance_update(e->store, &row, &e->err);
    }
    json_decref(evdata);
    free(text);
    free(pinned);
    cf__instance_row_clear(&row);
    return rc;
}

static int write_changes(cf_engine *e, const plan *pl, const char *county, const char *actor,
                         const char *overlay_text, cf__policy *cand)
{
    const char *old_hash = pl->items[0].old_value, *new_hash = pl->items[0].new_value;
    json_t *params = json_array();
    if (!params)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    size_t i = 1;
    for (; i < pl->n && strcmp(pl->items[i].kind, "param") == 0; i++)
        json_array_append_new(params, json_pack("{s:s, s:s, s:s}", "name", pl->items[i].name, "new",
                                                pl->items[i].new_value, "old", pl->items[i].old_value));
    int rc = CF_OK;
    while (rc == CF_OK && i < pl->n) {
        size_t end = i;
        while (end < pl->n && strcmp(pl->items[end].instance_id, pl->items[i].instance_id) == 0)
            end++;
        for (size_t k = i; rc == CF_OK && k < end; k++) {
            const change *c = &pl->items[k];
            if (c->op == OP_MOVE)
                rc = cf__store_timer_set_due(e->store, c->timer_id, c->due, &e->err);
            else if (c->op == OP_REMOVE)
                rc = cf__store_timer_delete(e->store, c->timer_id, &e->err);
            else if (c->op == OP_ADD)
                rc = cf__store_timer_add(e->store, c->instance_id, c->timer_state ? c->timer_state : c->state, c->name,
                                         c->event, c->due, &e->err);
        }
        if (rc == CF_OK)
            rc = record_instance(e, pl, i, end, county, actor, old_hash, new_hash, params, cand);
        i = end;
    }
    char overlay_hash[CF__HASH_HEX];
    cf__sha256_hex(overlay_text, strlen(overlay_text), overlay_hash);
    if (rc == CF_OK)
        rc = cf__store_policy_text_put(e->store, cf__policy_hash(cand, county), county, overlay_hash, overlay_text,
                                       cf_engine_now(e), actor, &e->err);
    /* the log keeps the values as JSON values (90, not "90") */
    json_t *logged = json_array();
    size_t k;
    json_t *p;
    json_array_foreach(params, k, p)
    {
        json_t *o = json_loads(json_string_value(json_object_get(p, "old")), JSON_DECODE_ANY, NULL);
        json_t *n = json_loads(json_string_value(json_object_get(p, "new")), JSON_DECODE_ANY, NULL);
        json_array_append_new(logged, json_pack("{s:O, s:o?, s:o?}", "name", json_object_get(p, "name"), "old", o,
                                                "new", n));
    }
    char *ptext = rc == CF_OK && logged ? json_dumps(logged, JSON_COMPACT) : NULL;
    json_decref(logged);
    if (rc == CF_OK && !ptext)
        rc = cf__fail(&e->err, CF_ENOMEM, "out of memory");
    if (rc == CF_OK) {
        cf__policy_log_row log = {0,        cf_engine_now(e), actor,    county, overlay_hash,
                                  old_hash, new_hash,         pl->for_new ? "new" : "all", (int64_t)pl->affected,
                                  ptext};
        rc = cf__store_policy_log_add(e->store, &log, &e->err);
    }
    free(ptext);
    json_decref(params);
    return rc;
}

/* Write text to a new temporary file in dir; *tmp gets its malloc'd path. */
static int write_temp(cf_engine *e, const char *dir, const char *county, const char *text, size_t len, char **tmp)
{
    *tmp = NULL;
    struct stat st;
    if (stat(dir, &st) != 0 && mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cf__fail(&e->err, CF_EIO, "cannot create the folder %s: %s (make the policy folder writable)", dir,
                        strerror(errno));
    size_t n = strlen(dir) + strlen(county) + 32;
    char *path = malloc(n);
    if (!path)
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    /* A dot name without the .lua ending: no loader ever reads it as an overlay. */
    snprintf(path, n, "%s/.%s.lua.XXXXXX", dir, county);
    int fd = mkstemp(path);
    if (fd < 0) {
        int rc = cf__fail(&e->err, CF_EIO, "cannot write a file in %s: %s (make the folder writable)", dir,
                          strerror(errno));
        free(path);
        return rc;
    }
    bool ok = fchmod(fd, 0644) == 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        int rc = cf__fail(&e->err, CF_EIO, "cannot write %s: %s (is the disk full?)", path, strerror(saved));
        unlink(path);
        free(path);
        return rc;
    }
    *tmp = path;
    return CF_OK;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int cf_policy_apply(cf_engine *e, const char *county, const char *overlay_path, const char *actor,
                    cf_policy_change_fn fn, void *ud)
{
    return cf_policy_apply_for(e, county, overlay_path, actor, NULL, fn, ud);
}

int cf_policy_apply_for(cf_engine *e, const char *county, const char *overlay_path, const char *actor,
                        const char *applies_to, cf_policy_change_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc == CF_OK) /* a database found corrupt takes no more writes (verify.c) */
        rc = cf__store_refuse_if_corrupt(e->store, &e->err);
    if (rc != CF_OK)
        return rc;
    bool for_new = false;
    rc = cf__change_check_args(e, county, overlay_path, "cf_policy_apply");
    if (rc == CF_OK)
        rc = cf__change_check_for(e, applies_to, &for_new, "cf_policy_apply");
    if (rc != CF_OK)
        return rc;
    /* Its commit is followed by a rename that must only happen once the change is durable. */
    if (cf__store_in_batch(e->store))
        return cf__fail(&e->err, CF_EINVAL, "cf_policy_apply cannot run inside a batch; commit or roll back the "
                                            "batch first (cf_batch_commit)");
    rc = cf__check_text(&e->err, "the actor", actor, true);
    if (rc != CF_OK)
        return rc;
    if (!actor || !*actor)
        actor = "api";
    char *text = NULL;
    size_t len = 0;
    rc = cf__read_file(overlay_path, &text, &len, &e->err);
    if (rc != CF_OK) {
        cf__err_prefix(&e->err, "the proposed overlay for county %s", county);
        return rc;
    }
    if (strlen(text) != len) {
        free(text);
        return cf__fail(&e->err, CF_EPOLICY, "%s holds a NUL byte: an overlay is Lua text", overlay_path);
    }
    size_t dlen = strlen(e->policy_dir) + strlen(county) + 32;
    char *dir = malloc(dlen), *dest = malloc(dlen);
    if (!dir || !dest) {
        free(text);
        free(dir);
        free(dest);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory");
    }
    snprintf(dir, dlen, "%s/counties", e->policy_dir);
    snprintf(dest, dlen, "%s/counties/%s.lua", e->policy_dir, county);
    /* What gets validated, diffed, recorded and installed must be one set of
     * bytes: the text read before loading, unchanged after it. */
    char *tmp = NULL, *again = NULL;
    size_t again_len = 0;
    cf__policy *cand = NULL;
    plan pl = {0};
    pl.for_new = for_new;
    rc = cf__change_open_candidate(e, county, overlay_path, overlay_path, &cand);
    if (rc == CF_OK && cf__read_file(overlay_path, &again, &again_len, &e->err) == CF_OK &&
        (again_len != len || memcmp(again, text, len) != 0))
        rc = cf__fail(&e->err, CF_ECONFLICT, "%s changed while it was being applied; nothing was changed, try again",
                      overlay_path);
    else if (rc == CF_OK && !again)
        rc = CF_EIO;
    free(again);
    if (rc == CF_OK)
        rc = write_temp(e, dir, county, text, len, &tmp);
    if (rc == CF_OK)
        rc = cf__store_begin(e->store, &e->err);
    if (rc == CF_OK) {
        /* Planned inside the transaction, so no fire slips in between the diff and the writes. */
        rc = cf__plan_make(e, cand, county, overlay_path, &pl);
        if (rc == CF_OK)
            rc = write_changes(e, &pl, county, actor, text, cand);
        if (rc == CF_OK)
            rc = cf__store_commit(e->store, &e->err);
        else
            cf__store_rollback(e->store);
        if (rc != CF_OK)
            cf__err_prefix(&e->err, "applying %s to county %s changed nothing", overlay_path, county);
    }
    if (rc != CF_OK) {
        if (tmp)
            unlink(tmp);
    } else if (rename(tmp, dest) != 0) {
        int saved = errno;
        rc = cf__fail(&e->err, CF_EIO,
                      "the change to county %s is recorded in the database (%zu instance%s, policy %.12s) but "
                      "installing %s failed: %s; the new overlay is in %s: move it into place by hand (mv %s %s) "
                      "before the engine is next opened, or the county keeps deciding with the old overlay",
                      county, pl.affected, pl.affected == 1 ? "" : "s", pl.items[0].new_value, dest,
                      strerror(saved), tmp, tmp, dest);
    } else {
        sync_dir(dir);
        cf__policy_close(e->policy);
        e->policy = cand;
        cand = NULL;
        cf__plan_report(&pl, fn, ud);
        /* A transition on policy_changed may have sent linked events: deliver them now
         * (each in its own transaction; what is left is retried by the next tick). */
        if (cf__store_queued(e->store)) {
            char saved[CF__MSG_MAX];
            memcpy(saved, e->err.msg, sizeof saved);
            cf__engine_deliver(e);
            memcpy(e->err.msg, saved, sizeof saved);
        }
    }
    cf__policy_close(cand);
    cf__plan_free(&pl);
    free(tmp);
    free(text);
    free(dir);
    free(dest);
    return rc;
}

/* ---- the log of applied changes ---- */

typedef struct log_walk {
    cf_policy_log_fn fn;
    void *ud;
} log_walk;

static int log_row(void *ud, const cf__policy_log_row *row)
{
    log_walk *w = ud;
    cf_policy_log_entry out = {sizeof out,          row->seq,    row->at,        row->actor, row->county,
                               row->overlay_hash,   row->old_policy_hash,         row->new_policy_hash,
                               row->applies_to,     row->instances, row->params};
    return w->fn ? w->fn(w->ud, &out) : 0;
}

int cf_policy_log(cf_engine *e, const char *county, cf_policy_log_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (county && !cf__valid_county(county))
        return cf__fail(&e->err, CF_EINVAL,
                        "county '%.64s' is not a county name: use lower case letters, digits and '_' (e.g. san_diego)",
                        county);
    log_walk w = {fn, ud};
    return cf__store_policy_log_each(e->store, county, log_row, &w, &e->err);
}
