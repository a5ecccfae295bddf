-- the third transition repeats the first one
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "approve" },
  states = { draft = {}, submitted = {}, approved = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted", guard = "is_adult" },
    { from = "submitted", event = "approve", to = "approved" },
    { from = "draft", event = "submit", to = "approved", guard = { "is_adult" } },
  },
}
