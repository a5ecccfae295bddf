/*
 * scenario.h — helpers for scenario tests that drive the shipped workflows and
 * policies (workflows/, lua/) through whole lifecycles on a virtual clock.
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h>, <stdint.h> and <cmocka.h>.
 * Every helper fails the test (with cf_errmsg) when the engine call errs.
 */
#ifndef CF_SCENARIO_H
#define CF_SCENARIO_H

#include "certflow/certflow.h"

#include <jansson.h>

typedef struct sc {
    char *dir;               /* temporary folder holding the database */
    cf_engine *e;
    cf_time now;             /* the virtual clock */
    cf_fire_result last;     /* the last fire's outcome (strings valid until the next call) */
    char reasons[4096];      /* the last fire's reasons (JSON array text), copied */
} sc;

/* Open a fresh database with the shipped workflows, policies and plugins (built into
 * CF_BINARY_DIR/plugins), the clock at `iso`.
 * policy_dir may be NULL for the shipped lua/ folder. */
sc *sc_open(const char *iso, const char *policy_dir);
/* The same with the plugins' configuration (cf_options.plugin_config; may be NULL). */
sc *sc_open_config(const char *iso, const char *policy_dir, const char *plugin_config);
void sc_close(sc *s);
/* sc_open with the workflows of workflow_dir instead of the shipped ones. */
sc *sc_open_workflows(const char *iso, const char *workflow_dir);
/* Close the engine and open the same database again with the workflows of
 * workflow_dir (NULL: the shipped ones): each instance keeps the definition it
 * started on (docs/workflows.md, "Nested states"). */
void sc_reopen(sc *s, const char *workflow_dir);
/* Run a plugin query (cf_plugin_query) with args (JSON text or NULL); the answer as a
 * new reference (json_decref it). Fails the test if the query fails. */
json_t *sc_query(sc *s, const char *name, const char *args_json);

/* Move the virtual clock (no timers fire: call sc_tick for that). */
void sc_at(sc *s, const char *iso);
/* Move the clock to iso and fire every timer due by then; returns how many fired. */
uint64_t sc_tick(sc *s, const char *iso);

/* Create an instance; the id is copied into a static ring of buffers (valid for a while). */
const char *sc_new(sc *s, const char *workflow, const char *county, const char *data_json);
/* Fire and return CF_OK or CF_REJECTED (any error fails the test); reasons in s->reasons. */
int sc_fire(sc *s, const char *id, const char *event, const char *data_json);
/* Fire and expect the result (CF_OK, CF_REJECTED, or an error code). */
void sc_expect(sc *s, const char *id, const char *event, const char *data_json, int expect);

/* The instance's state (copied into a static buffer). */
const char *sc_state(sc *s, const char *id);
/* The instance's data (new reference; json_decref it). */
json_t *sc_data(sc *s, const char *id);
/* A string field of the data ("" if absent), copied into a static buffer. */
const char *sc_str(sc *s, const char *id, const char *field);
/* An integer field of the data (0 if absent). */
long long sc_int(sc *s, const char *id, const char *field);
/* True if the last rejection's reasons contain text. */
int sc_reason_has(const sc *s, const char *text);
/* True if one of the last rejection's reasons is exactly text. */
int sc_reason_is(const sc *s, const char *text);

#define ASSERT_REASON_IS(s, text)                                                                  \
    do {                                                                                           \
        if (!sc_reason_is((s), (text)))                                                            \
            fail_msg("expected exactly the reason \"%s\" in %s", (text), (s)->reasons);          \
    } while (0)

#endif
