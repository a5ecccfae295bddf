/*
 * send.c — the one path by which an event goes to another instance. A
 * workflow's `send` over a link (instance.c, queue_sends) and a plugin action's
 * host `send` (plugin_host.c, through the cf__send_fn the engine hands the
 * plugins at open) both call cf__send: the target is checked the same way for
 * both, and the event is queued in the outbox, to be delivered after the
 * sending transition commits (timer.c, cf__engine_deliver).
 */
#include "internal.h"

#include <string.h>

int cf__send(cf_engine *e, const cf__send_msg *m, bool *refused, cf__err *err)
{
    *refused = false;
    cf__instance_row target = {0};
    int rc = cf__store_instance_get(e->store, m->target_id, &target, err);
    cf__workflow *wf = NULL;
    if (rc == CF_ENOTFOUND) {
        *refused = true;
        rc = cf__fail(err, CF_ENOTFOUND, "there is no instance %s", m->target_id);
    } else if (rc != CF_OK) {
        /* the store's message is in err */
    } else if (m->workflow && strcmp(target.workflow, m->workflow) != 0) {
        *refused = true;
        rc = cf__fail(err, CF_EINVAL, "instance %s is a '%s' instance, not a '%s' one", m->target_id,
                      target.workflow, m->workflow);
    } else if ((rc = cf__engine_definition(e, target.def_hash, &wf)) != CF_OK) {
        if (err != &e->err)
            *err = e->err;
    } else if (cf__workflow_event(wf, m->event) < 0) {
        /* Refused now rather than queued for a delivery that could never apply it. */
        *refused = true;
        rc = cf__fail(err, CF_ENOTFOUND, "workflow '%s' of instance %s has no event '%s'", wf->name, m->target_id,
                      m->event);
    } else {
        rc = cf__store_outbox_add(e->store, m->from_id, m->target_id, m->event, m->data, m->at, err);
    }
    cf__instance_row_clear(&target);
    return rc;
}
