/*
 * test_migrate_nested.c — the live instances of the flat certification workflow
 * (tests/fixtures/nested/certification_flat.lua, the file as it was shipped) moved to
 * the shipped, nested one: docs/lifecycles.md, "Moving the flat certifications to the
 * nested workflow", replayed. A database holds certifications in every kind of live
 * flat state (draft, submitted, approved, certified with its timers, suspended, expired,
 * revoked); every ```console block of that section is run with the shipped workflows
 * (the dry run, the migration, the same again, verify) and its output compared with
 * the page (instance ids and 12-digit hashes as placeholders). Then through the API:
 * the plan as the page says it, the migrated instances firing as nested ones, their
 * kept timers firing under certified.active, verify sound.
 * With CF_DOC_PRINT set it prints each command's output instead of comparing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert_helpers.h"
#include "testutil.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC CF_SOURCE_DIR "/docs/lifecycles.md"
#define SECTION "### Moving the flat certifications to the nested workflow"

static const char *from_complaint(const char *complaint)
{
    return jf("{\"from\": \"%s\", \"from_workflow\": \"complaint\", \"from_state\": \"decided\"}", complaint);
}

/* A workflow folder with the flat certification workflow and the other shipped ones. */
static char *flat_workflows(void)
{
    char *dir = cft_tmpdir();
    static const char *const shipped[] = {"employment.lua", "supervision.lua", "complaint.lua", "scholarship.lua"};
    for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++) {
        char *from = cft_path(CF_SOURCE_DIR "/workflows", shipped[i]);
        char *text = cft_slurp(from);
        free(cft_write(dir, shipped[i], text));
        free(text);
        free(from);
    }
    char *flat = cft_slurp(CF_TEST_FIXTURES "/nested/certification_flat.lua");
    free(cft_write(dir, "certification.lua", flat));
    free(flat);
    return dir;
}

static const char *named(const char *name)
{
    return jf("{\"name\": \"%s\"}", name);
}

/* Certified (flat) on issue_day after approval on approve_day and an exam on exam_day. */
static void certify(sc *s, const char *name, char id[64], const char *approve_day, const char *exam_day,
                    const char *issue_day)
{
    on_day(s, approve_day);
    snprintf(id, 64, "%s", new_applicant(s, named(name)));
    submit(s, id);
    sc_expect(s, id, "approve", NULL, CF_OK);
    trained(s, id);
    schedule(s, id, jf("%sT17:00:00Z", exam_day), "in_person");
    on_day(s, issue_day);
    assert_int_equal(result(s, id, "pass", 88, exam_day), CF_OK);
    assert_string_equal(sc_state(s, id), "certified");
}

typedef struct world {
    sc *s;
    char *flat;
    char eve[64], ana[64], ben[64], gus[64], dan[64], cy[64], fay[64];
} world;

/* The page's starting point (docs/lifecycles.md says it in words). */
static void live_flat_certifications(world *w)
{
    w->flat = flat_workflows();
    w->s = sc_open_workflows("2024-02-01T17:00:00Z", w->flat);
    sc *s = w->s;
    certify(s, "Eve Lund", w->eve, "2024-02-01", "2024-02-10", "2024-02-12");
    certify(s, "Ana Ruiz", w->ana, "2024-02-01", "2024-02-10", "2024-02-12");
    certify(s, "Ben Cho", w->ben, "2024-02-01", "2024-02-10", "2024-02-12");
    certify(s, "Gus Hale", w->gus, "2024-02-01", "2024-02-10", "2024-02-12");
    on_day(s, "2024-03-01");
    sc_expect(s, w->ben, "suspend", from_complaint("complaint-1"), CF_OK);
    assert_string_equal(sc_state(s, w->ben), "suspended");
    sc_expect(s, w->gus, "revoke", from_complaint("complaint-2"), CF_OK);
    assert_string_equal(sc_state(s, w->gus), "revoked");
    /* Eve's certification ended early (the expiry event, as its timer fires it) */
    sc_expect(s, w->eve, "expire", NULL, CF_OK);
    assert_string_equal(sc_state(s, w->eve), "expired");
    on_day(s, "2024-03-04");
    snprintf(w->dan, 64, "%s", new_applicant(s, named("Dan Ortiz")));
    submit(s, w->dan);
    snprintf(w->cy, 64, "%s", new_applicant(s, named("Cy Park")));
    submit(s, w->cy);
    sc_expect(s, w->cy, "approve", NULL, CF_OK);
    snprintf(w->fay, 64, "%s", new_applicant(s, named("Fay Dunn")));
    cf_engine_close(s->e);
    s->e = NULL;
}

/* ---- the page ---- */

static void mask(char *s)
{
    /* verify's last clause names the backend's own check (SQLite's integrity check,
     * or PostgreSQL's tables): the page shows SQLite's, the test runs on both */
    char *tail = strstr(s, "agree with it; ");
    if (tail) {
        tail += strlen("agree with it; ");
        char *eol = strchr(tail, '\n');
        memmove(tail, eol ? eol : tail + strlen(tail), strlen(eol ? eol : tail + strlen(tail)) + 1);
    }
    for (char *p = s; *p; p++) {
        bool id = strlen(p) >= 36;
        for (int i = 0; id && i < 36; i++)
            id = (i == 8 || i == 13 || i == 18 || i == 23) ? p[i] == '-' : isxdigit((unsigned char)p[i]) != 0;
        if (id) {
            memcpy(p, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", 36);
            p += 35;
            continue;
        }
        if (p != s && isalnum((unsigned char)p[-1]))
            continue;
        size_t n = 0;
        while (isxdigit((unsigned char)p[n]) && !isupper((unsigned char)p[n]))
            n++;
        if (n == 12 && !isalnum((unsigned char)p[n])) {
            memcpy(p, "hhhhhhhhhhhh", 12);
            p += 11;
        }
    }
}

static void run_command(world *w, const char *cmdline, const char *expected)
{
    char line[1024];
    snprintf(line, sizeof line, "%s", cmdline);
    const char *words[64];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save))
        words[n++] = t;
    words[n] = NULL;
    assert_true(n >= 1 && strcmp(words[0], "certflow") == 0);
    cft_run r = cft_certflow(w->s->dir, words + 1);
    size_t len = strlen(r.out) + strlen(r.err) + 1;
    char *got = malloc(len);
    assert_non_null(got);
    snprintf(got, len, "%s%s", r.out, r.err);
    char *want = strdup(expected);
    assert_non_null(want);
    if (getenv("CF_DOC_PRINT"))
        printf("$ %s\n%s", cmdline, got);
    mask(got);
    mask(want);
    if (!getenv("CF_DOC_PRINT") && strcmp(got, want) != 0)
        fail_msg("`%s` (exit %d) printed:\n%s\nbut docs/lifecycles.md shows:\n%s", cmdline, r.code, got, want);
    free(got);
    free(want);
    cft_run_free(&r);
}

/* Run the commands of one ```console block: "$ certflow ..." lines, each followed by its output. */
static void run_console(world *w, const char *block)
{
    const char *p = block;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        assert_true(n > 2 && strncmp(p, "$ ", 2) == 0);
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%.*s", (int)(n - 2), p + 2);
        p = eol ? eol + 1 : p + n;
        const char *next = p;
        while (*next && strncmp(next, "$ ", 2) != 0) {
            const char *e2 = strchr(next, '\n');
            next = e2 ? e2 + 1 : next + strlen(next);
        }
        char *expected = strndup(p, (size_t)(next - p));
        run_command(w, cmd, expected);
        free(expected);
        p = next;
    }
}

static int replay_page(world *w)
{
    char *doc = cft_slurp(DOC);
    char *sec = strstr(doc, "\n" SECTION "\n");
    if (!sec)
        fail_msg("docs/lifecycles.md has no section \"%s\"", SECTION);
    char *end = strstr(sec + 1, "\n### ");
    if (end)
        *end = '\0';
    int console = 0;
    for (char *p = strstr(sec, "\n```console\n"); p; p = strstr(p, "\n```console\n")) {
        char *body = p + strlen("\n```console\n");
        char *close = strstr(body, "```");
        assert_non_null(close);
        *close = '\0';
        run_console(w, body);
        console++;
        p = close + 3;
    }
    free(doc);
    return console;
}

/* ---- what the page claims, through the API ---- */

static json_t *plan_of(world *w, const char *id)
{
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "certification";
    char *text = NULL;
    if (cf_migrate_plan(w->s->e, &o, &text) != CF_OK)
        fail_msg("plan: %s", cf_errmsg(w->s->e));
    json_t *doc = json_loads(text, 0, NULL);
    cf_free(text);
    assert_non_null(doc);
    size_t i;
    json_t *in, *found = NULL;
    json_array_foreach(json_object_get(doc, "instances"), i, in)
    {
        if (strcmp(json_string_value(json_object_get(in, "id")), id) == 0)
            found = json_incref(in);
    }
    json_decref(doc);
    assert_non_null(found);
    return found;
}

/* "action state.timer" of the plan's k-th timer of an instance. */
static const char *timer_at(json_t *in, size_t k)
{
    json_t *t = json_array_get(json_object_get(in, "timers"), k);
    assert_non_null(t);
    return jf("%s %s.%s", json_string_value(json_object_get(t, "action")), json_string_value(json_object_get(t, "state")),
              json_string_value(json_object_get(t, "timer")));
}

static void check_plan(world *w)
{
    struct {
        const char *id, *from, *to;
        size_t ntimers;
    } want[] = {
        {w->eve, "expired", "expired", 1},   {w->ana, "certified", "certified.active", 3},
        {w->ben, "suspended", "certified.suspended", 0}, {w->gus, "revoked", "revoked", 0},
        {w->dan, "submitted", "submitted", 1}, {w->cy, "approved", "approved", 1},
        {w->fay, "draft", "draft", 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        json_t *in = plan_of(w, want[i].id);
        if (getenv("CF_DOC_PRINT")) {
            char *t = json_dumps(in, JSON_COMPACT);
            printf("%s\n", t);
            free(t);
            json_decref(in);
            continue;
        }
        assert_true(json_is_true(json_object_get(in, "movable")));
        assert_string_equal(json_string_value(json_object_get(in, "from_state")), want[i].from);
        assert_string_equal(json_string_value(json_object_get(in, "to_state")), want[i].to);
        assert_int_equal(json_array_size(json_object_get(in, "timers")), want[i].ntimers);
        json_decref(in);
    }
    /* the flat certified state's timers run on in the nested active one, kept under its path */
    json_t *ana = plan_of(w, w->ana);
    for (size_t k = 0; k < 3; k++)
        assert_true(strncmp(timer_at(ana, k), "keep certified.active.", strlen("keep certified.active.")) == 0);
    json_decref(ana);
    json_t *eve = plan_of(w, w->eve);
    assert_string_equal(timer_at(eve, 0), "keep expired.reinstatement_limit");
    json_decref(eve);
}

static int count(void *ud, const cf_instance_info *info)
{
    (void)info;
    ++*(int *)ud;
    return 0;
}

static int listed(sc *s, const char *state)
{
    cf_instance_filter f = CF_INSTANCE_FILTER_INIT;
    f.workflow = "certification";
    f.state = state;
    int n = 0;
    assert_int_equal(cf_instance_list(s->e, &f, count, &n), CF_OK);
    return n;
}

typedef struct timers_of {
    const char *id;
    char names[8][96];
    int n;
} timers_of;

static int timer_row(void *ud, const cf_timer_info *t)
{
    timers_of *x = ud;
    if (strcmp(t->instance_id, x->id) == 0 && x->n < 8)
        snprintf(x->names[x->n++], 96, "%s.%s", t->state, t->name);
    return 0;
}

static void test_flat_instances_move_to_the_nested_workflow(void **state)
{
    (void)state;
    world w;
    memset(&w, 0, sizeof w);
    live_flat_certifications(&w);
    sc *s = w.s;
    char *db = cft_path(s->dir, "scenario.db");
    setenv("CERTFLOW_DB", cft_db(db), 1); /* the same database on PostgreSQL too */
    setenv("CERTFLOW_WORKFLOWS", CF_SOURCE_DIR "/workflows", 1);
    setenv("CERTFLOW_POLICIES", CF_SOURCE_DIR "/lua", 1);
    setenv("CERTFLOW_PLUGINS", CF_BINARY_DIR "/plugins", 1);
    setenv("USER", "admin", 1);

    /* the plan through the API, before the page's commands migrate */
    sc_reopen(s, NULL);
    check_plan(&w);
    cf_engine_close(s->e);
    s->e = NULL;

    assert_int_equal(replay_page(&w), 3);

    sc_reopen(s, NULL);
    on_day(s, "2024-03-06");
    /* on the nested definition now: the flat names are gone */
    const char *ids[] = {w.eve, w.ana, w.ben, w.gus, w.dan, w.cy, w.fay};
    const char *states[] = {"expired", "certified.active", "certified.suspended", "revoked", "submitted", "approved",
                            "draft"};
    char nested_hash[65] = "";
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        assert_int_equal(cf_instance_get(s->e, ids[i], &info), CF_OK);
        assert_string_equal(info.state, states[i]);
        if (!nested_hash[0])
            snprintf(nested_hash, sizeof nested_hash, "%s", info.definition);
        assert_string_equal(info.definition, nested_hash);
    }
    assert_int_equal(listed(s, "certified"), 2);
    timers_of ana = {w.ana, {{0}}, 0};
    assert_int_equal(cf_timer_list(s->e, 0, INT64_MAX, timer_row, &ana), CF_OK);
    assert_int_equal(ana.n, 3);
    for (int i = 0; i < ana.n; i++)
        assert_true(strncmp(ana.names[i], "certified.active.", strlen("certified.active.")) == 0);

    /* they behave as nested instances: the parent's corrective action applies in suspended */
    sc_expect(s, w.ben, "corrective_action", from_complaint("complaint-1"), CF_OK);
    assert_string_equal(sc_state(s, w.ben), "certified.suspended");
    sc_expect(s, w.ben, "restore", from_complaint("complaint-1"), CF_OK);
    assert_string_equal(sc_state(s, w.ben), "certified.active");
    assert_string_equal(dget(s, w.ben, "registry_status"), "active");
    sc_expect(s, w.ana, "suspend", from_complaint("complaint-3"), CF_OK);
    assert_string_equal(sc_state(s, w.ana), "certified.suspended");
    sc_expect(s, w.ana, "lift_suspension", from_complaint("complaint-3"), CF_OK);
    assert_string_equal(sc_state(s, w.ana), "certified.active");
    /* a certification issued on the nested definition meets them */
    on_day(s, "2024-04-01");
    const char *hal = certified_on(s, "2024-04-01", "2024-04-10T17:00:00Z", "2024-04-12");
    assert_int_equal(listed(s, "certified"), 3);
    /* the kept timers fire on the nested definition: Dan's review clock, then in 2026 the
     * expiry of Ana's two years (kept under certified.active), not of Hal's */
    timers_of dan = {w.dan, {{0}}, 0};
    sc_tick(s, "2024-06-01T17:00:00Z");
    assert_int_equal(cf_timer_list(s->e, 0, INT64_MAX, timer_row, &dan), CF_OK);
    assert_int_equal(dan.n, 0);
    sc_tick(s, "2026-02-20T17:00:00Z");
    assert_string_equal(sc_state(s, w.ana), "expired");
    assert_string_equal(sc_state(s, hal), "certified.active");

    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(s->e, &rep) != CF_OK)
        fail_msg("verify: %s", cf_errmsg(s->e));
    assert_int_equal(rep.problems, 0);

    /* the same migration again changes nothing */
    cf_migrate_options o = CF_MIGRATE_OPTIONS_INIT;
    o.workflow = "certification";
    char *text = NULL;
    assert_int_equal(cf_migrate_apply(s->e, &o, &text), CF_OK);
    json_t *doc = json_loads(text, 0, NULL);
    cf_free(text);
    assert_int_equal(json_integer_value(json_object_get(doc, "migrated")), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "candidates")), 0);
    json_decref(doc);

    free(db);
    sc_close(s);
    cft_rmtree(w.flat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_instances_move_to_the_nested_workflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
