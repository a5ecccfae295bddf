/*
 * test_cli_policy.c — certflow policy diff | apply | test through the built
 * command (fork + exec, as tests/test_cli.c does), and docs/administrators.md:
 * every ```console block of that page is run in a folder laid out as the page
 * says, and each command's output must be the one the page shows (instance ids,
 * which are random, compared as placeholders). Blocks fenced ```console shipped
 * run in a second folder: the shipped workflows and policy, with the hires the
 * page describes (EMP_1).
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BINARY CF_BINARY_DIR "/certflow"
#define FIX CF_TEST_FIXTURES "/policy_change"
#define DOC CF_SOURCE_DIR "/docs/administrators.md"

typedef struct result {
    int code;
    char *out; /* stdout then stderr */
} result;

/* Run certflow with argv (NULL-terminated, without the program name) in dir;
 * out gets standard output then standard error, as a terminal would show them. */
static result run_in(const char *dir, const char *const *args)
{
    /* The page's commands rely on the defaults: ./certflow.db, ./workflows, ./lua.
     * This test is its own process, so its environment is its own to change. */
    unsetenv("CERTFLOW_DB");
    unsetenv("CERTFLOW_WORKFLOWS");
    unsetenv("CERTFLOW_POLICIES");
    unsetenv("CERTFLOW_PLUGINS");
    setenv("USER", "admin", 1);
    cft_run run = cft_certflow(dir, args);
    result r;
    r.code = run.code;
    r.out = malloc(strlen(run.out) + strlen(run.err) + 1);
    assert_non_null(r.out);
    strcpy(r.out, run.out);
    strcat(r.out, run.err);
    cft_run_free(&run);
    return r;
}

static void copy_file(const char *src, const char *dir, const char *name)
{
    char *text = cft_slurp(src);
    free(cft_write(dir, name, text));
    free(text);
}

/* The folder docs/administrators.md describes:
 *   workflows/hire.lua, lua/policy/state.lua, lua/counties/san_diego.lua,
 *   lua/tests/ (the current cases), and proposed/: a copy of lua/ with
 *   the 120-day overlay and its cases, and mistake.lua (a non-overridable change). */
static char *make_folder(void)
{
    char *dir = cft_tmpdir();
    copy_file(FIX "/workflows/hire.lua", dir, "workflows/hire.lua");
    const char *roots[2] = {"lua", "proposed"};
    for (int i = 0; i < 2; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s/policy/state.lua", roots[i]);
        copy_file(FIX "/lua/policy/state.lua", dir, name);
        snprintf(name, sizeof name, "%s/tests/state_default.lua", roots[i]);
        copy_file(FIX "/cases/state_default.lua", dir, name);
    }
    copy_file(FIX "/lua/counties/san_diego.lua", dir, "lua/counties/san_diego.lua");
    copy_file(FIX "/cases/san_diego.lua", dir, "lua/tests/san_diego.lua");
    copy_file(FIX "/proposals/san_diego_120.lua", dir, "proposed/counties/san_diego.lua");
    copy_file(FIX "/cases_proposed/san_diego.lua", dir, "proposed/tests/san_diego.lua");
    copy_file(FIX "/proposals/not_overridable.lua", dir, "mistake.lua");
    return dir;
}

/* The shipped program (workflows/ and lua/policy of the source tree) in county kern,
 * which has no overlay (90 days), on 2 April 2025, with the hires the page's
 * "console shipped" blocks describe: Ana Ruiz, hired 2025-01-01, whose grace period
 * ended yesterday; Bo Lee, hired 2025-02-01, in grace; Dee Moss, hired 2024-12-02,
 * out of grace since 2025-03-03; and the proposal proposed/kern.lua (120 days). */
static char *run_ok(const char *dir, const char *const *args)
{
    result r = run_in(dir, args);
    if (r.code != 0)
        fail_msg("certflow %s: exit %d: %s", args[0], r.code, r.out);
    char *nl = strchr(r.out, '\n');
    if (nl)
        *nl = '\0';
    return r.out;
}

static void shipped_hire(const char *dir, const char *name, const char *hired_on, const char *now)
{
    char data[128], at[64];
    snprintf(data, sizeof data, "{\"name\": \"%s\", \"hired_on\": \"%s\"}", name, hired_on);
    snprintf(at, sizeof at, "--now=%s", now);
    const char *create[] = {at, "new", "employment", "--county", "kern", "--data", data, NULL};
    char *id = run_ok(dir, create);
    const char *start[] = {at, "fire", id, "start", NULL};
    free(run_ok(dir, start));
    free(id);
}

static char *make_shipped_folder(void)
{
    char *dir = cft_tmpdir();
    /* every file of the shipped workflows/ and lua/policy/, whatever they are */
    static const char *const folders[] = {"workflows", "lua/policy"};
    for (size_t f = 0; f < 2; f++) {
        char src_dir[512];
        snprintf(src_dir, sizeof src_dir, "%s/%s", CF_SOURCE_DIR, folders[f]);
        DIR *d = opendir(src_dir);
        assert_non_null(d);
        for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
            size_t n = strlen(ent->d_name);
            if (ent->d_name[0] == '.' || n < 5 || strcmp(ent->d_name + n - 4, ".lua") != 0)
                continue;
            char src[1024], name[512];
            snprintf(src, sizeof src, "%s/%s", src_dir, ent->d_name);
            snprintf(name, sizeof name, "%s/%s", folders[f], ent->d_name);
            copy_file(src, dir, name);
        }
        closedir(d);
    }
    free(cft_write(dir, "proposed/kern.lua", "return { params = { hire_grace_days = 120 } }\n"));
    shipped_hire(dir, "Dee Moss", "2024-12-02", "2024-12-02T17:00:00Z");
    shipped_hire(dir, "Ana Ruiz", "2025-01-01", "2025-01-02T17:00:00Z");
    shipped_hire(dir, "Bo Lee", "2025-02-01", "2025-02-03T17:00:00Z");
    const char *tick[] = {"--now=2025-04-02T17:00:00Z", "tick", NULL};
    free(run_ok(dir, tick));
    return dir;
}

/* Instance ids are random: compare them as a placeholder of the same width. */
static void mask_ids(char *s)
{
    for (char *p = s; *p; p++) {
        bool id = strlen(p) >= 36;
        for (int i = 0; id && i < 36; i++)
            id = (i == 8 || i == 13 || i == 18 || i == 23) ? p[i] == '-' : isxdigit((unsigned char)p[i]) != 0;
        if (id) {
            memcpy(p, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", 36);
            p += 35;
        }
    }
}

/* The shipped state policy changes with the program: in "console shipped" blocks its
 * hashes (12 hex digits, as the commands print them) are compared as placeholders. */
static void mask_hashes(char *s)
{
    for (char *p = s; *p; p++) {
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

/* Split a command line into words; '...' quotes (no escapes). Words point into line. */
static int split(char *line, const char **words, int max)
{
    int n = 0;
    char *s = line;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        assert_true(n < max - 1);
        if (*s == '\'') {
            words[n++] = ++s;
            while (*s && *s != '\'')
                s++;
        } else {
            words[n++] = s;
            while (*s && *s != ' ')
                s++;
        }
        if (*s)
            *s++ = '\0';
    }
    words[n] = NULL;
    return n;
}

static void run_expect(const char *dir, const char *cmd, const char *expected, int *commands, bool hashes)
{
    char *line = strdup(cmd);
    const char *words[64];
    int n = split(line, words, 64);
    assert_true(n >= 1);
    if (strcmp(words[0], "certflow") != 0)
        fail_msg("docs/administrators.md: a console block runs '%s'; only certflow commands are run", cmd);
    result r = run_in(dir, words + 1);
    mask_ids(r.out);
    char *want = strdup(expected);
    mask_ids(want);
    if (hashes) {
        mask_hashes(r.out);
        mask_hashes(want);
    }
    if (strcmp(r.out, want) != 0)
        fail_msg("docs/administrators.md: `%s` (exit %d) printed\n%s\nbut the page shows\n%s", cmd, r.code, r.out,
                 want);
    ++*commands;
    free(want);
    free(r.out);
    free(line);
}

static void test_EMP_1_administrators_doc_runs(void **state)
{
    (void)state;
    char *doc = cft_slurp(DOC);
    char *fixture = make_folder(), *shipped = make_shipped_folder();
    int blocks = 0, commands = 0, shipped_blocks = 0;
    for (char *p = strstr(doc, "```console"); p; p = strstr(p, "```console")) {
        p += strlen("```console");
        const char *dir = fixture;
        if (strncmp(p, " shipped\n", 9) == 0) {
            dir = shipped;
            shipped_blocks++;
            p += 9;
        } else if (strncmp(p, " empty\n", 7) == 0) {
            continue; /* the worked example: test_administrators_worked_example_from_an_empty_folder */
        } else if (*p++ != '\n') {
            fail_msg("docs/administrators.md: a console block is fenced ```console or ```console shipped");
        }
        char *end = strstr(p, "```");
        assert_non_null(end);
        *end = '\0';
        blocks++;
        /* "$ command" lines, each followed by its output */
        char *cmd = NULL;
        size_t cap = strlen(p) + 1;
        char *expected = calloc(1, cap);
        assert_non_null(expected);
        for (char *l = p; *l;) {
            char *nl = strchr(l, '\n');
            size_t len = nl ? (size_t)(nl - l) : strlen(l);
            if (len >= 2 && l[0] == '$' && l[1] == ' ') {
                if (cmd)
                    run_expect(dir, cmd, expected, &commands, dir == shipped);
                free(cmd);
                cmd = strndup(l + 2, len - 2);
                expected[0] = '\0';
            } else {
                assert_non_null(cmd);
                strncat(expected, l, len);
                strcat(expected, "\n");
            }
            l = nl ? nl + 1 : l + len;
        }
        if (cmd)
            run_expect(dir, cmd, expected, &commands, dir == shipped);
        free(cmd);
        free(expected);
        p = end + 1;
    }
    assert_true(blocks >= 4);
    assert_true(commands >= 8);
    assert_true(shipped_blocks >= 2);
    cft_rmtree(fixture);
    cft_rmtree(shipped);
    free(doc);
}

/* ---- exit codes and --json ---- */

static result run(const char *dir, ...)
{
    const char *args[32];
    int n = 0;
    va_list ap;
    va_start(ap, dir);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        args[n++] = s;
    va_end(ap);
    args[n] = NULL;
    return run_in(dir, args);
}

static void expect_code(result r, int code, const char *fragment)
{
    if (r.code != code || (fragment && !strstr(r.out, fragment)))
        fail_msg("expected exit %d with '%s', got exit %d:\n%s", code, fragment ? fragment : "", r.code, r.out);
    free(r.out);
}

static void test_policy_exit_codes(void **state)
{
    (void)state;
    char *dir = make_folder();
    const char *now = "--now=2025-05-01T17:00:00Z";
    expect_code(run(dir, now, "new", "hire", "--county", "san_diego", "--data", "{\"hired_on\": \"2025-01-02\"}",
                    NULL),
                0, NULL);
    /* usage */
    expect_code(run(dir, "policy", "diff", "proposed/counties/san_diego.lua", NULL), 2, "needs --county");
    expect_code(run(dir, "policy", "frob", "x", NULL), 2, "unknown policy command 'frob'");
    expect_code(run(dir, "policy", "test", "lua/tests", "--county", "san_diego", NULL), 2, "--policies COPY");
    expect_code(run(dir, "policy", "diff", "--county", "san_diego", "--actor", "ann", "mistake.lua", NULL), 2,
                "--actor applies to 'policy apply' only");
    /* a proposal that does not load: invalid input, nothing written */
    expect_code(run(dir, "policy", "apply", "--county", "san_diego", "mistake.lua", NULL), 4,
                "mistake.lua (proposed for san_diego): params.review_sla_days");
    expect_code(run(dir, "policy", "diff", "--county", "san_diego", "nothere.lua", NULL), 5, "nothere.lua");
    char *installed = cft_path(dir, "lua/counties/san_diego.lua");
    char *text = cft_slurp(installed), *orig = cft_slurp(FIX "/lua/counties/san_diego.lua");
    assert_string_equal(text, orig);
    free(text);
    free(orig);
    /* test: 0 when all pass, 4 when one fails */
    expect_code(run(dir, "policy", "test", "lua/tests", NULL), 0, "4 cases: 4 passed, 0 failed");
    expect_code(run(dir, "policy", "test", "proposed/tests", NULL), 4, "5 cases: 2 passed, 3 failed");
    expect_code(run(dir, "policy", "test", "nowhere", NULL), 5, "cannot open folder nowhere");

    /* --json: one document */
    result r = run(dir, now, "--json", "policy", "diff", "--county", "san_diego", "proposed/counties/san_diego.lua",
                   NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_false(json_is_true(json_object_get(doc, "applied")));
    assert_int_equal(json_integer_value(json_object_get(doc, "instances_affected")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "changes")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "params"), 0), "new")),
                     120);
    json_decref(doc);
    free(r.out);
    r = run(dir, "--json", "policy", "test", "proposed/tests", NULL);
    assert_int_equal(r.code, 4);
    doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "failed")), 3);
    assert_int_equal(json_array_size(json_object_get(doc, "cases")), 5);
    json_decref(doc);
    free(r.out);

    /* apply, then the chain verifies and the file is installed */
    r = run(dir, now, "--json", "policy", "apply", "--county", "san_diego", "--actor", "ann",
            "proposed/counties/san_diego.lua", NULL);
    assert_int_equal(r.code, 0);
    doc = json_loads(r.out, 0, NULL);
    assert_true(json_is_true(json_object_get(doc, "applied")));
    json_decref(doc);
    free(r.out);
    expect_code(run(dir, "verify", NULL), 0, "chain is intact");
    text = cft_slurp(installed);
    orig = cft_slurp(FIX "/proposals/san_diego_120.lua");
    assert_string_equal(text, orig);
    free(text);
    free(orig);
    free(installed);
    expect_code(run(dir, "policy", "test", "proposed/tests", NULL), 0, "5 cases: 5 passed, 0 failed");
    cft_rmtree(dir);
}

/* Issue 8: a county file returning a table with an endless __index hung every
 * command, `check` included; values out of range loaded. Now `check`, opening
 * and `policy diff` refuse them at once, exit 4, naming file, key and range. */
static void test_hostile_overlays_are_refused(void **state)
{
    (void)state;
    char *dir = make_folder();
    free(cft_write(dir, "lua/counties/evil.lua",
                   "return setmetatable({}, { __index = function() while true do end end })\n"));
    expect_code(run(dir, "check", NULL), 4, "counties/evil.lua: the returned table has a metatable");
    expect_code(run(dir, "list", NULL), 4, "counties/evil.lua: the returned table has a metatable");
    free(cft_write(dir, "lua/counties/evil.lua", "return { params = { hire_grace_days = 120.5 } }\n"));
    expect_code(run(dir, "check", NULL), 4,
                "counties/evil.lua: params.hire_grace_days: must be an integer from 1 to 365, as declared in "
                "policy/state.lua (got 120.5)");
    char *evil = cft_path(dir, "lua/counties/evil.lua");
    remove(evil);
    free(evil);
    expect_code(run(dir, "check", NULL), 0, NULL);
    /* policy diff loads the proposal the same way: exit 4, the installed file untouched */
    static const struct {
        const char *text, *needle;
    } proposals[] = {
        {"return { params = { hire_grace_days = -5 } }",
         "bad.lua (proposed for san_diego): params.hire_grace_days: must be an integer from 1 to 365, as declared "
         "in policy/state.lua (got -5)"},
        {"return { params = { hire_grace_days = 0/0 } }", "params.hire_grace_days: must be an integer from 1 to 365"},
        {"return { params = { hire_grace_days = math.huge } }", "(got inf)"},
        {"return setmetatable({}, { __index = function() error({}) end })",
         "bad.lua (proposed for san_diego): the returned table has a metatable"},
        {"return { params = { hire_grace_days = function() return 120 end } }", "(got a function)"},
    };
    for (size_t i = 0; i < sizeof proposals / sizeof *proposals; i++) {
        free(cft_write(dir, "bad.lua", proposals[i].text));
        expect_code(run(dir, "policy", "diff", "--county", "san_diego", "bad.lua", NULL), 4, proposals[i].needle);
        expect_code(run(dir, "policy", "apply", "--county", "san_diego", "bad.lua", NULL), 4, proposals[i].needle);
    }
    char *installed = cft_path(dir, "lua/counties/san_diego.lua");
    char *text = cft_slurp(installed), *orig = cft_slurp(FIX "/lua/counties/san_diego.lua");
    assert_string_equal(text, orig);
    free(text);
    free(orig);
    free(installed);
    cft_rmtree(dir);
}

/* --for and policy log: usage, --json, and the log of a change that moved nobody. */
static void test_EMP_1_policy_for_and_log(void **state)
{
    (void)state;
    char *dir = make_shipped_folder();
    const char *now = "--now=2025-04-02T18:00:00Z";
    expect_code(run(dir, "policy", "diff", "--county", "kern", "--for", "some", "proposed/kern.lua", NULL), 2,
                "--for takes all");
    expect_code(run(dir, "policy", "test", "lua/tests", "--for", "new", NULL), 2, "--for applies to");
    expect_code(run(dir, "policy", "log", "x.lua", NULL), 2, "takes no FILE");
    expect_code(run(dir, "policy", "diff", "--county", "kern", NULL), 2, "needs the proposed overlay FILE");
    expect_code(run(dir, "policy", "log", NULL), 0, "no policy change has been applied");
    result r = run(dir, now, "--json", "policy", "diff", "--county", "kern", "--for", "new", "proposed/kern.lua", NULL);
    assert_int_equal(r.code, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "for")), "new");
    assert_int_equal(json_integer_value(json_object_get(doc, "instances_affected")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "summary"), "pinned")), 2);
    json_t *row = json_array_get(json_object_get(doc, "changes"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "kind")), "pin");
    assert_string_equal(json_string_value(json_object_get(row, "county")), "kern");
    assert_non_null(strstr(json_string_value(json_object_get(row, "effect")), "stays on hire_grace_days = 90"));
    json_decref(doc);
    free(r.out);
    expect_code(run(dir, now, "policy", "apply", "--county", "kern", "--for", "new", "--actor", "ann",
                    "proposed/kern.lua", NULL),
                0, "2 instances changed (for new)");
    expect_code(run(dir, now, "policy", "apply", "--county", "kern", "--actor", "bea", "proposed/kern.lua", NULL), 0,
                "0 instances changed (for all)");
    r = run(dir, "--json", "policy", "log", "--county", "kern", NULL);
    assert_int_equal(r.code, 0);
    doc = json_loads(r.out, 0, NULL);
    json_t *changes = json_object_get(doc, "changes");
    assert_int_equal(json_array_size(changes), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 0), "for")), "new");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(changes, 0), "instances")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 1), "actor")), "bea");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(changes, 1), "instances")), 0);
    json_decref(doc);
    free(r.out);
    expect_code(run(dir, "policy", "log", "--county", "alameda", NULL), 0, "no policy change has been applied to alameda");
    expect_code(run(dir, "verify", NULL), 0, "chain is intact");
    cft_rmtree(dir);
}

/* ---- docs/administrators.md, "Start here": the whole job from an empty folder ---- */

/* The program's own folder as the page shows it (an installed program's). */
#define SHOWN_PREFIX "/usr/local/share/certflow"

/* s with every `from` replaced by `to` (malloc'd). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from))
        n++;
    char *out = malloc(strlen(s) + n * (nt > nf ? nt - nf : 0) + 1), *o = out;
    assert_non_null(out);
    for (const char *p; (p = strstr(s, from)) != NULL; s = p + nf) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, nt);
        o += nt;
    }
    strcpy(o, s);
    return out;
}

/* One command of the section: its text (continuation lines "> " joined with '\n')
 * and the output the page shows. */
typedef struct doc_cmd {
    char *cmd;
    char *want;
} doc_cmd;

/* Every ```console empty block of the page, in order: its "$ " commands, their
 * "> " continuation lines (a here-document's body), and the output shown. */
static size_t empty_folder_commands(char *doc, doc_cmd *cmds, size_t max)
{
    size_t n = 0;
    for (char *p = strstr(doc, "```console empty\n"); p; p = strstr(p, "```console empty\n")) {
        p += strlen("```console empty\n");
        char *end = strstr(p, "```");
        assert_non_null(end);
        *end = '\0';
        bool in_cmd = false;
        for (char *l = p; *l;) {
            char *nl = strchr(l, '\n');
            size_t len = nl ? (size_t)(nl - l) : strlen(l);
            if (len >= 2 && l[0] == '$' && l[1] == ' ') {
                assert_true(n < max);
                cmds[n].cmd = strndup(l + 2, len - 2);
                cmds[n].want = strdup("");
                n++;
                in_cmd = true;
            } else if (in_cmd && len >= 2 && l[0] == '>' && l[1] == ' ') {
                char *c = cmds[n - 1].cmd;
                size_t had = strlen(c);
                c = realloc(c, had + len + 1);
                assert_non_null(c);
                c[had] = '\n';
                memcpy(c + had + 1, l + 2, len - 2);
                c[had + len - 1] = '\0';
                cmds[n - 1].cmd = c;
            } else {
                assert_true(n > 0);
                in_cmd = false;
                char *w = cmds[n - 1].want;
                size_t had = strlen(w);
                w = realloc(w, had + len + 2);
                assert_non_null(w);
                memcpy(w + had, l, len);
                w[had + len] = '\n';
                w[had + len + 1] = '\0';
                cmds[n - 1].want = w;
            }
            l = nl ? nl + 1 : l + len;
        }
        p = end + 3;
    }
    return n;
}

static void test_administrators_worked_example_from_an_empty_folder(void **state)
{
    (void)state;
    char *doc = cft_slurp(DOC);
    doc_cmd cmds[64];
    size_t n = empty_folder_commands(doc, cmds, 64);
    assert_true(n >= 15);
    /* One shell runs every command in order (variables carry over), each one's
     * output (stdout and stderr) after a separator line. */
    char *base = cft_tmpdir(), *dir = cft_path(base, "empty");
    assert_int_equal(mkdir(dir, 0777), 0);
    size_t cap = 4096;
    for (size_t i = 0; i < n; i++)
        cap += strlen(cmds[i].cmd) + 64;
    char *script = malloc(cap), *o = script;
    assert_non_null(script);
    o += sprintf(o, "cd '%s' || exit 99\n", dir);
    for (size_t i = 0; i < n; i++) {
        char *cmd = replace_all(cmds[i].cmd, SHOWN_PREFIX, CF_SOURCE_DIR);
        o += sprintf(o, "printf '\\036\\n'\n{ %s\n} 2>&1\n", cmd);
        free(cmd);
    }
    char *script_path = cft_write(base, "worked-example.sh", script);
    char *out_path = cft_path(base, "worked-example.out");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsetenv("CERTFLOW_DB");
        unsetenv("CERTFLOW_WORKFLOWS");
        unsetenv("CERTFLOW_POLICIES");
        unsetenv("CERTFLOW_PLUGINS");
        unsetenv("CERTFLOW_PLUGIN_CONFIG");
        setenv("USER", "ann", 1);
        const char *path = getenv("PATH");
        char *newpath = malloc(strlen(CF_BINARY_DIR) + strlen(path ? path : "/usr/bin:/bin") + 2);
        if (!newpath)
            _exit(125);
        sprintf(newpath, "%s:%s", CF_BINARY_DIR, path ? path : "/usr/bin:/bin");
        setenv("PATH", newpath, 1);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), in = open("/dev/null", O_RDONLY);
        if (out < 0 || in < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execl("/bin/sh", "sh", script_path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status));
    char *all = cft_slurp(out_path);
    /* the outputs, in order: split at the separator lines */
    char *got = all;
    assert_true(strncmp(got, "\036\n", 2) == 0);
    for (size_t i = 0; i < n; i++) {
        got += 2;
        char *next = strstr(got, "\036\n");
        if (next)
            *next = '\0';
        else
            assert_int_equal(i, n - 1);
        char *shown = replace_all(got, CF_SOURCE_DIR, SHOWN_PREFIX);
        mask_ids(shown);
        mask_hashes(shown);
        mask_ids(cmds[i].want);
        mask_hashes(cmds[i].want);
        if (strcmp(shown, cmds[i].want) != 0)
            fail_msg("docs/administrators.md (from an empty folder): `%s` printed\n%s\nbut the page shows\n%s",
                     cmds[i].cmd, shown, cmds[i].want);
        free(shown);
        free(cmds[i].cmd);
        free(cmds[i].want);
        got = next ? next : got + strlen(got);
        if (next)
            *next = '\036';
    }
    free(all);
    free(script_path);
    free(out_path);
    free(script);
    free(dir);
    cft_rmtree(base);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EMP_1_administrators_doc_runs),
        cmocka_unit_test(test_policy_exit_codes),
        cmocka_unit_test(test_hostile_overlays_are_refused),
        cmocka_unit_test(test_EMP_1_policy_for_and_log),
        cmocka_unit_test(test_administrators_worked_example_from_an_empty_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
