-- the first transition has no guard, so the third can never be chosen
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "approve" },
  states = { draft = {}, submitted = {}, approved = { terminal = true } },
  transitions = {
    { from = "*", event = "submit", to = "submitted" },
    { from = "submitted", event = "approve", to = "approved" },
    { from = "draft", event = "submit", to = "approved", guard = "is_adult" },
  },
}
