-- no initial state
return {
  name = "mini",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
