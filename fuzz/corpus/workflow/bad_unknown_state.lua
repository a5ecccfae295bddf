-- 'aproved' is misspelled
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "approve" },
  states = { draft = {}, submitted = {}, approved = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "approve", to = "aproved" },
  },
}
