-- a terminal state never leaves, so a timer there could never do anything
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "overdue" },
  states = {
    draft = {},
    done = { terminal = true, timers = { { name = "archive", after = "review_due", event = "overdue" } } },
  },
  transitions = { { from = "draft", event = "submit", to = "done" } },
}
