-- names are lower case
return {
  name = "Application",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
