-- A permit for the engine tests: guards, assigns, timers across years, a failing
-- action, a runaway guard, and a link to a ledger.
return {
  name = "permit",
  initial = "pending",
  events = { "approve", "deny", "bump", "explode", "spin", "renew", "expire", "post", "note" },
  states = {
    pending = { timers = { { name = "auto_deny", after = "pending_deadline", event = "deny" } } },
    active = {
      on_enter = { "stamp_active" },
      timers = { { name = "expiry", after = "active_until", event = "expire" } },
    },
    expired = { timers = { { name = "auto_renew", after = "renew_after_expiry", event = "renew" } } },
    denied = { terminal = true },
  },
  transitions = {
    { from = "pending", event = "approve", to = "active", guard = "has_reviewer", actions = { "record_approval" } },
    { from = "pending", event = "deny", to = "denied" },
    { from = "pending", event = "bump", to = "pending", actions = { "increment" } },
    { from = "pending", event = "explode", to = "active", actions = { "increment", "fail_action" } },
    { from = "pending", event = "spin", to = "pending", guard = "spin_forever" },
    { from = "active", event = "renew", to = "active", reenter = true, actions = { "extend" } },
    { from = "active", event = "expire", to = "expired" },
    { from = "expired", event = "renew", to = "active", actions = { "extend" } },
    { from = "pending", event = "post", to = "pending", guard = "is_pending",
      send = { { link = "ledger", event = "entry" } } },
    { from = "active", event = "post", to = "active", send = { { link = "ledger", event = "entry" } } },
    { from = "pending", event = "note", to = "pending", actions = { "increment" } },
  },
  links = { ledger = { workflow = "ledger", field = "ledger_id" } },
}
