-- a link must say which data field holds the linked id
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
  links = { person = { workflow = "person" } },
}
