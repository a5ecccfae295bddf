/*
 * libfuzzer_main.c — the libFuzzer entry points of one fuzz executable. The
 * build names the target's function (CF_FUZZ_ENTRY) and, for targets that keep
 * state for the whole process, its set-up and tear-down (CF_FUZZ_INIT, CF_FUZZ_FINI).
 */
#include "cf_fuzz.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#ifdef CF_FUZZ_FINI
static void fini(void)
{
    CF_FUZZ_FINI();
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
#ifdef CF_FUZZ_INIT
    CF_FUZZ_INIT();
#endif
#ifdef CF_FUZZ_FINI
    atexit(fini);
#endif
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return CF_FUZZ_ENTRY(data, size);
}
