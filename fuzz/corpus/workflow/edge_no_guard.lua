return {
  name = "w", initial = "a", events = { "go", "back" },
  states = { a = { timers = { { name = "t", after = "due", event = "go" } } }, b = { on_enter = { "x", "y" }, on_exit = "z" } },
  transitions = {
    { from = "a", event = "go", to = "b", guard = "no_such_guard" },
    { from = { "a", "b" }, event = "back", to = "a", actions = { "no_action" } },
  },
}
