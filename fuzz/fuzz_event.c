/*
 * fuzz_event.c — fuzz target for JSON event data. An engine is opened once per
 * process on ":memory:" with the fixture in fuzz/fixtures/event/ (a claim workflow
 * linked to a ledger, and a policy that reads data the way the shipped ones do) on
 * a fixed clock. Each input is the JSON text of event data (and of instance data):
 * fresh instances are created with it and events fired with it, so the parser,
 * the data views policies read, the merge of what assigns return, deadlines
 * computed from it, linked events carrying it and the canonical text in the
 * history all see it; a tick then fires the timers it set. Errors must be
 * ones input can cause, each with a message; the engine is reopened every so
 * often (after verifying the hash chain) so the database does not grow for ever.
 */
#include "cf_fuzz.h"

#include "certflow/certflow.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CF_FUZZ_SOURCE_DIR
#ifdef CF_SOURCE_DIR
#define CF_FUZZ_SOURCE_DIR CF_SOURCE_DIR
#else
#error "define CF_FUZZ_SOURCE_DIR: the source tree holding workflows/ and lua/"
#endif
#endif

#define REOPEN_EVERY 1000

static cf_engine *g_engine;
static unsigned g_runs;

static cf_time fixed_clock(void *ud)
{
    (void)ud;
    return 1740816000; /* 2025-03-01T08:00:00Z */
}

static void ev_fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_event: %s: %s (%s): %s\n", what, cf_result_name(rc), cf_strerror(rc),
            g_engine ? cf_errmsg(g_engine) : "(no engine)");
    abort();
}

void cf_fuzz_event_init(void)
{
    if (g_engine)
        return;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_FUZZ_SOURCE_DIR "/fuzz/fixtures/event/workflows";
    o.policy_dir = CF_FUZZ_SOURCE_DIR "/fuzz/fixtures/event/lua";
    o.clock = fixed_clock;
    o.lua_instruction_budget = 200000;
    int rc = cf_engine_open(":memory:", &o, &g_engine);
    if (rc != CF_OK)
        ev_fail("opening the engine", rc);
}

void cf_fuzz_event_fini(void)
{
    if (!g_engine)
        return;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    int rc = cf_engine_verify(g_engine, &rep);
    if (rc != CF_OK)
        ev_fail("verifying the history", rc);
    cf_engine_close(g_engine);
    g_engine = NULL;
}

/* Codes no input may cause: they mean the engine mishandled the data.
 * CF_FUZZ_VERBOSE=1 in the environment prints every outcome. */
static void ev_check(const char *what, int rc)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("CF_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "fuzz_event: %s: %s %s\n", what, cf_result_name(rc), cf_errmsg(g_engine));
    switch (rc) {
    case CF_OK:
    case CF_REJECTED:
    case CF_EINVAL:
    case CF_EEVENT:
    case CF_EJSON:
    case CF_EPOLICY:
    case CF_ELIMIT:
    case CF_ECONFLICT:
    case CF_EACTION:
    case CF_ENOTFOUND:
        break;
    default:
        ev_fail(what, rc);
    }
    if (rc != CF_OK && rc != CF_REJECTED && !cf_errmsg(g_engine)[0])
        ev_fail("an error without a message", rc);
}

static void check_instance(const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    int rc = cf_instance_get(g_engine, id, &info);
    if (rc != CF_OK)
        ev_fail("reading an instance back", rc);
    /* What the engine stored must be a JSON object again. */
    json_t *v = info.data ? json_loads(info.data, 0, NULL) : NULL;
    if (!json_is_object(v))
        ev_fail("instance data read back is not a JSON object", CF_EJSON);
    json_decref(v);
}

/* Create an instance of workflow with initial data, then fire each event with data. */
static void drive(const char *workflow, const char *county, const char *create_data, const char *const *events,
                  const char *data)
{
    char id[37];
    int rc = cf_instance_create(g_engine, workflow, county, create_data, "fuzzer", id);
    ev_check("cf_instance_create", rc);
    if (rc != CF_OK)
        return;
    for (const char *const *ev = events; *ev; ev++) {
        cf_fire_result res = CF_FIRE_RESULT_INIT;
        int frc = cf_instance_fire(g_engine, id, *ev, data, "fuzzer", NULL, &res);
        ev_check(*ev, frc);
        if (frc == CF_REJECTED && getenv("CF_FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz_event:   reasons %s\n", res.reasons ? res.reasons : "(none)");
    }
    /* The same key twice: the second is a replay of the first, whatever it was. */
    cf_fire_result a = CF_FIRE_RESULT_INIT, b = CF_FIRE_RESULT_INIT;
    int ra = cf_instance_fire(g_engine, id, events[0], data, "fuzzer", "fuzz-key", &a);
    ev_check("cf_instance_fire with a key", ra);
    int rb = cf_instance_fire(g_engine, id, events[0], data, "fuzzer", "fuzz-key", &b);
    ev_check("cf_instance_fire with the key again", rb);
    if ((ra == CF_OK || ra == CF_REJECTED) && (rb != ra || !b.replayed))
        ev_fail("a repeated idempotency key did not replay", rb);
    check_instance(id);
}

int cf_fuzz_event(const uint8_t *data, size_t size)
{
    if (g_engine && ++g_runs % REOPEN_EVERY == 0)
        cf_fuzz_event_fini();
    cf_fuzz_event_init();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    static const char *const own[] = {"update", "submit", "approve", "post", "close", NULL};
    static const char *const linked[] = {"update", "submit", "post", "approve", "post", NULL};
    /* A claim whose own data is the input. */
    drive("claim", "alameda", text, own, text);
    /* A claim with a real ledger, so that posts deliver the input to it. */
    char ledger[37];
    int rc = cf_instance_create(g_engine, "ledger", "alameda", NULL, "fuzzer", ledger);
    ev_check("creating a ledger", rc);
    if (rc == CF_OK) {
        char init[128];
        snprintf(init, sizeof init, "{\"name\": \"claimant\", \"ledger_id\": \"%s\"}", ledger);
        drive("claim", "san_diego", init, linked, text);
        check_instance(ledger);
    }
    /* Timers whose due times came from the input. */
    uint64_t fired = 0;
    ev_check("cf_engine_tick", cf_engine_tick(g_engine, fixed_clock(NULL) + (cf_time)20 * 366 * 86400, &fired));
    free(text);
    return 0;
}
