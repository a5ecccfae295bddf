-- 'guards' should be 'guard'
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "done", guards = { "is_adult" } },
  },
}
