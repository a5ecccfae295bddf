/* test_json_fast.c — the fast path of cf__json_load_object (util.c, issue 13):
 * it parses the common shapes itself, gives every other text to json_loads, and
 * whichever parses, the value and every error are the ones json_loads gives. */
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

/* cf__json_load_object and json_loads agree on text: the same kind, the same
 * value (compared and dumped canonically), or the same error. */
static void same_as_jansson(const char *text)
{
    json_error_t a, b;
    json_t *ours = NULL;
    cf__json_kind k = cf__json_load_object(text, &ours, &a);
    json_t *theirs = json_loads(text, JSON_REJECT_DUPLICATES, &b);
    if (!theirs) {
        if (k != CF__JSON_INVALID)
            fail_msg("%s: jansson refuses it (%s) but cf__json_load_object gave kind %d", text, b.text, (int)k);
        assert_string_equal(a.text, b.text);
        assert_int_equal(a.line, b.line);
        assert_int_equal(a.column, b.column);
        assert_null(ours);
        return;
    }
    cf__json_kind want = json_is_object(theirs) ? CF__JSON_OBJECT : json_is_array(theirs) ? CF__JSON_ARRAY
                                                                                          : CF__JSON_SCALAR;
    if (k != want)
        fail_msg("%s: kind %d, jansson's %d", text, (int)k, (int)want);
    if (k == CF__JSON_OBJECT) {
        assert_true(json_equal(ours, theirs));
        char *x = cf__json_canonical(ours), *y = cf__json_canonical(theirs);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    json_decref(ours);
    json_decref(theirs);
}

static void fast_and_same(const char *text)
{
    json_t *v = cf__json_fast_parse(text);
    if (!v)
        fail_msg("the fast path gave up on %s", text);
    json_t *theirs = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(theirs);
    assert_true(json_equal(v, theirs));
    /* The same types too (json_equal takes 1 and 1.0 apart already; be explicit). */
    char *x = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *y = json_dumps(theirs, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(x, y); /* key order kept as written */
    free(x);
    free(y);
    json_decref(v);
    json_decref(theirs);
    same_as_jansson(text);
}

static void slow_and_same(const char *text)
{
    json_t *v = cf__json_fast_parse(text);
    if (v) {
        json_decref(v);
        fail_msg("the fast path took %s, which it must leave to jansson", text);
    }
    same_as_jansson(text);
}

/* What certflow stores and most callers send takes the fast path. */
static void test_common_shapes_take_the_fast_path(void **state)
{
    (void)state;
    fast_and_same("{}");
    fast_and_same("[]");
    fast_and_same("{\"attempts\":1,\"background\":\"clear\",\"ce_hours\":24,\"degree\":true,\"fines_due\":0,"
                  "\"lapses\":0,\"name\":\"Pat Example\",\"renewals\":0}");
    fast_and_same(" { \"b\" : [ 1 , -2 , 0 , 123456789012345678 , -123456789012345678 ] ,\n\t\"a\" : null }\r\n");
    fast_and_same("{\"z\":1,\"a\":2}"); /* written order, not sorted */
    fast_and_same("{\"nested\":{\"deeper\":{\"list\":[{\"x\":false},[],{}]}},\"\":\"empty key\"}");
    fast_and_same("[\"a\",true,false,null,{\"k\":\"v\"}]");
    fast_and_same("{\"ledger_id\":[\"6f1c2a7e-0000-4000-8000-000000000000\"]}");
}

/* Everything else goes to jansson whole: its value, or its error. */
static void test_everything_else_goes_to_jansson(void **state)
{
    (void)state;
    slow_and_same("{\"score\":85.5}");            /* a real */
    slow_and_same("{\"n\":1e3}");                 /* an exponent */
    slow_and_same("{\"n\":-0}");                  /* minus zero */
    slow_and_same("{\"n\":0123}");                /* a leading zero: invalid */
    slow_and_same("{\"n\":1234567890123456789}"); /* 19 digits */
    slow_and_same("{\"n\":99999999999999999999999}"); /* too big: jansson's error */
    slow_and_same("{\"s\":\"tab\\there\"}");      /* an escape */
    slow_and_same("{\"s\":\"\\u00e9t\\u00e9\"}");
    slow_and_same("{\"s\":\"\xc3\xa9t\xc3\xa9\"}"); /* UTF-8 */
    slow_and_same("{\"s\":\"\xff\"}");            /* not UTF-8: jansson's error */
    slow_and_same("{\"s\":\"a\x01\"}");           /* a control character */
    slow_and_same("{\"a\":1,\"a\":2}");           /* a duplicate key */
    slow_and_same("{\"a\":{\"b\":1,\"b\":1}}");
    slow_and_same("{\"a\":1,}");                  /* syntax errors */
    slow_and_same("{\"a\" 1}");
    slow_and_same("{\"a\":tru}");
    slow_and_same("{\"a\":truex}");
    slow_and_same("{\"a\":1} {}");
    slow_and_same("{\"a\":1");
    slow_and_same("[1,2");
    slow_and_same("");
    slow_and_same("   ");
    slow_and_same("5");                           /* no bare value at the top */
    slow_and_same("\"text\"");
    slow_and_same("null");
    char key[400];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    char doc[512];
    snprintf(doc, sizeof doc, "{\"%s\":1}", key); /* a key longer than 255 bytes */
    slow_and_same(doc);
    char deep[300] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "[");
    for (int i = 0; i < 70; i++)
        strcat(deep, "]");
    slow_and_same(deep); /* nested deeper than 64 */
}

/* Many texts near the common shapes (fixed seeds, bytes replaced, inserted or
 * removed from JSON's own alphabet): whatever the fast path takes, it agrees
 * with jansson, value or error. */
static void test_mutated_texts_agree_with_jansson(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"attempts\":1,\"background\":\"clear\",\"degree\":true,\"fines_due\":0,\"name\":\"Pat\"}",
        "{\"a\":[1,-2,{\"b\":null,\"c\":[true,false]}],\"d\":{}}",
        "[{\"x\":\"y\"},[],123,\"z\"]",
    };
    static const char alphabet[] = "{}[]:,\"\\ -0123456789.eEtrufalsn\t\nx";
    uint32_t r = 12345;
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        const char *seed = seeds[iter % 3];
        size_t n = strlen(seed);
        memcpy(buf, seed, n + 1);
        int edits = 1 + iter % 3;
        for (int k = 0; k < edits; k++) {
            r = r * 1103515245u + 12345u;
            size_t at = (r >> 8) % (n ? n : 1);
            r = r * 1103515245u + 12345u;
            char c = alphabet[(r >> 8) % (sizeof alphabet - 1)];
            r = r * 1103515245u + 12345u;
            int op = (int)((r >> 8) % 3);
            if (op == 0 && n) {
                buf[at] = c;
            } else if (op == 1 && n + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, n - at + 1);
                buf[at] = c;
                n++;
            } else if (n) {
                memmove(buf + at, buf + at + 1, n - at);
                n--;
            }
        }
        same_as_jansson(buf);
    }
}

/* The errors callers word from jansson's stay what they were. */
static void test_parse_object_errors_unchanged(void **state)
{
    (void)state;
    cf__err err = {0};
    json_t *v = NULL;
    assert_int_equal(cf__parse_object(&err, "{\"a\":1,\"a\":2}", "event data", &v), CF_EJSON);
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_int_equal(cf__parse_object(&err, "[1]", "event data", &v), CF_EJSON);
    assert_non_null(strstr(err.msg, "must be a JSON object"));
    assert_int_equal(cf__parse_object(&err, "{\"hours\":20}", "event data", &v), CF_OK);
    assert_int_equal(json_integer_value(json_object_get(v, "hours")), 20);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_shapes_take_the_fast_path),
        cmocka_unit_test(test_everything_else_goes_to_jansson),
        cmocka_unit_test(test_mutated_texts_agree_with_jansson),
        cmocka_unit_test(test_parse_object_errors_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
