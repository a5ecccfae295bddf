-- events are names
return {
  name = "mini",
  initial = "draft",
  events = { "submit", 2 },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
