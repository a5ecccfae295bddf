/*
 * output.c — how the certflow command prints: aligned text tables for people,
 * and JSON documents (built with jansson) for programs. Engine rows are copied
 * here, because the engine's pointers die with the next call.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *cli_time(cf_time t, char buf[32])
{
    if (cf_time_format(t, buf, 32) != CF_OK)
        snprintf(buf, 32, "@%lld", (long long)t);
    return buf;
}

/* ---- Text for people: control characters made visible ---- */

/* One well-formed UTF-8 sequence at s[0..n): its length and *cp, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, v = c & 0x1Fu, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, v = c & 0x0Fu, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, v = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Characters that move the cursor, start a terminal escape sequence, or reorder
 * or break what is shown (forging rows): C0, DEL, C1, the line/paragraph
 * separators, and the bidirectional marks, embeddings, overrides and isolates. */
static int needs_escape(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Escape s[0..n) into dst (if not NULL); returns the escaped length. */
static size_t escape_into(char *dst, const char *s, size_t n, int keep_newlines)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        char tmp[8];
        const char *piece = tmp;
        size_t plen;
        uint32_t cp = 0;
        size_t k = utf8_seq(u + i, n - i, &cp);
        if (k == 0) { /* not UTF-8: show the byte */
            plen = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", u[i]);
            k = 1;
        } else if (!needs_escape(cp) || (keep_newlines && cp == '\n')) {
            piece = s + i;
            plen = k;
        } else if (cp == '\n' || cp == '\r' || cp == '\t') {
            plen = (size_t)snprintf(tmp, sizeof tmp, "\\%c", cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
        } else if (cp < 0x80) {
            plen = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)cp);
        } else {
            plen = (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp);
        }
        if (dst)
            memcpy(dst + out, piece, plen);
        out += plen;
        i += k;
    }
    return out;
}

char *cli_escape(const char *s, int keep_newlines)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    size_t len = escape_into(NULL, s, n, keep_newlines);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    escape_into(out, s, n, keep_newlines);
    out[len] = '\0';
    return out;
}

void cli_put(FILE *f, const char *s)
{
    char *e = cli_escape(s, 0);
    fputs(e ? e : "?", f);
    free(e);
}

int cli_textf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return -1;
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    /* The format's own leading blank lines and final newline stay; the rest is escaped. */
    size_t lead = 0, len = (size_t)n;
    while (lead < len && buf[lead] == '\n')
        lead++;
    int trail = len > lead && buf[len - 1] == '\n';
    if (trail)
        buf[--len] = '\0';
    char *e = cli_escape(buf + lead, 0);
    int rc = e ? 0 : -1;
    for (size_t i = 0; i < lead; i++)
        fputc('\n', f);
    fputs(e ? e : "?", f);
    if (trail)
        fputc('\n', f);
    free(e);
    free(buf);
    return rc;
}

/* ---- Text tables ---- */

struct cli_table {
    size_t ncols;
    size_t nrows, cap;
    char **cells; /* (nrows + 1) * ncols; row 0 is the header */
};

static char *dup_or_empty(const char *s)
{
    return cli_escape(s, 0); /* a cell is one line: a newline in a value cannot forge a row */
}

static int table_push(cli_table *t, const char *const *cells)
{
    if (t->nrows + 1 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
        if (!grown)
            return -1;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = dup_or_empty(cells[c]);
        if (!row[c]) {
            while (c-- > 0)
                free(row[c]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
    cli_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols ? ncols : 1;
    if (table_push(t, headers) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

int cli_table_add(cli_table *t, const char *const *cells)
{
    return t ? table_push(t, cells) : -1;
}

size_t cli_table_rows(const cli_table *t)
{
    return t && t->nrows ? t->nrows - 1 : 0;
}

void cli_table_print(FILE *f, const cli_table *t)
{
    if (!t)
        return;
    size_t *width = calloc(t->ncols, sizeof *width);
    if (!width)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > width[c])
                width[c] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        char *const *row = t->cells + r * t->ncols;
        /* No trailing blanks: stop padding after the last non-empty cell. */
        size_t last = t->ncols;
        while (last > 1 && row[last - 1][0] == '\0')
            last--;
        for (size_t c = 0; c < last; c++) {
            if (c + 1 == last)
                fprintf(f, "%s\n", row[c]);
            else
                fprintf(f, "%-*s  ", (int)width[c], row[c]);
        }
    }
    free(width);
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---- JSON ---- */

json_t *cli_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (!v) { /* not UTF-8 (a row stored before text was checked): shown escaped, not dropped */
        char *e = cli_escape(s, 0);
        v = e ? json_string(e) : NULL;
        free(e);
    }
    return v;
}

json_t *cli_json_text(const char *text)
{
    if (!text)
        return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

char *cli_reasons_join(const char *reasons_json, const char *sep)
{
    json_t *arr = reasons_json ? json_loads(reasons_json, 0, NULL) : NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return strdup(reasons_json ? reasons_json : "");
    }
    size_t len = 1, seplen = strlen(sep), i;
    json_t *v;
    json_array_foreach(arr, i, v) len += (json_is_string(v) ? json_string_length(v) : 0) + seplen;
    char *out = malloc(len);
    if (out) {
        out[0] = '\0';
        size_t used = 0;
        json_array_foreach(arr, i, v)
        {
            if (!json_is_string(v))
                continue;
            if (used) {
                memcpy(out + used, sep, seplen);
                used += seplen;
            }
            memcpy(out + used, json_string_value(v), json_string_length(v));
            used += json_string_length(v);
            out[used] = '\0';
        }
    }
    json_decref(arr);
    return out;
}

static void set_time(json_t *o, const char *key, cf_time t)
{
    char buf[32];
    json_object_set_new(o, key, json_string(cli_time(t, buf)));
}

json_t *cli_json_instance(const cf_instance_info *info)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", cli_json_str(info->id));
    json_object_set_new(o, "workflow", cli_json_str(info->workflow));
    json_object_set_new(o, "county", cli_json_str(info->county));
    json_object_set_new(o, "state", cli_json_str(info->state));
    json_object_set_new(o, "terminal", json_boolean(info->terminal));
    json_object_set_new(o, "data", cli_json_text(info->data));
    json_object_set_new(o, "definition", cli_json_str(info->definition));
    set_time(o, "created_at", info->created_at);
    set_time(o, "updated_at", info->updated_at);
    json_object_set_new(o, "version", json_integer(info->version));
    return o;
}

json_t *cli_json_history(const cf_history_entry *h)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "number", json_integer(h->number));
    json_object_set_new(o, "seq", json_integer(h->seq));
    json_object_set_new(o, "instance_id", cli_json_str(h->instance_id));
    set_time(o, "at", h->at);
    set_time(o, "effective_at", h->effective_at);
    json_object_set_new(o, "actor", cli_json_str(h->actor));
    json_object_set_new(o, "event", cli_json_str(h->event));
    json_object_set_new(o, "data", cli_json_text(h->data));
    json_object_set_new(o, "outcome", cli_json_str(h->outcome));
    json_object_set_new(o, "from", cli_json_str(h->from_state));
    json_object_set_new(o, "to", cli_json_str(h->to_state));
    json_object_set_new(o, "reasons", cli_json_text(h->reasons));
    json_object_set_new(o, "policy_hash", cli_json_str(h->policy_hash));
    json_object_set_new(o, "definition", cli_json_str(h->definition));
    json_object_set_new(o, "idem_key", cli_json_str(h->idem_key));
    json_object_set_new(o, "hash", cli_json_str(h->hash));
    return o;
}

json_t *cli_json_timer(const cf_timer_info *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set_time(o, "due", t->due);
    json_object_set_new(o, "instance_id", cli_json_str(t->instance_id));
    json_object_set_new(o, "workflow", cli_json_str(t->workflow));
    json_object_set_new(o, "county", cli_json_str(t->county));
    json_object_set_new(o, "state", cli_json_str(t->state));
    json_object_set_new(o, "timer", cli_json_str(t->name));
    json_object_set_new(o, "event", cli_json_str(t->event));
    json_object_set_new(o, "id", json_integer(t->id));
    return o;
}

json_t *cli_json_fire(const cf_fire_result *r, const char *id, const char *event)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", cli_json_str(id));
    json_object_set_new(o, "event", cli_json_str(event));
    json_object_set_new(o, "outcome", json_string(r->applied ? "applied" : "rejected"));
    json_object_set_new(o, "applied", json_boolean(r->applied));
    json_object_set_new(o, "replayed", json_boolean(r->replayed));
    json_object_set_new(o, "from", cli_json_str(r->from_state));
    json_object_set_new(o, "to", cli_json_str(r->to_state));
    json_object_set_new(o, "reasons", r->reasons ? cli_json_text(r->reasons) : json_array());
    json_object_set_new(o, "seq", json_integer(r->seq));
    return o;
}

const char *cli_who(const char *data, char *buf, size_t size)
{
    buf[0] = '\0';
    json_t *d = data ? json_loads(data, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(d, "name"));
    if (!name) /* a complaint names its person as the respondent */
        name = json_string_value(json_object_get(d, "respondent"));
    const char *number = json_string_value(json_object_get(d, "certification_number"));
    if (name && number)
        snprintf(buf, size, "%.200s (%.60s)", name, number);
    else if (name || number)
        snprintf(buf, size, "%.200s", name ? name : number);
    json_decref(d);
    return buf;
}

void cli_print_instance(FILE *f, const cf_instance_info *info)
{
    char created[32], updated[32];
    char who[280];
    cli_textf(f, "id:         %s\n", info->id ? info->id : "");
    if (*cli_who(info->data, who, sizeof who))
        cli_textf(f, "who:        %s\n", who);
    cli_textf(f, "workflow:   %s\n", info->workflow ? info->workflow : "");
    cli_textf(f, "county:     %s\n", info->county ? info->county : "");
    cli_textf(f, "state:      %s%s\n", info->state ? info->state : "", info->terminal ? " (terminal)" : "");
    fprintf(f, "created:    %s\n", cli_time(info->created_at, created));
    fprintf(f, "updated:    %s\n", cli_time(info->updated_at, updated));
    fprintf(f, "events:     %lld\n", (long long)info->version);
    cli_textf(f, "definition: %.12s\n", info->definition ? info->definition : "");
    json_t *data = cli_json_text(info->data);
    char *text = data ? json_dumps(data, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
    /* The dump's own newlines lay it out (jansson writes those inside strings as \n);
     * anything else that could drive the terminal is escaped. */
    char *shown = cli_escape(text ? text : (info->data ? info->data : "{}"), 1);
    fprintf(f, "data:       %s\n", shown ? shown : "?");
    free(shown);
    free(text);
    json_decref(data);
}

int cli_json_print(FILE *f, json_t *doc)
{
    if (!doc)
        return -1;
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_ENCODE_ANY);
    json_decref(doc);
    if (rc != 0 || fputc('\n', f) == EOF)
        return -1;
    return 0;
}
