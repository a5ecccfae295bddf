/*
 * engine.c — the engine handle: opening and closing, options and their
 * defaults, the clock, wiring the store, the policy host, the plugins (handed
 * cf__send, so that they never call back into the handle's files) and the
 * workflow definitions together (loaded and stored here; looked up in
 * definitions.c), result codes, and validation without a database (cf_check).
 */
#include "internal.h"
#include "core/versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TZ "PST8PDT,M3.2.0,M11.1.0"

static const struct {
    int code;
    const char *name;
    const char *text;
} result_table[] = {
#define CF__RESULT_ROW(name, value, text) {value, #name, text},
    CF_RESULT_TABLE(CF__RESULT_ROW)
#undef CF__RESULT_ROW
};

const char *cf_strerror(int rc)
{
    for (size_t i = 0; i < sizeof result_table / sizeof result_table[0]; i++)
        if (result_table[i].code == rc)
            return result_table[i].text;
    return "unknown result code";
}

const char *cf_result_name(int rc)
{
    for (size_t i = 0; i < sizeof result_table / sizeof result_table[0]; i++)
        if (result_table[i].code == rc)
            return result_table[i].name;
    return "CF_UNKNOWN";
}

void cf_free(void *ptr)
{
    free(ptr);
}

const char *cf_errmsg(const cf_engine *engine)
{
    if (!engine)
        return "no engine handle (cf_engine_open failed for lack of memory, or NULL was passed)";
    return engine->err.msg;
}

const char *cf_engine_backend(const cf_engine *engine)
{
    return engine && engine->store ? cf__store_backend(engine->store) : "sqlite";
}

cf_time cf_engine_now(const cf_engine *engine)
{
    if (engine && engine->opts.clock)
        return engine->opts.clock(engine->opts.clock_ud);
    return (cf_time)time(NULL);
}

/* Copy the fields the caller's struct has (it may come from an older header). */
static void copy_options(cf_options *dst, const cf_options *src)
{
    cf_options defaults = CF_OPTIONS_INIT;
    *dst = defaults;
    if (!src)
        return;
    size_t n = src->size < sizeof *dst ? src->size : sizeof *dst;
    if (n > sizeof(size_t))
        memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t), n - sizeof(size_t));
    dst->size = sizeof *dst;
}

static int apply_defaults(cf_engine *e, const cf_options *opts)
{
    copy_options(&e->opts, opts);
    e->workflow_dir = cf__strdup(e->opts.workflow_dir);
    e->policy_dir = cf__strdup(e->opts.policy_dir);
    e->plugin_dir = cf__strdup(e->opts.plugin_dir);
    e->time_zone = cf__strdup(e->opts.time_zone ? e->opts.time_zone : DEFAULT_TZ);
    e->plugin_config = cf__strdup(e->opts.plugin_config);
    if ((e->opts.workflow_dir && !e->workflow_dir) || (e->opts.policy_dir && !e->policy_dir) ||
        (e->opts.plugin_dir && !e->plugin_dir) || !e->time_zone || (e->opts.plugin_config && !e->plugin_config))
        return cf__fail(&e->err, CF_ENOMEM, "out of memory copying the options");
    e->opts.plugin_config = e->plugin_config;
    e->opts.workflow_dir = e->workflow_dir;
    e->opts.policy_dir = e->policy_dir;
    e->opts.plugin_dir = e->plugin_dir;
    e->opts.time_zone = e->time_zone;
    if (e->opts.lua_instruction_budget == 0)
        e->opts.lua_instruction_budget = 1000000;
    if (e->opts.lua_memory_cap == 0)
        e->opts.lua_memory_cap = 16u << 20;
    if (e->opts.lua_time_limit_ms == 0)
        e->opts.lua_time_limit_ms = 1000;
    if (e->opts.lua_load_time_limit_ms == 0)
        e->opts.lua_load_time_limit_ms = 5000;
    if (e->opts.busy_timeout_ms <= 0)
        e->opts.busy_timeout_ms = 5000;
    if (e->opts.max_tick_fires == 0)
        e->opts.max_tick_fires = 1000000;
    if (e->opts.synchronous == CF_SYNC_DEFAULT)
        e->opts.synchronous = CF_SYNC_NORMAL;
    if (e->opts.synchronous != CF_SYNC_NORMAL && e->opts.synchronous != CF_SYNC_FULL)
        return cf__fail(&e->err, CF_EINVAL,
                        "options.synchronous is %d: use CF_SYNC_NORMAL (1), CF_SYNC_FULL (2) or 0 for the default",
                        e->opts.synchronous);
    int rc = cf__tz_parse(e->time_zone, &e->tz, &e->err);
    if (rc != CF_OK)
        cf__err_prefix(&e->err, "options.time_zone");
    return rc;
}

/* Load plugins (after the policy: a plugin may not take a policy's name). */
static int open_plugins(cf_engine *e, const char *db)
{
    cf__plugins_config pc = {e->plugin_dir, e->plugin_config, e->policy, e->opts.log, e->opts.log_ud, cf__send,
                             cf__store_dialect(db)};
    int rc = cf__plugins_open(&pc, &e->plugins, &e->err);
    if (rc != CF_OK)
        cf__err_prefix(&e->err, "loading plugins");
    return rc;
}

static int cmp_workflow(const void *a, const void *b)
{
    return strcmp((*(cf__workflow *const *)a)->name, (*(cf__workflow *const *)b)->name);
}

/* Links name other workflows and events in them: check them once all are loaded. */
static int check_links(cf__workflow *const *wfs, size_t n, cf_diagnostic_fn fn, void *ud, cf__err *err)
{
    int rc = CF_OK;
    for (size_t i = 0; i < n; i++) {
        const cf__workflow *wf = wfs[i];
        for (int l = 0; l < wf->nlinks; l++) {
            const cf__link *link = &wf->links[l];
            const cf__workflow *target = NULL;
            for (size_t j = 0; j < n; j++)
                if (strcmp(wfs[j]->name, link->workflow) == 0)
                    target = wfs[j];
            if (!target) {
                rc = cf__fail(err, CF_EWORKFLOW,
                              "%s: links.%s.workflow: no workflow named '%s' is loaded (hint: add "
                              "workflows/%s.lua or correct the name)",
                              wf->path, link->name, link->workflow, link->workflow);
                if (!fn)
                    return rc;
                cf_diagnostic d = {sizeof d, wf->path, err->msg};
                if (fn(ud, &d))
                    return rc;
                continue;
            }
            for (int t = 0; t < wf->ntrans; t++) {
                for (int s = 0; s < wf->trans[t].nsends; s++) {
                    const cf__send_def *send = &wf->trans[t].sends[s];
                    if (send->link != l || cf__workflow_event(target, send->event) >= 0)
                        continue;
                    rc = cf__fail(err, CF_EWORKFLOW,
                                  "%s: transition %s --%s--> %s sends '%s' over link '%s', but "
                                  "workflow '%s' declares no such event (hint: add it to its events)",
                                  wf->path, wf->states[wf->trans[t].from].name,
                                  wf->events[wf->trans[t].event], wf->states[wf->trans[t].to].name,
                                  send->event, link->name, target->name);
                    if (!fn)
                        return rc;
                    cf_diagnostic d = {sizeof d, wf->path, err->msg};
                    if (fn(ud, &d))
                        return rc;
                }
            }
        }
    }
    return rc;
}

/* Compile every workflow file in dir. With a callback (cf_check) each problem is
 * reported and the rest still compiled; without one (open) the first problem stops
 * it, in err. *out gets the workflows that compiled (the caller frees them). */
static int compile_folder(const char *dir, cf_engine *e, cf_diagnostic_fn fn, void *ud, cf__err *err,
                          cf__workflow ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    char **files = NULL;
    size_t nfiles = 0;
    int rc = cf__list_dir(dir, ".lua", &files, &nfiles, err);
    if (rc != CF_OK) {
        cf__err_prefix(err, "loading workflows");
        if (fn) {
            cf_diagnostic d = {sizeof d, dir, err->msg};
            fn(ud, &d);
        }
        return rc;
    }
    cf__workflow **wfs = calloc(nfiles ? nfiles : 1, sizeof *wfs);
    if (!wfs) {
        cf__free_list(files, nfiles);
        return cf__fail(err, CF_ENOMEM, "out of memory loading the workflows in %s", dir);
    }
    size_t n = 0;
    for (size_t i = 0; i < nfiles; i++) {
        cf__workflow *wf = NULL;
        int frc = cf__workflow_load_file_limited(files[i], e->opts.lua_load_time_limit_ms, cf__engine_resolve, e,
                                                 &wf, err);
        for (size_t j = 0; frc == CF_OK && j < n; j++) {
            if (strcmp(wfs[j]->name, wf->name) == 0) {
                frc = cf__fail(err, CF_EWORKFLOW,
                               "%s: name: workflow '%s' is also defined by %s (hint: give each workflow "
                               "its own name)",
                               files[i], wf->name, wfs[j]->path);
                cf__workflow_free(wf);
            }
        }
        if (frc == CF_OK) {
            wfs[n++] = wf;
            continue;
        }
        if (rc == CF_OK)
            rc = frc;
        if (!fn)
            break;
        cf_diagnostic d = {sizeof d, files[i], err->msg};
        fn(ud, &d);
    }
    cf__free_list(files, nfiles);
    if (rc == CF_OK || fn) {
        int lrc = check_links(wfs, n, fn, ud, err);
        if (rc == CF_OK)
            rc = lrc;
    }
    *out = wfs;
    *count = n;
    return rc;
}

static int load_workflows(cf_engine *e)
{
    if (!e->workflow_dir)
        return CF_OK;
    cf__workflow **wfs = NULL;
    size_t n = 0;
    int rc = compile_folder(e->workflow_dir, e, NULL, NULL, &e->err, &wfs, &n);
    if (rc == CF_EWORKFLOW)
        cf__plugins_note_refused(e->plugins, &e->err);
    if (rc == CF_EWORKFLOW && (strstr(e->err.msg, "unknown action '") || strstr(e->err.msg, "unknown guard '"))) {
        /* Say where plugins were looked for: a forgotten plugin_dir is the usual cause. */
        cf__buf msg = {0};
        cf__buf_puts(&msg, e->err.msg);
        if (e->plugin_dir)
            cf__buf_printf(&msg, " (plugins were loaded from options.plugin_dir = %s)", e->plugin_dir);
        else
            cf__buf_puts(&msg, " (options.plugin_dir is not set, so no plugin was loaded: set it to the folder of "
                               "the plugins the workflows need, e.g. <prefix>/lib/certflow/plugins for the shipped "
                               "ones)");
        if (msg.data && !msg.oom)
            snprintf(e->err.msg, sizeof e->err.msg, "%s", msg.data);
        cf__buf_free(&msg);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == CF_OK && cf__defcache_push(&e->defs, wfs[i]) == CF_OK)
            continue;
        if (rc == CF_OK)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory loading the workflows");
        cf__workflow_free(wfs[i]);
    }
    free(wfs);
    e->defs.ncurrent = e->defs.count;
    if (e->defs.ncurrent > 1)
        qsort(e->defs.items, e->defs.ncurrent, sizeof *e->defs.items, cmp_workflow);
    return rc;
}

/* Record every loaded definition by its hash, so instances keep the version they began on. */
static int store_definitions(cf_engine *e)
{
    /* Usually every definition is stored already: then opening needs no write lock
     * and does not wait for another process that is writing. */
    size_t missing = 0;
    /* A read-only engine records nothing: instances it reads name their own definitions. */
    if (cf__store_read_only(e->store))
        return CF_OK;
    for (size_t i = 0; i < e->defs.ncurrent; i++) {
        bool stored = false;
        int rc = cf__store_def_exists(e->store, e->defs.items[i]->hash, &stored, &e->err);
        if (rc != CF_OK)
            return rc;
        missing += !stored;
    }
    if (missing == 0)
        return CF_OK;
    cf_time now = cf_engine_now(e);
    int rc = cf__store_begin(e->store, &e->err);
    for (size_t i = 0; rc == CF_OK && i < e->defs.ncurrent; i++) {
        cf__workflow *wf = e->defs.items[i];
        rc = cf__store_def_put(e->store, wf->hash, wf->name, wf->source, now, &e->err);
    }
    if (rc == CF_OK)
        return cf__store_commit(e->store, &e->err);
    cf__store_rollback(e->store);
    return rc;
}

/* Remove a database file (and its WAL companions) that a failed open created. */
static void remove_new_database(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char name[4096];
        if ((size_t)snprintf(name, sizeof name, "%s%s", path, suffixes[i]) < sizeof name)
            unlink(name);
    }
}

int cf_engine_open(const char *path, const cf_options *opts, cf_engine **out)
{
    if (!out)
        return CF_EINVAL;
    cf_engine *e = calloc(1, sizeof *e);
    *out = e;
    if (!e)
        return CF_ENOMEM;
    int rc;
    if (!path) {
        rc = cf__fail(&e->err, CF_EINVAL, "no database path given (pass a file name, or \":memory:\")");
        goto fail;
    }
    if (opts && opts->size < sizeof(size_t)) {
        rc = cf__fail(&e->err, CF_EINVAL, "options.size is not set (start from CF_OPTIONS_INIT)");
        goto fail;
    }
    rc = apply_defaults(e, opts);
    if (rc != CF_OK)
        goto fail;
    cf__policy_config pc = {e->policy_dir, e->opts.lua_instruction_budget, e->opts.lua_memory_cap, &e->tz, NULL, NULL,
                            e->opts.lua_time_limit_ms, e->opts.lua_load_time_limit_ms};
    rc = cf__policy_open(&pc, &e->policy, &e->err);
    if (rc != CF_OK)
        goto fail;
    rc = open_plugins(e, path);
    if (rc != CF_OK)
        goto fail;
    /* The store opens before the workflows compile: plugin migrations may refuse a
     * plugin, and workflows must only see the functions of plugins that stay. */
    /* A failed open leaves no trace: a database file it created is removed again. */
    struct stat before;
    e->created_db = !e->opts.read_only && strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 &&
                    !cf__store_is_postgresql(path) && stat(path, &before) != 0;
    if (e->opts.read_only)
        rc = cf__store_open_read_only(path, e->opts.busy_timeout_ms, &e->store, &e->err);
    else
        rc = cf__store_open(path, e->opts.busy_timeout_ms, &e->store, &e->err);
    if (rc == CF_OK) /* a database found corrupt refuses history appends (verify.c) */
        rc = cf__store_mark_load(e->store, &e->err);
    if (rc == CF_OK && e->opts.synchronous != CF_SYNC_NORMAL)
        rc = cf__store_set_synchronous(e->store, e->opts.synchronous, &e->err);
    if (rc != CF_OK)
        goto fail;
    rc = cf__plugins_migrate(e->plugins, e->store, cf_engine_now(e), &e->err);
    if (rc != CF_OK)
        goto fail;
    rc = load_workflows(e);
    if (rc != CF_OK)
        goto fail;
    rc = store_definitions(e);
    if (rc != CF_OK)
        goto fail;
    /* the policy must still define what every live version names (versions.c) */
    rc = cf__versions_check_live(e, e->policy, &e->err);
    if (rc != CF_OK)
        goto fail;
    e->open_rc = CF_OK;
    return CF_OK;
fail:
    e->open_rc = rc;
    if (e->store && e->created_db) {
        cf__store_close(e->store);
        e->store = NULL;
        remove_new_database(path);
    }
    return rc;
}

int cf_engine_close(cf_engine *e)
{
    if (!e)
        return CF_OK;
    cf__plugins_release(e->plugins); /* their statements, before the database closes */
    cf__store_close(e->store);
    cf__policy_close(e->policy);
    cf__defcache_free(&e->defs);
    cf__instance_row_clear(&e->row);
    free(e->scratch_reasons);
    free(e->scratch_from);
    free(e->scratch_to);
    free(e->workflow_dir);
    free(e->policy_dir);
    free(e->plugin_dir);
    free(e->time_zone);
    free(e->plugin_config);
    /* Last: no plugin function can be called any more. */
    cf__plugins_close(e->plugins);
    free(e);
    return CF_OK;
}

int cf_workflow_names(cf_engine *e, cf_name_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_workflow_names: no callback given");
    for (size_t i = 0; i < e->defs.ncurrent; i++)
        if (fn(ud, e->defs.items[i]->name))
            break;
    return CF_OK;
}

int cf_workflow_dot(cf_engine *e, const char *name, char **dot_out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !dot_out)
        return cf__fail(&e->err, CF_EINVAL, "cf_workflow_dot: name and dot_out are required");
    *dot_out = NULL;
    cf__workflow *wf = cf__engine_workflow(e, name);
    if (!wf)
        return cf__engine_unknown_workflow(e, name);
    return cf__workflow_dot(wf, dot_out, &e->err);
}

int cf_workflow_graph(cf_engine *e, const char *name, const cf_graph_options *opts, char **out)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !opts || !out)
        return cf__fail(&e->err, CF_EINVAL, "cf_workflow_graph: name, options and out are required");
    if (opts->size < sizeof *opts)
        return cf__fail(&e->err, CF_EINVAL,
                        "cf_workflow_graph: options.size is not set (start from CF_GRAPH_OPTIONS_INIT)");
    *out = NULL;
    cf__workflow *wf = cf__engine_workflow(e, name);
    if (!wf)
        return cf__engine_unknown_workflow(e, name);
    return cf__workflow_graph(wf, opts, out, &e->err);
}

/* Counts problems and forwards them to the caller's callback. */
typedef struct check_sink {
    cf_diagnostic_fn fn;
    void *ud;
    int count;
    bool stop;
} check_sink;

static int sink_report(void *ud, const cf_diagnostic *d)
{
    check_sink *k = ud;
    k->count++;
    if (k->fn && !k->stop && k->fn(k->ud, d))
        k->stop = true;
    return 0;
}

static void sink_msg(check_sink *k, const char *file, const char *msg)
{
    cf_diagnostic d = {sizeof d, file, msg};
    sink_report(k, &d);
}

int cf_check(const cf_options *opts, cf_diagnostic_fn fn, void *ud, int *problems)
{
    check_sink sink = {fn, ud, 0, false};
    int workflow_problems = 0, plugin_problems = 0;
    cf_engine probe;
    memset(&probe, 0, sizeof probe);
    cf__err err;
    err.msg[0] = '\0';
    if (opts && opts->size < sizeof(size_t)) {
        sink_msg(&sink, "(options)", "options.size is not set (start from CF_OPTIONS_INIT)");
        goto done;
    }
    if (apply_defaults(&probe, opts) != CF_OK) {
        sink_msg(&sink, "(options)", probe.err.msg);
        goto done;
    }
    cf__policy_config pc = {probe.policy_dir, probe.opts.lua_instruction_budget, probe.opts.lua_memory_cap,
                            &probe.tz, NULL, NULL, probe.opts.lua_time_limit_ms,
                            probe.opts.lua_load_time_limit_ms};
    int policy_problems = 0;
    cf__policy *names = NULL;
    cf__policy_check_names(&pc, sink_report, &sink, &policy_problems, &names);
    /* Workflows resolve names against the policy; without one that loads they are checked bare. */
    cf__policy *policy = NULL;
    /* A policy with problems does not load: not running its files a second time keeps a
     * file stopped by the load time limit from costing that limit twice. When only a county
     * overlay had problems, the state policy's names still resolve the workflows' (no
     * follow-on "unknown deadline function" after one bad county file). */
    if (policy_problems > 0)
        policy = names;
    else {
        cf__policy_close(names);
        if (cf__policy_open(&pc, &policy, &err) != CF_OK)
            policy = NULL;
    }
    /* Plugins too, so that workflows resolve their names; refused ones are problems. */
    probe.policy = policy;
    cf__plugins_config plc = {probe.plugin_dir, probe.plugin_config, policy, NULL, NULL, NULL, NULL};
    if (cf__plugins_open(&plc, &probe.plugins, &err) != CF_OK) {
        cf__err_prefix(&err, "loading plugins");
        sink_msg(&sink, "(options)", err.msg);
    }
    plugin_problems = cf__plugins_diagnose(probe.plugins, sink_report, &sink);
    if (probe.workflow_dir) {
        int before = sink.count;
        cf__workflow **wfs = NULL;
        size_t nwfs = 0;
        if (compile_folder(probe.workflow_dir, &probe, sink_report, &sink, &err, &wfs, &nwfs) == CF_ENOMEM &&
            sink.count == before)
            sink_msg(&sink, probe.workflow_dir, err.msg);
        workflow_problems = sink.count - before;
        for (size_t i = 0; i < nwfs; i++)
            cf__workflow_free(wfs[i]);
        free(wfs);
    }
    cf__policy_close(policy);
done:
    cf__plugins_close(probe.plugins);
    free(probe.workflow_dir);
    free(probe.policy_dir);
    free(probe.plugin_dir);
    free(probe.plugin_config);
    free(probe.time_zone);
    if (problems)
        *problems = sink.count;
    if (sink.count == 0)
        return CF_OK;
    if (workflow_problems)
        return CF_EWORKFLOW;
    return plugin_problems && sink.count == plugin_problems ? CF_EPLUGIN : CF_EPOLICY;
}

/* The data fields each event of a workflow declares (event_data.c reads them). */
int cf_workflow_event_data(cf_engine *e, const char *name, cf_event_field_fn fn, void *ud)
{
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!name || !fn)
        return cf__fail(&e->err, CF_EINVAL, "cf_workflow_event_data: name and fn are required");
    cf__workflow *wf = cf__engine_workflow(e, name);
    if (!wf)
        return cf__engine_unknown_workflow(e, name);
    for (int i = 0; i < wf->nevent_fields; i++) {
        const cf__event_field *f = &wf->event_fields[i];
        cf_event_field out = {sizeof out, wf->events[f->event], f->field, cf__event_type_name(f->type), f->required,
                              f->example, f->about};
        if (fn(ud, &out) != 0)
            break;
    }
    return CF_OK;
}
