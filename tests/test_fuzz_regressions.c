/*
 * test_fuzz_regressions.c — replays every seed (fuzz/corpus/<target>/) and every
 * input a fuzzer once broke the engine with (tests/fuzz_regressions/<target>/)
 * through the same entry functions the libFuzzer executables call, in the normal
 * build without libFuzzer: a regression shows as a crash, an abort or a sanitizer
 * report here. docs/fuzzing.md lists what each input found.
 *
 * The targets' sources are included rather than linked because tests/CMakeLists.txt
 * builds each test_*.c alone against the engine; they define only static helpers
 * and the cf_fuzz_* functions of fuzz/cf_fuzz.h.
 */
#include "../fuzz/fuzz_workflow.c"
#include "../fuzz/fuzz_policy.c"
#include "../fuzz/fuzz_event.c"
#include "../fuzz/fuzz_cli_args.c"
#include "../fuzz/fuzz_exam_import.c"
#include "../cli/args.c"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef int (*fuzz_fn)(const uint8_t *, size_t);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run fn on every regular file of dir, in name order; returns how many ran. */
static int replay_dir(const char *dir, fuzz_fn fn)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* a target may have no regressions yet */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[n] = strdup(ent->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        assert_true(size >= 0);
        uint8_t *buf = malloc((size_t)size + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        /* Named before it runs, so that a crash says which input it was. */
        fprintf(stderr, "replay %s\n", path);
        assert_int_equal(fn(buf, (size_t)size), 0);
        free(buf);
        free(names[i]);
        ran++;
    }
    free(names);
    return ran;
}

static void replay(const char *target, fuzz_fn fn, int min_seeds)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", CF_SOURCE_DIR, target);
    int seeds = replay_dir(dir, fn);
    snprintf(dir, sizeof dir, "%s/tests/fuzz_regressions/%s", CF_SOURCE_DIR, target);
    int regressions = replay_dir(dir, fn);
    fprintf(stderr, "%s: %d seeds, %d regressions replayed\n", target, seeds, regressions);
    assert_true(seeds >= min_seeds); /* the seed corpus is part of the repo */
}

static void test_workflow(void **state)
{
    (void)state;
    replay("workflow", cf_fuzz_workflow, 10);
    /* The shipped workflows are seeds too, read where they live so they never drift. */
    assert_true(replay_dir(CF_SOURCE_DIR "/workflows", cf_fuzz_workflow) >= 5);
}

static void test_policy(void **state)
{
    (void)state;
    replay("policy", cf_fuzz_policy, 10);
    cf_fuzz_policy_fini();
}

/* Found while fuzzing: an overlay parameter named "" was dropped without a word,
 * because the first bad name was kept as "" and "" meant "none yet". */
static void test_policy_overlay_empty_param_name(void **state)
{
    (void)state;
    make_dir();
    static const char st[] = "return { params = { a = 1 }, overridable = { a = { kind = \"integer\", min = 0, max = 10 } } }";
    static const char ov[] = "return { params = { [\"\"] = 2 } }";
    write_file(g_state, (const uint8_t *)st, sizeof st - 1);
    write_file(g_county, (const uint8_t *)ov, sizeof ov - 1);
    cf__tz tz;
    assert_int_equal(cf__tz_parse("PST8PDT,M3.2.0,M11.1.0", &tz, NULL), CF_OK);
    cf__policy_config cfg = {g_dir, 0, 0, &tz, NULL, NULL, 0, 0};
    cf__policy *p = NULL;
    cf__err err;
    err.msg[0] = '\0';
    assert_int_equal(cf__policy_open(&cfg, &p, &err), CF_EPOLICY);
    assert_null(p);
    assert_non_null(strstr(err.msg, "counties/fuzz.lua: params.: '' is not a parameter of the state policy"));
    cf_fuzz_policy_fini();
}

static void test_event(void **state)
{
    (void)state;
    replay("event", cf_fuzz_event, 10);
    cf_fuzz_event_fini(); /* verifies the history's hash chain */
}

static void test_cli_args(void **state)
{
    (void)state;
    replay("cli_args", cf_fuzz_cli_args, 10);
}

static void test_exam_import(void **state)
{
    (void)state;
    replay("exam_import", cf_fuzz_exam_import, 10);
    cf_fuzz_exam_import_fini(); /* verifies the history's hash chain */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workflow),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_policy_overlay_empty_param_name),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_cli_args),
        cmocka_unit_test(test_exam_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
