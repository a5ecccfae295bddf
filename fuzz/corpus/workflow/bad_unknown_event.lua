-- 'withdraw' is not declared under events
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "withdrawn" },
  states = { draft = {}, submitted = {}, withdrawn = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "withdraw", to = "withdrawn" },
  },
}
