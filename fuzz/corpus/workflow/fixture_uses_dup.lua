-- Uses the action two plugins (dup_a, dup_b) both register; the first loaded keeps it.
return {
  name = "uses_dup",
  initial = "a",
  events = { "go" },
  states = { a = {}, b = { terminal = true } },
  transitions = { { from = "a", event = "go", to = "b", actions = { "dup_action" } } },
}
