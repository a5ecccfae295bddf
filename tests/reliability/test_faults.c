/* test_faults.c — disk and file faults: a full database (a page limit, and a
 * file size limit under which the kernel refuses writes), a read-only database
 * or folder, a file that is not certflow's, a newer schema. Each must give a
 * clear error and leave the data exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reliability.h"

#include "internal.h" /* cf__store_db: the page limit is set on the engine's own connection */
#include "store/sqlite/sqlite_private.h" /* fault injection: the page limit is set on the engine's own connection */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 "2025-05-01T09:00:00Z"

typedef struct fx {
    char *dir;
    char *db;
    cft_clock clock;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "faults.db");
    f->clock.now = cft_time(T0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (geteuid() != 0 && getuid() == 0)
        (void)seteuid(0);
    chmod(f->dir, 0700);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in: %s", needle, hay);
}

/* An event whose data needs many new pages. */
static char *big_data(size_t bytes)
{
    char *s = malloc(bytes + 32);
    assert_non_null(s);
    size_t n = (size_t)sprintf(s, "{\"n\":1,\"blob\":\"");
    for (size_t i = 0; i < bytes; i++)
        s[n++] = (char)('a' + (i * 7919 % 26)); /* little to compress, not that SQLite does */
    strcpy(s + n, "\"}");
    return s;
}

/* A database with one job instance that has some history. */
static void populate(fx *f, char id[37])
{
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    assert_int_equal(cf_instance_create(e, "job", "alameda", "{\"count\":0}", "setup", id), CF_OK);
    cft_fire(e, id, "start", "{\"n\":1}", CF_OK);
    cft_fire(e, id, "bump", "{\"n\":2}", CF_OK);
    cf_engine_close(e);
}

static int64_t pragma(cf_engine *e, const char *sql)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = cf__store_db(e->store);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return v;
}

/* The database may not grow (SQLite's page limit on the engine's connection):
 * CF_EFULL saying so, nothing recorded; once the limit goes, the same event
 * with the same key applies as if the failure never happened. */
static void test_full_database_changes_nothing(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    char state_before[32];
    snprintf(state_before, sizeof state_before, "%s", info.state);
    int64_t version = info.version;

    int64_t pages = pragma(e, "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages);
    assert_int_equal(pragma(e, sql), pages);
    char *data = big_data(256 * 1024);
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(e, id, "bump", data, "t", "full-1", &r);
    if (rc != CF_EFULL)
        fail_msg("fire into a full database: %s: %s", cf_result_name(rc), cf_errmsg(e));
    assert_contains(cf_errmsg(e), "disk full or database too large");
    assert_contains(cf_errmsg(e), "free space and retry; nothing was changed");
    char id2[37];
    rc = cf_instance_create(e, "job", "alameda", data, "t", id2);
    assert_int_equal(rc, CF_EFULL);
    assert_contains(cf_errmsg(e), "free space and retry");

    /* As it was. */
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    assert_string_equal(info.state, state_before);
    assert_int_equal(info.version, version);
    assert_int_equal(rel_key_rows(e, "full-1"), 0);
    rel_census census;
    rel_check(e, &census);
    assert_int_equal(census.instances, 1);
    rel_census_free(&census);

    /* Space again: the same event with the same key is new, and applies once. */
    assert_int_equal(pragma(e, "PRAGMA max_page_count = 1073741823"), 1073741823);
    assert_int_equal(cf_instance_fire(e, id, "bump", data, "t", "full-1", &r), CF_OK);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(rel_key_rows(e, "full-1"), 1);
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    assert_int_equal(info.version, version + 1);
    rel_check(e, &census);
    rel_census_free(&census);
    free(data);
    cf_engine_close(e);
}

typedef struct fsize_report {
    int open_rc;
    int full_rc, full_rows, full_version;
    int again_rc, again_replayed;
    char full_msg[1024];
    char open_msg[512];
} fsize_report;

/* The kernel refuses to let the files grow (RLIMIT_FSIZE, as a full disk would
 * with ENOSPC): run in a child so the limit cannot touch the test's own files. */
static void test_file_size_limit_changes_nothing(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    struct stat st;
    assert_int_equal(stat(f->db, &st), 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        fsize_report rep;
        memset(&rep, 0, sizeof rep);
        signal(SIGXFSZ, SIG_IGN); /* the write fails with EFBIG instead of killing us */
        int rc = 0;
        cf_engine *e = rel_open(f->db, &f->clock, 0, &rc, rep.open_msg, sizeof rep.open_msg);
        rep.open_rc = rc;
        if (e) {
            struct rlimit lim;
            getrlimit(RLIMIT_FSIZE, &lim);
            struct rlimit small = {(rlim_t)st.st_size + 16384, lim.rlim_max};
            setrlimit(RLIMIT_FSIZE, &small);
            char *data = big_data(512 * 1024);
            rep.full_rc = cf_instance_fire(e, id, "bump", data, "t", "fsize-1", NULL);
            snprintf(rep.full_msg, sizeof rep.full_msg, "%s", cf_errmsg(e));
            cf_instance_info info = CF_INSTANCE_INFO_INIT;
            if (cf_instance_get(e, id, &info) == CF_OK)
                rep.full_version = (int)info.version;
            rep.full_rows = -1;
            setrlimit(RLIMIT_FSIZE, &lim); /* space again */
            cf_fire_result r = CF_FIRE_RESULT_INIT;
            rep.again_rc = cf_instance_fire(e, id, "bump", data, "t", "fsize-1", &r);
            rep.again_replayed = r.replayed;
            free(data);
            cf_engine_close(e);
        }
        ssize_t w = write(pipefd[1], &rep, sizeof rep);
        _exit(w == (ssize_t)sizeof rep ? 0 : 3);
    }
    close(pipefd[1]);
    fsize_report rep;
    assert_int_equal(read(pipefd[0], &rep, sizeof rep), (ssize_t)sizeof rep);
    close(pipefd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (rep.open_rc != CF_OK)
        fail_msg("open: %s: %s", cf_result_name(rep.open_rc), rep.open_msg);
    if (rep.full_rc != CF_EFULL)
        fail_msg("fire beyond the file size limit: %s: %s (expected CF_EFULL)", cf_result_name(rep.full_rc),
                 rep.full_msg);
    assert_contains(rep.full_msg, "may not write files larger than");
    assert_contains(rep.full_msg, "ulimit -f");
    assert_contains(rep.full_msg, "nothing was changed");
    assert_int_equal(rep.full_version, 3); /* created, start, bump: the failed event left nothing */
    assert_int_equal(rep.again_rc, CF_OK);
    assert_int_equal(rep.again_replayed, 0);

    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    assert_int_equal(rel_key_rows(e, "fsize-1"), 1);
    assert_int_equal(cft_history_count(e, id), 4);
    rel_census census;
    rel_check(e, &census);
    rel_census_free(&census);
    cf_engine_close(e);
}

/* Open must fail with `want`, a message containing `needle`, and leave the file
 * (and its WAL companions) byte for byte as they were. */
static void assert_refused(fx *f, const char *path, int want, const char *needle)
{
    char *wal = malloc(strlen(path) + 8), *shm = malloc(strlen(path) + 8);
    sprintf(wal, "%s-wal", path);
    sprintf(shm, "%s-shm", path);
    char before[65], before_wal[65], after[65], after_wal[65];
    rel_file_hash(path, before);
    rel_file_hash(wal, before_wal);
    bool had_shm = access(shm, F_OK) == 0;
    int rc = 0;
    char msg[2048];
    cf_engine *e = rel_open(path, &f->clock, 0, &rc, msg, sizeof msg);
    bool was_root = getuid() == 0;
    if (was_root && geteuid() != 0)
        assert_int_equal(seteuid(0), 0);
    if (e)
        cf_engine_close(e);
    if (rc != want)
        fail_msg("opening %s: %s (%s), expected %s", path, cf_result_name(rc), msg, cf_result_name(want));
    assert_contains(msg, path);
    assert_contains(msg, needle);
    rel_file_hash(path, after);
    rel_file_hash(wal, after_wal);
    assert_string_equal(after, before);
    assert_string_equal(after_wal, before_wal);
    assert_int_equal(access(shm, F_OK) == 0, had_shm);
    free(wal);
    free(shm);
}

/* As root, file modes do not stop us: act as "nobody" (see tests/test_store.c). */
static bool become_nobody(void)
{
    if (geteuid() != 0)
        return true;
    return seteuid(65534) == 0;
}

/* Undo become_nobody (nothing to undo when the tests do not run as root). */
static void back_to_root(void)
{
    if (getuid() == 0 && geteuid() != 0)
        assert_int_equal(seteuid(0), 0);
}

static void test_read_only_database_is_refused_untouched(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(chmod(f->db, 0444), 0);
    if (!become_nobody())
        skip();
    assert_refused(f, f->db, CF_EREADONLY, "read-only");

    /* A writable file in a folder that is not: SQLite cannot make its -wal and -shm. */
    assert_int_equal(chmod(f->db, 0666), 0);
    assert_int_equal(chmod(f->dir, 0555), 0);
    assert_true(become_nobody());
    assert_refused(f, f->db, CF_EREADONLY, "not writable");
    assert_int_equal(chmod(f->dir, 0700), 0);

    /* Made writable again, the data is all there. */
    cf_engine *e = rel_open_ok(f->db, &f->clock, 0);
    assert_int_equal(cft_history_count(e, id), 3);
    rel_census census;
    rel_check(e, &census);
    rel_census_free(&census);
    cf_engine_close(e);
}

static void test_foreign_files_are_refused_untouched(void **state)
{
    fx *f = *state;
    /* Text. */
    char *text = cft_write(f->dir, "notes.db", "Dear registrar,\nthis is a letter, not a database.\n");
    assert_refused(f, text, CF_ESCHEMA, "is not an SQLite database");
    /* Random bytes the size of a few pages. */
    char *bin = cft_path(f->dir, "noise.db");
    FILE *out = fopen(bin, "wb");
    assert_non_null(out);
    rel_rng rng = {7};
    for (int i = 0; i < 4096; i++) {
        uint64_t v = rel_next(&rng);
        fwrite(&v, sizeof v, 1, out);
    }
    fclose(out);
    assert_refused(f, bin, CF_ESCHEMA, "is not an SQLite database");
    /* Somebody else's SQLite database. */
    char *other = cft_path(f->dir, "other.db");
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(other, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "CREATE TABLE patients(id INTEGER PRIMARY KEY, name TEXT);"
                                       "INSERT INTO patients(name) VALUES('Ana');", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_refused(f, other, CF_ESCHEMA, "is not a certflow database");
    /* The same in WAL mode, as another program might keep it. */
    assert_int_equal(sqlite3_open(other, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA journal_mode=WAL; INSERT INTO patients(name) VALUES('Bo');", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_refused(f, other, CF_ESCHEMA, "is not a certflow database");
    free(text);
    free(bin);
    free(other);
}

static void test_newer_schema_is_refused_untouched(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(f->db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_refused(f, f->db, CF_ESCHEMA, "was written by a newer certflow (schema 99");
    assert_refused(f, f->db, CF_ESCHEMA, "upgrade certflow");
}

/* Set a header field of the file at path directly, as another program would. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    int rc = sqlite3_exec(raw, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(raw));
    sqlite3_close(raw);
}

/* A schema version this program does not know: negative (it used to run
 * migrations[-1] as SQL and commit user_version 0), none with tables present, a
 * version whose tables are missing, a version with no tables at all. Each is
 * refused with CF_ESCHEMA and the file stays byte for byte as it was. */
static void test_unknown_schema_versions_are_refused_untouched(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    raw_exec(f->db, "PRAGMA user_version = -1");
    assert_refused(f, f->db, CF_ESCHEMA, "has schema version -1, which no certflow writes");
    assert_refused(f, f->db, CF_ESCHEMA, "restore it from a backup");
    raw_exec(f->db, "PRAGMA user_version = -2147483648");
    assert_refused(f, f->db, CF_ESCHEMA, "has schema version -2147483648");

    /* certflow's tables and application id, but no version. */
    raw_exec(f->db, "PRAGMA user_version = 0");
    assert_refused(f, f->db, CF_ESCHEMA, "no schema version");

    /* A known version with one of its tables gone. */
    raw_exec(f->db, "PRAGMA user_version = 2; DROP TABLE policy_text");
    assert_refused(f, f->db, CF_ESCHEMA, "at certflow schema version 2 but has no table 'policy_text'");

    /* certflow's application id and a version, but no tables at all. */
    char *empty = cft_path(f->dir, "empty.db");
    raw_exec(empty, "PRAGMA application_id = 1128680535; PRAGMA user_version = 2");
    assert_refused(f, empty, CF_ESCHEMA, "has no table 'workflow_def'");
    /* No application id but a version: not ours. */
    char *versioned = cft_path(f->dir, "versioned.db");
    raw_exec(versioned, "PRAGMA user_version = 7");
    assert_refused(f, versioned, CF_ESCHEMA, "is not a certflow database");
    /* Somebody else's application id on an empty file: not ours either. */
    char *marked = cft_path(f->dir, "marked.db");
    raw_exec(marked, "PRAGMA application_id = 42");
    assert_refused(f, marked, CF_ESCHEMA, "is not a certflow database (application_id 0x0000002A");
    free(empty);
    free(versioned);
    free(marked);
}

/* A malformed file (a damaged header page) is refused as a damaged database,
 * not as a broken history chain: CF_ECORRUPT ("the database is corrupt or was
 * tampered with", exit 6) saying it is damaged and how to recover, the file untouched. */
static void test_malformed_database_is_refused_as_damaged(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    FILE *io = fopen(f->db, "r+b");
    assert_non_null(io);
    assert_int_equal(fseek(io, 100, SEEK_SET), 0); /* the first page's b-tree header */
    const unsigned char junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(fwrite(junk, 1, sizeof junk, io), sizeof junk);
    assert_int_equal(fclose(io), 0);
    assert_refused(f, f->db, CF_ECORRUPT, "is damaged; restore it from a backup");
}

/* The folder's entries, sorted, as one string. */
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

static cf_engine *open_read_only(fx *f, const char *path, int *rc, char *msg, size_t size)
{
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = CF_REL_FIXTURES "/workflows";
    o.policy_dir = CF_REL_FIXTURES "/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    o.read_only = 1;
    cf_engine *e = NULL;
    *rc = cf_engine_open(path, &o, &e);
    snprintf(msg, size, "%s", cf_errmsg(e));
    return e;
}

static int count_row(void *ud, const cf_instance_info *info)
{
    (void)info;
    ++*(int *)ud;
    return 0;
}

/* Reading through a read-only engine: everything a reader needs works; every
 * write is CF_EREADONLY saying so; nothing is created beside the file. */
static void read_everything(fx *f, const char *id)
{
    char before[65], after[65];
    rel_file_hash(f->db, before);
    char *files_before = listing(f->dir);
    int rc = 0;
    char msg[2048];
    cf_engine *e = open_read_only(f, f->db, &rc, msg, sizeof msg);
    if (rc != CF_OK)
        fail_msg("read-only open of %s: %s: %s", f->db, cf_result_name(rc), msg);
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, id, &info), CF_OK);
    assert_int_equal(info.version, 3);
    int n = 0;
    cf_instance_filter all = CF_INSTANCE_FILTER_INIT;
    assert_int_equal(cf_instance_list(e, &all, count_row, &n), CF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cft_history_count(e, id), 3);
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    assert_int_equal(cf_engine_verify(e, &rep), CF_OK);
    assert_int_equal(rep.rows, 3);
    /* Writes are refused, with the reason. */
    char nid[37];
    assert_int_equal(cf_instance_create(e, "job", "alameda", "{\"count\":0}", "t", nid), CF_EREADONLY);
    assert_contains(cf_errmsg(e), "opened read-only");
    assert_int_equal(cf_instance_fire(e, id, "bump", "{\"n\":3}", "t", NULL, NULL), CF_EREADONLY);
    assert_contains(cf_errmsg(e), f->db);
    cf_engine_close(e);
    char *files_after = listing(f->dir);
    assert_string_equal(files_after, files_before);
    rel_file_hash(f->db, after);
    assert_string_equal(after, before);
    free(files_before);
    free(files_after);
}

/* A database the user cannot write (a read-only file; a writable file in a
 * read-only folder, where SQLite could not make -wal and -shm) is read through
 * options.read_only; a database that needs migrating is refused read-only,
 * untouched, with nothing left beside it. */
static void test_read_only_database_can_be_read(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(chmod(f->db, 0444), 0);
    if (!become_nobody())
        skip();
    read_everything(f, id);
    back_to_root();

    assert_int_equal(chmod(f->db, 0666), 0);
    assert_int_equal(chmod(f->dir, 0555), 0);
    assert_true(become_nobody());
    read_everything(f, id);
    back_to_root();
    assert_int_equal(chmod(f->dir, 0755), 0);

    /* A writer has the database open, with a commit still in its -wal: the
     * read-only handle reads through the writer's -wal and -shm, and sees it. */
    cf_engine *w = rel_open_ok(f->db, &f->clock, 0);
    sqlite3_exec(cf__store_db(w->store), "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL);
    char second[37];
    assert_int_equal(cf_instance_create(w, "job", "alameda", "{\"count\":0}", "writer", second), CF_OK);
    char *wal = malloc(strlen(f->db) + 8);
    sprintf(wal, "%s-wal", f->db);
    assert_int_equal(access(wal, F_OK), 0);
    assert_int_equal(chmod(f->dir, 0555), 0);
    assert_true(become_nobody());
    int rc = 0;
    char msg[2048];
    cf_engine *e = open_read_only(f, f->db, &rc, msg, sizeof msg);
    if (rc != CF_OK)
        fail_msg("read-only open beside a writer: %s: %s", cf_result_name(rc), msg);
    cf_instance_info got = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(e, second, &got), CF_OK);
    assert_string_equal(got.county, "alameda");
    cf_engine_close(e);
    back_to_root();
    assert_int_equal(chmod(f->dir, 0755), 0);
    cf_engine_close(w);
    free(wal);

    /* An older schema cannot be migrated read-only: refused, untouched. */
    raw_exec(f->db, "PRAGMA user_version = 1");
    char before[65], after[65];
    rel_file_hash(f->db, before);
    char *files_before = listing(f->dir);
    e = open_read_only(f, f->db, &rc, msg, sizeof msg);
    cf_engine_close(e);
    if (rc != CF_EREADONLY)
        fail_msg("read-only open of an old schema: %s: %s", cf_result_name(rc), msg);
    assert_contains(msg, "needs its schema migrated");
    assert_contains(msg, "open it once where it is writable");
    /* A missing file is not created. */
    char *missing = cft_path(f->dir, "missing.db");
    e = open_read_only(f, missing, &rc, msg, sizeof msg);
    cf_engine_close(e);
    assert_int_equal(rc, CF_EIO);
    assert_contains(msg, "never creates a database");
    char *files_after = listing(f->dir);
    assert_string_equal(files_after, files_before);
    rel_file_hash(f->db, after);
    assert_string_equal(after, before);
    free(missing);
    free(files_before);
    free(files_after);
}

/* Any refused open leaves no -wal or -shm behind: list the folder before and after. */
static void test_refused_open_leaves_no_companions(void **state)
{
    fx *f = *state;
    char id[37];
    populate(f, id);
    raw_exec(f->db, "PRAGMA user_version = -1");
    struct {
        int read_only;
        int want;
    } runs[] = {{0, CF_ESCHEMA}, {1, CF_ESCHEMA}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char *before = listing(f->dir);
        int rc = 0;
        char msg[2048];
        cf_engine *e = NULL;
        if (runs[i].read_only)
            e = open_read_only(f, f->db, &rc, msg, sizeof msg);
        else
            e = rel_open(f->db, &f->clock, 0, &rc, msg, sizeof msg);
        cf_engine_close(e);
        if (rc != runs[i].want)
            fail_msg("run %zu: %s: %s", i, cf_result_name(rc), msg);
        char *after = listing(f->dir);
        assert_string_equal(after, before);
        free(before);
        free(after);
    }
    /* Read-only, in a folder the user cannot write: the same. */
    assert_int_equal(chmod(f->dir, 0555), 0);
    if (!become_nobody())
        skip();
    char *before = listing(f->dir);
    int rc = 0;
    char msg[2048];
    cf_engine *e = open_read_only(f, f->db, &rc, msg, sizeof msg);
    cf_engine_close(e);
    back_to_root();
    assert_int_equal(rc, CF_ESCHEMA);
    char *after = listing(f->dir);
    assert_string_equal(after, before);
    free(before);
    free(after);

    /* A read-only file in a folder anyone may write: opening it to write is
     * refused before SQLite reads it (reading a WAL database made a -wal and a
     * -shm, owned by the reader, that stayed). */
    assert_int_equal(chmod(f->dir, 0777), 0);
    raw_exec(f->db, "PRAGMA user_version = 2");
    assert_int_equal(chmod(f->db, 0444), 0);
    before = listing(f->dir);
    assert_true(become_nobody());
    e = rel_open(f->db, &f->clock, 0, &rc, msg, sizeof msg);
    cf_engine_close(e);
    back_to_root();
    if (rc != CF_EREADONLY)
        fail_msg("opening a read-only file to write: %s: %s", cf_result_name(rc), msg);
    assert_contains(msg, "is read-only");
    after = listing(f->dir);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_database_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_database_is_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files_are_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_schema_versions_are_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_database_is_refused_as_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_database_can_be_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_open_leaves_no_companions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
