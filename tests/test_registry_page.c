/*
 * test_registry_page.c — the public registry page of certflow serve (GET
 * /registry, GET /registry/NUMBER; docs/server.md "The registry page").
 * A simulated program (certflow simulate, seeded) fills a database whose
 * records hold private fields (email, address, birth date); the built certflow
 * serves it on an ephemeral loopback port on a fixed virtual clock.
 * - over a plain socket: the search, the verification page, escaping of what the
 *   caller sends, nothing private on any page, 404 for an unknown number, the
 *   public rate limit;
 * - in a real headless browser (Debian's chromium; the test is skipped when it
 *   is not installed, ctest label "browser"): load the page, search through the
 *   form's URL, open the first result, check the text, keep a screenshot in the
 *   build folder (registry_page.png, registry_certificate.png), and check basic
 *   accessibility rules on the DOM the browser built: lang, one h1 and no skipped
 *   heading level, a label for every input, and text/background contrast of the
 *   stylesheet's colours at least 4.5:1 (WCAG 2 relative luminance).
 * It also checks GET /v1/changes on the same simulated program: every change in
 * history order with its cursor, paging, county tokens, a long poll woken by a
 * suspension, and a reinstatement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOW "2024-01-02T20:00:00Z"

typedef struct fx {
    char *dir, *db;
    pid_t pid;
    int port;
    char id[64];        /* a certified instance */
    char number[32];    /* its certificate number */
    char email[128];    /* private fields it holds */
    char birth[16];
    char address[128];
    char county[64];    /* its county */
    char admin[128], own[128], other[128]; /* tokens: admin, its county, another county */
} fx;

/* ---- the server ---- */

static pid_t serve_threads(fx *f, const char *rate, const char *threads, int *port)
{
    const char *argv[] = {"certflow", "serve", "--db", f->db, "--workflows", CF_SOURCE_DIR "/workflows",
                          "--policies", CF_SOURCE_DIR "/lua", "--listen", "127.0.0.1:0", "--now", NOW,
                          "--rate-limit", rate, "--threads", threads, NULL};
    char *log = cft_path(f->dir, "serve.log");
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
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
    free(log);
    close(out[1]);
    /* It says where it listens once the socket is bound: no fixed wait. */
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
    *port = atoi(p + 10);
    assert_true(*port > 0);
    return pid;
}

static pid_t serve(fx *f, const char *rate, int *port)
{
    return serve_threads(f, rate, "2", port);
}

static void stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

typedef struct resp {
    int status;
    char *raw, *body;
} resp;

/* One request; headers ("Name: value\r\n" lines) and body may be NULL. */
static resp req(int port, const char *method, const char *path, const char *headers, const char *body)
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
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
                     method, path, headers ? headers : "", blen, body ? body : "");
    assert_true(n > 0 && (size_t)n < sizeof head);
    assert_int_equal(write(fd, head, (size_t)n), n);
    resp r = {0};
    size_t cap = 8192, len = 0;
    r.raw = malloc(cap);
    for (;;) {
        if (len + 2048 > cap)
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
    r.body = sep ? sep + 4 : r.raw + len;
    return r;
}

static resp get(int port, const char *path)
{
    return req(port, "GET", path, NULL, NULL);
}

/* ---- fixture ---- */

static void copy_field(const char *text, const char *key, char *out, size_t outsz)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\": \"", key);
    const char *p = strstr(text, needle);
    if (!p)
        fail_msg("the record holds no %s: %.300s", key, text);
    p += strlen(needle);
    size_t n = strcspn(p, "\"");
    assert_true(n > 0 && n < outsz);
    memcpy(out, p, n);
    out[n] = '\0';
}

static cft_run cf(fx *f, ...)
{
    const char *prefix[] = {"--db", f->db, "--workflows", CF_SOURCE_DIR "/workflows", "--policies",
                            CF_SOURCE_DIR "/lua", NULL};
    va_list ap;
    va_start(ap, f);
    cft_run r = cft_certflow_va(f->dir, prefix, ap);
    va_end(ap);
    if (r.code != 0)
        fail_msg("certflow exited %d: %s%s", r.code, r.out, r.err);
    return r;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "cf.db");
    cft_run r = cf(f, "simulate", "--people", "30", "--years", "1", "--seed", "3", NULL);
    cft_run_free(&r);
    r = cf(f, "--now", NOW, "list", "--workflow", "certification", "--state", "certified.active", NULL);
    /* the first row after the header */
    const char *row = strchr(r.out, '\n');
    assert_non_null(row);
    row++;
    size_t n = strcspn(row, " ");
    assert_true(n > 0 && n < sizeof f->id);
    memcpy(f->id, row, n);
    cft_run_free(&r);
    r = cf(f, "--now", NOW, "show", f->id, NULL);
    copy_field(r.out, "certification_number", f->number, sizeof f->number);
    copy_field(r.out, "email", f->email, sizeof f->email);
    copy_field(r.out, "birth_date", f->birth, sizeof f->birth);
    copy_field(r.out, "address", f->address, sizeof f->address);
    const char *c = strstr(r.out, "county:");
    assert_non_null(c);
    c += 7;
    while (*c == ' ')
        c++;
    snprintf(f->county, sizeof f->county, "%.*s", (int)strcspn(c, "\n"), c);
    cft_run_free(&r);
    const char *other = strcmp(f->county, "fresno") == 0 ? "kern" : "fresno";
    struct {
        char *out;
        const char *role, *county, *name;
    } toks[] = {{f->admin, "admin", NULL, "state-office"}, {f->own, "county", f->county, "own-county"},
                {f->other, "county", other, "other-county"}};
    for (int i = 0; i < 3; i++) {
        r = toks[i].county ? cf(f, "token", "create", "--role", toks[i].role, "--county", toks[i].county, "--name",
                                toks[i].name, NULL)
                           : cf(f, "token", "create", "--role", toks[i].role, "--name", toks[i].name, NULL);
        snprintf(toks[i].out, 128, "%.*s", (int)strcspn(r.out, "\n"), r.out);
        cft_run_free(&r);
    }
    f->pid = serve(f, "0", &f->port);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->pid)
        stop(f->pid);
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* Nothing private: none of the record's private values, nor its id, appear. */
static void nothing_private(const fx *f, const char *html)
{
    const char *priv[] = {f->email, f->birth, f->address, f->id, "@example.org", "birth", "email", NULL};
    for (int i = 0; priv[i]; i++)
        if (strstr(html, priv[i]))
            fail_msg("the page shows '%s', which is private:\n%s", priv[i], html);
}

/* ---- over a socket ---- */

static void test_search_and_verify(void **state)
{
    fx *f = *state;
    resp r = get(f->port, "/registry");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "Content-Type: text/html; charset=utf-8"));
    assert_non_null(strstr(r.body, "<html lang=\"en\">"));
    assert_non_null(strstr(r.body, "Registry last updated: 20"));
    assert_null(strstr(r.body, "<table")); /* no search yet, no results */
    assert_null(strstr(r.body, "<script"));
    free(r.raw);

    char path[256];
    snprintf(path, sizeof path, "/registry?q=%s", f->number);
    r = get(f->port, path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "1 certificate matches"));
    char link[128];
    snprintf(link, sizeof link, "<a href=\"/registry/%s\">%s</a>", f->number, f->number);
    assert_non_null(strstr(r.body, link));
    assert_non_null(strstr(r.body, "<td>active</td>"));
    nothing_private(f, r.body);
    free(r.raw);

    /* lower case number, and a name search */
    char lower[32];
    for (size_t i = 0; i <= strlen(f->number); i++)
        lower[i] = (char)tolower((unsigned char)f->number[i]);
    snprintf(path, sizeof path, "/registry?q=%s", lower);
    r = get(f->port, path);
    assert_non_null(strstr(r.body, link));
    free(r.raw);

    snprintf(path, sizeof path, "/registry/%s", f->number);
    r = get(f->port, path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<h1>Certificate verification</h1>"));
    assert_non_null(strstr(r.body, "<dd id=\"status\">active</dd>"));
    assert_non_null(strstr(r.body, "Verified on 2024-01-02."));
    char dd[64];
    snprintf(dd, sizeof dd, "<dd id=\"number\">%s</dd>", f->number);
    assert_non_null(strstr(r.body, dd));
    nothing_private(f, r.body);
    free(r.raw);

    /* every certificate's page and a search listing all: still nothing private */
    r = get(f->port, "/registry?q=a");
    assert_non_null(strstr(r.body, "<tbody>"));
    nothing_private(f, r.body);
    free(r.raw);
}

static void test_escapes_and_missing(void **state)
{
    fx *f = *state;
    resp r = get(f->port, "/registry?q=%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E%22");
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "<script"));
    assert_non_null(strstr(r.body, "value=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;\""));
    assert_non_null(strstr(r.body, "No certificates match"));
    free(r.raw);

    r = get(f->port, "/registry/CMPSS-%3Cb%3E");
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "<h1>Certificate not found</h1>"));
    assert_non_null(strstr(r.body, "CMPSS-&lt;b&gt;"));
    assert_null(strstr(r.body, "<b>"));
    free(r.raw);

    /* the private id of an instance is not a way in */
    char path[128];
    snprintf(path, sizeof path, "/registry/%s", f->id);
    r = get(f->port, path);
    assert_int_equal(r.status, 404);
    free(r.raw);

    r = get(f->port, "/registry?q=x&q=y");
    assert_int_equal(r.status, 200);
    free(r.raw);
}

static void test_rate_limited(void **state)
{
    fx *f = *state;
    int port = 0;
    pid_t pid = serve(f, "2", &port);
    resp a = get(port, "/registry?q=a"), b = get(port, "/registry"), c = get(port, "/registry/CMPSS-000001");
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_int_equal(c.status, 429);
    free(a.raw);
    free(b.raw);
    free(c.raw);
    stop(pid);
}


/* ---- GET /v1/changes ---- */

static json_t *changes_at(int port, const char *token, const char *query, int want)
{
    char hdr[256], path[256];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", token);
    snprintf(path, sizeof path, "/v1/changes%s", query);
    resp r = req(port, "GET", path, hdr, NULL);
    if (r.status != want)
        fail_msg("GET %s: expected %d, got %d: %s", path, want, r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    free(r.raw);
    return j;
}

static json_t *changes(fx *f, const char *token, const char *query, int want)
{
    return changes_at(f->port, token, query, want);
}

static void fire_at(fx *f, int port, const char *event, const char *data)
{
    char hdr[256], path[256];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", f->admin);
    snprintf(path, sizeof path, "/v1/instances/%s/events/%s", f->id, event);
    resp r = req(port, "POST", path, hdr, data);
    if (r.status != 200 || !strstr(r.body, "\"applied\":true"))
        fail_msg("%s: %d %s", event, r.status, r.body);
    free(r.raw);
}

static void fire(fx *f, const char *event, const char *data)
{
    fire_at(f, f->port, event, data);
}

typedef struct poll_arg {
    fx *f;
    char query[128];
    json_t *answer;
    int port; /* 0: the fixture's server */
} poll_arg;

static void *long_poll(void *ud)
{
    poll_arg *a = ud;
    a->answer = changes_at(a->port ? a->port : a->f->port, a->f->own, a->query, 200);
    return NULL;
}

/* The change of kind for our certificate in list, or NULL. */
static json_t *find_change(json_t *list, const char *number, const char *kind)
{
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) if (strcmp(json_string_value(json_object_get(c, "certification_number")), number) ==
                                           0 &&
                                       strcmp(json_string_value(json_object_get(c, "change")), kind) == 0) return c;
    return NULL;
}

static void test_changes_feed(void **state)
{
    fx *f = *state;
    json_t *all = changes(f, f->admin, "?limit=1000", 200);
    json_t *list = json_object_get(all, "changes");
    assert_true(json_array_size(list) > 2);
    assert_false(json_is_true(json_object_get(all, "more")));
    /* in order, each a registry change, and our certificate's issue is among them at
     * the history row that entered certified.active */
    json_int_t last = 0;
    size_t i;
    json_t *c;
    static const char *const kinds[] = {"certified", "renewed", "expired", "suspended", "revoked", "reinstated"};
    json_array_foreach(list, i, c) {
        json_int_t cur = json_integer_value(json_object_get(c, "cursor"));
        assert_true(cur > last);
        last = cur;
        int known = 0;
        for (int k = 0; k < 6; k++)
            known |= strcmp(json_string_value(json_object_get(c, "change")), kinds[k]) == 0;
        assert_true(known);
    }
    assert_true(json_integer_value(json_object_get(all, "next")) >= last); /* the last row read */
    json_t *mine = find_change(list, f->number, "certified");
    assert_non_null(mine);
    char hdr[256], path[256];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", f->admin);
    snprintf(path, sizeof path, "/v1/instances/%s/history", f->id);
    resp h = req(f->port, "GET", path, hdr, NULL);
    json_t *hist = json_loads(h.body, 0, NULL);
    free(h.raw);
    json_int_t want = -1;
    json_array_foreach(json_object_get(hist, "history"), i, c) if (want < 0 &&
                                                                   strcmp(json_string_value(json_object_get(c, "to")),
                                                                          "certified.active") == 0) want =
        json_integer_value(json_object_get(c, "seq"));
    json_decref(hist);
    assert_int_equal(json_integer_value(json_object_get(mine, "cursor")), want);

    /* paging: limit cuts, next continues exactly after */
    json_t *page = changes(f, f->admin, "?limit=2", 200);
    assert_true(json_is_true(json_object_get(page, "more")));
    assert_int_equal(json_array_size(json_object_get(page, "changes")), 2);
    char q[128];
    snprintf(q, sizeof q, "?after=%lld&limit=1", (long long)json_integer_value(json_object_get(page, "next")));
    json_t *rest = changes(f, f->admin, q, 200);
    assert_true(json_equal(json_array_get(json_object_get(rest, "changes"), 0), json_array_get(list, 2)));
    json_decref(page);
    json_decref(rest);

    /* a county token sees its county's changes, all of them, and only those */
    json_t *own = changes(f, f->own, "?limit=1000", 200);
    size_t n_county = 0;
    json_array_foreach(list, i, c) n_county += strcmp(json_string_value(json_object_get(c, "county")), f->county) == 0;
    assert_int_equal(json_array_size(json_object_get(own, "changes")), n_county);
    json_array_foreach(json_object_get(own, "changes"), i, c)
        assert_string_equal(json_string_value(json_object_get(c, "county")), f->county);
    json_decref(own);
    json_t *other = changes(f, f->other, "?limit=1000", 200);
    assert_null(find_change(json_object_get(other, "changes"), f->number, "certified"));
    json_decref(other);
    snprintf(q, sizeof q, "?county=%s", f->county);
    json_decref(changes(f, f->other, q, 403));
    json_decref(changes(f, f->admin, "?after=x", 400));
    json_decref(changes(f, f->admin, "?wait=31", 400));
    json_decref(changes(f, f->admin, "?limit=0", 400));

    /* long poll: a suspension recorded while the county's client waits reaches it
     * (recorded by another process on the same database: a waiting request holds its
     * worker thread, docs/server.md) */
    poll_arg a = {f, "", NULL, 0};
    snprintf(a.query, sizeof a.query, "?after=%lld&wait=30", (long long)last);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, long_poll, &a), 0);
    cft_run fr = cf(f, "--now", NOW, "fire", f->id, "suspend", "--data", "{\"reason\": \"test\"}", "--actor",
                    "board", NULL);
    cft_run_free(&fr);
    pthread_join(t, NULL);
    json_t *s = find_change(json_object_get(a.answer, "changes"), f->number, "suspended");
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "suspended");
    assert_string_equal(json_string_value(json_object_get(s, "actor")), "board");
    json_decref(a.answer);
    /* lifting it reinstates; a rejected event is no change */
    fire(f, "lift_suspension", "{}");
    snprintf(q, sizeof q, "?after=%lld", (long long)last);
    json_t *after = changes(f, f->own, q, 200);
    json_t *got = json_object_get(after, "changes");
    assert_int_equal(json_array_size(got), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "change")), "suspended");
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 1), "change")), "reinstated");
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 1), "status")), "active");
    json_decref(after);
    /* nothing new for the other county, even waiting */
    snprintf(q, sizeof q, "?after=%lld&wait=1", (long long)last);
    json_t *none = changes(f, f->other, q, 200);
    assert_int_equal(json_array_size(json_object_get(none, "changes")), 0);
    assert_true(json_integer_value(json_object_get(none, "next")) >= last);
    json_decref(none);
    json_decref(all);
}

/* A long poll holds no worker thread while it waits: on a server with ONE
 * worker thread, three clients wait for changes, other requests are answered
 * meanwhile, and a suspension fired over HTTP on that same server (which could
 * not run if a waiting poll held the thread) wakes all three with it. */
static void test_long_poll_holds_no_thread(void **state)
{
    fx *f = *state;
    int port = 0;
    pid_t pid = serve_threads(f, "0", "1", &port);
    json_t *now = changes_at(port, f->own, "?limit=1000", 200);
    json_int_t cursor = json_integer_value(json_object_get(now, "next"));
    json_decref(now);
    enum { N = 3 };
    poll_arg a[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].f = f;
        a[i].port = port;
        snprintf(a[i].query, sizeof a[i].query, "?after=%lld&wait=30", (long long)cursor);
        assert_int_equal(pthread_create(&t[i], NULL, long_poll, &a[i]), 0);
    }
    resp h = get(port, "/v1/health");
    assert_int_equal(h.status, 200);
    free(h.raw);
    fire_at(f, port, "suspend", "{\"reason\": \"poll test\"}");
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        json_t *c = find_change(json_object_get(a[i].answer, "changes"), f->number, "suspended");
        if (!c)
            fail_msg("long poll %d did not get the suspension: %s", i, json_dumps(a[i].answer, 0));
        json_decref(a[i].answer);
    }
    fire_at(f, port, "lift_suspension", "{}");
    /* a poll waiting when the server stops is answered (with nothing) and the stop is
     * clean: the poll's connection is made before the health request is answered, so
     * the server has it when SIGTERM comes, waiting or about to */
    now = changes_at(port, f->own, "?limit=1000", 200);
    char path[160], request[512];
    snprintf(path, sizeof path, "/v1/changes?after=%lld&wait=30",
             (long long)json_integer_value(json_object_get(now, "next")));
    json_decref(now);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n\r\n", path,
                     f->own);
    assert_int_equal(write(fd, request, (size_t)n), n);
    h = get(port, "/v1/health"); /* answered while the poll waits, on the one thread */
    assert_int_equal(h.status, 200);
    free(h.raw);
    stop(pid);
    char buf[4096];
    size_t len = 0;
    ssize_t k;
    while (len + 1 < sizeof buf && (k = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    close(fd);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "\"changes\":[]"));
}

/* ---- in a headless browser ---- */

static const char *chromium_path(void)
{
    static const char *const cands[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", NULL};
    for (int i = 0; cands[i]; i++)
        if (access(cands[i], X_OK) == 0)
            return cands[i];
    return NULL;
}

/* Run chromium headless on url; with shot, a screenshot there, else the DOM
 * (returned, malloc'd). */
static char *browse(fx *f, const char *url, const char *shot)
{
    char *profile = cft_path(f->dir, "chromium-profile"), *out = cft_path(f->dir, "chromium.out");
    char prof_arg[600], shot_arg[600];
    snprintf(prof_arg, sizeof prof_arg, "--user-data-dir=%s", profile);
    snprintf(shot_arg, sizeof shot_arg, "--screenshot=%s", shot ? shot : "");
    const char *argv[] = {chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1000,900", prof_arg,
                          shot ? shot_arg : "--dump-dom", url, NULL};
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open("/dev/null", O_WRONLY);
        if (o < 0 || e < 0)
            _exit(126);
        setenv("HOME", f->dir, 1);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("chromium on %s exited with status %d", url, st);
    char *dom = shot ? NULL : cft_slurp(out);
    free(profile);
    free(out);
    return dom;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* WCAG 2 relative luminance of #rrggbb. */
static double luminance(const char *hex)
{
    unsigned rgb[3];
    if (sscanf(hex, "#%2x%2x%2x", &rgb[0], &rgb[1], &rgb[2]) != 3)
        fail_msg("not a #rrggbb colour: %.10s", hex);
    double c[3];
    for (int i = 0; i < 3; i++) {
        double v = rgb[i] / 255.0;
        c[i] = v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double contrast(const char *a, const char *b)
{
    double la = luminance(a), lb = luminance(b);
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

/* The value of property prop ("color:") inside the rule that starts with sel ("body{"). */
static const char *css_value(const char *css, const char *sel, const char *prop)
{
    const char *r = strstr(css, sel);
    if (!r)
        fail_msg("the stylesheet has no rule %s", sel);
    const char *end = strchr(r, '}');
    for (const char *p = r + strlen(sel); p && p < end; p = strchr(p, ';'), p = p ? p + 1 : NULL)
        if (strncmp(p, prop, strlen(prop)) == 0)
            return p + strlen(prop);
    fail_msg("rule %s sets no %s", sel, prop);
    return NULL;
}

/* Basic accessibility rules on a DOM as the browser built it. */
static void accessible(const char *dom)
{
    if (!strstr(dom, "<html lang=\"en\""))
        fail_msg("the page has no lang attribute");
    if (count(dom, "<h1") != 1)
        fail_msg("the page has %zu h1 headings, not one", count(dom, "<h1"));
    int last = 0;
    for (const char *p = dom; (p = strstr(p, "<h")); p++) {
        if (p[2] < '1' || p[2] > '6' || (p[3] != '>' && p[3] != ' '))
            continue;
        int level = p[2] - '0';
        if (level > last + 1)
            fail_msg("heading h%d follows h%d: a level is skipped", level, last);
        last = level;
    }
    for (const char *p = dom; (p = strstr(p, "<input")); p++) {
        const char *end = strchr(p, '>');
        const char *id = strstr(p, " id=\"");
        if (strstr(p, "type=\"hidden\"") && strstr(p, "type=\"hidden\"") < end)
            continue;
        if (!id || id > end)
            fail_msg("an input without an id (so without a label): %.80s", p);
        char want[200];
        size_t n = strcspn(id + 5, "\"");
        snprintf(want, sizeof want, "<label for=\"%.*s\">", (int)n, id + 5);
        if (!strstr(dom, want))
            fail_msg("input %.*s has no label", (int)n, id + 5);
    }
    const char *style = strstr(dom, "<style>");
    assert_non_null(style);
    char text[8], bg[8], link[8];
    snprintf(text, sizeof text, "%.7s", css_value(style, "body{", "color:"));
    snprintf(bg, sizeof bg, "%.7s", css_value(style, "body{", "background:"));
    snprintf(link, sizeof link, "%.7s", css_value(style, "a{", "color:"));
    if (contrast(text, bg) < 4.5)
        fail_msg("text %s on %s: contrast %.2f:1, under 4.5:1", text, bg, contrast(text, bg));
    if (contrast(link, bg) < 4.5)
        fail_msg("links %s on %s: contrast %.2f:1, under 4.5:1", link, bg, contrast(link, bg));
}

static void test_contrast_check_can_fail(void **state)
{
    (void)state;
    assert_true(contrast("#1a1a1a", "#ffffff") >= 4.5);
    assert_true(contrast("#777777", "#ffffff") < 4.5); /* a common grey that fails */
    assert_true(fabs(contrast("#000000", "#ffffff") - 21.0) < 1e-9);
}

static void test_in_browser(void **state)
{
    fx *f = *state;
    if (!chromium_path())
        skip(); /* apt-get install chromium (scripts/install-deps.sh); CI has it */
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/registry", f->port);
    char *dom = browse(f, url, NULL);
    assert_non_null(strstr(dom, "Peer Support Specialist Registry"));
    accessible(dom);
    free(dom);
    browse(f, url, CF_BINARY_DIR "/registry_page.png");

    /* the form submits by GET: its URL is the search */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/registry?q=%s", f->port, f->number);
    dom = browse(f, url, NULL);
    accessible(dom);
    assert_non_null(strstr(dom, "1 certificate matches"));
    nothing_private(f, dom);
    /* open the first result: the link the browser shows */
    const char *a = strstr(dom, "<a href=\"/registry/");
    assert_non_null(a);
    a += 9;
    size_t n = strcspn(a, "\"");
    snprintf(url, sizeof url, "http://127.0.0.1:%d%.*s", f->port, (int)n, a);
    free(dom);
    dom = browse(f, url, NULL);
    accessible(dom);
    assert_non_null(strstr(dom, "Certificate verification"));
    char dd[64];
    snprintf(dd, sizeof dd, "<dd id=\"number\">%s</dd>", f->number);
    assert_non_null(strstr(dom, dd));
    assert_non_null(strstr(dom, "<dd id=\"status\">active</dd>"));
    nothing_private(f, dom);
    free(dom);
    browse(f, url, CF_BINARY_DIR "/registry_certificate.png");
    char *png = cft_slurp(CF_BINARY_DIR "/registry_certificate.png");
    assert_non_null(png);
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contrast_check_can_fail),
        cmocka_unit_test(test_search_and_verify),
        cmocka_unit_test(test_escapes_and_missing),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_changes_feed),
        cmocka_unit_test(test_long_poll_holds_no_thread),
        cmocka_unit_test(test_in_browser),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
