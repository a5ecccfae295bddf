/*
 * test_text.c — text is checked at the door (issue 8): the public API refuses
 * invalid UTF-8 and control characters in names, actors and keys, malformed or
 * empty JSON data, and a policy's reason or patch that holds a NUL byte or
 * bytes that are not UTF-8; each refusal says what to do and changes nothing.
 * Fixture: tests/fixtures/text (a "note" workflow whose policies return such text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIX CF_TEST_FIXTURES "/text"

/* Byte strings the issue found stored as given. */
static const char *const BAD_UTF8[] = {
    "\xff",            /* never a UTF-8 byte */
    "\xc0\x80",        /* overlong NUL */
    "\xed\xa0\x80",    /* a lone surrogate (U+D800) encoded */
    "ok\xe2\x82",      /* cut short */
    "\xf4\x90\x80\x80" /* above U+10FFFF */
};
#define NBAD (sizeof BAD_UTF8 / sizeof BAD_UTF8[0])

/* One printable line is what a name, an actor or a key may be. */
static const char *const CONTROL[] = {"a\nb", "\x1b[31mred", "\xe2\x80\xae" "evil", "tab\there", "del\x7f",
                                      "c1\xc2\x9b" "31m", "line\xe2\x80\xa8sep"};
#define NCONTROL (sizeof CONTROL / sizeof CONTROL[0])

typedef struct fx {
    char *dir;
    cft_clock clock;
    cf_engine *e;
    char id[37];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = cft_tmpdir();
    f->clock.now = cft_time("2025-03-01T08:00:00Z");
    char *db = cft_path(f->dir, "t.db");
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = FIX "/workflows";
    o.policy_dir = FIX "/lua";
    o.clock = cft_clock_now;
    o.clock_ud = &f->clock;
    int rc = cft_engine_open(db, &o, &f->e);
    free(db);
    if (rc != CF_OK)
        fail_msg("open: %s", cf_errmsg(f->e));
    rc = cf_instance_create(f->e, "note", "alameda", "{\"text\":\"first\"}", "clerk", f->id);
    if (rc != CF_OK)
        fail_msg("create: %s", cf_errmsg(f->e));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cf_engine_close(f->e);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

static void has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected \"%s\" in: %s", needle, text);
}

static int count_instance(void *ud, const cf_instance_info *info)
{
    (void)info;
    ++*(int *)ud;
    return 0;
}

static int instances(cf_engine *e)
{
    int n = 0;
    assert_int_equal(cf_instance_list(e, NULL, count_instance, &n), CF_OK);
    return n;
}

/* The data stored for the fixture's instance. */
static char *data_of(fx *f)
{
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    assert_int_equal(cf_instance_get(f->e, f->id, &info), CF_OK);
    return strdup(info.data);
}

/* The message of the last refused fire (the checks after it reset the engine's). */
static char last_msg[4096];

/* The fire is refused with rc, a message holding needle, and nothing recorded. */
static void fire_refused(fx *f, const char *event, const char *data, const char *actor, const char *key, int rc,
                         const char *needle)
{
    int before = cft_history_count(f->e, f->id);
    char *data_before = data_of(f);
    int got = cf_instance_fire(f->e, f->id, event, data, actor, key, NULL);
    if (got != rc)
        fail_msg("fire %s: got %s, expected %s: %s", event, cf_result_name(got), cf_result_name(rc), cf_errmsg(f->e));
    snprintf(last_msg, sizeof last_msg, "%s", cf_errmsg(f->e));
    has(last_msg, needle);
    assert_int_equal(cft_history_count(f->e, f->id), before);
    char *data_after = data_of(f);
    assert_string_equal(data_after, data_before);
    free(data_before);
    free(data_after);
}

static void test_utf8_decoder(void **state)
{
    (void)state;
    for (size_t i = 0; i < NBAD; i++)
        assert_false(cf__utf8_valid(BAD_UTF8[i], strlen(BAD_UTF8[i])));
    static const char *const good[] = {"", "plain", "Jos\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                       "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(cf__utf8_valid(good[i], strlen(good[i])));
    assert_int_equal(cf__utf8_invalid_at("ab\xe0\x80\x80", 5), 2); /* overlong 3-byte */
    assert_true(cf__is_control('\n') && cf__is_control(0x7f) && cf__is_control(0x85) && cf__is_control(0x202e));
    assert_false(cf__is_control('a') || cf__is_control(0xe9) || cf__is_control(0x20ac));
}

static void test_actor_refused(void **state)
{
    fx *f = *state;
    char id[37];
    for (size_t i = 0; i < NBAD; i++) {
        assert_int_equal(cf_instance_create(f->e, "note", "alameda", NULL, BAD_UTF8[i], id), CF_EINVAL);
        has(cf_errmsg(f->e), "the actor is not valid UTF-8");
        has(cf_errmsg(f->e), "nothing was changed");
        fire_refused(f, "edit", "{\"text\":\"x\"}", BAD_UTF8[i], NULL, CF_EINVAL, "the actor is not valid UTF-8");
    }
    for (size_t i = 0; i < NCONTROL; i++) {
        assert_int_equal(cf_instance_create(f->e, "note", "alameda", NULL, CONTROL[i], id), CF_EINVAL);
        has(cf_errmsg(f->e), "the actor holds the control character");
        fire_refused(f, "edit", NULL, CONTROL[i], NULL, CF_EINVAL, "one line of printable text");
    }
    assert_int_equal(instances(f->e), 1);
    /* Text that is merely not ASCII is welcome. */
    assert_int_equal(cf_instance_fire(f->e, f->id, "edit", NULL, "Jos\xc3\xa9 Pe\xc3\xb1" "a", NULL, NULL), CF_OK);
}

static void test_key_and_names_refused(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < NBAD; i++) {
        fire_refused(f, "edit", NULL, "clerk", BAD_UTF8[i], CF_EINVAL, "the idempotency key is not valid UTF-8");
        fire_refused(f, BAD_UTF8[i], NULL, "clerk", NULL, CF_EINVAL, "the event name is not valid UTF-8");
    }
    for (size_t i = 0; i < NCONTROL; i++)
        fire_refused(f, "edit", NULL, "clerk", CONTROL[i], CF_EINVAL, "the idempotency key holds the control");
    char id[37];
    assert_int_equal(cf_instance_create(f->e, "no\xffte", "alameda", NULL, "clerk", id), CF_EINVAL);
    has(cf_errmsg(f->e), "the workflow name is not valid UTF-8");
    assert_int_equal(cf_instance_create(f->e, "note\n", "alameda", NULL, "clerk", id), CF_EINVAL);
    has(cf_errmsg(f->e), "the workflow name holds the control character U+000A");
    assert_int_equal(cf_instance_create(f->e, "note", "alam\xc3\xa9" "da", NULL, "clerk", id), CF_EINVAL);
    assert_int_equal(instances(f->e), 1);
    /* The instance id a caller names is checked too. */
    assert_int_equal(cf_instance_fire(f->e, "\x1b[2J", "edit", NULL, "clerk", NULL, NULL), CF_EINVAL);
    has(cf_errmsg(f->e), "the instance id holds the control character U+001B");
}

static void test_data_refused(void **state)
{
    fx *f = *state;
    static const char *const bad[] = {
        "{\"text\":\"\xff\"}",              /* raw byte that is not UTF-8 */
        "{\"text\":\"\xc0\x80\"}",          /* overlong */
        "{\"text\":\"\xed\xa0\x80\"}",      /* lone surrogate, encoded */
        "{\"text\":\"\\ud800\"}",           /* lone surrogate, escaped */
        "{\"te\xffxt\":1}",                 /* in a key */
        "{\"a\\u0000b\":1}",                /* NUL in a key */
        "{\"text\":\"cut\\u0000here\"}",    /* NUL in a value */
        "{\"text\":\"x\"} junk",            /* bytes after the object */
        "{\"text\":\"x\"}{}",               /* a second value */
        "{\"text\":",                       /* cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        fire_refused(f, "edit", bad[i], "clerk", NULL, CF_EJSON, "event data is not valid JSON");
    fire_refused(f, "edit", "{\"a\\u0000b\":1}", "clerk", NULL, CF_EJSON, "it holds \\u0000 (a NUL character)");
    fire_refused(f, "edit", "{\"a\":\"b\\u0000\"}", "clerk", NULL, CF_EJSON, "keys and text may not contain it");
    fire_refused(f, "edit", "", "clerk", NULL, CF_EJSON, "give a JSON object such as {}");
    char id[37];
    assert_int_equal(cf_instance_create(f->e, "note", "alameda", "", "clerk", id), CF_EJSON);
    has(cf_errmsg(f->e), "instance data is empty: give a JSON object such as {}");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cf_instance_create(f->e, "note", "alameda", bad[i], "clerk", id), CF_EJSON);
    assert_int_equal(instances(f->e), 1);
    /* NULL is still "no data". */
    assert_int_equal(cf_instance_fire(f->e, f->id, "edit", NULL, "clerk", NULL, NULL), CF_OK);
}

/* In a batch, a refused call undoes nothing of the others and records nothing itself. */
static void test_batch_refusal_records_nothing(void **state)
{
    fx *f = *state;
    assert_int_equal(cf_batch_begin(f->e), CF_OK);
    assert_int_equal(cf_instance_fire(f->e, f->id, "edit", "{\"text\":\"kept\"}", "clerk", NULL, NULL), CF_OK);
    assert_int_equal(cf_instance_fire(f->e, f->id, "edit", NULL, "\xc0\x80", NULL, NULL), CF_EINVAL);
    assert_int_equal(cf_instance_fire(f->e, f->id, "edit", "", "clerk", NULL, NULL), CF_EJSON);
    assert_int_equal(cf_instance_fire(f->e, f->id, "nul_reason", NULL, "clerk", NULL, NULL), CF_EPOLICY);
    char id[37];
    assert_int_equal(cf_instance_create(f->e, "note", "alameda", NULL, "a\tb", id), CF_EINVAL);
    assert_int_equal(cf_batch_commit(f->e), CF_OK);
    assert_int_equal(cft_history_count(f->e, f->id), 2);
    assert_int_equal(instances(f->e), 1);
    char *data = data_of(f);
    assert_string_equal(data, "{\"text\":\"kept\"}");
    free(data);
}

static void test_guard_reason_checked(void **state)
{
    fx *f = *state;
    fire_refused(f, "nul_reason", NULL, "clerk", NULL, CF_EPOLICY, "policy guard 'nul_reason'");
    has(last_msg, "holds a NUL byte at offset 3");
    fire_refused(f, "bad_reason", NULL, "clerk", NULL, CF_EPOLICY, "policy guard 'bad_reason'");
    has(last_msg, "not valid UTF-8 (byte 0xFF at offset 4)");
    /* A reason that is text (control characters included) is kept as given: output escapes it. */
    cf_fire_result res = CF_FIRE_RESULT_INIT;
    assert_int_equal(cf_instance_fire(f->e, f->id, "echo", "{\"why\":\"no\\nway \\u202e\"}", "clerk", NULL, &res),
                     CF_REJECTED);
    assert_string_equal(res.reasons, "[\"no\\nway \xe2\x80\xae\"]");
}

static void test_patch_checked(void **state)
{
    fx *f = *state;
    fire_refused(f, "nul_value", NULL, "clerk", NULL, CF_EPOLICY, "policy assign 'nul_value'");
    has(last_msg, "NUL byte");
    has(last_msg, "patch.note");
    fire_refused(f, "nul_key", NULL, "clerk", NULL, CF_EPOLICY, "a key holding a NUL byte");
    fire_refused(f, "bad_key", NULL, "clerk", NULL, CF_EPOLICY, "a key that is not valid UTF-8");
}

static void test_policy_apply_actor_checked(void **state)
{
    fx *f = *state;
    char *overlay = cft_write(f->dir, "alameda.lua", "return { params = {} }\n");
    assert_int_equal(cf_policy_apply(f->e, "alameda", overlay, "\xed\xa0\x80", NULL, NULL), CF_EINVAL);
    has(cf_errmsg(f->e), "the actor is not valid UTF-8");
    assert_int_equal(cf_policy_apply(f->e, "alameda", overlay, "ops\r\nforged", NULL, NULL), CF_EINVAL);
    has(cf_errmsg(f->e), "the actor holds the control character U+000D");
    assert_int_equal(cft_history_count(f->e, f->id), 1);
    free(overlay);
}

static void test_plugin_query_name_checked(void **state)
{
    fx *f = *state;
    char *out = NULL;
    assert_int_equal(cf_plugin_query(f->e, "fees.\x1b[31mstatement", NULL, &out), CF_EINVAL);
    has(cf_errmsg(f->e), "the query name holds the control character U+001B");
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decoder),
        cmocka_unit_test_setup_teardown(test_actor_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_and_names_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_refusal_records_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guard_reason_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_apply_actor_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_query_name_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
