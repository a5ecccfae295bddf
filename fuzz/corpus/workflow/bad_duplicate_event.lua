-- 'submit' is listed twice
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "approve", "submit" },
  states = { draft = {}, submitted = {}, done = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "approve", to = "done" },
  },
}
