/*
 * policy_change.h — what the policy test runner (policy_test.c) borrows from
 * policy changes (policy_change.c). Not part of the engine's interface.
 */
#ifndef CERTFLOW_POLICY_CHANGE_H
#define CERTFLOW_POLICY_CHANGE_H

#include "internal.h"

/* Check the arguments of a change to county's overlay (fname names the public
 * function in messages); the engine's message says what is wrong. */
int cf__change_check_args(cf_engine *e, const char *county, const char *overlay_path, const char *fname);
/* Run deadline fname under p: *has and *due get its answer. */
int cf__change_deadline(cf__policy *p, const char *fname, const cf__decision_call *call, bool *has, cf_time *due,
                        cf__err *err);
/* Load a Lua file of plain data (text only, an empty environment, the sandbox's
 * limits) as JSON (*out: a new reference). */
int cf__change_load_data_file(const char *path, json_t **out, cf__err *err);
/* Load the policy folder with path standing in for county's overlay; `shown` is
 * the path messages name. */
int cf__change_open_candidate(cf_engine *e, const char *county, const char *path, const char *shown, cf__policy **out);
/* t as RFC 3339 text, or "@<seconds>" when it cannot be formatted. */
void cf__change_time_text(cf_time t, char buf[32]);

#endif
