"""bench/python/bench.py — the certflow benchmark workload (bench/fixtures/workflows/benchcert.lua)
with the Python `transitions` library (Debian python3-transitions): N models, ten events each
(event-major order, as certflow's run), one condition per transition reading the model's data or
the event's. In memory only. Prints "RESULT python_transitions <triggers/s> triggers/s <note>"."""
import sys
import time

import transitions
from transitions import Machine

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
PARAMS = {"max_attempts": 3, "pass_score": 70, "ce_hours_required": 20, "max_lapses": 5}


class Cert:
    def __init__(self):
        self.data = {"attempts": 1, "background": "clear", "ce_hours": 24, "degree": True, "fines_due": 0,
                     "lapses": 0, "name": "Pat Example", "renewals": 0}

    def has_degree(self, **ev): return self.data["degree"] is True
    def attempts_left(self, **ev): return self.data["attempts"] < PARAMS["max_attempts"]
    def score_passing(self, **ev): return ev["score"] >= PARAMS["pass_score"]
    def background_clear(self, **ev): return self.data["background"] == "clear"
    def ce_reported(self, **ev): return ev["hours"] > 0
    def ce_hours_met(self, **ev): return self.data["ce_hours"] >= PARAMS["ce_hours_required"]
    def has_cause(self, **ev): return ev.get("cause") is not None
    def fines_paid(self, **ev): return self.data["fines_due"] == 0
    def not_renewed(self, **ev): return self.data["renewals"] >= 0
    def lapses_below_limit(self, **ev): return self.data["lapses"] < PARAMS["max_lapses"]


STATES = ["applied", "eligible", "scheduled", "passed", "certified", "suspended", "lapsed"]
TRANSITIONS = [
    {"trigger": "review", "source": "applied", "dest": "eligible", "conditions": "has_degree"},
    {"trigger": "schedule", "source": "eligible", "dest": "scheduled", "conditions": "attempts_left"},
    {"trigger": "pass_exam", "source": "scheduled", "dest": "passed", "conditions": "score_passing"},
    {"trigger": "issue", "source": "passed", "dest": "certified", "conditions": "background_clear"},
    {"trigger": "report_ce", "source": "certified", "dest": None, "conditions": "ce_reported"},  # internal
    {"trigger": "renew", "source": "certified", "dest": "certified", "conditions": "ce_hours_met"},  # re-entered
    {"trigger": "suspend", "source": "certified", "dest": "suspended", "conditions": "has_cause"},
    {"trigger": "reinstate", "source": "suspended", "dest": "certified", "conditions": "fines_paid"},
    {"trigger": "lapse", "source": "certified", "dest": "lapsed", "conditions": "not_renewed"},
    {"trigger": "reapply", "source": "lapsed", "dest": "eligible", "conditions": "lapses_below_limit"},
]
EVENTS = [("review", {}), ("schedule", {}), ("pass_exam", {"score": 85}), ("issue", {}), ("report_ce", {"hours": 6}),
          ("renew", {}), ("suspend", {"cause": "audit"}), ("reinstate", {}), ("lapse", {}), ("reapply", {})]


def run():
    models = [Cert() for _ in range(N)]
    Machine(model=models, states=STATES, transitions=TRANSITIONS, initial="applied", auto_transitions=False,
            send_event=False)
    t0 = time.perf_counter()
    for name, kw in EVENTS:
        for m in models:
            if not getattr(m, name)(**kw):
                raise SystemExit(f"{name} refused")
    dt = time.perf_counter() - t0
    assert all(m.state == "eligible" for m in models[:: max(1, N // 100)])
    return N * len(EVENTS) / dt


best = max(run() for _ in range(2))
print(f"RESULT python_transitions {best:.6g} triggers/s {N * 10}_triggers_in_memory_best_of_2_"
      f"transitions_{transitions.__version__}_python_{sys.version.split()[0]}", flush=True)
