/*
 * simulate.h — the parts of certflow simulate: the run (simulate.c), its talk
 * with the engine and its dates (sim_engine.c), who takes part (population.c),
 * what each agent does on a day (agents.c) and the randomness (random.h).
 * Everything goes through the public API.
 */
#ifndef CF_PROGRAM_SIMULATE_H
#define CF_PROGRAM_SIMULATE_H

#include "program.h"
#include "random.h"

/* ---- Who takes part (population.c) ---- */

typedef struct sim_county {
    const char *name;
    int weight; /* share of the people */
} sim_county;

extern const sim_county COUNTIES[6];
#define NCOUNTIES (sizeof COUNTIES / sizeof COUNTIES[0])
extern const char *const FIRST[24];
extern const char *const LAST[24];
extern const char *const PROVIDERS[4];

/* The most recent Code of Ethics (lua/policy/state.lua code_of_ethics_version): a renewal agrees to it. */
#define ETHICS_VERSION "2021-07-26"

enum { PW_INITIAL, PW_LEGACY, PW_RECIPROCITY };
extern const char *const PATHWAYS[3];

enum { RENEW_ON_TIME, RENEW_LATE, RENEW_NEVER };

#define NEVER INT64_MAX

typedef struct person {
    rng r;
    int index;
    char id[37];      /* the current application's certification instance ("" before the first) */
    char emp_id[37];  /* the employment instance, if hired */
    char name[64];
    int county;
    int pathway;
    int64_t born;     /* days since 1970 */
    int64_t next;     /* the next day the person (or the entity about them) acts */
    int64_t emp_next; /* the next day the employer acts */
    int64_t appt_day; /* the exam appointment */
    int reschedule;   /* moves the appointment a few days before it (EX_6) */
    int skill;        /* pass chance per attempt, percent */
    int renew_mode;
    int bad_provider; /* first training certificate from a provider not on the list */
    int accommodation, accommodation_done;
    int short_ce;     /* first renewal with too few CE hours */
    int specialize;   /* adds a specialization */
    int64_t spec_day;
    int hire;         /* 0 none, 1 while applying, 2 once certified */
    int cor_extension, extended, oqp;
    int complaint;    /* will be the subject of a complaint */
    int64_t complaint_day;
    int applications;
    int gave_up;
    int64_t renew_day; /* when the person acts on renewal */
    int renew_tries;
    int wants_award;  /* asks for a scholarship (SCH_1) */
    char award[48];   /* the award ID, once granted */
    unsigned covered; /* what the award has paid: 1 application fee, 2 training, 4 exam */
} person;

typedef struct supervisor {
    rng r;
    char id[37];
    int county;
    int64_t next;
    int step;
    int training_mode; /* 0 on time, 1 late, 2 not in the simulated years */
    int64_t started;
} supervisor;

typedef struct complaint {
    rng r;
    char id[37];
    int person;
    int64_t next;
    int appealed;
    int64_t decide_day; /* the investigation's end; past 90 days it is extended once */
} complaint;

typedef struct reason_count {
    char name[40];
    long long count;
} reason_count;

typedef struct sim {
    cli_run *r;
    cf_engine *e;
    cf_time now;
    uint64_t seed;
    int64_t day, first_day, last_day;
    person *people;
    size_t npeople;
    supervisor *sups;
    size_t nsups;
    complaint *complaints;
    size_t ncomplaints, cap_complaints;
    int has_employment, has_supervision, has_complaint, has_scholarship;
    char pool[37];    /* the scholarship pool */
    long long fired, applied, rejected, timers, created;
    long long in_batch; /* events and creations in the open batch (run_day, sim_batch_step) */
    reason_count reasons[64];
    size_t nreasons;
    int failed;       /* an engine error stopped the run; message printed */
    int exit_code;
    json_t *state_buf; /* scratch: the data of the instance last read, once parsed (NULL before) */
    char *data_text;   /* the data of the instance last read, as stored */
    size_t data_cap;
    char state[64];
} sim;

/* Draw the people and supervisors of the run (s->people, s->sups allocated). */
void sim_make_people(sim *s);

/* ---- Dates and talking to the engine (sim_engine.c) ---- */

/* "YYYY-MM-DD" of a day number into buf; returns buf. */
const char *sim_date_str(int64_t day, char buf[11]);
/* A known date of the program's history (a real date: cannot fail). */
int64_t sim_civil(int y, int m, int d);
/* Local midnight starting day in the engine's time zone. */
cf_time sim_midnight(const sim *s, int64_t day);
/* An ISO instant at hour:00 local time on day, as UTC text. */
const char *sim_instant_str(const sim *s, int64_t day, int hour, char buf[32]);

/* Print an engine error and stop the run: returns -1. */
int sim_engine_error(sim *s, int rc, const char *what, const char *id);
/* Fire event on id (data stolen): 1 applied, 0 rejected by policy (counted), -1 engine error. */
int sim_fire(sim *s, const char *id, const char *event, json_t *data, const char *actor);
/* Events of one batch of the run: past it the batch commits and the next begins. */
#define SIM_BATCH_EVENTS 1000
/* After an event or a creation: commit the batch and begin the next one once it holds
 * SIM_BATCH_EVENTS. 0, or -1 on an engine error. */
int sim_batch_step(sim *s);
/* Create an instance (data stolen) into id: 0, or -1 on an engine error. */
int sim_create(sim *s, const char *workflow, int county, json_t *data, const char *actor, char id[37]);
/* The award of the run's pool made to holder (the fees plugin's mirror, query fees.awards):
 * its id into award (NULL: not wanted) and *active. 1 found, 0 none, -1 engine error. */
int sim_award_of(sim *s, const char *holder, char award[48], int *active);
/* Read an instance's state and data into s->state and s->state_buf: 0 or -1. */
int sim_load(sim *s, const char *id);
/* A string (""), a borrowed value (NULL) or a date (NEVER) of the data last
 * loaded; what is in parentheses when absent. */
const char *sim_dstr(sim *s, const char *key);
json_t *sim_dget(sim *s, const char *key);
int64_t sim_ddate(sim *s, const char *key);
/* Two continuing-education records dated before s->day: enough hours, or too
 * few. New reference. */
json_t *sim_ce_list(sim *s, int enough);

/* ---- What the agents do on a day (agents.c): 0, or -1 when the run stops ---- */

int sim_person_act(sim *s, person *p);
int sim_employer_act(sim *s, person *p);
int sim_supervisor_act(sim *s, supervisor *v, size_t index);
int sim_complaint_file(sim *s, person *p);
int sim_complaint_act(sim *s, complaint *c);

#endif
