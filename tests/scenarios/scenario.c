/* scenario.c — helpers for scenario tests (see scenario.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scenario.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cf_time sc_clock(void *ud)
{
    return ((sc *)ud)->now;
}

sc *sc_open(const char *iso, const char *policy_dir)
{
    return sc_open_config(iso, policy_dir, NULL);
}

static void open_engine(sc *s, const char *workflow_dir, const char *policy_dir, const char *plugin_config)
{
    char *db = cft_path(s->dir, "scenario.db");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = workflow_dir ? workflow_dir : CF_SOURCE_DIR "/workflows";
    o.policy_dir = policy_dir ? policy_dir : CF_SOURCE_DIR "/lua";
    o.plugin_dir = CF_BINARY_DIR "/plugins"; /* the shipped plugins: the workflows need them */
    o.plugin_config = plugin_config;
    o.clock = sc_clock;
    o.clock_ud = s;
    int rc = cft_engine_open(db, &o, &s->e);
    free(db);
    if (rc != CF_OK)
        fail_msg("opening the shipped program: %s", cf_errmsg(s->e));
}

sc *sc_open_config(const char *iso, const char *policy_dir, const char *plugin_config)
{
    sc *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->dir = cft_tmpdir();
    s->now = cft_time(iso);
    open_engine(s, NULL, policy_dir, plugin_config);
    return s;
}

sc *sc_open_workflows(const char *iso, const char *workflow_dir)
{
    sc *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->dir = cft_tmpdir();
    s->now = cft_time(iso);
    open_engine(s, workflow_dir, NULL, NULL);
    return s;
}

void sc_reopen(sc *s, const char *workflow_dir)
{
    cf_engine_close(s->e);
    s->e = NULL;
    open_engine(s, workflow_dir, NULL, NULL);
}

void sc_close(sc *s)
{
    if (!s)
        return;
    cf_engine_close(s->e);
    cft_rmtree(s->dir);
    free(s);
}

void sc_at(sc *s, const char *iso)
{
    s->now = cft_time(iso);
}

uint64_t sc_tick(sc *s, const char *iso)
{
    s->now = cft_time(iso);
    uint64_t fired = 0;
    int rc = cf_engine_tick(s->e, s->now, &fired);
    if (rc != CF_OK)
        fail_msg("tick to %s: %s", iso, cf_errmsg(s->e));
    return fired;
}

const char *sc_new(sc *s, const char *workflow, const char *county, const char *data_json)
{
    static char ring[64][37];
    static int next;
    char *id = ring[next++ % 64];
    int rc = cf_instance_create(s->e, workflow, county, data_json, "scenario", id);
    if (rc != CF_OK)
        fail_msg("new %s: %s", workflow, cf_errmsg(s->e));
    return id;
}

int sc_fire(sc *s, const char *id, const char *event, const char *data_json)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(s->e, id, event, data_json, "scenario", NULL, &r);
    if (rc != CF_OK && rc != CF_REJECTED)
        fail_msg("fire %s: %s: %s", event, cf_result_name(rc), cf_errmsg(s->e));
    s->last = r;
    snprintf(s->reasons, sizeof s->reasons, "%s", r.reasons ? r.reasons : "[]");
    return rc;
}

void sc_expect(sc *s, const char *id, const char *event, const char *data_json, int expect)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    int rc = cf_instance_fire(s->e, id, event, data_json, "scenario", NULL, &r);
    snprintf(s->reasons, sizeof s->reasons, "%s", rc == CF_OK || rc == CF_REJECTED ? r.reasons : "[]");
    if (rc != expect)
        fail_msg("fire %s in state %s: got %s, expected %s: %s %s", event, sc_state(s, id), cf_result_name(rc),
                 cf_result_name(expect), cf_errmsg(s->e), s->reasons);
}

const char *sc_state(sc *s, const char *id)
{
    static char buf[128];
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (cf_instance_get(s->e, id, &info) != CF_OK)
        fail_msg("get %s: %s", id, cf_errmsg(s->e));
    snprintf(buf, sizeof buf, "%s", info.state);
    return buf;
}

json_t *sc_data(sc *s, const char *id)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (cf_instance_get(s->e, id, &info) != CF_OK)
        fail_msg("get %s: %s", id, cf_errmsg(s->e));
    json_t *v = json_loads(info.data, 0, NULL);
    assert_non_null(v);
    return v;
}

const char *sc_str(sc *s, const char *id, const char *field)
{
    static char buf[512];
    json_t *d = sc_data(s, id);
    const char *v = json_string_value(json_object_get(d, field));
    snprintf(buf, sizeof buf, "%s", v ? v : "");
    json_decref(d);
    return buf;
}

long long sc_int(sc *s, const char *id, const char *field)
{
    json_t *d = sc_data(s, id);
    long long v = (long long)json_integer_value(json_object_get(d, field));
    json_decref(d);
    return v;
}

int sc_reason_has(const sc *s, const char *text)
{
    return strstr(s->reasons, text) != NULL;
}

int sc_reason_is(const sc *s, const char *text)
{
    json_t *a = json_loads(s->reasons, 0, NULL);
    size_t i;
    json_t *v;
    int hit = 0;
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), text) == 0)
            hit = 1;
    }
    json_decref(a);
    return hit;
}

json_t *sc_query(sc *s, const char *name, const char *args_json)
{
    char *answer = NULL;
    int rc = cf_plugin_query(s->e, name, args_json, &answer);
    if (rc != CF_OK)
        fail_msg("query %s: %s: %s", name, cf_result_name(rc), cf_errmsg(s->e));
    json_t *v = json_loads(answer, JSON_DECODE_ANY, NULL);
    cf_free(answer);
    assert_non_null(v);
    return v;
}
