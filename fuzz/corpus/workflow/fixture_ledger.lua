-- A ledger that counts the entries linked permits send it.
return {
  name = "ledger",
  initial = "open",
  events = { "entry", "close" },
  states = { open = {}, closed = { terminal = true } },
  transitions = {
    { from = "open", event = "entry", to = "open", actions = { "count_entry" } },
    { from = "open", event = "close", to = "closed" },
  },
}
