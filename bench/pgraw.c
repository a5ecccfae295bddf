/*
 * pgraw.c — the raw libpq baseline for the PostgreSQL figures (scripts/bench-pg.sh):
 * the two statements a fire needs at least, UPDATE of the instance and INSERT of its
 * event, prepared and bound, per transaction or batched, on tables of its own.
 * Benchmark code, not certflow: it shows what PostgreSQL itself costs.
 *
 *   pgraw URI N PER_TX      N instances x 10 events, PER_TX events per transaction
 */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(PGconn *c, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "pgraw: %s: %s", what, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pgraw URI N PER_TX\n");
        return 2;
    }
    int n = atoi(argv[2]), per = atoi(argv[3]);
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pgraw: %s", PQerrorMessage(c));
        return 1;
    }
    check(c, PQexec(c, "SET client_min_messages = warning; DROP TABLE IF EXISTS raw_event; DROP TABLE IF EXISTS raw_instance;"
                       "CREATE TABLE raw_instance(id text PRIMARY KEY, state text NOT NULL, version bigint NOT NULL);"
                       "CREATE TABLE raw_event(seq bigserial PRIMARY KEY, instance_id text NOT NULL, event text NOT NULL,"
                       " data text NOT NULL, at bigint NOT NULL)"),
          "creating the tables");
    check(c, PQprepare(c, "ins", "INSERT INTO raw_instance VALUES($1, 'new', 0)", 0, NULL), "prepare");
    check(c, PQprepare(c, "upd", "UPDATE raw_instance SET state = $2, version = version + 1 WHERE id = $1", 0, NULL),
          "prepare");
    check(c, PQprepare(c, "evt", "INSERT INTO raw_event(instance_id, event, data, at) VALUES($1, $2, $3, $4)", 0, NULL),
          "prepare");
    char id[32];
    const char *v[4];
    check(c, PQexec(c, "BEGIN"), "begin");
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "i%d", i);
        v[0] = id;
        check(c, PQexecPrepared(c, "ins", 1, v, NULL, NULL, 0), "insert");
    }
    check(c, PQexec(c, "COMMIT"), "commit");
    double t0 = now_s();
    long in_tx = 0;
    for (int ev = 0; ev < 10; ev++)
        for (int i = 0; i < n; i++) {
            if (in_tx == 0)
                check(c, PQexec(c, "BEGIN"), "begin");
            char state[16], at[24];
            snprintf(id, sizeof id, "i%d", i);
            snprintf(state, sizeof state, "s%d", ev);
            snprintf(at, sizeof at, "%d", 1700000000 + ev);
            v[0] = id;
            v[1] = state;
            check(c, PQexecPrepared(c, "upd", 2, v, NULL, NULL, 0), "update");
            v[1] = state;
            v[2] = "{\"k\":1}";
            v[3] = at;
            check(c, PQexecPrepared(c, "evt", 4, v, NULL, NULL, 0), "insert");
            if (++in_tx >= per) {
                check(c, PQexec(c, "COMMIT"), "commit");
                in_tx = 0;
            }
        }
    if (in_tx)
        check(c, PQexec(c, "COMMIT"), "commit");
    double dt = now_s() - t0;
    printf("RESULT raw_libpq %.6g fires/s %d_fires_%d_per_tx\n", (double)n * 10 / dt, n * 10, per);
    PQfinish(c);
    return 0;
}
