/*
 * policy_test.c — policy test cases written as data (cf_policy_test): each case
 * file runs in an in-memory engine against the real workflows and the policy
 * (or a proposed county overlay), and reports what it expected and what it got.
 */
#include "internal.h"
#include "policy/policy_change.h"

#include <lauxlib.h>
#include <lua.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- policy test cases ---- */

static const char *const CASE_KEYS[] = {"name",  "county",     "workflow", "state", "data",  "today",
                                        "event", "event_data", "actor",    "timer", "expect"};
static const char *const EXPECT_KEYS[] = {"outcome", "to", "reason", "data", "due"};

typedef struct case_run {
    cf_engine *e;       /* the caller's engine: messages */
    cf_engine *scratch; /* the file's in-memory engine */
    cf_time now;        /* the scratch engine's clock */
    const char *file;
    cf_policy_case_fn fn;
    void *ud;
    int failed;
    int count;
    bool stop;
    const char *only;  /* cf_policy_test_options.case_name */
    size_t matched;    /* cases run under that name */
    json_t *coverage;  /* "kind\nname" -> {"file", "calls"} over every file's scratch policy */
} case_run;

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static cf_time case_clock(void *ud)
{
    return *(const cf_time *)ud;
}

static void case_report(case_run *r, const char *name, bool passed, const char *expected, const char *got)
{
    r->count++;
    if (!passed)
        r->failed++;
    cf_policy_case c = {sizeof c, r->file, name, passed, expected ? expected : "", got ? got : ""};
    if (r->fn && !r->stop && r->fn(r->ud, &c) != 0)
        r->stop = true;
}

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Unknown keys are a failing case with a hint, not a silent skip (cf__check_keys_json). */
static bool check_keys(json_t *o, const char *const *keys, size_t nkeys, const char *where, cf__buf *problem)
{
    cf__keys_found f;
    if (cf__check_keys_json(o, keys, nkeys, &f))
        return true;
    cf__buf_printf(problem, "%s: unknown key '%s'%s%s%s", where, f.unknown, f.closest ? " (did you mean '" : "",
                   f.closest ? f.closest : "", f.closest ? "'?)" : "");
    return false;
}

/* Put a fresh instance straight into the case's state with the case's data. */
static int place_instance(case_run *r, const cf__workflow *wf, const char *county, const char *state,
                          const char *data_text, char id[37])
{
    snprintf(id, 37, "00000000-0000-4000-8000-%012d", r->count + 1);
    cf__instance_row row;
    memset(&row, 0, sizeof row);
    memcpy(row.id, id, 37);
    row.workflow = wf->name;
    row.def_hash = (char *)wf->hash;
    row.county = (char *)county;
    row.state = (char *)state;
    row.data = (char *)data_text;
    row.created_at = row.updated_at = r->now;
    return cf__store_instance_insert(r->scratch->store, &row, &r->scratch->err);
}

static void run_event_case(case_run *r, json_t *c, const cf__workflow *wf, const char *name, cf__buf *expected,
                           cf__buf *got, bool *passed)
{
    json_t *expect = json_object_get(c, "expect");
    const char *outcome = str_field(expect, "outcome"), *to = str_field(expect, "to"),
               *reason = str_field(expect, "reason");
    if (!outcome || (strcmp(outcome, "applied") != 0 && strcmp(outcome, "rejected") != 0 &&
                     strcmp(outcome, "error") != 0)) {
        cf__buf_puts(got, "case error: expect.outcome must be \"applied\", \"rejected\" or \"error\"");
        return;
    }
    cf__buf_puts(expected, outcome);
    if (to)
        cf__buf_printf(expected, " -> %s", to);
    if (reason)
        cf__buf_printf(expected, " (reason contains \"%s\")", reason);
    json_t *data = json_object_get(c, "data"), *evdata = json_object_get(c, "event_data");
    json_t *none = data ? NULL : json_object(); /* a case without data: {} */
    char *data_text = data || none ? cf__json_canonical(data ? data : none) : NULL;
    json_decref(none);
    char *ev_text = evdata ? cf__json_canonical(evdata) : NULL;
    char id[37];
    const char *actor = str_field(c, "actor");
    /* the state by its full path, a parent's by the leaf it starts in (nested states) */
    int si = cf__workflow_state(wf, str_field(c, "state"));
    const char *state = si >= 0 ? wf->states[wf->states[si].leaf].name : str_field(c, "state");
    int rc = data_text ? place_instance(r, wf, str_field(c, "county"), state, data_text, id)
                       : CF_ENOMEM;
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    if (rc == CF_OK)
        rc = cf_instance_fire(r->scratch, id, str_field(c, "event"), ev_text, actor ? actor : "test", NULL, &res);
    const char *msg = cf_errmsg(r->scratch);
    char *reasons = NULL;
    if (rc == CF_OK) {
        cf__buf_printf(got, "applied -> %s", res.to_state);
    } else if (rc == CF_REJECTED) {
        json_t *arr = json_loads(res.reasons, 0, NULL);
        cf__buf b = {0};
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) cf__buf_printf(&b, "%s%s", i ? "; " : "", json_string_value(v));
        json_decref(arr);
        reasons = b.data;
        cf__buf_printf(got, "rejected: %s", reasons ? reasons : "");
    } else {
        cf__buf_printf(got, "error: %s", msg && *msg ? msg : cf_strerror(rc));
    }
    bool ok = strcmp(outcome, "applied") == 0 ? rc == CF_OK
              : strcmp(outcome, "rejected") == 0 ? rc == CF_REJECTED
                                                 : rc != CF_OK && rc != CF_REJECTED;
    if (ok && to)
        ok = (rc == CF_OK || rc == CF_REJECTED) && strcmp(res.to_state, to) == 0;
    if (ok && reason)
        ok = rc == CF_REJECTED ? reasons && strstr(reasons, reason) : rc != CF_OK && strstr(msg, reason);
    json_t *want = json_object_get(expect, "data");
    if (json_is_object(want) && (rc == CF_OK || rc == CF_REJECTED)) {
        /* expect.data: these keys of the instance data afterwards, compared as JSON */
        cf_instance_info info = CF_INSTANCE_INFO_INIT;
        json_t *have = cf_instance_get(r->scratch, id, &info) == CF_OK ? json_loads(info.data, 0, NULL) : NULL;
        json_t *seen = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(want, key, v)
        {
            json_t *h = json_object_get(have, key);
            json_object_set(seen, key, h ? h : json_null());
            ok = ok && h && json_equal(h, v);
        }
        char *wtext = cf__json_canonical(want);
        char *htext = seen ? cf__json_canonical(seen) : NULL;
        cf__buf_printf(expected, ", data %s", wtext ? wtext : "?");
        cf__buf_printf(got, ", data %s", htext ? htext : "?");
        free(wtext);
        free(htext);
        json_decref(seen);
        json_decref(have);
    } else if (want && !json_is_object(want)) {
        ok = false;
        cf__buf_puts(got, " (case error: expect.data must be a table of names)");
    }
    *passed = ok;
    (void)name;
    free(reasons);
    free(data_text);
    free(ev_text);
}

static void run_timer_case(case_run *r, json_t *c, const cf__workflow *wf, int s, cf__buf *expected, cf__buf *got,
                           bool *passed)
{
    const char *timer = str_field(c, "timer"), *due = str_field(json_object_get(c, "expect"), "due");
    if (!due) {
        cf__buf_puts(got, "case error: a timer case needs expect.due (\"YYYY-MM-DD\", a date-time, or \"none\")");
        return;
    }
    cf__buf_printf(expected, "%s due %s", timer, due);
    const cf__state *st = &wf->states[s];
    const cf__timer_def *td = cf__workflow_timer(wf, s, timer, NULL); /* its own, or a parent's */
    if (!td) {
        cf__buf_printf(got, "case error: state '%s' of workflow '%s' has no timer '%s' (timers:", st->name,
                       wf->name, timer);
        for (int i = 0; i < st->ntimers; i++)
            cf__buf_printf(got, " %s", st->timers[i].name);
        cf__buf_puts(got, st->ntimers ? ")" : " none)");
        return;
    }
    cf_engine *x = r->scratch;
    json_t *data = json_object_get(c, "data");
    json_t *empty = data ? NULL : json_object();
    cf__decision_call call = {str_field(c, "county"), "00000000-0000-4000-8000-000000000000", wf->name, st->name,
                     data ? data : empty, NULL, NULL, NULL, r->now, 1};
    bool has = false;
    cf_time at = 0;
    int rc = cf__change_deadline(x->policy, td->after.name, &call, &has, &at, &x->err);
    json_decref(empty);
    if (rc != CF_OK) {
        cf__buf_printf(got, "error: %s", x->err.msg);
        return;
    }
    if (!has) {
        cf__buf_printf(got, "%s due none", timer);
        *passed = strcmp(due, "none") == 0;
        return;
    }
    cf__date d = cf__tz_local_date(&x->tz, at);
    char text[32];
    if (cf__tz_midnight(&x->tz, d) == at)
        cf__date_format(d, text);
    else
        cf__change_time_text(at, text);
    cf__buf_printf(got, "%s due %s", timer, text);
    cf_time want;
    *passed = strcmp(due, "none") != 0 && cf__tz_parse_instant(&x->tz, due, &want) == CF_OK && want == at;
}

static void run_case(case_run *r, json_t *c, size_t index)
{
    char fallback[32];
    snprintf(fallback, sizeof fallback, "case %zu", index + 1);
    const char *name = json_is_object(c) && str_field(c, "name") ? str_field(c, "name") : fallback;
    if (r->only && strcmp(name, r->only) != 0)
        return;
    r->matched++;
    cf__buf expected = {0}, got = {0};
    bool passed = false;
    if (!json_is_object(c)) {
        cf__buf_puts(&got, "case error: a case is a table of names (name = ..., county = ..., ...)");
        goto done;
    }
    if (!check_keys(c, CASE_KEYS, sizeof CASE_KEYS / sizeof *CASE_KEYS, "case error", &got) ||
        (json_is_object(json_object_get(c, "expect")) &&
         !check_keys(json_object_get(c, "expect"), EXPECT_KEYS, sizeof EXPECT_KEYS / sizeof *EXPECT_KEYS,
                     "case error: expect", &got)))
        goto done;
    static const char *const required[] = {"name", "county", "workflow", "state", "today"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        if (!str_field(c, required[i])) {
            cf__buf_printf(&got, "case error: '%s' is missing or not text", required[i]);
            goto done;
        }
    }
    if (!json_is_object(json_object_get(c, "expect"))) {
        cf__buf_puts(&got, "case error: 'expect' is missing (expect = { outcome = ..., to = ... } or "
                           "{ due = ... })");
        goto done;
    }
    json_t *data = json_object_get(c, "data"), *evdata = json_object_get(c, "event_data");
    if ((data && !json_is_object(data)) || (evdata && !json_is_object(evdata))) {
        cf__buf_puts(&got, "case error: 'data' and 'event_data' must be tables of names");
        goto done;
    }
    const char *event = str_field(c, "event"), *timer = str_field(c, "timer");
    if (!event == !timer) {
        cf__buf_puts(&got, "case error: give either event = \"...\" or timer = \"...\"");
        goto done;
    }
    cf_engine *x = r->scratch;
    if (cf__tz_parse_instant(&x->tz, str_field(c, "today"), &r->now) != CF_OK) {
        cf__buf_printf(&got, "case error: today = \"%s\" is not a date \"YYYY-MM-DD\" or a date-time",
                       str_field(c, "today"));
        goto done;
    }
    if (!cf__valid_county(str_field(c, "county"))) {
        cf__buf_printf(&got, "case error: county '%s' is not a county name (e.g. san_diego)", str_field(c, "county"));
        goto done;
    }
    const cf__workflow *wf = cf__engine_workflow(x, str_field(c, "workflow"));
    if (!wf) {
        cf__engine_unknown_workflow(x, str_field(c, "workflow"));
        cf__buf_printf(&got, "case error: %s", x->err.msg);
        goto done;
    }
    int s = cf__workflow_state(wf, str_field(c, "state"));
    if (s < 0) {
        const char *names[256];
        int n = wf->nstates < 256 ? wf->nstates : 256;
        for (int i = 0; i < n; i++)
            names[i] = wf->states[i].name;
        const char *hint = cf__closest(str_field(c, "state"), names, (size_t)n);
        cf__buf_printf(&got, "case error: workflow '%s' has no state '%s'%s%s%s", wf->name, str_field(c, "state"),
                       hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        goto done;
    }
    s = wf->states[s].leaf; /* a parent state (nested states): the child it starts in */
    if (event)
        run_event_case(r, c, wf, name, &expected, &got, &passed);
    else
        run_timer_case(r, c, wf, s, &expected, &got, &passed);
done:
    case_report(r, name, passed && !got.oom && !expected.oom, expected.data, got.oom ? "out of memory" : got.data);
    cf__buf_free(&expected);
    cf__buf_free(&got);
}

/* Open the scratch engine for one file: the caller's folders and limits, its own clock. */
static int open_scratch(case_run *r, const char *county, const char *overlay_path)
{
    cf_engine *e = r->e;
    cf_options o = e->opts;
    o.clock = case_clock;
    o.clock_ud = &r->now;
    r->now = cf_engine_now(e);
    int rc = cf_engine_open(":memory:", &o, &r->scratch);
    if (rc != CF_OK) {
        cf__fail(&e->err, rc, "opening a scratch engine for %s: %s", r->file, cf_errmsg(r->scratch));
        return rc;
    }
    if (!county)
        return CF_OK;
    cf__policy *cand = NULL;
    rc = cf__change_open_candidate(r->scratch, county, overlay_path, overlay_path, &cand);
    if (rc != CF_OK) {
        cf__fail(&e->err, rc, "%s", cf_errmsg(r->scratch));
        return rc;
    }
    cf__policy_close(r->scratch->policy);
    r->scratch->policy = cand;
    return CF_OK;
}

/* One coverage entry: "kind\nname" -> {"kind", "name", "file", "calls"}, calls added up. */
static void coverage_count(json_t *coverage, const char *kind, const char *name, const char *file, uint64_t calls)
{
    char key[600];
    snprintf(key, sizeof key, "%s\n%s", kind, name);
    json_t *o = json_object_get(coverage, key);
    if (!o) {
        o = json_pack("{s:s,s:s,s:s,s:I}", "kind", kind, "name", name, "file", file ? file : "", "calls",
                      (json_int_t)0);
        if (!o || json_object_set_new(coverage, key, o) != 0)
            return;
    }
    json_object_set_new(o, "calls", json_integer(json_integer_value(json_object_get(o, "calls")) + (json_int_t)calls));
}

static int param_read(void *ud, const char *name, uint64_t reads)
{
    /* parameters live in the state's params (policy_load.c, load_state) */
    coverage_count(ud, "parameter", name, "policy/state.lua", reads);
    return 0;
}

/* Add what the scratch policy's guards and deadlines were called, and which of its
 * parameters the calls read, to r->coverage. */
static void coverage_add(case_run *r)
{
    if (!r->coverage || !r->scratch || !r->scratch->policy)
        return;
    static const struct {
        cf__role role;
        const char *kind;
    } ROLES[] = {{CF__ROLE_GUARD, "guard"}, {CF__ROLE_DEADLINE, "deadline"}};
    for (size_t k = 0; k < sizeof ROLES / sizeof *ROLES; k++) {
        const cf__policy *p = r->scratch->policy;
        size_t n = cf__policy_function_count(p, ROLES[k].role);
        for (size_t i = 0; i < n; i++) {
            const char *origin = NULL;
            uint64_t calls = 0;
            const char *name = cf__policy_function(p, ROLES[k].role, i, &origin, &calls);
            coverage_count(r->coverage, ROLES[k].kind, name, origin, calls);
        }
    }
    cf__policy_param_reads(r->scratch->policy, param_read, r->coverage);
}

static int run_tests(cf_engine *e, const cf_policy_test_options *opts, cf_policy_case_fn fn, void *ud, int *failed);

int cf_policy_test(cf_engine *e, const char *cases_dir, const char *county, const char *overlay_path,
                   cf_policy_case_fn fn, void *ud, int *failed)
{
    cf_policy_test_options o = CF_POLICY_TEST_OPTIONS_INIT;
    o.cases = cases_dir;
    o.county = county;
    o.overlay_path = overlay_path;
    return run_tests(e, &o, fn, ud, failed);
}

int cf_policy_test_run(cf_engine *e, const cf_policy_test_options *opts, cf_policy_case_fn fn, void *ud, int *failed)
{
    if (failed)
        *failed = 0;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!opts || opts->size < sizeof *opts)
        return cf__fail(&e->err, CF_EINVAL,
                        "cf_policy_test_run: options.size is not set (start from CF_POLICY_TEST_OPTIONS_INIT)");
    return run_tests(e, opts, fn, ud, failed);
}

static int run_tests(cf_engine *e, const cf_policy_test_options *opts, cf_policy_case_fn fn, void *ud, int *failed)
{
    const char *cases_dir = opts->cases, *county = opts->county, *overlay_path = opts->overlay_path;
    if (failed)
        *failed = 0;
    int rc = cf__engine_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!cases_dir)
        return cf__fail(&e->err, CF_EINVAL, "cf_policy_test: a folder of test cases is required");
    if (!county != !overlay_path)
        return cf__fail(&e->err, CF_EINVAL, "cf_policy_test: give both a county and an overlay file, or neither");
    if (county && (rc = cf__change_check_args(e, county, overlay_path, "cf_policy_test")) != CF_OK)
        return rc;
    char **files = NULL;
    size_t nfiles = 0;
    struct stat st;
    if (stat(cases_dir, &st) == 0 && S_ISREG(st.st_mode)) {
        /* one case file instead of a folder of them */
        files = malloc(sizeof *files);
        if (!files || !(files[0] = cf__strdup(cases_dir))) {
            free(files);
            return cf__fail(&e->err, CF_ENOMEM, "out of memory listing the test cases");
        }
        nfiles = 1;
    } else if ((rc = cf__list_dir(cases_dir, ".lua", &files, &nfiles, &e->err)) != CF_OK) {
        return rc;
    }
    if (nfiles == 0) {
        cf__free_list(files, nfiles);
        return cf__fail(&e->err, CF_ENOTFOUND, "no test cases in %s: write them as *.lua files there", cases_dir);
    }
    case_run r;
    memset(&r, 0, sizeof r);
    r.e = e;
    r.fn = fn;
    r.ud = ud;
    r.only = opts->case_name;
    if (opts->uncovered && !(r.coverage = json_object())) {
        cf__free_list(files, nfiles);
        return cf__fail(&e->err, CF_ENOMEM, "out of memory for the coverage of the test cases");
    }
    for (size_t i = 0; i < nfiles && rc == CF_OK && !r.stop; i++) {
        r.file = files[i];
        json_t *cases = NULL;
        cf__err err;
        if (cf__change_load_data_file(files[i], &cases, &err) != CF_OK) {
            case_report(&r, "(the file)", false, "a list of cases", err.msg);
            continue;
        }
        if (json_is_object(cases) && json_object_get(cases, "name")) {
            json_t *one = json_array(); /* a file may hold a single case */
            json_array_append_new(one, cases);
            cases = one;
        }
        if (!json_is_array(cases)) {
            case_report(&r, "(the file)", false, "a list of cases", "the file does not return a list of cases");
            json_decref(cases);
            continue;
        }
        rc = open_scratch(&r, county, overlay_path);
        if (rc == CF_OK && r.coverage && r.scratch->policy &&
            (cf__policy_count_calls(r.scratch->policy) != CF_OK ||
             cf__policy_count_param_reads(r.scratch->policy) != CF_OK))
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory for the coverage of the test cases");
        for (size_t k = 0; rc == CF_OK && k < json_array_size(cases) && !r.stop; k++)
            run_case(&r, json_array_get(cases, k), k);
        if (rc == CF_OK)
            coverage_add(&r);
        cf_engine_close(r.scratch);
        r.scratch = NULL;
        json_decref(cases);
    }
    cf__free_list(files, nfiles);
    if (failed)
        *failed = r.failed;
    if (rc == CF_OK && r.only && r.matched == 0)
        rc = cf__fail(&e->err, CF_ENOTFOUND, "no test case named '%s' in %s (the names are the cases' name = ...)",
                      r.only, cases_dir);
    if (rc == CF_OK && r.coverage && !r.stop) {
        /* in name order: the keys sorted */
        size_t n = json_object_size(r.coverage), k = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *key;
        json_t *v;
        if (!keys)
            rc = cf__fail(&e->err, CF_ENOMEM, "out of memory for the coverage of the test cases");
        json_object_foreach(r.coverage, key, v)
        {
            if (keys)
                keys[k++] = key;
        }
        if (keys)
            qsort(keys, n, sizeof *keys, cmp_keys);
        for (size_t i = 0; keys && i < n; i++) {
            json_t *o = json_object_get(r.coverage, keys[i]);
            if (json_integer_value(json_object_get(o, "calls")) > 0)
                continue;
            cf_policy_uncovered u = {sizeof u, json_string_value(json_object_get(o, "kind")),
                                     json_string_value(json_object_get(o, "name")),
                                     json_string_value(json_object_get(o, "file"))};
            if (opts->uncovered(opts->uncovered_ud, &u) != 0)
                break;
        }
        free(keys);
    }
    json_decref(r.coverage);
    return rc;
}
