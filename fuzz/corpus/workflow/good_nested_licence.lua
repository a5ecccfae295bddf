-- A licence with nested states (docs/workflows.md, "Nested states"): `held` is a
-- parent holding `active` and `suspended`. What may happen while the licence is
-- held is declared once, on `held`; its term runs while either child is active.
return {
  name = "licence",
  initial = "applied",
  events = { "grant", "suspend", "lift", "note", "reset", "revoke", "lapse", "warn" },
  states = {
    applied = {},
    held = {
      initial = "active",
      on_enter = { "enter_held" },
      on_exit = { "exit_held" },
      timers = { { name = "term", after = "term_end", event = "lapse" } },
    },
    active = {
      parent = "held",
      on_enter = { "enter_active" },
      on_exit = { "exit_active" },
      timers = { { name = "warning", after = "warn_at", event = "warn" } },
    },
    suspended = { parent = "held", on_enter = { "enter_suspended" }, on_exit = { "exit_suspended" } },
    lapsed = { terminal = true },
    revoked = { terminal = true },
  },
  transitions = {
    -- entering the parent enters its initial child: held, then active
    { from = "applied", event = "grant", to = "held" },
    -- between two children: held is not left, its term keeps running
    { from = "active", event = "suspend", to = "suspended" },
    { from = "suspended", event = "lift", to = "active" },
    -- internal on the parent: in any child, nothing is left or entered
    { from = "held", event = "note", to = "held", actions = { "count_note" } },
    -- re-entering the parent: every state down from it is left and entered again
    { from = "held", event = "reset", to = "held", reenter = true },
    -- the child's own transition is tried first; when its guard fails, the parent's
    { from = "active", event = "revoke", to = "revoked", guard = "flagged", actions = { "child_revoke" } },
    { from = "held", event = "revoke", to = "revoked" },
    -- the parent's timer fires in whichever child is active
    { from = "held", event = "lapse", to = "lapsed" },
    { from = "active", event = "warn", to = "active", actions = { "count_warning" } },
  },
}
