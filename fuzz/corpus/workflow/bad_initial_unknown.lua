-- the initial state is misspelled
return {
  name = "mini",
  initial = "drafts",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
