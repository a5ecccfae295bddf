/*
 * plugin.c — plugin SQL on the PostgreSQL backend (store.h, "plugin tables";
 * docs/plugins.md, "Your SQL on another backend").
 *
 * Each plugin gets a schema named after it, owned by the role cf_plugin_<name>, and
 * a role cf_plugin_<name>_read that may only read it (conn.c, schema version 2).
 * Every statement of a plugin runs in a savepoint of the engine's transaction with
 * the role (the reading one for a guard) and search_path set to the plugin's, so that
 * the server's own privileges keep it to its tables: nothing here reads the SQL to
 * decide what it may do. After the statement the host checks that it ended under
 * the role it started with (a plugin that switched roles is refused and its
 * transition rolled back), and restores the engine's role.
 *
 * The plugin writes SQLite's ?1, ?2 parameters; they become $1, $2 here.
 */
#include "store/pg/pg_private.h"

#include "certflow/plugin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARAMS 64

struct cf__pg_pstmt {
    cf__pstmt base; /* first: the dispatcher sees a cf__pstmt */
    cf__pg *s;
    char name[24];
    int nparams;
    char *vals[MAX_PARAMS];
    bool reads_only;
    PGresult *res; /* the rows of the last step */
    int row;
};

/* ?N (and a bare ?) as $N, outside quotes and comments; *n the highest number. */
static char *translate(const char *sql, int *n)
{
    size_t len = strlen(sql);
    char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int next = 1;
    *n = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char c = sql[i];
        if (quote) {
            out[o++] = c;
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out[o++] = c;
        } else if (c == '-' && sql[i + 1] == '-') {
            while (i < len && sql[i] != '\n')
                out[o++] = sql[i++];
            if (i < len)
                out[o++] = sql[i];
        } else if (c == '?') {
            int k = 0;
            if (isdigit((unsigned char)sql[i + 1])) {
                while (isdigit((unsigned char)sql[i + 1]) && k < 100000)
                    k = k * 10 + (sql[++i] - '0');
            } else {
                k = next;
            }
            next = k + 1;
            if (k > *n)
                *n = k;
            o += (size_t)sprintf(out + o, "$%d", k);
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

static void role_names(const char *plugin, bool read_only, char *role, size_t size, char *path, size_t psize)
{
    snprintf(role, size, "cf_plugin_%s%s", plugin, read_only ? "_read" : "");
    snprintf(path, psize, "\"%s\"", plugin);
}

/* A constant statement (savepoints); CF_OK or the failure. */
static int plain(cf__pg *s, const char *sql, const char *what, cf__err *err)
{
    return cf__pg_exec_const(s, sql, what, err);
}

static int confine(cf__pg *s, const char *plugin, bool read_only, cf__err *err)
{
    char role[160], path[160];
    role_names(plugin, read_only, role, sizeof role, path, sizeof path);
    int rc = cf__pg_watch_arm(s, err);
    if (rc == CF_OK)
        rc = plain(s, "SAVEPOINT cf_plugin", "starting plugin SQL", err);
    cf__pgp p = {0};
    cf__pgp_text(&p, role);
    cf__pgp_text(&p, path);
    if (rc == CF_OK)
        rc = cf__pg_run(s, PG_PLUGIN_CONFINE, &p, NULL, "taking the plugin's role", err);
    return rc;
}

/* Back to the engine's role; CF_PLUGIN_EDENIED when the plugin's SQL left the
 * plugin's role. ok: whether the plugin's statement succeeded (else its savepoint
 * is rolled back). */
static int unconfine(cf__pg *s, const char *plugin, bool read_only, bool ok, cf__err *err)
{
    char role[160], path[160];
    role_names(plugin, read_only, role, sizeof role, path, sizeof path);
    cf__err ignored;
    if (!ok) {
        /* The statement failed: its savepoint goes, and the role and search_path with it. */
        plain(s, "ROLLBACK TO SAVEPOINT cf_plugin", "ending plugin SQL", &ignored);
        plain(s, "RELEASE SAVEPOINT cf_plugin", "ending plugin SQL", &ignored);
        return CF_OK;
    }
    cf__pgp p = {0};
    cf__pgp_text(&p, s->search_path);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_PLUGIN_UNCONFINE, &p, &r, "leaving the plugin's role", err);
    if (rc != CF_OK)
        return rc;
    bool same = strcmp(PQgetvalue(r, 0, 0), role) == 0;
    PQclear(r);
    if (!same) {
        plain(s, "ROLLBACK TO SAVEPOINT cf_plugin", "ending plugin SQL", &ignored);
        plain(s, "RELEASE SAVEPOINT cf_plugin", "ending plugin SQL", &ignored);
        return cf__fail(err, CF_PLUGIN_EDENIED,
                        "plugin SQL changed the role it runs as (%s): a plugin's SQL runs as its own role, kept to "
                        "its own schema; what the statement did was undone",
                        role);
    }
    return plain(s, "RELEASE SAVEPOINT cf_plugin", "ending plugin SQL", err);
}

/* A failed plugin statement: refused by the server's privileges, or bad SQL. */
static int plugin_fail(cf__pg *s, const PGresult *r, const char *plugin, bool read_only, const char *sql, cf__err *err)
{
    const char *st = cf__pg_state(r);
    char detail[300];
    snprintf(detail, sizeof detail, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
    for (char *c = detail; *c; c++)
        if (*c == '\n')
            *c = c[1] ? ' ' : '\0';
    if (!r || PQstatus(s->conn) == CONNECTION_BAD)
        return cf__pg_fail(s, r, "running plugin SQL", err);
    if ((!strcmp(st, "42501") || !strcmp(st, "25006")) && read_only)
        return cf__fail(err, CF_PLUGIN_EDENIED, "a guard may only read its tables; write in an action instead (%s) (in: %s)",
                        detail, sql);
    if (!strcmp(st, "42501") || !strcmp(st, "25006"))
        return cf__fail(err, CF_PLUGIN_EDENIED, "plugin %s may reach only its own tables, in its schema (%s) (in: %s)",
                        plugin, detail, sql);
    return cf__fail(err, CF_PLUGIN_ESQL, "SQL error: %s (in: %s)", detail, sql);
}

int cf__pg_plugin_prepare(cf__pg *s, const char *plugin, bool read_only, const char *sql, cf__pg_pstmt **out,
                          cf__err *err)
{
    *out = NULL;
    if (!cf__pg_in_transaction(s))
        return cf__fail(err, CF_PLUGIN_EDENIED, "plugin SQL runs only inside the engine's transaction");
    int n = 0;
    char *text = translate(sql, &n);
    if (!text)
        return cf__fail(err, CF_PLUGIN_ENOMEM, "out of memory preparing SQL");
    if (n > MAX_PARAMS) {
        free(text);
        return cf__fail(err, CF_PLUGIN_EINVAL, "sql_prepare: at most %d parameters (in: %s)", MAX_PARAMS, sql);
    }
    cf__pg_pstmt *p = calloc(1, sizeof *p);
    if (!p) {
        free(text);
        return cf__fail(err, CF_PLUGIN_ENOMEM, "out of memory preparing SQL");
    }
    p->base.backend = CF__BACKEND_PG;
    p->s = s;
    p->nparams = n;
    p->row = -1;
    snprintf(p->name, sizeof p->name, "cfp%u", ++s->plugin_stmts);
    const char *w = sql;
    while (isspace((unsigned char)*w))
        w++;
    p->reads_only = strncasecmp(w, "SELECT", 6) == 0; /* only a hint for the statement cache: the role enforces */
    int rc = confine(s, plugin, read_only, err);
    if (rc != CF_OK) {
        free(text);
        free(p);
        return rc;
    }
    PGresult *r = PQprepare(s->conn, p->name, text, 0, NULL);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && r && (!strcmp(cf__pg_state(r), "42P18") || !strcmp(cf__pg_state(r), "42P08")) && n > 0) {
        /* A parameter whose type nothing in the statement says (?1 IS NULL): the portable
         * SQL binds text or integers, so try them all as text, which the server casts
         * where a column says otherwise. The failed prepare rolled back to the savepoint. */
        PQclear(r);
        cf__err uerr;
        unconfine(s, plugin, read_only, false, &uerr);
        Oid types[MAX_PARAMS];
        for (int i = 0; i < n; i++)
            types[i] = 25; /* text */
        r = NULL;
        if (confine(s, plugin, read_only, &uerr) == CF_OK) {
            r = PQprepare(s->conn, p->name, text, n, types);
            ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        }
    }
    free(text);
    int prc = ok ? CF_PLUGIN_OK : plugin_fail(s, r, plugin, read_only, sql, err);
    PQclear(r);
    cf__err uerr;
    rc = unconfine(s, plugin, read_only, ok, ok ? err : &uerr);
    if (prc == CF_PLUGIN_OK && rc != CF_OK)
        prc = rc == CF_PLUGIN_EDENIED ? rc : CF_PLUGIN_ESQL;
    if (prc != CF_PLUGIN_OK) {
        free(p);
        return prc;
    }
    *out = p;
    return CF_PLUGIN_OK;
}

bool cf__pg_plugin_reads_only(const cf__pg_pstmt *p)
{
    return p->reads_only;
}

static int bind(cf__pg_pstmt *p, int i, char *v, bool had, cf__err *err)
{
    if (i < 1 || i > p->nparams) {
        free(v);
        return cf__fail(err, CF_PLUGIN_EINVAL, "column index out of range (parameter %d of %d)", i, p->nparams);
    }
    if (had && !v)
        return cf__fail(err, CF_PLUGIN_ENOMEM, "out of memory");
    free(p->vals[i - 1]);
    p->vals[i - 1] = v;
    return CF_PLUGIN_OK;
}

int cf__pg_plugin_bind_text(cf__pg_pstmt *p, int i, const char *value, cf__err *err)
{
    return bind(p, i, value ? cf__strdup(value) : NULL, value != NULL, err);
}

int cf__pg_plugin_bind_int(cf__pg_pstmt *p, int i, int64_t value, cf__err *err)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)value);
    return bind(p, i, cf__strdup(num), true, err);
}

int cf__pg_plugin_bind_double(cf__pg_pstmt *p, int i, double value, cf__err *err)
{
    char num[40];
    snprintf(num, sizeof num, "%.17g", value); /* reads back as the same double */
    return bind(p, i, cf__strdup(num), true, err);
}

int cf__pg_plugin_step(cf__pg *s, cf__pg_pstmt *p, const char *plugin, bool read_only, const char *sql,
                       int64_t *changes, cf__err *err)
{
    if (p->res) { /* the rows of the statement's run */
        if (++p->row < PQntuples(p->res))
            return CF_PLUGIN_ROW;
        *changes = 0;
        return CF_PLUGIN_DONE;
    }
    if (!cf__pg_in_transaction(s))
        return cf__fail(err, CF_PLUGIN_EDENIED, "plugin SQL ended the transition's transaction");
    int rc = confine(s, plugin, read_only, err);
    if (rc != CF_OK)
        return rc;
    PGresult *r = PQexecPrepared(s->conn, p->name, p->nparams, (const char *const *)p->vals, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    int prc = ok ? CF_PLUGIN_OK : plugin_fail(s, r, plugin, read_only, sql, err);
    cf__err uerr;
    rc = unconfine(s, plugin, read_only, ok, ok ? err : &uerr);
    if (prc == CF_PLUGIN_OK && rc != CF_OK)
        prc = rc == CF_PLUGIN_EDENIED ? rc : CF_PLUGIN_ESQL;
    if (prc != CF_PLUGIN_OK) {
        PQclear(r);
        return prc;
    }
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        p->res = r;
        p->row = 0;
        return CF_PLUGIN_ROW;
    }
    const char *tuples = PQcmdTuples(r);
    *changes = *tuples ? strtoll(tuples, NULL, 10) : 0;
    PQclear(r);
    return CF_PLUGIN_DONE;
}

int cf__pg_plugin_column_count(cf__pg_pstmt *p)
{
    return p->res ? PQnfields(p->res) : 0;
}

const char *cf__pg_plugin_column_text(cf__pg_pstmt *p, int i)
{
    if (!p->res || p->row < 0 || p->row >= PQntuples(p->res) || i < 0 || i >= PQnfields(p->res))
        return NULL;
    return cf__pg_text(p->res, p->row, i);
}

int64_t cf__pg_plugin_column_int(cf__pg_pstmt *p, int i)
{
    const char *t = cf__pg_plugin_column_text(p, i);
    return t ? strtoll(t, NULL, 10) : 0;
}

double cf__pg_plugin_column_double(cf__pg_pstmt *p, int i)
{
    const char *t = cf__pg_plugin_column_text(p, i);
    return t ? strtod(t, NULL) : 0;
}

int cf__pg_plugin_column_type(cf__pg_pstmt *p, int i)
{
    if (!cf__pg_plugin_column_text(p, i))
        return CF_PLUGIN_TYPE_NULL; /* a NULL, or no such row or column */
    switch (PQftype(p->res, i)) { /* the built-in types' fixed OIDs (pg_type.dat) */
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
    case 26: /* oid */
        return CF_PLUGIN_TYPE_INTEGER;
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        return CF_PLUGIN_TYPE_FLOAT;
    case 17: /* bytea */
        return CF_PLUGIN_TYPE_BLOB;
    default:
        return CF_PLUGIN_TYPE_TEXT;
    }
}

void cf__pg_plugin_reset(cf__pg_pstmt *p)
{
    PQclear(p->res);
    p->res = NULL;
    p->row = -1;
    for (int i = 0; i < p->nparams; i++) {
        free(p->vals[i]);
        p->vals[i] = NULL;
    }
}

void cf__pg_plugin_finalize(cf__pg_pstmt *p)
{
    if (!p)
        return;
    cf__pg_plugin_reset(p);
    /* The server forgets the statement with the connection; forget it now when the
     * connection can take a statement (not inside a failed transaction). */
    cf__pg *s = p->s;
    if (s->conn && !s->lost && PQtransactionStatus(s->conn) != PQTRANS_INERROR) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", p->name);
        PGresult *r = PQexec(s->conn, sql);
        PQclear(r);
    }
    free(p);
}

int cf__pg_plugin_version(cf__pg *s, const char *plugin, int *version, cf__err *err)
{
    *version = 0;
    cf__pgp p = {0};
    cf__pgp_text(&p, plugin);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_PLUGIN_VERSION, &p, &r, "reading plugin schema versions", err);
    if (rc == CF_OK && PQntuples(r) > 0)
        *version = (int)cf__pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

static bool store_problem(int rc)
{
    return rc == CF_EBUSY || rc == CF_EFULL || rc == CF_EREADONLY || rc == CF_ENOMEM || rc == CF_EIO;
}

int cf__pg_plugin_migrate(cf__pg *s, const char *plugin, int version, const char *sql, cf_time now, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, plugin);
    int rc = cf__pg_run(s, PG_PLUGIN_SETUP, &p, NULL, "making the plugin's schema and roles", err);
    if (rc != CF_OK)
        return store_problem(rc) ? rc
                                 : cf__fail(err, CF_EPLUGIN,
                                            "%s (the engine's role needs CREATEROLE, or the roles cf_plugin_%s and "
                                            "cf_plugin_%s_read made beforehand and granted to it: docs/deployment.md)",
                                            err->msg, plugin, plugin);
    rc = confine(s, plugin, false, err);
    if (rc != CF_OK)
        return rc;
    PGresult *r = PQexec(s->conn, sql);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && r && PQresultStatus(r) == PGRES_TUPLES_OK)
        ok = true;
    cf__err why;
    int prc = ok ? CF_OK : plugin_fail(s, r, plugin, false, "its migration", &why);
    PQclear(r);
    cf__err uerr;
    rc = unconfine(s, plugin, false, ok, ok ? &why : &uerr);
    if (ok && rc != CF_OK)
        prc = rc;
    if (prc != CF_OK) {
        if (store_problem(prc))
            return cf__fail(err, prc, "%s", why.msg);
        return cf__fail(err, CF_EPLUGIN, "%s", why.msg);
    }
    rc = cf__pg_run(s, PG_PLUGIN_WATCH_TABLES, &p, NULL, "watching the plugin's tables for explain", err);
    if (rc != CF_OK)
        return rc;
    cf__pgp v = {0};
    cf__pgp_text(&v, plugin);
    cf__pgp_int(&v, version);
    cf__pgp_int(&v, now);
    return cf__pg_run(s, PG_PLUGIN_RECORD, &v, NULL, "recording the plugin's schema version", err);
}
