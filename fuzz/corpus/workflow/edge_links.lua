return {
  name = "w", initial = "a", events = { "go", "again" },
  states = { a = {}, b = {} },
  transitions = {
    { from = "a", event = "go", to = "b", guard = { "g1", "g2" }, send = { { link = "l", event = "e" }, { link = "m", event = "f" } } },
    { from = "b", event = "again", to = "b", reenter = true, actions = { "a1" } },
    { from = "b", event = "go", to = "a", guard = "g" },
    { from = "b", event = "go", to = "b" },
  },
  links = { l = { workflow = "other", field = "other_id" }, m = { workflow = "w", field = "ids" } },
  description = "links and sends",
}
