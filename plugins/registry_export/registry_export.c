/*
 * registry_export.c — the registry_export plugin: keeps the public registry
 * (REG_2: name, certification number, status, issue and expiry dates,
 * specializations, county; never any other field) in its own table, updated by
 * an action on entering each certification state, and writes it as
 * registry.csv and registry.json into a configured folder on every change and
 * on demand. docs/plugins.md, "registry_export".
 */
#include "../common/shipped.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct reg {
    const cf_host *h;
    char *dir; /* configured folder, or NULL: the table only */
} reg;

static void free_reg(void *ud)
{
    reg *r = ud;
    free(r->dir);
    free(r);
}

/* The public columns, in file order (the order of `certflow registry export`). */
static const char *const COLS[] = {"certification_number", "name", "status", "issued_on", "expires_on",
                                   "specializations", "county"};
#define NCOLS 7

static int load_rows(const cf_host *h, cf_call *call, json_t *rows)
{
    return sp_select(h, call,
                     "SELECT certification_number, name, status, issued_on, expires_on, specializations, county"
                     " FROM registry_export_rows ORDER BY certification_number",
                     NULL, 0, COLS, "tttttjt", rows);
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Write path through path.tmp and a rename, so a reader never sees half a file. */
static int write_file(const cf_host *h, cf_call *call, const char *dir, const char *name, json_t *rows, int as_json)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return sp_fail(h, call, "cannot write %s: %s (check the plugin's \"dir\")", tmp, strerror(errno));
    if (as_json) {
        char *text = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) {
            fputs(text, f);
            fputc('\n', f);
        }
        free(text);
    } else {
        for (int c = 0; c < NCOLS; c++)
            fprintf(f, "%s%s", c ? "," : "", COLS[c]);
        fputs("\r\n", f);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            for (int c = 0; c < NCOLS; c++) {
                if (c)
                    fputc(',', f);
                json_t *v = json_object_get(r, COLS[c]);
                if (json_is_array(v)) { /* specializations: a;b */
                    size_t k;
                    json_t *s;
                    char buf[512] = "";
                    json_array_foreach(v, k, s)
                    {
                        size_t used = strlen(buf);
                        snprintf(buf + used, sizeof buf - used, "%s%s", k ? ";" : "", json_string_value(s));
                    }
                    csv_field(f, buf);
                } else {
                    csv_field(f, json_is_string(v) ? json_string_value(v) : "");
                }
            }
            fputs("\r\n", f);
        }
    }
    int bad = ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return sp_fail(h, call, "cannot write %s: %s", path, strerror(e));
    }
    return CF_PLUGIN_OK;
}

static int write_files(const cf_host *h, cf_call *call, const char *dir, size_t *count)
{
    json_t *rows = json_array();
    int rc = load_rows(h, call, rows);
    if (rc == CF_PLUGIN_OK)
        rc = write_file(h, call, dir, "registry.csv", rows, 0);
    if (rc == CF_PLUGIN_OK)
        rc = write_file(h, call, dir, "registry.json", rows, 1);
    if (count)
        *count = json_array_size(rows);
    json_decref(rows);
    return rc;
}

/* Action registry_export_update: the instance's public row (once it has a
 * certification number), then the files. Only public fields are read. */
static int update(cf_call *call, void *ud)
{
    const reg *r = ud;
    const cf_host *h = r->h;
    json_t *number = sp_data(h, call, "certification_number");
    if (!json_is_string(number)) {
        json_decref(number);
        return CF_PLUGIN_OK; /* not certified yet: not in the registry */
    }
    json_t *name = sp_data(h, call, "name"), *status = sp_data(h, call, "registry_status"),
           *issued = sp_data(h, call, "issued_on"), *expires = sp_data(h, call, "expires_on"),
           *specs = sp_data(h, call, "specializations");
    json_t *clean = json_array(); /* strings only */
    size_t i;
    json_t *s;
    json_array_foreach(specs, i, s)
    {
        if (json_is_string(s))
            json_array_append(clean, s);
    }
    char *spec_text = json_dumps(clean, JSON_COMPACT);
    const sp_val v[] = {SP_T(h->instance_id(call)), SP_T(json_string_value(number)), SP_T(json_string_value(name)),
                        SP_T(json_string_value(status)), SP_T(json_string_value(issued)),
                        SP_T(json_string_value(expires)), SP_T(spec_text ? spec_text : "[]"), SP_T(h->county(call)),
                        SP_I(h->now(call))};
    int rc = sp_exec(h, call,
                     "INSERT INTO registry_export_rows(instance, certification_number, name, status, issued_on,"
                     " expires_on, specializations, county, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                     " ON CONFLICT(instance) DO UPDATE SET certification_number = ?2, name = ?3, status = ?4,"
                     " issued_on = ?5, expires_on = ?6, specializations = ?7, county = ?8, updated_at = ?9",
                     v, 9);
    free(spec_text);
    json_decref(clean);
    json_decref(number);
    json_decref(name);
    json_decref(status);
    json_decref(issued);
    json_decref(expires);
    json_decref(specs);
    if (rc == CF_PLUGIN_OK && r->dir)
        rc = write_files(h, call, r->dir, NULL);
    return rc;
}

/* Query registry_export.rows {}: the public rows, by certification number. */
static int rows_query(cf_call *call, void *ud, const char *args)
{
    const reg *r = ud;
    (void)args;
    json_t *rows = json_array();
    int rc = load_rows(r->h, call, rows);
    if (rc != CF_PLUGIN_OK) {
        json_decref(rows);
        return rc;
    }
    return sp_answer(r->h, call, rows);
}

/* Query registry_export.export {"dir": DIR} (dir optional: the configured one): write both files now. */
static int export_query(cf_call *call, void *ud, const char *args)
{
    const reg *r = ud;
    const cf_host *h = r->h;
    (void)args;
    json_t *given = sp_event(h, call, "dir");
    const char *dir = json_is_string(given) ? json_string_value(given) : r->dir;
    if (!dir) {
        json_decref(given);
        return sp_fail(h, call, "no folder to export to: give {\"dir\": DIR} or configure the plugin's \"dir\"");
    }
    size_t n = 0;
    int rc = write_files(h, call, dir, &n);
    json_t *doc = rc == CF_PLUGIN_OK ? json_pack("{s:i, s:s+, s:s+}", "rows", (int)n, "csv", dir, "/registry.csv",
                                                 "json", dir, "/registry.json")
                                     : NULL;
    json_decref(given);
    return rc == CF_PLUGIN_OK ? sp_answer(h, call, doc) : rc;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT(
        "registry_export", "1.0.0", "writes the public registry (REG_2 fields only) as CSV and JSON on every change");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    SP_NEEDS_QUERIES(host, self);
    reg *r = calloc(1, sizeof *r);
    if (!r)
        return host->init_error(self, "out of memory");
    r->h = host;
    int rc = host->at_close(self, free_reg, r);
    char dir[4096];
    int got = host->json_field(config_json, "dir", dir, sizeof dir);
    if (rc == CF_PLUGIN_OK && got == CF_PLUGIN_OK && *dir) {
        FILE *probe = NULL;
        char test[4200];
        snprintf(test, sizeof test, "%s/.registry_export_probe", dir);
        if (!(probe = fopen(test, "wb"))) {
            char msg[4400];
            snprintf(msg, sizeof msg, "\"dir\" %s is not a writable folder (%s): create it or fix the configuration",
                     dir, strerror(errno));
            return host->init_error(self, msg);
        }
        fclose(probe);
        remove(test);
        if (!(r->dir = sp_strdup(dir)))
            return host->init_error(self, "out of memory");
    } else if (rc == CF_PLUGIN_OK && got != CF_PLUGIN_OK && got != CF_PLUGIN_ENOTFOUND) {
        return host->init_error(self, "\"dir\" must be a folder name (text, at most 4095 bytes)");
    }
    if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(self, 1,
                                 "CREATE TABLE registry_export_rows("
                                 "  instance TEXT PRIMARY KEY,"
                                 "  certification_number TEXT NOT NULL,"
                                 "  name TEXT,"
                                 "  status TEXT,"
                                 "  issued_on TEXT,"
                                 "  expires_on TEXT,"
                                 "  specializations TEXT NOT NULL,"
                                 "  county TEXT NOT NULL,"
                                 "  updated_at INTEGER NOT NULL);");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "registry_export_update", update, r);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "rows", rows_query, r, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "export", export_query, r, CF_PLUGIN_QUERY_READ);
    return rc;
}
