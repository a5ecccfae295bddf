/*
 * door.c — the door every public call on a handle passes: the handle must have
 * opened (otherwise the open's own failure and message come back), and the
 * message of the previous call is cleared. Kept apart from engine.c (which opens
 * and closes the handle) so that the files a handle's open calls into can use it
 * without calling back into engine.c.
 */
#include "internal.h"

void cf__engine_begin_call(cf_engine *e)
{
    e->err.msg[0] = '\0';
}

int cf__engine_usable(cf_engine *e)
{
    if (!e)
        return CF_EINVAL;
    if (e->open_rc != CF_OK) {
        /* Keep the open failure's message: it says what to fix. */
        return e->open_rc;
    }
    cf__engine_begin_call(e);
    return CF_OK;
}
