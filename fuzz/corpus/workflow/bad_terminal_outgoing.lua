-- 'approved' is terminal, yet a transition leaves it
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "revoke" },
  states = { draft = {}, approved = { terminal = true }, revoked = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "approved" },
    { from = "approved", event = "revoke", to = "revoked" },
  },
}
