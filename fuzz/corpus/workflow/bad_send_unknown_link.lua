-- 'persn' is misspelled
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "done", send = { { link = "persn", event = "applied" } } },
  },
  links = { person = { workflow = "person", field = "person_id" } },
}
