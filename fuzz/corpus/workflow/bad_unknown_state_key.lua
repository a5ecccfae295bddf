-- 'on_entry' should be 'on_enter'
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true, on_entry = { "record_decision" } } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
