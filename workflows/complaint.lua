-- workflows/complaint.lua — one complaint against a certified Peer Support Specialist
-- (DIS_1..DIS_7): received and recorded, acknowledged, screened against the filing limits,
-- investigated on a deadline (extendable once), decided, and an adverse action appealed.
-- Decisions live in lua/policy/complaint.lua; every step is in the instance's history and
-- in data.steps (DIS_4). Outcomes reach the certification over the `certification` link.
--
-- Create it when the complaint is received, with { certification_id, respondent,
-- complainant, summary, incident_on, certification_held_from, certification_held_until }:
-- the held-from/held-until dates are the certification's, copied at filing (a policy
-- cannot read another instance); held_until is left out while the certification is held.
return {
  name = "complaint",
  description = "A complaint against a certificant: intake, investigation, outcome, appeal",
  initial = "received",
  events = {
    "acknowledge", "accept", "decline", "extend",
    "dismiss", "corrective_action", "suspend", "revoke", "corrective_action_completed",
    "lift_suspension", "suspension_term_ended",
    "appeal", "uphold", "overturn",
    "ack_overdue", "review_overdue", "appeal_window_closed",
  },
  states = {
    -- recorded on receipt; acknowledgement and investigation clocks run from the receipt date (DIS_5)
    received = {
      on_enter = { "dis_record_receipt" },
      timers = {
        { name = "acknowledgement", after = "dis_ack_due", event = "ack_overdue" },
        { name = "investigation", after = "dis_review_due", event = "review_overdue" },
      },
    },
    acknowledged = {
      timers = { { name = "investigation", after = "dis_review_due", event = "review_overdue" } },
    },
    investigating = {
      timers = { { name = "investigation", after = "dis_review_due", event = "review_overdue" } },
    },
    -- screened out: outside the filing limits (DIS_6)
    declined = { terminal = true },
    -- outcomes (DIS_2)
    dismissed = { terminal = true },
    corrective_action_ordered = {},
    -- a suspension has a term (suspended_until: lifted the day after) or lasts until lifted
    -- explicitly (until_lifted); either way the lifting reaches the certification
    suspended = {
      timers = {
        { name = "appeal_window", after = "dis_appeal_window_end", event = "appeal_window_closed" },
        { name = "suspension_term", after = "dis_suspension_end", event = "suspension_term_ended" },
      },
    },
    suspension_lifted = { terminal = true },
    revoked = {
      timers = { { name = "appeal_window", after = "dis_appeal_window_end", event = "appeal_window_closed" } },
    },
    -- an appeal of a suspension or revocation under review (DIS_3), on the DIS_5 clocks
    appealed = {
      timers = {
        { name = "acknowledgement", after = "dis_ack_due", event = "ack_overdue" },
        { name = "review", after = "dis_review_due", event = "review_overdue" },
      },
    },
    upheld = { terminal = true },
    overturned = { terminal = true },
    closed = { terminal = true },
  },
  transitions = {
    -- DIS_5: acknowledge within complaint_ack_business_days; late ones are reported
    { from = "received", event = "acknowledge", to = "acknowledged", actions = { "dis_record_ack" } },
    { from = "received", event = "ack_overdue", to = "received", actions = { "dis_mark_ack_overdue" } },

    -- DIS_6: accepted only within the filing limits; screened out otherwise
    { from = "acknowledged", event = "accept", to = "investigating",
      guard = { "dis_names_certification", "dis_filed_in_time", "dis_while_certified" },
      actions = { "dis_record_acceptance" } },
    { from = { "received", "acknowledged" }, event = "decline", to = "declined",
      guard = "dis_outside_limits", actions = { "dis_record_decline" } },

    -- DIS_5: the investigation is due investigation_days after receipt, extendable once
    -- (the county hears of it: notices_investigation_overdue, the notices plugin)
    { from = "received", event = "review_overdue", to = "received",
      actions = { "dis_mark_review_overdue", "notices_investigation_overdue" } },
    { from = "acknowledged", event = "review_overdue", to = "acknowledged",
      actions = { "dis_mark_review_overdue", "notices_investigation_overdue" } },
    { from = "investigating", event = "review_overdue", to = "investigating",
      actions = { "dis_mark_review_overdue", "notices_investigation_overdue" } },
    { from = "investigating", event = "extend", to = "investigating", reenter = true,
      guard = "dis_extension_allowed", actions = { "dis_record_extension" } },

    -- DIS_2: the outcome; adverse ones reach the certification
    { from = "investigating", event = "dismiss", to = "dismissed",
      guard = "dis_findings_recorded", actions = { "dis_record_outcome" } },
    { from = "investigating", event = "corrective_action", to = "corrective_action_ordered",
      guard = "dis_findings_recorded", actions = { "dis_record_outcome" },
      send = { { link = "certification", event = "corrective_action" } } },
    { from = "investigating", event = "suspend", to = "suspended",
      guard = { "dis_findings_recorded", "dis_suspension_term_given" }, actions = { "dis_record_outcome" },
      send = { { link = "certification", event = "suspend" } } },
    { from = "investigating", event = "revoke", to = "revoked",
      guard = "dis_findings_recorded", actions = { "dis_record_outcome" },
      send = { { link = "certification", event = "revoke" } } },
    -- the completion reaches the certification, whose good standing returns (REN_3)
    { from = "corrective_action_ordered", event = "corrective_action_completed", to = "closed",
      actions = { "dis_record_step" },
      send = { { link = "certification", event = "complete_corrective_action" } } },

    -- the end of a suspension: its term, or an explicit lifting by the entity
    { from = "suspended", event = "suspension_term_ended", to = "suspension_lifted",
      actions = { "dis_record_lifting" }, send = { { link = "certification", event = "lift_suspension" } } },
    { from = "suspended", event = "lift_suspension", to = "suspension_lifted",
      actions = { "dis_record_lifting" }, send = { { link = "certification", event = "lift_suspension" } } },

    -- DIS_3, DIS_7: any adverse action (seed 003: corrective action, suspension, revocation) is
    -- appealed, within appeal_window_days
    { from = { "suspended", "revoked", "corrective_action_ordered" }, event = "appeal", to = "appealed",
      guard = { "dis_appealable", "dis_within_appeal_window" }, actions = { "dis_record_appeal" } },
    { from = "suspended", event = "appeal_window_closed", to = "suspended", actions = { "dis_record_step" } },
    { from = "revoked", event = "appeal_window_closed", to = "revoked", actions = { "dis_record_step" } },

    -- DIS_5 for the appeal: acknowledged in 5 business days, reviewed in 90 days, extendable once
    -- (re-entering drops the acknowledgement timer: its deadline is nil once acknowledged)
    { from = "appealed", event = "acknowledge", to = "appealed", reenter = true,
      guard = "dis_appeal_not_acknowledged", actions = { "dis_record_ack" } },
    { from = "appealed", event = "ack_overdue", to = "appealed", actions = { "dis_mark_ack_overdue" } },
    { from = "appealed", event = "review_overdue", to = "appealed",
      actions = { "dis_mark_review_overdue", "notices_appeal_review_overdue" } },
    { from = "appealed", event = "extend", to = "appealed", reenter = true,
      guard = "dis_extension_allowed", actions = { "dis_record_extension" } },
    -- an upheld suspension or corrective action goes on (its term, its lifting, its completion)
    { from = "appealed", event = "uphold", to = "suspended",
      guard = { "dis_findings_recorded", "dis_appeal_of_suspension" }, actions = { "dis_record_appeal_outcome" } },
    { from = "appealed", event = "uphold", to = "corrective_action_ordered",
      guard = { "dis_findings_recorded", "dis_appeal_of_corrective_action" }, actions = { "dis_record_appeal_outcome" } },
    { from = "appealed", event = "uphold", to = "upheld",
      guard = "dis_findings_recorded", actions = { "dis_record_appeal_outcome" } },
    { from = "appealed", event = "overturn", to = "overturned",
      guard = { "dis_findings_recorded", "dis_appeal_of_corrective_action" }, actions = { "dis_record_appeal_outcome" },
      send = { { link = "certification", event = "corrective_action_overturned" } } },
    { from = "appealed", event = "overturn", to = "overturned",
      guard = "dis_findings_recorded", actions = { "dis_record_appeal_outcome" },
      send = { { link = "certification", event = "restore" } } },
  },
  links = {
    certification = { workflow = "certification", field = "certification_id" },
  },
}
