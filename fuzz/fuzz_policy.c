/*
 * fuzz_policy.c — fuzz target for the policy loader. The input is the state
 * policy (policy/state.lua), optionally followed by a line "--@county" and a
 * county overlay (counties/fuzz.lua). They are written to a folder made once per
 * process and reused, loaded with cf__policy_open, and when they load, every
 * guard, assign and deadline is called once for the overlay's county and once for
 * a county without one, and a few parameters are read: so the sandbox, the data
 * views and the conversion of what functions return run on hostile code too.
 * Limits are lowered so that a runaway call costs milliseconds.
 */
#include "cf_fuzz.h"

#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEPARATOR "\n--@county\n"

static char g_dir[256];
static char g_state[300], g_county[300];

static void make_dir(void)
{
    if (g_dir[0])
        return;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cf_fuzz_policy.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir))
        abort();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/policy", g_dir);
    if (mkdir(sub, 0700) != 0)
        abort();
    snprintf(sub, sizeof sub, "%s/counties", g_dir);
    if (mkdir(sub, 0700) != 0)
        abort();
    snprintf(g_state, sizeof g_state, "%s/policy/state.lua", g_dir);
    snprintf(g_county, sizeof g_county, "%s/counties/fuzz.lua", g_dir);
}

void cf_fuzz_policy_fini(void)
{
    if (!g_dir[0])
        return;
    unlink(g_state);
    unlink(g_county);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/policy", g_dir);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/counties", g_dir);
    rmdir(sub);
    rmdir(g_dir);
    g_dir[0] = '\0';
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

static const uint8_t *find(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

static void call_all(cf__policy *p, const char *county, json_t *data, json_t *ev)
{
    cf__decision_call call = {county, "00000000-0000-4000-8000-000000000000", "fuzz", "draft", data, "submit", ev,
                     "fuzzer", 1740816000 /* 2025-03-01T08:00:00Z */, 1};
    cf__err err;
    for (int role = 0; role < 3; role++) {
        /* Functions are numbered 0..n-1; the first index past them is refused. */
        for (int fn = 0;; fn++) {
            err.msg[0] = '\0';
            if (role == CF__ROLE_GUARD) {
                bool ok = false;
                char *reason = NULL;
                int rc = cf__policy_guard(p, fn, &call, &ok, &reason, &err);
                if (rc != CF_OK && !err.msg[0])
                    abort();
                free(reason);
                if (rc == CF_EINVAL)
                    break;
            } else if (role == CF__ROLE_ASSIGN) {
                json_t *patch = NULL;
                int rc = cf__policy_assign(p, fn, &call, &patch, &err);
                if (rc == CF_OK && patch && !json_is_object(patch))
                    abort();
                if (rc != CF_OK && !err.msg[0])
                    abort();
                json_decref(patch);
                if (rc == CF_EINVAL)
                    break;
            } else {
                cf__decision_call dl = call;
                dl.event = NULL;
                dl.event_data = NULL;
                bool has = false;
                cf_time due = 0;
                int rc = cf__policy_deadline(p, fn, &dl, &has, &due, &err);
                if (rc != CF_OK && !err.msg[0])
                    abort();
                if (rc == CF_EINVAL)
                    break;
            }
        }
    }
    static const char *const params[] = {"limit", "max_exam_attempts", "hire_grace_days", "escalation_days", "x"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        json_t *v = NULL;
        cf__policy_param(p, county, params[i], &v, &err);
        json_decref(v);
    }
    (void)cf__policy_hash(p, county);
}

int cf_fuzz_policy(const uint8_t *data, size_t size)
{
    make_dir();
    const uint8_t *sep = find(data, size, SEPARATOR);
    size_t state_len = sep ? (size_t)(sep - data) : size;
    write_file(g_state, data, state_len);
    if (sep) {
        const uint8_t *ov = sep + strlen(SEPARATOR);
        write_file(g_county, ov, size - (size_t)(ov - data));
    } else {
        unlink(g_county);
    }

    cf__tz tz;
    if (cf__tz_parse("PST8PDT,M3.2.0,M11.1.0", &tz, NULL) != CF_OK)
        abort();
    cf__policy_config cfg = {g_dir, 200000, (size_t)4 << 20, &tz, NULL, NULL, 0, 0};
    cf__policy *p = NULL;
    cf__err err;
    err.msg[0] = '\0';
    int rc = cf__policy_open(&cfg, &p, &err);
    if (rc != CF_OK) {
        if (p || !err.msg[0])
            abort();
        return 0;
    }
    /* an overlay was written: fuzz decides with a text other than the state policy's */
    if (sep && strcmp(cf__policy_hash(p, "fuzz"), cf__policy_hash(p, NULL)) == 0)
        abort();
    json_t *inst = json_pack("{s:s, s:s, s:i, s:[s,i], s:{s:b}}", "name", "Ada", "birth_date", "1990-02-28",
                             "exam_attempts", 1, "list", "a", 2, "nested", "ok", 1);
    json_t *ev = json_pack("{s:i, s:s, s:n}", "score", 75, "on", "2025-02-28", "nothing");
    if (!inst || !ev)
        abort();
    call_all(p, "fuzz", inst, ev);
    call_all(p, "other", inst, ev);
    json_decref(inst);
    json_decref(ev);
    cf__policy_close(p);
    return 0;
}
