/*
 * test_plugin_registry_export.c — the registry_export plugin through whole
 * certification lifecycles: registry.csv and registry.json rewritten on every
 * status change (certified, suspended, restored, specialization added, expired)
 * and on demand, showing REG_2's public fields only, never a private one.
 */
#define _XOPEN_SOURCE 700 /* realpath, symlink, lstat */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plugin_helpers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Private values on every certification: none may reach the files (REG_2). */
#define PRIVATE                                                                                                  \
    "{\"birth_date\": \"1979-11-23\", \"email\": \"hidden.mail@example.org\", \"phone\": \"619-555-0199\", "     \
    "\"address\": \"77 Secret Road\", \"lived_experience\": [\"family_member\", \"consumer\"], "                  \
    "\"ethics_signed_on\": \"2024-01-05\"}"

typedef struct world {
    char *dir; /* the configured export folder */
    sc *s;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->dir = cft_tmpdir();
    w->s = sc_open_config(noon("2024-03-02"), NULL, jf("{\"registry_export\": {\"dir\": \"%s\"}}", w->dir));
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sc_close(w->s);
    cft_rmtree(w->dir); /* frees the path */
    free(w);
    return 0;
}

static char *file(world *w, const char *name)
{
    char *p = cft_path(w->dir, name);
    char *text = slurp(p);
    free(p);
    return text;
}

static void no_private_fields(const char *text)
{
    static const char *const privates[] = {"1979-11-23", "hidden.mail", "555-0199", "Secret Road", "family_member",
                                           "consumer", "birth", "email", "phone", "address", "lived", "fees",
                                           "pathway", "exam", "training", "ethics"};
    for (size_t i = 0; i < sizeof privates / sizeof privates[0]; i++)
        if (strstr(text, privates[i]))
            fail_msg("the exported registry shows private '%s':\n%s", privates[i], text);
}

/* Both files, checked for private fields; the CSV returned (malloc'd). */
static char *files_checked(world *w)
{
    char *csv = file(w, "registry.csv"), *js = file(w, "registry.json");
    assert_non_null(csv);
    assert_non_null(js);
    no_private_fields(csv);
    no_private_fields(js);
    json_t *rows = json_loads(js, 0, NULL);
    assert_true(json_is_array(rows));
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *key;
        json_t *v;
        json_object_foreach(r, key, v)
        {
            static const char *const public_fields[] = {"certification_number", "name", "status", "issued_on",
                                                        "expires_on", "specializations", "county"};
            int ok = 0;
            for (size_t k = 0; k < 7; k++)
                ok |= strcmp(key, public_fields[k]) == 0;
            if (!ok)
                fail_msg("registry.json has the field '%s'", key);
        }
    }
    json_decref(rows);
    free(js);
    return csv;
}

static void test_REG_2_files_follow_every_status_change_public_fields_only(void **state)
{
    world *w = *state;
    sc *s = w->s;
    const char *id = approved_app(s, PRIVATE);
    assert_null(file(w, "registry.csv")); /* nobody certified yet: nothing public */
    trained(s, id);
    schedule(s, id, "2024-04-02T17:00:00Z", "in_person");
    on_day(s, "2024-04-04");
    assert_int_equal(result(s, id, "pass", 88, "2024-04-02"), CF_OK);
    const char *number = dget(s, id, "certification_number");
    char num[64];
    snprintf(num, sizeof num, "%s", number);

    char *csv = files_checked(w);
    assert_string_equal(csv, jf("certification_number,name,status,issued_on,expires_on,specializations,county\r\n"
                                "%s,Ana Ruiz,active,2024-04-04,2026-04-04,,san_diego\r\n",
                                num));
    free(csv);
    /* a specialization (no status change, but a public field) */
    on_day(s, "2024-06-01");
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"crisis\", \"provider\": \"Crisis Academy\", \"hours\": 40, \"completed_on\": \"2024-05-20\"}",
              CF_OK);
    sc_expect(s, id, "add_specialization",
              "{\"kind\": \"unhoused\", \"provider\": \"Street Team\", \"hours\": 40, \"completed_on\": \"2024-05-21\"}",
              CF_OK);
    csv = files_checked(w);
    assert_non_null(strstr(csv, jf("%s,Ana Ruiz,active,2024-04-04,2026-04-04,crisis;unhoused,san_diego", num)));
    free(csv);
    /* suspended, then restored (DIS_2, DIS_3) */
    sc_expect(s, id, "suspend", NULL, CF_OK);
    csv = files_checked(w);
    assert_non_null(strstr(csv, jf("%s,Ana Ruiz,suspended,", num)));
    free(csv);
    sc_expect(s, id, "restore", NULL, CF_OK);
    csv = files_checked(w);
    assert_non_null(strstr(csv, jf("%s,Ana Ruiz,active,", num)));
    free(csv);
    /* a second person, sorted by number */
    const char *other = certified_on(s, "2024-06-03", "2024-07-01T17:00:00Z", "2024-07-03");
    char num2[64];
    snprintf(num2, sizeof num2, "%s", dget(s, other, "certification_number"));
    csv = files_checked(w);
    const char *p1 = strstr(csv, num), *p2 = strstr(csv, num2);
    assert_non_null(p1);
    assert_non_null(p2);
    assert_true(strcmp(num, num2) < 0 ? p1 < p2 : p2 < p1);
    free(csv);
    /* not renewed: lapsed the day after the expiry (REN_6) */
    tick_day(s, "2026-04-05");
    assert_string_equal(sc_state(s, id), "expired");
    csv = files_checked(w);
    assert_non_null(strstr(csv, jf("%s,Ana Ruiz,lapsed,2024-04-04,2026-04-04,crisis;unhoused,san_diego", num)));
    free(csv);
    char *js = file(w, "registry.json");
    json_t *rows = json_loads(js, 0, NULL);
    free(js);
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);
}

/* The configured folder, as the plugin names it in its messages (resolved). */
static char *configured(world *w)
{
    char *real = realpath(w->dir, NULL);
    assert_non_null(real);
    return real;
}

/* The command with the same plugin configuration as the scenario's engine. */
static cft_run cli_configured(world *w, const char *now, const char *a1, const char *a2, const char *a3,
                              const char *a4, const char *a5, const char *a6)
{
    return run_cli(w->s, now, "--plugin-config", jf("{\"registry_export\": {\"dir\": \"%s\"}}", w->dir), a1, a2,
                   a3, a4, a5, a6, NULL);
}

/* On demand: the query (and `certflow plugin query`) writes the files into the
 * configured folder, or a subfolder of it that the query names. */
static void test_REG_2_export_on_demand(void **state)
{
    world *w = *state;
    sc *s = w->s;
    certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    char *sub = cft_path(w->dir, "weekly");
    assert_int_equal(mkdir(sub, 0700), 0);
    json_t *res = sc_query(s, "registry_export.export", "{\"dir\": \"weekly\"}");
    assert_int_equal(json_integer_value(json_object_get(res, "rows")), 1);
    json_decref(res);
    char *path = cft_path(sub, "registry.csv");
    char *a = slurp(path), *b = file(w, "registry.csv");
    assert_non_null(a);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(path);
    /* no "dir": the configured folder itself */
    res = sc_query(s, "registry_export.export", NULL);
    char *root = configured(w);
    assert_string_equal(json_string_value(json_object_get(res, "csv")), jf("%s/registry.csv", root));
    json_decref(res);
    /* the command, configured by --plugin-config */
    path = cft_path(sub, "registry.json");
    remove(path);
    cft_run r = cli_configured(w, noon("2024-04-05"), "plugin", "query", "registry_export.export", "--data",
                               "{\"dir\": \"weekly\"}", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\"rows\": 1"));
    cft_run_free(&r);
    a = slurp(path);
    assert_non_null(a);
    no_private_fields(a);
    free(a);
    free(path);
    free(sub);
    free(root);
    json_t *rows = sc_query(s, "registry_export.rows", NULL);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "status")), "active");
    json_decref(rows);
}

/* A fire's result code, whatever it is (cf_errmsg says why). */
static int sc_fire_rc(sc *s, const char *id, const char *event, const char *data)
{
    cf_fire_result r = CF_FIRE_RESULT_INIT;
    return cf_instance_fire(s->e, id, event, data, "forger", NULL, &r);
}

/* The message of a query that must fail (malloc'd). */
static char *query_refused(sc *s, const char *name, const char *args)
{
    char *answer = NULL;
    int rc = cf_plugin_query(s->e, name, args, &answer);
    if (rc == CF_OK)
        fail_msg("query %s %s succeeded: %s", name, args, answer);
    cf_free(answer);
    return strdup(cf_errmsg(s->e));
}

static int exists(const char *dir, const char *name)
{
    char *p = cft_path(dir, name);
    struct stat st;
    int yes = lstat(p, &st) == 0;
    free(p);
    return yes;
}

/* ISSUE8: `plugin query registry_export.export --data '{"dir":""}'` wrote /registry.csv.
 * A query's "dir" can only name a subfolder of the configured folder. */
static void test_REG_2_export_stays_in_the_configured_folder(void **state)
{
    world *w = *state;
    sc *s = w->s;
    certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    char *outside = cft_tmpdir(), *root = configured(w);
    int root_had = exists("/", "registry.csv");
    /* a folder outside, reached by a symbolic link inside the configured one */
    char *link = cft_path(w->dir, "out");
    assert_int_equal(symlink(outside, link), 0);
    const char *escapes[] = {"{\"dir\": \"\"}",
                             "{\"dir\": \"/\"}",
                             "{\"dir\": \"..\"}",
                             "{\"dir\": \"../\"}",
                             "{\"dir\": \"a/../../x\"}",
                             jf("{\"dir\": \"%s\"}", outside),
                             "{\"dir\": \"out\"}",
                             "{\"dir\": \"out/\"}",
                             "{\"dir\": \"missing\"}",
                             "{\"dir\": \"registry.csv\"}",
                             "{\"dir\": 7}"};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        char *msg = query_refused(s, "registry_export.export", escapes[i]);
        if (!strstr(msg, root))
            fail_msg("%s: the refusal does not name the configured folder %s: %s", escapes[i], root, msg);
        free(msg);
    }
    char *msg = query_refused(s, "registry_export.export", "{\"dir\": \"out\"}");
    assert_non_null(strstr(msg, jf("outside the configured folder %s", root)));
    free(msg);
    msg = query_refused(s, "registry_export.export", "{\"dir\": \"/\"}");
    assert_non_null(strstr(msg, "is an absolute path"));
    free(msg);
    assert_false(exists(outside, "registry.csv"));
    assert_false(exists(outside, "registry.json"));
    assert_int_equal(exists("/", "registry.csv"), root_had);
    /* the command: refused with the configured folder named, nothing written */
    cft_run r = cli_configured(w, noon("2024-04-05"), "plugin", "query", "registry_export.export", "--data",
                               "{\"dir\": \"\"}", NULL);
    assert_int_not_equal(r.code, 0);
    assert_non_null(strstr(r.err, root));
    cft_run_free(&r);
    r = cli_configured(w, noon("2024-04-05"), "plugin", "query", "registry_export.export", "--data",
                       jf("{\"dir\": \"%s\"}", outside), NULL);
    assert_int_not_equal(r.code, 0);
    cft_run_free(&r);
    /* no folder configured: nothing can be written at all */
    r = run_cli(s, noon("2024-04-05"), "plugin", "query", "registry_export.export", "--data",
                jf("{\"dir\": \"%s\"}", outside), NULL);
    assert_int_not_equal(r.code, 0);
    assert_non_null(strstr(r.err, "no export folder is configured"));
    cft_run_free(&r);
    /* a symbolic link planted at the temporary file's name is not followed */
    char *tmp = cft_path(w->dir, "registry.csv.tmp"), *target = cft_path(outside, "planted");
    assert_int_equal(symlink(target, tmp), 0);
    char *answer = NULL;
    assert_int_not_equal(cf_plugin_query(s->e, "registry_export.export", NULL, &answer), CF_OK);
    cf_free(answer);
    assert_false(exists(outside, "planted"));
    remove(tmp);
    free(tmp);
    free(target);
    assert_false(exists(outside, "registry.csv"));
    unlink(link);
    free(link);
    free(root);
    cft_rmtree(outside);
}

static int first_id(void *ud, const cf_instance_info *info)
{
    json_t **found = ud;
    if (!*found)
        *found = json_string(info->id);
    return 0;
}

/* The rows the command prints for `registry ARGS --format FORMAT` (stdout, malloc'd). */
static char *cli_registry(world *w, const char *verb, const char *format)
{
    cft_run r = cli_configured(w, noon("2024-06-10"), "registry", verb, "--format", format, NULL, NULL);
    if (r.code != 0)
        fail_msg("registry %s --format %s: %d %s", verb, format, r.code, r.err);
    char *out = r.out;
    r.out = NULL;
    cft_run_free(&r);
    return out;
}

/* ISSUE8: `new certification --data '{"certification_number": ..., "registry_status": "active"}'`
 * put a never-certified draft in the plugin's files as active. Owned fields cannot be given,
 * and the plugin's files, `registry export` and `registry search` list the same rows. */
static void test_REG_2_registry_cannot_be_forged_and_outputs_agree(void **state)
{
    world *w = *state;
    sc *s = w->s;
    const char *held = certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    char active_id[37];
    snprintf(active_id, sizeof active_id, "%s", held);
    char number[64];
    snprintf(number, sizeof number, "%s", dget(s, active_id, "certification_number"));
    const char *susp = certified_on(s, "2024-04-05", "2024-05-02T17:00:00Z", "2024-05-04");
    sc_expect(s, susp, "suspend", NULL, CF_OK);
    char susp_number[64];
    snprintf(susp_number, sizeof susp_number, "%s", dget(s, susp, "certification_number"));
    on_day(s, "2024-06-10");
    const char *draft = new_applicant(s, "{\"name\": \"Draft Person\"}");
    char *csv_before = file(w, "registry.csv");

    /* create: every owned field refused, nothing written */
    static const char *const forged[] = {
        "{\"name\": \"Nick\", \"certification_number\": \"CMPSS-000777\", \"registry_status\": \"active\", "
        "\"issued_on\": \"2024-01-01\", \"expires_on\": \"2026-01-01\"}",
        "{\"name\": \"Nick\", \"registry_status\": \"active\"}",
        "{\"name\": \"Nick\", \"expires_on\": \"2099-01-01\"}",
        "{\"name\": \"Nick\", \"specializations\": [\"crisis\"]}",
        "{\"name\": \"Nick\", \"exam_attempts\": -10}",
    };
    int instances = 0;
    cft_run r = cli_configured(w, noon("2024-06-10"), "list", "--workflow", "certification", NULL, NULL, NULL);
    for (const char *p = r.out; (p = strchr(p, '\n')); p++)
        instances++;
    cft_run_free(&r);
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        char id[37];
        assert_int_equal(cf_instance_create(s->e, "certification", "alameda", forged[i], "forger", id), CF_EINVAL);
        assert_non_null(strstr(cf_errmsg(s->e), "a field workflow 'certification' sets itself (set by the program "));
        assert_non_null(strstr(cf_errmsg(s->e), "it cannot be given"));
    }
    assert_non_null(strstr(cf_errmsg(s->e), "instance data holds 'exam_attempts'"));
    /* the same through the command, as the issue ran it */
    r = cli_configured(w, noon("2024-06-10"), "new", "certification", "--county", "alameda", "--data", forged[0]);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "instance data holds 'certification_number', a field workflow 'certification' "
                                  "sets itself (set by the program when the certification is issued"));
    cft_run_free(&r);
    int after = 0;
    r = cli_configured(w, noon("2024-06-10"), "list", "--workflow", "certification", NULL, NULL, NULL);
    for (const char *p = r.out; (p = strchr(p, '\n')); p++)
        after++;
    cft_run_free(&r);
    assert_int_equal(after, instances);

    /* fire: refused too, on a draft and on a certified instance, nothing recorded */
    int versions = cft_history_count(s->e, draft), held_versions = cft_history_count(s->e, active_id);
    assert_int_equal(sc_fire_rc(s, draft, "update", "{\"certification_number\": \"" "CMPSS-000777\"}"), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(s->e), "event data holds 'certification_number'"));
    assert_int_equal(sc_fire_rc(s, active_id, "add_specialization",
                                "{\"kind\": \"crisis\", \"provider\": \"Crisis Academy\", \"hours\": 40, "
                                "\"completed_on\": \"2024-05-20\", \"registry_status\": \"revoked\"}"),
                     CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(s->e), "event data holds 'registry_status'"));
    assert_int_equal(sc_fire_rc(s, susp, "restore", "{\"expires_on\": \"2099-01-01\"}"), CF_EINVAL);
    assert_int_equal(cft_history_count(s->e, draft), versions);
    assert_int_equal(cft_history_count(s->e, active_id), held_versions);
    assert_string_equal(sc_state(s, susp), "certified.suspended");
    char *csv_after = file(w, "registry.csv");
    assert_string_equal(csv_after, csv_before);
    free(csv_after);
    free(csv_before);

    /* every output lists the same two rows with the same status */
    char *csv = files_checked(w);
    assert_string_equal(csv, jf("certification_number,name,status,issued_on,expires_on,specializations,county\r\n"
                                "%s,Ana Ruiz,active,2024-04-04,2026-04-04,,san_diego\r\n"
                                "%s,Ana Ruiz,suspended,2024-05-04,2026-05-04,,san_diego\r\n",
                                number, susp_number));
    char *exported = cli_registry(w, "export", "csv"), *searched = cli_registry(w, "search", "csv");
    assert_string_equal(exported, csv);
    assert_string_equal(searched, csv);
    free(exported);
    free(searched);
    char *js_text = file(w, "registry.json"), *cli_js = cli_registry(w, "export", "json");
    json_t *plugin_rows = json_loads(js_text, 0, NULL), *cli_rows = json_loads(cli_js, 0, NULL);
    json_t *queried = sc_query(s, "registry_export.rows", NULL);
    assert_true(json_equal(plugin_rows, cli_rows));
    assert_true(json_equal(plugin_rows, queried));
    json_decref(plugin_rows);
    json_decref(cli_rows);
    json_decref(queried);
    free(js_text);
    free(cli_js);
    char *text = cli_registry(w, "search", "text");
    assert_null(strstr(text, "Draft Person"));
    assert_null(strstr(text, "Nick"));
    assert_non_null(strstr(text, number));
    assert_non_null(strstr(text, susp_number));
    free(text);
    free(csv);
}

/* A database forged before owned fields existed: a draft whose data holds a
 * number and an active status (made by the program of that time, which took
 * them). Every registry output derives the status from the state: no row. */
static void test_REG_1_forged_draft_of_an_older_program_is_not_listed(void **state)
{
    world *w = *state;
    sc *s = w->s;
    const char *held = certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    char number[64];
    snprintf(number, sizeof number, "%s", dget(s, held, "certification_number"));
    /* the shipped workflows without their `owned` declaration */
    static const char *const names[] = {"certification.lua", "complaint.lua", "employment.lua", "scholarship.lua",
                                        "supervision.lua"};
    char *older = cft_tmpdir();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *src = cft_path(CF_SOURCE_DIR "/workflows", names[i]);
        char *text = slurp(src);
        assert_non_null(text);
        char *cut = strstr(text, "  owned = {");
        if (cut) {
            char *end = strstr(cut, "\n  },\n");
            assert_non_null(end);
            memmove(cut, end + strlen("\n  },\n"), strlen(end + strlen("\n  },\n")) + 1);
        }
        free(cft_write(older, names[i], text));
        free(text);
        free(src);
    }
    char *db = cft_path(s->dir, "scenario.db");
    const char *forged = jf("{\"name\": \"Nick\", \"certification_number\": \"%s\", \"registry_status\": \"active\", "
                            "\"issued_on\": \"2024-01-01\", \"expires_on\": \"2099-01-01\"}",
                            number);
    const char *args[] = {"--workflows", older, "--policies", CF_SOURCE_DIR "/lua", "--plugins",
                          CF_BINARY_DIR "/plugins", "--plugin-config",
                          jf("{\"registry_export\": {\"dir\": \"%s\"}}", w->dir), "--now", noon("2024-06-10"), "--db",
                          db, "new", "certification", "--county", "alameda", "--data", forged, NULL};
    cft_run r = cft_certflow(s->dir, args);
    if (r.code != 0)
        fail_msg("the older program refused the draft: %s", r.err);
    cft_run_free(&r);
    /* one row, the real one, in every output; the draft's reused number shows once, as it really is */
    char *csv = files_checked(w);
    assert_string_equal(csv, jf("certification_number,name,status,issued_on,expires_on,specializations,county\r\n"
                                "%s,Ana Ruiz,active,2024-04-04,2026-04-04,,san_diego\r\n",
                                number));
    char *exported = cli_registry(w, "export", "csv");
    assert_string_equal(exported, csv);
    free(exported);
    json_t *rows = sc_query(s, "registry_export.rows", NULL);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    /* the draft moves on under the program of today: still not in the registry */
    json_t *found = NULL;
    cf_instance_filter flt = CF_INSTANCE_FILTER_INIT;
    flt.county = "alameda";
    assert_int_equal(cf_instance_list(s->e, &flt, first_id, &found), CF_OK);
    assert_non_null(found);
    sc_expect(s, json_string_value(found), "update", "{\"phone\": \"555\"}", CF_OK);
    json_decref(found);
    char *again = cli_registry(w, "search", "csv");
    assert_string_equal(again, csv);
    free(again);
    free(csv);
    free(db);
    cft_rmtree(older);
}

/* REG_2: explaining a certification (certflow explain) shows the registry row the
 * plugin would write, and writes no file: the preview is rolled back, and the plugin is
 * told (cf_host.previewing). Before, a preview would have left files showing a status
 * that never happened. */
static void test_REG_2_explain_writes_no_registry_file(void **state)
{
    world *w = *state;
    sc *s = w->s;
    const char *id = approved_app(s, PRIVATE);
    trained(s, id);
    schedule(s, id, "2024-04-02T17:00:00Z", "in_person");
    on_day(s, "2024-04-04");
    cf_explain_options o = CF_EXPLAIN_OPTIONS_INIT;
    o.data_json = "{\"result\": \"pass\", \"score\": 88, \"taken_on\": \"2024-04-02\"}";
    char *text = NULL;
    assert_int_equal(cf_instance_explain(s->e, id, "exam_result", &o, &text), CF_OK);
    assert_non_null(strstr(text, "\"outcome\":\"applied\""));
    assert_non_null(strstr(text, "\"table\":\"registry_export_rows\""));
    assert_non_null(strstr(text, "\"status\":\"active\""));
    cf_free(text);
    assert_null(file(w, "registry.csv"));
    assert_null(file(w, "registry.json"));
    assert_string_equal(sc_state(s, id), "approved");
    /* the fire writes them */
    assert_int_equal(result(s, id, "pass", 88, "2024-04-02"), CF_OK);
    char *csv = file(w, "registry.csv");
    assert_non_null(csv);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_REG_2_files_follow_every_status_change_public_fields_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_REG_2_export_on_demand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_2_explain_writes_no_registry_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_2_export_stays_in_the_configured_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_2_registry_cannot_be_forged_and_outputs_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_REG_1_forged_draft_of_an_older_program_is_not_listed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
