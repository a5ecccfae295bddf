-- Names an action only the refused plugin failing_init would have provided.
return {
  name = "uses_failing",
  initial = "a",
  events = { "go" },
  states = { a = {}, b = { terminal = true } },
  transitions = { { from = "a", event = "go", to = "b", actions = { "failing_action" } } },
}
