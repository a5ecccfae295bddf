/*
 * rows.c — freeing the strings of the rows the storage interface hands out
 * (store.h: cf__instance_row, cf__timer_row, cf__outbox_row). No backend owns
 * them: each fills them, the engine clears them.
 */
#include "internal.h"

#include <stdlib.h>

void cf__instance_row_clear(cf__instance_row *row)
{
    free(row->workflow);
    free(row->def_hash);
    free(row->county);
    free(row->state);
    free(row->data);
    row->workflow = row->def_hash = row->county = row->state = row->data = NULL;
}

void cf__timer_row_clear(cf__timer_row *row)
{
    free(row->state);
    free(row->name);
    free(row->event);
    free(row->chain_root);
    row->state = row->name = row->event = row->chain_root = NULL;
}

void cf__outbox_row_clear(cf__outbox_row *row)
{
    free(row->target_id);
    free(row->event);
    free(row->data);
    free(row->chain_root);
    row->target_id = row->event = row->data = row->chain_root = NULL;
}
