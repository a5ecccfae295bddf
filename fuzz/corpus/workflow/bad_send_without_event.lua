-- a send names the link but not the event to send
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, done = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "done", send = { { link = "person" } } },
  },
  links = { person = { workflow = "person", field = "person_id" } },
}
