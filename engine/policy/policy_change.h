/*
 * policy_change.h — what the files of policy changes share: the plan of the
 * changes a proposed overlay makes (built by policy_change.c, carried out by
 * policy_apply.c), the data files (policy_data.c), and what the policy test
 * runner (policy_test.c) borrows. Not part of the engine's interface.
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

/* ---- the plan: the changes a proposed overlay makes (policy_change.c) ---- */

enum { OP_NONE = 0, OP_MOVE, OP_REMOVE, OP_ADD };

#define POLICY_EVENT "policy_changed" /* the event apply records, and fires where a workflow takes it */

typedef struct change {
    char *kind, *instance_id, *workflow, *state, *name, *event, *old_value, *new_value;
    char *who, *county, *effect;
    int op;           /* deadline rows: what apply does to the timer */
    int64_t timer_id; /* OP_MOVE, OP_REMOVE */
    cf_time due;      /* OP_MOVE, OP_ADD */
    char *timer_state; /* OP_ADD: the state declaring the timer (a parent of the instance's, nested states) */
    bool fire;        /* every row of an instance on which apply fires POLICY_EVENT */
} change;

typedef struct plan {
    change *items;
    size_t n, cap;
    size_t instances; /* live instances examined */
    size_t affected;  /* instances with a deadline or eligibility change */
    bool for_new;     /* applies_to "new" */
    bool oom;
    /* Set by a preview (cf_policy_diff): each instance's rows go to report as soon as they
     * are planned and are dropped, so that the plan holds one instance at a time; NULL
     * (apply) keeps every row. stopped: report returned non-zero, nothing more is asked. */
    cf_policy_change_fn report;
    void *report_ud;
    bool stopped;
} plan;

/* The plan of cand (the candidate policy with overlay_path as county's overlay)
 * on county's live instances, into *pl (pl->for_new set by the caller). */
int cf__plan_make(cf_engine *e, cf__policy *cand, const char *county, const char *overlay_path, plan *pl);
/* Hand each row of the plan to fn (until it returns non-zero); fn may be NULL. With
 * pl->report set, the rows still held (those of no instance, when there is none). */
void cf__plan_report(plan *pl, cf_policy_change_fn fn, void *ud);
void cf__plan_free(plan *pl);
/* applies_to: "all" (also for NULL) or "new" (*for_new); anything else is
 * CF_EINVAL naming fname. */
int cf__change_check_for(cf_engine *e, const char *applies_to, bool *for_new, const char *fname);

#endif
