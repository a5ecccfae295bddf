-- events must be a list, not one string
return {
  name = "mini",
  initial = "draft",
  events = "submit",
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
