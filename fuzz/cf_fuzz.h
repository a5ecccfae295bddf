/*
 * cf_fuzz.h — the fuzz targets as plain functions, so that the libFuzzer
 * executables (fuzz/libfuzzer_main.c) and the regression test
 * (tests/test_fuzz_regressions.c, built without libFuzzer) run the very same
 * code on an input. Each returns 0; a bug shows as a sanitizer report or abort.
 */
#ifndef CF_FUZZ_H
#define CF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The workflow loader: the input is a workflow file's text (cf__workflow_compile). */
int cf_fuzz_workflow(const uint8_t *data, size_t size);

/* The policy loader: the input is policy/state.lua, optionally followed by a line
 * "--@county" and the text of a county overlay (counties/fuzz.lua). Every function
 * the policy defines is then called once. Files go to a folder made once per process. */
int cf_fuzz_policy(const uint8_t *data, size_t size);
/* Remove the policy target's folder (the fuzzer does it at exit). */
void cf_fuzz_policy_fini(void);

/* JSON event data: the input is the JSON text of an event's data, fired at fresh
 * instances of the shipped workflows on an engine opened once per process (":memory:"). */
int cf_fuzz_event(const uint8_t *data, size_t size);
/* Open the engine now rather than on the first input (LLVMFuzzerInitialize). */
void cf_fuzz_event_init(void);
/* Close the engine. */
void cf_fuzz_event_fini(void);

/* The command line: the input split on NUL bytes is argv[1..]; cli_parse, then
 * what the command would read from the parsed arguments. */
int cf_fuzz_cli_args(const uint8_t *data, size_t size);

/* The exam-results import: the input is the results file (CSV); see fuzz_exam_import.c. */
int cf_fuzz_exam_import(const uint8_t *data, size_t size);
void cf_fuzz_exam_import_init(void);
void cf_fuzz_exam_import_fini(void);

#endif
