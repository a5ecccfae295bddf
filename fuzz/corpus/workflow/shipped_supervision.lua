-- workflows/supervision.lua — one Peer Support Specialist supervisor (SUP_1, SUP_2): how they
-- qualify (one of three options, CalMHSA guidelines §7 / BHIN 22-018), and the DHCS-approved
-- supervisory training due within supervisor_training_days of starting to supervise.
-- Decisions live in lua/policy/supervision.lua.
--
-- Create it with { name, employer }; `qualify` with the evidence for an option, then
-- `start_supervising` when they begin (the event's date is the start; the deadline runs from
-- the first start, so stopping and starting again does not reset it). Training may be
-- recorded at any time.
-- Billing by the peers they supervise may begin before the training is done (seed 002 C.3),
-- so nothing here blocks billing: an overdue supervisor is reported (state `overdue`).
return {
  name = "supervision",
  description = "A peer support supervisor: qualification and the supervisory-training deadline",
  initial = "candidate",
  events = {
    "qualify", "record_training", "start_supervising", "training_overdue", "stop_supervising", "leave",
  },
  states = {
    candidate = {},
    -- qualified by an option; not supervising at the moment
    qualified = {},
    -- supervising, training not yet done: due within supervisor_training_days (SUP_2)
    training_due = {
      timers = { { name = "supervisor_training", after = "sup_training_due", event = "training_overdue" } },
    },
    -- supervising with the training done
    active = {},
    -- supervising, training past due: reported until it is recorded
    overdue = { on_enter = { "sup_mark_overdue" } },
    left = { terminal = true },
  },
  transitions = {
    -- SUP_1: one of the three qualification options, checked with readable reasons
    { from = "candidate", event = "qualify", to = "qualified",
      guard = "sup_meets_an_option", actions = { "sup_record_qualification" } },

    -- the training may be done before supervising starts...
    { from = "candidate", event = "record_training", to = "candidate",
      guard = "sup_training_valid", actions = { "sup_record_training" } },
    { from = "qualified", event = "record_training", to = "qualified",
      guard = "sup_training_valid", actions = { "sup_record_training" } },
    -- ...or within the deadline after it starts (SUP_2), or late (reported)
    { from = "training_due", event = "record_training", to = "active",
      guard = "sup_training_valid", actions = { "sup_record_training" } },
    { from = "overdue", event = "record_training", to = "active",
      guard = "sup_training_valid", actions = { "sup_record_training" } },

    { from = "qualified", event = "start_supervising", to = "active",
      guard = "sup_trained", actions = { "sup_record_start" } },
    { from = "qualified", event = "start_supervising", to = "training_due", actions = { "sup_record_start" } },

    { from = "training_due", event = "training_overdue", to = "overdue" },

    { from = { "active", "training_due", "overdue" }, event = "stop_supervising", to = "qualified",
      actions = { "sup_record_stop" } },
    { from = "*", event = "leave", to = "left", actions = { "sup_record_leave" } },
  },
}
