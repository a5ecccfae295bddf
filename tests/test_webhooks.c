/*
 * test_webhooks.c — webhooks of certflow serve (docs/server.md, "Webhooks"):
 * the cf_webhook_* API (names, counties, URLs, removal, the cursor that only
 * moves forward), /v1/webhooks with the roles' rules, and delivery end to end: a
 * receiver thread here listens on the loopback address and checks each POST's
 * HMAC-SHA256 signature; the built certflow serves a simulated program as a
 * child process; the receiver refuses the first delivery (a retry must follow),
 * then holds one delivery unanswered while the test SIGKILLs the server; the
 * server is started again, and every registry change must have arrived, at least
 * once, in history order, each validly signed. Waits are bounded polls, never
 * fixed sleeps. The signature check examples of docs/server.md (Python and
 * JavaScript) are run on a real delivery when python3 / node are installed.
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
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOW "2024-01-02T20:00:00Z"
#define MAX_GOT 1024

/* ---- the receiver ---- */

typedef struct delivery {
    char hook[64];
    long long cursor;
    int delivery_matches; /* Certflow-Delivery is the body's cursor */
    char ts[32], sig[80];
    char body[2048]; /* checked once the test knows the secrets */
    size_t len;
} delivery;

typedef struct receiver {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char secrets[2][2][80]; /* {name, secret} */
    int nsecrets;
    delivery got[MAX_GOT];
    int ngot;
    int refuse_first;    /* answer 500 to the first delivery */
    int hold_at;         /* hold the delivery with this number (1-based) unanswered; 0: none */
    int holding, release;
    int stop;
    /* one delivery kept as it came, for the docs' examples */
    char sample_body[4096], sample_ts[32], sample_sig[80], sample_secret[80];
} receiver;

static const char *header(const char *head, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    for (const char *p = head; (p = strstr(p, "\r\n")) != NULL;) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            if (n >= outsz)
                n = outsz - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

static int check_sig(const char *secret, const char *ts, const char *body, size_t len, const char *sig)
{
    char msg[8192];
    int n = snprintf(msg, sizeof msg, "%s.", ts);
    if (n < 0 || (size_t)n + len > sizeof msg)
        return 0;
    memcpy(msg + n, body, len);
    unsigned char mac[32];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, (size_t)n + len, mac, &ml);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return strncmp(sig, "v1=", 3) == 0 && strcmp(sig + 3, hex) == 0;
}

static void *receive(void *ud)
{
    receiver *rc = ud;
    for (;;) {
        pthread_mutex_lock(&rc->lock);
        int stop = rc->stop;
        pthread_mutex_unlock(&rc->lock);
        if (stop)
            break;
        struct pollfd pf = {rc->fd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int c = accept(rc->fd, NULL, NULL);
        if (c < 0)
            continue;
        char buf[16384];
        size_t len = 0;
        char *end = NULL;
        long clen = -1;
        for (;;) {
            ssize_t k = read(c, buf + len, sizeof buf - 1 - len);
            if (k <= 0)
                break;
            len += (size_t)k;
            buf[len] = '\0';
            if (!end && (end = strstr(buf, "\r\n\r\n")) != NULL) {
                char v[32];
                clen = header(buf, "Content-Length", v, sizeof v) ? atol(v) : 0;
            }
            if (end && (long)(len - (size_t)(end + 4 - buf)) >= clen)
                break;
        }
        if (!end) {
            close(c);
            continue;
        }
        *end = '\0';
        const char *body = end + 4;
        char hook[64] = "", ts[32] = "", sig[80] = "", dl[32] = "";
        header(buf, "Certflow-Webhook", hook, sizeof hook);
        header(buf, "Certflow-Timestamp", ts, sizeof ts);
        header(buf, "Certflow-Signature", sig, sizeof sig);
        header(buf, "Certflow-Delivery", dl, sizeof dl);
        pthread_mutex_lock(&rc->lock);
        json_t *j = json_loads(body, 0, NULL);
        delivery *d = rc->ngot < MAX_GOT ? &rc->got[rc->ngot++] : NULL;
        if (d) {
            snprintf(d->hook, sizeof d->hook, "%s", hook);
            d->cursor = (long long)json_integer_value(json_object_get(j, "cursor"));
            d->delivery_matches = atoll(dl) == d->cursor;
            snprintf(d->ts, sizeof d->ts, "%s", ts);
            snprintf(d->sig, sizeof d->sig, "%s", sig);
            d->len = (size_t)clen < sizeof d->body ? (size_t)clen : 0;
            memcpy(d->body, body, d->len);
        }
        json_decref(j);
        int number = rc->ngot;
        int refuse = rc->refuse_first && number == 1;
        if (rc->hold_at && number == rc->hold_at) {
            rc->holding = 1;
            pthread_cond_broadcast(&rc->cond);
            while (!rc->release && !rc->stop)
                pthread_cond_wait(&rc->cond, &rc->lock);
            pthread_mutex_unlock(&rc->lock);
            close(c); /* never answered */
            continue;
        }
        pthread_cond_broadcast(&rc->cond);
        pthread_mutex_unlock(&rc->lock);
        const char *answer = refuse ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                    : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        ssize_t w = write(c, answer, strlen(answer));
        (void)w;
        close(c);
    }
    return NULL;
}

static void receiver_start(receiver *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rc->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rc->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(rc->fd, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(rc->fd, (struct sockaddr *)&a, &al), 0);
    rc->port = ntohs(a.sin_port);
    pthread_mutex_init(&rc->lock, NULL);
    pthread_cond_init(&rc->cond, NULL);
    assert_int_equal(pthread_create(&rc->thread, NULL, receive, rc), 0);
}

static void receiver_stop(receiver *rc)
{
    pthread_mutex_lock(&rc->lock);
    rc->stop = 1;
    pthread_cond_broadcast(&rc->cond);
    pthread_mutex_unlock(&rc->lock);
    pthread_join(rc->thread, NULL);
    close(rc->fd);
    pthread_cond_destroy(&rc->cond);
    pthread_mutex_destroy(&rc->lock);
}

/* ---- the server and a client ---- */

typedef struct fx {
    char *dir, *db;
    char admin[128], county_tok[128], county[64];
} fx;

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

static pid_t serve(fx *f, int *port)
{
    const char *argv[] = {"certflow", "serve", "--db", f->db, "--workflows", CF_SOURCE_DIR "/workflows",
                          "--policies", CF_SOURCE_DIR "/lua", "--listen", "127.0.0.1:0", "--now", NOW,
                          "--rate-limit", "0", "--threads", "2", NULL};
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
    return pid;
}

typedef struct resp {
    int status;
    char *raw;
    json_t *json;
} resp;

static resp http(int port, const char *method, const char *path, const char *token, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[4096];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, token, blen, body ? body : "");
    assert_int_equal(write(fd, head, (size_t)n), n);
    resp r = {0};
    size_t cap = 1 << 16, len = 0;
    r.raw = malloc(cap);
    for (;;) {
        if (len + 4096 > cap)
            r.raw = realloc(r.raw, cap *= 2);
        ssize_t k = read(fd, r.raw + len, cap - len - 1);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    r.raw[len] = '\0';
    close(fd);
    sscanf(r.raw, "HTTP/1.1 %d", &r.status);
    char *sep = strstr(r.raw, "\r\n\r\n");
    r.json = sep ? json_loads(sep + 4, 0, NULL) : NULL;
    return r;
}

static void resp_free(resp *r)
{
    free(r->raw);
    json_decref(r->json);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = cft_tmpdir();
    f->db = cft_path(f->dir, "cf.db");
    cft_run r = cf(f, "simulate", "--people", "12", "--years", "1", "--seed", "5", NULL);
    cft_run_free(&r);
    r = cf(f, "token", "create", "--role", "admin", "--name", "state-office", NULL);
    snprintf(f->admin, sizeof f->admin, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    cft_run_free(&r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->db);
    cft_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- the API ---- */

typedef struct seen {
    int n;
    char name[8][64];
    long long cursor[8];
    int removed[8];
} seen;

static int on_hook(void *ud, const cf_webhook_info *w)
{
    seen *s = ud;
    if (s->n < 8) {
        snprintf(s->name[s->n], 64, "%s", w->name);
        s->cursor[s->n] = w->cursor;
        s->removed[s->n] = w->removed_at != 0;
    }
    s->n++;
    return 0;
}

static int first_name(void *ud, const char *name)
{
    char *buf = ud;
    if (!buf[0])
        snprintf(buf, 64, "%s", name);
    return 0;
}

static void test_api(void **state)
{
    fx *f = *state;
    char *db = cft_path(f->dir, "api.db");
    cft_clock clock = {cft_time(NOW)};
    cf_engine *e = cft_open_fixture(db, &clock);
    free(db);
    char secret[CF_WEBHOOK_SECRET_SIZE];
    assert_int_equal(cf_webhook_create(e, "hr", "alameda", "https://hr.example.org/cf", 0, "t", secret), CF_OK);
    assert_int_equal(strncmp(secret, "whs_", 4), 0);
    assert_int_equal(strlen(secret), 68);
    /* refusals change nothing */
    assert_int_equal(cf_webhook_create(e, "hr", NULL, "https://x.org/", 0, "t", secret), CF_ECONFLICT);
    assert_int_equal(cf_webhook_create(e, "ftp", NULL, "ftp://x.org/", 0, "t", secret), CF_EINVAL);
    assert_non_null(strstr(cf_errmsg(e), "http://"));
    assert_int_equal(cf_webhook_create(e, "sp", NULL, "http://a b/", 0, "t", secret), CF_EINVAL);
    assert_int_equal(cf_webhook_create(e, "nohost", NULL, "http:///x", 0, "t", secret), CF_EINVAL);
    assert_int_equal(cf_webhook_create(e, "cty", "Not A County", "http://x/", 0, "t", secret), CF_EINVAL);
    assert_int_equal(cf_webhook_create(e, "", NULL, "http://x/", 0, "t", secret), CF_EINVAL);
    assert_int_equal(cf_webhook_create(e, "neg", NULL, "http://x/", -2, "t", secret), CF_EINVAL);
    /* from now on: the cursor is the history's head */
    char id[37], wf[64] = "";
    assert_int_equal(cf_workflow_names(e, first_name, wf), CF_OK);
    assert_int_equal(cf_instance_create(e, wf, "alameda", NULL, "t", id), CF_OK);
    assert_int_equal(cf_webhook_create(e, "later", NULL, "http://127.0.0.1:1/", -1, "t", secret), CF_OK);
    seen s = {0};
    assert_int_equal(cf_webhook_list(e, on_hook, &s), CF_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.name[0], "hr");
    assert_int_equal(s.cursor[0], 0);
    assert_true(s.cursor[1] > 0);
    /* progress moves the cursor forward only */
    int64_t hr = 1;
    assert_int_equal(cf_webhook_progress(e, hr, 5, 0, NULL), CF_OK);
    assert_int_equal(cf_webhook_progress(e, hr, 3, 2, "refused"), CF_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(cf_webhook_list(e, on_hook, &s), CF_OK);
    assert_int_equal(s.cursor[0], 5);
    assert_int_equal(cf_webhook_progress(e, hr, -1, 0, NULL), CF_EINVAL);
    /* removal: gone for deliveries, its name kept */
    assert_int_equal(cf_webhook_remove(e, "hr", "t"), CF_OK);
    assert_int_equal(cf_webhook_remove(e, "hr", "t"), CF_ENOTFOUND);
    assert_int_equal(cf_webhook_progress(e, hr, 6, 0, NULL), CF_ENOTFOUND);
    assert_int_equal(cf_webhook_create(e, "hr", NULL, "https://x.org/", 0, "t", secret), CF_ECONFLICT);
    memset(&s, 0, sizeof s);
    assert_int_equal(cf_webhook_list(e, on_hook, &s), CF_OK);
    assert_true(s.removed[0]);
    assert_false(s.removed[1]);
    cf_engine_close(e);
}

/* /v1/webhooks: admin any county, a county token its own only; another county's
 * subscription answers like a missing one; secrets are shown once. */
static void test_http_roles(void **state)
{
    fx *f = *state;
    char fresno[128], kern[128];
    cft_run r = cf(f, "token", "create", "--role", "county", "--county", "fresno", "--name", "fresno-staff", NULL);
    snprintf(fresno, sizeof fresno, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    cft_run_free(&r);
    r = cf(f, "token", "create", "--role", "integration", "--county", "kern", "--name", "kern-ehr", NULL);
    snprintf(kern, sizeof kern, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    cft_run_free(&r);
    int port = 0;
    pid_t pid = serve(f, &port);
    resp x = http(port, "POST", "/v1/webhooks", fresno, "{\"name\": \"fresno-hr\", \"url\": \"http://127.0.0.1:1/h\"}");
    assert_int_equal(x.status, 201);
    assert_string_equal(json_string_value(json_object_get(x.json, "county")), "fresno");
    assert_int_equal(strncmp(json_string_value(json_object_get(x.json, "secret")), "whs_", 4), 0);
    resp_free(&x);
    x = http(port, "POST", "/v1/webhooks", fresno,
             "{\"name\": \"steal\", \"url\": \"http://127.0.0.1:1/h\", \"county\": \"kern\"}");
    assert_int_equal(x.status, 403);
    resp_free(&x);
    x = http(port, "POST", "/v1/webhooks", kern, "{\"name\": \"kern-ehr\", \"url\": \"https://ehr.example.org/\"}");
    assert_int_equal(x.status, 201);
    resp_free(&x);
    x = http(port, "POST", "/v1/webhooks", f->admin, "{\"name\": \"state\", \"url\": \"gopher://x\"}");
    assert_int_equal(x.status, 400);
    resp_free(&x);
    x = http(port, "POST", "/v1/webhooks", f->admin, "{\"name\": \"fresno-hr\", \"url\": \"http://x/\"}");
    assert_int_equal(x.status, 409);
    resp_free(&x);
    x = http(port, "POST", "/v1/webhooks", "", "{\"name\": \"anon\", \"url\": \"http://x/\"}");
    assert_int_equal(x.status, 401);
    resp_free(&x);
    /* lists: a county sees its own only, never a secret */
    x = http(port, "GET", "/v1/webhooks", fresno, NULL);
    assert_int_equal(x.status, 200);
    json_t *list = json_object_get(x.json, "webhooks");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")), "fresno-hr");
    assert_null(strstr(x.raw, "whs_"));
    resp_free(&x);
    x = http(port, "GET", "/v1/webhooks", f->admin, NULL);
    assert_int_equal(json_array_size(json_object_get(x.json, "webhooks")), 2);
    resp_free(&x);
    /* removing another county's is like removing a missing one */
    x = http(port, "DELETE", "/v1/webhooks/fresno-hr", kern, NULL);
    resp y = http(port, "DELETE", "/v1/webhooks/no-such-hook", kern, NULL);
    assert_int_equal(x.status, 404);
    assert_int_equal(y.status, 404);
    resp_free(&x);
    resp_free(&y);
    x = http(port, "DELETE", "/v1/webhooks/fresno-hr", fresno, NULL);
    assert_int_equal(x.status, 200);
    resp_free(&x);
    x = http(port, "DELETE", "/v1/webhooks/kern-ehr", f->admin, NULL);
    assert_int_equal(x.status, 200);
    resp_free(&x);
    kill(pid, SIGTERM);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- delivery across a kill ---- */

/* Wait (bounded) until cond(rc) holds; the receiver signals each delivery. */
static int wait_for(receiver *rc, int (*cond)(receiver *, void *), void *ud, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&rc->lock);
    int ok;
    while (!(ok = cond(rc, ud))) {
        if (pthread_cond_timedwait(&rc->cond, &rc->lock, &until) == ETIMEDOUT) {
            ok = cond(rc, ud);
            break;
        }
    }
    pthread_mutex_unlock(&rc->lock);
    return ok;
}

static int is_holding(receiver *rc, void *ud)
{
    (void)ud;
    return rc->holding;
}

typedef struct expected {
    const char *hook;
    long long *cursors;
    size_t n;
} expected;

/* Every expected cursor of each hook has arrived (signatures are checked after). */
static int all_arrived(receiver *rc, void *ud)
{
    expected *ex = ud;
    for (int h = 0; h < 2; h++)
        for (size_t i = 0; i < ex[h].n; i++) {
            int found = 0;
            for (int k = 0; k < rc->ngot && !found; k++)
                found = strcmp(rc->got[k].hook, ex[h].hook) == 0 && rc->got[k].cursor == ex[h].cursors[i];
            if (!found)
                return 0;
        }
    return 1;
}

static void expect_changes(fx *f, int port, const char *token, expected *ex)
{
    resp x = http(port, "GET", "/v1/changes?limit=1000", token, NULL);
    assert_int_equal(x.status, 200);
    json_t *list = json_object_get(x.json, "changes");
    assert_false(json_is_true(json_object_get(x.json, "more")));
    ex->n = json_array_size(list);
    ex->cursors = calloc(ex->n + 1, sizeof *ex->cursors);
    for (size_t i = 0; i < ex->n; i++)
        ex->cursors[i] = (long long)json_integer_value(json_object_get(json_array_get(list, i), "cursor"));
    resp_free(&x);
    (void)f;
}

static int run_script(const char *interp, const char *script_path, const char *arg_dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s %s >/dev/null 2>&1", interp, script_path, arg_dir);
    return system(cmd);
}

static int have(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* The ```python and ```javascript blocks under "### Checking a signature" of docs/server.md. */
static char *doc_block(const char *lang)
{
    char *doc = cft_slurp(CF_SOURCE_DIR "/docs/server.md");
    assert_non_null(doc);
    const char *sec = strstr(doc, "### Checking a signature");
    assert_non_null(sec);
    char fence[32];
    snprintf(fence, sizeof fence, "```%s\n", lang);
    const char *b = strstr(sec, fence);
    assert_non_null(b);
    b += strlen(fence);
    const char *e = strstr(b, "```");
    assert_non_null(e);
    char *out = strndup(b, (size_t)(e - b));
    free(doc);
    return out;
}

/* Run the docs' example on a real delivery: valid as sent, invalid tampered, invalid when old. */
static void run_doc_example(fx *f, receiver *rc, const char *lang, const char *interp, const char *harness)
{
    char *code = doc_block(lang);
    size_t n = strlen(code) + strlen(harness) + 2;
    char *all = malloc(n);
    snprintf(all, n, "%s\n%s", code, harness);
    char name[32];
    snprintf(name, sizeof name, "check.%s", strcmp(lang, "python") == 0 ? "py" : "mjs");
    char *script = cft_write(f->dir, name, all);
    char *dir = cft_path(f->dir, "sample");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    assert_int_equal(system(cmd), 0);
    const char *files[][2] = {{"body", rc->sample_body}, {"ts", rc->sample_ts}, {"sig", rc->sample_sig},
                              {"secret", rc->sample_secret}};
    for (int i = 0; i < 4; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, files[i][0]);
        FILE *fp = fopen(p, "wb");
        assert_non_null(fp);
        fputs(files[i][1], fp);
        fclose(fp);
    }
    int st = run_script(interp, script, dir);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the %s signature check of docs/server.md did not accept a real delivery and refuse a tampered "
                 "or old one (exit %d)",
                 lang, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    free(script);
    free(dir);
    free(all);
    free(code);
}

static const char PY_HARNESS[] =
    "import sys, time\n"
    "d = sys.argv[1]\n"
    "r = lambda n: open(d + '/' + n, 'rb').read()\n"
    "body, ts, sig, secret = r('body'), r('ts').decode(), r('sig').decode(), r('secret').decode()\n"
    "now = int(ts) + 10\n"
    "ok = verify(secret, ts, sig, body, now=now)\n"
    "bad = verify(secret, ts, sig, body + b' ', now=now)\n"
    "old = verify(secret, ts, sig, body, now=int(ts) + 3600)\n"
    "sys.exit(0 if ok and not bad and not old else 1)\n";

static const char JS_HARNESS[] =
    "import { readFileSync } from 'node:fs';\n"
    "const d = process.argv[2];\n"
    "const r = (n) => readFileSync(d + '/' + n);\n"
    "const body = r('body'), ts = r('ts').toString(), sig = r('sig').toString(), secret = r('secret').toString();\n"
    "const now = Number(ts) + 10;\n"
    "const ok = verify(secret, ts, sig, body, now);\n"
    "const bad = verify(secret, ts, sig, Buffer.concat([body, Buffer.from(' ')]), now);\n"
    "const old = verify(secret, ts, sig, body, Number(ts) + 3600);\n"
    "process.exit(ok && !bad && !old ? 0 : 1);\n";

static void test_delivery_survives_kill(void **state)
{
    fx *f = *state;
    receiver *rc = calloc(1, sizeof *rc);
    receiver_start(rc);
    rc->refuse_first = 1;
    rc->hold_at = 4; /* the 1st is refused, its retry is the 2nd: the 4th is held while the server is killed */
    int port = 0;
    pid_t pid = serve(f, &port);

    /* the county of the first change, and a county token for it */
    expected ex[2] = {{"state-all", NULL, 0}, {"county-hr", NULL, 0}};
    expect_changes(f, port, f->admin, &ex[0]);
    assert_true(ex[0].n >= 6);
    resp x = http(port, "GET", "/v1/changes?limit=1", f->admin, NULL);
    snprintf(f->county, sizeof f->county, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(x.json, "changes"), 0), "county")));
    resp_free(&x);
    cft_run r = cf(f, "token", "create", "--role", "county", "--county", f->county, "--name", "county-staff", NULL);
    snprintf(f->county_tok, sizeof f->county_tok, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    cft_run_free(&r);
    expect_changes(f, port, f->county_tok, &ex[1]);
    assert_true(ex[1].n >= 1);

    /* subscribe both from the start of the history */
    char body[512];
    snprintf(body, sizeof body, "{\"name\": \"state-all\", \"url\": \"http://127.0.0.1:%d/all\", \"after\": 0}",
             rc->port);
    x = http(port, "POST", "/v1/webhooks", f->admin, body);
    assert_int_equal(x.status, 201);
    pthread_mutex_lock(&rc->lock);
    snprintf(rc->secrets[0][0], 80, "state-all");
    snprintf(rc->secrets[0][1], 80, "%s", json_string_value(json_object_get(x.json, "secret")));
    rc->nsecrets = 1;
    pthread_mutex_unlock(&rc->lock);
    resp_free(&x);
    snprintf(body, sizeof body, "{\"name\": \"county-hr\", \"url\": \"http://127.0.0.1:%d/county\", \"after\": 0}",
             rc->port);
    x = http(port, "POST", "/v1/webhooks", f->county_tok, body);
    assert_int_equal(x.status, 201);
    pthread_mutex_lock(&rc->lock);
    snprintf(rc->secrets[1][0], 80, "county-hr");
    snprintf(rc->secrets[1][1], 80, "%s", json_string_value(json_object_get(x.json, "secret")));
    rc->nsecrets = 2;
    pthread_mutex_unlock(&rc->lock);
    resp_free(&x);

    /* mid-delivery: the receiver holds one POST unanswered; kill the server then */
    if (!wait_for(rc, is_holding, NULL, 120))
        fail_msg("no delivery reached the receiver's hold (got %d deliveries)", rc->ngot);
    kill(pid, SIGKILL);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    pthread_mutex_lock(&rc->lock);
    long long held = rc->got[rc->hold_at - 1].cursor;
    char held_hook[64];
    snprintf(held_hook, sizeof held_hook, "%s", rc->got[rc->hold_at - 1].hook);
    rc->release = 1;
    pthread_cond_broadcast(&rc->cond);
    pthread_mutex_unlock(&rc->lock);

    /* started again: everything arrives */
    pid = serve(f, &port);
    if (!wait_for(rc, all_arrived, ex, 120))
        fail_msg("not every change arrived after the restart (%d deliveries)", rc->ngot);
    /* and the store records them delivered: each cursor reaches its last change
     * (bounded polling: the last acknowledgement is recorded just after it arrives) */
    int recorded = 0;
    for (int tries = 0; tries < 1200 && !recorded; tries++) {
        r = cf(f, "webhook", "list", "--json", NULL);
        json_t *hooks = json_loads(r.out, 0, NULL);
        cft_run_free(&r);
        int ok = 0;
        size_t i;
        json_t *w;
        json_array_foreach(hooks, i, w) {
            for (int h = 0; h < 2; h++)
                if (strcmp(json_string_value(json_object_get(w, "name")), ex[h].hook) == 0 &&
                    json_integer_value(json_object_get(w, "cursor")) >= ex[h].cursors[ex[h].n - 1])
                    ok++;
        }
        json_decref(hooks);
        recorded = ok == 2;
        if (!recorded) {
            struct timespec nap = {0, 50 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
    }
    if (!recorded)
        fail_msg("the webhooks' cursors did not reach the last change");
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* every delivery signed; per hook in history order (a redelivery repeats the
     * last unacknowledged one, never goes back further); the refused and the held
     * ones were sent again */
    pthread_mutex_lock(&rc->lock);
    int n = rc->ngot;
    for (int h = 0; h < 2; h++) {
        long long last = -1;
        size_t distinct = 0;
        int held_again = 0;
        for (int k = 0; k < n; k++) {
            delivery *d = &rc->got[k];
            if (strcmp(d->hook, ex[h].hook) != 0)
                continue;
            const char *secret = "";
            for (int i = 0; i < rc->nsecrets; i++)
                if (strcmp(rc->secrets[i][0], d->hook) == 0)
                    secret = rc->secrets[i][1];
            if (!d->len || !d->delivery_matches || !check_sig(secret, d->ts, d->body, d->len, d->sig))
                fail_msg("delivery %d of %s (cursor %lld) is not validly signed", k, d->hook, d->cursor);
            if (!rc->sample_body[0]) { /* one kept for the docs' examples */
                memcpy(rc->sample_body, d->body, d->len);
                rc->sample_body[d->len] = '\0';
                snprintf(rc->sample_ts, sizeof rc->sample_ts, "%s", d->ts);
                snprintf(rc->sample_sig, sizeof rc->sample_sig, "%s", d->sig);
                snprintf(rc->sample_secret, sizeof rc->sample_secret, "%s", secret);
            }
            if (d->cursor < last)
                fail_msg("%s: cursor %lld arrived after %lld: out of order", d->hook, d->cursor, last);
            if (d->cursor > last)
                distinct++;
            if (d->cursor == held && strcmp(d->hook, held_hook) == 0 && k != rc->hold_at - 1)
                held_again = 1;
            last = d->cursor;
        }
        assert_int_equal(distinct, ex[h].n);
        if (strcmp(ex[h].hook, held_hook) == 0)
            assert_true(held_again);
    }
    int refused_again = 0; /* the first delivery was refused: it was sent again */
    for (int k = 1; k < n; k++)
        refused_again |= rc->got[k].cursor == rc->got[0].cursor && strcmp(rc->got[k].hook, rc->got[0].hook) == 0;
    assert_true(refused_again);
    pthread_mutex_unlock(&rc->lock);

    /* docs/server.md's signature checks, on a real delivery */
    if (have("python3"))
        run_doc_example(f, rc, "python", "python3", PY_HARNESS);
    else
        fprintf(stderr, "python3 not installed: the Python signature example is not run\n");
    if (have("node"))
        run_doc_example(f, rc, "javascript", "node", JS_HARNESS);
    else
        fprintf(stderr, "node not installed: the JavaScript signature example is not run\n");

    receiver_stop(rc);
    free(rc);
    free(ex[0].cursors);
    free(ex[1].cursors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_http_roles),
        cmocka_unit_test(test_delivery_survives_kill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
