/*
 * sqlite_peek.h — the tests' one window onto a database file: a connection of
 * its own (never the engine's), opened on the file to read what a test checks.
 * Tests otherwise go through the public API or the store interface (store.h);
 * the no_sqlite_outside_backend check lists this file among the few allowed to
 * call SQLite.
 */
#ifndef CF_SQLITE_PEEK_H
#define CF_SQLITE_PEEK_H

#include <stdbool.h>
#include <stdint.h>

/* The first column of the first row of sql (param, when not NULL, bound to ?1)
 * as an integer; -1 when there is no row. A failing statement fails the test. */
int64_t cft_sql_int(const char *db, const char *sql, const char *param);
/* The same as text, malloc'd (NULL when there is no row or the value is NULL). */
char *cft_sql_text(const char *db, const char *sql, const char *param);
/* Every row's first column joined with '\n' (malloc'd, "" when there are none). */
char *cft_sql_column(const char *db, const char *sql);
/* Tamper with the file as someone outside certflow would: run sql (one or more
 * statements) on a connection of its own. False when SQLite refused it. */
bool cft_sql_tamper(const char *db, const char *sql);
/* The same, for a change the database must refuse: SQLite's message (malloc'd),
 * or NULL when the change went through. */
char *cft_sql_refusal(const char *db, const char *sql);

#endif /* CF_SQLITE_PEEK_H */
