-- the entry action is not defined anywhere
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true, on_enter = { "send_certificate" } } },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
