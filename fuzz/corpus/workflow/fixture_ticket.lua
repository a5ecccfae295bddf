-- tests/fixtures/cli/workflows/ticket.lua — a small support-ticket workflow for the
-- certflow command's tests and the embedding example (docs/examples/embed.c).
return {
  name = "ticket", initial = "open",
  events = { "assign", "close", "reopen", "escalate" },
  states = {
    open = { timers = { { name = "escalation", after = "escalation_due", event = "escalate" } } },
    assigned = { on_enter = { "stamp_assignee" } },
    escalated = {},
    closed = { terminal = true },
  },
  transitions = {
    { from = "open", event = "assign", to = "assigned", guard = "has_assignee", actions = {} },
    { from = { "open", "assigned", "escalated" }, event = "close", to = "closed" },
    { from = "open", event = "escalate", to = "escalated" },
    { from = "escalated", event = "assign", to = "assigned", guard = "has_assignee" },
  },
}
