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

typedef struct fees {
    const cf_host *h;
    char types[MAX_TYPES][33]; /* the fee types the ledger accepts */
    int ntypes;
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
    return sp_exec(h, call,
                   "INSERT INTO fees_ledger(instance, workflow, county, payer, type, amount, reason, covered_by,"
                   " charged_at, charged_on, event) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                   v, 11);
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
    if (rc == CF_PLUGIN_OK)
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
        rc = host->register_action(self, "fees_charge", charge, f);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "statement", statement, f, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "balance", balance, f, CF_PLUGIN_QUERY_READ);
    return rc;
}
