/*
 * versions.h — what the version files share (versions.c, workflow_diff.c,
 * migrate.c): naming a stored definition, its structure, and the check that
 * every live version's names still resolve.
 */
#ifndef CF_VERSIONS_H
#define CF_VERSIONS_H

#include "internal.h"

/* The full hash of the definition of `workflow` that ref names: "current" (the
 * definition the workflow files hold now), a stored hash, or a prefix of one
 * naming exactly one stored definition of the workflow. CF_ENOTFOUND or
 * CF_EINVAL (an ambiguous or malformed ref) with a message in e->err. */
int cf__version_resolve(cf_engine *e, const char *workflow, const char *ref, char out[CF__HASH_HEX]);

/* The stored definition `hash` compiled for its structure only: every guard,
 * action and deadline name is accepted without being looked up (kind
 * CF__FN_BUILTIN, index -1), so a definition whose names no longer resolve
 * still shows its states, events and transitions. The caller frees it. */
int cf__version_structure(cf_engine *e, const char *hash, cf__workflow **out);

/* Check every definition that live instances run on (a state that is not
 * terminal) against `policy` and the loaded plugins: each guard, action and
 * deadline it names must still be defined. CF_EPOLICY naming the workflow, the
 * version (hash), the function and how many live instances run on it. The
 * current definitions are not checked (they compiled against the policy). */
int cf__versions_check_live(cf_engine *e, cf__policy *policy, cf__err *err);

/* Shared by diff and migrate: "FROM --EVENT--> TO" of transition t. */
void cf__version_transition_name(const cf__workflow *wf, const cf__transition *t, char *buf, size_t size);

#endif /* CF_VERSIONS_H */
