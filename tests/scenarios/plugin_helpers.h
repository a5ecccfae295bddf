/*
 * plugin_helpers.h — shared steps of the shipped-plugin scenario tests
 * (test_plugin_*.c): running the built certflow command on the scenario's
 * database, reading files, and counting JSON rows. Header-only.
 */
#ifndef CF_PLUGIN_HELPERS_H
#define CF_PLUGIN_HELPERS_H

#include "cert_helpers.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

/* certflow --db <scenario db> --workflows/--policies/--plugins <shipped> --now NOW args... (NULL-terminated). */
static inline cft_run run_cli(sc *s, const char *now, ...)
{
    char *db = cft_path(s->dir, "scenario.db");
    const char *prefix[] = {"--workflows", CF_SOURCE_DIR "/workflows", "--policies", CF_SOURCE_DIR "/lua",
                            "--plugins", CF_BINARY_DIR "/plugins", "--now", now, "--db", db, NULL};
    va_list ap;
    va_start(ap, now);
    cft_run r = cft_certflow_va(s->dir, prefix, ap);
    va_end(ap);
    free(db);
    return r;
}

/* A whole file, malloc'd; NULL if it does not exist. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static inline void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The history rows of an instance. */
static inline int count_row(void *ud, const cf_history_entry *h)
{
    (void)h;
    ++*(int *)ud;
    return 0;
}

static inline int history_len(sc *s, const char *id)
{
    int n = 0;
    assert_int_equal(cf_instance_history(s->e, id, count_row, &n), CF_OK);
    return n;
}

#endif
