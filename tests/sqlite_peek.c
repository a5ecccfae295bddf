/*
 * sqlite_peek.c — see sqlite_peek.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sqlite_peek.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_stmt *peek_prepare(sqlite3 **db, const char *path, const char *sql, const char *param)
{
    *db = NULL;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("opening %s to look at it: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
    sqlite3_busy_timeout(*db, 5000);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(*db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(*db));
    if (param && sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(*db));
    return st;
}

static int peek_step(sqlite3 *db, sqlite3_stmt *st, const char *sql)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    return rc;
}

int64_t cft_sql_int(const char *path, const char *sql, const char *param)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = peek_prepare(&db, path, sql, param);
    int64_t v = peek_step(db, st, sql) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

char *cft_sql_text(const char *path, const char *sql, const char *param)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = peek_prepare(&db, path, sql, param);
    char *v = NULL;
    if (peek_step(db, st, sql) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = strdup((const char *)sqlite3_column_text(st, 0));
        assert_non_null(v);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

char *cft_sql_column(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = peek_prepare(&db, path, sql, NULL);
    size_t len = 0;
    char *out = calloc(1, 1);
    assert_non_null(out);
    while (peek_step(db, st, sql) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        size_t n = t ? strlen(t) : 0;
        char *grown = realloc(out, len + n + 2);
        assert_non_null(grown);
        out = grown;
        if (n)
            memcpy(out + len, t, n);
        len += n;
        out[len++] = '\n';
        out[len] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

char *cft_sql_refusal(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        fail_msg("opening %s to tamper with it: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_busy_timeout(db, 5000);
    char *why = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        why = strdup(sqlite3_errmsg(db));
        assert_non_null(why);
    }
    sqlite3_close(db);
    return why;
}

bool cft_sql_tamper(const char *path, const char *sql)
{
    char *why = cft_sql_refusal(path, sql);
    free(why);
    return why == NULL;
}
