/*
 * test_migrate_certification.c — the worked example of docs/workflows.md,
 * "Changing a shipped workflow safely", replayed: live certifications of the
 * shipped workflow (one in draft, two submitted, one approved) in a copy of the
 * workflows folder; then, in the page's order, every ```lua block of the
 * section is appended to that copy of certification.lua (the new version) and
 * every ```console block is run, each command's output compared with the page
 * (instance ids and 12-digit hashes compared as placeholders). Then what the
 * page claims is checked through the API: every live instance on the new
 * version, the timers kept, the one that had fired not armed again, verify sound.
 * With CF_DOC_PRINT set it prints each command's output instead of comparing (ids
 * as they are), to write the page again after the workflow changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC CF_SOURCE_DIR "/docs/workflows.md"
#define SECTION "## Changing a shipped workflow safely"

typedef struct world {
    char *dir, *db, *workflows;
    cft_clock clock;
    char ana[37], ben[37], cy[37], dan[37];
} world;

static void copy_workflows(world *w)
{
    DIR *d = opendir(CF_SOURCE_DIR "/workflows");
    assert_non_null(d);
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t n = strlen(ent->d_name);
        if (n < 5 || strcmp(ent->d_name + n - 4, ".lua") != 0)
            continue;
        char src[1024], rel[512];
        snprintf(src, sizeof src, "%s/workflows/%s", CF_SOURCE_DIR, ent->d_name);
        snprintf(rel, sizeof rel, "workflows/%s", ent->d_name);
        char *text = cft_slurp(src);
        free(cft_write(w->dir, rel, text));
        free(text);
    }
    closedir(d);
}

static cf_engine *open_engine(world *w)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = w->workflows;
    o.policy_dir = CF_SOURCE_DIR "/lua";
    o.plugin_dir = CF_BINARY_DIR "/plugins";
    o.clock = cft_clock_now;
    o.clock_ud = &w->clock;
    cf_engine *e = NULL;
    if (cf_engine_open(w->db, &o, &e) != CF_OK)
        fail_msg("open: %s", cf_errmsg(e));
    return e;
}

static void applicant(cf_engine *e, const char *name, char id[37])
{
    char data[512];
    snprintf(data, sizeof data,
             "{\"name\": \"%s\", \"birth_date\": \"1990-05-01\", \"education\": \"high_school\", "
             "\"lived_experience\": \"consumer\", \"attests_willingness\": true, \"ethics_version\": \"2021-07-26\", "
             "\"ethics_signed_on\": \"2024-01-05\", \"email\": \"a@example.org\"}",
             name);
    if (cf_instance_create(e, "certification", "san_diego", data, "applicant", id) != CF_OK)
        fail_msg("create %s: %s", name, cf_errmsg(e));
}

/* The page's starting point (docs/workflows.md says it in words). */
static void live_certifications(world *w)
{
    w->clock.now = cft_time("2024-12-02T20:00:00Z");
    cf_engine *e = open_engine(w);
    applicant(e, "Dan Ortiz", w->dan);
    cft_fire(e, w->dan, "submit", "{\"fee_paid\": 100}", CF_OK);
    w->clock.now = cft_time("2025-02-10T20:00:00Z");
    applicant(e, "Ana Ruiz", w->ana);
    applicant(e, "Ben Cho", w->ben);
    applicant(e, "Cy Park", w->cy);
    cft_fire(e, w->ben, "submit", "{\"fee_paid\": 100}", CF_OK);
    cft_fire(e, w->cy, "submit", "{\"fee_paid\": 100}", CF_OK);
    cft_fire(e, w->cy, "approve", NULL, CF_OK);
    /* Dan's review was due in January: review_overdue fired, his review_sla is gone */
    uint64_t fired = 0;
    assert_int_equal(cf_engine_tick(e, w->clock.now, &fired), CF_OK);
    assert_int_equal(fired, 1);
    cf_engine_close(e);
}

/* ---- the page ---- */

static void mask(char *s)
{
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

/* The old version's 12 digits, which the page's commands name. */
static char old_hash[13];

/* Split a command line into words (no quoting needed by the page). */
static int words_of(char *line, const char **words, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < max - 1; t = strtok_r(NULL, " ", &save))
        words[n++] = t;
    words[n] = NULL;
    return n;
}

static void run_command(world *w, const char *cmdline, const char *expected)
{
    char line[1024];
    snprintf(line, sizeof line, "%s", cmdline);
    const char *words[64];
    int n = words_of(line, words, 64);
    assert_true(n >= 1 && strcmp(words[0], "certflow") == 0);
    /* a 12-digit hash in a command is the old version's */
    for (int i = 1; i < n; i++) {
        size_t k = strlen(words[i]);
        bool hex = k == 12;
        for (size_t j = 0; hex && j < k; j++)
            hex = isxdigit((unsigned char)words[i][j]) && !isupper((unsigned char)words[i][j]);
        if (hex)
            words[i] = old_hash;
    }
    cft_run r = cft_certflow(w->dir, words + 1);
    size_t len = strlen(r.out) + strlen(r.err) + 1;
    char *got = malloc(len);
    assert_non_null(got);
    snprintf(got, len, "%s%s", r.out, r.err);
    char *want = strdup(expected);
    assert_non_null(want);
    if (getenv("CF_DOC_PRINT")) /* to write the page: print what each command prints now */
        printf("$ %s\n%s", cmdline, got);
    mask(got);
    mask(want);
    if (!getenv("CF_DOC_PRINT") && strcmp(got, want) != 0)
        fail_msg("`%s` (exit %d) printed:\n%s\nbut docs/workflows.md shows:\n%s", cmdline, r.code, got, want);
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

/* The page's Lua: appended to the copy of certification.lua, whose table then
 * goes into a local named `certification` instead of being returned at once. */
static void apply_lua(world *w, const char *block)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/certification.lua", w->workflows);
    char *text = cft_slurp(path);
    char *ret = strstr(text, "\nreturn {");
    if (!ret || strstr(ret + 1, "\nreturn {"))
        fail_msg("workflows/certification.lua no longer ends with one `return {`: update the example of "
                 "docs/workflows.md, \"Changing a shipped workflow safely\"");
    size_t len = strlen(text) + strlen(block) + 64;
    char *out = malloc(len);
    assert_non_null(out);
    snprintf(out, len, "%.*s\nlocal certification = {%s\n%s", (int)(ret - text), text, ret + strlen("\nreturn {"),
             block);
    free(cft_write(w->workflows, "certification.lua", out));
    free(out);
    free(text);
}

static void replay_page(world *w)
{
    char *doc = cft_slurp(DOC);
    char *sec = strstr(doc, "\n" SECTION "\n");
    if (!sec)
        fail_msg("docs/workflows.md has no section \"%s\"", SECTION);
    char *end = strstr(sec + 1, "\n## ");
    if (end)
        *end = '\0';
    int lua = 0, console = 0;
    for (char *p = strstr(sec, "\n```"); p; p = strstr(p, "\n```")) {
        p += 4;
        char *body = strchr(p, '\n');
        assert_non_null(body);
        body++;
        char *close = strstr(body, "```\n");
        if (!close)
            close = strstr(body, "```");
        assert_non_null(close);
        *close = '\0';
        if (strncmp(p, "lua\n", 4) == 0) {
            apply_lua(w, body);
            lua++;
        } else if (strncmp(p, "console\n", 8) == 0) {
            run_console(w, body);
            console++;
        }
        p = close + 3;
    }
    assert_int_equal(lua, 1);
    assert_true(console >= 4);
    free(doc);
}

/* ---- what the page claims, through the API ---- */

typedef struct timers_of {
    const char *id;
    char names[8][64];
    int n;
} timers_of;

static int timer_row(void *ud, const cf_timer_info *t)
{
    timers_of *x = ud;
    if (strcmp(t->instance_id, x->id) == 0 && x->n < 8)
        snprintf(x->names[x->n++], 64, "%s.%s", t->state, t->name);
    return 0;
}

static void test_the_worked_example(void **state)
{
    (void)state;
    world w = {0};
    w.dir = cft_tmpdir();
    w.db = cft_path(w.dir, "certflow.db");
    w.workflows = cft_path(w.dir, "workflows");
    copy_workflows(&w);
    live_certifications(&w);
    cf_engine *e = open_engine(&w);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, w.ana, &info), CF_OK);
    snprintf(old_hash, sizeof old_hash, "%.12s", info.definition);
    cf_engine_close(e);

    /* the page's commands run with the folder's own database, workflows and plugins */
    setenv("CERTFLOW_DB", w.db, 1);
    setenv("CERTFLOW_WORKFLOWS", w.workflows, 1);
    setenv("CERTFLOW_POLICIES", CF_SOURCE_DIR "/lua", 1);
    setenv("CERTFLOW_PLUGINS", CF_BINARY_DIR "/plugins", 1);
    setenv("USER", "admin", 1);
    replay_page(&w);

    w.clock.now = cft_time("2025-02-12T20:00:00Z");
    e = open_engine(&w);
    const char *ids[] = {w.ana, w.ben, w.cy, w.dan};
    const char *states[] = {"draft", "submitted", "approved", "submitted"};
    char new_hash[65] = "";
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cf_instance_get(e, ids[i], &info), CF_OK);
        assert_string_equal(info.state, states[i]);
        assert_string_not_equal(info.definition + 0, old_hash);
        if (!new_hash[0])
            snprintf(new_hash, sizeof new_hash, "%s", info.definition);
        assert_string_equal(info.definition, new_hash);
    }
    /* Ben keeps his review clock; Dan's fired in January and is not armed again */
    timers_of ben = {w.ben, {{0}}, 0}, dan = {w.dan, {{0}}, 0}, cy = {w.cy, {{0}}, 0};
    assert_int_equal(cf_timer_list(e, 0, INT64_MAX, timer_row, &ben), CF_OK);
    assert_int_equal(cf_timer_list(e, 0, INT64_MAX, timer_row, &dan), CF_OK);
    assert_int_equal(cf_timer_list(e, 0, INT64_MAX, timer_row, &cy), CF_OK);
    assert_int_equal(ben.n, 1);
    assert_string_equal(ben.names[0], "submitted.review_sla");
    assert_int_equal(dan.n, 0);
    assert_true(cy.n >= 1);
    /* the new state works for a migrated instance */
    cft_fire(e, w.ben, "hold", NULL, CF_OK);
    assert_string_equal(cft_state(e, w.ben), "on_hold");
    cft_fire(e, w.ben, "resume", NULL, CF_OK);
    assert_string_equal(cft_state(e, w.ben), "submitted");
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    if (cf_engine_verify(e, &rep) != CF_OK)
        fail_msg("verify: %s", cf_errmsg(e));
    cf_engine_close(e);
    free(w.db);
    free(w.workflows);
    cft_rmtree(w.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_worked_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
