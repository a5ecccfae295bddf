// bench/xstate/bench.mjs — the certflow benchmark workload (bench/fixtures/workflows/benchcert.lua)
// as an XState 5 machine: N actors, ten events each (event-major order, as certflow's run),
// one guard per transition reading the actor's context or the event. In memory only:
// nothing is written anywhere. Prints "RESULT xstate_send <sends/s> sends/s <note>".
import { createMachine, createActor } from 'xstate';

const n = Number(process.argv[2] || 10000);
const params = { max_attempts: 3, pass_score: 70, ce_hours_required: 20, max_lapses: 5 };

const machine = createMachine({
  id: 'benchcert',
  initial: 'applied',
  context: ({ input }) => input,
  states: {
    applied: { on: { review: { target: 'eligible', guard: 'has_degree' } } },
    eligible: { on: { schedule: { target: 'scheduled', guard: 'attempts_left' } } },
    scheduled: { on: { pass: { target: 'passed', guard: 'score_passing' } } },
    passed: { on: { issue: { target: 'certified', guard: 'background_clear' } } },
    certified: {
      on: {
        report_ce: { guard: 'ce_reported' }, // stays, like certflow's certified --report_ce--> certified
        renew: { target: 'certified', reenter: true, guard: 'ce_hours_met' },
        suspend: { target: 'suspended', guard: 'has_cause' },
        lapse: { target: 'lapsed', guard: 'not_renewed' },
      },
    },
    suspended: { on: { reinstate: { target: 'certified', guard: 'fines_paid' } } },
    lapsed: { on: { reapply: { target: 'eligible', guard: 'lapses_below_limit' } } },
  },
}, {
  guards: {
    has_degree: ({ context }) => context.degree === true,
    attempts_left: ({ context }) => context.attempts < params.max_attempts,
    score_passing: ({ event }) => event.score >= params.pass_score,
    background_clear: ({ context }) => context.background === 'clear',
    ce_reported: ({ event }) => event.hours > 0,
    ce_hours_met: ({ context }) => context.ce_hours >= params.ce_hours_required,
    has_cause: ({ event }) => event.cause !== undefined,
    fines_paid: ({ context }) => context.fines_due === 0,
    not_renewed: ({ context }) => context.renewals >= 0,
    lapses_below_limit: ({ context }) => context.lapses < params.max_lapses,
  },
});

const events = [
  { type: 'review' }, { type: 'schedule' }, { type: 'pass', score: 85 }, { type: 'issue' },
  { type: 'report_ce', hours: 6 }, { type: 'renew' }, { type: 'suspend', cause: 'audit' },
  { type: 'reinstate' }, { type: 'lapse' }, { type: 'reapply' },
];

function run() {
  const actors = new Array(n);
  for (let i = 0; i < n; i++) {
    actors[i] = createActor(machine, {
      input: { attempts: 1, background: 'clear', ce_hours: 24, degree: true, fines_due: 0, lapses: 0,
               name: 'Pat Example', renewals: 0 },
    }).start();
  }
  const t0 = process.hrtime.bigint();
  for (const ev of events)
    for (let i = 0; i < n; i++)
      actors[i].send(ev);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 100)))
    if (actors[i].getSnapshot().value !== 'eligible')
      throw new Error(`actor ${i} ended in ${actors[i].getSnapshot().value}`);
  for (const a of actors) a.stop();
  return (n * events.length) / dt;
}

run(); // warm-up (JIT)
let best = 0;
for (let r = 0; r < 3; r++) best = Math.max(best, run());
const xv = JSON.parse(await (await import('node:fs/promises')).readFile(
  new URL('./node_modules/xstate/package.json', import.meta.url))).version;
console.log(`RESULT xstate_send ${best.toPrecision(6)} sends/s ${n * 10}_sends_in_memory_best_of_3_xstate_${xv}_node_${process.version}`);
