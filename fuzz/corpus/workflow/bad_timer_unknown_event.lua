-- the timer fires an event that is not declared
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "overdue" },
  states = {
    draft = {},
    submitted = { timers = { { name = "review_clock", after = "review_due", event = "review_overdue" } } },
    done = { terminal = true },
  },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "overdue", to = "done" },
  },
}
