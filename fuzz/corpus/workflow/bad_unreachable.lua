-- nothing leads to 'archived'
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "archive" },
  states = { draft = {}, submitted = {}, archived = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
  },
}
