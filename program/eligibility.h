/*
 * eligibility.h — was a hire billable on a date of service, and why
 * (docs/billing.md): the Peer Support program's question, answered through the
 * public API (eligibility.c); the command is eligibility_cmd.c.
 */
#ifndef CF_PROGRAM_ELIGIBILITY_H
#define CF_PROGRAM_ELIGIBILITY_H

#include "certflow/certflow.h"

#include <jansson.h>
#include <stddef.h>

/* The answer for the hire of employment instance `employment_id` on the date of
 * service `date` ("YYYY-MM-DD", a day in the engine's time zone): *out gets a
 * new JSON object (the caller owns it):
 *   employment, date, county, name, hired_on
 *   billable        true when peer_codes or non_peer_codes
 *   peer_codes      peer-specific codes: certified in good standing with EHR access (EMP_2, EMP_3)
 *   non_peer_codes  non-peer codes: Other Qualified Provider criteria recorded, not in DMC-ODS
 *   employment_state, certification ({id, state, since} or null), program_type
 *                   ("smhs", "dmc_ods" or null), supervisor (id or null)
 *   reasons         sentences saying why, one per decision
 *   rows            the history rows relied on: [{instance, workflow, number, seq, event,
 *                   to_state, at, why}] (number: the row in `certflow history ID`)
 * Reads only (works on a read-only handle). Returns a cf_result: CF_ENOTFOUND for
 * an unknown id, CF_EINVAL for an instance that is not an employment or a
 * malformed date; on failure *out is NULL and msg (size bytes) says why and what
 * to do (the engine's message when the engine refused). */
int prog_eligibility(cf_engine *e, const char *employment_id, const char *date, json_t **out, char *msg,
                     size_t size);

#endif
