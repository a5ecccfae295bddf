/*
 * test_tokens.c — API tokens through the public API (cf_token_create, _verify,
 * _revoke, _list): the secret is shown once and only its hash is stored; bad
 * input changes nothing; revoked and expired tokens are refused on the
 * engine's clock; a read-only handle can verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
    char *dir, *db;
    cft_clock clock;
    cf_engine *e;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "cf.db");
    f->clock.now = cft_time("2025-01-01T00:00:00Z");
    f->e = cft_open_fixture(f->db, &f->clock);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

typedef struct seen {
    int n;
    char name[64], role[32], county[64];
    cf_time expires_at, revoked_at;
} seen;

static int remember(void *ud, const cf_token_info *t)
{
    seen *s = ud;
    s->n++;
    snprintf(s->name, sizeof s->name, "%s", t->name);
    snprintf(s->role, sizeof s->role, "%s", t->role);
    snprintf(s->county, sizeof s->county, "%s", t->county ? t->county : "");
    s->expires_at = t->expires_at;
    s->revoked_at = t->revoked_at;
    return 0;
}

static int count_tokens(cf_engine *e)
{
    seen s = {0};
    assert_int_equal(cf_token_list(e, remember, &s), CF_OK);
    return s.n;
}

static void test_create_verify(void **state)
{
    fx *f = *state;
    char secret[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(f->e, "sd-staff", "county", "san_diego", 0, "admin", secret), CF_OK);
    assert_int_equal(strlen(secret), CF_TOKEN_SECRET_SIZE - 1);
    assert_memory_equal(secret, "cft_", 4);
    seen s = {0};
    assert_int_equal(cf_token_verify(f->e, secret, remember, &s), CF_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.name, "sd-staff");
    assert_string_equal(s.role, "county");
    assert_string_equal(s.county, "san_diego");
    /* Two tokens never share a secret. */
    char other[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(f->e, "state", "admin", NULL, 0, "admin", other), CF_OK);
    assert_string_not_equal(secret, other);
    /* The database holds the hash, never the secret (read from the SQLite file;
     * on PostgreSQL the table's rows are what the engine reads, tested above). */
    if (cft_pg())
        return;
    cf_engine_close(f->e);
    f->e = NULL;
    FILE *fp = fopen(f->db, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *raw = malloc((size_t)n + 1);
    assert_int_equal(fread(raw, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    for (long i = 0; i + 68 <= n; i++)
        assert_false(memcmp(raw + i, secret, 68) == 0 || memcmp(raw + i, other, 68) == 0);
    free(raw);
    f->e = cft_open_fixture(f->db, &f->clock);
}

static void test_bad_input_changes_nothing(void **state)
{
    fx *f = *state;
    char secret[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(f->e, "x", "root", NULL, 0, NULL, secret), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(f->e), "use admin, county or integration"));
    assert_int_equal(cf_token_create(f->e, "x", "admin", "fresno", 0, NULL, secret), CF_EINVAL);
    assert_int_equal(cf_token_create(f->e, "x", "county", NULL, 0, NULL, secret), CF_EINVAL);
    assert_int_equal(cf_token_create(f->e, "x", "county", "San Diego", 0, NULL, secret), CF_EINVAL);
    assert_int_equal(cf_token_create(f->e, "", "admin", NULL, 0, NULL, secret), CF_EINVAL);
    assert_int_equal(cf_token_create(f->e, "a\nb", "admin", NULL, 0, NULL, secret), CF_EINVAL);
    assert_int_equal(cf_token_create(f->e, "x", "admin", NULL, cft_time("2024-12-31"), NULL, secret), CF_EINVAL);
    assert_int_equal(count_tokens(f->e), 0);
    assert_int_equal(cf_token_create(f->e, "x", "admin", NULL, 0, NULL, secret), CF_OK);
    assert_int_equal(cf_token_create(f->e, "x", "admin", NULL, 0, NULL, secret), CF_ECONFLICT);
    assert_int_equal(count_tokens(f->e), 1);
    /* Malformed and unknown secrets. */
    assert_int_equal(cf_token_verify(f->e, "hello", NULL, NULL), CF_EINVAL);
    assert_int_equal(cf_token_verify(f->e, "cft_ABCDEF", NULL, NULL), CF_EINVAL);
    char unknown[CF_TOKEN_SECRET_SIZE] = "cft_";
    memset(unknown + 4, '0', 64);
    unknown[68] = '\0';
    assert_int_equal(cf_token_verify(f->e, unknown, NULL, NULL), CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(f->e), "unknown token"));
}

static void test_revoke_and_expiry(void **state)
{
    fx *f = *state;
    char a[CF_TOKEN_SECRET_SIZE], b[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(f->e, "ehr", "integration", "fresno", 0, "admin", a), CF_OK);
    assert_int_equal(cf_token_create(f->e, "temp", "admin", NULL, cft_time("2025-02-01"), "admin", b), CF_OK);
    assert_int_equal(cf_token_revoke(f->e, "ehr", "admin"), CF_OK);
    assert_int_equal(cf_token_verify(f->e, a, NULL, NULL), CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(f->e), "token 'ehr' was revoked at 2025-01-01T00:00:00Z"));
    assert_null(strstr(cf_errmsg(f->e), a));
    assert_int_equal(cf_token_revoke(f->e, "ehr", "admin"), CF_ENOTFOUND);
    assert_int_equal(cf_token_revoke(f->e, "nobody", "admin"), CF_ENOTFOUND);
    /* The name stays taken. */
    assert_int_equal(cf_token_create(f->e, "ehr", "integration", "fresno", 0, "admin", a), CF_ECONFLICT);
    /* Valid until the engine's clock reaches the expiry. */
    f->clock.now = cft_time("2025-01-31T23:59:59Z");
    assert_int_equal(cf_token_verify(f->e, b, NULL, NULL), CF_OK);
    f->clock.now = cft_time("2025-02-01T00:00:00Z");
    assert_int_equal(cf_token_verify(f->e, b, NULL, NULL), CF_ENOTFOUND);
    assert_non_null(strstr(cf_errmsg(f->e), "token 'temp' expired at 2025-02-01T00:00:00Z"));
    assert_int_equal(count_tokens(f->e), 2);
}

static void test_read_only_handle_verifies(void **state)
{
    fx *f = *state;
    char s[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(f->e, "reader", "admin", NULL, 0, "admin", s), CF_OK);
    cf_options o = CF_OPTIONS_INIT;
    o.read_only = 1;
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    cf_engine *ro = NULL;
    assert_int_equal(cft_engine_open(f->db, &o, &ro), CF_OK);
    assert_int_equal(cf_token_verify(ro, s, NULL, NULL), CF_OK);
    char t[CF_TOKEN_SECRET_SIZE];
    assert_int_equal(cf_token_create(ro, "w", "admin", NULL, 0, "admin", t), CF_EREADONLY);
    cf_engine_close(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_handle_verifies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
