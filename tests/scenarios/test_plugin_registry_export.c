/*
 * test_plugin_registry_export.c — the registry_export plugin through whole
 * certification lifecycles: registry.csv and registry.json rewritten on every
 * status change (certified, suspended, restored, specialization added, expired)
 * and on demand, showing REG_2's public fields only, never a private one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plugin_helpers.h"

#include <string.h>

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

/* On demand: the query (and `certflow plugin query`) writes the files into any folder. */
static void test_REG_2_export_on_demand(void **state)
{
    world *w = *state;
    sc *s = w->s;
    certified_on(s, "2024-03-02", "2024-04-02T17:00:00Z", "2024-04-04");
    char *elsewhere = cft_tmpdir();
    json_t *res = sc_query(s, "registry_export.export", jf("{\"dir\": \"%s\"}", elsewhere));
    assert_int_equal(json_integer_value(json_object_get(res, "rows")), 1);
    json_decref(res);
    char *path = cft_path(elsewhere, "registry.csv");
    char *a = slurp(path), *b = file(w, "registry.csv");
    assert_non_null(a);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(path);
    /* the command */
    cft_rmtree(elsewhere);
    elsewhere = cft_tmpdir();
    cft_run r = run_cli(s, noon("2024-04-05"), "plugin", "query", "registry_export.export", "--data",
                        jf("{\"dir\": \"%s\"}", elsewhere), NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\"rows\": 1"));
    cft_run_free(&r);
    path = cft_path(elsewhere, "registry.json");
    a = slurp(path);
    assert_non_null(a);
    no_private_fields(a);
    free(a);
    free(path);
    cft_rmtree(elsewhere);
    json_t *rows = sc_query(s, "registry_export.rows", NULL);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "status")), "active");
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_REG_2_files_follow_every_status_change_public_fields_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_REG_2_export_on_demand, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
