-- terminal is a boolean
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = "yes" } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
