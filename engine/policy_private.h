/*
 * policy_private.h — what the files of the policy host share (policy.c the call
 * runner, policy_date.c the date library). Not part of the engine's interface:
 * the rest of the engine uses the cf__policy_* functions of internal.h.
 */
#ifndef CERTFLOW_POLICY_PRIVATE_H
#define CERTFLOW_POLICY_PRIVATE_H

#include "internal.h"

#include <lua.h>

/* Push a new table holding the date library, reading date-times in tz (which
 * must outlive the Lua state). */
void cf__policy_push_date_library(lua_State *L, const cf__tz *tz);

#endif
