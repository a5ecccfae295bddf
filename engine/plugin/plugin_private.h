/*
 * plugin_private.h — what the plugin loader and registry (plugin_load.c) and the
 * host function table (plugin_host.c) share: the plugin, statement, registry and
 * call structures, and the few helpers both sides use. Not for other files.
 */
#ifndef CF_PLUGIN_PRIVATE_H
#define CF_PLUGIN_PRIVATE_H

#include "internal.h"

#include "certflow/plugin.h"

#include <stdlib.h>

/* A prepared statement of a plugin, cached by its SQL text. */
struct cf_stmt {
    cf__pstmt *st; /* the store's statement (store.h, plugin tables) */
    char *sql;
    struct cf_plugin *plugin;
    cf_call *call; /* the call using it, NULL when free */
    bool transient; /* not cached: finalized at finish */
    struct cf_stmt *next;
};

/* One plugin file, loaded or refused. The handle plugins get as `self`. */
struct cf_plugin {
    cf__plugins *reg;
    char *path;
    void *dl;         /* kept open until cf__plugins_close, even when refused */
    char *name, *version, *description;
    bool loaded;
    char *message;    /* why refused */
    bool in_init;
    bool asked_dialect; /* called host->sql_dialect: it knows there is more than SQLite's SQL */
    char *init_error; /* a registration that failed, or the plugin's own reason */
    char **migrations; /* migrations[v - 1] is the SQL of version v */
    int nmigrations;
    struct cf_stmt *stmts;
    int nstmts;
    struct closer {
        void (*fn)(void *ud);
        void *ud;
    } *closers;       /* at_close functions, run in reverse order */
    int ncloser;
};

/* A query a plugin registered, by its full name "<plugin>.<query>". */
typedef struct query_entry {
    char *name;
    struct cf_plugin *plugin;
    cf_plugin_query_fn fn;
    void *ud;
    int flags;
} query_entry;

typedef struct fn_entry {
    char *name;
    cf__role role; /* CF__ROLE_GUARD or CF__ROLE_ASSIGN */
    struct cf_plugin *plugin;
    cf_plugin_action_fn action;
    cf_plugin_guard_fn guard;
    void *ud;
    bool live;
} fn_entry;

struct cf__plugins {
    struct cf_plugin **items;
    size_t count, cap;
    fn_entry *fns;
    size_t nfns, capfns;
    query_entry *queries;
    size_t nqueries, capqueries;
    const cf__policy *policy;
    cf_log_fn log;
    void *log_ud;
    cf__send_fn send; /* the engine's cf__send (cf__plugins_config.send) */
    const char *dialect; /* what host->sql_dialect answers: the store's SQL dialect */
};

/* One invocation of a plugin function. */
struct cf_call {
    cf_engine *e;
    struct cf_plugin *plugin;
    const fn_entry *fn;
    const cf__decision_call *ctx;
    bool guard;
    char *error;
    char *reason;
    char **keep; /* strings handed out, freed when the call returns */
    size_t nkeep, capkeep;
    int64_t changes;
    bool query;   /* a query (cf_plugin_query), outside any transition */
    char *result; /* a query's answer (query_result) */
};

static inline const char *fn_noun(cf__role role)
{
    return role == CF__ROLE_GUARD ? "guard" : "action";
}

static inline void set_str(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

/* The host function table (plugin_host.c): one for every engine; plugins may
 * keep the pointer for as long as they are loaded. */
extern const cf_host cf__plugin_host;

/* The text of a CF_PLUGIN_* result code (the table's result_text). */
const char *cf__plugin_result_text(int rc);

/* A formatted copy (at most CF__MSG_MAX bytes), NULL when out of memory. */
char *cf__plugin_printf_dup(const char *fmt, ...) CF__PRINTF(1, 2);

/* Hand a plugin's log line to the engine's log function, as source "plugin <name>". */
void cf__plugin_emit_log(cf__plugins *r, const char *plugin, int level, const char *message);

/* After plugin SQL: CF_PLUGIN_OK while the transition's transaction is still
 * open, else the call's error (CF_PLUGIN_EDENIED). */
int cf__plugin_check_txn(cf_call *c);

/* Unlink a cached statement from its plugin and finalize it. */
void cf__plugin_stmt_free(struct cf_plugin *pl, struct cf_stmt *s);

#endif
