/*
 * fuzz_exam_import.c — fuzz target for the exam-results import (certflow exam
 * import FILE, program/exam.c). The input is the results file. As the command does,
 * a file with a NUL byte or that is not UTF-8 is refused; the rest goes to the
 * exam_results plugin's query exam_results.parse {"csv": TEXT} on an engine opened
 * once per process (":memory:", fuzz/fixtures/exam, the plugin loaded from
 * CF_FUZZ_EXAM_PLUGIN), and its answer must be {"rows": [...], "errors": [...]}
 * with every row complete. When the file has no bad row, every row is fired as
 * exam_result with its key at one fresh certification, as the command fires it at
 * the row's candidate (the candidate lookup is left out: ids in fuzzed files do
 * not exist), the first row again (a replay), and the plugin's record is read back.
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
#endif
#endif
#ifndef CF_FUZZ_EXAM_PLUGIN
#ifdef CF_BINARY_DIR
#define CF_FUZZ_EXAM_PLUGIN CF_BINARY_DIR "/plugins/exam_results.so"
#else
#error "define CF_FUZZ_EXAM_PLUGIN: the exam_results plugin to load"
#endif
#endif

#define EXAM_REOPEN_EVERY 2000
#define EXAM_MAX_FIRES 16

static cf_engine *x_engine;
static unsigned x_runs;

static cf_time exam_clock(void *ud)
{
    (void)ud;
    return 1740816000; /* 2025-03-01T08:00:00Z */
}

static void exam_fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_exam_import: %s: %s: %s\n", what, cf_result_name(rc),
            x_engine ? cf_errmsg(x_engine) : "(no engine)");
    abort();
}

void cf_fuzz_exam_import_init(void)
{
    if (x_engine)
        return;
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_FUZZ_SOURCE_DIR "/fuzz/fixtures/exam/workflows";
    o.policy_dir = CF_FUZZ_SOURCE_DIR "/fuzz/fixtures/exam/lua";
    o.plugin_dir = CF_FUZZ_EXAM_PLUGIN;
    o.clock = exam_clock;
    int rc = cf_engine_open(":memory:", &o, &x_engine);
    if (rc != CF_OK)
        exam_fail("opening the engine with " CF_FUZZ_EXAM_PLUGIN, rc);
}

void cf_fuzz_exam_import_fini(void)
{
    if (!x_engine)
        return;
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    int rc = cf_engine_verify(x_engine, &rep);
    if (rc != CF_OK)
        exam_fail("verifying the history", rc);
    cf_engine_close(x_engine);
    x_engine = NULL;
}

/* Codes a results file may cause when fired; anything else is the engine's or the plugin's fault. */
static void exam_check(const char *what, int rc)
{
    if (rc != CF_OK && rc != CF_REJECTED && rc != CF_EPOLICY && rc != CF_ELIMIT)
        exam_fail(what, rc);
}

static void exam_fire(json_t *rows)
{
    char id[37];
    exam_check("creating a certification",
               cf_instance_create(x_engine, "certification", "alameda", NULL, "fuzzer", id));
    size_t i;
    json_t *row;
    size_t fired = 0;
    json_array_foreach(rows, i, row)
    {
        if (i >= EXAM_MAX_FIRES)
            break;
        char *data = json_dumps(json_object_get(row, "data"), JSON_COMPACT | JSON_SORT_KEYS);
        if (!data)
            exam_fail("a row's data cannot be written as JSON", CF_EJSON);
        const char *key = json_string_value(json_object_get(row, "key"));
        cf_fire_result res = CF_FIRE_RESULT_INIT;
        int rc = cf_instance_fire(x_engine, id, "exam_result", data, "fuzzer", key, &res);
        exam_check("firing a row", rc);
        if (getenv("CF_FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz_exam_import:   row %zu: %s %s\n", i, cf_result_name(rc),
                    rc == CF_REJECTED ? res.reasons : cf_errmsg(x_engine));
        if (i == 0) {
            /* Importing the same file again replays, it does not apply twice. */
            cf_fire_result again = CF_FIRE_RESULT_INIT;
            int rc2 = cf_instance_fire(x_engine, id, "exam_result", data, "fuzzer", key, &again);
            if ((rc == CF_OK || rc == CF_REJECTED) && (rc2 != rc || !again.replayed))
                exam_fail("firing a row's key again did not replay it", rc2);
        }
        fired += rc == CF_OK;
        free(data);
    }
    /* What the plugin recorded reads back. */
    char args[80];
    snprintf(args, sizeof args, "{\"instance\": \"%s\"}", id);
    char *out = NULL;
    int rc = cf_plugin_query(x_engine, "exam_results.list", args, &out);
    if (rc != CF_OK)
        exam_fail("exam_results.list", rc);
    json_t *list = json_loads(out, 0, NULL);
    if (!json_is_array(list) || json_array_size(list) != fired)
        exam_fail("exam_results.list does not list the rows applied", CF_EPLUGIN);
    json_decref(list);
    cf_free(out);
}

int cf_fuzz_exam_import(const uint8_t *data, size_t size)
{
    if (x_engine && ++x_runs % EXAM_REOPEN_EVERY == 0)
        cf_fuzz_exam_import_fini();
    cf_fuzz_exam_import_init();
    /* program/exam.c refuses a NUL byte, and json_pack refuses text that is not UTF-8. */
    if (memchr(data, '\0', size))
        return 0;
    json_t *csv = json_stringn((const char *)data, size);
    if (!csv)
        return 0;
    json_t *args = json_pack("{s:o}", "csv", csv);
    char *args_text = args ? json_dumps(args, JSON_COMPACT) : NULL;
    json_decref(args);
    if (!args_text)
        abort();
    char *out = NULL;
    int rc = cf_plugin_query(x_engine, "exam_results.parse", args_text, &out);
    free(args_text);
    if (rc != CF_OK)
        exam_fail("exam_results.parse", rc);
    json_error_t jerr;
    json_t *doc = json_loads(out, 0, &jerr);
    cf_free(out);
    json_t *rows = json_object_get(doc, "rows"), *errors = json_object_get(doc, "errors");
    if (!json_is_array(rows) || !json_is_array(errors))
        exam_fail("exam_results.parse did not answer {rows, errors}", CF_EPLUGIN);
    size_t i;
    json_t *v;
    json_array_foreach(errors, i, v)
    {
        if (!json_is_integer(json_object_get(v, "line")) || !json_is_string(json_object_get(v, "message")))
            exam_fail("an error without a line and a message", CF_EPLUGIN);
    }
    json_array_foreach(rows, i, v)
    {
        if (!json_is_integer(json_object_get(v, "line")) || !json_is_string(json_object_get(v, "candidate_id")) ||
            !json_is_string(json_object_get(v, "key")) || !json_is_object(json_object_get(v, "data")))
            exam_fail("a row without line, candidate_id, key and data", CF_EPLUGIN);
    }
    if (getenv("CF_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_exam_import: %zu rows, %zu errors\n", json_array_size(rows), json_array_size(errors));
    if (json_array_size(errors) == 0 && json_array_size(rows) > 0)
        exam_fire(rows);
    json_decref(doc);
    return 0;
}
