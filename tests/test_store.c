/* test_store.c — the SQLite store: opening and refusing files, schema, rows, transactions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "certflow/plugin.h"
#include "store/sqlite/sqlite_private.h" /* the SQLite backend's own tests: its connection, PRAGMAs and error codes */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define assert_contains(hay, needle)                                                     \
    do {                                                                                 \
        if (!strstr((hay), (needle)))                                                    \
            fail_msg("expected \"%s\" in message:\n  %s", (needle), (hay));              \
    } while (0)

/* ---- helpers ---- */

typedef struct file_snap {
    unsigned char *bytes;
    size_t len;
    bool exists;
} file_snap;

static file_snap snap(const char *path)
{
    file_snap s = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return s;
    s.exists = true;
    unsigned char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        s.bytes = realloc(s.bytes, s.len + n);
        assert_non_null(s.bytes);
        memcpy(s.bytes + s.len, chunk, n);
        s.len += n;
    }
    fclose(f);
    return s;
}

/* The file has exactly the bytes of the snapshot and no WAL appeared beside it. */
static void assert_unchanged(const char *path, file_snap before)
{
    file_snap now = snap(path);
    assert_true(now.exists == before.exists);
    assert_int_equal(now.len, before.len);
    if (now.len)
        assert_memory_equal(now.bytes, before.bytes, now.len);
    char wal[1024];
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_not_equal(access(wal, F_OK), 0);
    free(now.bytes);
    free(before.bytes);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql failed: %s: %s", sql, msg);
    sqlite3_close(db);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *v = cf__strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static cf__store *open_ok(const char *path)
{
    cf__store *s = NULL;
    cf__err err = {{0}};
    int rc = cf__store_open(path, 0, &s, &err);
    if (rc != CF_OK)
        fail_msg("open %s: %s", path, err.msg);
    return s;
}

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void put_instance(cf__store *s, const char *id, const char *workflow, const char *state,
                         const char *county, cf_time created)
{
    cf__instance_row row = {0};
    snprintf(row.id, sizeof row.id, "%s", id);
    row.workflow = (char *)workflow;
    row.def_hash = (char *)HASH_A;
    row.county = (char *)county;
    row.state = (char *)state;
    row.data = (char *)"{\"n\":1}";
    row.created_at = created;
    row.updated_at = created;
    row.version = 1;
    cf__err err = {{0}};
    int rc = cf__store_instance_insert(s, &row, &err);
    if (rc != CF_OK)
        fail_msg("insert %s: %s", id, err.msg);
}

static cf__store *open_with_def(const char *path)
{
    cf__store *s = open_ok(path);
    cf__err err = {{0}};
    assert_int_equal(cf__store_def_put(s, HASH_A, "cert", "return {}", 10, &err), CF_OK);
    return s;
}

/* ---- opening ---- */

static void test_open_creates_schema(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_ok(path);
    sqlite3 *db = cf__store_db(s);
    assert_int_equal(query_int(db, "PRAGMA user_version"), 11);
    assert_int_equal(query_int(db, "PRAGMA application_id"), 0x43464C57);
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
    char *mode = query_text(db, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                   "('workflow_def', 'instance', 'history', 'timer', 'outbox')"),
                     5);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 2);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"), 8);
    cf__store_close(s);

    /* Reopening changes nothing and keeps the version. */
    s = open_ok(path);
    assert_int_equal(query_int(cf__store_db(s), "PRAGMA user_version"), 11);
    cf__store_close(s);
    s = open_ok(path);
    cf__store_close(s);

    free(path);
    cft_rmtree(dir);
}

/* The plan of a statement, its lines joined by " | ". */
static char *query_plan(sqlite3 *db, const char *sql)
{
    char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, eqp, -1, &st, NULL), SQLITE_OK);
    sqlite3_free(eqp);
    cf__buf b = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (b.len)
            cf__buf_puts(&b, " | ");
        cf__buf_puts(&b, (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    cf__buf_append(&b, "", 1);
    return b.data;
}

/* Schema 10 (issue 13): of the instance's indexes only instance_by_definition holds the
 * state, which every fire changes, and it holds it because counting the states of a
 * workflow version (migrate.c, on every open) reads that index alone; the instance
 * list never read an index by state (it scans: its filters are optional). */
static void test_one_instance_index_holds_the_state(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_ok(path);
    sqlite3 *db = cf__store_db(s);
    char *holders = query_text(db, "SELECT group_concat(l.name) FROM pragma_index_list('instance') l"
                                   " JOIN pragma_index_info(l.name) i WHERE i.name = 'state'");
    assert_string_equal(holders, "instance_by_definition");
    free(holders);
    char *plan = query_plan(db, "SELECT state, count(*) FROM instance WHERE def_hash = ?1 GROUP BY state"
                                " ORDER BY state");
    assert_non_null(strstr(plan, "COVERING INDEX instance_by_definition"));
    free(plan);
    plan = query_plan(db, "UPDATE instance SET state = ?2, data = ?3, updated_at = ?4, version = ?5 WHERE id = ?1");
    assert_non_null(strstr(plan, "sqlite_autoindex_instance_1 (id=?)"));
    free(plan);
    cf__store_close(s);
    free(path);
    cft_rmtree(dir);
}

static void test_open_memory(void **state)
{
    (void)state;
    cf__store *s = open_ok(":memory:");
    assert_int_equal(query_int(cf__store_db(s), "PRAGMA user_version"), 11);
    cf__store_close(s);
}

static void test_open_newer_schema_refused(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store_close(open_ok(path));
    raw_exec(path, "PRAGMA user_version = 99");
    file_snap before = snap(path);
    cf__store *s = NULL;
    cf__err err = {{0}};
    assert_int_equal(cf__store_open(path, 0, &s, &err), CF_ESCHEMA);
    assert_null(s);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "was written by a newer certflow (schema 99; this build knows up to 11): upgrade certflow");
    assert_unchanged(path, before);
    free(path);
    cft_rmtree(dir);
}

static void test_open_foreign_database_refused(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "other.db");
    raw_exec(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers(name) VALUES('x')");
    file_snap before = snap(path);
    cf__store *s = NULL;
    cf__err err = {{0}};
    assert_int_equal(cf__store_open(path, 0, &s, &err), CF_ESCHEMA);
    assert_null(s);
    assert_contains(err.msg, "is not a certflow database (application_id 0x00000000");
    assert_contains(err.msg, "give cf_engine_open a certflow database or a new file");
    assert_unchanged(path, before);
    free(path);
    cft_rmtree(dir);
}

static void test_open_not_a_database_refused(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    /* A short text file and one longer than a page. */
    char big[8192];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *texts[] = {"these are my notes, not a database\n", big};
    for (size_t i = 0; i < 2; i++) {
        char *path = cft_write(dir, i ? "big.txt" : "notes.txt", texts[i]);
        file_snap before = snap(path);
        cf__store *s = NULL;
        cf__err err = {{0}};
        assert_int_equal(cf__store_open(path, 0, &s, &err), CF_ESCHEMA);
        assert_null(s);
        assert_contains(err.msg, path);
        assert_contains(err.msg, "is not an SQLite database");
        assert_contains(err.msg, "give cf_engine_open a certflow database or a new file");
        assert_unchanged(path, before);
        free(path);
    }
    cft_rmtree(dir);
}

/* Root ignores file modes, so as root the read-only checks run with the effective
 * uid of "nobody" (65534); without the privilege to switch, they are skipped. */
static bool become_nobody(void)
{
    if (geteuid() != 0)
        return true;
    return seteuid(65534) == 0;
}

static void back_to_root(bool was_root)
{
    if (was_root)
        assert_int_equal(seteuid(0), 0);
}

static void test_open_read_only(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    assert_int_equal(chmod(dir, 0755), 0);
    char *path = cft_path(dir, "cf.db");
    cf__store_close(open_ok(path));
    assert_int_equal(chmod(path, 0444), 0);

    bool was_root = geteuid() == 0;
    if (!become_nobody()) {
        print_message("skipping read-only checks: running as root without permission to seteuid\n");
        free(path);
        cft_rmtree(dir);
        skip();
    }
    /* The file is read-only. */
    file_snap before = snap(path);
    cf__store *s = NULL;
    cf__err err = {{0}};
    int rc = cf__store_open(path, 0, &s, &err);
    back_to_root(was_root);
    assert_int_equal(rc, CF_EREADONLY);
    assert_null(s);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "is read-only: certflow needs to write it; make it writable");
    assert_unchanged(path, before);

    /* A new database in a folder that cannot be written. */
    char *ro = cft_path(dir, "ro");
    assert_int_equal(mkdir(ro, 0555), 0);
    char *fresh = cft_path(ro, "new.db");
    assert_true(become_nobody());
    rc = cf__store_open(fresh, 0, &s, &err);
    back_to_root(was_root);
    assert_int_equal(rc, CF_EREADONLY);
    assert_contains(err.msg, fresh);
    assert_contains(err.msg, "writable");
    assert_int_not_equal(access(fresh, F_OK), 0);

    /* A writable database in a folder that cannot be written: WAL needs -wal and -shm files. */
    char *ro2 = cft_path(dir, "ro2");
    assert_int_equal(mkdir(ro2, 0777), 0);
    char *inside = cft_path(ro2, "cf.db");
    cf__store_close(open_ok(inside));
    assert_int_equal(chmod(inside, 0666), 0);
    assert_int_equal(chmod(ro2, 0555), 0);
    before = snap(inside);
    assert_true(become_nobody());
    rc = cf__store_open(inside, 0, &s, &err);
    back_to_root(was_root);
    assert_int_equal(rc, CF_EREADONLY);
    assert_contains(err.msg, "is not writable: SQLite needs to create");
    assert_contains(err.msg, inside);
    assert_unchanged(inside, before);
    free(inside);
    free(ro2);

    free(fresh);
    free(ro);
    free(path);
    cft_rmtree(dir);
}

/* cf__store_open_read_only: a path with characters that mean something in a URI
 * ('%', '?', '#', ' ') names the same file; writes are refused, reads work; a
 * missing file is not created; a WAL database with a -wal beside it is read
 * through it (a commit not yet checkpointed is seen). */
static void test_open_read_only_store(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "odd %41?x=1#frag.db");
    cf__store *w = open_with_def(path);
    put_instance(w, "11111111-1111-4111-8111-111111111111", "ticket", "open", "alameda", 100);
    cf__store_close(w);

    cf__store *s = NULL;
    cf__err err = {{0}};
    assert_int_equal(cf__store_open_read_only(path, 0, &s, &err), CF_OK);
    assert_true(cf__store_read_only(s));
    cf__instance_row row = {0};
    assert_int_equal(cf__store_instance_get(s, "11111111-1111-4111-8111-111111111111", &row, &err), CF_OK);
    assert_string_equal(row.state, "open");
    cf__instance_row_clear(&row);
    assert_int_equal(cf__store_begin(s, &err), CF_EREADONLY);
    assert_contains(err.msg, "opened read-only");
    assert_int_equal(cf__store_begin_read(s, &err), CF_OK);
    cf__store_rollback(s);
    cf__store_close(s);
    char *wal = cft_path(dir, "odd %41?x=1#frag.db-wal");
    assert_int_not_equal(access(wal, F_OK), 0); /* read as immutable: nothing made */

    /* A writer keeps the database open with a commit still in its -wal. */
    w = open_ok(path);
    sqlite3 *wdb = cf__store_db(w);
    assert_int_equal(sqlite3_exec(wdb, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL), SQLITE_OK);
    put_instance(w, "22222222-2222-4222-8222-222222222222", "ticket", "open", "alameda", 200);
    assert_int_equal(access(wal, F_OK), 0);
    assert_int_equal(cf__store_open_read_only(path, 0, &s, &err), CF_OK);
    assert_int_equal(cf__store_instance_get(s, "22222222-2222-4222-8222-222222222222", &row, &err), CF_OK);
    cf__instance_row_clear(&row);
    cf__store_close(s);
    cf__store_close(w);

    char *missing = cft_path(dir, "missing.db");
    assert_int_equal(cf__store_open_read_only(missing, 0, &s, &err), CF_EIO);
    assert_null(s);
    assert_contains(err.msg, "never creates a database");
    assert_int_not_equal(access(missing, F_OK), 0);
    free(missing);
    free(wal);
    free(path);
    cft_rmtree(dir);
}

/* ---- rows ---- */

static void test_defs(void **state)
{
    (void)state;
    cf__store *s = open_ok(":memory:");
    cf__err err = {{0}};
    assert_int_equal(cf__store_def_put(s, HASH_A, "cert", "return {a=1}", 10, &err), CF_OK);
    assert_int_equal(cf__store_def_put(s, HASH_A, "cert", "ignored", 20, &err), CF_OK);
    char *name = NULL, *source = NULL;
    assert_int_equal(cf__store_def_get(s, HASH_A, &name, &source, &err), CF_OK);
    assert_string_equal(name, "cert");
    assert_string_equal(source, "return {a=1}");
    free(name);
    free(source);
    assert_int_equal(query_int(cf__store_db(s), "SELECT first_seen FROM workflow_def"), 10);
    assert_int_equal(cf__store_def_get(s, "beef", &name, &source, &err), CF_ENOTFOUND);
    assert_null(name);
    assert_null(source);
    assert_contains(err.msg, "beef");
    cf__store_close(s);
}

typedef struct seen {
    char ids[8][37];
    int n;
    int stop_after; /* 0 = never */
} seen;

static int collect_instance(void *ud, const cf__instance_row *row)
{
    seen *c = ud;
    snprintf(c->ids[c->n++], 37, "%s", row->id);
    return c->stop_after && c->n >= c->stop_after;
}

static void expect_ids(const seen *c, const char *const *ids, int n)
{
    assert_int_equal(c->n, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(c->ids[i], ids[i]);
}

static void test_instances(void **state)
{
    (void)state;
    cf__store *s = open_with_def(":memory:");
    cf__err err = {{0}};
    put_instance(s, "i3", "cert", "active", "san_diego", 300);
    put_instance(s, "i2", "cert", "applied", "los_angeles", 100);
    put_instance(s, "i1", "cert", "active", "los_angeles", 100);
    /* i2 and i1 share a creation time: they list in creation order */
    put_instance(s, "i4", "employment", "active", "san_diego", 50);

    cf__instance_row row;
    assert_int_equal(cf__store_instance_get(s, "i2", &row, &err), CF_OK);
    assert_string_equal(row.id, "i2");
    assert_string_equal(row.workflow, "cert");
    assert_string_equal(row.def_hash, HASH_A);
    assert_string_equal(row.county, "los_angeles");
    assert_string_equal(row.state, "applied");
    assert_string_equal(row.data, "{\"n\":1}");
    assert_int_equal(row.created_at, 100);
    assert_int_equal(row.version, 1);

    free(row.state);
    free(row.data);
    row.state = cf__strdup("active");
    row.data = cf__strdup("{\"n\":2}");
    row.updated_at = 150;
    row.version = 2;
    assert_int_equal(cf__store_instance_update(s, &row, &err), CF_OK);
    cf__instance_row_clear(&row);
    assert_int_equal(cf__store_instance_get(s, "i2", &row, &err), CF_OK);
    assert_string_equal(row.state, "active");
    assert_string_equal(row.data, "{\"n\":2}");
    assert_int_equal(row.updated_at, 150);
    assert_int_equal(row.created_at, 100);
    assert_int_equal(row.version, 2);

    /* Missing rows. */
    snprintf(row.id, sizeof row.id, "nope");
    assert_int_equal(cf__store_instance_update(s, &row, &err), CF_ENOTFOUND);
    assert_string_equal(err.msg, "no instance 'nope' (list instances with cf_instance_list)");
    cf__instance_row_clear(&row);
    assert_int_equal(cf__store_instance_get(s, "ghost", &row, &err), CF_ENOTFOUND);
    assert_string_equal(err.msg, "no instance 'ghost' (list instances with cf_instance_list)");

    /* Lists: ordered by created_at, then creation order; NULL filters match everything. */
    seen c = {0};
    assert_int_equal(cf__store_instance_list(s, NULL, NULL, NULL, collect_instance, &c, &err), CF_OK);
    expect_ids(&c, (const char *[]){"i4", "i2", "i1", "i3"}, 4);
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__store_instance_list(s, "cert", NULL, NULL, collect_instance, &c, &err), CF_OK);
    expect_ids(&c, (const char *[]){"i2", "i1", "i3"}, 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__store_instance_list(s, "cert", "active", "los_angeles", collect_instance, &c, &err), CF_OK);
    expect_ids(&c, (const char *[]){"i2", "i1"}, 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__store_instance_list(s, NULL, NULL, "san_diego", collect_instance, &c, &err), CF_OK);
    expect_ids(&c, (const char *[]){"i4", "i3"}, 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__store_instance_list(s, "nothing", NULL, NULL, collect_instance, &c, &err), CF_OK);
    assert_int_equal(c.n, 0);
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(cf__store_instance_list(s, NULL, NULL, NULL, collect_instance, &c, &err), CF_OK);
    expect_ids(&c, (const char *[]){"i4", "i2"}, 2);
    /* The statement was reset after stopping early: the next call starts over. */
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__store_instance_list(s, NULL, "applied", NULL, collect_instance, &c, &err), CF_OK);
    assert_int_equal(c.n, 0);

    /* Constraints: bad JSON, unknown definition, duplicate id; nothing is written. */
    cf__instance_row bad = {0};
    snprintf(bad.id, sizeof bad.id, "bad");
    bad.workflow = (char *)"cert";
    bad.def_hash = (char *)HASH_A;
    bad.county = (char *)"x";
    bad.state = (char *)"s";
    bad.data = (char *)"{not json";
    assert_int_equal(cf__store_instance_insert(s, &bad, &err), CF_ESTORE);
    assert_contains(err.msg, "storing instance bad");
    assert_contains(err.msg, "CHECK constraint failed");
    bad.data = (char *)"{}";
    bad.def_hash = (char *)"unknown";
    assert_int_equal(cf__store_instance_insert(s, &bad, &err), CF_ESTORE);
    assert_contains(err.msg, "FOREIGN KEY constraint failed");
    bad.def_hash = (char *)HASH_A;
    snprintf(bad.id, sizeof bad.id, "i1");
    assert_int_equal(cf__store_instance_insert(s, &bad, &err), CF_ESTORE);
    assert_contains(err.msg, "UNIQUE constraint failed");
    assert_int_equal(query_int(cf__store_db(s), "SELECT count(*) FROM instance"), 4);

    cf__instance_row_clear(&row);
    cf__store_close(s);
}

typedef struct timers_seen {
    int64_t ids[8];
    char where[8][64];
    int n;
} timers_seen;

static int collect_timer(void *ud, const cf__timer_row *t, const char *workflow, const char *county)
{
    timers_seen *c = ud;
    snprintf(c->where[c->n], 64, "%s/%s/%s/%s/%s", t->instance_id, workflow, county, t->state, t->name);
    c->ids[c->n++] = t->id;
    return 0;
}

static void test_timers(void **state)
{
    (void)state;
    cf__store *s = open_with_def(":memory:");
    cf__err err = {{0}};
    put_instance(s, "a", "cert", "active", "san_diego", 1);
    put_instance(s, "b", "cert", "active", "los_angeles", 2);
    assert_int_equal(cf__store_timer_add(s, "a", "active", "t1", "expire", 300, &err), CF_OK); /* id 1 */
    assert_int_equal(cf__store_timer_add(s, "a", "active", "t2", "remind", 100, &err), CF_OK); /* id 2 */
    assert_int_equal(cf__store_timer_add(s, "b", "active", "t3", "remind", 100, &err), CF_OK); /* id 3 */
    assert_int_equal(cf__store_timer_add(s, "b", "applied", "t4", "lapse", 200, &err), CF_OK); /* id 4 */
    /* A timer for an instance that does not exist breaks a foreign key. */
    assert_int_equal(cf__store_timer_add(s, "zz", "x", "t", "e", 1, &err), CF_ESTORE);
    assert_contains(err.msg, "scheduling a timer");

    cf__timer_row t;
    assert_int_equal(cf__store_timer_next(s, 99, &t, &err), CF_ENOTFOUND);
    assert_int_equal(cf__store_timer_next(s, 1000, &t, &err), CF_OK);
    assert_int_equal(t.id, 2); /* due 100, lower id than 3 */
    assert_string_equal(t.instance_id, "a");
    assert_string_equal(t.state, "active");
    assert_string_equal(t.name, "t2");
    assert_string_equal(t.event, "remind");
    assert_int_equal(t.due, 100);
    cf__timer_row_clear(&t);
    assert_int_equal(cf__store_timer_next(s, 100, &t, &err), CF_OK); /* due == now counts */
    assert_int_equal(t.id, 2);
    cf__timer_row_clear(&t);

    timers_seen c = {0};
    assert_int_equal(cf__store_timer_list(s, 100, 200, collect_timer, &c, &err), CF_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.ids[0], 2);
    assert_int_equal(c.ids[1], 3);
    assert_int_equal(c.ids[2], 4);
    assert_string_equal(c.where[0], "a/cert/san_diego/active/t2");
    assert_string_equal(c.where[1], "b/cert/los_angeles/active/t3");
    assert_string_equal(c.where[2], "b/cert/los_angeles/applied/t4");

    assert_int_equal(cf__store_timer_delete(s, 2, &err), CF_OK);
    assert_int_equal(cf__store_timer_next(s, 1000, &t, &err), CF_OK);
    assert_int_equal(t.id, 3);
    cf__timer_row_clear(&t);

    /* Cancel by state: only b's "active" timers go. */
    assert_int_equal(cf__store_timer_cancel(s, "b", "active", &err), CF_OK);
    assert_int_equal(cf__store_timer_next(s, 1000, &t, &err), CF_OK);
    assert_int_equal(t.id, 4);
    cf__timer_row_clear(&t);
    memset(&c, 0, sizeof c);
    assert_int_equal(cf__store_timer_list(s, 0, 1000, collect_timer, &c, &err), CF_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], 4);
    assert_int_equal(c.ids[1], 1);
    cf__store_close(s);
}

static void test_outbox(void **state)
{
    (void)state;
    cf__store *s = open_ok(":memory:");
    cf__err err = {{0}};
    cf__outbox_row o;
    assert_int_equal(cf__store_outbox_next(s, &o, &err), CF_ENOTFOUND);
    assert_int_equal(cf__store_outbox_add(s, "src", "t1", "e1", "{}", 5, &err), CF_OK);
    assert_int_equal(cf__store_outbox_add(s, "src", "t2", "e2", "{\"a\":1}", 5, &err), CF_OK);
    assert_int_equal(cf__store_outbox_next(s, &o, &err), CF_OK);
    assert_int_equal(o.id, 1);
    assert_string_equal(o.source_id, "src");
    assert_string_equal(o.target_id, "t1");
    assert_string_equal(o.event, "e1");
    assert_string_equal(o.data, "{}");
    assert_int_equal(cf__store_outbox_delete(s, o.id, &err), CF_OK);
    cf__outbox_row_clear(&o);
    assert_int_equal(cf__store_outbox_next(s, &o, &err), CF_OK);
    assert_int_equal(o.id, 2);
    assert_string_equal(o.data, "{\"a\":1}");
    assert_int_equal(cf__store_outbox_delete(s, o.id, &err), CF_OK);
    cf__outbox_row_clear(&o);
    assert_int_equal(cf__store_outbox_next(s, &o, &err), CF_ENOTFOUND);
    cf__store_close(s);
}

/* Runaway chains (schema 3): queued events carry the chain current when they were
 * queued, the chain's count rises on all of its events at once, timers carry
 * theirs only when given one. */
static void test_chain_columns(void **state)
{
    (void)state;
    cf__store *s = open_with_def(":memory:");
    cf__err err = {{0}};
    put_instance(s, "a", "cert", "active", "san_diego", 1);
    cf__store_chain_begin(s, "a#2");
    assert_int_equal(cf__store_outbox_add(s, "a", "t1", "e1", "{}", 5, &err), CF_OK);
    assert_int_equal(cf__store_outbox_add(s, "a", "t2", "e2", "{}", 5, &err), CF_OK);
    assert_int_equal(cf__store_chain_queued(s), 2);
    cf__store_chain_begin(s, NULL);
    assert_int_equal(cf__store_chain_queued(s), 0);
    assert_int_equal(cf__store_outbox_add(s, "a", "t3", "e3", "{}", 5, &err), CF_OK);
    assert_int_equal(cf__store_chain_count(s, "a#2", 7, &err), CF_OK);
    assert_int_equal(cf__store_chain_count(s, "a#2", 3, &err), CF_OK); /* never lowers it */
    cf__outbox_row o;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cf__store_outbox_next(s, &o, &err), CF_OK);
        if (i < 2) {
            assert_string_equal(o.chain_root, "a#2");
            assert_int_equal(o.chain_count, 7);
        } else {
            assert_null(o.chain_root);
            assert_int_equal(o.chain_count, 0);
        }
        assert_int_equal(cf__store_outbox_delete(s, o.id, &err), CF_OK);
        cf__outbox_row_clear(&o);
    }
    assert_int_equal(cf__store_timer_add_chain(s, "a", "active", "t1", "x", 10, "a#2", 4, &err), CF_OK);
    assert_int_equal(cf__store_timer_add(s, "a", "active", "t2", "x", 20, &err), CF_OK);
    cf__timer_row t;
    assert_int_equal(cf__store_timer_next(s, 100, &t, &err), CF_OK);
    assert_string_equal(t.chain_root, "a#2");
    assert_int_equal(t.chain_count, 4);
    assert_int_equal(cf__store_timer_delete(s, t.id, &err), CF_OK);
    cf__timer_row_clear(&t);
    assert_int_equal(cf__store_timer_next(s, 100, &t, &err), CF_OK);
    assert_null(t.chain_root);
    assert_int_equal(t.chain_count, 0);
    cf__timer_row_clear(&t);
    cf__store_close(s);
}

/* A schema-2 database with a queued event and a timer migrates to 3 and keeps
 * them, outside any chain. */
static void test_schema_2_migrates_keeping_queued_events(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_with_def(path);
    cf__err err = {{0}};
    put_instance(s, "a", "cert", "active", "san_diego", 1);
    cf__store_close(s);
    raw_exec(path, "ALTER TABLE instance DROP COLUMN last_seq; ALTER TABLE history DROP COLUMN prev_seq;"
                   "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
                   "DROP TABLE policy_change; DROP INDEX outbox_by_chain;"
                   "ALTER TABLE outbox DROP COLUMN chain_root; ALTER TABLE outbox DROP COLUMN chain_count;"
                   "ALTER TABLE timer DROP COLUMN chain_root; ALTER TABLE timer DROP COLUMN chain_count;"
                   "ALTER TABLE history DROP COLUMN data_hash; ALTER TABLE history DROP COLUMN timers_hash;"
                   "DROP TABLE cf_integrity_mark; DROP TABLE plugin_schema;"
                   "INSERT INTO outbox(source_id, target_id, event, data, created_at) VALUES('a', 'a', 'e', '{}', 5);"
                   "INSERT INTO timer(instance_id, state, name, event, due) VALUES('a', 'active', 't', 'x', 9);"
                   "PRAGMA user_version = 2;");
    s = open_ok(path);
    assert_int_equal(query_int(cf__store_db(s), "PRAGMA user_version"), 11);
    cf__outbox_row o;
    assert_int_equal(cf__store_outbox_next(s, &o, &err), CF_OK);
    assert_string_equal(o.event, "e");
    assert_null(o.chain_root);
    cf__outbox_row_clear(&o);
    cf__timer_row t;
    assert_int_equal(cf__store_timer_next(s, 9, &t, &err), CF_OK);
    assert_string_equal(t.name, "t");
    assert_null(t.chain_root);
    cf__timer_row_clear(&t);
    cf__store_close(s);
    free(path);
    cft_rmtree(dir);
}

/* Schema 10 (webhook subscriptions): a version-9 database with data gets the table
 * cf_webhook, empty, its other rows untouched; the new table works at once. */
static void test_schema_10_webhooks(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_with_def(path);
    put_instance(s, "a", "cert", "active", "san_diego", 1);
    cf__store_close(s);
    raw_exec(path, "DROP TABLE cf_webhook; ALTER TABLE instance DROP COLUMN last_seq; ALTER TABLE history DROP COLUMN prev_seq;"
                   "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number); PRAGMA user_version = 9;");
    s = open_ok(path);
    cf__err err = {{0}};
    assert_int_equal(query_int(cf__store_db(s), "PRAGMA user_version"), 11);
    assert_int_equal(query_int(cf__store_db(s), "SELECT count(*) FROM cf_webhook"), 0);
    assert_int_equal(query_int(cf__store_db(s), "SELECT count(*) FROM instance WHERE id = 'a'"), 1);
    cf__webhook_row w;
    memset(&w, 0, sizeof w);
    w.name = "hr";
    w.url = "https://hr.example.org/";
    w.secret = "whs_x";
    w.created_at = 1;
    w.created_by = "t";
    w.cursor = 0;
    int64_t id = 0;
    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    assert_int_equal(cf__store_webhook_add(s, &w, &id, &err), CF_OK);
    assert_int_equal(cf__store_commit(s, &err), CF_OK);
    assert_true(id > 0);
    cf__store_close(s);
    /* from version 10 on the table is part of the schema */
    raw_exec(path, "DROP TABLE cf_webhook;");
    s = NULL;
    assert_int_equal(cf__store_open(path, 0, &s, &err), CF_ESCHEMA);
    assert_contains(err.msg, "has no table 'cf_webhook'");
    free(path);
    cft_rmtree(dir);
}

/* plugin_schema is a versioned table of the engine's schema (version 6), no longer
 * created by the plugin host on first need: a fresh database holds it, a version-5
 * database gets it, and one whose plugin host already made it keeps its rows. */
static void test_schema_6_plugin_schema(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_ok(path);
    cf__err err = {{0}};
    int version = -1;
    assert_int_equal(query_int(cf__store_db(s), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                                "name = 'plugin_schema'"),
                     1);
    assert_int_equal(cf__store_plugin_version(s, "fees", &version, &err), CF_OK);
    assert_int_equal(version, 0);
    cf__store_close(s);

    /* A version-5 database where no plugin ever migrated: the table is added. */
    raw_exec(path, "ALTER TABLE instance DROP COLUMN last_seq; ALTER TABLE history DROP COLUMN prev_seq;"
                   "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
                   "DROP TABLE plugin_schema; PRAGMA user_version = 5;");
    s = open_ok(path);
    assert_int_equal(query_int(cf__store_db(s), "PRAGMA user_version"), 11);
    assert_int_equal(query_int(cf__store_db(s), "SELECT count(*) FROM plugin_schema"), 0);
    cf__store_close(s);

    /* A version-5 database whose plugin host had made the table: its rows stay. */
    raw_exec(path, "ALTER TABLE instance DROP COLUMN last_seq; ALTER TABLE history DROP COLUMN prev_seq;"
                   "CREATE UNIQUE INDEX history_by_number ON history(instance_id, number);"
                   "INSERT INTO plugin_schema(plugin, version, migrated_at) VALUES('fees', 2, 7);"
                   "PRAGMA user_version = 5;");
    s = open_ok(path);
    assert_int_equal(query_int(cf__store_db(s), "PRAGMA user_version"), 11);
    assert_int_equal(cf__store_plugin_version(s, "fees", &version, &err), CF_OK);
    assert_int_equal(version, 2);
    cf__store_close(s);

    /* At version 6 the table is part of the schema: a file without it was changed by another program. */
    raw_exec(path, "DROP TABLE plugin_schema;");
    s = NULL;
    assert_int_equal(cf__store_open(path, 0, &s, &err), CF_ESCHEMA);
    assert_null(s);
    assert_contains(err.msg, "has no table 'plugin_schema'");
    free(path);
    cft_rmtree(dir);
}

/* ---- transactions ---- */

static void test_transactions(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_with_def(path);
    cf__err err = {{0}};
    cf__instance_row row;

    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    put_instance(s, "gone", "cert", "active", "x", 1);
    assert_int_equal(cf__store_timer_add(s, "gone", "active", "t", "e", 5, &err), CF_OK);
    assert_int_equal(cf__store_outbox_add(s, "gone", "t", "e", "{}", 1, &err), CF_OK);
    cf__store_rollback(s);
    assert_int_equal(cf__store_instance_get(s, "gone", &row, &err), CF_ENOTFOUND);
    sqlite3 *db = cf__store_db(s);
    assert_int_equal(query_int(db, "SELECT count(*) FROM timer"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM instance"), 0);
    cf__store_rollback(s); /* no transaction: harmless */

    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    put_instance(s, "kept", "cert", "active", "x", 1);
    /* A nested begin is an error, and leaves the outer transaction alone. */
    assert_int_equal(cf__store_begin(s, &err), CF_ESTORE);
    assert_contains(err.msg, "starting a transaction");
    assert_int_equal(cf__store_commit(s, &err), CF_OK);
    cf__store_close(s);

    s = open_ok(path);
    assert_int_equal(cf__store_instance_get(s, "kept", &row, &err), CF_OK);
    cf__instance_row_clear(&row);
    cf__store_close(s);
    free(path);
    cft_rmtree(dir);
}

static void test_busy(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *a = open_with_def(path);
    cf__store *b = NULL;
    cf__err err = {{0}};
    assert_int_equal(cf__store_open(path, 150, &b, &err), CF_OK);

    assert_int_equal(cf__store_begin(a, &err), CF_OK);
    put_instance(a, "x", "cert", "s", "c", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cf__store_begin(b, &err), CF_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 100.0); /* it waited for the busy timeout */
    assert_string_equal(err.msg,
                        "database is locked by another process for more than 150 ms; retry, or raise busy_timeout_ms");
    /* b can still read the committed state while a writes (WAL). */
    cf__instance_row row;
    assert_int_equal(cf__store_instance_get(b, "x", &row, &err), CF_ENOTFOUND);
    assert_int_equal(cf__store_commit(a, &err), CF_OK);
    assert_int_equal(cf__store_begin(b, &err), CF_OK);
    assert_int_equal(cf__store_instance_get(b, "x", &row, &err), CF_OK);
    cf__instance_row_clear(&row);
    assert_int_equal(cf__store_commit(b, &err), CF_OK);

    cf__store_close(a);
    cf__store_close(b);
    free(path);
    cft_rmtree(dir);
}

static void test_fail_mapping(void **state)
{
    (void)state;
    cf__store *s = open_ok(":memory:");
    cf__err err = {{0}};
    assert_int_equal(cf__store_fail(s, SQLITE_BUSY_SNAPSHOT, "saving", &err), CF_EBUSY);
    assert_contains(err.msg, "saving");
    assert_contains(err.msg, "busy_timeout_ms");
    assert_int_equal(cf__store_fail(s, SQLITE_LOCKED, "saving", &err), CF_EBUSY);
    assert_int_equal(cf__store_fail(s, SQLITE_FULL, "saving", &err), CF_EFULL);
    assert_contains(err.msg, "free space and retry; nothing was changed");
    assert_int_equal(cf__store_fail(s, SQLITE_READONLY_DBMOVED, "saving", &err), CF_EREADONLY);
    assert_contains(err.msg, "writable");
    assert_int_equal(cf__store_fail(s, SQLITE_NOMEM, "saving", &err), CF_ENOMEM);
    /* A malformed file is a damaged database (exit 6), named as such. */
    assert_int_equal(cf__store_fail(s, SQLITE_CORRUPT, "saving", &err), CF_ECORRUPT);
    assert_contains(err.msg, "backup");
    assert_int_equal(cf__store_fail(s, SQLITE_NOTADB, "saving", &err), CF_ESCHEMA);
    assert_int_equal(cf__store_fail(s, SQLITE_CONSTRAINT_CHECK, "saving", &err), CF_ESTORE);
    assert_contains(err.msg, "saving: ");
    cf__store_close(s);
}

/* Prepares again, summed over every statement the connection holds. */
static int64_t reprepares(sqlite3 *db)
{
    int64_t n = 0;
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
        n += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0);
    return n;
}

/* Plugin SQL runs under an authorizer installed once per connection and switched by
 * a flag (issue 13): running a plugin's statement no longer expires the engine's own
 * prepared statements (each sqlite3_set_authorizer call did), and the plugin's rules
 * still hold while the engine's own SQL is left alone. */
static void test_plugin_sql_keeps_engine_statements(void **state)
{
    (void)state;
    char *dir = cft_tmpdir();
    char *path = cft_path(dir, "cf.db");
    cf__store *s = open_with_def(path);
    cf__err err = {{0}};
    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    assert_int_equal(cf__store_plugin_migrate(s, "fees", 1, "CREATE TABLE fees_paid(n INTEGER)", 5, &err), CF_OK);
    assert_int_equal(cf__store_commit(s, &err), CF_OK);
    put_instance(s, "a", "cert", "active", "san_diego", 1); /* prepared for the new schema */
    sqlite3 *db = cf__store_db(s);
    int64_t before = reprepares(db);

    assert_int_equal(cf__store_begin(s, &err), CF_OK);
    for (int i = 0; i < 3; i++) {
        cf__pstmt *p = NULL;
        int64_t changes = 0;
        assert_int_equal(cf__store_plugin_prepare(s, "fees", false, "INSERT INTO fees_paid VALUES(1)", &p, &err),
                         CF_PLUGIN_OK);
        assert_int_equal(cf__store_plugin_step(s, p, "fees", false, "INSERT INTO fees_paid VALUES(1)", &changes, &err),
                         CF_PLUGIN_DONE);
        assert_int_equal(changes, 1);
        cf__store_plugin_finalize(p);
        char id[8];
        snprintf(id, sizeof id, "b%d", i);
        put_instance(s, id, "cert", "active", "san_diego", 2); /* the engine's own statement, after plugin SQL */
    }
    /* The rules still hold for the plugin, and only for it. */
    cf__pstmt *p = NULL;
    assert_int_equal(cf__store_plugin_prepare(s, "fees", true, "SELECT count(*) FROM instance", &p, &err),
                     CF_PLUGIN_EDENIED);
    assert_null(p);
    assert_int_equal(cf__store_commit(s, &err), CF_OK);
    assert_int_equal(reprepares(db), before);
    assert_int_equal(query_int(db, "SELECT count(*) FROM instance"), 4);
    assert_int_equal(query_int(db, "SELECT count(*) FROM fees_paid"), 3);
    cf__store_close(s);
    free(path);
    cft_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates_schema),
        cmocka_unit_test(test_one_instance_index_holds_the_state),
        cmocka_unit_test(test_open_memory),
        cmocka_unit_test(test_open_newer_schema_refused),
        cmocka_unit_test(test_open_foreign_database_refused),
        cmocka_unit_test(test_open_not_a_database_refused),
        cmocka_unit_test(test_open_read_only),
        cmocka_unit_test(test_open_read_only_store),
        cmocka_unit_test(test_defs),
        cmocka_unit_test(test_instances),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_chain_columns),
        cmocka_unit_test(test_schema_2_migrates_keeping_queued_events),
        cmocka_unit_test(test_schema_6_plugin_schema),
        cmocka_unit_test(test_schema_10_webhooks),
        cmocka_unit_test(test_plugin_sql_keeps_engine_statements),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_fail_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
