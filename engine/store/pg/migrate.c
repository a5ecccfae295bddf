/*
 * migrate.c — the PostgreSQL backend's part of workflow versions and migrations:
 * the stored definitions of a workflow, how many instances run on each (per
 * state, through the index instance_by_definition), and the writes of a
 * migration (an instance moved to another definition, a kept timer given the
 * state it now belongs to).
 */
#include "store/pg/pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cf__pg_def_each(cf__pg *s, const char *name, cf__def_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, name);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_DEF_EACH, &p, &r, "listing stored workflow definitions", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(ud, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), strtoll(PQgetvalue(r, i, 2), NULL, 10)) != 0)
            break;
    PQclear(r);
    return CF_OK;
}

int cf__pg_def_states(cf__pg *s, const char *hash, cf__def_state_fn fn, void *ud, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, hash);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_DEF_STATES, &p, &r, "counting the instances of a workflow definition", err);
    if (rc != CF_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(ud, PQgetvalue(r, i, 0), strtoll(PQgetvalue(r, i, 1), NULL, 10)) != 0)
            break;
    PQclear(r);
    return CF_OK;
}

int cf__pg_instance_redefine(cf__pg *s, const cf__instance_row *row, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_text(&p, row->id);
    cf__pgp_text(&p, row->def_hash);
    cf__pgp_text(&p, row->state);
    cf__pgp_int(&p, row->updated_at);
    cf__pgp_int(&p, row->version);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_INST_REDEFINE, &p, &r, "moving an instance to another workflow definition", err);
    if (rc != CF_OK)
        return rc;
    bool changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!changed)
        return cf__fail(err, CF_ENOTFOUND, "no instance '%s' (list instances with cf_instance_list)", row->id);
    cf__pg_watch_note(s, "instance", row->id, 'u');
    return CF_OK;
}

int cf__pg_timer_set_state(cf__pg *s, int64_t id, const char *state, cf__err *err)
{
    cf__pgp p = {0};
    cf__pgp_int(&p, id);
    cf__pgp_text(&p, state);
    int rc = cf__pg_run(s, PG_TIMER_SET_STATE, &p, NULL, "moving a timer to a renamed state", err);
    if (rc == CF_OK)
        cf__pg_watch_note(s, "timer", p.v[0], 'u');
    return rc;
}
