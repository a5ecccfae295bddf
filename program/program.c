/*
 * program.c — the shipped program seen from outside: dates in the program's
 * zone, the public registry (only public fields ever leave this file) and the
 * figures of the yearly report, all read through the public API (its dates
 * too: the engine's calendar and time zone).
 */
#include "program.h"

#include "../plugins/common/registry_row.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- Dates ---- */

int prog_parse_date(const char *s, int64_t *day)
{
    int64_t d;
    int year;
    if (cf_date_parse(s, &d) != CF_OK || cf_date_to_civil(d, &year, NULL, NULL) != CF_OK || year < 1900)
        return -1;
    *day = d;
    return 0;
}

const char *prog_format_date(int64_t day, char buf[11])
{
    if (cf_date_format(day, buf, 11) != CF_OK)
        buf[0] = '\0';
    return buf;
}

int prog_add_years(int64_t day, int years, int64_t *out)
{
    int y, m, d;
    int64_t first;
    int rc = cf_date_to_civil(day, &y, &m, &d);
    if (rc == CF_OK && (years > 9999 || years < -9999))
        rc = CF_EINVAL;
    if (rc == CF_OK)
        rc = cf_date_from_civil(y + years, m, 1, &first);
    if (rc == CF_OK && cf_date_to_civil(first + d - 1, NULL, NULL, NULL) != CF_OK)
        rc = CF_EINVAL;
    if (rc == CF_OK)
        *out = first + d - 1;
    return rc;
}

/* ---- Registry ---- */

const char *const prog_status_names[PROG_NSTATUS] = {"active", "lapsed", "suspended", "revoked"};

/* The certification states in which nobody holds or held a certification; the
 * others are in plugins/common/registry_row.h, the registry's own definition. */
static const struct {
    const char *state;
    int status;
} STATES[] = {
    {"draft", -1},
    {"submitted", -1},
    {"approved", -1},
    {"denied", -1},
    {"denial_appealed", -1},
    {"denial_final", -1},
    {"window_closed", -1},
    {"exhausted", -1},
    {"withdrawn", -1},
};

int prog_status_of(const char *state, const char *hint, const char *expires_on, int64_t today)
{
    if (!state)
        return -1;
    const char *held = rr_status_of_state(state);
    if (held)
        return prog_status_find(held);
    for (size_t i = 0; i < sizeof STATES / sizeof STATES[0]; i++)
        if (strcmp(STATES[i].state, state) == 0)
            return STATES[i].status;
    /* A state the table does not name: the status the record keeps
     * (data.registry_status), else the expiry date decides. */
    int s = prog_status_find(hint);
    if (s >= 0)
        return s;
    int64_t exp;
    if (expires_on && prog_parse_date(expires_on, &exp) == 0)
        return exp >= today ? PROG_ACTIVE : PROG_LAPSED;
    return -1;
}

int prog_status_find(const char *name)
{
    for (int i = 0; name && i < PROG_NSTATUS; i++)
        if (strcmp(prog_status_names[i], name) == 0)
            return i;
    return -1;
}

static const char *str_field(json_t *data, const char *key)
{
    const char *v = json_string_value(json_object_get(data, key));
    return v ? v : "";
}

static void entry_clear(prog_entry *r)
{
    free(r->number);
    free(r->name);
    free(r->issued_on);
    free(r->expires_on);
    free(r->specializations);
    json_decref(r->spec_array);
    free(r->county);
    memset(r, 0, sizeof *r);
}

typedef struct load_ctx {
    prog_registry *reg;
    int64_t today;
    int oom;
} load_ctx;

/* One row per certification, as plugins/common/registry_row.h defines it (the
 * registry_export plugin keeps the same rows): status from the state, public
 * fields from data the workflow owns. */
static int load_row(void *ud, const cf_instance_info *info)
{
    load_ctx *c = ud;
    json_t *data = json_loads(info->data ? info->data : "{}", 0, NULL), *row = NULL;
    if (rr_row_build(info->state, info->county, data, &row) != 0) {
        json_decref(data);
        c->oom = 1;
        return 1;
    }
    json_decref(data);
    if (!row)
        return 0;
    prog_registry *reg = c->reg;
    if (reg->count == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 64;
        prog_entry *grown = realloc(reg->rows, cap * sizeof *grown);
        if (!grown) {
            c->oom = 1;
            json_decref(row);
            return 1;
        }
        reg->rows = grown;
        reg->cap = cap;
    }
    prog_entry *r = &reg->rows[reg->count];
    memset(r, 0, sizeof *r);
    r->number = strdup(str_field(row, "certification_number"));
    r->name = strdup(str_field(row, "name"));
    r->status = prog_status_find(str_field(row, "status"));
    r->issued_on = strdup(str_field(row, "issued_on"));
    r->expires_on = strdup(str_field(row, "expires_on"));
    r->county = strdup(str_field(row, "county"));
    r->spec_array = json_incref(json_object_get(row, "specializations"));
    r->specializations = rr_join_specializations(r->spec_array);
    json_decref(row);
    if (!r->number || !r->name || !r->issued_on || !r->expires_on || !r->county || !r->spec_array ||
        !r->specializations || r->status < 0) {
        entry_clear(r);
        c->oom = 1;
        return 1;
    }
    if (info->updated_at > reg->updated_at)
        reg->updated_at = info->updated_at;
    reg->count++;
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const prog_entry *x = a, *y = b;
    int c = strcmp(x->number, y->number);
    return c ? c : strcmp(x->name, y->name);
}

int prog_registry_load(cf_engine *e, int64_t today, prog_registry *reg)
{
    memset(reg, 0, sizeof *reg);
    cf_instance_filter f = CF_INSTANCE_FILTER_INIT;
    f.workflow = "certification";
    load_ctx c = {reg, today, 0};
    int rc = cf_instance_list(e, &f, load_row, &c);
    if (rc == CF_OK && c.oom)
        rc = CF_ENOMEM;
    if (rc != CF_OK) {
        prog_registry_free(reg);
        return rc;
    }
    if (reg->count > 1)
        qsort(reg->rows, reg->count, sizeof reg->rows[0], entry_cmp);
    return CF_OK;
}

void prog_registry_free(prog_registry *reg)
{
    for (size_t i = 0; i < reg->count; i++)
        entry_clear(&reg->rows[i]);
    free(reg->rows);
    memset(reg, 0, sizeof *reg);
}

json_t *prog_entry_json(const prog_entry *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "certification_number", json_string(r->number));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "status", json_string(prog_status_names[r->status]));
    json_object_set_new(o, "issued_on", json_string(r->issued_on));
    json_object_set_new(o, "expires_on", json_string(r->expires_on));
    json_object_set_new(o, "specializations", json_deep_copy(r->spec_array));
    json_object_set_new(o, "county", json_string(r->county));
    return o;
}
