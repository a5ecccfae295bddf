/*
 * open.c — the SQLite backend's connection: opening (read-write or read-only,
 * without creating anything) and closing. The errors and statement helpers every
 * file of the backend uses are in stmt.c.
 */
#include "store/sqlite/sqlite_private.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- open and close ---- */

/* When path does not exist and its folder cannot be written, why (EACCES, EROFS);
 * otherwise sys unchanged. */
static int folder_errno(const char *path, int sys)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return sys;
    char *dir = cf__sqlite_folder_of(path);
    if (!dir)
        return sys;
    /* AT_EACCESS: judge by the effective ids, as open() does. */
    if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) != 0 && (errno == EACCES || errno == EROFS))
        sys = errno;
    free(dir);
    return sys;
}

/* Explain why an existing database cannot be written: the file, or its folder
 * (a WAL database needs <path>-wal and <path>-shm beside it). */
static int configure(cf__sqlite *s, cf__err *err)
{
    /* WAL lets readers run while one process writes; ":memory:" answers "memory".
     * A read-only store keeps the mode the file has: switching is a write. */
    int rc = s->read_only ? SQLITE_OK : sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        /* temp_store=MEMORY keeps the statement journals of a batch's per-fire
         * savepoints in memory: on disk they doubled the writes of a batched fire. */
        rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY",
                          NULL, NULL, NULL);
    if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY)
        return cf__sqlite_readonly_fail(s, err);
    if (rc != SQLITE_OK)
        return cf__sqlite_fail(s, rc, "setting up the database", err);
    return CF_OK;
}

/* path as an SQLite URI: every byte but the unreserved ones and '/' percent-encoded. */
static char *path_uri(const char *path, const char *query)
{
    size_t n = strlen(path);
    char *uri = malloc(8 + 3 * n + strlen(query) + 1);
    if (!uri)
        return NULL;
    /* "file://" + an absolute path has an empty authority; a relative one has none. */
    size_t o = (size_t)sprintf(uri, path[0] == '/' ? "file://" : "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("/-._~", c))
            uri[o++] = (char)c;
        else
            o += (size_t)sprintf(uri + o, "%%%02X", c);
    }
    strcpy(uri + o, query);
    return uri;
}

static bool exists_with_suffix(const char *path, const char *suffix)
{
    char name[4200];
    struct stat st;
    return (size_t)snprintf(name, sizeof name, "%s%s", path, suffix) < sizeof name && lstat(name, &st) == 0;
}

/* Open the connection of a read-only store. With no -wal beside the file no process
 * has the database open, and it is read as immutable: SQLite then creates neither
 * -wal nor -shm and takes no lock. With a -wal, the WAL's content must be read
 * through the -shm index: plain read-only mode. */
static int connect_read_only(cf__sqlite *s, cf__err *err)
{
    const char *path = s->path;
    struct stat st;
    if (stat(path, &st) != 0)
        return cf__fail(err, CF_EIO,
                        "cannot read %s: %s (a read-only open never creates a database: check the path)", path,
                        strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cf__fail(err, CF_EIO, "cannot read %s: it is not a regular file (give cf_engine_open a certflow database)",
                        path);
    if (exists_with_suffix(path, "-journal"))
        return cf__fail(err, CF_EREADONLY,
                        "cannot read %s read-only: %s-journal holds an interrupted write that must be rolled back "
                        "first; open it once where it is writable",
                        path, path);
    bool wal = exists_with_suffix(path, "-wal");
    char *uri = path_uri(path, wal ? "?mode=ro" : "?mode=ro&immutable=1");
    if (!uri)
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    int rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (rc == SQLITE_OK)
        return CF_OK;
    if (!s->db)
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    int sys = sqlite3_system_errno(s->db);
    return cf__fail(err, CF_EIO, "cannot read %s: %s%s%s", path, sqlite3_errmsg(s->db), sys ? ": " : "",
                    sys ? strerror(sys) : "");
}

static int connect_read_write(cf__sqlite *s, cf__err *err)
{
    const char *path = s->path;
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        return CF_OK;
    int sys = s->db ? sqlite3_system_errno(s->db) : 0;
    /* SQLite retries read-only after EACCES, so its errno may say ENOENT: ask the folder. */
    if (sys == ENOENT)
        sys = folder_errno(path, sys);
    if (!s->db)
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    if (sys == EACCES || sys == EROFS || sys == EPERM)
        return cf__fail(err, CF_EREADONLY,
                        "cannot create or open %s: %s (%s); make the folder writable or choose another path", path,
                        sqlite3_errmsg(s->db), strerror(sys));
    return cf__fail(err, CF_EIO, "cannot open %s: %s%s%s (check that its folder exists)", path, sqlite3_errmsg(s->db),
                    sys ? ": " : "", sys ? strerror(sys) : "");
}

/* SQLite's memory accounting (SQLITE_CONFIG_MEMSTATUS) takes a global mutex on
 * every allocation; Debian builds it on, and it cost about a sixth of a batched
 * fire (issue 13). The engine never reads SQLite's memory statistics and sets no
 * heap limit, so it turns the accounting off. This setting is process-global and
 * SQLite accepts it only before it initializes: the engine tries once, before its
 * first connection; if the application already used SQLite, the call is refused
 * (SQLITE_MISUSE) and nothing changes. An application that needs
 * sqlite3_memory_used() or sqlite3_soft_heap_limit64() must call
 * sqlite3_initialize() before its first cf_open (see docs/performance.md). */
static pthread_once_t memstatus_once = PTHREAD_ONCE_INIT;

static void memstatus_off(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Lookaside: a connection's own pool of small allocations, which Debian's SQLite
 * builds without. 256 slots of 1,200 bytes (300 KiB) per connection keep most of
 * a fire's parser and statement allocations off malloc. Only possible while the
 * connection holds no lookaside memory, i.e. right after opening; a refusal only
 * costs speed. */
static void lookaside_on(sqlite3 *db)
{
    (void)sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 1200, 256);
}

static int open_store(const char *path, int busy_timeout_ms, bool read_only, cf__sqlite **out, cf__err *err)
{
    *out = NULL;
    if (!path || !*path)
        return cf__fail(err, CF_EINVAL, "no database path given (use a file name, or \":memory:\")");
    cf__sqlite *s = calloc(1, sizeof *s);
    if (!s || !(s->path = cf__strdup(path))) {
        free(s);
        return cf__fail(err, CF_ENOMEM, "out of memory opening %s", path);
    }
    s->base.backend = CF__BACKEND_SQLITE;
    s->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : 5000;
    s->read_only = read_only;
    s->verify_reached = -1;
    pthread_once(&memstatus_once, memstatus_off);
    int r = read_only ? connect_read_only(s, err) : connect_read_write(s, err);
    /* SQLite fell back to reading a file it may not write. Refuse before reading
     * anything: reading a WAL database would create -wal and -shm it cannot remove. */
    if (r == CF_OK && !read_only && sqlite3_db_readonly(s->db, "main") == 1)
        r = cf__sqlite_readonly_fail(s, err);
    if (r == CF_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
        lookaside_on(s->db);
        cf__sqlite_auth_install(s);
        int version = 0;
        r = cf__sqlite_identify(s, &version, err);
        if (r == CF_OK)
            r = configure(s, err);
        if (r == CF_OK && version < cf__sqlite_schema_version)
            r = cf__sqlite_migrate(s, err);
        if (r == CF_OK)
            r = cf__sqlite_prepare_all(s, err);
    }
    if (r != CF_OK) {
        cf__sqlite_close(s);
        return r;
    }
    *out = s;
    return CF_OK;
}

int cf__sqlite_open(const char *path, int busy_timeout_ms, cf__sqlite **out, cf__err *err)
{
    return open_store(path, busy_timeout_ms, false, out, err);
}

int cf__sqlite_open_read_only(const char *path, int busy_timeout_ms, cf__sqlite **out, cf__err *err)
{
    return open_store(path, busy_timeout_ms, true, out, err);
}

bool cf__sqlite_read_only(const cf__sqlite *s)
{
    return s && s->read_only;
}

const char *cf__sqlite_path(const cf__sqlite *s)
{
    return s->path;
}

void cf__sqlite_close(cf__sqlite *s)
{
    if (!s)
        return;
    cf__sqlite_watch_forget(s); /* the update hook goes with the connection */
    for (int i = 0; i < CF__STORE_NSTMT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (int i = 0; i < CF__AUDIT_NSTMT; i++)
        sqlite3_finalize(s->audit[i]);
    for (int i = 0; i < CF__KEPT_NSTMT; i++)
        sqlite3_finalize(s->kept[i]);
    if (s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->db && s->mark_unsaved)
        cf__sqlite_mark_save(s);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

sqlite3 *cf__sqlite_db(cf__sqlite *s)
{
    return s->db;
}

sqlite3 *cf__store_db(cf__store *s)
{
    return s && s->backend == CF__BACKEND_SQLITE ? ((cf__sqlite *)s)->db : NULL;
}

int cf__store_fail(cf__store *s, int sqlite_rc, const char *what, cf__err *err)
{
    return cf__sqlite_fail(s && s->backend == CF__BACKEND_SQLITE ? (cf__sqlite *)s : NULL, sqlite_rc, what, err);
}

int cf__sqlite_set_synchronous(cf__sqlite *s, int level, cf__err *err)
{
    /* Our own constant text: nothing here comes from data. */
    const char *sql = level == CF_SYNC_FULL ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? CF_OK : cf__sqlite_fail(s, rc, "setting options.synchronous", err);
}
