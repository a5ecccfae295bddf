/*
 * exam_results.c — the exam_results plugin: reads the third-party exam
 * administrator's results file (CSV with a header: candidate_id, date, result,
 * score, then one column per domain score; EX_4) into exam_result events, each
 * with an idempotency key derived from the row, and keeps every result it is
 * given, domain scores included, in its own table. The policy decides what a
 * result does to the certification. docs/plugins.md, "exam_results".
 */
#include "../common/shipped.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64

typedef struct exam_results {
    const cf_host *h;
} exam_results;

/* ---------- CSV (RFC 4180: quoted fields, "" for a quote, CRLF or LF) ---------- */

typedef struct csv {
    const char *p;
    int line;
} csv;

/* A growing cell. */
typedef struct cell {
    char *s;
    size_t len, cap;
    int oom;
} cell;

static void cell_put(cell *b, char ch)
{
    if (b->oom)
        return;
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    b->s[b->len++] = ch;
    b->s[b->len] = '\0';
}

/* Read one record into cells (malloc'd strings). Returns the number of cells,
 * 0 at the end, -1 on a malformed record (an unterminated quote) or out of memory. */
static int csv_record(csv *c, char *cells[MAX_COLS], int *too_many)
{
    int n = 0;
    *too_many = 0;
    if (!*c->p)
        return 0;
    for (;;) {
        cell b = {0};
        cell_put(&b, 'x'); /* allocate, then empty */
        b.len = 0;
        if (b.s)
            b.s[0] = '\0';
        int bad = 0;
        if (*c->p == '"') {
            c->p++;
            for (;;) {
                if (!*c->p) {
                    bad = 1;
                    break;
                }
                if (*c->p == '"' && c->p[1] == '"') {
                    cell_put(&b, '"');
                    c->p += 2;
                } else if (*c->p == '"') {
                    c->p++;
                    break;
                } else {
                    if (*c->p == '\n')
                        c->line++;
                    cell_put(&b, *c->p++);
                }
            }
        }
        while (!bad && *c->p && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
            cell_put(&b, *c->p++);
        if (bad || b.oom) {
            free(b.s);
            for (int i = 0; i < n; i++)
                free(cells[i]);
            return -1;
        }
        if (n < MAX_COLS)
            cells[n++] = b.s;
        else {
            free(b.s);
            *too_many = 1;
        }
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == '\r')
            c->p++;
        if (*c->p == '\n')
            c->p++;
        c->line++;
        return n;
    }
}

static void free_cells(char *cells[], int n)
{
    for (int i = 0; i < n; i++)
        free(cells[i]);
}

/* Trim spaces in place. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int parse_number(const char *s, double *out)
{
    char *end = NULL;
    if (!*s)
        return -1;
    *out = strtod(s, &end);
    return *end == '\0' && *out >= 0 && *out < 1e9 ? 0 : -1;
}

static int is_date(const cf_host *h, const char *s)
{
    int64_t t;
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' && h->time_parse(s, &t) == CF_PLUGIN_OK;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (!EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL))
        return;
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void add_error(json_t *errors, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void add_error(json_t *errors, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(errors, json_pack("{s:i, s:s}", "line", line, "message", msg));
}

enum { COL_CANDIDATE, COL_DATE, COL_RESULT, COL_SCORE, NREQUIRED };
static const char *const REQUIRED[NREQUIRED] = {"candidate_id", "date", "result", "score"};

/* Check one data row; on success append {line, candidate_id, key, data} to rows. */
static void read_row(const cf_host *h, char *cells[], int n, int ncols, const int idx[NREQUIRED],
                     char *header[], int line, json_t *seen, json_t *rows, json_t *errors)
{
    if (n != ncols) {
        add_error(errors, line, "has %d fields, the header has %d", n, ncols);
        return;
    }
    char problems[400] = "";
#define PROBLEM(...)                                                                                        \
    do {                                                                                                    \
        size_t used_ = strlen(problems);                                                                    \
        snprintf(problems + used_, sizeof problems - used_, "%s", used_ ? "; " : "");                       \
        used_ = strlen(problems);                                                                           \
        snprintf(problems + used_, sizeof problems - used_, __VA_ARGS__);                                   \
    } while (0)
    const char *cand = trim(cells[idx[COL_CANDIDATE]]);
    const char *date = trim(cells[idx[COL_DATE]]);
    char *result = trim(cells[idx[COL_RESULT]]);
    const char *score_s = trim(cells[idx[COL_SCORE]]);
    for (char *p = result; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    double score = 0;
    if (!*cand)
        PROBLEM("candidate_id is empty");
    if (!is_date(h, date))
        PROBLEM("date '%.40s' is not a date (YYYY-MM-DD)", date);
    if (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0)
        PROBLEM("result '%.40s' is not pass or fail", result);
    if (parse_number(score_s, &score) != 0)
        PROBLEM("score '%.40s' is not a number (0 or more)", score_s);
    json_t *domains = json_object();
    for (int c = 0; c < ncols; c++) {
        int required = 0;
        for (int k = 0; k < NREQUIRED; k++)
            required |= idx[k] == c;
        if (required)
            continue;
        double d;
        const char *v = trim(cells[c]);
        if (parse_number(v, &d) != 0)
            PROBLEM("domain score %s '%.40s' is not a number (0 or more)", header[c], v);
        else
            json_object_set_new(domains, header[c], json_real(d));
    }
    char who[300];
    snprintf(who, sizeof who, "%s|%s", cand, date);
    json_t *prev = json_object_get(seen, who);
    if (*cand && prev)
        PROBLEM("candidate %.40s has another result for %s on line %d", cand, date, (int)json_integer_value(prev));
    if (problems[0]) {
        add_error(errors, line, "%s", problems);
        json_decref(domains);
        return;
    }
#undef PROBLEM
    json_object_set_new(seen, who, json_integer(line));
    char keytext[400], hex[65], key[80];
    snprintf(keytext, sizeof keytext, "%s\n%s\n%s", cand, date, result);
    sha256_hex(keytext, hex);
    snprintf(key, sizeof key, "exam-result-%s", hex);
    /* A whole-number score stays an integer in the event. */
    json_t *score_v = score == (double)(json_int_t)score ? json_integer((json_int_t)score) : json_real(score);
    json_t *data = json_pack("{s:s, s:o, s:s, s:o}", "result", result, "score", score_v, "taken_on", date,
                             "domain_scores", domains);
    json_array_append_new(rows, json_pack("{s:i, s:s, s:s, s:o}", "line", line, "candidate_id", cand, "key", key,
                                          "data", data));
}

/* Query exam_results.parse {"csv": TEXT}: every row checked; {"rows": [{line,
 * candidate_id, key, data}], "errors": [{line, message}]}. Firing is the caller's. */
static int parse(cf_call *call, void *ud, const char *args)
{
    const exam_results *x = ud;
    const cf_host *h = x->h;
    (void)args;
    json_t *text = sp_event(h, call, "csv");
    if (!json_is_string(text)) {
        json_decref(text);
        return sp_fail(h, call, "exam_results.parse needs {\"csv\": TEXT}");
    }
    csv c = {json_string_value(text), 1};
    json_t *rows = json_array(), *errors = json_array(), *seen = json_object();
    char *header[MAX_COLS];
    int too_many = 0;
    int ncols = csv_record(&c, header, &too_many);
    int idx[NREQUIRED] = {-1, -1, -1, -1};
    for (int i = 0; i < ncols; i++) {
        trim(header[i]);
        for (int k = 0; k < NREQUIRED; k++)
            if (strcmp(header[i], REQUIRED[k]) == 0)
                idx[k] = i;
    }
    if (ncols <= 0) {
        add_error(errors, 1, "the file is empty or its header is malformed (expected candidate_id,date,result,score,...)");
    } else if (too_many) {
        add_error(errors, 1, "the header has more than %d columns", MAX_COLS);
    } else {
        for (int k = 0; k < NREQUIRED; k++)
            if (idx[k] < 0)
                add_error(errors, 1, "the header has no '%s' column (expected candidate_id,date,result,score, then "
                                     "one column per domain score)",
                          REQUIRED[k]);
        for (int i = 0; i < ncols; i++)
            for (int j = 0; j < i; j++)
                if (strcmp(header[i], header[j]) == 0)
                    add_error(errors, 1, "the header names column '%s' twice", header[i]);
    }
    if (json_array_size(errors) == 0) {
        for (;;) {
            int line = c.line;
            char *cells[MAX_COLS];
            int n = csv_record(&c, cells, &too_many);
            if (n == 0)
                break;
            if (n < 0) {
                add_error(errors, line, "a quoted field is not closed");
                break;
            }
            if (!(n == 1 && !*trim(cells[0]))) { /* blank lines are skipped */
                if (too_many)
                    add_error(errors, line, "has more than %d fields", MAX_COLS);
                else
                    read_row(h, cells, n, ncols, idx, header, line, seen, rows, errors);
            }
            free_cells(cells, n);
        }
    }
    if (ncols > 0)
        free_cells(header, ncols);
    json_decref(seen);
    json_decref(text);
    return sp_answer(h, call, json_pack("{s:o, s:o}", "rows", rows, "errors", errors));
}

/* Action exam_results_record: keep the administrator's result of this event (with domain scores). */
static int record(cf_call *call, void *ud)
{
    const exam_results *x = ud;
    const cf_host *h = x->h;
    json_t *ev = sp_event(h, call, NULL);
    json_t *domains = json_object_get(ev, "domain_scores");
    char *dtext = domains ? json_dumps(domains, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_t *score = json_object_get(ev, "score");
    char stext[64] = "";
    if (json_is_number(score))
        snprintf(stext, sizeof stext, "%g", json_number_value(score));
    const sp_val v[] = {SP_T(h->instance_id(call)), SP_T(sp_str(ev, "taken_on", "")), SP_T(sp_str(ev, "result", "")),
                        SP_T(stext[0] ? stext : NULL), SP_T(dtext), SP_I(h->now(call)), SP_T(h->state(call))};
    int rc = sp_exec(h, call,
                     "INSERT INTO exam_results_results(instance, taken_on, result, score, domain_scores, recorded_at,"
                     " state_before) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     v, 7);
    free(dtext);
    json_decref(ev);
    return rc;
}

/* Query exam_results.list {"instance": ID} (optional): the results recorded, oldest first. */
static int list(cf_call *call, void *ud, const char *args)
{
    const exam_results *x = ud;
    const cf_host *h = x->h;
    (void)args;
    json_t *inst = sp_event(h, call, "instance");
    static const char *const cols[] = {"id", "instance", "taken_on", "result", "score", "domain_scores", "recorded_at"};
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(json_string_value(inst))};
    int rc = sp_select(h, call,
                       "SELECT id, instance, taken_on, result, score, domain_scores, recorded_at FROM exam_results_results"
                       " WHERE ?1 IS NULL OR instance = ?1 ORDER BY id",
                       v, 1, cols, "ittttji", rows);
    json_decref(inst);
    if (rc != CF_PLUGIN_OK) {
        json_decref(rows);
        return rc;
    }
    return sp_answer(h, call, rows);
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info = CF_PLUGIN_INFO_INIT(
        "exam_results", "1.0.0", "reads the exam administrator's results file and keeps every result (EX_4)");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    (void)config_json;
    SP_NEEDS_QUERIES(host, self);
    exam_results *x = calloc(1, sizeof *x);
    if (!x)
        return host->init_error(self, "out of memory");
    x->h = host;
    int rc = host->at_close(self, free, x);
    if (rc == CF_PLUGIN_OK && !sp_known_dialect(host, self))
        return host->init_error(self, "exam_results knows the SQL of SQLite and PostgreSQL only");
    if (rc == CF_PLUGIN_OK && sp_postgresql(host, self))
        rc = host->add_migration(self, 1,
                                 "CREATE TABLE exam_results_results("
                                 "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                                 "  instance TEXT NOT NULL,"
                                 "  taken_on TEXT NOT NULL,"
                                 "  result TEXT NOT NULL,"
                                 "  score TEXT,"
                                 "  domain_scores TEXT,"
                                 "  recorded_at bigint NOT NULL,"
                                 "  state_before TEXT NOT NULL);"
                                 "CREATE INDEX exam_results_results_by_instance ON exam_results_results(instance, id);");
    else if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(self, 1,
                                 "CREATE TABLE exam_results_results("
                                 "  id INTEGER PRIMARY KEY,"
                                 "  instance TEXT NOT NULL,"
                                 "  taken_on TEXT NOT NULL,"
                                 "  result TEXT NOT NULL,"
                                 "  score TEXT,"
                                 "  domain_scores TEXT,"
                                 "  recorded_at INTEGER NOT NULL,"
                                 "  state_before TEXT NOT NULL);"
                                 "CREATE INDEX exam_results_results_by_instance ON exam_results_results(instance, id);");
    if (rc == CF_PLUGIN_OK)
        rc = host->register_action(self, "exam_results_record", record, x);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "parse", parse, x, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "list", list, x, CF_PLUGIN_QUERY_READ);
    return rc;
}
