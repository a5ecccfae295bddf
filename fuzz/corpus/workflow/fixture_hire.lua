-- tests/fixtures/policy_change/workflows/hire.lua — a county hire who must become
-- certified within the hire grace period (EMP_1), for the policy-change tests.
return {
  name = "hire", initial = "grace",
  events = { "certify", "grace_expired", "review", "leave" },
  states = {
    grace = { timers = { { name = "grace_end", after = "grace_end", event = "grace_expired" } } },
    certified = { timers = { { name = "probation", after = "probation_review", event = "review" } } },
    suspended = {},
    left = { terminal = true },
  },
  transitions = {
    { from = "grace", event = "certify", to = "certified", guard = "within_grace" },
    { from = "grace", event = "grace_expired", to = "suspended" },
    { from = "suspended", event = "certify", to = "certified" },
    { from = "certified", event = "review", to = "certified" },
    { from = { "grace", "certified", "suspended" }, event = "leave", to = "left" },
  },
}
