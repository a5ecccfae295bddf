/*
 * test_cli_exit.c — the exit codes of the certflow command against the table in
 * docs/cli.md, read at test time so that the two cannot drift: every documented
 * code is produced from a real situation (a rejected event, a damaged file, a
 * policy stopped by a limit, an output that cannot be written, ...), and each
 * situation must exit with the code of the row that describes it.
 * Also: the read commands work on a database the user cannot write.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include "sqlite_peek.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIX_WORKFLOWS CF_TEST_FIXTURES "/cli/workflows"
#define FIX_POLICIES CF_TEST_FIXTURES "/cli/lua"
#define BAD_ABI_PLUGIN CF_BINARY_DIR "/tests/plugins/bad_abi.so"
#define T0 "2025-01-06T17:00:00Z"
#define NOBODY 65534

/* ---- the table of docs/cli.md ---- */

typedef struct row {
    int code;
    char meaning[512];
    int produced; /* scenarios that exited with it */
} row;

typedef struct table {
    row rows[32];
    int n;
} table;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The rows "| code | meaning | result codes |" under "## Exit codes". */
static void read_table(table *t)
{
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/cli.md");
    assert_non_null(doc);
    char *at = strstr(doc, "\n## Exit codes\n");
    if (!at)
        fail_msg("docs/cli.md has no '## Exit codes' section");
    char *end = strstr(at + 1, "\n## ");
    if (end)
        *end = '\0';
    t->n = 0;
    for (char *save = NULL, *line = strtok_r(at, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] != '|')
            continue;
        char *cells[4] = {NULL};
        int nc = 0;
        for (char *c = line + 1; nc < 4 && c && *c; nc++) {
            char *bar = strchr(c, '|');
            if (bar)
                *bar = '\0';
            cells[nc] = trim(c);
            c = bar ? bar + 1 : NULL;
        }
        if (nc < 3 || !isdigit((unsigned char)cells[0][0]))
            continue; /* the header and the separator */
        assert_true(t->n < 32);
        t->rows[t->n].code = atoi(cells[0]);
        snprintf(t->rows[t->n].meaning, sizeof t->rows[0].meaning, "%s", cells[1]);
        t->rows[t->n].produced = 0;
        t->n++;
    }
    free(doc);
    if (t->n < 9)
        fail_msg("docs/cli.md's exit code table has %d rows; expected every code 0-7 and 10", t->n);
}

/* The row whose meaning contains `phrase`; exactly one must. */
static row *row_for(table *t, const char *phrase)
{
    row *found = NULL;
    for (int i = 0; i < t->n; i++) {
        if (strstr(t->rows[i].meaning, phrase)) {
            if (found)
                fail_msg("'%s' is in the meaning of exit codes %d and %d of docs/cli.md", phrase, found->code,
                         t->rows[i].code);
            found = &t->rows[i];
        }
    }
    if (!found)
        fail_msg("no exit code in docs/cli.md is described as '%s'", phrase);
    return found;
}

/* ---- running certflow ---- */

typedef struct fx {
    char *dir;
    char *io; /* the runs' stdout and stderr files */
    char *db;
    table t;
} fx;

typedef struct run_opts {
    const char *stdout_path; /* NULL: a file in the folder */
    bool as_nobody;
} run_opts;

/* Run certflow in f->dir with args (NULL-terminated); stdout and stderr as text. */
static cft_run run_args(fx *f, run_opts o, const char *const *args)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = "certflow";
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < 63);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    /* In a folder of their own: the database's folder may be made read-only. */
    char *out_path = cft_path(f->io, "out"), *err_path = cft_path(f->io, "err");
    int o_fd = open(o.stdout_path ? o.stdout_path : out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int e_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_true(o_fd >= 0 && e_fd >= 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || chdir(f->dir) != 0)
            _exit(126);
        if (o.as_nobody && (setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
            _exit(126);
        dup2(in, 0);
        dup2(o_fd, 1);
        dup2(e_fd, 2);
        execv(CF_BINARY_DIR "/certflow", (char *const *)argv);
        _exit(127);
    }
    close(o_fd);
    close(e_fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    cft_run r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r.code == 126 || r.code == 127)
        fail_msg("could not run %s/certflow", CF_BINARY_DIR);
    r.out = o.stdout_path ? calloc(1, 1) : cft_slurp(out_path);
    r.err = cft_slurp(err_path);
    remove(out_path);
    remove(err_path);
    free(out_path);
    free(err_path);
    return r;
}

static cft_run run_va(fx *f, run_opts o, bool fixture, va_list ap)
{
    const char *args[64];
    size_t n = 0;
    if (fixture) {
        const char *pre[] = {"--db", f->db, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins", ""};
        for (; n < sizeof pre / sizeof pre[0]; n++)
            args[n] = pre[n];
    }
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < 63);
        args[n++] = a;
    }
    args[n] = NULL;
    return run_args(f, o, args);
}

/* certflow --db DB with the ticket fixture and no plugins, then args. */
static cft_run cf(fx *f, run_opts o, ...)
{
    va_list ap;
    va_start(ap, o);
    cft_run r = run_va(f, o, true, ap);
    va_end(ap);
    return r;
}

/* certflow with exactly args (the shipped program, found from the build tree). */
static cft_run cf_bare(fx *f, run_opts o, ...)
{
    va_list ap;
    va_start(ap, o);
    cft_run r = run_va(f, o, false, ap);
    va_end(ap);
    return r;
}

#define PLAIN ((run_opts){NULL, false})
#define CF(f, o, ...) cf((f), (o), __VA_ARGS__, (const char *)NULL)
#define CF_BARE(f, o, ...) cf_bare((f), (o), __VA_ARGS__, (const char *)NULL)

static void contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected to find \"%s\" in:\n%s", needle, text);
}

/* The run exited with the code docs/cli.md gives to `phrase`; its stderr says `says`. */
static void documented(fx *f, const char *situation, cft_run *r, const char *phrase, const char *says)
{
    row *w = row_for(&f->t, phrase);
    if (r->code != w->code)
        fail_msg("%s: exit %d, but docs/cli.md says %d (%s)\n--- stdout:\n%s\n--- stderr:\n%s", situation, r->code,
                 w->code, w->meaning, r->out, r->err);
    if (says)
        contains(r->err, says);
    w->produced++;
    cft_run_free(r);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "cf.db");
    f->io = cft_path(f->dir, "io");
    assert_int_equal(mkdir(f->io, 0700), 0);
    unsetenv("CERTFLOW_DB");
    unsetenv("CERTFLOW_WORKFLOWS");
    unsetenv("CERTFLOW_POLICIES");
    unsetenv("CERTFLOW_PLUGINS");
    setenv("USER", "tester", 1);
    read_table(&f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    chmod(f->dir, 0700);
    free(f->db);
    free(f->io);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void raw_exec(const char *path, const char *sql)
{
    char *why = cft_sql_refusal(path, sql);
    if (why)
        fail_msg("%s: %s", sql, why);
}

/* A copy of the fixture's policy folder with one more county overlay. */
static char *policies_with(fx *f, const char *name, const char *overlay)
{
    char *dir = cft_path(f->dir, name);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", FIX_POLICIES, dir);
    assert_int_equal(system(cmd), 0);
    char *counties = cft_path(dir, "counties");
    free(cft_write(counties, "hostile.lua", overlay));
    free(counties);
    return dir;
}

/* A copy of the database with bytes over the first page's b-tree header. */
static char *damaged_copy(fx *f)
{
    char *copy = cft_path(f->dir, "damaged.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->db, copy);
    assert_int_equal(system(cmd), 0);
    FILE *io = fopen(copy, "r+b");
    assert_non_null(io);
    assert_int_equal(fseek(io, 100, SEEK_SET), 0);
    const unsigned char junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(fwrite(junk, 1, sizeof junk, io), sizeof junk);
    assert_int_equal(fclose(io), 0);
    return copy;
}

/* Every row of the table, each from a real situation. */
static void test_exit_codes_match_the_documented_table(void **state)
{
    fx *f = *state;
    cft_run r = CF(f, PLAIN, "--now", T0, "new", "ticket", "--county", "alameda");
    documented(f, "new", &r, "success", NULL);
    r = CF(f, PLAIN, "list", "--json");
    assert_int_equal(r.code, 0);
    char *idp = strstr(r.out, "\"id\": \"");
    if (!idp)
        idp = strstr(r.out, "\"id\":\"");
    assert_non_null(idp);
    char id[37];
    snprintf(id, sizeof id, "%s", strchr(idp + 4, '"') + 1);
    cft_run_free(&r);

    r = CF(f, PLAIN, "--now", T0, "fire", id, "assign");
    documented(f, "a guard refuses", &r, "the event was rejected", NULL);
    r = CF(f, PLAIN, "frobnicate");
    documented(f, "an unknown command", &r, "usage error", "unknown command");
    r = CF(f, PLAIN, "show", "00000000-0000-4000-8000-000000000000");
    documented(f, "no such instance", &r, "not found", "no instance");
    r = CF(f, PLAIN, "new", "ticket", "--county", "alameda", "--data", "{");
    documented(f, "malformed --data", &r, "malformed or non-object JSON", NULL);

    /* check: whatever it finds, a refused plugin or a policy stopped by a limit,
     * is "check found problems". */
    r = CF_BARE(f, PLAIN, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins", BAD_ABI_PLUGIN,
                "check");
    documented(f, "check with a plugin refused for its ABI", &r, "`check` found problems", "check found 1 problem");
    char *looping = policies_with(f, "looping", "while true do end\n");
    r = CF_BARE(f, PLAIN, "--workflows", FIX_WORKFLOWS, "--policies", looping, "--plugins", "", "check");
    documented(f, "check with a policy stopped by its instruction limit", &r, "`check` found problems",
               "check found");

    /* Database problems: not a database, a damaged one, an unknown schema version. */
    char *text = cft_write(f->dir, "letter.db", "Dear registrar,\n");
    r = CF_BARE(f, PLAIN, "--db", text, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins", "",
                "list");
    documented(f, "a text file as the database", &r, "database problem", "is not an SQLite database");
    char *damaged = damaged_copy(f);
    r = CF_BARE(f, PLAIN, "--db", damaged, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins", "",
                "list");
    documented(f, "a malformed database", &r, "corrupt or was tampered with", "is damaged");
    r = CF_BARE(f, PLAIN, "--db", damaged, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins", "",
                "verify");
    documented(f, "verify of a malformed database", &r, "corrupt or was tampered with", "is damaged");
    char *negative = cft_path(f->dir, "negative.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->db, negative);
    assert_int_equal(system(cmd), 0);
    raw_exec(negative, "PRAGMA user_version = -1");
    r = CF_BARE(f, PLAIN, "--db", negative, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins",
                "", "list");
    documented(f, "schema version -1", &r, "database problem", "has schema version -1");

    /* A history row changed behind certflow's back. */
    char *tampered = cft_path(f->dir, "tampered.db");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->db, tampered);
    assert_int_equal(system(cmd), 0);
    raw_exec(tampered, "DROP TRIGGER history_no_update; UPDATE history SET actor = 'mallory' WHERE seq = 1");
    r = CF_BARE(f, PLAIN, "--db", tampered, "--workflows", FIX_WORKFLOWS, "--policies", FIX_POLICIES, "--plugins",
                "", "verify");
    documented(f, "a changed history row", &r, "corrupt or was tampered with", "does not match its hash");

    /* A county overlay that never returns: stopped by the instruction limit. */
    r = CF_BARE(f, PLAIN, "--db", f->db, "--workflows", FIX_WORKFLOWS, "--policies", looping, "--plugins", "",
                "list");
    documented(f, "an overlay that loops", &r, "a limit was exceeded", "hostile.lua");

    /* Output that cannot be written. */
    r = CF(f, ((run_opts){"/dev/full", false}), "list");
    documented(f, "stdout on a full device", &r, "anything else", "could not write the output");

    for (int i = 0; i < f->t.n; i++)
        if (!f->t.rows[i].produced)
            fail_msg("no situation produced exit code %d (%s)", f->t.rows[i].code, f->t.rows[i].meaning);
    free(looping);
    free(text);
    free(damaged);
    free(negative);
    free(tampered);
}

/* The first word of a meaning, without backticks, lower case. */
static void first_word(const char *text, char out[32])
{
    size_t n = 0;
    for (const char *p = text; *p && n < 31; p++) {
        if (*p == '`')
            continue;
        if (!isalpha((unsigned char)*p))
            break;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
}

/* `certflow --help` lists the same codes as docs/cli.md, each described alike. */
static void test_help_lists_the_documented_codes(void **state)
{
    fx *f = *state;
    cft_run r = CF_BARE(f, PLAIN, "--help");
    assert_int_equal(r.code, 0);
    char *at = strstr(r.out, "Exit codes:\n");
    assert_non_null(at);
    int listed = 0;
    for (char *save = NULL, *line = strtok_r(at + strlen("Exit codes:\n"), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *p = line;
        while (*p == ' ')
            p++;
        if (!isdigit((unsigned char)*p))
            break;
        int code = (int)strtol(p, &p, 10);
        while (*p == ' ')
            p++;
        row *w = NULL;
        for (int i = 0; i < f->t.n; i++)
            if (f->t.rows[i].code == code)
                w = &f->t.rows[i];
        if (!w)
            fail_msg("certflow --help lists exit code %d, which docs/cli.md does not", code);
        char a[32], b[32];
        first_word(p, a);
        first_word(w->meaning, b);
        if (strcmp(a, b) != 0)
            fail_msg("exit code %d: --help says \"%s\", docs/cli.md \"%s\"", code, p, w->meaning);
        listed++;
    }
    assert_int_equal(listed, f->t.n);
    cft_run_free(&r);
}

/* The folder's entries, for comparing before and after. */
static char *listing(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls -a '%s'", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = calloc(1, 8192);
    assert_non_null(out);
    size_t n = fread(out, 1, 8191, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static char *file_bytes(const char *path, size_t *n)
{
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char *buf = malloc(1 << 22);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 22, in);
    fclose(in);
    return buf;
}

/* show, list, history, verify, registry search and report work on a database in
 * a folder the user cannot write (they fell back to nothing: opening refused it
 * as read-only); a command that writes says why it cannot; nothing changes. */
static void test_read_commands_work_on_read_only_database(void **state)
{
    fx *f = *state;
    cft_run r = CF_BARE(f, PLAIN, "--db", f->db, "--now", T0, "new", "certification", "--county", "alameda",
                        "--data", "{\"name\":\"Ana Reyes\"}");
    if (r.code != 0)
        fail_msg("new certification: %d\n%s", r.code, r.err);
    char id[37];
    snprintf(id, sizeof id, "%s", r.out);
    cft_run_free(&r);
    /* As root, file modes do not stop us: the commands run as uid 65534, and the
     * file and folder are root's. Otherwise, they are made read-only for us. */
    bool root = geteuid() == 0;
    assert_int_equal(chmod(f->dir, root ? 0755 : 0555), 0);
    assert_int_equal(chmod(f->db, root ? 0644 : 0444), 0);
    size_t before_n = 0, after_n = 0;
    char *before = file_bytes(f->db, &before_n);
    char *files_before = listing(f->dir);
    run_opts nobody = {"/dev/null", root};
    const char *reads[][4] = {{"show", id, NULL}, {"list", NULL},   {"history", id, NULL},
                              {"verify", NULL},   {"registry", "search", NULL}, {"report", NULL},
                              {"events", id, NULL}};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        const char *args[8] = {"--db", f->db, "--now", T0};
        size_t n = 4;
        for (size_t j = 0; reads[i][j]; j++)
            args[n++] = reads[i][j];
        args[n] = NULL;
        r = run_args(f, nobody, args);
        if (r.code != 0)
            fail_msg("certflow %s %s on a read-only database: exit %d\n%s", reads[i][0], reads[i][1] ? reads[i][1] : "",
                     r.code, r.err);
        cft_run_free(&r);
    }
    r = CF_BARE(f, nobody, "--db", f->db, "--now", T0, "new", "certification", "--county", "alameda");
    documented(f, "new on a read-only database", &r, "database problem", "read-only");
    /* explain runs the transition and rolls it back: it needs a database it may write */
    r = CF_BARE(f, nobody, "--db", f->db, "--now", T0, "explain", id, "submit");
    documented(f, "explain on a read-only database", &r, "database problem", "read-only");
    char *files_after = listing(f->dir);
    assert_string_equal(files_after, files_before);
    char *after = file_bytes(f->db, &after_n);
    assert_int_equal(after_n, before_n);
    assert_memory_equal(after, before, before_n);
    free(before);
    free(after);
    free(files_before);
    free(files_after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_codes_match_the_documented_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_the_documented_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_commands_work_on_read_only_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
