-- 'descripton' is misspelled
return {
  name = "mini",
  descripton = "A small workflow",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
