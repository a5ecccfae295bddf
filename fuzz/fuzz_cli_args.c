/*
 * fuzz_cli_args.c — fuzz target for the command line. The input split on NUL
 * bytes is argv[1..] (argv[0] is "certflow"); cli_parse must either accept it,
 * with every value pointing into argv, or refuse it with exit code 2 and a
 * message. What main.c then reads from accepted arguments runs too: the help
 * of the command, durations, times and the exit-code table.
 */
#include "cf_fuzz.h"

#include "../cli/cli.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

static bool points_into(const char *p, char *const *argv, int argc)
{
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (p >= argv[i] && p <= argv[i] + n)
            return true;
    }
    return false;
}

int cf_fuzz_cli_args(const uint8_t *data, size_t size)
{
    /* One buffer: the input, NUL-terminated, so that every piece is a C string. */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"certflow";
    for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;

    cli_args a;
    int rc = cli_parse(argc, argv, &a);
    if (rc != 0) {
        if (rc != CLI_EXIT_USAGE || !a.err[0] || !memchr(a.err, '\0', sizeof a.err))
            abort();
    } else {
        if (a.cmd < CLI_CMD_NONE || a.cmd >= CLI_CMD__COUNT || a.npos < 0 || a.npos > CLI_MAX_POS)
            abort();
        if (a.cmd == CLI_CMD_NONE && !a.opt[CLI_OPT_HELP] && !a.opt[CLI_OPT_VERSION])
            abort();
        const cli_cmd_spec *spec = cli_cmd_get(a.cmd);
        if (!a.opt[CLI_OPT_HELP] && !a.opt[CLI_OPT_VERSION] && (a.npos < spec->min_args || a.npos > spec->max_args))
            abort();
        for (int o = 0; o < CLI_OPT__COUNT; o++) {
            if (!a.opt[o])
                continue;
            const cli_opt_spec *os = cli_opt_get((cli_opt)o);
            if (os->takes_value && (!points_into(a.opt[o], argv, argc) || strlen(a.opt[o]) > os->max_len))
                abort();
        }
        for (int i = 0; i < a.npos; i++)
            if (!points_into(a.pos[i], argv, argc) || strlen(a.pos[i]) > CLI_MAX_NAME)
                abort();
        int64_t secs = 0;
        if (a.opt[CLI_OPT_WITHIN] && cli_parse_duration(a.opt[CLI_OPT_WITHIN], &secs) == 0 && secs < 0)
            abort();
        cf_time t = 0;
        if (a.opt[CLI_OPT_NOW] && cf_time_parse(a.opt[CLI_OPT_NOW], &t) == CF_OK) {
            char out[32];
            if (cf_time_format(t, out, sizeof out) != CF_OK)
                abort();
        }
        if (a.opt[CLI_OPT_UNTIL])
            (void)cf_time_parse(a.opt[CLI_OPT_UNTIL], &t);
        if (a.npos > 0)
            (void)cli_cmd_find(a.pos[0]);
    }
    /* The help of whatever command was named, to a sink. */
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (sink) {
        cli_print_help(sink, a.cmd);
        cli_print_usage(sink, a.cmd);
    }
    for (int r = -1; r <= CF_EACTION + 1; r++) {
        int code = cli_exit_code(r);
        if (code < 0 || code > 255)
            abort();
    }
    free(buf);
    return 0;
}
