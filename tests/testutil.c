#define _XOPEN_SOURCE 700
/* testutil.c — helpers shared by the tests (see testutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cf_time cft_clock_now(void *ud)
{
    return ((cft_clock *)ud)->now;
}

cf_time cft_time(const char *iso)
{
    cf_time t = 0;
    int rc = cf_time_parse(iso, &t);
    if (rc != CF_OK)
        fail_msg("bad time in test: %s", iso);
    return t;
}

char *cft_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char *path = malloc(strlen(base) + 32);
    assert_non_null(path);
    sprintf(path, "%s/certflow-test-XXXXXX", base);
    assert_non_null(mkdtemp(path));
    return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void cft_rmtree(char *path)
{
    if (!path)
        return;
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

/* ---- the backend the runner chose ---- */

bool cft_pg(void)
{
    const char *b = getenv("CERTFLOW_TEST_DB");
    return b && strncmp(b, "postgres", 8) == 0;
}

typedef struct pg_db {
    char *path;  /* what the test asked for */
    char *uri;   /* what it opens */
    char name[64];
} pg_db;

static pg_db *pg_dbs;
static size_t pg_ndbs;
static pid_t pg_owner; /* the process that made them drops them (not a forked child) */

/* Run a PostgreSQL client program (createdb, dropdb) on name; its exit status. */
static int pg_tool(const char *tool, const char *opt, const char *name)
{
    const char *bindir = getenv("CERTFLOW_PG_BINDIR");
    char prog[512];
    snprintf(prog, sizeof prog, "%s%s%s", bindir ? bindir : "", bindir ? "/" : "", tool);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        if (opt)
            execlp(prog, tool, opt, name, (char *)NULL);
        else
            execlp(prog, tool, name, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void pg_drop_all(void)
{
    for (size_t i = 0; i < pg_ndbs; i++) {
        if (getpid() == pg_owner)
            pg_tool("dropdb", "--force", pg_dbs[i].name);
        free(pg_dbs[i].path);
        free(pg_dbs[i].uri);
    }
    free(pg_dbs);
    pg_dbs = NULL;
    pg_ndbs = 0;
}

const char *cft_db(const char *db)
{
    if (!cft_pg())
        return db;
    bool memory = strcmp(db, ":memory:") == 0;
    for (size_t i = 0; !memory && i < pg_ndbs; i++)
        if (strcmp(pg_dbs[i].path, db) == 0)
            return pg_dbs[i].uri;
    if (pg_ndbs == 0 && getpid() != pg_owner) {
        pg_owner = getpid();
        atexit(pg_drop_all);
    }
    pg_db *grown = realloc(pg_dbs, (pg_ndbs + 1) * sizeof *grown);
    if (!grown)
        fail_msg("out of memory");
    pg_dbs = grown;
    pg_db *d = &pg_dbs[pg_ndbs];
    snprintf(d->name, sizeof d->name, "cft_%ld_%zu", (long)getpid(), pg_ndbs);
    int rc = pg_tool("createdb", NULL, d->name);
    if (rc != 0)
        fail_msg("createdb %s failed (%d): is the test server running? (scripts/pg-test-cluster.sh)", d->name, rc);
    char uri[128];
    snprintf(uri, sizeof uri, "postgresql:///%s", d->name); /* host, port and user: PG* variables */
    d->path = strdup(db);
    d->uri = strdup(uri);
    if (!d->path || !d->uri)
        fail_msg("out of memory");
    pg_ndbs++;
    return d->uri;
}

bool cft_pg_sql(const char *db, const char *sql)
{
    const char *uri = cft_db(db);
    const char *bindir = getenv("CERTFLOW_PG_BINDIR");
    char prog[512];
    snprintf(prog, sizeof prog, "%s%spsql", bindir ? bindir : "", bindir ? "/" : "");
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execlp(prog, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", sql, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int cft_engine_open(const char *db, const cf_options *opts, cf_engine **out)
{
    return cf_engine_open(cft_db(db), opts, out);
}

char *cft_path(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

char *cft_write(const char *dir, const char *name, const char *text)
{
    char *path = cft_path(dir, name);
    for (char *s = path + strlen(dir) + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                fail_msg("mkdir %s: %s", path, strerror(errno));
            *s = '/';
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return path;
}

char *cft_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

cf_engine *cft_open_fixture(const char *db, cft_clock *clock)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_TEST_FIXTURES "/engine/workflows";
    o.policy_dir = CF_TEST_FIXTURES "/engine/lua";
    o.clock = cft_clock_now;
    o.clock_ud = clock;
    /* Ten minutes: under valgrind or on a loaded machine too, the instruction budget
     * is what stops the fixture's runaway guard (tests never depend on the clock). */
    o.lua_time_limit_ms = 600000;
    cf_engine *e = NULL;
    int rc = cft_engine_open(db, &o, &e);
    if (rc != CF_OK)
        fail_msg("cf_engine_open(%s): %s: %s", cft_db(db), cf_result_name(rc), cf_errmsg(e));
    return e;
}

void cft_fire(cf_engine *e, const char *id, const char *event, const char *data, int expect)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(e, id, event, data, "test", NULL, &r);
    if (rc != expect)
        fail_msg("fire %s on %s: got %s, expected %s: %s", event, id, cf_result_name(rc), cf_result_name(expect),
                 cf_errmsg(e));
}

static int count_row(void *ud, const cf_history_entry *h)
{
    (void)h;
    ++*(int *)ud;
    return 0;
}

int cft_history_count(cf_engine *e, const char *id)
{
    int n = 0;
    int rc = cf_instance_history(e, id, count_row, &n);
    if (rc != CF_OK)
        fail_msg("history %s: %s", id, cf_errmsg(e));
    return n;
}

const char *cft_state(cf_engine *e, const char *id)
{
    static char buf[128];
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    int rc = cf_instance_get(e, id, &info);
    if (rc != CF_OK)
        fail_msg("get %s: %s", id, cf_errmsg(e));
    snprintf(buf, sizeof buf, "%s", info.state);
    return buf;
}

static int count_timer(void *ud, const cf_timer_info *t)
{
    (void)t;
    ++*(int *)ud;
    return 0;
}

int cft_timer_count(cf_engine *e, cf_time to)
{
    int n = 0;
    int rc = cf_timer_list(e, INT64_MIN / 2, to, count_timer, &n);
    if (rc != CF_OK)
        fail_msg("timer list: %s", cf_errmsg(e));
    return n;
}

cft_run cft_certflow(const char *dir, const char *const *args)
{
    const char *argv[128];
    size_t n = 0;
    argv[n++] = "certflow";
    for (size_t i = 0; args[i]; i++) {
        if (n >= 127)
            fail_msg("too many arguments for one certflow run");
        /* On PostgreSQL the command opens the database the test's own engine opened. */
        argv[n++] = i > 0 && strcmp(args[i - 1], "--db") == 0 ? cft_db(args[i]) : args[i];
    }
    argv[n] = NULL;
    char *out_path = cft_path(dir, ".certflow-stdout"), *err_path = cft_path(dir, ".certflow-stderr");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0 || chdir(dir) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(CF_BINARY_DIR "/certflow", (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    cft_run r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r.code == 126 || r.code == 127)
        fail_msg("could not run %s/certflow (build the certflow_cli target first)", CF_BINARY_DIR);
    r.out = cft_slurp(out_path);
    r.err = cft_slurp(err_path);
    remove(out_path);
    remove(err_path);
    free(out_path);
    free(err_path);
    return r;
}

cft_run cft_certflow_va(const char *dir, const char *const *prefix, va_list ap)
{
    const char *args[128];
    size_t n = 0;
    for (; prefix && prefix[n]; n++)
        args[n] = prefix[n];
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        if (n >= 127)
            fail_msg("too many arguments for one certflow run");
        args[n++] = a;
    }
    args[n] = NULL;
    return cft_certflow(dir, args);
}

void cft_run_free(cft_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
