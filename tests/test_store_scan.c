/* test_store_scan.c — the store's reads a county policy change makes (policy diff and
 * apply): a county's instances with their pending timers in one walk
 * (cf__store_instance_timers_each) and an instance's moves newest first
 * (cf__audit_moves). Runs on SQLite, and on PostgreSQL under ctest -L pg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct fx {
    char *dir;
    cf__store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    char *path = cft_path(f->dir, "scan.db");
    cf__err err = {{0}};
    if (cf__store_open(cft_db(path), 0, &f->s, &err) != CF_OK)
        fail_msg("open: %s", err.msg);
    free(path);
    assert_int_equal(cf__store_begin(f->s, &err), CF_OK);
    assert_int_equal(cf__store_def_put(f->s, HASH_A, "cert", "return {}", 10, &err), CF_OK);
    assert_int_equal(cf__store_commit(f->s, &err), CF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf__store_close(f->s);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* Inside the caller's transaction. */
static void put_instance(cf__store *s, const char *id, const char *county, const char *state, cf_time created)
{
    cf__instance_row row = {0};
    snprintf(row.id, sizeof row.id, "%s", id);
    row.workflow = (char *)"cert";
    row.def_hash = (char *)HASH_A;
    row.county = (char *)county;
    row.state = (char *)state;
    row.data = (char *)"{\"n\":1}";
    row.created_at = created;
    row.updated_at = created;
    row.version = 0;
    cf__err err = {{0}};
    assert_int_equal(cf__store_next_serial(s, &row.serial, &err), CF_OK);
    if (cf__store_instance_insert(s, &row, &err) != CF_OK)
        fail_msg("insert %s: %s", id, err.msg);
}

/* What the walk handed over: "id:timer,timer;" per instance. */
typedef struct walk {
    char text[512];
    int calls, stop_after;
} walk;

static int walk_row(void *ud, const cf__instance_row *row, const cf__timer_row *timers, size_t n)
{
    walk *w = ud;
    size_t used = strlen(w->text);
    snprintf(w->text + used, sizeof w->text - used, "%s/%s:", row->id, row->state);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(timers[i].instance_id, row->id);
        used = strlen(w->text);
        snprintf(w->text + used, sizeof w->text - used, "%s%s@%lld(%s,%s)", i ? "," : "", timers[i].name,
                 (long long)timers[i].due, timers[i].state, timers[i].event);
    }
    used = strlen(w->text);
    snprintf(w->text + used, sizeof w->text - used, ";");
    w->calls++;
    return w->stop_after && w->calls >= w->stop_after;
}

static void test_county_walk(void **state)
{
    fx *f = *state;
    cf__err err = {{0}};
    assert_int_equal(cf__store_begin(f->s, &err), CF_OK);
    /* made out of creation order: the walk goes by created_at, then serial */
    put_instance(f->s, "a", "kern", "s1", 10);
    put_instance(f->s, "b", "alameda", "s1", 5);
    put_instance(f->s, "c", "kern", "s2", 5);
    put_instance(f->s, "d", "kern", "s1", 20);
    put_instance(f->s, "e", "kern", "s1", 10); /* same created_at as a, made after it */
    assert_int_equal(cf__store_timer_add(f->s, "a", "s1", "late", "ev1", 300, &err), CF_OK);
    assert_int_equal(cf__store_timer_add(f->s, "a", "s1", "early", "ev2", 100, &err), CF_OK);
    assert_int_equal(cf__store_timer_add(f->s, "a", "s1", "tie", "ev3", 100, &err), CF_OK);
    assert_int_equal(cf__store_timer_add(f->s, "b", "s1", "other", "ev", 1, &err), CF_OK);
    assert_int_equal(cf__store_timer_add(f->s, "d", "s1", "only", "ev", 50, &err), CF_OK);
    assert_int_equal(cf__store_commit(f->s, &err), CF_OK);

    walk w = {{0}, 0, 0};
    assert_int_equal(cf__store_instance_timers_each(f->s, "kern", walk_row, &w, &err), CF_OK);
    assert_string_equal(w.text, "c/s2:;a/s1:early@100(s1,ev2),tie@100(s1,ev3),late@300(s1,ev1);e/s1:;"
                                "d/s1:only@50(s1,ev);");
    /* the order and the rows are those of cf__store_instance_list */
    walk all = {{0}, 0, 0};
    assert_int_equal(cf__store_instance_timers_each(f->s, NULL, walk_row, &all, &err), CF_OK);
    assert_int_equal(all.calls, 5);
    assert_non_null(strstr(all.text, "b/s1:other@1(s1,ev);"));

    walk one = {{0}, 0, 2}; /* the callback stops the walk */
    assert_int_equal(cf__store_instance_timers_each(f->s, "kern", walk_row, &one, &err), CF_OK);
    assert_int_equal(one.calls, 2);
    assert_string_equal(one.text, "c/s2:;a/s1:early@100(s1,ev2),tie@100(s1,ev3),late@300(s1,ev1);");

    walk none = {{0}, 0, 0};
    assert_int_equal(cf__store_instance_timers_each(f->s, "inyo", walk_row, &none, &err), CF_OK);
    assert_int_equal(none.calls, 0);
}

static void append(cf__store *s, const char *id, int64_t number, cf_time at, const char *event, const char *outcome,
                   const char *from, const char *to)
{
    cf__history_row h;
    memset(&h, 0, sizeof h);
    h.number = number;
    h.instance_id = id;
    h.at = at;
    h.effective_at = at + 1;
    h.actor = "test";
    h.event = event;
    h.data = "{}";
    h.outcome = outcome;
    h.from_state = from;
    h.to_state = to;
    h.reasons = "[]";
    h.policy_hash = "p";
    h.def_hash = HASH_A;
    cf__err err = {{0}};
    if (cf__audit_append(s, &h, &err) != CF_OK)
        fail_msg("append: %s", err.msg);
}

typedef struct moves {
    char text[512];
    int calls, stop_after;
} moves;

static int move_row(void *ud, const cf__history_row *h)
{
    moves *m = ud;
    size_t used = strlen(m->text);
    assert_string_equal(h->instance_id, "a");
    assert_string_equal(h->def_hash, HASH_A);
    assert_null(h->data);
    assert_null(h->actor);
    snprintf(m->text + used, sizeof m->text - used, "%lld:%s:%s:%s>%s@%lld;", (long long)h->number, h->event,
             h->outcome, h->from_state, h->to_state, (long long)h->effective_at);
    m->calls++;
    return m->stop_after && m->calls >= m->stop_after;
}

static void test_moves_newest_first(void **state)
{
    fx *f = *state;
    cf__err err = {{0}};
    assert_int_equal(cf__store_begin(f->s, &err), CF_OK);
    put_instance(f->s, "a", "kern", "s2", 10);
    put_instance(f->s, "z", "kern", "s1", 10);
    append(f->s, "a", 1, 10, "", "created", "", "s1");
    append(f->s, "z", 1, 11, "", "created", "", "s1");
    append(f->s, "a", 2, 20, "go", "applied", "s1", "s2");
    append(f->s, "a", 3, 30, "poke", "rejected", "s2", "s2");
    assert_int_equal(cf__store_commit(f->s, &err), CF_OK);

    moves m = {{0}, 0, 0};
    assert_int_equal(cf__audit_moves(f->s, "a", move_row, &m, &err), CF_OK);
    assert_string_equal(m.text, "3:poke:rejected:s2>s2@31;2:go:applied:s1>s2@21;1::created:>s1@11;");
    moves first = {{0}, 0, 2}; /* a reader that found what it looks for stops */
    assert_int_equal(cf__audit_moves(f->s, "a", move_row, &first, &err), CF_OK);
    assert_int_equal(first.calls, 2);
    moves none = {{0}, 0, 0};
    assert_int_equal(cf__audit_moves(f->s, "nobody", move_row, &none, &err), CF_OK);
    assert_int_equal(none.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_county_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moves_newest_first, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
