/*
 * test_server.c — certflow serve over real HTTP: the built certflow runs
 * `serve` on an ephemeral loopback port (on a fixed virtual clock), and a small
 * client here talks to it over a socket. Every answer is checked against
 * docs/openapi.json (the path is in it, the status is one the operation lists,
 * the body has the top-level fields its schema requires and no others where the
 * schema allows none). Covers tokens and roles on every endpoint (missing,
 * malformed, revoked, expired; another county's instance answers exactly like a
 * missing id), idempotency keys, the body limit, the rate limit, the graceful
 * stop, and runs every example of docs/server.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOW "2025-03-01T08:00:00Z"
#define MISSING_ID "00000000-0000-4000-8000-000000000000"

typedef struct server {
    pid_t pid;
    int port;
    char *log; /* its standard error */
} server;

typedef struct fx {
    char *dir, *db;
    char admin[80], sd[80], fresno[80], sd_ehr[80], revoked[80], expired[80];
    server s;
    json_t *openapi;
} fx;

static fx *F; /* the group's fixture (cmocka passes it too; the checker needs it) */

/* ---- running certflow ---- */

static void certflow_ok(fx *f, char *out, size_t outsz, ...)
{
    va_list ap;
    va_start(ap, outsz);
    const char *prefix[] = {"--db", f->db, "--workflows", CF_SOURCE_DIR "/workflows", "--policies",
                            CF_SOURCE_DIR "/lua", NULL};
    cft_run r = cft_certflow_va(f->dir, prefix, ap);
    va_end(ap);
    if (r.code != 0)
        fail_msg("certflow exited %d: %s%s", r.code, r.out, r.err);
    if (out) {
        snprintf(out, outsz, "%s", r.out);
        out[strcspn(out, "\n")] = '\0';
    }
    cft_run_free(&r);
}

static void start_server(fx *f, server *s, const char *const *extra)
{
    const char *argv[40] = {"certflow", "serve", "--db", f->db, "--workflows", CF_SOURCE_DIR "/workflows",
                            "--policies", CF_SOURCE_DIR "/lua", "--listen", "127.0.0.1:0", "--now", NOW,
                            "--max-body", "8192", "--threads", "2"};
    int n = 16;
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    char name[64];
    static int count;
    snprintf(name, sizeof name, "server%d.log", ++count);
    s->log = cft_path(f->dir, name);
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int err = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        if (err < 0 || in < 0 || chdir(f->dir) != 0)
            _exit(127);
        dup2(in, 0);
        dup2(out[1], 1);
        dup2(err, 2);
        close(out[0]);
        close(out[1]);
        execv(CF_BINARY_DIR "/certflow", (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    s->pid = pid;
    char line[512];
    size_t len = 0;
    while (len + 1 < sizeof line) {
        ssize_t k = read(out[0], line + len, 1);
        if (k <= 0 || line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    close(out[0]);
    const char *p = strstr(line, "127.0.0.1:");
    if (!p)
        fail_msg("certflow serve did not say where it listens: '%s'", line);
    s->port = atoi(p + 10);
    assert_true(s->port > 0);
}

/* SIGTERM; returns the exit status (0: a clean stop). */
static int stop_server(server *s)
{
    kill(s->pid, SIGTERM);
    int st = 0;
    assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
    s->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the OpenAPI check ---- */

static json_t *deref(json_t *doc, json_t *v)
{
    const char *r;
    while (v && (r = json_string_value(json_object_get(v, "$ref")))) {
        assert_true(strncmp(r, "#/", 2) == 0);
        json_t *cur = doc;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", r + 2);
        for (char *tok = strtok(buf, "/"); tok && cur; tok = strtok(NULL, "/"))
            cur = json_object_get(cur, tok);
        if (!cur)
            fail_msg("openapi: unresolved $ref %s", r);
        v = cur;
    }
    return v;
}

static int template_matches(const char *tmpl, const char *path)
{
    while (*tmpl && *path) {
        if (*tmpl == '{') {
            const char *close = strchr(tmpl, '}');
            if (!close)
                return 0;
            size_t sl = strcspn(path, "/");
            if (sl == 0)
                return 0;
            tmpl = close + 1;
            path += sl;
        } else if (*tmpl++ != *path++) {
            return 0;
        }
    }
    return !*tmpl && !*path;
}

/* NULL if body fits schema's top level, else why not. */
static const char *top_level_fits(json_t *doc, json_t *schema, json_t *body, char *why, size_t n)
{
    schema = deref(doc, schema);
    json_t *one = json_object_get(schema, "oneOf");
    if (one) {
        size_t i;
        json_t *alt;
        json_array_foreach(one, i, alt) if (!top_level_fits(doc, alt, body, why, n)) return NULL;
        snprintf(why, n, "fits none of oneOf");
        return why;
    }
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (type && strcmp(type, "object") == 0 && !json_is_object(body)) {
        snprintf(why, n, "not an object");
        return why;
    }
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(schema, "required"), i, req) {
        if (!json_object_get(body, json_string_value(req))) {
            snprintf(why, n, "lacks required field '%s'", json_string_value(req));
            return why;
        }
    }
    json_t *ap = json_object_get(schema, "additionalProperties");
    if (ap && json_is_false(ap)) {
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) if (!json_object_get(json_object_get(schema, "properties"), k)) {
            snprintf(why, n, "has field '%s' the schema does not list", k);
            return why;
        }
    }
    return NULL;
}

static void check_openapi(const char *method, const char *path, int status, json_t *body)
{
    json_t *doc = F->openapi, *paths = json_object_get(doc, "paths"), *item = NULL;
    const char *tmpl;
    json_t *v;
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    p[strcspn(p, "?")] = '\0';
    json_object_foreach(paths, tmpl, v) if (template_matches(tmpl, p)) {
        item = v;
        break;
    }
    if (!item) {
        if (status == 404 || status == 405)
            return; /* the server's answer to paths it does not serve */
        fail_msg("openapi: %s %s answered %d but the path is not in docs/openapi.json", method, p, status);
    }
    char m[16];
    size_t i = 0;
    for (; method[i] && i + 1 < sizeof m; i++)
        m[i] = (char)(method[i] | 0x20);
    m[i] = '\0';
    json_t *op = json_object_get(item, m);
    if (!op) {
        if (status == 405)
            return;
        fail_msg("openapi: %s %s is not in docs/openapi.json", method, tmpl);
    }
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_t *resp = deref(doc, json_object_get(json_object_get(op, "responses"), code));
    if (!resp)
        fail_msg("openapi: %s %s answered %d, which docs/openapi.json does not list", method, tmpl, status);
    json_t *schema = json_object_get(json_object_get(json_object_get(resp, "content"), "application/json"), "schema");
    if (!schema)
        return;
    if (!body)
        fail_msg("openapi: %s %s %d: the body is not JSON", method, tmpl, status);
    char why[200];
    if (top_level_fits(doc, schema, body, why, sizeof why))
        fail_msg("openapi: %s %s %d: the body %s", method, tmpl, status, why);
}

/* ---- a small HTTP client ---- */

typedef struct resp {
    int status;
    char *raw;   /* the whole answer */
    char *text;  /* the body (points into raw) */
    json_t *json;
} resp;

static void resp_free(resp *r)
{
    free(r->raw);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Send one request (headers: "Name: value\r\n" lines, may be NULL). */
static resp http_raw(int port, const char *method, const char *path, const char *headers, const char *body,
                     size_t body_len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[2048];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n", method,
                      path, headers ? headers : "", body ? body_len : 0);
    assert_true(hn > 0 && (size_t)hn < sizeof head);
    assert_int_equal(write(fd, head, (size_t)hn), hn);
    size_t done = 0;
    while (body && done < body_len) {
        ssize_t k = write(fd, body + done, body_len - done);
        if (k <= 0)
            break; /* the server may answer (413) and close before reading it all */
        done += (size_t)k;
    }
    resp r = {0};
    size_t cap = 4096, len = 0;
    r.raw = malloc(cap);
    for (;;) {
        if (len + 1024 > cap)
            r.raw = realloc(r.raw, cap *= 2);
        ssize_t k = read(fd, r.raw + len, cap - len - 1);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    r.raw[len] = '\0';
    close(fd);
    if (sscanf(r.raw, "HTTP/1.1 %d", &r.status) != 1)
        fail_msg("%s %s: not an HTTP answer: '%.200s'", method, path, r.raw);
    char *sep = strstr(r.raw, "\r\n\r\n");
    r.text = sep ? sep + 4 : r.raw + len;
    r.json = json_loads(r.text, 0, NULL);
    return r;
}

/* A request with an optional token ("" sends none) and JSON body, checked against the OpenAPI document. */
static resp http(const char *method, const char *path, const char *token, const char *body)
{
    char headers[512] = "";
    if (token && *token)
        snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", token);
    resp r = http_raw(F->s.port, method, path, headers, body, body ? strlen(body) : 0);
    check_openapi(method, path, r.status, r.json);
    return r;
}

static const char *err_name(const resp *r)
{
    return json_string_value(json_object_get(json_object_get(r->json, "error"), "name"));
}

static void expect(resp *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: expected %d, got %d: %s", what, status, r->status, r->text);
}

static char *create(const char *token, const char *county)
{
    char body[256];
    snprintf(body, sizeof body, "{\"workflow\": \"certification\", \"county\": \"%s\", \"data\": {\"name\": \"Pat %s\"}}",
             county, county);
    resp r = http("POST", "/v1/instances", token, body);
    expect(&r, 201, "create");
    char *id = strdup(json_string_value(json_object_get(r.json, "id")));
    resp_free(&r);
    return id;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    F = f;
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "cf.db");
    certflow_ok(f, NULL, 0, "--now", "2025-01-01T00:00:00Z", "init", NULL);
    certflow_ok(f, f->admin, sizeof f->admin, "--now", "2025-01-01T00:00:00Z", "token", "create", "--role", "admin",
                "--name", "state-office", NULL);
    certflow_ok(f, f->sd, sizeof f->sd, "--now", "2025-01-01T00:00:00Z", "token", "create", "--role", "county",
                "--county", "san_diego", "--name", "sd-staff", NULL);
    certflow_ok(f, f->fresno, sizeof f->fresno, "--now", "2025-01-01T00:00:00Z", "token", "create", "--role",
                "county", "--county", "fresno", "--name", "fresno-staff", NULL);
    certflow_ok(f, f->sd_ehr, sizeof f->sd_ehr, "--now", "2025-01-01T00:00:00Z", "token", "create", "--role",
                "integration", "--county", "san_diego", "--name", "sd-ehr", NULL);
    certflow_ok(f, f->revoked, sizeof f->revoked, "--now", "2025-01-01T00:00:00Z", "token", "create", "--role",
                "admin", "--name", "old-admin", NULL);
    certflow_ok(f, NULL, 0, "--now", "2025-01-02T00:00:00Z", "token", "revoke", "old-admin", NULL);
    certflow_ok(f, f->expired, sizeof f->expired, "--now", "2025-01-01T00:00:00Z", "token", "create", "--role",
                "admin", "--name", "temp-admin", "--expires", "2025-02-01", NULL);
    json_error_t jerr;
    f->openapi = json_load_file(CF_SOURCE_DIR "/docs/openapi.json", 0, &jerr);
    if (!f->openapi)
        fail_msg("docs/openapi.json: %s (line %d)", jerr.text, jerr.line);
    /* No rate limit here: test_bad_tokens_everywhere makes many failed logins (test_rate_limit_public has one). */
    const char *extra[] = {"--rate-limit", "0", NULL};
    start_server(f, &f->s, extra);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    int code = f->s.pid ? stop_server(&f->s) : 0;
    json_decref(f->openapi);
    free(f->s.log);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return code == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void test_public_endpoints(void **state)
{
    (void)state;
    resp r = http("GET", "/v1/health", "", NULL);
    expect(&r, 200, "health");
    assert_string_equal(json_string_value(json_object_get(r.json, "now")), NOW);
    resp_free(&r);
    r = http("GET", "/v1/version", "", NULL);
    expect(&r, 200, "version");
    assert_string_equal(json_string_value(json_object_get(r.json, "version")), CF_VERSION_STRING);
    resp_free(&r);
    r = http("GET", "/v1/openapi.json", "", NULL);
    expect(&r, 200, "openapi");
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/openapi.json");
    assert_string_equal(r.text, doc);
    free(doc);
    resp_free(&r);
    r = http("GET", "/v1/registry?name=nobody", "", NULL);
    expect(&r, 200, "registry");
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 0);
    resp_free(&r);
    r = http("GET", "/v1/registry?status=gone", "", NULL);
    expect(&r, 400, "registry with a bad status");
    resp_free(&r);
    /* Without a token, nothing else. */
    r = http("GET", "/v1/instances", "", NULL);
    expect(&r, 401, "list without a token");
    resp_free(&r);
}

static void test_admin_create_fire_history(void **state)
{
    (void)state;
    char *id = create(F->admin, "fresno");
    char path[256];
    snprintf(path, sizeof path, "/v1/instances/%s/events/update", id);
    const char *hdr = "Authorization: Bearer %s\r\nIdempotency-Key: k-1\r\n";
    char headers[256];
    snprintf(headers, sizeof headers, hdr, F->admin);
    const char *body = "{\"data\": {\"email\": \"pat@example.org\"}}";
    resp r = http_raw(F->s.port, "POST", path, headers, body, strlen(body));
    check_openapi("POST", path, r.status, r.json);
    expect(&r, 200, "fire update");
    assert_true(json_is_true(json_object_get(r.json, "applied")));
    assert_true(json_is_false(json_object_get(r.json, "replayed")));
    resp_free(&r);
    /* The same key again: the first outcome, replayed, nothing new recorded. */
    r = http_raw(F->s.port, "POST", path, headers, body, strlen(body));
    expect(&r, 200, "fire update again");
    assert_true(json_is_true(json_object_get(r.json, "replayed")));
    resp_free(&r);
    /* The same key for another event: a conflict. */
    snprintf(path, sizeof path, "/v1/instances/%s/events/submit", id);
    r = http_raw(F->s.port, "POST", path, headers, "{}", 2);
    check_openapi("POST", path, r.status, r.json);
    expect(&r, 409, "same key, other event");
    assert_string_equal(err_name(&r), "CF_ECONFLICT");
    resp_free(&r);
    /* A rejection is recorded and answered 422 with the outcome. */
    r = http("POST", path, F->admin, NULL);
    expect(&r, 422, "submit an empty draft");
    assert_string_equal(err_name(&r), "CF_REJECTED");
    assert_string_equal(json_string_value(json_object_get(r.json, "outcome")), "rejected");
    resp_free(&r);
    snprintf(path, sizeof path, "/v1/instances/%s/events/no_such_event", id);
    r = http("POST", path, F->admin, NULL);
    expect(&r, 422, "unknown event");
    assert_string_equal(err_name(&r), "CF_EEVENT");
    resp_free(&r);
    snprintf(path, sizeof path, "/v1/instances/%s/events/update", id);
    r = http("POST", path, F->admin, "{\"data\": ");
    expect(&r, 400, "malformed body");
    assert_string_equal(err_name(&r), "CF_EJSON");
    resp_free(&r);
    /* The history: created, applied, rejected; the actor is the token's name. */
    snprintf(path, sizeof path, "/v1/instances/%s/history", id);
    r = http("GET", path, F->admin, NULL);
    expect(&r, 200, "history");
    json_t *rows = json_object_get(r.json, "history");
    assert_int_equal(json_array_size(rows), 3);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) assert_string_equal(json_string_value(json_object_get(row, "actor")),
                                                         "state-office");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "outcome")), "rejected");
    resp_free(&r);
    free(id);
}

/* Every endpoint that names an instance answers another county's instance
 * exactly as it answers an id that does not exist. */
static void test_county_cannot_see_other_county(void **state)
{
    (void)state;
    char *fid = create(F->admin, "fresno");
    char *sid = create(F->sd, "san_diego");
    static const struct {
        const char *method, *suffix, *body;
    } EP[] = {{"GET", "", NULL},
              {"GET", "/history", NULL},
              {"GET", "/events", NULL},
              {"POST", "/events/update", "{}"},
              {"POST", "/explain/update", "{}"},
              {"GET", "/eligibility?on=2025-03-01", NULL}};
    const char *tokens[] = {F->sd, F->sd_ehr};
    for (size_t t = 0; t < 2; t++)
        for (size_t i = 0; i < sizeof EP / sizeof *EP; i++) {
            if (t == 1 && strncmp(EP[i].suffix, "/explain", 8) == 0)
                continue; /* integration may not explain at all (below) */
            char other[256], missing[256];
            snprintf(other, sizeof other, "/v1/instances/%s%s", fid, EP[i].suffix);
            snprintf(missing, sizeof missing, "/v1/instances/%s%s", MISSING_ID, EP[i].suffix);
            resp a = http(EP[i].method, other, tokens[t], EP[i].body);
            resp b = http(EP[i].method, missing, tokens[t], EP[i].body);
            expect(&a, 404, other);
            /* Same answer, but for the id itself. */
            char *want = strdup(b.text);
            char *at = strstr(want, MISSING_ID);
            assert_non_null(at);
            memcpy(at, fid, 36);
            assert_string_equal(a.text, want);
            free(want);
            resp_free(&a);
            resp_free(&b);
        }
    /* Its own county's instance is there. */
    char path[256];
    snprintf(path, sizeof path, "/v1/instances/%s", sid);
    resp r = http("GET", path, F->sd_ehr, NULL);
    expect(&r, 200, "integration reads its county's instance");
    resp_free(&r);
    /* Lists and due deadlines hold none of the other county's. */
    const char *lists[] = {"/v1/instances", "/v1/instances?county=fresno", "/v1/due?within=400d"};
    for (size_t t = 0; t < 2; t++)
        for (size_t i = 0; i < 3; i++) {
            r = http("GET", lists[i], tokens[t], NULL);
            expect(&r, 200, lists[i]);
            if (strstr(r.text, fid) || strstr(r.text, "\"fresno\""))
                fail_msg("%s shows another county's instance: %s", lists[i], r.text);
            resp_free(&r);
        }
    r = http("GET", "/v1/instances", F->sd, NULL);
    assert_non_null(strstr(r.text, sid));
    resp_free(&r);
    /* Nor can it create there or preview its policy. */
    r = http("POST", "/v1/instances", F->sd, "{\"workflow\": \"certification\", \"county\": \"fresno\"}");
    expect(&r, 403, "create in another county");
    resp_free(&r);
    r = http("POST", "/v1/policy/diff?county=fresno", F->sd, "return { params = {} }");
    expect(&r, 403, "diff another county");
    resp_free(&r);
    /* And the fresno staff cannot see San Diego's. */
    snprintf(path, sizeof path, "/v1/instances/%s", sid);
    r = http("GET", path, F->fresno, NULL);
    expect(&r, 404, "fresno reads san diego");
    resp_free(&r);
    free(fid);
    free(sid);
}

static void test_roles(void **state)
{
    (void)state;
    char *sid = create(F->admin, "san_diego");
    char path[256];
    /* Integration: read and fire only. */
    snprintf(path, sizeof path, "/v1/instances/%s/events/update", sid);
    resp r = http("POST", path, F->sd_ehr, "{\"data\": {\"email\": \"a@b.org\"}}");
    expect(&r, 200, "integration fires");
    resp_free(&r);
    snprintf(path, sizeof path, "/v1/instances/%s/history", sid);
    r = http("GET", path, F->admin, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "history"), 1),
                                                          "actor")),
                        "sd-ehr");
    resp_free(&r);
    snprintf(path, sizeof path, "/v1/instances/%s/explain/submit", sid);
    r = http("POST", path, F->sd_ehr, NULL);
    expect(&r, 403, "integration explains");
    resp_free(&r);
    r = http("POST", "/v1/instances", F->sd_ehr, "{\"workflow\": \"certification\", \"county\": \"san_diego\"}");
    expect(&r, 403, "integration creates");
    resp_free(&r);
    r = http("POST", "/v1/policy/diff?county=san_diego", F->sd_ehr, "return { params = {} }");
    expect(&r, 403, "integration previews policy");
    resp_free(&r);
    /* County staff: explain (recording nothing) and diff its own county. */
    r = http("POST", path, F->sd, NULL);
    expect(&r, 200, "county explains");
    assert_string_equal(json_string_value(json_object_get(r.json, "outcome")), "rejected");
    resp_free(&r);
    snprintf(path, sizeof path, "/v1/instances/%s/history", sid);
    r = http("GET", path, F->sd, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "history")), 2);
    resp_free(&r);
    r = http("POST", "/v1/policy/diff?county=san_diego", F->sd,
             "return { description = \"longer grace\", params = { hire_grace_days = 120 } }");
    expect(&r, 200, "county previews its policy");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "changes"), 0),
                                                          "kind")),
                        "policy");
    resp_free(&r);
    /* The yearly report is the state's. */
    r = http("GET", "/v1/report?from=2024-01-01&to=2024-12-31", F->sd, NULL);
    expect(&r, 403, "county reads the report");
    resp_free(&r);
    r = http("GET", "/v1/report?from=2024-01-01&to=2024-12-31", F->admin, NULL);
    expect(&r, 200, "admin reads the report");
    resp_free(&r);
    r = http("GET", "/v1/report", F->admin, NULL);
    expect(&r, 400, "report without a period");
    resp_free(&r);
    free(sid);
}

/* Every endpoint that needs a token refuses a missing, malformed, unknown,
 * revoked and expired one, and the log names the failure, never the token. */
static void test_bad_tokens_everywhere(void **state)
{
    (void)state;
    char *sid = create(F->admin, "san_diego");
    char p[8][256];
    snprintf(p[0], 256, "/v1/instances/%s", sid);
    snprintf(p[1], 256, "/v1/instances/%s/history", sid);
    snprintf(p[2], 256, "/v1/instances/%s/events", sid);
    snprintf(p[3], 256, "/v1/instances/%s/events/update", sid);
    snprintf(p[4], 256, "/v1/instances/%s/explain/update", sid);
    snprintf(p[5], 256, "/v1/instances/%s/eligibility?on=2025-03-01", sid);
    const struct {
        const char *method, *path;
    } EP[] = {{"GET", "/v1/instances"}, {"POST", "/v1/instances"}, {"GET", p[0]},    {"GET", p[1]},
              {"GET", p[2]},            {"POST", p[3]},          {"POST", p[4]},   {"GET", p[5]},
              {"GET", "/v1/due"},      {"GET", "/v1/changes"},  {"GET", "/v1/report?from=2024-01-01&to=2024-12-31"},
              {"POST", "/v1/policy/diff?county=san_diego"}};
    char unknown[80] = "cft_";
    for (int i = 0; i < 64; i++)
        strcat(unknown, "a");
    const char *headers[] = {NULL, "Authorization: Bearer not-a-token\r\n", "Authorization: Basic c3RhdGU6cHc=\r\n",
                             "Authorization: Bearer %s\r\n", "Authorization: Bearer %s\r\n",
                             "Authorization: Bearer %s\r\n"};
    const char *secrets[] = {NULL, NULL, NULL, unknown, F->revoked, F->expired};
    for (size_t e = 0; e < sizeof EP / sizeof *EP; e++)
        for (size_t h = 0; h < 6; h++) {
            char hdr[256] = "";
            if (headers[h])
                snprintf(hdr, sizeof hdr, headers[h], secrets[h] ? secrets[h] : "");
            resp r = http_raw(F->s.port, EP[e].method, EP[e].path, hdr, "{}", 2);
            check_openapi(EP[e].method, EP[e].path, r.status, r.json);
            if (r.status != 401)
                fail_msg("%s %s with token case %zu: expected 401, got %d: %s", EP[e].method, EP[e].path, h,
                         r.status, r.text);
            assert_non_null(strstr(r.raw, "WWW-Authenticate: Bearer"));
            resp_free(&r);
        }
    resp r = http("GET", p[0], F->revoked, NULL);
    assert_non_null(strstr(r.text, "token 'old-admin' was revoked at 2025-01-02T00:00:00Z"));
    resp_free(&r);
    r = http("GET", p[0], F->expired, NULL);
    assert_non_null(strstr(r.text, "token 'temp-admin' expired at 2025-02-01T00:00:00Z"));
    resp_free(&r);
    /* Nothing was changed by any of them. */
    r = http("GET", p[1], F->admin, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "history")), 1);
    resp_free(&r);
    /* The log has the failed logins, without the tokens. */
    char *log = cft_slurp(F->s.log);
    assert_non_null(strstr(log, "failed login from 127.0.0.1: token 'old-admin' was revoked"));
    assert_non_null(strstr(log, "failed login from 127.0.0.1: token 'temp-admin' expired"));
    assert_null(strstr(log, F->revoked));
    assert_null(strstr(log, F->expired));
    assert_null(strstr(log, unknown));
    assert_null(strstr(log, F->admin));
    free(log);
    free(sid);
}

static void test_http_errors(void **state)
{
    (void)state;
    resp r = http("GET", "/v1/nothing", F->admin, NULL);
    expect(&r, 404, "unknown path");
    assert_string_equal(err_name(&r), "HTTP_NOT_FOUND");
    resp_free(&r);
    r = http("DELETE", "/v1/instances", F->admin, NULL);
    expect(&r, 405, "wrong method");
    resp_free(&r);
    r = http("GET", "/v1/instances/not-an-id", F->admin, NULL);
    expect(&r, 404, "malformed id");
    assert_string_equal(err_name(&r), "CF_ENOTFOUND");
    resp_free(&r);
    /* A body over --max-body (8192 here) is refused before anything runs. */
    size_t n = 20000;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    big[0] = '{';
    big[n - 1] = '}';
    r = http("POST", "/v1/instances", F->admin, big);
    expect(&r, 413, "body too large");
    assert_string_equal(err_name(&r), "HTTP_PAYLOAD_TOO_LARGE");
    resp_free(&r);
    free(big);
    /* The scheme is case-insensitive. */
    char hdr[200];
    snprintf(hdr, sizeof hdr, "Authorization: bearer %s\r\n", F->admin);
    r = http_raw(F->s.port, "GET", "/v1/instances?limit=1", hdr, NULL, 0);
    expect(&r, 200, "lower-case bearer");
    resp_free(&r);
    r = http("GET", "/v1/instances?limit=0", F->admin, NULL);
    expect(&r, 400, "limit 0");
    resp_free(&r);
}

static void test_rate_limit_public(void **state)
{
    fx *f = *state;
    server s;
    const char *extra[] = {"--rate-limit", "3", NULL};
    start_server(f, &s, extra);
    int codes[5];
    for (int i = 0; i < 5; i++) {
        resp r = http_raw(s.port, "GET", "/v1/registry?name=x", NULL, NULL, 0);
        check_openapi("GET", "/v1/registry", r.status, r.json);
        codes[i] = r.status;
        resp_free(&r);
    }
    assert_int_equal(codes[0], 200);
    assert_int_equal(codes[2], 200);
    assert_int_equal(codes[3], 429);
    assert_int_equal(codes[4], 429);
    /* Failed logins count too. */
    resp bad = http_raw(s.port, "GET", "/v1/instances", "Authorization: Bearer wrong\r\n", NULL, 0);
    assert_int_equal(bad.status, 429);
    resp_free(&bad);
    /* A valid token is not rate limited. */
    char hdr[200];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", f->admin);
    resp r = http_raw(s.port, "GET", "/v1/registry?name=x", hdr, NULL, 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(stop_server(&s), 0);
    char *log = cft_slurp(s.log);
    assert_non_null(strstr(log, "certflow serve: stopped"));
    free(log);
    free(s.log);
}

/* SIGTERM while a request is in flight: it is answered whole, then the server stops cleanly. */
static void test_graceful_stop(void **state)
{
    fx *f = *state;
    server s;
    start_server(f, &s, NULL);
    char *id = create(f->admin, "fresno"); /* on the group's server; s shares the database */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[1024];
    const char *body = "{\"data\": {\"email\": \"late@example.org\"}}";
    int n = snprintf(req, sizeof req,
                     "POST /v1/instances/%s/events/update HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\nExpect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
                     id, f->admin, strlen(body));
    assert_int_equal(write(fd, req, (size_t)n), n);
    /* The server has read the headers (it says 100 Continue), the body is not sent
     * yet: the request is in progress when SIGTERM comes. */
    char cont[64];
    size_t got = 0;
    while (got < 25) {
        ssize_t k = read(fd, cont + got, sizeof cont - 1 - got);
        assert_true(k > 0);
        got += (size_t)k;
    }
    cont[got] = '\0';
    assert_non_null(strstr(cont, "HTTP/1.1 100 Continue"));
    kill(s.pid, SIGTERM);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    char buf[4096];
    size_t len = 0;
    ssize_t k;
    while (len + 1 < sizeof buf && (k = read(fd, buf + len, sizeof buf - len - 1)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    close(fd);
    int st = 0;
    assert_int_equal(waitpid(s.pid, &st, 0), s.pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "\"applied\":true"));
    free(s.log);
    free(id);
}

/* Clients at once, on the pool's threads (each with its own engine handle): every
 * fire is applied once, none is lost or doubled. */
typedef struct worker {
    char id[40];
    int ok;
} worker;

static void *fire_many(void *ud)
{
    worker *w = ud;
    for (int i = 0; i < 10; i++) {
        char path[256], hdr[512], body[96];
        snprintf(path, sizeof path, "/v1/instances/%s/events/update", w->id);
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nIdempotency-Key: %s-%d\r\n", F->admin, w->id, i);
        int n = snprintf(body, sizeof body, "{\"data\": {\"email\": \"p%d@example.org\"}}", i);
        resp r = http_raw(F->s.port, "POST", path, hdr, body, (size_t)n);
        w->ok += r.status == 200 && json_is_true(json_object_get(r.json, "applied"));
        resp_free(&r);
    }
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    (void)state;
    enum { N = 4 };
    worker w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        char *id = create(F->admin, i % 2 ? "fresno" : "san_diego");
        snprintf(w[i].id, sizeof w[i].id, "%s", id);
        w[i].ok = 0;
        free(id);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fire_many, &w[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(w[i].ok, 10);
        char path[256];
        snprintf(path, sizeof path, "/v1/instances/%s/history", w[i].id);
        resp r = http("GET", path, F->admin, NULL);
        assert_int_equal(json_array_size(json_object_get(r.json, "history")), 11);
        resp_free(&r);
    }
}

/* SIGTERM while a request's body never comes: the server closes it after
 * --timeout, stops cleanly, and the request left no trace. */
static void test_stop_drops_unfinished_request(void **state)
{
    fx *f = *state;
    server s;
    const char *extra[] = {"--timeout", "1", NULL};
    start_server(f, &s, extra);
    char *id = create(f->admin, "fresno");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /v1/instances/%s/events/update HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n{\"data\"",
                     id, f->admin);
    assert_int_equal(write(fd, req, (size_t)n), n);
    char cont[64];
    size_t got = 0;
    while (got < 25) {
        ssize_t k = read(fd, cont + got, sizeof cont - 1 - got);
        assert_true(k > 0);
        got += (size_t)k;
    }
    kill(s.pid, SIGTERM);
    int st = 0;
    assert_int_equal(waitpid(s.pid, &st, 0), s.pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(fd);
    char path[256];
    snprintf(path, sizeof path, "/v1/instances/%s/history", id);
    resp r = http("GET", path, f->admin, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "history")), 1);
    resp_free(&r);
    free(s.log);
    free(id);
}

/* ---- docs/server.md: every example request is run, its status and top-level fields checked ---- */

static char *substitute(const char *text, const char *const *vars)
{
    size_t cap = strlen(text) * 2 + 1024, len = 0;
    char *out = malloc(cap);
    for (const char *p = text; *p;) {
        int hit = 0;
        for (size_t i = 0; vars[i]; i += 2) {
            size_t vl = strlen(vars[i]);
            if (strncmp(p, vars[i], vl) == 0) {
                size_t rl = strlen(vars[i + 1]);
                if (len + rl + 1 > cap)
                    out = realloc(out, cap = 2 * (len + rl + 1));
                memcpy(out + len, vars[i + 1], rl);
                len += rl;
                p += vl;
                hit = 1;
                break;
            }
        }
        if (!hit) {
            if (len + 2 > cap)
                out = realloc(out, cap *= 2);
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return out;
}

static void test_docs_examples(void **state)
{
    fx *f = *state;
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/server.md");
    char *id = create(f->admin, "san_diego");
    const char *vars[] = {"$ADMIN_TOKEN", f->admin, "$COUNTY_TOKEN", f->sd, "$INTEGRATION_TOKEN", f->sd_ehr,
                          "$ID", id, NULL};
    int examples = 0;
    for (char *p = doc; (p = strstr(p, "\n```http\n"));) {
        p += 9;
        char *end = strstr(p, "\n```\n");
        assert_non_null(end);
        char *block = strndup(p, (size_t)(end - p));
        /* The answer shown next: ```text starting "HTTP/1.1 NNN". */
        char *ans = strstr(end, "\n```text\nHTTP/1.1 ");
        assert_non_null(ans);
        int want = atoi(ans + 18);
        char *ans_end = strstr(ans + 9, "\n```\n");
        char *ans_body = strstr(ans, "\n\n");
        json_t *want_json = NULL;
        if (ans_body && ans_body < ans_end) {
            char *t = strndup(ans_body + 2, (size_t)(ans_end - ans_body - 2));
            want_json = json_loads(t, 0, NULL);
            if (!want_json)
                fail_msg("docs/server.md: the answer to\n%s\nis not JSON: %s", block, t);
            free(t);
        }
        char *req = substitute(block, vars);
        char method[16], path[512];
        assert_int_equal(sscanf(req, "%15s %511s", method, path), 2);
        char headers[1024] = "";
        char *line = strchr(req, '\n');
        char *body = NULL;
        while (line) {
            line++;
            char *nl = strchr(line, '\n');
            size_t ll = nl ? (size_t)(nl - line) : strlen(line);
            if (ll == 0) {
                body = nl ? nl + 1 : NULL;
                break;
            }
            size_t hl = strlen(headers);
            assert_true(hl + ll + 3 < sizeof headers);
            memcpy(headers + hl, line, ll);
            memcpy(headers + hl + ll, "\r\n", 3);
            line = nl;
        }
        resp r = http_raw(f->s.port, method, path, headers, body, body ? strlen(body) : 0);
        check_openapi(method, path, r.status, r.json);
        if (r.status != want)
            fail_msg("docs/server.md example\n%s\nanswered %d, the doc shows %d: %s", block, r.status, want, r.text);
        if (want_json) {
            const char *k;
            json_t *v;
            json_object_foreach(want_json, k, v) if (!json_object_get(r.json, k))
                fail_msg("docs/server.md example\n%s\nanswered without '%s': %s", block, k, r.text);
            json_object_foreach(r.json, k, v) if (!json_object_get(want_json, k))
                fail_msg("docs/server.md example\n%s\nanswered '%s', which the doc does not show: %s", block, k,
                         r.text);
        }
        json_decref(want_json);
        resp_free(&r);
        free(req);
        free(block);
        examples++;
        p = end;
    }
    /* Every path of the API has an example. */
    const char *tmpl;
    json_t *v;
    json_object_foreach(json_object_get(f->openapi, "paths"), tmpl, v) {
        char needle[200];
        snprintf(needle, sizeof needle, "%s", tmpl);
        char *brace = strchr(needle, '{');
        if (brace)
            *brace = '\0';
        char *found = strstr(doc, needle);
        if (!found)
            fail_msg("docs/server.md has no example of %s", tmpl);
    }
    assert_true(examples >= 14);
    free(id);
    free(doc);
}

/* token list shows every token, revoked and expired ones marked, and no secret;
 * token create refuses what it cannot make. */
static void test_token_command(void **state)
{
    fx *f = *state;
    const char *list[] = {"--db", f->db, "--now", "2025-03-01T00:00:00Z", "token", "list", "--json", NULL};
    cft_run r = cft_certflow(f->dir, list);
    assert_int_equal(r.code, 0);
    json_t *rows = json_loads(r.out, 0, NULL);
    assert_non_null(rows);
    assert_int_equal(json_array_size(rows), 6);
    size_t i;
    json_t *row;
    int revoked = 0, expiring = 0;
    json_array_foreach(rows, i, row) {
        revoked += json_is_string(json_object_get(row, "revoked_at"));
        expiring += json_is_string(json_object_get(row, "expires_at"));
    }
    assert_int_equal(revoked, 1);
    assert_int_equal(expiring, 1);
    json_decref(rows);
    assert_null(strstr(r.out, "cft_"));
    cft_run_free(&r);
    const char *norole[] = {"--db", f->db, "token", "create", "--name", "x", NULL};
    r = cft_certflow(f->dir, norole);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "--role"));
    cft_run_free(&r);
    const char *nocounty[] = {"--db", f->db, "token", "create", "--role", "county", NULL};
    r = cft_certflow(f->dir, nocounty);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "is for one county"));
    cft_run_free(&r);
    const char *listen[] = {"--db", f->db, "serve", "--listen", "localhost:http", NULL};
    r = cft_certflow(f->dir, listen);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "is not HOST:PORT"));
    cft_run_free(&r);
    const char *threads[] = {"--db", f->db, "serve", "--threads", "0", NULL};
    r = cft_certflow(f->dir, threads);
    assert_int_equal(r.code, 2);
    cft_run_free(&r);
    const char *taken[] = {"--db", f->db, "token", "create", "--role", "admin", "--name", "state-office", NULL};
    r = cft_certflow(f->dir, taken);
    assert_int_not_equal(r.code, 0);
    assert_non_null(strstr(r.err, "exists already"));
    assert_string_equal(r.out, "");
    cft_run_free(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_endpoints),
        cmocka_unit_test(test_admin_create_fire_history),
        cmocka_unit_test(test_county_cannot_see_other_county),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_bad_tokens_everywhere),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_rate_limit_public),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_stop_drops_unfinished_request),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_docs_examples),
        cmocka_unit_test(test_token_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
