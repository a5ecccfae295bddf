-- the second guard is not defined anywhere
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "done", guard = { "is_adult", "has_diplomma" } },
  },
}
