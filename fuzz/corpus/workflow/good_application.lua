-- The initial application for a peer support specialist certification.
-- An applicant drafts and submits it; a reviewer approves it (once the fee is
-- paid), asks for more information, or denies it. Overdue reviews re-enter the
-- submitted state (which resets its timer); unanswered requests are denied.
return {
  name = "application",
  description = "Initial application for certification",
  initial = "draft",
  events = {
    "submit", "approve", "deny", "request_info", "provide_info",
    "withdraw", "note", "review_overdue", "info_overdue",
  },
  states = {
    draft = {},
    submitted = {
      on_enter = { "stamp_submission" },
      timers = {
        { name = "review_clock", after = "review_due", event = "review_overdue" },
      },
    },
    needs_info = {
      on_enter = { "notify_applicant" },
      on_exit = { "clear_request" },
      timers = {
        { name = "info_clock", after = "info_due", event = "info_overdue" },
      },
    },
    approved = { terminal = true, on_enter = { "record_decision" } },
    denied = { terminal = true, on_enter = { "record_decision" } },
    withdrawn = { terminal = true },
  },
  transitions = {
    { from = "draft", event = "submit", to = "submitted",
      guard = { "is_adult", "has_diploma" }, actions = { "charge_fee" } },
    { from = "submitted", event = "approve", to = "approved", guard = "fee_paid",
      send = { { link = "person", event = "certified" } } },
    -- approving before the fee is paid asks the applicant to pay
    { from = "submitted", event = "approve", to = "needs_info", actions = { "request_payment" } },
    { from = { "submitted", "needs_info" }, event = "deny", to = "denied" },
    { from = "submitted", event = "request_info", to = "needs_info" },
    { from = "needs_info", event = "provide_info", to = "submitted" },
    -- internal: a note changes nothing but the data; the review clock keeps running
    { from = "submitted", event = "note", to = "submitted" },
    -- re-enter: runs on_exit and on_enter again and restarts the review clock
    { from = "submitted", event = "review_overdue", to = "submitted", reenter = true,
      actions = { "escalate_review" } },
    { from = "needs_info", event = "info_overdue", to = "denied" },
    { from = "*", event = "withdraw", to = "withdrawn" },
  },
  links = {
    person = { workflow = "person", field = "person_id" },
  },
}
