-- 'fires' should be 'event'
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "overdue" },
  states = {
    draft = {},
    submitted = { timers = { { name = "review_clock", after = "review_due", fires = "overdue" } } },
    done = { terminal = true },
  },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "overdue", to = "done" },
  },
}
