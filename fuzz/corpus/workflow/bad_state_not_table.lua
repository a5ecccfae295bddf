-- a state is a table, even when empty
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = true },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
