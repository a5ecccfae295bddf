/*
 * test_cli_migrate.c — certflow workflow versions | diff and certflow migrate
 * through the built command: text and --json output, exit codes (1 when an
 * instance cannot move, 2 usage, 3 unknown version, 4 a bad map that changes
 * nothing), the second run that changes nothing, verify after, and certflow
 * check refusing a policy that drops a live version's guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_HEAD                                                                                  \
    "local P = {}\nP.params = { review_days = 10 }\nP.overridable = {}\n"                             \
    "P.guards = {}\nP.assigns = {}\nP.deadlines = {}\n"                                               \
    "function P.deadlines.review_due(inst, ctx) return date.add_days(ctx.today, params.review_days) end\n"

static const char *V1 = "return { name = 'app', initial = 'draft', events = { 'submit', 'approve' },\n"
                        "  states = { draft = {}, review = { timers = { { name = 'sla', after = 'review_due', event "
                        "= 'approve' } } }, done = { terminal = true } },\n"
                        "  transitions = { { from = 'draft', event = 'submit', to = 'review', guard = 'old_check' },\n"
                        "    { from = 'review', event = 'approve', to = 'done' } } }\n";
static const char *V2 = "return { name = 'app', initial = 'draft', events = { 'submit', 'approve' },\n"
                        "  states = { draft = {}, checking = { timers = { { name = 'sla', after = 'review_due', "
                        "event = 'approve' } } }, done = { terminal = true } },\n"
                        "  transitions = { { from = 'draft', event = 'submit', to = 'checking' },\n"
                        "    { from = 'checking', event = 'approve', to = 'done' } } }\n";

typedef struct fx {
    char *dir;
    char id1[37], id2[37];
} fx;

/* Run certflow in f->dir with the folder's database, version `wf` ("wf1"/"wf2") and policy `lua`. */
static cft_run cf(fx *f, const char *wf, const char *lua, ...)
{
    char db[1024], wfd[1024], pol[1024], plug[1024];
    snprintf(db, sizeof db, "--db=%s/m.db", f->dir);
    snprintf(wfd, sizeof wfd, "--workflows=%s/%s", f->dir, wf);
    snprintf(pol, sizeof pol, "--policies=%s/%s", f->dir, lua);
    snprintf(plug, sizeof plug, "--plugins=%s/plugins", f->dir); /* none */
    const char *prefix[] = {db, wfd, pol, plug, "--now=2025-03-04T12:00:00Z", NULL};
    va_list ap;
    va_start(ap, lua);
    cft_run r = cft_certflow_va(f->dir, prefix, ap);
    va_end(ap);
    return r;
}

static void expect(cft_run *r, int code, const char *text)
{
    if (r->code != code || (text && !strstr(r->out, text) && !strstr(r->err, text)))
        fail_msg("expected exit %d and '%s'; got exit %d\nstdout: %s\nstderr: %s", code, text ? text : "", r->code,
                 r->out, r->err);
    cft_run_free(r);
}

static void new_instance(fx *f, char id[37])
{
    cft_run r = cf(f, "wf1", "lua", "new", "app", "--county", "alameda", NULL);
    assert_int_equal(r.code, 0);
    snprintf(id, 37, "%.36s", r.out);
    cft_run_free(&r);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    free(cft_write(f->dir, "wf1/app.lua", V1));
    free(cft_write(f->dir, "wf2/app.lua", V2));
    free(cft_write(f->dir, "lua/policy/state.lua", POLICY_HEAD "function P.guards.old_check() return true end\nreturn P\n"));
    free(cft_write(f->dir, "reduced/policy/state.lua", POLICY_HEAD "return P\n"));
    free(cft_write(f->dir, "plugins/none.txt", "no plugins here\n"));
    new_instance(f, f->id1);
    new_instance(f, f->id2);
    cft_run r = cf(f, "wf1", "lua", "fire", f->id2, "submit", NULL);
    expect(&r, 0, "applied");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void test_versions_and_diff(void **state)
{
    fx *f = *state;
    cft_run r = cf(f, "wf2", "lua", "workflow", "versions", "app", NULL);
    expect(&r, 0, "workflow  version       first stored          current  live  ended");
    r = cf(f, "wf2", "lua", "workflow", "versions", "--json", NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    json_t *v = json_array_get(json_object_get(doc, "versions"), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "live")), 2);
    char old[13];
    snprintf(old, sizeof old, "%.12s", json_string_value(json_object_get(v, "hash")));
    json_decref(doc);
    cft_run_free(&r);

    r = cf(f, "wf2", "lua", "workflow", "diff", "app", old, "current", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "state      removed review"));
    assert_non_null(strstr(r.out, "state      added   checking"));
    assert_non_null(strstr(r.out, "transition removed draft --submit--> review (guards: old_check; actions: none)"));
    cft_run_free(&r);
    r = cf(f, "wf2", "lua", "workflow", "diff", "app", old, "current", "--json", NULL);
    assert_int_equal(r.code, 0);
    doc = json_loads(r.out, 0, NULL);
    assert_true(json_array_size(json_object_get(doc, "changes")) > 3);
    json_decref(doc);
    cft_run_free(&r);

    r = cf(f, "wf2", "lua", "workflow", "diff", "app", "ffffffff", "current", NULL);
    expect(&r, 3, "no stored version of workflow 'app' has a hash starting with 'ffffffff'");
    r = cf(f, "wf2", "lua", "workflow", "diff", "app", "ffffffff", "current", NULL);
    expect(&r, 3, "see `certflow workflow versions` of 'app'"); /* the command's terms */
    r = cf(f, "wf2", "lua", "workflow", "diff", "app", old, NULL);
    expect(&r, 2, "workflow diff takes NAME OLD NEW");
    r = cf(f, "wf2", "lua", "workflow", "show", NULL);
    expect(&r, 2, "unknown workflow subcommand 'show'");
}

static void test_migrate(void **state)
{
    fx *f = *state;
    /* review has no state of that name in version 2: the dry run says so, exit 1 */
    cft_run r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", "--dry-run", NULL);
    expect(&r, 1, "cannot move: state 'review' has no mapping");
    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", "--map", "review=nowhere", NULL);
    expect(&r, 4, "has no state 'nowhere'");
    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", "--where", "colour=red", NULL);
    expect(&r, 2, "--where takes county=COUNTY or state=STATE");
    r = cf(f, "wf2", "lua", "migrate", "app", "--dry-run", NULL);
    expect(&r, 2, "--to");
    /* nothing moved so far */
    r = cf(f, "wf2", "lua", "history", f->id2, NULL);
    assert_int_equal(r.code, 0);
    assert_null(strstr(r.out, "(migrate)"));
    cft_run_free(&r);

    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", "--map", "review=checking", "--dry-run", NULL);
    expect(&r, 0, "keep      checking.sla fires approve, due 2025-03-14T07:00:00Z");
    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", "--map", "review=checking", "--where",
           "state=review", "--actor", "ops", "--json", NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "migrated")), 1);
    json_decref(doc);
    cft_run_free(&r);
    r = cf(f, "wf2", "lua", "history", f->id2, NULL);
    expect(&r, 0, "ops    (migrate)  applied  review -> checking");
    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", NULL);
    expect(&r, 0, "1 to move, 1 movable, 0 blocked, 1 migrated");
    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", NULL);
    expect(&r, 0, "0 to move, 0 movable, 0 blocked, 0 migrated (0 ended left as they are, 2 on it already)");
    r = cf(f, "wf2", "lua", "verify", NULL);
    expect(&r, 0, "ok:");
}

static void test_check_refuses_a_policy_that_breaks_a_live_version(void **state)
{
    fx *f = *state;
    cft_run r = cf(f, "wf2", "reduced", "check", NULL);
    expect(&r, 4, "names guard 'old_check' at transition draft --submit--> review, which the policy no longer defines");
    r = cf(f, "wf2", "reduced", "list", NULL);
    expect(&r, 4, "migrate them first (`certflow migrate` of 'app', to the current version)");
    r = cf(f, "wf2", "lua", "migrate", "app", "--to", "current", "--map", "review=checking", NULL);
    expect(&r, 0, "2 migrated");
    r = cf(f, "wf2", "reduced", "check", NULL);
    expect(&r, 0, "ok:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions_and_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_refuses_a_policy_that_breaks_a_live_version, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
