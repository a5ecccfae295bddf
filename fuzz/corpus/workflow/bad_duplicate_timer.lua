-- two timers of one state share a name
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "overdue", "remind" },
  states = {
    draft = {},
    submitted = {
      timers = {
        { name = "review_clock", after = "review_due", event = "overdue" },
        { name = "review_clock", after = "info_due", event = "remind" },
      },
    },
    done = { terminal = true },
  },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = "submitted", event = "overdue", to = "done" },
  },
}
