-- the timer's deadline function is not defined anywhere
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "overdue" },
  states = {
    draft = {},
    submitted = { timers = { { name = "review_clock", after = "thirty_days", event = "overdue" } } },
    done = { terminal = true },
  },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "overdue", to = "done" },
  },
}
