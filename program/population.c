/*
 * population.c — who takes part in certflow simulate: the counties and their
 * weights, the names, the training providers, and each person's and
 * supervisor's traits, drawn from their own random streams (random.h).
 */
#include "simulate.h"

#include <stdio.h>
#include <string.h>

const sim_county COUNTIES[] = {
    {"san_diego", 26}, {"los_angeles", 30}, {"alameda", 14}, {"sacramento", 12}, {"fresno", 10}, {"humboldt", 8},
};

const char *const FIRST[] = {"Ana", "Luis", "Maria", "James", "Keisha", "Tran", "Sofia", "Daniel",
                             "Aaliyah", "Miguel", "Grace", "Omar", "Linh", "Robert", "Yesenia", "Marcus",
                             "Priya", "Jose", "Hannah", "Andre", "Mei", "Carlos", "Fatima", "Tyler"};
const char *const LAST[] = {"Reyes", "Nguyen", "Johnson", "Garcia", "Smith", "Lopez", "Kim", "Williams",
                            "Hernandez", "Brown", "Martinez", "Davis", "Patel", "Lee", "Gonzalez", "Wilson",
                            "Flores", "Chen", "Rodriguez", "Jackson", "Ramirez", "Tanaka", "Moore", "Silva"};
const char *const PROVIDERS[] = {"Peer Academy", "Recovery Works Institute", "CalPeer Training Center",
                                 "Hope Learning Collaborative"};

const char *const PATHWAYS[] = {"initial", "legacy", "reciprocity"};

void sim_make_people(sim *s)
{
    rng world = rng_stream(s->seed, 0, 0);
    int total = 0;
    for (size_t c = 0; c < NCOUNTIES; c++)
        total += COUNTIES[c].weight;
    int64_t span = s->last_day - s->first_day;
    int64_t legacy_deadline = sim_civil(2023, 6, 30);
    for (size_t i = 0; i < s->npeople; i++) {
        person *p = &s->people[i];
        memset(p, 0, sizeof *p);
        p->r = rng_stream(s->seed, 1, i);
        p->index = (int)i;
        int w = (int)between(&world, 0, total - 1);
        for (p->county = 0; w >= COUNTIES[p->county].weight; p->county++)
            w -= COUNTIES[p->county].weight;
        snprintf(p->name, sizeof p->name, "%s %s", PICK(&p->r, FIRST), PICK(&p->r, LAST));
        /* arrivals over the first four fifths, so the early ones reach their renewal */
        p->next = s->first_day + between(&p->r, 0, span * 4 / 5);
        int roll = (int)between(&p->r, 0, 99);
        p->pathway = roll < 8 ? PW_LEGACY : roll < 15 ? PW_RECIPROCITY : PW_INITIAL;
        if (p->pathway == PW_LEGACY) {
            /* before the deadline mostly; some come too late */
            if (s->first_day <= legacy_deadline && !chance(&p->r, 20))
                p->next = s->first_day + between(&p->r, 0, legacy_deadline - s->first_day);
        }
        if (chance(&p->r, 3)) /* 17 at the first try */
            p->born = p->next - (17 * 36525 / 100) - between(&p->r, 30, 300);
        else
            p->born = p->next - between(&p->r, 19 * 365, 64 * 365);
        p->skill = (int)between(&p->r, 55, 85);
        roll = (int)between(&p->r, 0, 99);
        p->renew_mode = roll < 65 ? RENEW_ON_TIME : roll < 80 ? RENEW_LATE : RENEW_NEVER;
        p->bad_provider = chance(&p->r, 5);
        p->accommodation = chance(&p->r, 5);
        p->short_ce = chance(&p->r, 10);
        p->specialize = chance(&p->r, 25);
        roll = (int)between(&p->r, 0, 99);
        p->hire = roll < 20 ? 1 : roll < 40 ? 2 : 0;
        p->cor_extension = chance(&p->r, 25);
        p->complaint = chance(&p->r, 7);
        p->wants_award = p->pathway == PW_RECIPROCITY ? chance(&p->r, 5) : chance(&p->r, 25);
        p->emp_next = NEVER;
    }
    for (size_t i = 0; i < s->nsups; i++) {
        supervisor *v = &s->sups[i];
        memset(v, 0, sizeof *v);
        v->r = rng_stream(s->seed, 2, i);
        v->county = (int)(i % NCOUNTIES);
        v->next = s->first_day + between(&v->r, 0, span * 3 / 4);
        int roll = (int)between(&v->r, 0, 99);
        v->training_mode = roll < 70 ? 0 : roll < 90 ? 1 : 2;
    }
}
