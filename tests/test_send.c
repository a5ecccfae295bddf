/* test_send.c — the one path for sending an event to another instance
 * (engine/core/send.c, cf__send): a workflow's send over a link and a plugin's
 * host send take it with the same checks (the target exists, is of the link's
 * workflow when one is named, and its own definition knows the event); a
 * refused send queues nothing and the sending transition leaves no trace.
 * Fixture: tests/fixtures/engine (permit sends ledger "entry" over a link). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "sqlite_peek.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    char *db;
    cft_clock clock;
    cf_engine *e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "test.db");
    f->clock.now = cft_time("2025-01-06T17:00:00Z");
    f->e = cft_open_fixture(f->db, &f->clock);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cf_engine_close(f->e);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void create(fixture *f, const char *wf, const char *data, char id[37])
{
    if (cf_instance_create(f->e, wf, "alameda", data, "tester", id) != CF_OK)
        fail_msg("create %s: %s", wf, cf_errmsg(f->e));
}

static int64_t outbox(fixture *f)
{
    return cft_sql_int(f->db, "SELECT count(*) FROM outbox", NULL);
}

/* cf__send inside a transaction it then rolls back; *refused and the message out. */
static int send_once(fixture *f, const char *from, const char *target, const char *workflow, const char *event,
                     bool *refused, cf__err *err)
{
    assert_int_equal(cf__store_begin(f->e->store, &f->e->err), CF_OK);
    cf__send_msg m = {from, target, workflow, event, "{}", f->clock.now};
    int rc = cf__send(f->e, &m, refused, err);
    cf__store_rollback(f->e->store);
    return rc;
}

/* The checks themselves, for any sender. */
static void test_send_checks_the_target(void **state)
{
    fixture *f = *state;
    char ledger[37], permit[37];
    create(f, "ledger", NULL, ledger);
    create(f, "permit", NULL, permit);
    cf__err err;
    bool refused = true;

    assert_int_equal(send_once(f, permit, ledger, "ledger", "entry", &refused, &err), CF_OK);
    assert_false(refused);
    assert_int_equal(send_once(f, permit, ledger, NULL, "entry", &refused, &err), CF_OK);
    assert_false(refused);

    assert_int_equal(send_once(f, permit, "00000000-0000-4000-8000-000000000000", NULL, "entry", &refused, &err),
                     CF_ENOTFOUND);
    assert_true(refused);
    assert_non_null(strstr(err.msg, "there is no instance 00000000-0000-4000-8000-000000000000"));

    assert_int_equal(send_once(f, ledger, permit, "ledger", "entry", &refused, &err), CF_EINVAL);
    assert_true(refused);
    assert_non_null(strstr(err.msg, "is a 'permit' instance, not a 'ledger' one"));

    /* The target's own definition decides which events it knows. */
    assert_int_equal(send_once(f, permit, ledger, NULL, "approve", &refused, &err), CF_ENOTFOUND);
    assert_true(refused);
    assert_non_null(strstr(err.msg, "workflow 'ledger' of instance"));
    assert_non_null(strstr(err.msg, "has no event 'approve'"));
    assert_int_equal(outbox(f), 0);
}

/* A workflow's send over a link to an instance of another workflow: the same
 * check, worded with the link; the transition fails whole. */
static void test_link_send_refused_leaves_no_trace(void **state)
{
    fixture *f = *state;
    char other[37], sender[37], data[128];
    create(f, "permit", NULL, other);
    snprintf(data, sizeof data, "{\"ledger_id\":\"%s\"}", other);
    create(f, "permit", data, sender);
    assert_int_equal(cf_instance_fire(f->e, sender, "post", NULL, "t", NULL, NULL), CF_EACTION);
    const char *msg = cf_errmsg(f->e);
    assert_non_null(strstr(msg, "link 'ledger' (fix data field 'ledger_id')"));
    assert_non_null(strstr(msg, "is a 'permit' instance, not a 'ledger' one"));
    assert_non_null(strstr(msg, "rolled back"));
    assert_int_equal(cft_history_count(f->e, sender), 1);
    assert_int_equal(cft_history_count(f->e, other), 1);
    assert_int_equal(outbox(f), 0);

    /* A link naming an instance that does not exist. */
    char lost[37];
    create(f, "permit", "{\"ledger_id\":\"00000000-0000-4000-8000-000000000000\"}", lost);
    assert_int_equal(cf_instance_fire(f->e, lost, "post", NULL, "t", NULL, NULL), CF_EACTION);
    assert_non_null(strstr(cf_errmsg(f->e), "link 'ledger' (fix data field 'ledger_id'): there is no instance"));
    assert_int_equal(cft_history_count(f->e, lost), 1);
    assert_int_equal(outbox(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_checks_the_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_send_refused_leaves_no_trace, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
