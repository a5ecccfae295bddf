/*
 * plugin.c — plugin SQL on the PostgreSQL backend: not there yet. The design
 * (docs/plugins.md, "Your SQL on another backend") gives each plugin a schema and a
 * role of its own; until that is built, a plugin that keeps tables is refused on
 * PostgreSQL with a message that says so, and the rest of the engine works.
 */
#include "store/pg/pg_private.h"

#include "certflow/plugin.h"

#include <string.h>

#define NOT_YET                                                                                                  \
    "plugin SQL is not available on the PostgreSQL backend of this certflow yet (a plugin's tables need a schema " \
    "and a role of their own there, which this build does not make): run plugins that keep tables on a SQLite "   \
    "database, or load only plugins without tables"

struct cf__pg_pstmt {
    cf__pstmt base;
};

int cf__pg_plugin_prepare(cf__pg *s, const char *plugin, bool read_only, const char *sql, cf__pg_pstmt **out,
                          cf__err *err)
{
    (void)s;
    (void)read_only;
    *out = NULL;
    return cf__fail(err, CF_PLUGIN_EDENIED, "plugin %s: %s (in: %s)", plugin, NOT_YET, sql);
}

bool cf__pg_plugin_reads_only(const cf__pg_pstmt *p)
{
    (void)p;
    return true;
}

int cf__pg_plugin_bind_text(cf__pg_pstmt *p, int i, const char *value, cf__err *err)
{
    (void)p;
    (void)i;
    (void)value;
    return cf__fail(err, CF_PLUGIN_EINVAL, "%s", NOT_YET);
}

int cf__pg_plugin_bind_int(cf__pg_pstmt *p, int i, int64_t value, cf__err *err)
{
    (void)p;
    (void)i;
    (void)value;
    return cf__fail(err, CF_PLUGIN_EINVAL, "%s", NOT_YET);
}

int cf__pg_plugin_step(cf__pg *s, cf__pg_pstmt *p, const char *plugin, bool read_only, const char *sql,
                       int64_t *changes, cf__err *err)
{
    (void)s;
    (void)p;
    (void)read_only;
    (void)changes;
    return cf__fail(err, CF_PLUGIN_EDENIED, "plugin %s: %s (in: %s)", plugin, NOT_YET, sql);
}

int cf__pg_plugin_column_count(cf__pg_pstmt *p)
{
    (void)p;
    return 0;
}

const char *cf__pg_plugin_column_text(cf__pg_pstmt *p, int i)
{
    (void)p;
    (void)i;
    return NULL;
}

int64_t cf__pg_plugin_column_int(cf__pg_pstmt *p, int i)
{
    (void)p;
    (void)i;
    return 0;
}

void cf__pg_plugin_reset(cf__pg_pstmt *p)
{
    (void)p;
}

void cf__pg_plugin_finalize(cf__pg_pstmt *p)
{
    (void)p;
}

int cf__pg_plugin_version(cf__pg *s, const char *plugin, int *version, cf__err *err)
{
    *version = 0;
    cf__pgp p = {0};
    cf__pgp_text(&p, plugin);
    PGresult *r = NULL;
    int rc = cf__pg_run(s, PG_PLUGIN_VERSION, &p, &r, "reading plugin schema versions", err);
    if (rc == CF_OK && PQntuples(r) > 0)
        *version = (int)cf__pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int cf__pg_plugin_migrate(cf__pg *s, const char *plugin, int version, const char *sql, cf_time now, cf__err *err)
{
    (void)s;
    (void)version;
    (void)sql;
    (void)now;
    return cf__fail(err, CF_EPLUGIN, "plugin %s is refused on %s: %s", plugin, s->name, NOT_YET);
}
