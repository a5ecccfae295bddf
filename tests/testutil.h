/*
 * testutil.h — helpers shared by the cmocka tests: temporary folders, files,
 * a virtual clock. Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef CF_TESTUTIL_H
#define CF_TESTUTIL_H

#include "certflow/certflow.h"

#include <stdbool.h>

/* A virtual clock: pass cft_clock_now as options.clock and the struct as clock_ud. */
typedef struct cft_clock {
    cf_time now;
} cft_clock;

cf_time cft_clock_now(void *ud);

/* Parse an ISO 8601 time or fail the test. */
cf_time cft_time(const char *iso);

/* A fresh folder under $TMPDIR (malloc'd path); cft_rmtree removes it and frees the path. */
char *cft_tmpdir(void);
void cft_rmtree(char *path);

/* Write text to dir/name (creating sub-folders of name); returns the malloc'd path. */
char *cft_write(const char *dir, const char *name, const char *text);

/* Join two path parts into a malloc'd string. */
char *cft_path(const char *dir, const char *name);

/* Copy a whole file's text (malloc'd) or fail the test. */
char *cft_slurp(const char *path);

/* The backend the test runner chose: CERTFLOW_TEST_DB=postgresql (set by
 * scripts/pg-test-cluster.sh, with PGHOST/PGUSER pointing at a throw-away server)
 * runs the tests on PostgreSQL; unset, on SQLite files. */
bool cft_pg(void);
/* The database to open for db (a path or ":memory:"): db itself on SQLite; on
 * PostgreSQL a fresh database made with createdb, "postgresql:///cft_..." (the
 * same path gives the same database within a process, ":memory:" a new one each
 * time; all are dropped at exit). The string lives until the process exits. */
const char *cft_db(const char *db);
/* On PostgreSQL: run sql on cft_db(db) through psql, as someone who changes the
 * database behind certflow's back would (tamper tests); true when it ran. */
bool cft_pg_sql(const char *db, const char *sql);
/* cf_engine_open on cft_db(db). */
int cft_engine_open(const char *db, const cf_options *opts, cf_engine **out);

/* Open an engine on db with the engine fixtures (tests/fixtures/engine) and a
 * virtual clock; fails the test if it does not open. */
cf_engine *cft_open_fixture(const char *db, cft_clock *clock);

/* Fire and assert the result code, printing cf_errmsg on mismatch. */
void cft_fire(cf_engine *e, const char *id, const char *event, const char *data, int expect);

/* Count history rows of an instance. */
int cft_history_count(cf_engine *e, const char *id);

/* The current state of an instance (copied into a static buffer). */
const char *cft_state(cf_engine *e, const char *id);

/* Count pending timers of all instances with due <= to. */
int cft_timer_count(cf_engine *e, cf_time to);

/* What one run of the certflow command printed and returned. */
typedef struct cft_run {
    int code;  /* exit code; 128 + signal if killed */
    char *out; /* standard output, malloc'd */
    char *err; /* standard error, malloc'd */
} cft_run;

/* Run the built certflow (CF_BINARY_DIR/certflow) in folder dir with args
 * (NULL-terminated, without the program name), standard input /dev/null.
 * Fails the test if the program cannot be started. */
cft_run cft_certflow(const char *dir, const char *const *args);
/* The same with the arguments as a NULL-terminated va_list. */
cft_run cft_certflow_va(const char *dir, const char *const *prefix, va_list ap);
void cft_run_free(cft_run *r);

#endif
