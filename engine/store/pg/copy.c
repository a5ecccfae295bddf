/*
 * copy.c — the PostgreSQL backend's side of store copy (store.h, "copying a whole
 * database"): the engine's tables in the schema certflow, under the names and
 * columns every backend shares. The SQL is built from the constant table list
 * (cf__copy_tables), never from data; values are parameters, and the server
 * casts each to its column's type. After the copy, the serial sequence and the
 * identity columns continue after the largest copied value.
 */
#include "store/pg/pg_private.h"

#include <stdio.h>
#include <string.h>

/* Append plugin.table (or a column name alone, table NULL) as quoted identifiers. */
static void quote(cf__buf *b, const char *name)
{
    cf__buf_append(b, "\"", 1);
    for (const char *c = name; *c; c++)
        cf__buf_append(b, *c == '"' ? "\"\"" : c, *c == '"' ? 2 : 1);
    cf__buf_append(b, "\"", 1);
}

static void qualified(cf__buf *b, const char *plugin, const char *table)
{
    quote(b, plugin);
    cf__buf_append(b, ".", 1);
    quote(b, table);
}

static int check_conn(cf__pg *s, const char *what, cf__err *err)
{
    if (s->lost)
        return cf__fail(err, CF_EIO,
                        "%s: the connection to %s was lost earlier; open the engine again once the server is reachable",
                        what, s->name);
    return CF_OK;
}

int cf__pg_copy_each(cf__pg *s, const cf__copy_table *t, cf__copy_row_fn fn, void *ud, cf__err *err)
{
    int r = check_conn(s, "reading the rows to copy", err);
    if (r != CF_OK)
        return r;
    char sql[512];
    const char *comma = strchr(t->columns, ',');
    snprintf(sql, sizeof sql, "SELECT %s FROM certflow.%s ORDER BY %.*s", t->columns, t->name,
             (int)(comma - t->columns), t->columns);
    PGresult *res = PQexecParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = cf__pg_fail(s, res, "reading the rows to copy", err);
        PQclear(res);
        return r;
    }
    const char *v[32];
    int n = PQntuples(res);
    for (int row = 0; row < n && r == CF_OK; row++) {
        for (int i = 0; i < t->ncolumns; i++)
            v[i] = PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
        r = fn(ud, v);
    }
    PQclear(res);
    return r;
}

int cf__pg_copy_put(cf__pg *s, const cf__copy_table *t, const char *const *values, cf__err *err)
{
    int r = check_conn(s, "writing a copied row", err);
    if (r != CF_OK)
        return r;
    char sql[640], marks[160] = "";
    size_t n = 0;
    for (int i = 0; i < t->ncolumns; i++)
        n += (size_t)snprintf(marks + n, sizeof marks - n, i ? ", $%d" : "$%d", i + 1);
    /* Identity columns take the copied ids as they are. */
    snprintf(sql, sizeof sql, "INSERT INTO certflow.%s(%s) OVERRIDING SYSTEM VALUE VALUES(%s)", t->name, t->columns,
             marks);
    PGresult *res = PQexecParams(s->conn, sql, t->ncolumns, NULL, values, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        r = cf__pg_fail(s, res, "writing a copied row", err);
    PQclear(res);
    return r;
}

int cf__pg_copy_count(cf__pg *s, const cf__copy_table *t, int64_t *rows, cf__err *err)
{
    int r = check_conn(s, "counting rows", err);
    if (r != CF_OK)
        return r;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM certflow.%s", t->name);
    PGresult *res = PQexecParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        r = cf__pg_fail(s, res, "counting rows", err);
    else
        *rows = cf__pg_int(res, 0, 0);
    PQclear(res);
    return r;
}

int cf__pg_copy_finish(cf__pg *s, cf__err *err)
{
    /* setval(NULL) leaves a sequence as it is: an empty table moves nothing. */
    static const char *const sql[] = {
        "SELECT setval('certflow.instance_serial', max(serial)) FROM certflow.instance",
        "SELECT setval(pg_get_serial_sequence('certflow.timer', 'id'), max(id)) FROM certflow.timer",
        "SELECT setval(pg_get_serial_sequence('certflow.outbox', 'id'), max(id)) FROM certflow.outbox",
        "SELECT setval(pg_get_serial_sequence('certflow.policy_change', 'seq'), max(seq)) FROM certflow.policy_change",
        "SELECT setval(pg_get_serial_sequence('certflow.api_token', 'id'), max(id)) FROM certflow.api_token",
        "SELECT setval(pg_get_serial_sequence('certflow.webhook', 'id'), max(id)) FROM certflow.webhook",
    };
    int r = check_conn(s, "moving the sequences on after the copy", err);
    for (size_t i = 0; r == CF_OK && i < sizeof sql / sizeof sql[0]; i++) {
        PGresult *res = PQexecParams(s->conn, sql[i], 0, NULL, NULL, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
            r = cf__pg_fail(s, res, "moving the sequences on after the copy", err);
        PQclear(res);
    }
    return r;
}

int cf__pg_copy_plugin_tables(cf__pg *s, cf__copy_plugin_fn fn, void *ud, cf__err *err)
{
    /* A plugin's tables are those of the schema named after it (docs/plugins.md). */
    int r = check_conn(s, "listing the plugin tables", err);
    if (r != CF_OK)
        return r;
    PGresult *res = PQexecParams(s->conn,
                                 "SELECT p.plugin, c.relname FROM certflow.plugin_schema p"
                                 " JOIN pg_namespace n ON n.nspname = p.plugin"
                                 " JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'"
                                 " ORDER BY p.plugin, c.oid",
                                 0, NULL, NULL, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = cf__pg_fail(s, res, "listing the plugin tables", err);
        PQclear(res);
        return r;
    }
    for (int i = 0; i < PQntuples(res) && r == CF_OK; i++)
        r = fn(ud, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    return r;
}

/* Run q (freed here) with n text parameters; *res gets a result of status want, or the failure is mapped. */
static int run_built(cf__pg *s, cf__buf *q, int n, const char *const *values, ExecStatusType want, PGresult **res,
                     const char *what, cf__err *err)
{
    *res = NULL;
    int r = check_conn(s, what, err);
    if (r == CF_OK && q->oom)
        r = cf__fail(err, CF_ENOMEM, "%s: out of memory", what);
    if (r == CF_OK) {
        *res = PQexecParams(s->conn, q->data, n, NULL, values, NULL, NULL, 0);
        if (!*res || PQresultStatus(*res) != want) {
            r = cf__pg_fail(s, *res, what, err);
            PQclear(*res);
            *res = NULL;
        }
    }
    cf__buf_free(q);
    return r;
}

int cf__pg_copy_plugin_each(cf__pg *s, const char *plugin, const char *table, cf__copy_prow_fn fn, void *ud,
                            cf__err *err)
{
    cf__buf q = {0};
    cf__buf_puts(&q, "SELECT * FROM ");
    qualified(&q, plugin, table);
    cf__buf_puts(&q, " ORDER BY 1");
    PGresult *res = NULL;
    int r = run_built(s, &q, 0, NULL, PGRES_TUPLES_OK, &res, "reading a plugin table to copy", err);
    if (r != CF_OK)
        return r;
    int n = PQnfields(res);
    if (n > 64) {
        PQclear(res);
        return cf__fail(err, CF_EINVAL, "the plugin table %s.%s has %d columns; store copy moves at most 64", plugin,
                        table, n);
    }
    const char *names[64], *v[64];
    for (int i = 0; i < n; i++)
        names[i] = PQfname(res, i);
    for (int row = 0; row < PQntuples(res) && r == CF_OK; row++) {
        for (int i = 0; i < n; i++)
            v[i] = PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
        r = fn(ud, n, names, v);
    }
    PQclear(res);
    return r;
}

int cf__pg_copy_plugin_put(cf__pg *s, const char *plugin, const char *table, int n, const char *const *names,
                           const char *const *values, cf__err *err)
{
    cf__buf q = {0};
    cf__buf_puts(&q, "INSERT INTO ");
    qualified(&q, plugin, table);
    cf__buf_puts(&q, "(");
    for (int i = 0; i < n; i++) {
        if (i)
            cf__buf_puts(&q, ", ");
        quote(&q, names[i]);
    }
    cf__buf_puts(&q, ") OVERRIDING SYSTEM VALUE VALUES(");
    for (int i = 0; i < n; i++)
        cf__buf_printf(&q, i ? ", $%d" : "$%d", i + 1);
    cf__buf_puts(&q, ")");
    PGresult *res = NULL;
    int r = run_built(s, &q, n, values, PGRES_COMMAND_OK, &res, "writing a copied plugin row", err);
    PQclear(res);
    return r;
}

int cf__pg_copy_plugin_count(cf__pg *s, const char *plugin, const char *table, int64_t *rows, cf__err *err)
{
    cf__buf q = {0};
    cf__buf_puts(&q, "SELECT count(*) FROM ");
    qualified(&q, plugin, table);
    PGresult *res = NULL;
    int r = run_built(s, &q, 0, NULL, PGRES_TUPLES_OK, &res, "counting a plugin table", err);
    if (r == CF_OK)
        *rows = cf__pg_int(res, 0, 0);
    PQclear(res);
    return r;
}

int cf__pg_copy_plugin_finish(cf__pg *s, const char *plugin, const char *table, cf__err *err)
{
    /* Every column a sequence numbers (identity or serial) continues after its largest copied value. */
    cf__buf name = {0};
    qualified(&name, plugin, table);
    const char *p[1] = {name.data};
    cf__buf q = {0};
    cf__buf_puts(&q, "SELECT a.attname, pg_get_serial_sequence($1, a.attname) FROM pg_attribute a"
                     " WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped"
                     " AND pg_get_serial_sequence($1, a.attname) IS NOT NULL");
    PGresult *res = NULL;
    int r = name.oom ? cf__fail(err, CF_ENOMEM, "out of memory")
                     : run_built(s, &q, 1, p, PGRES_TUPLES_OK, &res, "finding a plugin table's sequences", err);
    for (int i = 0; r == CF_OK && i < PQntuples(res); i++) {
        cf__buf u = {0};
        cf__buf_puts(&u, "SELECT setval($1, max(");
        quote(&u, PQgetvalue(res, i, 0));
        cf__buf_puts(&u, ")) FROM ");
        cf__buf_puts(&u, name.data);
        const char *seq[1] = {PQgetvalue(res, i, 1)};
        PGresult *res2 = NULL;
        r = run_built(s, &u, 1, seq, PGRES_TUPLES_OK, &res2, "moving a plugin table's sequence on", err);
        PQclear(res2);
    }
    if (name.oom)
        cf__buf_free(&q);
    PQclear(res);
    cf__buf_free(&name);
    return r;
}
