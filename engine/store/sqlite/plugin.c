/*
 * plugin.c — the SQLite backend's side of plugin SQL (store.h, "plugin
 * tables"): a plugin's statements are prepared and run on the engine's connection
 * under an authorizer that keeps them to the plugin's own tables (named
 * <plugin>_...), and its migrations are recorded in plugin_schema. Only this
 * file knows the authorizer; plugin.c sees statements and result codes.
 */
#include "store/sqlite/sqlite_private.h"

#include "certflow/plugin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The table recording each plugin's schema version (store.c, schema version 6). */
#define SCHEMA_TABLE "plugin_schema"

struct cf__sqlite_pstmt {
    cf__pstmt base; /* first: the dispatcher sees a cf__pstmt */
    sqlite3_stmt *st;
};

/* What the SQL authorizer enforces while plugin SQL is prepared or run. */
typedef struct auth_ctx {
    const char *plugin;
    bool read_only;
    bool migration; /* only a migration may create triggers (on the plugin's own tables) */
    char denied[512];
} auth_ctx;

static bool name_matches_prefix(const char *table, const char *plugin)
{
    size_t n = strlen(plugin);
    return strncasecmp(table, plugin, n) == 0 && table[n] == '_' && table[n + 1] != '\0';
}

/* ---------- the SQL authorizer: how one plugin's SQL is kept to its own tables ---------- */

static bool engine_internal_table(const char *t)
{
    return strncmp(t, "sqlite_", 7) == 0;
}

static int deny(auth_ctx *a, const char *fmt, ...) CF__PRINTF(2, 3);
static int deny(auth_ctx *a, const char *fmt, ...)
{
    if (!a->denied[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(a->denied, sizeof a->denied, fmt, ap);
        va_end(ap);
    }
    return SQLITE_DENY;
}

static int own_table(auth_ctx *a, const char *t, const char *what)
{
    if (!t || name_matches_prefix(t, a->plugin))
        return SQLITE_OK;
    return deny(a,
                "%s '%s' is not this plugin's: plugin '%s' may only use tables and indexes named %s_... "
                "(the engine's and other plugins' tables are out of reach)",
                what, t, a->plugin, a->plugin);
}

static int authorize(void *ud, int action, const char *a1, const char *a2, const char *db, const char *trigger)
{
    auth_ctx *a = ud;
    (void)trigger;
    if (db && strcmp(db, "main") != 0)
        return deny(a, "plugin SQL may only use the main database, not '%s'", db);
    bool writes = false;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        if (a2 && strcasecmp(a2, "load_extension") == 0)
            return deny(a, "plugin SQL may not call load_extension()");
        return SQLITE_OK;
    case SQLITE_READ:
        if (a1 && engine_internal_table(a1))
            return SQLITE_OK;
        return own_table(a, a1, "table");
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        writes = true;
        if (a1 && engine_internal_table(a1) && !a->read_only)
            return SQLITE_OK; /* sqlite_master while creating a table, sqlite_sequence */
        break;
    case SQLITE_CREATE_TABLE:
    case SQLITE_DROP_TABLE:
    case SQLITE_REINDEX:
        writes = true;
        break;
    case SQLITE_CREATE_INDEX:
    case SQLITE_DROP_INDEX:
        writes = true;
        if (a->read_only)
            break;
        /* UNIQUE and PRIMARY KEY constraints make sqlite_autoindex_<table>_N. */
        if (!(a1 && strncmp(a1, "sqlite_autoindex_", 17) == 0 && name_matches_prefix(a1 + 17, a->plugin)) &&
            own_table(a, a1, "index") != SQLITE_OK)
            return SQLITE_DENY;
        return own_table(a, a2, "table");
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TRIGGER:
        if (!a->migration)
            return deny(a, "plugin SQL may create or drop triggers only in a migration (add_migration)");
        if (own_table(a, a1, "trigger") != SQLITE_OK)
            return SQLITE_DENY;
        return own_table(a, a2, "table");
    case SQLITE_ALTER_TABLE:
        if (a->read_only)
            return deny(a, "a guard may only read: ALTER TABLE belongs in a migration");
        return own_table(a, a2, "table");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return deny(a, "plugin SQL runs inside the transition's transaction and may not begin, commit or roll "
                       "back; return an error from the action to roll back");
    case SQLITE_PRAGMA:
        return deny(a, "plugin SQL may not run PRAGMA %s", a1 ? a1 : "");
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return deny(a, "plugin SQL may not attach or detach databases");
    default:
        return deny(a,
                    "plugin SQL may not create or drop triggers, views, temporary or virtual tables, or "
                    "analyze (authorizer action %d)",
                    action);
    }
    if (writes && a->read_only)
        return deny(a, "a guard may only read its tables; write in an action instead");
    return own_table(a, a1, "table");
}

/* The connection's one authorizer, installed at open (cf__sqlite_auth_install) and
 * switched by s->plugin_auth: NULL while the engine's own SQL runs (everything is
 * allowed), a plugin's rules while its SQL is prepared or run. Installing it once
 * matters: every sqlite3_set_authorizer call expires every prepared statement, so
 * switching it per plugin statement made SQLite prepare the engine's statements
 * again on the next fire (issue 13). Authorization happens when a statement is
 * prepared (or prepared again after a schema change, which only happens inside
 * sqlite3_step with the switch on), so a plugin's statement keeps its rules. */
static int authorize_switch(void *ud, int action, const char *a1, const char *a2, const char *db_name,
                            const char *trigger)
{
    cf__sqlite *s = ud;
    auth_ctx *a = s->plugin_auth;
    return a ? authorize(a, action, a1, a2, db_name, trigger) : SQLITE_OK;
}

void cf__sqlite_auth_install(cf__sqlite *s)
{
    s->plugin_auth = NULL;
    sqlite3_set_authorizer(s->db, authorize_switch, s);
}

/* Switch the plugin's rules on for the duration of one plugin SQL operation;
 * auth_end restores what was in force before (NULL outside plugin SQL). */
static void *auth_begin(cf__sqlite *s, auth_ctx *a, const char *plugin, bool read_only)
{
    a->plugin = plugin;
    a->read_only = read_only;
    a->migration = false;
    a->denied[0] = '\0';
    void *prev = s->plugin_auth;
    s->plugin_auth = a;
    return prev;
}

static void auth_end(cf__sqlite *s, void *prev)
{
    s->plugin_auth = prev;
}

/* ---------- statements ---------- */

bool cf__sqlite_in_transaction(cf__sqlite *s)
{
    return !sqlite3_get_autocommit(s->db);
}

int cf__sqlite_plugin_prepare(cf__sqlite *s, const char *plugin, bool read_only, const char *sql, cf__sqlite_pstmt **out,
                             cf__err *err)
{
    *out = NULL;
    sqlite3 *db = s->db;
    auth_ctx a;
    void *prev = auth_begin(s, &a, plugin, read_only);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    auth_end(s, prev);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        if (a.denied[0])
            return cf__fail(err, CF_PLUGIN_EDENIED, "%s (in: %s)", a.denied, sql);
        return cf__fail(err, CF_PLUGIN_ESQL, "SQL error: %s (in: %s)", sqlite3_errmsg(db), sql);
    }
    if (!st)
        return cf__fail(err, CF_PLUGIN_EINVAL, "sql_prepare: no statement in '%s'", sql);
    while (tail && isspace((unsigned char)*tail))
        tail++;
    if (tail && *tail && *tail != ';') {
        sqlite3_finalize(st);
        return cf__fail(err, CF_PLUGIN_EINVAL, "sql_prepare takes one statement; '%s' has more", sql);
    }
    cf__sqlite_pstmt *p = malloc(sizeof *p);
    if (!p) {
        sqlite3_finalize(st);
        return cf__fail(err, CF_PLUGIN_ENOMEM, "out of memory preparing SQL");
    }
    p->base.backend = CF__BACKEND_SQLITE;
    p->st = st;
    *out = p;
    return CF_PLUGIN_OK;
}

bool cf__sqlite_plugin_reads_only(const cf__sqlite_pstmt *p)
{
    return sqlite3_stmt_readonly(p->st) != 0;
}

static int bind_result(int rc, cf__err *err)
{
    if (rc == SQLITE_OK)
        return CF_PLUGIN_OK;
    return cf__fail(err, rc == SQLITE_RANGE ? CF_PLUGIN_EINVAL : CF_PLUGIN_ESQL, "%s", sqlite3_errstr(rc));
}

int cf__sqlite_plugin_bind_text(cf__sqlite_pstmt *p, int i, const char *value, cf__err *err)
{
    return bind_result(value ? sqlite3_bind_text(p->st, i, value, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(p->st, i),
                       err);
}

int cf__sqlite_plugin_bind_int(cf__sqlite_pstmt *p, int i, int64_t value, cf__err *err)
{
    return bind_result(sqlite3_bind_int64(p->st, i, value), err);
}

int cf__sqlite_plugin_bind_double(cf__sqlite_pstmt *p, int i, double value, cf__err *err)
{
    return bind_result(sqlite3_bind_double(p->st, i, value), err);
}

int cf__sqlite_plugin_step(cf__sqlite *s, cf__sqlite_pstmt *p, const char *plugin, bool read_only, const char *sql,
                          int64_t *changes, cf__err *err)
{
    sqlite3 *db = s->db;
    auth_ctx a; /* a schema change makes SQLite prepare again: keep the rules in force */
    void *prev = auth_begin(s, &a, plugin, read_only);
    int rc = sqlite3_step(p->st);
    auth_end(s, prev);
    if (sqlite3_get_autocommit(db))
        return cf__fail(err, CF_PLUGIN_EDENIED,
                        "plugin SQL ended the transition's transaction (an OR ROLLBACK conflict clause?); use "
                        "the default ABORT and return an error to roll back");
    if (rc == SQLITE_ROW)
        return CF_PLUGIN_ROW;
    if (rc == SQLITE_DONE) {
        *changes = sqlite3_changes64(db);
        return CF_PLUGIN_DONE;
    }
    int r = a.denied[0] ? cf__fail(err, CF_PLUGIN_EDENIED, "%s (in: %s)", a.denied, sql)
                        : cf__fail(err, CF_PLUGIN_ESQL, "SQL error: %s (in: %s)", sqlite3_errmsg(db), sql);
    sqlite3_reset(p->st);
    return r;
}

int cf__sqlite_plugin_column_count(cf__sqlite_pstmt *p)
{
    return sqlite3_column_count(p->st);
}

const char *cf__sqlite_plugin_column_text(cf__sqlite_pstmt *p, int i)
{
    return (const char *)sqlite3_column_text(p->st, i);
}

int64_t cf__sqlite_plugin_column_int(cf__sqlite_pstmt *p, int i)
{
    return sqlite3_column_int64(p->st, i);
}

double cf__sqlite_plugin_column_double(cf__sqlite_pstmt *p, int i)
{
    return sqlite3_column_double(p->st, i);
}

int cf__sqlite_plugin_column_type(cf__sqlite_pstmt *p, int i)
{
    if (i < 0 || i >= sqlite3_data_count(p->st))
        return CF_PLUGIN_TYPE_NULL;
    switch (sqlite3_column_type(p->st, i)) {
    case SQLITE_INTEGER:
        return CF_PLUGIN_TYPE_INTEGER;
    case SQLITE_FLOAT:
        return CF_PLUGIN_TYPE_FLOAT;
    case SQLITE_TEXT:
        return CF_PLUGIN_TYPE_TEXT;
    case SQLITE_BLOB:
        return CF_PLUGIN_TYPE_BLOB;
    default:
        return CF_PLUGIN_TYPE_NULL;
    }
}

void cf__sqlite_plugin_reset(cf__sqlite_pstmt *p)
{
    sqlite3_reset(p->st);
    sqlite3_clear_bindings(p->st);
}

void cf__sqlite_plugin_finalize(cf__sqlite_pstmt *p)
{
    if (!p)
        return;
    sqlite3_finalize(p->st);
    free(p);
}

/* ---------- schema versions and migrations ---------- */

static int recorded_version(sqlite3 *db, const char *plugin, int *version)
{
    *version = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT version FROM " SCHEMA_TABLE " WHERE plugin = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *version = sqlite3_column_int(st, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static int record_version(sqlite3 *db, const char *plugin, int version, cf_time now)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO " SCHEMA_TABLE "(plugin, version, migrated_at) VALUES(?1, ?2, ?3)"
                                " ON CONFLICT(plugin) DO UPDATE SET version = ?2, migrated_at = ?3",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    sqlite3_finalize(st);
    return rc;
}

int cf__sqlite_plugin_version(cf__sqlite *s, const char *plugin, int *version, cf__err *err)
{
    int src = recorded_version(s->db, plugin, version);
    return src == SQLITE_OK ? CF_OK : cf__sqlite_fail(s, src, "reading plugin schema versions", err);
}

int cf__sqlite_plugin_migrate(cf__sqlite *s, const char *plugin, int version, const char *sql, cf_time now,
                             cf__err *err)
{
    sqlite3 *db = s->db;
    auth_ctx a;
    char *errmsg = NULL;
    void *prev = auth_begin(s, &a, plugin, false);
    a.migration = true;
    int src = sqlite3_exec(db, sql, NULL, NULL, &errmsg);
    auth_end(s, prev);
    bool in_txn = !sqlite3_get_autocommit(db);
    if (src == SQLITE_OK && in_txn)
        src = record_version(db, plugin, version, now);
    if (src == SQLITE_OK && in_txn) {
        sqlite3_free(errmsg);
        return CF_OK;
    }
    int code = src & 0xff;
    bool store_problem = code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_FULL ||
                         code == SQLITE_READONLY || code == SQLITE_NOMEM || code == SQLITE_IOERR;
    int rc;
    if (store_problem)
        rc = cf__sqlite_fail(s, src, "running a plugin migration", err);
    else
        rc = cf__fail(err, CF_EPLUGIN, "%s",
                      a.denied[0] ? a.denied : !in_txn ? "the SQL ended the transaction"
                                               : errmsg ? errmsg : sqlite3_errmsg(db));
    sqlite3_free(errmsg);
    return rc;
}
