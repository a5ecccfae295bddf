-- reenter only makes sense when a transition stays in its state
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = { draft = {}, submitted = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted", reenter = true },
  },
}
