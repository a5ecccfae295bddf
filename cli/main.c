/*
 * main.c — the certflow command: resolves the database and the folders, opens
 * an engine through the public API only, runs one command, and maps the result
 * to a documented exit code. The command line is parsed in args.c.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CERTFLOW_SOURCE_DIR
#define CERTFLOW_SOURCE_DIR "."
#endif
#ifndef CERTFLOW_BINARY_DIR
#define CERTFLOW_BINARY_DIR "."
#endif
/* Where the installed data and plugins are, relative to the installed program's folder. */
#ifndef CERTFLOW_REL_DATADIR
#define CERTFLOW_REL_DATADIR "../share/certflow"
#endif
#ifndef CERTFLOW_REL_PLUGINDIR
#define CERTFLOW_REL_PLUGINDIR "../lib/certflow/plugins"
#endif


static cf_time fixed_clock(void *ud)
{
    return *(const cf_time *)ud;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir/rel with rel's leading "../" taken off dir ("/p/bin" + "../share/x" = "/p/share/x"). */
static void home_join(char *buf, size_t size, const char *dir, const char *rel)
{
    size_t n = strlen(dir);
    while (strncmp(rel, "../", 3) == 0) {
        while (n > 0 && dir[n - 1] != '/')
            n--;
        if (n == 0)
            break;
        n--; /* the slash */
        rel += 3;
    }
    snprintf(buf, size, "%.*s/%s", (int)n, dir, rel);
}

/* Where this program's own files are, decided by where the running program is:
 * the build tree's certflow uses the source tree's workflows and lua and the
 * build tree's plugins; any other copy (an installed one, under any prefix) uses
 * only <its folder>/../share/certflow and <its folder>/../lib/certflow/plugins.
 * data and plugins get the folders; both are left empty if the program cannot be found. */
static void locate_home(char *data, char *plugins, size_t size)
{
    data[0] = plugins[0] = '\0';
    char exe[CLI_MAX_PATH + 1];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    const char *bindir = exe[0] ? exe : "/";
    struct stat sb, sd;
    int in_build = stat(bindir, &sb) == 0 && stat(CERTFLOW_BINARY_DIR, &sd) == 0 && sb.st_dev == sd.st_dev &&
                   sb.st_ino == sd.st_ino;
    if (in_build) {
        snprintf(data, size, "%s", CERTFLOW_SOURCE_DIR);
        snprintf(plugins, size, "%s/plugins", CERTFLOW_BINARY_DIR);
    } else {
        home_join(data, size, exe, CERTFLOW_REL_DATADIR);
        home_join(plugins, size, exe, CERTFLOW_REL_PLUGINDIR);
    }
}

/* Default folder: option, env, ./local, this program's own copy (locate_home). */
static void resolve_dir(const char *given, const char *env, const char *local, const char *home, char *buf,
                        size_t size)
{
    const char *v = given;
    if (!v || !*v) {
        v = getenv(env);
        if (v && strnlen(v, CLI_MAX_PATH + 1) > CLI_MAX_PATH)
            v = NULL;
    }
    if (v && *v) {
        snprintf(buf, size, "%s", v);
        return;
    }
    snprintf(buf, size, "./%s", local);
    if (is_dir(buf) || !home[0])
        return;
    snprintf(buf, size, "%s/%s", home, local);
}

/* A folder holding at least one plugin (*.so). */
static int has_plugins(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    for (struct dirent *de; !found && (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        found = n > 3 && strcmp(de->d_name + n - 3, ".so") == 0;
    }
    closedir(d);
    return found;
}

/* 1 if the ':'-separated list names a plugin file called base (a file of that name,
 * or a folder holding one). */
static int list_has_plugin(const char *list, const char *base)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ":");
        char part[CLI_MAX_PATH + 1];
        snprintf(part, sizeof part, "%.*s", (int)(n < CLI_MAX_PATH ? n : CLI_MAX_PATH), p);
        const char *slash = strrchr(part, '/');
        if (strcmp(slash ? slash + 1 : part, base) == 0)
            return 1;
        if (is_dir(part)) {
            char path[2 * CLI_MAX_PATH + 2];
            snprintf(path, sizeof path, "%s/%s", part, base);
            struct stat st;
            if (stat(path, &st) == 0)
                return 1;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return 0;
}

/* --plugins adds to the shipped plugins: buf (the given list) gets every *.so of the
 * folder home that the list does not already name (a plugin of the same file name
 * given replaces the shipped one). */
static void add_shipped(const char *home, char *buf, size_t size)
{
    DIR *d = home[0] ? opendir(home) : NULL;
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0 || list_has_plugin(buf, de->d_name))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown)
            break;
        names = grown;
        if (!(names[n] = malloc(len + 1)))
            break;
        memcpy(names[n++], de->d_name, len + 1);
    }
    closedir(d);
    /* name order, so that the load order does not depend on the folder's */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j - 1];
            names[j - 1] = names[j];
            names[j] = t;
        }
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(buf);
        int w = snprintf(buf + used, size - used, "%s%s/%s", used ? ":" : "", home, names[i]);
        if (w < 0 || (size_t)w >= size - used)
            buf[used] = '\0'; /* does not fit: left out (plugin list shows what loaded) */
        free(names[i]);
    }
    free(names);
}

/* Default plugins, like the folders above: option, env, ./plugins (if it holds
 * plugins: a source tree's plugins/ holds none), this program's own (locate_home).
 * Plugins given (option or env) come first and the shipped ones are added after
 * them, unless no_shipped. */
static void resolve_plugins(const char *given, const char *home, int no_shipped, char *buf, size_t size)
{
    const char *v = given;
    if (!v || !*v) {
        v = getenv("CERTFLOW_PLUGINS");
        if (v && strnlen(v, CLI_MAX_PATH + 1) > CLI_MAX_PATH)
            v = NULL;
    }
    if (v && *v) {
        snprintf(buf, size, "%s", v);
        if (!no_shipped)
            add_shipped(home, buf, size);
        return;
    }
    if (no_shipped) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, "./plugins");
    if (has_plugins(buf))
        return;
    snprintf(buf, size, "%s", home);
    if (!has_plugins(buf))
        buf[0] = '\0';
}

static const char *bounded_env(const char *name, size_t max)
{
    const char *v = getenv(name);
    if (!v || !*v || strnlen(v, max + 1) > max)
        return NULL;
    return v;
}

static const char *const LOG_LEVELS[] = {"debug", "info", "warn", "error"};

/* cf_options.log: what plugins log, at or above --log-level, on stderr. */
static void cli_log(void *ud, int level, const char *source, const char *message)
{
    cli_run *r = ud;
    if (level < r->log_level)
        return;
    cli_textf(r->err, "certflow: [%s] %s: %s\n", level >= 0 && level <= 3 ? LOG_LEVELS[level] : "?",
              source ? source : "", message ? message : "");
}

static int setup(cli_run *r)
{
    const cli_args *a = r->a;
    r->db = a->opt[CLI_OPT_DB];
    if (!r->db)
        r->db = bounded_env("CERTFLOW_DB", CLI_MAX_PATH);
    if (!r->db)
        r->db = "./certflow.db";
    r->actor = a->opt[CLI_OPT_ACTOR];
    if (!r->actor)
        r->actor = bounded_env("USER", CLI_MAX_NAME);
    if (!r->actor)
        r->actor = "cli";
    char home_data[CLI_MAX_PATH + 64], home_plugins[CLI_MAX_PATH + 64];
    locate_home(home_data, home_plugins, sizeof home_data);
    resolve_dir(a->opt[CLI_OPT_WORKFLOWS], "CERTFLOW_WORKFLOWS", "workflows", home_data, r->workflows,
                sizeof r->workflows);
    resolve_dir(a->opt[CLI_OPT_POLICIES], "CERTFLOW_POLICIES", "lua", home_data, r->policies, sizeof r->policies);
    resolve_plugins(a->opt[CLI_OPT_PLUGINS], home_plugins, a->opt[CLI_OPT_NO_SHIPPED_PLUGINS] != NULL,
                    r->plugin_path, sizeof r->plugin_path);
    r->plugins = r->plugin_path[0] ? r->plugin_path : NULL;
    cf_options init = CF_OPTIONS_INIT;
    r->opts = init;
    r->opts.workflow_dir = r->workflows;
    r->opts.policy_dir = r->policies;
    r->opts.plugin_dir = r->plugins;
    r->log_level = 4;
    if (a->opt[CLI_OPT_VERBOSE])
        r->log_level = 0;
    if (a->opt[CLI_OPT_LOG_LEVEL]) {
        r->log_level = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(a->opt[CLI_OPT_LOG_LEVEL], LOG_LEVELS[i]) == 0)
                r->log_level = i;
        if (r->log_level < 0)
            return cli_usage(r, a->cmd, "--log-level '%.60s' is not one of debug, info, warn, error",
                             a->opt[CLI_OPT_LOG_LEVEL]);
    }
    if (r->log_level < 4) {
        r->opts.log = cli_log;
        r->opts.log_ud = r;
    }
    r->opts.plugin_config = a->opt[CLI_OPT_PLUGIN_CONFIG];
    if (!r->opts.plugin_config)
        r->opts.plugin_config = bounded_env("CERTFLOW_PLUGIN_CONFIG", CLI_MAX_DATA);
    /* JSON text, or the name of a file holding it (@FILE too) */
    const char *pc = r->opts.plugin_config;
    if (pc && pc[strspn(pc, " \t\r\n")] != '{' && pc[strspn(pc, " \t\r\n")] != '\0') {
        const char *path = pc[0] == '@' ? pc + 1 : pc;
        FILE *f = fopen(path, "rb");
        char *b = f ? malloc(CLI_MAX_DATA + 1) : NULL;
        size_t n = b ? fread(b, 1, CLI_MAX_DATA + 1, f) : 0;
        int bad = !f || !b || ferror(f) || n > CLI_MAX_DATA;
        int err = errno;
        if (f)
            fclose(f);
        if (bad) {
            free(b);
            cli_textf(r->err, "certflow: --plugin-config '%.200s' is neither JSON text ({...}) nor a readable file of "
                              "at most 1 MiB%s%s\n", pc, !f ? ": " : "", !f ? strerror(err) : "");
            return CLI_EXIT_INVALID;
        }
        b[n] = '\0';
        r->plugin_config_buf = b;
        r->opts.plugin_config = b;
    }
    if (a->opt[CLI_OPT_NOW]) {
        if (cf_time_parse(a->opt[CLI_OPT_NOW], &r->fixed_now) != CF_OK)
            return cli_usage(r, a->cmd, "--now '%.60s' is not an ISO 8601 time (e.g. 2025-03-01T08:00:00Z)",
                         a->opt[CLI_OPT_NOW]);
        r->has_now = 1;
        r->opts.clock = fixed_clock;
        r->opts.clock_ud = &r->fixed_now;
    }
    static const struct {
        cli_opt opt;
        const char *flag;
    } LIMITS[] = {{CLI_OPT_LUA_TIME_LIMIT, "--lua-time-limit"}, {CLI_OPT_LUA_LOAD_TIME_LIMIT, "--lua-load-time-limit"}};
    for (size_t i = 0; i < sizeof LIMITS / sizeof *LIMITS; i++) {
        const char *v = a->opt[LIMITS[i].opt];
        uint32_t ms = 0;
        if (v && cli_parse_ms(v, &ms) != 0)
            return cli_usage(r, a->cmd, "%s '%.60s' is not a time limit: give whole milliseconds from 1 to 86400000",
                             LIMITS[i].flag, v);
        if (LIMITS[i].opt == CLI_OPT_LUA_TIME_LIMIT)
            r->opts.lua_time_limit_ms = ms;
        else
            r->opts.lua_load_time_limit_ms = ms;
    }
    /* Check every value before the database is touched. */
    const char *u = a->opt[CLI_OPT_UNTIL];
    if (u) {
        if (cf_time_parse(u, &r->until) != CF_OK)
            return cli_usage(r, a->cmd, "--until '%.60s' is not an ISO 8601 time (e.g. 2025-03-01T08:00:00Z)", u);
        r->has_until = 1;
    }
    r->within = 30 * 86400;
    const char *w = a->opt[CLI_OPT_WITHIN];
    if (w && cli_parse_duration(w, &r->within) != 0)
        return cli_usage(r, a->cmd, "--within '%.60s' is not a duration (e.g. 30d, 12h, 2w, 90m, 45s)", w);
    return 0;
}

/* Commands that only read the database: when it cannot be written (a read-only
 * file or folder), they open it read-only instead of failing. */
static int reads_only(const cli_args *a)
{
    switch (a->cmd) {
    case CLI_CMD_SHOW:
    case CLI_CMD_HISTORY:
    case CLI_CMD_LIST:
    case CLI_CMD_DUE:
    case CLI_CMD_VERIFY:
    case CLI_CMD_REGISTRY:
    case CLI_CMD_REPORT:
    case CLI_CMD_EVENTS:
    case CLI_CMD_ELIGIBILITY:
    case CLI_CMD_WORKFLOW:
        return 1;
    default:
        return 0;
    }
}

static int open_engine(cli_run *r, const char *path)
{
    int rc = cf_engine_open(path, &r->opts, &r->e);
    struct stat st;
    /* A database that does not exist cannot be read: keep the message about creating it. */
    if (rc == CF_EREADONLY && reads_only(r->a) && stat(path, &st) == 0) {
        cf_engine_close(r->e);
        r->e = NULL;
        r->opts.read_only = 1;
        rc = cf_engine_open(path, &r->opts, &r->e);
    }
    if (rc != CF_OK)
        return cli_fail(r, rc);
    return 0;
}

/* ---- Commands ---- */

static int collect_name(void *ud, const char *name)
{
    json_t *arr = ud;
    json_array_append_new(arr, json_string(name));
    return 0;
}

static int cmd_init(cli_run *r)
{
    json_t *names = json_array();
    int rc = cf_workflow_names(r->e, collect_name, names);
    if (rc != CF_OK) {
        json_decref(names);
        return cli_fail(r, rc);
    }
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *o = json_object();
        json_object_set_new(o, "database", json_string(r->db));
        json_object_set_new(o, "workflow_dir", json_string(r->workflows));
        json_object_set_new(o, "policy_dir", json_string(r->policies));
        json_object_set_new(o, "workflows", names);
        return cli_json_print(r->out, o) ? CLI_EXIT_OTHER : 0;
    }
    cli_textf(r->out, "database:  %s\n", r->db);
    fprintf(r->out, "workflows: ");
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) cli_textf(r->out, "%s%s", i ? ", " : "", json_string_value(v));
    cli_textf(r->out, "%s (from %s)\n", json_array_size(names) ? "" : "none", r->workflows);
    cli_textf(r->out, "policies:  %s\n", r->policies);
    json_decref(names);
    return 0;
}

static int print_instance(cli_run *r, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    int rc = cf_instance_get(r->e, id, &info);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *o = cli_json_instance(&info);
        char who[280];
        if (o && *cli_who(info.data, who, sizeof who))
            json_object_set_new(o, "who", json_string(who));
        return cli_json_print(r->out, o) ? CLI_EXIT_OTHER : 0;
    }
    cli_print_instance(r->out, &info);
    return 0;
}

static int cmd_new(cli_run *r)
{
    const char *data;
    char *buf;
    int x = cli_load_data(r, &data, &buf);
    if (x)
        return x;
    char id[37];
    int rc = cf_instance_create(r->e, r->a->pos[0], r->a->opt[CLI_OPT_COUNTY], data, r->actor, id);
    free(buf);
    if (rc != CF_OK)
        return cli_fail(r, rc);
    if (r->a->opt[CLI_OPT_JSON])
        return print_instance(r, id);
    fprintf(r->out, "%s\n", id);
    return 0;
}

static int cmd_fire(cli_run *r)
{
    const char *data;
    char *buf;
    int x = cli_load_data(r, &data, &buf);
    if (x)
        return x;
    const char *id = r->a->pos[0], *event = r->a->pos[1], *key = r->a->opt[CLI_OPT_KEY];
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(r->e, id, event, data, r->actor, key, &res);
    free(buf);
    if (rc != CF_OK && rc != CF_REJECTED)
        return cli_fail(r, rc);
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *o = cli_json_fire(&res, id, event);
        cli_who_json(r, id, o);
        if (cli_json_print(r->out, o))
            return CLI_EXIT_OTHER;
        return cli_exit_code(rc);
    }
    const char *from = res.from_state ? res.from_state : "?", *to = res.to_state ? res.to_state : "?";
    if (rc == CF_OK) {
        cli_textf(r->out, "applied: %s -> %s\n", from, to);
    } else {
        json_t *reasons = cli_json_text(res.reasons);
        size_t i, shown = 0;
        json_t *v;
        if (json_is_array(reasons)) {
            json_array_foreach(reasons, i, v)
            {
                if (json_is_string(v)) {
                    cli_textf(r->out, "rejected: %s\n", json_string_value(v));
                    shown++;
                }
            }
        }
        if (!shown)
            cli_textf(r->out, "rejected: no transition from %s on %s\n", from, event);
        json_decref(reasons);
    }
    if (res.replayed)
        cli_textf(r->out, "replayed: key '%s' was fired before; this is its recorded outcome (nothing changed)\n",
                key ? key : "");
    cli_who_line(r, id); /* last: the read replaces the engine's strings in res */
    return cli_exit_code(rc);
}

static int cmd_show(cli_run *r)
{
    return print_instance(r, r->a->pos[0]);
}

/* Rows collected from callbacks: either a JSON array or a text table. */
typedef struct collect {
    json_t *arr;
    cli_table *table;
    int oom;
    const char *state; /* due --state: only timers of this state (or inside it) */
    const char *county; /* due --county */
    const char *actor;  /* history --actor */
    json_t *who;        /* instance id -> who it is (cli_who), for rows that carry only the id */
    int live;           /* list --live */
} collect;

static int who_row(void *ud, const cf_instance_info *info)
{
    char who[280];
    cli_who(info->data, who, sizeof who);
    if (who[0])
        json_object_set_new(ud, info->id, json_string(who));
    return 0;
}

/* id -> who for every instance (one pass), for listings of timers or history rows. */
static int who_map(cli_run *r, json_t **out)
{
    *out = json_object();
    int rc = *out ? cf_instance_list(r->e, NULL, who_row, *out) : CF_ENOMEM;
    if (rc != CF_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static const char *who_of(const collect *c, const char *id)
{
    const char *w = json_string_value(json_object_get(c->who, id ? id : ""));
    return w ? w : "";
}

static void collect_add(collect *c, json_t *item, const char *const *cells)
{
    if (c->arr) {
        if (!item || json_array_append_new(c->arr, item) != 0)
            c->oom = 1;
    } else {
        json_decref(item);
        if (cli_table_add(c->table, cells) != 0)
            c->oom = 1;
    }
}

static int finish(cli_run *r, collect *c, int rc, const char *empty_note)
{
    if (rc == CF_OK && c->oom) {
        fprintf(r->err, "certflow: out of memory while collecting rows\n");
        rc = CF_ENOMEM;
    } else if (rc != CF_OK) {
        cli_fail(r, rc);
    }
    if (rc == CF_OK) {
        if (c->arr) {
            json_incref(c->arr);
            if (cli_json_print(r->out, c->arr))
                rc = CF_ENOMEM;
        } else if (cli_table_rows(c->table) == 0 && empty_note) {
            fprintf(r->out, "%s\n", empty_note);
        } else {
            cli_table_print(r->out, c->table);
        }
    }
    json_decref(c->arr);
    json_decref(c->who);
    cli_table_free(c->table);
    return cli_exit_code(rc);
}

static int init_collect(cli_run *r, collect *c, size_t ncols, const char *const *headers)
{
    memset(c, 0, sizeof *c);
    if (r->a->opt[CLI_OPT_JSON])
        c->arr = json_array();
    else
        c->table = cli_table_new(ncols, headers);
    if (!c->arr && !c->table) {
        fprintf(r->err, "certflow: out of memory\n");
        return CLI_EXIT_OTHER;
    }
    return 0;
}

static int history_row(void *ud, const cf_history_entry *h)
{
    collect *c = ud;
    if (c->arr) {
        collect_add(c, cli_json_history(h), NULL);
        return 0;
    }
    char num[24], when[32], move[2 * CLI_MAX_NAME + 8];
    snprintf(num, sizeof num, "%lld", (long long)h->number);
    cli_time(h->effective_at, when);
    if (h->from_state && *h->from_state)
        snprintf(move, sizeof move, "%.256s -> %.256s", h->from_state, h->to_state ? h->to_state : "");
    else
        snprintf(move, sizeof move, "-> %.256s", h->to_state ? h->to_state : "");
    char *reasons = cli_reasons_join(h->reasons, "; ");
    const char *event = h->event && *h->event ? h->event : "(created)";
    const char *cells[] = {num, when, h->actor, event, h->outcome, move, reasons ? reasons : ""};
    collect_add(c, NULL, cells);
    free(reasons);
    return 0;
}

/* history without ID: a row of any instance, with the instance and who it is. */
static int search_row(void *ud, const cf_history_entry *h)
{
    collect *c = ud;
    if (c->actor && strcmp(c->actor, h->actor ? h->actor : "") != 0)
        return 0;
    const char *who = who_of(c, h->instance_id);
    if (c->arr) {
        json_t *o = cli_json_history(h);
        if (o && *who)
            json_object_set_new(o, "who", json_string(who));
        collect_add(c, o, NULL);
        return 0;
    }
    char when[32], move[2 * CLI_MAX_NAME + 8];
    cli_time(h->effective_at, when);
    if (h->from_state && *h->from_state)
        snprintf(move, sizeof move, "%.256s -> %.256s", h->from_state, h->to_state ? h->to_state : "");
    else
        snprintf(move, sizeof move, "-> %.256s", h->to_state ? h->to_state : "");
    char *reasons = cli_reasons_join(h->reasons, "; ");
    const char *event = h->event && *h->event ? h->event : "(created)";
    const char *cells[] = {when, h->instance_id, who, h->actor, event, h->outcome, move, reasons ? reasons : ""};
    collect_add(c, NULL, cells);
    free(reasons);
    return 0;
}

/* --from/--to of history: an ISO 8601 time, or a date (--to DATE: through that whole day, UTC). */
static int history_bound(cli_run *r, cli_opt o, cf_time def, cf_time *out)
{
    const char *v = r->a->opt[o];
    *out = def;
    if (!v)
        return 0;
    if (cf_time_parse(v, out) != CF_OK)
        return cli_usage(r, CLI_CMD_HISTORY, "--%s '%.60s' is not an ISO 8601 time or date (e.g. 2025-03-01)",
                         cli_opt_get(o)->name, v);
    if (o == CLI_OPT_TO && strlen(v) == 10)
        *out += 86400;
    return 0;
}

static int cmd_history_search(cli_run *r)
{
    const cli_args *a = r->a;
    const char *outcome = a->opt[CLI_OPT_OUTCOME];
    if (outcome && strcmp(outcome, "created") != 0 && strcmp(outcome, "applied") != 0 &&
        strcmp(outcome, "rejected") != 0)
        return cli_usage(r, CLI_CMD_HISTORY, "--outcome '%.60s' is not one of created, applied, rejected", outcome);
    cf_time from, to;
    int x = history_bound(r, CLI_OPT_FROM, INT64_MIN, &from);
    if (!x)
        x = history_bound(r, CLI_OPT_TO, INT64_MAX, &to);
    if (x)
        return x;
    static const char *const headers[] = {"time", "instance", "who", "actor", "event", "outcome", "from -> to",
                                          "reasons"};
    collect c;
    x = init_collect(r, &c, 8, headers);
    if (x)
        return x;
    c.actor = a->opt[CLI_OPT_ACTOR];
    cf_history_filter filter = CF_HISTORY_FILTER_INIT;
    filter.workflow = a->opt[CLI_OPT_WORKFLOW];
    filter.county = a->opt[CLI_OPT_COUNTY];
    filter.event = a->opt[CLI_OPT_EVENT];
    filter.outcome = outcome;
    filter.state = a->opt[CLI_OPT_STATE];
    int rc = who_map(r, &c.who);
    if (rc == CF_OK)
        rc = cf_history_between(r->e, from, to, &filter, search_row, &c);
    return finish(r, &c, rc, "no history rows match");
}

static int cmd_history(cli_run *r)
{
    if (r->a->npos == 0)
        return cmd_history_search(r);
    static const cli_opt only_search[] = {CLI_OPT_EVENT,    CLI_OPT_OUTCOME, CLI_OPT_ACTOR, CLI_OPT_COUNTY,
                                          CLI_OPT_WORKFLOW, CLI_OPT_STATE,   CLI_OPT_FROM,  CLI_OPT_TO};
    for (size_t i = 0; i < sizeof only_search / sizeof *only_search; i++)
        if (r->a->opt[only_search[i]])
            return cli_usage(r, CLI_CMD_HISTORY, "--%s searches every instance: give it without an ID",
                             cli_opt_get(only_search[i])->name);
    static const char *const headers[] = {"#", "time", "actor", "event", "outcome", "from -> to", "reasons"};
    collect c;
    int x = init_collect(r, &c, 7, headers);
    if (x)
        return x;
    int rc = cf_instance_history(r->e, r->a->pos[0], history_row, &c);
    return finish(r, &c, rc, NULL);
}

static int list_row(void *ud, const cf_instance_info *info)
{
    collect *c = ud;
    if (c->live && info->terminal)
        return 0;
    char who[280];
    cli_who(info->data, who, sizeof who);
    if (c->arr) {
        json_t *o = cli_json_instance(info);
        if (o && who[0])
            json_object_set_new(o, "who", json_string(who));
        collect_add(c, o, NULL);
        return 0;
    }
    char updated[32];
    cli_time(info->updated_at, updated);
    const char *cells[] = {info->id, info->workflow, info->county, info->state, updated, who};
    collect_add(c, NULL, cells);
    return 0;
}

static int cmd_list(cli_run *r)
{
    static const char *const headers[] = {"id", "workflow", "county", "state", "updated", "who"};
    collect c;
    int x = init_collect(r, &c, 6, headers);
    if (x)
        return x;
    c.live = r->a->opt[CLI_OPT_LIVE] != NULL;
    cf_instance_filter filter = CF_INSTANCE_FILTER_INIT;
    filter.workflow = r->a->opt[CLI_OPT_WORKFLOW];
    filter.state = r->a->opt[CLI_OPT_STATE];
    filter.county = r->a->opt[CLI_OPT_COUNTY];
    int rc = cf_instance_list(r->e, &filter, list_row, &c);
    return finish(r, &c, rc, "no instances");
}

static int cmd_tick(cli_run *r)
{
    cf_time until = r->has_until ? r->until : cf_engine_now(r->e);
    uint64_t fired = 0;
    int rc = cf_engine_tick(r->e, until, &fired);
    if (rc != CF_OK) {
        if (fired)
            fprintf(r->err, "certflow: %llu timer%s fired before the failure below\n", (unsigned long long)fired,
                    fired == 1 ? "" : "s");
        return cli_fail(r, rc);
    }
    char when[32];
    cli_time(until, when);
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *o = json_object();
        json_object_set_new(o, "until", json_string(when));
        json_object_set_new(o, "fired", json_integer((json_int_t)fired));
        return cli_json_print(r->out, o) ? CLI_EXIT_OTHER : 0;
    }
    fprintf(r->out, "fired %llu timer%s due by %s\n", (unsigned long long)fired, fired == 1 ? "" : "s", when);
    return 0;
}

static int timer_row(void *ud, const cf_timer_info *t)
{
    collect *c = ud;
    if (!cf_state_in(t->state, c->state))
        return 0;
    if (c->county && strcmp(c->county, t->county ? t->county : "") != 0)
        return 0;
    const char *who = who_of(c, t->instance_id);
    if (c->arr) {
        json_t *o = cli_json_timer(t);
        if (o && *who)
            json_object_set_new(o, "who", json_string(who));
        collect_add(c, o, NULL);
        return 0;
    }
    char due[32];
    cli_time(t->due, due);
    const char *cells[] = {due, t->instance_id, t->workflow, t->county, t->state, t->name, t->event, who};
    collect_add(c, NULL, cells);
    return 0;
}

static int cmd_due(cli_run *r)
{
    static const char *const headers[] = {"due", "instance", "workflow", "county", "state", "timer", "event", "who"};
    collect c;
    int x = init_collect(r, &c, 8, headers);
    if (x)
        return x;
    c.state = r->a->opt[CLI_OPT_STATE];
    c.county = r->a->opt[CLI_OPT_COUNTY];
    int overdue = r->a->opt[CLI_OPT_OVERDUE] != NULL;
    if (overdue && r->a->opt[CLI_OPT_WITHIN]) {
        finish(r, &c, CF_OK, NULL);
        return cli_usage(r, CLI_CMD_DUE, "--overdue lists timers due before now: give it without --within");
    }
    cf_time now = cf_engine_now(r->e);
    int rc = who_map(r, &c.who);
    /* overdue: due before now (a timer due exactly now is due, not late) */
    if (rc == CF_OK)
        rc = overdue ? cf_timer_list(r->e, INT64_MIN, now - 1, timer_row, &c)
                     : cf_timer_list(r->e, now, now + r->within, timer_row, &c);
    size_t n = c.table ? cli_table_rows(c.table) : 0;
    x = finish(r, &c, rc, overdue ? "no timers overdue" : "no timers due");
    if (x == 0 && overdue && n)
        fprintf(r->out, "%zu timer%s overdue: `certflow tick` fires %s\n", n, n == 1 ? " is" : "s are",
                n == 1 ? "it" : "them");
    return x;
}

static int cmd_graph(cli_run *r)
{
    const cli_args *a = r->a;
    char *dot = NULL;
    int rc;
    char wf_name[CLI_MAX_NAME + 1], state_name[4 * CLI_MAX_NAME];
    const char *workflow = a->npos ? a->pos[0] : NULL;
    if (!workflow && !a->opt[CLI_OPT_INSTANCE])
        return cli_usage(r, CLI_CMD_GRAPH, "give the WORKFLOW to draw (or --instance ID)");
    if (a->opt[CLI_OPT_ALL_EDGES]) {
        if (a->opt[CLI_OPT_FORMAT] || a->opt[CLI_OPT_NO_GUARDS] || a->opt[CLI_OPT_PHASE] || a->opt[CLI_OPT_INSTANCE])
            return cli_usage(r, CLI_CMD_GRAPH, "--all-edges is the complete DOT: give it without other graph options");
        rc = cf_workflow_dot(r->e, workflow, &dot);
    } else {
        cf_graph_options o = CF_GRAPH_OPTIONS_INIT;
        o.format = a->opt[CLI_OPT_FORMAT];
        o.no_guards = a->opt[CLI_OPT_NO_GUARDS] != NULL;
        o.group_self_loops = 1;
        o.phase = a->opt[CLI_OPT_PHASE];
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        cf_engine *db = NULL;
        rc = CF_OK;
        if (a->opt[CLI_OPT_INSTANCE]) {
            /* the instance is in the database: open it (read only if need be) beside the definitions */
            cf_options opts = r->opts;
            rc = cf_engine_open(r->db, &opts, &db);
            if (rc == CF_EREADONLY) {
                cf_engine_close(db);
                db = NULL;
                opts.read_only = 1;
                rc = cf_engine_open(r->db, &opts, &db);
            }
            if (rc == CF_OK)
                rc = cf_instance_get(db, a->opt[CLI_OPT_INSTANCE], &info);
            if (rc != CF_OK) {
                cf_engine *keep = r->e;
                r->e = db;
                int x = cli_fail(r, rc);
                r->e = keep;
                cf_engine_close(db);
                return x;
            }
            if (workflow && strcmp(workflow, info.workflow) != 0) {
                cli_textf(r->err, "certflow: instance %s runs workflow '%s', not '%s'\n", a->opt[CLI_OPT_INSTANCE],
                          info.workflow, workflow);
                cf_engine_close(db);
                return CLI_EXIT_INVALID;
            }
            /* info's strings last until the next call on db: keep copies */
            snprintf(wf_name, sizeof wf_name, "%s", info.workflow);
            snprintf(state_name, sizeof state_name, "%s", info.state);
            workflow = wf_name;
            o.highlight = state_name;
            rc = cf_workflow_graph(db, workflow, &o, &dot);
            if (rc != CF_OK) {
                cf_engine *keep = r->e;
                r->e = db;
                int x = cli_fail(r, rc);
                r->e = keep;
                cf_engine_close(db);
                return x;
            }
            cf_engine_close(db);
        } else {
            rc = cf_workflow_graph(r->e, workflow, &o, &dot);
        }
    }
    if (rc != CF_OK)
        return cli_fail(r, rc);
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *o = json_object();
        json_object_set_new(o, "workflow", json_string(workflow));
        json_object_set_new(o, a->opt[CLI_OPT_FORMAT] && strcmp(a->opt[CLI_OPT_FORMAT], "mermaid") == 0 ? "mermaid"
                                                                                                       : "dot",
                            json_string(dot ? dot : ""));
        cf_free(dot);
        return cli_json_print(r->out, o) ? CLI_EXIT_OTHER : 0;
    }
    fputs(dot ? dot : "", r->out);
    if (dot && *dot && dot[strlen(dot) - 1] != '\n')
        fputc('\n', r->out);
    cf_free(dot);
    return 0;
}

/* Read a small file whole (the anchor, the key): malloc'd, *len its size; NULL
 * after printing why. */
static char *read_small(cli_run *r, const char *what, const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(r->err, "certflow: cannot read %s '%.200s': %s\n", what, path, strerror(errno));
        return NULL;
    }
    char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max + 1, f) : 0;
    int bad = !b || ferror(f);
    fclose(f);
    if (bad || n > max || n == 0) {
        free(b);
        fprintf(r->err, "certflow: %s '%.200s' %s\n", what, path,
                bad ? "could not be read" : n == 0 ? "is empty" : "is too large");
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* A finding's text may quote what a tampered file holds: control characters are
 * printed as \xNN, never sent to the terminal. */
static void verify_print(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}

static int collect_finding(void *ud, const cf_verify_finding *f)
{
    json_t *o = json_pack("{s:s, s:I, s:s}", "kind", f->kind, "seq", (json_int_t)f->seq, "message", f->message);
    if (o && f->instance_id)
        json_object_set_new(o, "instance_id", json_string(f->instance_id));
    json_array_append_new(ud, o);
    return 0;
}

static int cmd_verify(cli_run *r)
{
    cf_verify_options o = CF_VERIFY_OPTIONS_INIT;
    char *anchor_buf = NULL, *key = NULL;
    size_t key_len = 0, anchor_len = 0;
    const char *since = r->a->opt[CLI_OPT_SINCE_ANCHOR];
    if (since && strncmp(since, "certflow-anchor-", 16) != 0) {
        anchor_buf = read_small(r, "the anchor file", since, 4096, &anchor_len);
        if (!anchor_buf)
            return CLI_EXIT_INVALID;
        since = anchor_buf;
    }
    if (r->a->opt[CLI_OPT_KEY_FILE]) {
        key = read_small(r, "the key file", r->a->opt[CLI_OPT_KEY_FILE], 65536, &key_len);
        if (!key) {
            free(anchor_buf);
            return CLI_EXIT_INVALID;
        }
    }
    o.anchor = since;
    o.key = key;
    o.key_len = key_len;
    json_t *findings = json_array();
    cf_verify_report rep = CF_VERIFY_REPORT_INIT;
    int rc = cf_engine_verify_full(r->e, &o, collect_finding, findings, &rep);
    char *anchor = NULL;
    if (rc == CF_OK && r->a->opt[CLI_OPT_ANCHOR])
        rc = cf_engine_anchor(r->e, key, key_len, &anchor);
    free(anchor_buf);
    free(key);
    if (rc != CF_OK && rc != CF_ECORRUPT) {
        json_decref(findings);
        return cli_fail(r, rc);
    }
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *doc = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "ok", rc == CF_OK, "rows",
                                (json_int_t)rep.rows, "first_bad", (json_int_t)rep.first_bad, "instances",
                                (json_int_t)rep.instances, "unproven", (json_int_t)rep.unproven, "timers",
                                (json_int_t)rep.timers, "problems", (json_int_t)rep.problems, "findings", findings);
        if (doc && since)
            json_object_set_new(doc, "anchor_seq", json_integer(rep.anchor_seq));
        if (doc && anchor)
            json_object_set_new(doc, "anchor", json_string(anchor));
        if (doc && rc != CF_OK)
            json_object_set_new(doc, "message", json_string(cf_errmsg(r->e)));
        cf_free(anchor);
        if (!doc || cli_json_print(r->out, doc))
            return CLI_EXIT_OTHER;
        return cli_exit_code(rc);
    }
    if (rc == CF_OK) {
        json_decref(findings);
        if (anchor) { /* only the line to keep, so that `verify --anchor > FILE` stores it */
            fprintf(r->out, "%s\n", anchor);
            cf_free(anchor);
            return 0;
        }
        int pg = strcmp(cf_engine_backend(r->e), "postgresql") == 0;
        fprintf(r->out, "ok: %lld history row%s checked, the hash chain is intact; %lld instance%s and %lld pending "
                        "timer%s agree with it; %s\n",
                (long long)rep.rows, rep.rows == 1 ? "" : "s", (long long)rep.instances,
                rep.instances == 1 ? "" : "s", (long long)rep.timers, rep.timers == 1 ? "" : "s",
                pg ? "every table of the schema certflow is there (PostgreSQL checks its own pages)"
                   : "the file passed SQLite's integrity check");
        if (rep.unproven)
            fprintf(r->out, "note: %lld instance%s last changed before this version recorded data hashes: their "
                            "state and version were checked, their data and timers cannot be\n",
                    (long long)rep.unproven, rep.unproven == 1 ? "" : "s");
        if (since)
            fprintf(r->out, "anchor: the history still holds row %lld with the anchored hash\n",
                    (long long)rep.anchor_seq);
        return 0;
    }
    if (rep.first_bad)
        fprintf(r->out, "broken: the hash chain breaks at history row %lld\n", (long long)rep.first_bad);
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f)
    {
        verify_print(r->out, json_string_value(json_object_get(f, "kind")));
        fputs(": ", r->out);
        verify_print(r->out, json_string_value(json_object_get(f, "message")));
        fputc('\n', r->out);
    }
    if ((int64_t)json_array_size(findings) < rep.problems)
        fprintf(r->out, "(%lld problems in all; the first 100 of each kind are listed)\n", (long long)rep.problems);
    json_decref(findings);
    return cli_fail(r, rc);
}

/* ---- check: no database ---- */

/* Sorted names (without ".lua") of the *.lua files in dir, as a JSON array. */
static json_t *lua_names(const char *dir)
{
    json_t *arr = json_array();
    DIR *d = opendir(dir);
    if (!d)
        return arr;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        size_t n = strnlen(ent->d_name, 256);
        if (n > 4 && ent->d_name[0] != '.' && strcmp(ent->d_name + n - 4, ".lua") == 0)
            json_array_append_new(arr, json_stringn(ent->d_name, n - 4));
    }
    closedir(d);
    /* insertion sort: folders hold a handful of files */
    size_t count = json_array_size(arr);
    for (size_t i = 1; i < count; i++) {
        for (size_t j = i; j > 0; j--) {
            json_t *x = json_array_get(arr, j - 1), *y = json_array_get(arr, j);
            if (strcmp(json_string_value(x), json_string_value(y)) <= 0)
                break;
            json_incref(x);
            json_array_set(arr, j - 1, y);
            json_array_set_new(arr, j, x);
        }
    }
    return arr;
}

typedef struct check_out {
    cli_run *r;
    json_t *problems;
} check_out;

static int check_problem(void *ud, const cf_diagnostic *d)
{
    check_out *c = ud;
    const char *file = d->file ? d->file : "";
    const char *msg = d->message ? d->message : "";
    if (c->problems) {
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "message", json_string(msg));
        json_array_append_new(c->problems, o);
        return 0;
    }
    size_t n = strlen(file);
    /* The engine's messages often start with the file already, or with its name
     * inside the policy folder ("counties/alameda.lua: ..."): print the path once. */
    const char *colon = strstr(msg, ": ");
    size_t head = colon ? (size_t)(colon - msg) : 0;
    if (n && strncmp(msg, file, n) == 0)
        cli_textf(c->r->out, "%s\n", msg);
    else if (head && head < n && file[n - head - 1] == '/' && strncmp(file + n - head, msg, head) == 0)
        cli_textf(c->r->out, "%s%s\n", file, colon);
    else
        cli_textf(c->r->out, "%s: %s\n", file, msg);
    return 0;
}

static void join_names(FILE *f, json_t *names)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) cli_textf(f, "%s%s", i ? ", " : "", json_string_value(v));
}

typedef struct check_refusals {
    check_out *c;
    int *problems;
} check_refusals;

/* A plugin the scratch open refused (its migration failed, say): a problem of its file. */
static int check_refused(void *ud, const cf_plugin_status *p)
{
    check_refusals *k = ud;
    if (p->loaded)
        return 0;
    char msg[1200];
    const char *why = p->message;
    size_t n = strlen(p->path);
    if (strncmp(why, p->path, n) == 0 && strncmp(why + n, ": ", 2) == 0)
        why += n + 2;
    snprintf(msg, sizeof msg, "refused when a database is opened: %s", why);
    cf_diagnostic d = {sizeof d, p->path, msg};
    check_problem(k->c, &d);
    (*k->problems)++;
    return 0;
}

static int cmd_check(cli_run *r)
{
    int json = r->a->opt[CLI_OPT_JSON] != NULL;
    check_out c = {r, json ? json_array() : NULL};
    int problems = 0;
    int rc = cf_check(&r->opts, check_problem, &c, &problems);
    /* An existing database: every live version of a workflow must still find
     * what it names in these policies (docs/workflows.md, "Changing a shipped
     * workflow safely"). Opened read-only; nothing is created or written. */
    struct stat dbst;
    if (rc == CF_OK && r->db && stat(r->db, &dbst) == 0) {
        cf_options ro = r->opts;
        ro.read_only = 1;
        cf_engine *probe = NULL;
        int orc = cf_engine_open(r->db, &ro, &probe);
        if (orc == CF_EPOLICY || orc == CF_EWORKFLOW) {
            cf_diagnostic d = {sizeof d, r->db, cf_errmsg(probe)};
            check_problem(&c, &d);
            problems++;
            rc = orc;
        }
        cf_engine_close(probe);
    }
    if (rc == CF_OK) {
        /* What open would still refuse (a plugin's migration, its tables): open a scratch
         * in-memory database with the same options; the real database is not touched. */
        cf_engine *scratch = NULL;
        int orc = cf_engine_open(":memory:", &r->opts, &scratch);
        int before = problems;
        if (scratch)
            cf_plugin_list(scratch, check_refused, &(check_refusals){&c, &problems});
        if (orc != CF_OK && problems == before) {
            char msg[1200];
            snprintf(msg, sizeof msg, "opening a scratch database with these plugins fails, as opening the database "
                                      "would: %s", cf_errmsg(scratch));
            cf_diagnostic d = {sizeof d, r->plugins ? r->plugins : "(plugins)", msg};
            check_problem(&c, &d);
            problems++;
        }
        if (problems > before)
            rc = orc != CF_OK ? orc : CF_EPLUGIN;
        cf_engine_close(scratch);
    }
    char counties_dir[sizeof r->policies + 16];
    snprintf(counties_dir, sizeof counties_dir, "%s/counties", r->policies);
    json_t *workflows = lua_names(r->workflows), *counties = lua_names(counties_dir);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(rc == CF_OK));
        json_object_set_new(o, "problems", c.problems);
        json_object_set_new(o, "workflow_dir", json_string(r->workflows));
        json_object_set_new(o, "policy_dir", json_string(r->policies));
        json_object_set_new(o, "workflows", workflows);
        json_object_set_new(o, "counties", counties);
        if (cli_json_print(r->out, o))
            return CLI_EXIT_OTHER;
    } else if (rc == CF_OK) {
        size_t nw = json_array_size(workflows), nc = json_array_size(counties);
        fprintf(r->out, "ok: %zu workflow%s (", nw, nw == 1 ? "" : "s");
        join_names(r->out, workflows);
        fprintf(r->out, "), the state policy and %zu count%s (", nc, nc == 1 ? "y" : "ies");
        join_names(r->out, counties);
        fputs(")\n", r->out);
        json_decref(workflows);
        json_decref(counties);
    } else {
        json_decref(workflows);
        json_decref(counties);
        cli_textf(r->err, "certflow: check found %d problem%s in %s and %s (fix them and run certflow check again)\n",
                problems, problems == 1 ? "" : "s", r->workflows, r->policies);
    }
    /* Whatever kind of problem (a refused plugin, a policy stopped by a limit):
     * check found it, which docs/cli.md gives exit 4. */
    return rc == CF_OK ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

/* ---- Dispatch ---- */

typedef int (*cmd_fn)(cli_run *r);

static const cmd_fn HANDLERS[CLI_CMD__COUNT] = {
    [CLI_CMD_INIT] = cmd_init,       [CLI_CMD_NEW] = cmd_new,     [CLI_CMD_FIRE] = cmd_fire,
    [CLI_CMD_SHOW] = cmd_show,       [CLI_CMD_HISTORY] = cmd_history, [CLI_CMD_LIST] = cmd_list,
    [CLI_CMD_TICK] = cmd_tick,       [CLI_CMD_DUE] = cmd_due,     [CLI_CMD_CHECK] = cmd_check,
    [CLI_CMD_GRAPH] = cmd_graph,     [CLI_CMD_VERIFY] = cmd_verify,
    [CLI_CMD_POLICY] = cli_cmd_policy, [CLI_CMD_REGISTRY] = cli_cmd_registry,
    [CLI_CMD_REPORT] = cli_cmd_report, [CLI_CMD_SIMULATE] = cli_cmd_simulate,
    [CLI_CMD_FEES] = cli_cmd_fees,   [CLI_CMD_NOTICES] = cli_cmd_notices, [CLI_CMD_EXAM] = cli_cmd_exam,
    [CLI_CMD_PLUGIN] = cli_cmd_plugin, [CLI_CMD_EXPLAIN] = cli_cmd_explain, [CLI_CMD_EVENTS] = cli_cmd_events,
    [CLI_CMD_ELIGIBILITY] = cli_cmd_eligibility,
    [CLI_CMD_WORKFLOW] = cli_cmd_workflow, [CLI_CMD_MIGRATE] = cli_cmd_migrate,
    [CLI_CMD_SERVE] = cli_cmd_serve, [CLI_CMD_TOKEN] = cli_cmd_token,
    [CLI_CMD_STORE] = cli_cmd_store, [CLI_CMD_WEBHOOK] = cli_cmd_webhook,
};

static int run(cli_run *r)
{
    const cli_args *a = r->a;
    if (a->opt[CLI_OPT_HELP]) {
        cli_print_help(r->out, a->cmd);
        return 0;
    }
    if (a->opt[CLI_OPT_VERSION]) {
        fprintf(r->out, "certflow %s\n", CF_VERSION_STRING);
        return 0;
    }
    if (a->cmd == CLI_CMD_HELP) {
        cli_cmd c = CLI_CMD_NONE;
        if (a->npos > 0) {
            c = cli_cmd_find(a->pos[0]);
            if (c == CLI_CMD_NONE)
                return cli_usage(r, CLI_CMD_HELP, "unknown command '%.60s'", a->pos[0]);
        }
        cli_print_help(r->out, c);
        return 0;
    }
    int x = setup(r);
    if (x)
        return x;
    const cli_cmd_spec *spec = cli_cmd_get(a->cmd);
    if (a->cmd != CLI_CMD_CHECK && a->cmd != CLI_CMD_STORE) {
        /* graph reads definitions only: an in-memory database leaves no file behind. */
        x = open_engine(r, spec->needs_db ? r->db : ":memory:");
        /* plugin list shows why a plugin was refused, also when that stopped the open */
        if (x && r->e && a->cmd == CLI_CMD_PLUGIN && a->npos == 1 && strcmp(a->pos[0], "list") == 0) {
            r->open_failed = 1;
            int y = cli_cmd_plugin(r);
            return y ? y : x;
        }
        if (x)
            return x;
    }
    return HANDLERS[a->cmd](r);
}

/* The name of an exit code, for errors under --json (docs/cli.md, "Exit codes"). */
static const char *exit_name(int code)
{
    switch (code) {
    case CLI_EXIT_REJECTED: return "rejected";
    case CLI_EXIT_USAGE: return "usage";
    case CLI_EXIT_NOTFOUND: return "not_found";
    case CLI_EXIT_INVALID: return "invalid";
    case CLI_EXIT_DATABASE: return "database";
    case CLI_EXIT_CORRUPT: return "corrupt";
    case CLI_EXIT_LIMIT: return "limit";
    default: return "other";
    }
}

/* Under --json a failing command's stderr is one JSON document,
 * {"error": {"code": EXIT, "name": NAME, "message": TEXT}}, TEXT being what the command
 * would have printed (without the "certflow: " prefixes). A command that succeeds
 * passes what it printed on stderr through unchanged. */
static void json_stderr(int code, const char *text, size_t n)
{
    if (code == 0 || code == CLI_EXIT_REJECTED) {
        fwrite(text, 1, n, stderr);
        return;
    }
    char *msg = malloc(n + 1);
    size_t m = 0;
    for (size_t i = 0; msg && i < n;) {
        if (strncmp(text + i, "certflow: ", 10) == 0 && (i == 0 || text[i - 1] == '\n'))
            i += 10;
        else
            msg[m++] = text[i++];
    }
    while (msg && m > 0 && msg[m - 1] == '\n')
        m--;
    json_t *o = json_pack("{s:{s:i,s:s,s:s#}}", "error", "code", code, "name", exit_name(code), "message",
                          msg ? msg : "out of memory", msg ? (int)m : 13);
    free(msg);
    if (!o || cli_json_print(stderr, o) != 0)
        fwrite(text, 1, n, stderr);
}

static int wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    cli_args args;
    cli_run r;
    memset(&r, 0, sizeof r);
    r.a = &args;
    r.out = stdout;
    r.err = stderr;
    char *errbuf = NULL;
    size_t errlen = 0;
    FILE *errmem = wants_json(argc, argv) ? open_memstream(&errbuf, &errlen) : NULL;
    if (errmem)
        r.err = errmem;
    int code = cli_parse(argc, argv, &args);
    if (code != 0) {
        cli_textf(r.err, "certflow: %s\n", args.err);
        cli_print_usage(r.err, args.cmd);
    } else {
        code = run(&r);
        cf_engine_close(r.e);
        free(r.plugin_config_buf);
        if (fflush(stdout) != 0 && code == 0) {
            fprintf(r.err, "certflow: could not write the output: %s\n", strerror(errno));
            code = CLI_EXIT_OTHER;
        }
    }
    if (errmem) {
        fclose(errmem);
        if (errbuf && errlen)
            json_stderr(code, errbuf, errlen);
        free(errbuf);
    }
    return code;
}
