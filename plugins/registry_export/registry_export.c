/*
 * registry_export.c — the registry_export plugin: keeps the public registry
 * (REG_2: name, certification number, status, issue and expiry dates,
 * specializations, county; never any other field) in its own table, updated by
 * an action on entering each certification state, and writes it as
 * registry.csv and registry.json into a configured folder on every change and
 * on demand. docs/plugins.md, "registry_export".
 *
 * Files go only under the folder the operator configured ("dir" in the
 * plugin's configuration): a query can name a subfolder of it, nothing else
 * (docs/plugins.md, "Files a plugin writes").
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath, O_NOFOLLOW */
#endif
#include "../common/registry_row.h"
#include "../common/shipped.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct reg {
    const cf_host *h;
    char *dir; /* configured folder, resolved (realpath), or NULL: the table only */
} reg;

static void free_reg(void *ud)
{
    reg *r = ud;
    free(r->dir);
    free(r);
}

/* The public columns, in file order: RR_COLUMNS (plugins/common/registry_row.h),
 * the order of `certflow registry export`. */

static int load_rows(const cf_host *h, cf_call *call, json_t *rows)
{
    return sp_select(h, call,
                     "SELECT certification_number, name, status, issued_on, expires_on, specializations, county"
                     " FROM registry_export_rows ORDER BY certification_number, name",
                     NULL, 0, RR_COLUMNS, "tttttjt", rows);
}

/* Write path through path.tmp and a rename, so a reader never sees half a file. */
static int write_file(const cf_host *h, cf_call *call, const char *dir, const char *name, json_t *rows, int as_json)
{
    char path[4096], tmp[4200];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) /* a cut path could name another file */
        return sp_fail(h, call, "the path of %s in %.200s... is too long (choose a shorter folder)", name, dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* Never through a symbolic link planted at the temporary name. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sp_fail(h, call, "cannot write %s: %s (check the plugin's \"dir\")", tmp, strerror(e));
    }
    if (as_json) {
        char *text = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) {
            fputs(text, f);
            fputc('\n', f);
        }
        free(text);
    } else {
        rr_csv_header(f);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            if (rr_csv_row(f, r) != 0) {
                fclose(f);
                remove(tmp);
                return sp_fail(h, call, "out of memory writing %s", path);
            }
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

/* Action registry_export_update: the instance's public row as
 * plugins/common/registry_row.h defines it (status from the state entered, the
 * other public fields from data the workflow owns), or no row when the state
 * holds no certification; then the files. */
static int update(cf_call *call, void *ud)
{
    const reg *r = ud;
    const cf_host *h = r->h;
    /* Only the fields a registry row is made of (rr_row_build), each read on its own: the
     * host hands over just that field's text instead of the whole document to parse. */
    static const char *const FIELDS[] = {"certification_number", "name", "issued_on", "expires_on",
                                         "specializations"};
    json_t *data = json_object(), *row = NULL;
    if (!data)
        return sp_fail(h, call, "out of memory reading the instance data of %s", h->instance_id(call));
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        json_t *v = sp_data(h, call, FIELDS[i]);
        if (v && json_object_set_new(data, FIELDS[i], v) != 0) {
            json_decref(data);
            return sp_fail(h, call, "out of memory reading the instance data of %s", h->instance_id(call));
        }
    }
    int built = rr_row_build(h->state(call), h->county(call), data, &row);
    json_decref(data);
    if (built != 0)
        return sp_fail(h, call, "out of memory building the registry row of %s", h->instance_id(call));
    int rc;
    if (!row) {
        const sp_val v[] = {SP_T(h->instance_id(call))};
        rc = sp_exec(h, call, "DELETE FROM registry_export_rows WHERE instance = ?1", v, 1);
        if (rc == CF_PLUGIN_OK && h->sql_changes(call) == 0)
            return CF_PLUGIN_OK; /* not in the registry, and never was: nothing to write */
    } else {
        char *spec_text = json_dumps(json_object_get(row, "specializations"), JSON_COMPACT);
        const sp_val v[] = {SP_T(h->instance_id(call)),
                            SP_T(sp_str(row, "certification_number", "")),
                            SP_T(sp_str(row, "name", "")),
                            SP_T(sp_str(row, "status", "")),
                            SP_T(sp_str(row, "issued_on", "")),
                            SP_T(sp_str(row, "expires_on", "")),
                            SP_T(spec_text ? spec_text : "[]"),
                            SP_T(sp_str(row, "county", "")),
                            SP_I(h->now(call))};
        rc = sp_exec(h, call,
                     "INSERT INTO registry_export_rows(instance, certification_number, name, status, issued_on,"
                     " expires_on, specializations, county, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                     " ON CONFLICT(instance) DO UPDATE SET certification_number = ?2, name = ?3, status = ?4,"
                     " issued_on = ?5, expires_on = ?6, specializations = ?7, county = ?8, updated_at = ?9",
                     v, 9);
        free(spec_text);
        json_decref(row);
    }
    /* A preview (certflow explain) is rolled back: its rows are shown, the files stay as they are. */
    int previewing = CF_HOST_HAS(h, previewing) && h->previewing(call);
    if (rc == CF_PLUGIN_OK && r->dir && !previewing)
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

/* The folder an export writes to (*out, malloc'd, resolved): the configured
 * one, or the subfolder of it that the query's "dir" names. Anything that would
 * resolve elsewhere is refused with the configured folder named: an empty or
 * absolute path, a ".." component, a symbolic link leading out. */
static int export_dir(const reg *r, cf_call *call, json_t *given, char **out)
{
    const cf_host *h = r->h;
    *out = NULL;
    if (!r->dir)
        return sp_fail(h, call,
                       "no export folder is configured: the operator sets the plugin's \"dir\" (options.plugin_config "
                       "{\"registry_export\": {\"dir\": \"/srv/registry\"}}, or certflow --plugin-config); a "
                       "query's \"dir\" can only name a subfolder of it");
    if (!given || json_is_null(given))
        return (*out = sp_strdup(r->dir)) ? CF_PLUGIN_OK : sp_fail(h, call, "out of memory");
    if (!json_is_string(given))
        return sp_fail(h, call, "\"dir\" must be text naming a subfolder of the configured folder %s", r->dir);
    const char *sub = json_string_value(given);
    size_t len = json_string_length(given);
    if (len == 0 || strlen(sub) != len)
        return sp_fail(h, call,
                       "\"dir\" is empty or holds a NUL byte: name a subfolder of the configured folder %s, or leave "
                       "\"dir\" out to export there",
                       r->dir);
    if (sub[0] == '/')
        return sp_fail(h, call,
                       "\"dir\" %.200s is an absolute path: exports go only under the configured folder %s; name a "
                       "subfolder relative to it",
                       sub, r->dir);
    for (const char *p = sub; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return sp_fail(h, call,
                           "\"dir\" %.200s goes up with '..': exports go only under the configured folder %s", sub,
                           r->dir);
        p += n;
        while (*p == '/')
            p++;
    }
    size_t jlen = strlen(r->dir) + 1 + len + 1;
    char *joined = malloc(jlen);
    if (!joined)
        return sp_fail(h, call, "out of memory");
    snprintf(joined, jlen, "%s/%s", r->dir, sub);
    char *real = realpath(joined, NULL);
    int e = errno;
    free(joined);
    if (!real)
        return sp_fail(h, call, "\"dir\" %.200s: %s (create it as a subfolder of the configured folder %s)", sub,
                       strerror(e), r->dir);
    size_t root = strlen(r->dir);
    int inside = strcmp(r->dir, "/") == 0 ||
                 (strncmp(real, r->dir, root) == 0 && (real[root] == '\0' || real[root] == '/'));
    struct stat st;
    if (!inside) {
        int rc = sp_fail(h, call,
                         "\"dir\" %.200s leads to %.200s, outside the configured folder %s (a symbolic link out?): "
                         "exports go only under it",
                         sub, real, r->dir);
        free(real);
        return rc;
    }
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int rc = sp_fail(h, call, "\"dir\" %.200s is not a folder (name a subfolder of the configured folder %s)",
                         sub, r->dir);
        free(real);
        return rc;
    }
    *out = real;
    return CF_PLUGIN_OK;
}

/* Query registry_export.export {"dir": SUBFOLDER} (optional: the configured
 * folder itself): write both files now. */
static int export_query(cf_call *call, void *ud, const char *args)
{
    const reg *r = ud;
    const cf_host *h = r->h;
    (void)args;
    json_t *given = sp_event(h, call, "dir");
    char *dir = NULL;
    int rc = export_dir(r, call, given, &dir);
    json_decref(given);
    if (rc != CF_PLUGIN_OK)
        return rc;
    size_t n = 0;
    rc = write_files(h, call, dir, &n);
    json_t *doc = rc == CF_PLUGIN_OK ? json_pack("{s:i, s:s+, s:s+}", "rows", (int)n, "csv", dir, "/registry.csv",
                                                 "json", dir, "/registry.json")
                                     : NULL;
    free(dir);
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
        /* Resolved once: every export is checked against this folder. */
        char *real = realpath(dir, NULL);
        struct stat st;
        int fd = -1;
        char test[4200];
        if (real && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(test, sizeof test, "%s/.registry_export_probe", real);
            fd = open(test, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        } else if (real) {
            errno = ENOTDIR;
        }
        if (fd < 0) {
            char msg[4400];
            snprintf(msg, sizeof msg, "\"dir\" %s is not a writable folder (%s): create it or fix the configuration",
                     dir, strerror(errno));
            free(real);
            return host->init_error(self, msg);
        }
        close(fd);
        remove(test);
        r->dir = real;
    } else if (rc == CF_PLUGIN_OK && got != CF_PLUGIN_OK && got != CF_PLUGIN_ENOTFOUND) {
        return host->init_error(self, "\"dir\" must be a folder name (text, at most 4095 bytes)");
    }
    if (rc == CF_PLUGIN_OK && !sp_known_dialect(host, self))
        return host->init_error(self, "registry_export knows the SQL of SQLite and PostgreSQL only");
    /* The same table on both: its key is the instance, and updated_at fits a bigint on PostgreSQL. */
    if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(self, 1,
                                 sp_postgresql(host, self) ?
                                 "CREATE TABLE registry_export_rows("
                                 "  instance TEXT PRIMARY KEY,"
                                 "  certification_number TEXT NOT NULL,"
                                 "  name TEXT,"
                                 "  status TEXT,"
                                 "  issued_on TEXT,"
                                 "  expires_on TEXT,"
                                 "  specializations TEXT NOT NULL,"
                                 "  county TEXT NOT NULL,"
                                 "  updated_at bigint NOT NULL);" :
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
