/*
 * fees.c — the fees plugin: a ledger of every fee the program charges (APP_6,
 * EX_1, EX_8, REN_4, REN_7), each charged separately, recorded with its payer and
 * the scholarship award that covered it (SCH_1), and never refunded, changed or
 * transferred (FEE_1: the ledger's own triggers refuse updates and deletes).
 * The policy decides what is due (type, amount, cover) in data.fees_due; the
 * action fees_charge writes it to the ledger. docs/plugins.md, "fees".
 */
#include "../common/shipped.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES 32

struct fees;

/* The ud of one cover guard: the plugin and the fee type the guarded transition charges. */
typedef struct cover_guard {
    const struct fees *f;
    const char *type;
} cover_guard;

/* An award of this pool: its row and its items. */
typedef struct award_rec {
    json_t *row;   /* [{holder, status, expires_on, ended_on, retake_by, retake_on}] */
    json_t *items; /* [{item, amount, used_on, paid_on}] by item */
    int64_t amount, used; /* cents reserved for it; cents it paid (paid_on set) */
} award_rec;

/* What one award guard checks after the award is loaded: 1 allow, 0 refuse (why). */
typedef int (*award_check)(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                           char *why, size_t size);

typedef struct award_guard {
    const struct fees *f;
    award_check check;
    int missing_ok; /* an award that is not there passes: another guard says why */
} award_guard;

typedef struct fees {
    const cf_host *h;
    char types[MAX_TYPES][33]; /* the fee types the ledger accepts */
    int ntypes;
    cover_guard covers[3]; /* fees_cover_application, fees_cover_exam, fees_cover_retake */
    award_guard award_guards[6]; /* fees_award_usable, _active, _holder, _item, _retake_open, _no_extension */
} fees;

static const char *const DEFAULT_TYPES[] = {"application", "exam", "retake", "renewal", "reinstatement"};

static int known_type(const fees *f, const char *t)
{
    for (int i = 0; i < f->ntypes; i++)
        if (strcmp(f->types[i], t) == 0)
            return 1;
    return 0;
}

/* Dollars (a JSON number, at most 2 decimals) to cents; -1 if not a positive amount of whole cents. */
static int64_t to_cents(json_t *amount)
{
    if (!json_is_number(amount))
        return -1;
    double d = json_number_value(amount) * 100.0;
    double r = round(d);
    if (r <= 0 || r > 1e12 || fabs(d - r) > 1e-6)
        return -1;
    return (int64_t)r;
}

/* ---- Scholarship cover (SCH_1) ----
 * The scholarship workflow's pools keep their awards in their own data; the action
 * fees_sync_awards mirrors each award a transition changed into fees_awards and fees_award_items
 * (who holds it, its status, what it covers and what it has paid), so that a fee the
 * ledger records as covered by an award is checked against that award: it exists, it was
 * awarded to this instance (non-transferable), it is active, it covers this fee, and it
 * has not paid it before. A fee paid this way is marked used at once and the pool hears
 * of it (the event `cover`, delivered after the commit). */

/* The award item that pays a fee type, or NULL when awards do not pay that fee. */
static const char *award_item(const char *type)
{
    if (strcmp(type, "application") == 0)
        return "application_fee";
    if (strcmp(type, "exam") == 0)
        return "exam";
    if (strcmp(type, "retake") == 0)
        return "retake";
    return NULL;
}

static const char *item_name(const char *item)
{
    return strcmp(item, "application_fee") == 0 ? "application fee"
           : strcmp(item, "exam") == 0          ? "one exam attempt"
                                                : "one pre-approved retake";
}

/* Does `award` pay a `type` fee of `cents` (-1: any amount) on the local date `on` (NULL:
 * not checked; the pool's timer expires awards the day after their last day) for this
 * instance? 0 yes,
 * 1 no (`why` says why), -1 when reading the tables failed. On yes, *pool_out (when
 * given) gets a copy of the pool's instance id, for the caller to free. */
static int check_cover(const cf_host *h, cf_call *call, const char *award, const char *type, int64_t cents,
                       const char *on, char *why, size_t size, char **pool_out)
{
    const char *item = award_item(type);
    if (!item) {
        snprintf(why, size, "scholarship awards pay the application fee, one exam attempt and one pre-approved retake, "
                            "not the %s fee (award %s): pay it with fee_paid", type, award);
        return 1;
    }
    static const char *const acols[] = {"pool", "holder", "status", "expires_on"};
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(award), SP_T(item)};
    int rc = sp_select(h, call, "SELECT pool, holder, status, expires_on FROM fees_awards WHERE award_id = ?1", v, 1,
                       acols, "tttt", rows);
    json_t *a = json_array_get(rows, 0);
    int verdict = 1;
    if (rc != CF_PLUGIN_OK) {
        verdict = -1;
    } else if (!a) {
        snprintf(why, size, "there is no scholarship award %s: an award comes from a pool's `award` event", award);
    } else if (strcmp(sp_str(a, "holder", ""), h->instance_id(call)) != 0) {
        snprintf(why, size, "award %s was awarded to %s, not to %s: awards are non-transferable", award,
                 sp_str(a, "holder", "?"), h->instance_id(call));
    } else if (strcmp(sp_str(a, "status", ""), "active") != 0) {
        snprintf(why, size, "award %s is %s: it pays no more fees", award, sp_str(a, "status", "?"));
    } else if (on && strcmp(on, sp_str(a, "expires_on", "")) > 0) {
        snprintf(why, size, "award %s expired on %s; awards have no extension", award, sp_str(a, "expires_on", "?"));
    } else {
        static const char *const icols[] = {"amount", "used_on"};
        json_t *items = json_array();
        rc = sp_select(h, call, "SELECT amount, used_on FROM fees_award_items WHERE award_id = ?1 AND item = ?2", v,
                       2, icols, "it", items);
        json_t *it = json_array_get(items, 0);
        json_t *used = NULL;
        if (rc == CF_PLUGIN_OK && it) {
            used = json_array();
            const sp_val u[] = {SP_T(award), SP_T(type)};
            static const char *const lcols[] = {"charged_on"};
            rc = sp_select(h, call, "SELECT charged_on FROM fees_ledger WHERE covered_by = ?1 AND type = ?2 LIMIT 1",
                           u, 2, lcols, "t", used);
        }
        const char *used_on = it ? sp_str(it, "used_on", NULL) : NULL;
        if (!used_on && json_array_size(used) > 0)
            used_on = sp_str(json_array_get(used, 0), "charged_on", "?");
        if (rc != CF_PLUGIN_OK) {
            verdict = -1;
        } else if (!it && strcmp(item, "retake") == 0) {
            snprintf(why, size, "award %s covers a retake only if it is pre-approved case by case; none is", award);
        } else if (!it) {
            snprintf(why, size, "award %s does not cover the %s", award, item_name(item));
        } else if (used_on) {
            snprintf(why, size, "award %s already paid its %s on %s", award, item_name(item), used_on);
        } else if (cents >= 0 && json_integer_value(json_object_get(it, "amount")) < cents) {
            snprintf(why, size, "award %s holds $%.2f for the %s, less than the fee of $%.2f", award,
                     (double)json_integer_value(json_object_get(it, "amount")) / 100.0, item_name(item),
                     (double)cents / 100.0);
        } else {
            verdict = 0;
            if (pool_out && !(*pool_out = sp_strdup(sp_str(a, "pool", "")))) {
                rc = sp_fail(h, call, "out of memory");
                verdict = -1;
            }
        }
        json_decref(used);
        json_decref(items);
    }
    json_decref(rows);
    return verdict;
}

/* Guards fees_cover_application, fees_cover_exam, fees_cover_retake: an event that names a
 * scholarship award (covered_by) passes only when that award pays this fee (check_cover);
 * without covered_by they pass (the policy checks fee_paid). */
static int cover_ok(cf_call *call, void *ud, int *allow)
{
    const cover_guard *g = ud;
    const cf_host *h = g->f->h;
    json_t *cover = sp_event(h, call, "covered_by");
    *allow = 1;
    int rc = CF_PLUGIN_OK;
    if (json_is_string(cover)) {
        char why[400];
        int v = check_cover(h, call, json_string_value(cover), g->type, -1, NULL, why, sizeof why, NULL);
        if (v < 0)
            rc = CF_PLUGIN_ERROR;
        else if (v > 0) {
            *allow = 0;
            rc = h->set_reason(call, why);
        }
    } else if (cover && !json_is_null(cover)) {
        *allow = 0;
        rc = h->set_reason(call, "covered_by must name a scholarship award (text)");
    }
    json_decref(cover);
    return rc;
}

/* After a covered fee is recorded: the item is used, and the pool hears of it. */
static int use_cover(const cf_host *h, cf_call *call, const char *award, const char *type, const char *on,
                     const char *pool)
{
    const char *item = award_item(type);
    const sp_val v[] = {SP_T(on), SP_T(award), SP_T(item)};
    int rc = sp_exec(h, call, "UPDATE fees_award_items SET used_on = ?1 WHERE award_id = ?2 AND item = ?3", v, 3);
    if (rc != CF_PLUGIN_OK)
        return rc;
    json_t *msg = json_pack("{s:s, s:s, s:s}", "award_id", award, "applicant_id", h->instance_id(call), "item", item);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!text)
        return sp_fail(h, call, "out of memory");
    rc = h->send(call, pool, "cover", text);
    free(text);
    return rc;
}

/* One award of the pool into the mirror. */
static int sync_award(const cf_host *h, cf_call *call, const char *id, json_t *a)
{
    const char *pool = h->instance_id(call);
    static const char *const cols[] = {"pool"};
    json_t *rows = json_array();
    const sp_val k[] = {SP_T(id)};
    int rc = sp_select(h, call, "SELECT pool FROM fees_awards WHERE award_id = ?1", k, 1, cols, "t", rows);
    const char *owner = sp_str(json_array_get(rows, 0), "pool", NULL);
    if (rc == CF_PLUGIN_OK && owner && strcmp(owner, pool) != 0)
        rc = sp_fail(h, call, "award id %s already belongs to scholarship pool %s: give this pool its own code", id,
                     owner);
    json_decref(rows);
    const char *holder = sp_str(a, "applicant_id", NULL);
    if (rc == CF_PLUGIN_OK && !holder)
        rc = sp_fail(h, call, "award %s names no applicant_id", id);
    if (rc != CF_PLUGIN_OK)
        return rc;
    const sp_val v[] = {SP_T(id), SP_T(pool), SP_T(holder), SP_T(sp_str(a, "status", "active")),
                        SP_T(sp_str(a, "expires_on", ""))};
    rc = sp_exec(h, call,
                 "INSERT INTO fees_awards(award_id, pool, holder, status, expires_on) VALUES(?1, ?2, ?3, ?4, ?5)"
                 " ON CONFLICT(award_id) DO UPDATE SET status = excluded.status, expires_on = excluded.expires_on",
                 v, 5);
    json_t *covers = json_object_get(a, "covers");
    const char *item;
    json_t *amount;
    json_object_foreach(covers, item, amount)
    {
        if (rc != CF_PLUGIN_OK)
            break;
        if (strcmp(item, "application_fee") != 0 && strcmp(item, "exam") != 0 && strcmp(item, "retake") != 0)
            continue; /* the core training is paid to its provider, not through the ledger */
        int64_t cents = to_cents(amount);
        if (cents < 0)
            continue;
        const char *used_on = NULL;
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(a, "fees"), i, f)
        {
            if (strcmp(sp_str(f, "type", ""), item) == 0)
                used_on = sp_str(f, "on", NULL);
        }
        const sp_val w[] = {SP_T(id), SP_T(item), SP_I(cents), SP_T(used_on)};
        rc = sp_exec(h, call,
                     "INSERT INTO fees_award_items(award_id, item, amount, used_on) VALUES(?1, ?2, ?3, ?4)"
                     " ON CONFLICT(award_id, item) DO UPDATE SET amount = excluded.amount,"
                     " used_on = coalesce(fees_award_items.used_on, excluded.used_on)",
                     w, 4);
    }
    return rc;
}

/* Action fees_sync_awards (scholarship workflow): the awards this transition changed, as
 * the policy gives them in data.awards_changed (a list of {award_id, applicant_id, status,
 * expires_on, covers, fees}: each award as it is after the transition), into the mirror;
 * the field is then removed. Only what changed is read and written, so a pool's fire costs
 * the same however many awards it holds. A transition that names none changed none. */
static int sync_awards(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    json_t *changed = sp_data(h, call, "awards_changed");
    if (!changed || json_is_null(changed)) {
        json_decref(changed);
        return CF_PLUGIN_OK;
    }
    if (!json_is_array(changed)) {
        json_decref(changed);
        return sp_fail(h, call, "data.awards_changed must be a list of the awards this transition changed");
    }
    int rc = CF_PLUGIN_OK;
    size_t i;
    json_t *a;
    json_array_foreach(changed, i, a)
    {
        const char *id = sp_str(a, "award_id", NULL);
        if (!json_is_object(a) || !id || !*id) {
            rc = sp_fail(h, call, "data.awards_changed[%zu] must be an award with its award_id", i);
            break;
        }
        if ((rc = sync_award(h, call, id, a)) != CF_PLUGIN_OK)
            break;
    }
    json_decref(changed);
    return rc == CF_PLUGIN_OK ? h->data_patch(call, "{\"awards_changed\": null}") : rc;
}

/* ---- Scholarship awards as rows (the shipped scholarship workflow, SCH_1, FEE_1) ----
 * A pool of the shipped workflow keeps its counters in its data (balance, reserved, spent,
 * returned, next_number) and each award here: its row of fees_awards (holder, status, last
 * day, when it was made and ended, what returned, the retake's approval) and one row of
 * fees_award_items per item it covers (amount in cents; used_on: the ledger or the pool
 * used it; paid_on: the pool recorded the payment, FEE_1). The guards below decide about
 * the one award an event names, reading its rows; the actions write them and move the
 * pool's counters through its data, and keep data.next_expiry (the last day of the active
 * award that ends first) for the pool's expiry timer. A fire of the pool thus reads and
 * writes one award's rows however many awards the pool has made. */

static const char *const AWARD_ITEMS[4] = {"application_fee", "core_training", "exam", "retake"};

static const char *award_item_label(const char *item)
{
    return strcmp(item, "core_training") == 0 ? "core training" : item_name(item);
}

static int award_item_known(const char *item)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(AWARD_ITEMS[i], item) == 0)
            return 1;
    return 0;
}

/* Cents as the policy's dollars: whole dollars as an integer. New reference. */
static json_t *dollars_json(int64_t cents)
{
    return cents % 100 == 0 ? json_integer(cents / 100) : json_real((double)cents / 100.0);
}

static void award_rec_free(award_rec *a)
{
    json_decref(a->row);
    json_decref(a->items);
    a->row = a->items = NULL;
}

static json_t *award_field(const award_rec *a)
{
    return json_array_get(a->row, 0);
}

static json_t *award_item_row(const award_rec *a, const char *item)
{
    size_t i;
    json_t *it;
    json_array_foreach(a->items, i, it)
    {
        if (strcmp(sp_str(it, "item", ""), item) == 0)
            return it;
    }
    return NULL;
}

/* Read award `id` of pool: 1 found, 0 not in this pool, -1 reading failed (call failed). */
static int award_load(const cf_host *h, cf_call *call, const char *pool, const char *id, award_rec *a)
{
    memset(a, 0, sizeof *a);
    static const char *const cols[] = {"holder", "status", "expires_on", "ended_on", "retake_by", "retake_on"};
    static const char *const icols[] = {"item", "amount", "used_on", "paid_on"};
    a->row = json_array();
    a->items = json_array();
    if (!a->row || !a->items) {
        award_rec_free(a);
        sp_fail(h, call, "out of memory");
        return -1;
    }
    const sp_val v[] = {SP_T(id), SP_T(pool)};
    int rc = sp_select(h, call,
                       "SELECT holder, status, expires_on, ended_on, retake_by, retake_on FROM fees_awards"
                       " WHERE award_id = ?1 AND pool = ?2",
                       v, 2, cols, "tttttt", a->row);
    if (rc == CF_PLUGIN_OK && json_array_size(a->row) > 0)
        rc = sp_select(h, call, "SELECT item, amount, used_on, paid_on FROM fees_award_items WHERE award_id = ?1 ORDER BY item",
                       v, 1, icols, "titt", a->items);
    if (rc != CF_PLUGIN_OK) {
        award_rec_free(a);
        return -1;
    }
    size_t i;
    json_t *it;
    json_array_foreach(a->items, i, it)
    {
        int64_t c = json_integer_value(json_object_get(it, "amount"));
        a->amount += c;
        if (sp_str(it, "paid_on", NULL))
            a->used += c;
    }
    return json_array_size(a->row) > 0;
}

/* The award an event names (award_id), for a guard: 1 loaded, 0 refused (why set), -1 error. */
static int named_award(const cf_host *h, cf_call *call, award_rec *a, const char **id, char *why, size_t size)
{
    const char *name = NULL;
    memset(a, 0, sizeof *a);
    if (h->event_data_text(call, "award_id", &name) != CF_PLUGIN_OK || !name || !*name) {
        snprintf(why, size, "name the award (award_id)");
        *id = NULL;
        return 0;
    }
    *id = name;
    int found = award_load(h, call, h->instance_id(call), name, a);
    if (found == 0)
        snprintf(why, size, "there is no award %s in this pool", name);
    return found;
}

/* The local date of the call into buf[11]. */
static int today_of(const cf_host *h, cf_call *call, char buf[11])
{
    if (!CF_HOST_HAS(h, today) || h->today(call, buf, 11) != CF_PLUGIN_OK)
        return sp_fail(h, call, "the fees plugin needs the engine's local date (host->today): use the certflow it ships with");
    return CF_PLUGIN_OK;
}

static int award_guard_run(cf_call *call, void *ud, int *allow)
{
    const award_guard *g = ud;
    const cf_host *h = g->f->h;
    award_rec a;
    const char *id = NULL;
    char why[400] = "", today[11];
    *allow = 1;
    int rc = today_of(h, call, today);
    if (rc != CF_PLUGIN_OK)
        return rc;
    int found = named_award(h, call, &a, &id, why, sizeof why);
    if (found < 0)
        return CF_PLUGIN_ERROR;
    int ok = found ? g->check(h, call, id, &a, today, why, sizeof why) : g->missing_ok;
    award_rec_free(&a);
    if (ok < 0)
        return CF_PLUGIN_ERROR;
    if (!ok) {
        *allow = 0;
        return h->set_reason(call, why);
    }
    return CF_PLUGIN_OK;
}

static int check_active(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                        char *why, size_t size)
{
    (void)h, (void)call, (void)today;
    json_t *r = award_field(a);
    if (strcmp(sp_str(r, "status", ""), "active") == 0)
        return 1;
    snprintf(why, size, "award %s is %s (since %s)", id, sp_str(r, "status", "?"), sp_str(r, "ended_on", "?"));
    return 0;
}

/* fees_award_usable: it exists, is active, and has not expired (no extension). */
static int check_usable(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                        char *why, size_t size)
{
    if (!check_active(h, call, id, a, today, why, size))
        return 0;
    const char *last = sp_str(award_field(a), "expires_on", "");
    if (strcmp(today, last) <= 0)
        return 1;
    snprintf(why, size, "award %s expired on %s; awards have no extension", id, last);
    return 0;
}

/* fees_award_holder: only the person it was awarded to may use it (non-transferable). */
static int check_holder(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                        char *why, size_t size)
{
    (void)today;
    const char *who = NULL;
    const char *holder = sp_str(award_field(a), "holder", "");
    if (h->event_data_text(call, "applicant_id", &who) == CF_PLUGIN_OK && who && strcmp(who, holder) == 0)
        return 1;
    snprintf(why, size, "award %s belongs to %s, not %s: awards are non-transferable", id, holder, who ? who : "nil");
    return 0;
}

/* fees_award_item: the item is one an award pays, this award covers it, and has not paid it (FEE_1). */
static int check_item(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                      char *why, size_t size)
{
    (void)today;
    const char *item = NULL;
    if (h->event_data_text(call, "item", &item) != CF_PLUGIN_OK || !item || !award_item_known(item)) {
        snprintf(why, size, "name what to pay (item): application_fee, core_training, exam or retake");
        return 0;
    }
    json_t *it = award_item_row(a, item);
    if (!it && strcmp(item, "retake") == 0) {
        snprintf(why, size, "award %s covers a retake only if it is pre-approved case by case; none is", id);
        return 0;
    }
    if (!it) {
        snprintf(why, size, "award %s does not cover the %s", id, award_item_label(item));
        return 0;
    }
    const char *paid = sp_str(it, "paid_on", NULL);
    if (!paid)
        return 1;
    snprintf(why, size, "award %s already paid its %s on %s", id, award_item_label(item), paid);
    return 0;
}

/* fees_award_retake_open: no retake approved yet, and the request names who approves it. */
static int check_retake_open(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                             char *why, size_t size)
{
    (void)today;
    if (award_item_row(a, "retake")) {
        json_t *r = award_field(a);
        snprintf(why, size, "award %s already has its one retake pre-approved (by %s on %s)", id,
                 sp_str(r, "retake_by", "?"), sp_str(r, "retake_on", "?"));
        return 0;
    }
    const char *by = NULL;
    if (h->event_data_text(call, "approved_by", &by) == CF_PLUGIN_OK && by && *by)
        return 1;
    snprintf(why, size, "a retake is covered only if pre-approved case by case: name who approved it (approved_by)");
    return 0;
}

/* fees_award_no_extension: an extension is always refused, saying when the award ends. */
static int check_no_extension(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *today,
                              char *why, size_t size)
{
    (void)h, (void)call, (void)today;
    snprintf(why, size, "award %s cannot be extended: scholarship awards have no extension (it expires on %s)", id,
             sp_str(award_field(a), "expires_on", "?"));
    return 0;
}

/* fees_award_one_per_person (award): a person holds at most one award of a pool that is
 * not released. An event without applicant_id passes (sch_request_complete says why). */
static int one_per_person(cf_call *call, void *ud, int *allow)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    const char *who = NULL;
    *allow = 1;
    if (h->event_data_text(call, "applicant_id", &who) != CF_PLUGIN_OK || !who || !*who)
        return CF_PLUGIN_OK;
    static const char *const cols[] = {"award_id"};
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(who), SP_T(h->instance_id(call))};
    int rc = sp_select(h, call,
                       "SELECT award_id FROM fees_awards WHERE holder = ?1 AND pool = ?2 AND status <> 'released'"
                       " ORDER BY award_id LIMIT 1",
                       v, 2, cols, "t", rows);
    json_t *held = json_array_get(rows, 0);
    if (rc == CF_PLUGIN_OK && held) {
        char why[300];
        snprintf(why, sizeof why, "%s already holds award %s from this pool", who, sp_str(held, "award_id", "?"));
        *allow = 0;
        rc = h->set_reason(call, why);
    }
    json_decref(rows);
    return rc;
}

/* A pool counter (dollars in its data) in cents. */
static int64_t counter_cents(const cf_host *h, cf_call *call, const char *field)
{
    double d = 0;
    if (h->data_number(call, field, &d) != CF_PLUGIN_OK)
        return 0;
    return (int64_t)llround(d * 100.0);
}

/* Add to patch (an object) next_expiry: the last day of this pool's active award that ends first, or null. */
static int set_next_expiry(const cf_host *h, cf_call *call, json_t *patch)
{
    static const char *const cols[] = {"expires_on"};
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(h->instance_id(call))};
    int rc = sp_select(h, call,
                       "SELECT expires_on FROM fees_awards WHERE pool = ?1 AND status = 'active' ORDER BY expires_on"
                       " LIMIT 1",
                       v, 1, cols, "t", rows);
    const char *first = sp_str(json_array_get(rows, 0), "expires_on", NULL);
    if (rc == CF_PLUGIN_OK)
        json_object_set_new(patch, "next_expiry", first ? json_string(first) : json_null());
    json_decref(rows);
    return rc;
}

/* Apply patch (stolen) to the pool's data. */
static int patch_pool(const cf_host *h, cf_call *call, json_t *patch)
{
    char *text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
    json_decref(patch);
    if (!text)
        return sp_fail(h, call, "out of memory");
    int rc = h->data_patch(call, text);
    free(text);
    return rc;
}

/* Action fees_award_add (award): the award the policy made (data.award_new: award_id,
 * applicant_id, applicant, pathway, awarded_on, expires_on, covers in dollars,
 * retake_approved) becomes its rows; the field is removed. */
static int award_add(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    const char *pool = h->instance_id(call);
    json_t *a = sp_data(h, call, "award_new");
    const char *id = sp_str(a, "award_id", NULL), *holder = sp_str(a, "applicant_id", NULL);
    const char *last = sp_str(a, "expires_on", NULL);
    json_t *covers = json_object_get(a, "covers");
    int rc = CF_PLUGIN_OK;
    if (!json_is_object(a) || !id || !*id || !holder || !last || !json_is_object(covers))
        rc = sp_fail(h, call, "data.award_new must be the new award {award_id, applicant_id, expires_on, covers, ...}");
    static const char *const cols[] = {"pool"};
    json_t *rows = json_array();
    if (rc == CF_PLUGIN_OK) {
        const sp_val k[] = {SP_T(id)};
        rc = sp_select(h, call, "SELECT pool FROM fees_awards WHERE award_id = ?1", k, 1, cols, "t", rows);
        const char *owner = sp_str(json_array_get(rows, 0), "pool", NULL);
        if (rc == CF_PLUGIN_OK && owner)
            rc = strcmp(owner, pool) != 0
                     ? sp_fail(h, call, "award id %s already belongs to scholarship pool %s: give this pool its own code",
                               id, owner)
                     : sp_fail(h, call, "award id %s is already an award of this pool: an award id is never reused", id);
    }
    json_decref(rows);
    json_t *approved = json_object_get(a, "retake_approved");
    if (rc == CF_PLUGIN_OK) {
        const sp_val v[] = {SP_T(id),
                            SP_T(pool),
                            SP_T(holder),
                            SP_T(last),
                            SP_T(sp_str(a, "awarded_on", NULL)),
                            SP_T(sp_str(a, "applicant", NULL)),
                            SP_T(sp_str(a, "pathway", NULL)),
                            SP_T(sp_str(approved, "by", NULL)),
                            SP_T(sp_str(approved, "on", NULL))};
        rc = sp_exec(h, call,
                     "INSERT INTO fees_awards(award_id, pool, holder, status, expires_on, awarded_on, applicant, pathway,"
                     " retake_by, retake_on) VALUES(?1, ?2, ?3, 'active', ?4, ?5, ?6, ?7, ?8, ?9)",
                     v, 9);
    }
    for (int i = 0; i < 4 && rc == CF_PLUGIN_OK; i++) {
        json_t *amount = json_object_get(covers, AWARD_ITEMS[i]);
        if (!amount)
            continue;
        int64_t cents = to_cents(amount);
        if (cents < 0) {
            rc = sp_fail(h, call, "award %s covers the %s with %s: give a positive amount of whole cents", id,
                         award_item_label(AWARD_ITEMS[i]), json_is_number(amount) ? "a bad amount" : "no number");
            break;
        }
        const sp_val w[] = {SP_T(id), SP_T(AWARD_ITEMS[i]), SP_I(cents)};
        rc = sp_exec(h, call, "INSERT INTO fees_award_items(award_id, item, amount) VALUES(?1, ?2, ?3)", w, 3);
    }
    json_decref(a);
    json_t *patch = json_pack("{s:n}", "award_new");
    if (rc == CF_PLUGIN_OK)
        rc = set_next_expiry(h, call, patch);
    if (rc != CF_PLUGIN_OK) {
        json_decref(patch);
        return rc;
    }
    return patch_pool(h, call, patch);
}

/* The award an action's event names, loaded (the guards have checked it). */
static int action_award(const cf_host *h, cf_call *call, award_rec *a, const char **id)
{
    *id = NULL;
    if (h->event_data_text(call, "award_id", id) != CF_PLUGIN_OK || !*id)
        return sp_fail(h, call, "name the award (award_id)");
    int found = award_load(h, call, h->instance_id(call), *id, a);
    if (found < 0)
        return CF_PLUGIN_ERROR;
    if (!found)
        return sp_fail(h, call, "there is no award %s in this pool", *id);
    return CF_PLUGIN_OK;
}

/* Action fees_award_cover (cover): the item is paid by the award on this day, recorded
 * (FEE_1: never refunded), and the pool's spent grows by its amount. */
static int award_cover(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    award_rec a;
    const char *id, *item = NULL;
    char today[11];
    int rc = today_of(h, call, today);
    if (rc == CF_PLUGIN_OK)
        rc = action_award(h, call, &a, &id);
    if (rc != CF_PLUGIN_OK)
        return rc;
    h->event_data_text(call, "item", &item);
    json_t *it = item ? award_item_row(&a, item) : NULL;
    int64_t cents = json_integer_value(json_object_get(it, "amount"));
    if (!it)
        rc = sp_fail(h, call, "award %s does not cover %s", id, item ? item : "(no item)");
    if (rc == CF_PLUGIN_OK) {
        const sp_val v[] = {SP_T(today), SP_T(id), SP_T(item)};
        rc = sp_exec(h, call,
                     "UPDATE fees_award_items SET paid_on = ?1, used_on = coalesce(used_on, ?1)"
                     " WHERE award_id = ?2 AND item = ?3",
                     v, 3);
    }
    award_rec_free(&a);
    if (rc != CF_PLUGIN_OK)
        return rc;
    return patch_pool(h, call, json_pack("{s:o}", "spent", dollars_json(counter_cents(h, call, "spent") + cents)));
}

/* Action fees_award_retake (preapprove_retake): the retake the policy reserved
 * (data.retake_new: fee, by, on) becomes the award's retake item; the field is removed. */
static int award_retake(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    award_rec a;
    const char *id;
    int rc = action_award(h, call, &a, &id);
    if (rc != CF_PLUGIN_OK)
        return rc;
    award_rec_free(&a);
    json_t *r = sp_data(h, call, "retake_new");
    int64_t cents = to_cents(json_object_get(r, "fee"));
    if (cents < 0 || !sp_str(r, "by", NULL) || !sp_str(r, "on", NULL))
        rc = sp_fail(h, call, "data.retake_new must be the retake reserved {fee, by, on}");
    if (rc == CF_PLUGIN_OK) {
        const sp_val w[] = {SP_T(id), SP_I(cents)};
        rc = sp_exec(h, call, "INSERT INTO fees_award_items(award_id, item, amount) VALUES(?1, 'retake', ?2)", w, 2);
    }
    if (rc == CF_PLUGIN_OK) {
        const sp_val v[] = {SP_T(sp_str(r, "by", "")), SP_T(sp_str(r, "on", "")), SP_T(id)};
        rc = sp_exec(h, call, "UPDATE fees_awards SET retake_by = ?1, retake_on = ?2 WHERE award_id = ?3", v, 3);
    }
    json_decref(r);
    if (rc != CF_PLUGIN_OK)
        return rc;
    return h->data_patch(call, "{\"retake_new\": null}");
}

/* End one award (released or expired) on today: what it did not pay returns. Adds its
 * amount and what returns to *amount and *back. */
static int end_award(const cf_host *h, cf_call *call, const char *id, const award_rec *a, const char *status,
                     const char *today, const char *reason, int64_t *amount, int64_t *back)
{
    int64_t ret = a->amount - a->used;
    const sp_val v[] = {SP_T(status), SP_T(today), SP_I(ret), SP_T(reason), SP_T(id)};
    int rc = sp_exec(h, call,
                     "UPDATE fees_awards SET status = ?1, ended_on = ?2, returned = ?3, release_reason = ?4"
                     " WHERE award_id = ?5",
                     v, 5);
    *amount += a->amount;
    *back += ret;
    return rc;
}

/* The pool's counters after awards reserving `amount` cents returned `back` (stolen patch). */
static int return_to_pool(const cf_host *h, cf_call *call, int64_t amount, int64_t back)
{
    json_t *patch = json_pack("{s:o, s:o, s:o}", "balance", dollars_json(counter_cents(h, call, "balance") + back),
                              "reserved", dollars_json(counter_cents(h, call, "reserved") - amount), "returned",
                              dollars_json(counter_cents(h, call, "returned") + back));
    int rc = patch ? set_next_expiry(h, call, patch) : sp_fail(h, call, "out of memory");
    if (rc != CF_PLUGIN_OK) {
        json_decref(patch);
        return rc;
    }
    return patch_pool(h, call, patch);
}

/* Action fees_award_release (release): the award ends, its unpaid part returns. */
static int award_release(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    award_rec a;
    const char *id, *reason = NULL;
    char today[11];
    int rc = today_of(h, call, today);
    if (rc == CF_PLUGIN_OK)
        rc = action_award(h, call, &a, &id);
    if (rc != CF_PLUGIN_OK)
        return rc;
    h->event_data_text(call, "reason", &reason);
    int64_t amount = 0, back = 0;
    rc = end_award(h, call, id, &a, "released", today, reason, &amount, &back);
    award_rec_free(&a);
    return rc == CF_PLUGIN_OK ? return_to_pool(h, call, amount, back) : rc;
}

/* Action fees_award_expire (expire_awards, the pool's timer): every active award of the
 * pool whose last day is before today ends, its unpaid part returns. */
static int award_expire(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    const char *pool = h->instance_id(call);
    char today[11];
    int rc = today_of(h, call, today);
    if (rc != CF_PLUGIN_OK)
        return rc;
    static const char *const cols[] = {"award_id"};
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(pool), SP_T(today)};
    rc = sp_select(h, call,
                   "SELECT award_id FROM fees_awards WHERE pool = ?1 AND status = 'active' AND expires_on < ?2"
                   " ORDER BY award_id",
                   v, 2, cols, "t", rows);
    int64_t amount = 0, back = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (rc != CF_PLUGIN_OK)
            break;
        const char *id = sp_str(row, "award_id", "");
        award_rec a;
        int found = award_load(h, call, pool, id, &a);
        if (found < 0)
            rc = CF_PLUGIN_ERROR;
        else if (found)
            rc = end_award(h, call, id, &a, "expired", today, NULL, &amount, &back);
        award_rec_free(&a);
    }
    json_decref(rows);
    return rc == CF_PLUGIN_OK ? return_to_pool(h, call, amount, back) : rc;
}

/* Query fees.award {"award_id": ID}: one award of a pool of the shipped workflow as the pool
 * knows it: {award_id, pool, applicant_id, applicant, pathway, awarded_on, expires_on,
 * status, covers (dollars), amount, used, fees [{type, amount, on, covered_by}], ended_on,
 * returned, release_reason, retake_approved {by, on}}. */
static int award_query(cf_call *call, void *ud, const char *args)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    char id[128];
    if (!args || h->json_field(args, "award_id", id, sizeof id) != CF_PLUGIN_OK || !id[0])
        return sp_fail(h, call, "fees.award needs {\"award_id\": ID} (an award of a scholarship pool)");
    static const char *const cols[] = {"pool", "holder", "applicant", "pathway", "awarded_on", "expires_on",
                                       "status", "ended_on", "returned", "release_reason", "retake_by", "retake_on"};
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(id)};
    int rc = sp_select(h, call,
                       "SELECT pool, holder, applicant, pathway, awarded_on, expires_on, status, ended_on, returned,"
                       " release_reason, retake_by, retake_on FROM fees_awards WHERE award_id = ?1",
                       v, 1, cols, "ttttttttittt", rows);
    json_t *r = json_array_get(rows, 0);
    if (rc == CF_PLUGIN_OK && !r)
        rc = sp_fail(h, call, "there is no scholarship award %s", id);
    award_rec a;
    memset(&a, 0, sizeof a);
    if (rc == CF_PLUGIN_OK && award_load(h, call, sp_str(r, "pool", ""), id, &a) < 0)
        rc = CF_PLUGIN_ERROR;
    if (rc != CF_PLUGIN_OK) {
        json_decref(rows);
        return rc;
    }
    json_t *doc = json_pack("{s:s, s:s, s:s}", "award_id", id, "pool", sp_str(r, "pool", ""), "applicant_id",
                            sp_str(r, "holder", ""));
    static const char *const copy[] = {"applicant", "pathway", "awarded_on", "expires_on", "status", "ended_on",
                                       "release_reason"};
    for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++)
        if (sp_str(r, copy[k], NULL))
            json_object_set_new(doc, copy[k], json_string(sp_str(r, copy[k], "")));
    json_t *covers = json_object(), *paid = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(a.items, i, it)
    {
        const char *item = sp_str(it, "item", "");
        json_t *amount = dollars_json(json_integer_value(json_object_get(it, "amount")));
        if (sp_str(it, "paid_on", NULL))
            json_array_append_new(paid, json_pack("{s:s, s:O, s:s, s:s}", "type", item, "amount", amount, "on",
                                                  sp_str(it, "paid_on", ""), "covered_by", id));
        json_object_set_new(covers, item, amount);
    }
    json_object_set_new(doc, "covers", covers);
    json_object_set_new(doc, "fees", paid);
    json_object_set_new(doc, "amount", dollars_json(a.amount));
    json_object_set_new(doc, "used", dollars_json(a.used));
    if (json_is_integer(json_object_get(r, "returned")))
        json_object_set_new(doc, "returned", dollars_json(json_integer_value(json_object_get(r, "returned"))));
    if (sp_str(r, "retake_by", NULL))
        json_object_set_new(doc, "retake_approved",
                            json_pack("{s:s, s:s}", "by", sp_str(r, "retake_by", ""), "on", sp_str(r, "retake_on", "")));
    award_rec_free(&a);
    json_decref(rows);
    return sp_answer(h, call, doc);
}

/* One entry of fees_due into the ledger. */
static int charge_one(const fees *f, cf_call *call, json_t *e, size_t i, const char *default_payer)
{
    const cf_host *h = f->h;
    if (!json_is_object(e))
        return sp_fail(h, call, "fees_due[%zu] is not an object {type, amount, ...}", i);
    const char *type = sp_str(e, "type", NULL);
    if (!type || !known_type(f, type))
        return sp_fail(h, call, "fees_due[%zu]: fee type '%s' is not one the ledger accepts (configure \"types\")", i,
                       type ? type : "(none)");
    int64_t cents = to_cents(json_object_get(e, "amount"));
    if (cents < 0)
        return sp_fail(h, call, "fees_due[%zu]: the %s fee needs a positive amount in dollars with at most 2 decimals",
                       i, type);
    json_t *cover = json_object_get(e, "covered_by");
    if (cover && !json_is_null(cover) && (!json_is_string(cover) || !*json_string_value(cover)))
        return sp_fail(h, call, "fees_due[%zu]: covered_by must be a scholarship award id (text) or null", i);
    char *pool = NULL;
    if (json_is_string(cover)) {
        char why[400];
        int v = check_cover(h, call, json_string_value(cover), type, cents, sp_str(e, "on", NULL), why, sizeof why,
                            &pool);
        if (v < 0)
            return CF_PLUGIN_ERROR;
        if (v > 0)
            return sp_fail(h, call, "fees_due[%zu]: the %s fee cannot be covered: %s", i, type, why);
    }
    char reason[160];
    snprintf(reason, sizeof reason, "%s fee", type);
    char on[32];
    h->time_format(h->now(call), on, sizeof on);
    on[10] = '\0';
    const sp_val v[] = {
        SP_T(h->instance_id(call)), SP_T(h->workflow(call)), SP_T(h->county(call)),
        SP_T(sp_str(e, "payer", default_payer)), SP_T(type), SP_I(cents), SP_T(sp_str(e, "reason", reason)),
        SP_T(json_string_value(cover)), SP_I(h->now(call)), SP_T(sp_str(e, "on", on)), SP_T(h->event(call)),
    };
    int rc = sp_exec(h, call,
                     "INSERT INTO fees_ledger(instance, workflow, county, payer, type, amount, reason, covered_by,"
                     " charged_at, charged_on, event) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                     v, 11);
    if (rc == CF_PLUGIN_OK && pool)
        rc = use_cover(h, call, json_string_value(cover), type, sp_str(e, "on", on), pool);
    free(pool);
    return rc;
}

/* Action fees_charge: every entry of data.fees_due into the ledger, then the field is removed. */
static int charge(cf_call *call, void *ud)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    json_t *due = sp_data(h, call, "fees_due");
    if (!due || json_is_null(due)) {
        json_decref(due);
        return CF_PLUGIN_OK; /* nothing due in this transition */
    }
    if (!json_is_array(due)) {
        json_decref(due);
        return sp_fail(h, call, "data.fees_due must be an array of {type, amount, covered_by, payer, reason, on}");
    }
    json_t *name = sp_data(h, call, "name");
    const char *payer = json_is_string(name) ? json_string_value(name) : h->instance_id(call);
    int rc = CF_PLUGIN_OK;
    size_t i;
    json_t *e;
    json_array_foreach(due, i, e)
    {
        if ((rc = charge_one(f, call, e, i, payer)) != CF_PLUGIN_OK)
            break;
    }
    json_decref(name);
    json_decref(due);
    return rc == CF_PLUGIN_OK ? h->data_patch(call, "{\"fees_due\": null}") : rc;
}

static const char *const ENTRY_COLS[] = {"id", "instance", "payer", "type", "amount_cents", "reason",
                                         "covered_by", "charged_at", "charged_on", "event"};
#define ENTRY_SQL                                                                                              \
    "SELECT id, instance, payer, type, amount, reason, covered_by, charged_at, charged_on, event FROM fees_ledger"

/* The instance argument of a query, required. */
static const char *instance_arg(const cf_host *h, cf_call *call, json_t **keep)
{
    *keep = sp_event(h, call, "instance");
    return json_string_value(*keep);
}

/* Query fees.statement {"instance": ID}: every fee of the instance, oldest first, and the totals. */
static int statement(cf_call *call, void *ud, const char *args)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    (void)args;
    json_t *arg = NULL;
    const char *id = instance_arg(h, call, &arg);
    if (!id) {
        json_decref(arg);
        return sp_fail(h, call, "fees.statement needs {\"instance\": ID}");
    }
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(id)};
    int rc = sp_select(h, call, ENTRY_SQL " WHERE instance = ?1 ORDER BY id", v, 1, ENTRY_COLS, "itttittitt", rows);
    int64_t charged = 0, covered = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int64_t a = json_integer_value(json_object_get(r, "amount_cents"));
        charged += a;
        if (json_is_string(json_object_get(r, "covered_by")))
            covered += a;
    }
    json_t *doc = json_pack("{s:s, s:o, s:I, s:I, s:I}", "instance", id, "entries", rows, "charged_cents",
                            (json_int_t)charged, "covered_cents", (json_int_t)covered, "paid_cents",
                            (json_int_t)(charged - covered));
    json_decref(arg);
    if (rc != CF_PLUGIN_OK) {
        json_decref(doc);
        return rc;
    }
    return sp_answer(h, call, doc);
}

/* Query fees.balance {"instance": ID} (or {} for the whole ledger): totals by type. */
static int balance(cf_call *call, void *ud, const char *args)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    (void)args;
    json_t *arg = NULL;
    const char *id = instance_arg(h, call, &arg);
    json_t *rows = json_array();
    static const char *const cols[] = {"type", "fees", "charged", "covered"};
    const sp_val v[] = {SP_T(id)};
    int rc = sp_select(h, call,
                       "SELECT type, count(*), sum(amount), sum(CASE WHEN covered_by IS NULL THEN 0 ELSE amount END)"
                       " FROM fees_ledger WHERE ?1 IS NULL OR instance = ?1 GROUP BY type ORDER BY type",
                       v, 1, cols, "tiii", rows);
    json_t *by_type = json_object();
    int64_t n = 0, charged = 0, covered = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int64_t c = json_integer_value(json_object_get(r, "charged"));
        n += json_integer_value(json_object_get(r, "fees"));
        charged += c;
        covered += json_integer_value(json_object_get(r, "covered"));
        json_object_set_new(by_type, sp_str(r, "type", "?"), json_integer(c));
    }
    json_decref(rows);
    json_t *doc = json_pack("{s:o, s:I, s:I, s:I, s:I, s:o}", "instance", id ? json_string(id) : json_null(),
                            "fees", (json_int_t)n, "charged_cents", (json_int_t)charged, "covered_cents",
                            (json_int_t)covered, "paid_cents", (json_int_t)(charged - covered), "by_type_cents",
                            by_type);
    json_decref(arg);
    if (rc != CF_PLUGIN_OK) {
        json_decref(doc);
        return rc;
    }
    return sp_answer(h, call, doc);
}

/* Query fees.awards {"holder": ID}: the scholarship awards mirrored for that holder (each
 * award's id, pool, status and last day), by award id. */
static int awards_of(cf_call *call, void *ud, const char *args)
{
    const fees *f = ud;
    const cf_host *h = f->h;
    (void)args;
    json_t *arg = sp_event(h, call, "holder");
    const char *holder = json_string_value(arg);
    if (!holder) {
        json_decref(arg);
        return sp_fail(h, call, "fees.awards needs {\"holder\": ID} (the certification instance an award was made to)");
    }
    json_t *rows = json_array();
    static const char *const cols[] = {"award_id", "pool", "status", "expires_on"};
    const sp_val v[] = {SP_T(holder)};
    int rc = sp_select(h, call,
                       "SELECT award_id, pool, status, expires_on FROM fees_awards WHERE holder = ?1 ORDER BY award_id",
                       v, 1, cols, "tttt", rows);
    json_t *doc = json_pack("{s:s, s:o}", "holder", holder, "awards", rows);
    json_decref(arg);
    if (rc != CF_PLUGIN_OK) {
        json_decref(doc);
        return rc;
    }
    return sp_answer(h, call, doc);
}

/* Configuration: {"types": ["application", ...]} replaces the fee types the ledger accepts. */
static int configure(fees *f, const cf_host *host, cf_plugin *self, const char *config_json)
{
    json_t *cfg = json_loads(config_json ? config_json : "{}", 0, NULL);
    json_t *types = json_object_get(cfg, "types");
    int rc = CF_PLUGIN_OK;
    if (!types) {
        for (size_t i = 0; i < sizeof DEFAULT_TYPES / sizeof DEFAULT_TYPES[0]; i++)
            snprintf(f->types[f->ntypes++], sizeof f->types[0], "%s", DEFAULT_TYPES[i]);
    } else if (!json_is_array(types) || json_array_size(types) == 0 || json_array_size(types) > MAX_TYPES) {
        rc = host->init_error(self, "\"types\" must be an array of 1 to 32 fee type names");
    } else {
        size_t i;
        json_t *t;
        json_array_foreach(types, i, t)
        {
            const char *s = json_string_value(t);
            if (!s || !*s || strlen(s) >= sizeof f->types[0]) {
                rc = host->init_error(self, "each of \"types\" must be a name of 1 to 32 characters");
                break;
            }
            snprintf(f->types[f->ntypes++], sizeof f->types[0], "%s", s);
        }
    }
    json_decref(cfg);
    return rc;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT(
        "fees", "1.0.0", "the fee ledger: every fee charged, its payer and scholarship cover; never refunded");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    SP_NEEDS_QUERIES(host, self);
    fees *f = calloc(1, sizeof *f);
    if (!f)
        return host->init_error(self, "out of memory");
    f->h = host;
    int rc = host->at_close(self, free, f);
    if (rc == CF_PLUGIN_OK)
        rc = configure(f, host, self, config_json);
    if (rc == CF_PLUGIN_OK && !sp_known_dialect(host, self))
        return host->init_error(self, "fees knows the SQL of SQLite and PostgreSQL only");
    if (rc == CF_PLUGIN_OK && sp_postgresql(host, self))
        rc = host->add_migration(
            self, 1,
            "CREATE TABLE fees_ledger("
            "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
            "  instance TEXT NOT NULL,"
            "  workflow TEXT NOT NULL,"
            "  county TEXT NOT NULL,"
            "  payer TEXT NOT NULL,"
            "  type TEXT NOT NULL,"
            "  amount bigint NOT NULL CHECK (amount > 0),"
            "  reason TEXT NOT NULL,"
            "  covered_by TEXT,"
            "  charged_at bigint NOT NULL,"
            "  charged_on TEXT NOT NULL,"
            "  event TEXT NOT NULL);"
            "CREATE INDEX fees_ledger_by_instance ON fees_ledger(instance, id);"
            "CREATE FUNCTION fees_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
            "  RAISE EXCEPTION 'fees_ledger is append-only: a fee is never changed, refunded or transferred (FEE_1)';"
            " END$$;"
            "CREATE TRIGGER fees_ledger_no_change BEFORE UPDATE OR DELETE ON fees_ledger"
            "  FOR EACH ROW EXECUTE FUNCTION fees_ledger_append_only();");
    else if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(
            self, 1,
            "CREATE TABLE fees_ledger("
            "  id INTEGER PRIMARY KEY,"
            "  instance TEXT NOT NULL,"
            "  workflow TEXT NOT NULL,"
            "  county TEXT NOT NULL,"
            "  payer TEXT NOT NULL,"
            "  type TEXT NOT NULL,"
            "  amount INTEGER NOT NULL CHECK (amount > 0),"
            "  reason TEXT NOT NULL,"
            "  covered_by TEXT,"
            "  charged_at INTEGER NOT NULL,"
            "  charged_on TEXT NOT NULL,"
            "  event TEXT NOT NULL);"
            "CREATE INDEX fees_ledger_by_instance ON fees_ledger(instance, id);"
            "CREATE TRIGGER fees_ledger_no_update BEFORE UPDATE ON fees_ledger BEGIN"
            "  SELECT RAISE(ABORT, 'fees_ledger is append-only: a fee is never changed, refunded or transferred (FEE_1)');"
            " END;"
            "CREATE TRIGGER fees_ledger_no_delete BEFORE DELETE ON fees_ledger BEGIN"
            "  SELECT RAISE(ABORT, 'fees_ledger is append-only: a fee is never changed, refunded or transferred (FEE_1)');"
            " END;");
    if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(
            self, 2,
            "CREATE TABLE fees_awards("
            "  award_id TEXT PRIMARY KEY,"
            "  pool TEXT NOT NULL,"
            "  holder TEXT NOT NULL,"
            "  status TEXT NOT NULL,"
            "  expires_on TEXT NOT NULL);"
            "CREATE TABLE fees_award_items("
            "  award_id TEXT NOT NULL REFERENCES fees_awards(award_id),"
            "  item TEXT NOT NULL,"
            "  amount INTEGER NOT NULL,"
            "  used_on TEXT,"
            "  PRIMARY KEY (award_id, item));");
    if (rc == CF_PLUGIN_OK) /* fees.awards and the holder check read awards by holder */
        rc = host->add_migration(self, 3, "CREATE INDEX fees_awards_by_holder ON fees_awards(holder, award_id);");
    if (rc == CF_PLUGIN_OK) /* the shipped scholarship workflow keeps each award here, not in the pool */
        rc = host->add_migration(self, 4,
                                 "ALTER TABLE fees_awards ADD COLUMN awarded_on TEXT;"
                                 "ALTER TABLE fees_awards ADD COLUMN ended_on TEXT;"
                                 "ALTER TABLE fees_awards ADD COLUMN returned BIGINT;"
                                 "ALTER TABLE fees_awards ADD COLUMN applicant TEXT;"
                                 "ALTER TABLE fees_awards ADD COLUMN pathway TEXT;"
                                 "ALTER TABLE fees_awards ADD COLUMN retake_by TEXT;"
                                 "ALTER TABLE fees_awards ADD COLUMN retake_on TEXT;"
                                 "ALTER TABLE fees_awards ADD COLUMN release_reason TEXT;"
                                 "ALTER TABLE fees_award_items ADD COLUMN paid_on TEXT;"
                                 "CREATE INDEX fees_awards_by_pool ON fees_awards(pool, status, expires_on);");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "fees_charge", charge, f);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "fees_sync_awards", sync_awards, f);
    static const char *const COVER_TYPES[3] = {"application", "exam", "retake"};
    static const char *const COVER_GUARDS[3] = {"fees_cover_application", "fees_cover_exam", "fees_cover_retake"};
    for (int i = 0; i < 3 && rc == CF_PLUGIN_OK; i++) {
        f->covers[i].f = f;
        f->covers[i].type = COVER_TYPES[i];
        rc = host->register_guard(self, COVER_GUARDS[i], cover_ok, &f->covers[i]);
    }
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "statement", statement, f, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "balance", balance, f, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "awards", awards_of, f, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "award", award_query, f, CF_PLUGIN_QUERY_READ);
    static const struct {
        const char *name;
        award_check check;
        int missing_ok;
    } AWARD_GUARDS[6] = {
        {"fees_award_usable", check_usable, 0},         {"fees_award_active", check_active, 0},
        {"fees_award_holder", check_holder, 1},         {"fees_award_item", check_item, 1},
        {"fees_award_retake_open", check_retake_open, 1}, {"fees_award_no_extension", check_no_extension, 0},
    };
    for (int i = 0; i < 6 && rc == CF_PLUGIN_OK; i++) {
        f->award_guards[i] = (award_guard){f, AWARD_GUARDS[i].check, AWARD_GUARDS[i].missing_ok};
        rc = host->register_guard(self, AWARD_GUARDS[i].name, award_guard_run, &f->award_guards[i]);
    }
    if (rc == CF_PLUGIN_OK)
        rc = host->register_guard(self, "fees_award_one_per_person", one_per_person, f);
    static const struct {
        const char *name;
        cf_plugin_action_fn fn;
    } AWARD_ACTIONS[5] = {{"fees_award_add", award_add},
                          {"fees_award_cover", award_cover},
                          {"fees_award_retake", award_retake},
                          {"fees_award_release", award_release},
                          {"fees_award_expire", award_expire}};
    for (int i = 0; i < 5 && rc == CF_PLUGIN_OK; i++)
        rc = host->register_action(self, AWARD_ACTIONS[i].name, AWARD_ACTIONS[i].fn, f);
    return rc;
}
