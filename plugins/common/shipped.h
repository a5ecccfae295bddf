/*
 * shipped.h — small helpers shared by the plugins certflow ships (fees, notices,
 * exam_results, registry_export): reading instance and event data as jansson
 * values, and running one statement on the plugin's own tables with bound values.
 * Header-only (static functions): each plugin is its own .so and links jansson itself.
 */
#ifndef CF_PLUGINS_SHIPPED_H
#define CF_PLUGINS_SHIPPED_H

#include <certflow/plugin.h>

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host keeps this plugin's tables on PostgreSQL: its DDL differs from SQLite's
 * (a key numbered by the database is an identity column there, and a trigger needs a
 * function). Its other SQL is the same on both. A host that does not know another
 * dialect than SQLite's answers no. A dialect neither of these is refused in init. */
static inline int sp_postgresql(const cf_host *h, cf_plugin *self)
{
    return CF_HOST_HAS(h, sql_dialect) && strcmp(h->sql_dialect(self), "postgresql") == 0;
}

static inline int sp_known_dialect(const cf_host *h, cf_plugin *self)
{
    return !CF_HOST_HAS(h, sql_dialect) || strcmp(h->sql_dialect(self), "sqlite") == 0 ||
           strcmp(h->sql_dialect(self), "postgresql") == 0;
}

/* One bound value: text (NULL binds SQL NULL) or an integer. */
typedef struct sp_val {
    int is_int;
    const char *text;
    int64_t num;
} sp_val;

#define SP_T(x) ((sp_val){0, (x), 0})
#define SP_I(x) ((sp_val){1, NULL, (x)})

/* A top-level field of the instance data (field NULL: all of it), as a new
 * reference; NULL when absent or unreadable. */
static inline json_t *sp_data(const cf_host *h, cf_call *call, const char *field)
{
    const char *text = NULL;
    if (h->data_get(call, field, &text) != CF_PLUGIN_OK || !text)
        return NULL;
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

/* The same for the event's data (a query's arguments). */
static inline json_t *sp_event(const cf_host *h, cf_call *call, const char *field)
{
    const char *text = NULL;
    if (h->event_data_get(call, field, &text) != CF_PLUGIN_OK || !text)
        return NULL;
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

/* A string member of obj, or dflt. */
static inline const char *sp_str(json_t *obj, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : dflt;
}

/* A member by dotted path ("appeal.review_due_on"); borrowed, NULL if absent. */
static inline json_t *sp_path(json_t *root, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    char *part = buf;
    while (v && part) {
        char *dot = strchr(part, '.');
        if (dot)
            *dot = '\0';
        v = json_object_get(v, part);
        part = dot ? dot + 1 : NULL;
    }
    return v;
}

/* strdup (not in ISO C11). */
static inline char *sp_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

/* set_error with printf formatting; returns CF_PLUGIN_ERROR. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline int sp_fail(const cf_host *h, cf_call *call, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return h->set_error(call, msg);
}

static inline int sp_bind(const cf_host *h, cf_stmt *st, const sp_val *v, int n)
{
    int rc = CF_PLUGIN_OK;
    for (int i = 0; i < n && rc == CF_PLUGIN_OK; i++)
        rc = v[i].is_int ? h->sql_bind_int(st, i + 1, v[i].num) : h->sql_bind_text(st, i + 1, v[i].text);
    return rc;
}

/* Run one statement that returns no rows. */
static inline int sp_exec(const cf_host *h, cf_call *call, const char *sql, const sp_val *v, int n)
{
    cf_stmt *st = NULL;
    int rc = h->sql_prepare(call, sql, &st);
    if (rc == CF_PLUGIN_OK)
        rc = sp_bind(h, st, v, n);
    if (rc == CF_PLUGIN_OK) {
        while ((rc = h->sql_step(st)) == CF_PLUGIN_ROW)
            ;
        if (rc == CF_PLUGIN_DONE)
            rc = CF_PLUGIN_OK;
    }
    if (st)
        h->sql_finish(st);
    return rc;
}

/* Run a query and append each row to *rows (a JSON array) as an object whose
 * members are named by cols; types[i] says how column i reads: 't' text (or
 * null), 'i' integer, 'j' JSON text parsed. */
static inline int sp_select(const cf_host *h, cf_call *call, const char *sql, const sp_val *v, int n,
                            const char *const *cols, const char *types, json_t *rows)
{
    cf_stmt *st = NULL;
    int rc = h->sql_prepare(call, sql, &st);
    if (rc == CF_PLUGIN_OK)
        rc = sp_bind(h, st, v, n);
    while (rc == CF_PLUGIN_OK && (rc = h->sql_step(st)) == CF_PLUGIN_ROW) {
        json_t *row = json_object();
        for (int c = 0; row && types[c]; c++) {
            const char *text = h->sql_column_text(st, c);
            json_t *val = !text ? json_null()
                          : types[c] == 'i' ? json_integer(h->sql_column_int(st, c))
                          : types[c] == 'j' ? json_loads(text, JSON_DECODE_ANY, NULL)
                                            : json_string(text);
            json_object_set_new(row, cols[c], val ? val : json_null());
        }
        if (!row || json_array_append_new(rows, row) != 0) {
            rc = sp_fail(h, call, "out of memory reading rows");
            break;
        }
        rc = CF_PLUGIN_OK;
    }
    if (rc == CF_PLUGIN_DONE)
        rc = CF_PLUGIN_OK;
    if (st)
        h->sql_finish(st);
    return rc;
}

/* Give a query's answer (steals doc). */
static inline int sp_answer(const cf_host *h, cf_call *call, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(doc);
    if (!text)
        return sp_fail(h, call, "out of memory building the answer");
    int rc = h->query_result(call, text);
    free(text);
    return rc;
}

/* Check at init that the host has the query functions (certflow 0.1.0 and later). */
#define SP_NEEDS_QUERIES(host, self)                                                                    \
    do {                                                                                                \
        if (!CF_HOST_HAS(host, register_query) || !CF_HOST_HAS(host, query_result))                    \
            return (host)->init_error((self), "this certflow has no plugin queries (register_query): "  \
                                              "upgrade certflow");                                    \
    } while (0)

#endif
