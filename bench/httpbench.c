/*
 * httpbench.c — `certflow serve` over HTTP (issue 15), run by scripts/bench.sh and
 * scripts/bench-pg.sh. Loopback only, a bounded number of requests.
 *
 *   httpbench CERTFLOW ROOT PLUGIN_DIR DB PEOPLE INSTANCES REQUESTS [PREFIX]
 *
 * DB is a file (removed and created afresh) or a postgresql:// URI (an empty
 * database). The database is prepared with the shipped program: `certflow
 * simulate --people PEOPLE --years 1` fills the registry, then INSTANCES
 * `certification` instances in draft are created through the public C API
 * (cf_instance_create) and an admin token (cf_token_create).
 *
 * First, on that database and through the C API, REQUESTS fires of `update`
 * (one transaction each, each with its own idempotency key) give the C API's
 * single-transaction rate. Then `certflow serve --listen 127.0.0.1:0` runs as a
 * child process on the same database (the port it prints is read from its
 * standard output) and, for 1, 4 and 16 client threads, each thread sends
 * REQUESTS requests of each kind over one keep-alive connection (libcurl):
 *   registry  GET /v1/registry?name=a&limit=20          (public, no token)
 *   show      GET /v1/instances/ID                      (admin token)
 *   fire      POST /v1/instances/ID/events/update        (admin token, Idempotency-Key)
 * Every answer must be 200; the latency of every request is kept and the
 * figures are printed as
 *     RESULT <PREFIX>http_<kind>_c<clients>_rps|_p50_ms|_p99_ms <value> <unit> <note>
 *     RESULT <PREFIX>capi_fire_tx <value> fires/s <note>
 * (bench/table.py prints them; PREFIX is pg_ on PostgreSQL). Everything else
 * goes to standard error.
 */
#define _POSIX_C_SOURCE 200809L
#include <certflow/certflow.h>

#include <curl/curl.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *prefix = "";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pid_t server_pid = -1;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "httpbench: %s: %s\n", what, detail ? detail : "");
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    exit(1);
}

static void result(const char *name, double value, const char *unit, const char *note)
{
    printf("RESULT %s%s %.6g %s %s\n", prefix, name, value, unit, note);
    fflush(stdout);
}

static int is_uri(const char *db)
{
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

/* ---- preparing the database ---- */

static char (*ids)[37];
static int n_ids;
static char token[CF_TOKEN_SECRET_SIZE];

static cf_engine *open_engine(const char *db, const char *root, const char *plugins, char *wf, char *pol,
                              size_t cap)
{
    snprintf(wf, cap, "%s/workflows", root);
    snprintf(pol, cap, "%s/lua", root);
    cf_options o = CF_OPTIONS_INIT;
    o.workflow_dir = wf;
    o.policy_dir = pol;
    o.plugin_dir = plugins;
    cf_engine *e = NULL;
    if (cf_engine_open(db, &o, &e) != CF_OK)
        die("cf_engine_open", cf_errmsg(e));
    return e;
}

static void run_simulate(const char *certflow, const char *root, const char *plugins, const char *db, int people)
{
    char wf[4096], pol[4096], n[32];
    snprintf(wf, sizeof wf, "%s/workflows", root);
    snprintf(pol, sizeof pol, "%s/lua", root);
    snprintf(n, sizeof n, "%d", people);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(certflow, certflow, "--db", db, "--workflows", wf, "--policies", pol, "--plugins", plugins,
              "simulate", "--people", n, "--years", "1", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("certflow simulate", "failed (its messages are above)");
}

/* The C API's single-transaction rate: `requests` fires of update, each its own transaction. */
static void capi_fires(cf_engine *e, int requests)
{
    char data[128], key[64];
    double t0 = now_s();
    for (int i = 0; i < requests; i++) {
        snprintf(data, sizeof data, "{\"email\":\"capi%d@example.org\"}", i);
        snprintf(key, sizeof key, "capi-%d", i);
        int rc = cf_instance_fire(e, ids[i % n_ids], "update", data, "bench", key, NULL);
        if (rc != CF_OK)
            die("cf_instance_fire update", cf_errmsg(e));
    }
    double dt = now_s() - t0;
    char note[64];
    snprintf(note, sizeof note, "%d_fires_1_per_tx_idempotency_key", requests);
    result("capi_fire_tx", requests / dt, "fires/s", note);
}

/* ---- the server ---- */

static unsigned start_server(const char *certflow, const char *root, const char *plugins, const char *db)
{
    char wf[4096], pol[4096];
    snprintf(wf, sizeof wf, "%s/workflows", root);
    snprintf(pol, sizeof pol, "%s/lua", root);
    int fd[2];
    if (pipe(fd) != 0)
        die("pipe", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        if (dup2(fd[1], 1) < 0 || !freopen("/dev/null", "w", stderr)) /* stderr: one line per request */
            _exit(127);
        close(fd[1]);
        execl(certflow, certflow, "--db", db, "--workflows", wf, "--policies", pol, "--plugins", plugins, "serve",
              "--listen", "127.0.0.1:0", "--rate-limit", "0", (char *)NULL);
        _exit(127);
    }
    server_pid = pid;
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    if (!f)
        die("fdopen", strerror(errno));
    char line[512];
    unsigned port = 0;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "http://127.0.0.1:");
        if (p && sscanf(p + 17, "%u", &port) == 1)
            break;
    }
    fclose(f); /* the server writes nothing more on standard output */
    if (port == 0)
        die("certflow serve", "did not print the address it listens on");
    return port;
}

static void stop_server(void)
{
    int st = 0;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, &st, 0);
    server_pid = -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "httpbench: certflow serve did not exit 0 on SIGTERM\n");
}

/* ---- the clients ---- */

enum kind { K_REGISTRY, K_SHOW, K_FIRE };
static const char *const KIND_NAME[] = {"registry", "show", "fire"};

struct client {
    pthread_t thread;
    unsigned port;
    enum kind kind;
    int index, clients, requests, round;
    double *lat; /* seconds, one per request */
    char err[256];
};

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void *client_run(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(c->err, sizeof c->err, "curl_easy_init failed");
        return NULL;
    }
    char auth[128], url[256], body[128], key[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    for (int i = 0; i < c->requests; i++) {
        struct curl_slist *hdr = NULL;
        /* Each client its own slice of the instances: no two clients fire at one instance. */
        int inst = c->index + c->clients * (i % (n_ids / c->clients));
        if (c->kind == K_REGISTRY) {
            snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/registry?name=a&limit=20", c->port);
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else if (c->kind == K_SHOW) {
            snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/instances/%s", c->port, ids[inst]);
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            hdr = curl_slist_append(hdr, auth);
        } else {
            snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/instances/%s/events/update", c->port, ids[inst]);
            snprintf(body, sizeof body, "{\"data\": {\"email\": \"c%d-%d-%d@example.org\"}}", c->clients, c->index, i);
            snprintf(key, sizeof key, "Idempotency-Key: http-r%d-c%d-%d-%d", c->round, c->clients, c->index, i);
            hdr = curl_slist_append(hdr, auth);
            hdr = curl_slist_append(hdr, key);
            hdr = curl_slist_append(hdr, "Content-Type: application/json");
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        double t0 = now_s();
        CURLcode rc = curl_easy_perform(h);
        c->lat[i] = now_s() - t0;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdr);
        if (rc != CURLE_OK || status != 200) {
            snprintf(c->err, sizeof c->err, "%s %.120s: %.60s, status %ld", KIND_NAME[c->kind], url,
                     rc != CURLE_OK ? curl_easy_strerror(rc) : "answered", status);
            break;
        }
    }
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static void measure(unsigned port, enum kind kind, int clients, int requests, int round)
{
    struct client *cs = calloc((size_t)clients, sizeof *cs);
    double *lat = calloc((size_t)clients * (size_t)requests, sizeof *lat);
    if (!cs || !lat)
        die("calloc", "out of memory");
    double t0 = now_s();
    for (int i = 0; i < clients; i++) {
        cs[i] = (struct client){.port = port, .kind = kind, .index = i, .clients = clients,
                                .requests = requests, .round = round, .lat = lat + (size_t)i * (size_t)requests};
        if (pthread_create(&cs[i].thread, NULL, client_run, &cs[i]) != 0)
            die("pthread_create", strerror(errno));
    }
    for (int i = 0; i < clients; i++)
        pthread_join(cs[i].thread, NULL);
    double dt = now_s() - t0;
    for (int i = 0; i < clients; i++)
        if (cs[i].err[0])
            die("request", cs[i].err);
    size_t n = (size_t)clients * (size_t)requests;
    qsort(lat, n, sizeof *lat, cmp_double);
    char name[64], note[96];
    snprintf(note, sizeof note, "%d_clients_x_%d_requests", clients, requests);
    snprintf(name, sizeof name, "http_%s_c%d_rps", KIND_NAME[kind], clients);
    result(name, (double)n / dt, "req/s", note);
    snprintf(name, sizeof name, "http_%s_c%d_p50_ms", KIND_NAME[kind], clients);
    result(name, percentile(lat, n, 0.50) * 1000, "ms", note);
    snprintf(name, sizeof name, "http_%s_c%d_p99_ms", KIND_NAME[kind], clients);
    result(name, percentile(lat, n, 0.99) * 1000, "ms", note);
    free(lat);
    free(cs);
}

int main(int argc, char **argv)
{
    if (argc < 8 || argc > 9) {
        fprintf(stderr, "usage: httpbench CERTFLOW ROOT PLUGIN_DIR DB PEOPLE INSTANCES REQUESTS [PREFIX]\n");
        return 2;
    }
    const char *certflow = argv[1], *root = argv[2], *plugins = argv[3], *db = argv[4];
    int people = atoi(argv[5]), instances = atoi(argv[6]), requests = atoi(argv[7]);
    if (argc == 9)
        prefix = argv[8];
    if (people < 0 || instances < 16 || requests < 1)
        die("arguments", "PEOPLE >= 0, INSTANCES >= 16 and REQUESTS >= 1");
    signal(SIGPIPE, SIG_IGN);

    if (!is_uri(db)) {
        char buf[4200];
        unlink(db);
        snprintf(buf, sizeof buf, "%s-wal", db);
        unlink(buf);
        snprintf(buf, sizeof buf, "%s-shm", db);
        unlink(buf);
    }
    double t0 = now_s();
    if (people > 0)
        run_simulate(certflow, root, plugins, db, people);
    char wf[4096], pol[4096];
    cf_engine *e = open_engine(db, root, plugins, wf, pol, sizeof wf);
    ids = calloc((size_t)instances, sizeof *ids);
    if (!ids)
        die("calloc", "out of memory");
    n_ids = instances;
    for (int i = 0; i < instances; i++) {
        char data[96];
        snprintf(data, sizeof data, "{\"name\":\"Bench Person %d\"}", i);
        if (cf_instance_create(e, "certification", "san_diego", data, "bench", ids[i]) != CF_OK)
            die("cf_instance_create", cf_errmsg(e));
    }
    if (cf_token_create(e, "httpbench", "admin", NULL, 0, "bench", token) != CF_OK)
        die("cf_token_create", cf_errmsg(e));
    fprintf(stderr, "httpbench: database ready (%d people simulated, %d instances) in %.1f s\n", people,
            instances, now_s() - t0);
    capi_fires(e, requests);
    cf_engine_close(e);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        die("curl_global_init", "failed");
    unsigned port = start_server(certflow, root, plugins, db);
    fprintf(stderr, "httpbench: certflow serve on 127.0.0.1:%u\n", port);
    static const int CLIENTS[] = {1, 4, 16};
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            measure(port, (enum kind)k, CLIENTS[c], requests, 1);
    stop_server();
    curl_global_cleanup();
    free(ids);
    return 0;
}
