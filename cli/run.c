/*
 * run.c — what every command shares once the command line is parsed: a usage
 * problem printed the way every command prints one (exit 2), a failed engine call
 * reported in the command's words (the engine's messages speak the API; REWORD
 * turns them into the commands and options that do the same) with its exit code,
 * and reading --data (inline JSON, @FILE or @- for standard input).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print a usage problem the way every command does, and return exit code 2. */
int cli_usage(cli_run *r, cli_cmd c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_textf(r->err, "certflow: %s\n", msg);
    cli_print_usage(r->err, c);
    return CLI_EXIT_USAGE;
}

/* The engine's messages speak the API; the command's user reads the commands and
 * options that do the same (docs/embedding.md, "Result codes and messages"). */
static const struct {
    const char *api, *cli;
} REWORD[] = {
    {"cf_workflow_dot of '", "`certflow graph` of '"},
    {"cf_workflow_versions of '", "`certflow workflow versions` of '"},
    {"(cf_migrate_apply, workflow '", "(`certflow migrate` of '"},
    {"cf_instance_events", "`certflow events ID`"},
    {"cf_instance_list", "`certflow list`"},
    {"(cf_policy_apply)", "(certflow policy apply)"},
    {"as cf_engine_anchor makes it", "as `certflow verify --anchor` prints it"},
    {"(cf_verify_options.key)", "(--key-file)"},
    {"(cf_engine_open without read_only)", "(any certflow command that writes)"},
    {"options.plugin_dir", "--plugins"},
    /* the storage backends' messages */
    {"cf_engine_verify_full shows", "`certflow verify` shows"},
    {"cf_engine_verify finds", "`certflow verify` finds"},
    {"cf_token_list", "`certflow token list`"},
    {"choose another token name", "choose another --name"},
    {"run cf_engine_open once", "run `certflow init` once"},
    {"give cf_engine_open", "point --db at"},
};

static void reword(const char *msg, char *out, size_t size)
{
    size_t o = 0;
    while (*msg && o + 1 < size) {
        size_t k = 0;
        for (; k < sizeof REWORD / sizeof *REWORD; k++)
            if (strncmp(msg, REWORD[k].api, strlen(REWORD[k].api)) == 0)
                break;
        if (k < sizeof REWORD / sizeof *REWORD) {
            int w = snprintf(out + o, size - o, "%s", REWORD[k].cli);
            o += w > 0 && (size_t)w < size - o ? (size_t)w : 0;
            msg += strlen(REWORD[k].api);
        } else {
            out[o++] = *msg++;
        }
    }
    out[o] = '\0';
}

/* Report a failed engine call and return its exit code. */
int cli_fail(cli_run *r, int rc)
{
    const char *msg = r->e ? cf_errmsg(r->e) : "";
    if (!msg || !*msg)
        msg = cf_strerror(rc);
    char text[4096];
    reword(msg, text, sizeof text);
    cli_textf(r->err, "certflow: %s\n", text);
    return cli_exit_code(rc);
}

const char *cli_who_of(cli_run *r, const char *id, char *buf, size_t size)
{
    buf[0] = '\0';
    cf_instance_info info = CF_INSTANCE_INFO_INIT;
    if (r->e && id && cf_instance_get(r->e, id, &info) == CF_OK)
        cli_who(info.data, buf, size);
    return buf;
}

void cli_who_line(cli_run *r, const char *id)
{
    char who[280];
    if (*cli_who_of(r, id, who, sizeof who))
        cli_textf(r->out, "who: %s\n", who);
}

void cli_who_json(cli_run *r, const char *id, json_t *o)
{
    char who[280];
    if (o && *cli_who_of(r, id, who, sizeof who))
        json_object_set_new(o, "who", json_string(who));
}

/* A --data file holds one JSON object and nothing after it but blanks: a NUL or
 * other bytes after the object would be cut off or misread. 0 or an exit code. */
static int check_data_file(cli_run *r, const char *label, const char *b, size_t n)
{
    size_t lead = 0;
    while (lead < n && b[lead] && strchr(" \t\r\n", b[lead]))
        lead++;
    if (lead == n) {
        cli_textf(r->err, "certflow: --data file '%.200s' is empty: give a JSON object such as {}\n", label);
        return CLI_EXIT_INVALID;
    }
    json_error_t jerr;
    json_t *v = json_loadb(b, n, JSON_DISABLE_EOF_CHECK, &jerr);
    if (!v) {
        const char *nul = memchr(b, '\0', n);
        if (!nul)
            return 0; /* malformed: the engine says where and why */
        cli_textf(r->err, "certflow: --data file '%.200s' holds a NUL byte at offset %zu; give a JSON object "
                          "such as {} as UTF-8 text\n", label, (size_t)(nul - b));
        return CLI_EXIT_INVALID;
    }
    json_decref(v);
    size_t end = jerr.position > 0 ? (size_t)jerr.position : 0;
    while (end < n && b[end] && strchr(" \t\r\n", b[end]))
        end++;
    if (end < n) {
        cli_textf(r->err,
                  "certflow: --data file '%.200s' has %s after the JSON value, at offset %zu; a data file holds "
                  "one JSON object and nothing else (remove what follows it)\n",
                  label, b[end] ? "bytes" : "a NUL byte", end);
        return CLI_EXIT_INVALID;
    }
    return 0;
}

int cli_load_data(cli_run *r, const char **data, char **buf)
{
    const char *v = r->a->opt[CLI_OPT_DATA];
    *data = v;
    *buf = NULL;
    if (v && !*v) {
        fputs("certflow: --data is empty: give a JSON object such as {} (or @FILE)\n", r->err);
        return CLI_EXIT_INVALID;
    }
    if (!v || v[0] != '@')
        return 0;
    const char *path = v + 1;
    int is_stdin = strcmp(path, "-") == 0;
    const char *label = is_stdin ? "(standard input)" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_textf(r->err, "certflow: cannot read --data file '%.200s': %s (give a readable file, or inline JSON)\n", path,
                strerror(errno));
        return CLI_EXIT_INVALID;
    }
    char *b = malloc(CLI_MAX_DATA + 1);
    size_t n = b ? fread(b, 1, CLI_MAX_DATA + 1, f) : 0;
    int bad = !b || ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad || n > CLI_MAX_DATA) {
        free(b);
        cli_textf(r->err, "certflow: --data file '%.200s' %s\n", label,
                  bad ? "could not be read" : "is larger than 1 MiB (keep event data small)");
        return CLI_EXIT_INVALID;
    }
    b[n] = '\0';
    int x = check_data_file(r, label, b, n);
    if (x) {
        free(b);
        return x;
    }
    *data = b;
    *buf = b;
    return 0;
}
