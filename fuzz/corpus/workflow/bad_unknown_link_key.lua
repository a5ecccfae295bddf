-- 'target' should be 'workflow'
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
  links = { person = { target = "person", field = "person_id" } },
}
