-- An order whose payments the test plugin "good" (tests/plugins/good.c) keeps in
-- its own ledger table, beside the Lua policy's decisions.
return {
  name = "order",
  initial = "open",
  events = { "pay", "fail", "poke", "poke_bad", "touch", "or_rollback", "guard_write", "check", "entry" },
  states = { open = {}, paid = { on_enter = { "increment" } }, closed = { terminal = true } },
  transitions = {
    { from = "open", event = "pay", to = "paid", guard = "good_has_amount", actions = { "good_log" } },
    { from = "paid", event = "pay", to = "paid", guard = "good_has_amount", actions = { "good_log" } },
    { from = "paid", event = "fail", to = "closed", actions = { "good_log", "good_fail" } },
    { from = "paid", event = "poke", to = "paid", actions = { "good_send" } },
    { from = "paid", event = "poke_bad", to = "paid", actions = { "good_send_bad" } },
    { from = "paid", event = "touch", to = "closed", actions = { "good_touch" } },
    { from = "paid", event = "or_rollback", to = "closed", actions = { "good_or_rollback" } },
    { from = "paid", event = "guard_write", to = "closed", guard = "good_guard_writes" },
    { from = "open", event = "check", to = "closed", guard = "good_has_entries" },
    { from = "paid", event = "check", to = "closed", guard = { "good_has_entries", "is_paid" } },
    { from = "open", event = "entry", to = "open", actions = { "count_entry" } },
    { from = "paid", event = "entry", to = "paid", actions = { "count_entry" } },
  },
}
