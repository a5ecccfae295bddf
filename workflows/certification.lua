-- workflows/certification.lua — one person's Medi-Cal Peer Support Specialist
-- certification: the application (initial, legacy or reciprocity pathway), its review,
-- the 12-month window with training, accommodation, exam appointments and attempts,
-- then the certification itself: specializations, renewal, expiry, reinstatement,
-- suspension, revocation and restoration. The decisions are in lua/policy/certification.lua;
-- docs/rules.md says which rule each guard, action and timer enforces, and
-- docs/lifecycles.md the data fields and the events exchanged with employments and complaints.

local transitions = {}
local function add(t)
  transitions[#transitions + 1] = t
end

-- A transition that tells the linked employments sends over the link `employments`,
-- declared optional: while the certification has no employment yet (no `employment_ids`),
-- the send tells nobody, and no guard has to route around it.
local function add_notifying(t, event)
  add({ from = t.from, event = t.event, to = t.to, guard = t.guard, actions = t.actions,
        send = { { link = "employments", event = event } } })
end

-- The states that accept `employment_started`: every non-final one (`certified` is the
-- parent of active and suspended: declared once there, it applies in both).
local open_states = {
  "draft", "submitted", "denied", "denial_appealed", "approved", "exhausted",
  "certified", "expired", "revoked",
}

-- What an exam appointment needs, scheduled first or after a retake.
local schedule_guards = {
  "attempt_allowed", "training_complete", "no_accommodation_pending", "no_appointment",
  "retake_cleared", "exam_fee_paid", "fees_cover_exam", "appointment_ok",
}

---------------------------------------------------------------------------
-- The application and its review (APP_1..APP_7, PATH_1, PATH_2, DIS_7)
---------------------------------------------------------------------------
add({ from = "draft", event = "update", to = "draft", guard = "draft_fields_known", actions = { "update_draft" } })
add({ from = "draft", event = "submit", to = "submitted",
      guard = { "is_adult", "has_education", "has_lived_experience", "attests_willingness", "ethics_signed",
                "pathway_requirements", "application_fee_paid", "fees_cover_application" },
      actions = { "record_submission", "fees_charge" } })
add({ from = "submitted", event = "review_overdue", to = "submitted", actions = { "mark_review_overdue" } })
add({ from = "submitted", event = "approve", to = "approved", actions = { "record_approval" } })
add({ from = "submitted", event = "deny", to = "denied", actions = { "record_denial" } })
add({ from = "denied", event = "appeal", to = "denial_appealed", guard = "within_appeal_window",
      actions = { "record_appeal" } })
add({ from = "denied", event = "appeal_window_closed", to = "denial_final" })
add({ from = "denial_appealed", event = "appeal_overturned", to = "approved", guard = "restore_to_approved",
      actions = { "appeal_overturned", "record_approval" } })
add({ from = "denial_appealed", event = "appeal_overturned", to = "submitted", actions = { "appeal_overturned" } })
add({ from = "denial_appealed", event = "appeal_upheld", to = "denial_final", actions = { "appeal_upheld" } })
add({ from = { "draft", "submitted", "approved" }, event = "withdraw", to = "withdrawn", actions = { "close_withdrawn" } })

---------------------------------------------------------------------------
-- The window: training, accommodation, appointments, attempts (APP_8, TRN, EX)
-- Events that start or stop a review clock re-enter `approved`, so that its timers
-- are computed again from the data (a deadline with nothing pending is no timer).
---------------------------------------------------------------------------
add({ from = "approved", event = "upload_training", to = "approved", reenter = true,
      guard = { "training_record_complete", "no_training_review_pending" }, actions = { "record_training_upload" } })
add({ from = "approved", event = "accept_training", to = "approved", reenter = true,
      guard = { "training_review_pending", "training_counts" }, actions = { "accept_training" } })
add({ from = "approved", event = "reject_training", to = "approved", reenter = true,
      guard = "training_review_pending", actions = { "reject_training" } })
add({ from = "approved", event = "training_review_overdue", to = "approved", actions = { "mark_training_review_overdue" } })

add({ from = "approved", event = "request_accommodation", to = "approved", reenter = true,
      guard = { "no_accommodation_pending", "accommodation_request_ok" }, actions = { "record_accommodation_request" } })
add({ from = "approved", event = "decide_accommodation", to = "approved", reenter = true,
      guard = "accommodation_pending", actions = { "decide_accommodation" } })
add({ from = "approved", event = "accommodation_review_overdue", to = "approved", actions = { "mark_accommodation_overdue" } })

add({ from = "approved", event = "schedule_exam", to = "approved", guard = schedule_guards,
      actions = { "record_appointment", "fees_charge" } })
add({ from = "approved", event = "reschedule_exam", to = "approved",
      guard = { "cancel_in_time", "appointment_ok" }, actions = { "reschedule_appointment" } })
add({ from = "approved", event = "cancel_exam", to = "approved", guard = "cancel_in_time", actions = { "record_cancellation" } })
-- a late cancellation is a no-show (EX_7)
add({ from = "approved", event = "cancel_exam", to = "exhausted", guard = { "has_appointment", "no_show_is_last_attempt" },
      actions = { "record_no_show", "close_exhausted" } })
add({ from = "approved", event = "cancel_exam", to = "approved", reenter = true, guard = "has_appointment",
      actions = { "record_no_show" } })
add({ from = "approved", event = "no_show", to = "exhausted", guard = { "has_appointment", "no_show_is_last_attempt" },
      actions = { "record_no_show", "close_exhausted" } })
add({ from = "approved", event = "no_show", to = "approved", reenter = true, guard = "has_appointment",
      actions = { "record_no_show" } })

add_notifying({ from = "approved", event = "exam_result", to = "certified",
                guard = { "has_appointment", "result_complete", "attempt_allowed", "training_complete", "exam_passed",
                          "taken_in_window" },
                actions = { "record_attempt", "issue_certificate", "exam_results_record" } }, "certification_granted")
add({ from = "approved", event = "exam_result", to = "exhausted",
      guard = { "has_appointment", "result_complete", "attempt_allowed", "exam_failed", "last_attempt" },
      actions = { "record_attempt", "close_exhausted", "exam_results_record" } })
-- (re-entering: after the window's last day, the window's timer closes it at once)
add({ from = "approved", event = "exam_result", to = "approved", reenter = true,
      guard = { "has_appointment", "result_complete", "attempt_allowed", "exam_failed" },
      actions = { "record_attempt", "exam_results_record" } })

add({ from = "approved", event = "request_retake", to = "approved", reenter = true,
      guard = { "retake_needed", "attempt_allowed", "retake_fee_paid", "fees_cover_retake" }, actions = { "record_retake_request", "fees_charge" } })
add({ from = "approved", event = "process_retake", to = "approved", reenter = true,
      guard = "retake_pending", actions = { "approve_retake" } })
add({ from = "approved", event = "retake_review_overdue", to = "approved", actions = { "mark_retake_overdue" } })

-- APP_8: an exam sat inside the window may bring its result after it (re-entering re-arms the
-- window's timer exam_result_wait_days later); failing or missing it then closes the window.
add({ from = "approved", event = "window_expired", to = "approved", reenter = true, guard = "sitting_awaits_result",
      actions = { "mark_awaiting_result" } })
add({ from = "approved", event = "window_expired", to = "window_closed", actions = { "close_window" } })

-- Exhausted is closed for good while the attempt limit holds: these transitions exist so
-- that a fourth attempt is refused with the count and the window (EX_2), not just "closed".
add({ from = "exhausted", event = "request_retake", to = "approved",
      guard = { "attempt_allowed", "retake_fee_paid", "fees_cover_retake" }, actions = { "record_retake_request", "fees_charge" } })
add({ from = "exhausted", event = "schedule_exam", to = "approved", guard = schedule_guards,
      actions = { "record_appointment", "fees_charge" } })

---------------------------------------------------------------------------
-- The certification (CERT, REN, DIS_2, DIS_3, DIS_7)
-- `certified` is a parent state (docs/workflows.md, "Nested states"): the certification is
-- held, in good standing (`certified.active`) or suspended (`certified.suspended`). What may
-- happen while it is held is declared once on `certified`; what only an active
-- certification does is declared on `active`, whose timers (expiry, renewal) stop while
-- it is suspended, as they always did.
---------------------------------------------------------------------------
add({ from = "active", event = "add_specialization", to = "active", guard = "specialization_ok",
      actions = { "add_specialization", "registry_export_update" } })
add({ from = "active", event = "renewal_window_open", to = "active",
      actions = { "mark_renewal_open", "notices_renewal_window_open" } })
add({ from = "active", event = "expiry_approaching", to = "active", actions = { "notices_expiry_approaching" } })
add({ from = "active", event = "renew", to = "active", reenter = true,
      guard = { "in_renewal_window", "renewal_not_denied", "good_standing", "ce_hours_met", "ethics_current",
                "renewal_fee_paid" },
      actions = { "record_renewal", "fees_charge" } })

-- DIS_7: the certifying entity denies a renewal (with its reason) in the renewal window; the
-- denial is appealed within appeal_window_days. While it can be appealed or the appeal is
-- pending the expiry is stayed (the certification stays active). Upheld or never appealed:
-- the certification expires at its expiry date, at once if that is past. Overturned: the
-- overturn renews directly (it carries the renewal's data and passes renew's guards).
add({ from = "active", event = "deny_renewal", to = "active", reenter = true,
      guard = { "in_renewal_window", "renewal_not_denied", "renewal_denial_reason_given" },
      actions = { "record_renewal_denial" } })
add({ from = "active", event = "appeal_renewal_denial", to = "active", reenter = true,
      guard = "renewal_denial_appealable", actions = { "record_renewal_appeal" } })
add_notifying({ from = "active", event = "renewal_appeal_window_closed", to = "expired",
                guard = { "renewal_denial_unappealed", "expiry_passed" },
                actions = { "close_renewal_appeal_window" } }, "certification_lost")
add({ from = "active", event = "renewal_appeal_window_closed", to = "active", reenter = true,
      guard = "renewal_denial_unappealed", actions = { "close_renewal_appeal_window" } })
add_notifying({ from = "active", event = "renewal_appeal_upheld", to = "expired",
                guard = { "renewal_appeal_pending", "expiry_passed" },
                actions = { "renewal_appeal_upheld" } }, "certification_lost")
add({ from = "active", event = "renewal_appeal_upheld", to = "active", reenter = true,
      guard = "renewal_appeal_pending", actions = { "renewal_appeal_upheld" } })
add({ from = "active", event = "renewal_appeal_overturned", to = "active", reenter = true,
      guard = { "renewal_appeal_pending", "good_standing", "ce_hours_met", "ethics_current", "renewal_fee_paid" },
      actions = { "renewal_appeal_overturned", "record_renewal", "fees_charge" } })
add_notifying({ from = "active", event = "expire", to = "expired" }, "certification_lost")
add_notifying({ from = "active", event = "suspend", to = "suspended", actions = { "record_suspension" } },
              "certification_lost")
-- Revoking an active certification tells the employments; a suspended one (certified's
-- revoke, which active's overrides) or an expired one has told them already.
add_notifying({ from = "active", event = "revoke", to = "revoked", actions = { "record_revocation" } },
              "certification_lost")
add({ from = "certified", event = "revoke", to = "revoked", actions = { "record_revocation" } })

add_notifying({ from = "expired", event = "reinstate", to = "certified",
                guard = { "within_reinstatement_limit", "good_standing", "ce_hours_met_reinstatement",
                          "ethics_current", "reinstatement_fee_paid" },
                actions = { "record_reinstatement", "fees_charge" } }, "certification_granted")
add({ from = "expired", event = "reinstatement_closed", to = "lapsed" })
add({ from = "expired", event = "suspend", to = "suspended", actions = { "record_suspension" } })
add({ from = "expired", event = "revoke", to = "revoked", actions = { "record_revocation" } })

-- DIS_3: an overturned action restores the status before it. A certification whose expiry
-- date passed while it was suspended comes back expired (REN_6; reinstatement, REN_7, within
-- its limit counted from that expiry date, or lapsed beyond it).
add({ from = "suspended", event = "restore", to = "expired", guard = { "was_certified", "expiry_passed" },
      actions = { "record_restoration" } })
add_notifying({ from = "suspended", event = "restore", to = "certified", guard = { "was_certified" },
                actions = { "record_restoration" } }, "certification_granted")
add({ from = "suspended", event = "restore", to = "expired", guard = "was_expired", actions = { "record_restoration" } })

-- DIS_2: a suspension ends with its term or an explicit lifting (the complaint sends
-- lift_suspension): back to certified, or expired when the expiry date passed meanwhile.
add({ from = "suspended", event = "lift_suspension", to = "expired", guard = { "was_certified", "expiry_passed" },
      actions = { "record_lifting" } })
add_notifying({ from = "suspended", event = "lift_suspension", to = "certified", guard = { "was_certified" },
                actions = { "record_lifting" } }, "certification_granted")
add({ from = "suspended", event = "lift_suspension", to = "expired", guard = "was_expired", actions = { "record_lifting" } })
add_notifying({ from = "revoked", event = "restore", to = "certified", guard = { "was_certified" },
                actions = { "record_restoration", "restore_specializations" } }, "certification_granted")
add({ from = "revoked", event = "restore", to = "suspended", guard = "was_suspended",
      actions = { "record_restoration", "restore_specializations" } })
add({ from = "revoked", event = "restore", to = "expired", guard = "was_expired",
      actions = { "record_restoration", "restore_specializations" } })

-- DIS_2, DIS_4: a corrective action is recorded and, while open, bars renewal (REN_3).
-- Internal transitions stay in their state: declared on `certified`, once for active and
-- suspended; expired gets its own.
local disciplined = { "certified", "expired" }
for i = 1, #disciplined do
  local s = disciplined[i]
  add({ from = s, event = "corrective_action", to = s, actions = { "record_corrective_action" } })
  add({ from = s, event = "complete_corrective_action", to = s, guard = "corrective_action_open",
        actions = { "complete_corrective_action" } })
  -- DIS_3: a corrective action overturned on appeal no longer bars renewal
  add({ from = s, event = "corrective_action_overturned", to = s, guard = "corrective_action_open",
        actions = { "overturn_corrective_action" } })
end

-- docs/lifecycles.md: an employment announces itself in every non-final state.
for i = 1, #open_states do
  local s = open_states[i]
  add({ from = s, event = "employment_started", to = s, actions = { "record_employment" } })
end

return {
  name = "certification",
  description = "Medi-Cal Peer Support Specialist certification of one person",
  initial = "draft",
  events = {
    "update", "submit", "withdraw", "review_overdue", "approve", "deny",
    "appeal", "appeal_overturned", "appeal_upheld", "appeal_window_closed",
    "upload_training", "accept_training", "reject_training", "training_review_overdue",
    "request_accommodation", "decide_accommodation", "accommodation_review_overdue",
    "schedule_exam", "reschedule_exam", "cancel_exam", "no_show", "exam_result",
    "request_retake", "process_retake", "retake_review_overdue", "window_expired",
    "add_specialization", "renewal_window_open", "expiry_approaching", "renew", "expire",
    "deny_renewal", "appeal_renewal_denial", "renewal_appeal_window_closed", "renewal_appeal_upheld",
    "renewal_appeal_overturned", "reinstate", "reinstatement_closed",
    "suspend", "revoke", "restore", "lift_suspension", "corrective_action", "complete_corrective_action",
    "corrective_action_overturned",
    "employment_started",
  },
  -- Every state's entry ends with registry_export_update (the registry_export plugin: the
  -- public registry row and files follow each status change, REG_2); it does nothing
  -- before a certification number exists.
  states = {
    draft = { on_enter = { "registry_export_update" } },
    submitted = {
      on_enter = { "registry_export_update" },
      timers = { { name = "review_sla", after = "review_due", event = "review_overdue" } },
    },
    denied = {
      on_enter = { "registry_export_update" },
      timers = { { name = "appeal_window", after = "appeal_window_end", event = "appeal_window_closed" } },
    },
    denial_appealed = { on_enter = { "registry_export_update" } },
    denial_final = { terminal = true, on_enter = { "registry_export_update" } },
    approved = {
      on_enter = { "registry_export_update" },
      timers = {
        { name = "application_window", after = "window_end", event = "window_expired" },
        { name = "training_review", after = "training_review_due", event = "training_review_overdue" },
        { name = "accommodation_review", after = "accommodation_review_due", event = "accommodation_review_overdue" },
        { name = "retake_review", after = "retake_review_due", event = "retake_review_overdue" },
      },
    },
    exhausted = { on_enter = { "registry_export_update" } },
    window_closed = { terminal = true, on_enter = { "registry_export_update" } },
    withdrawn = { terminal = true, on_enter = { "registry_export_update" } },
    -- the certification is held: a transition into `certified` enters `certified.active`
    certified = { initial = "active" },
    active = {
      parent = "certified",
      on_enter = { "status_active", "registry_export_update" },
      timers = {
        { name = "expiry_notice", after = "expiry_notice_due", event = "expiry_approaching" },
        { name = "renewal_window", after = "renewal_window_opens", event = "renewal_window_open" },
        { name = "expiry", after = "expiry", event = "expire" },
        { name = "renewal_appeal_window", after = "renewal_appeal_window_end", event = "renewal_appeal_window_closed" },
      },
    },
    expired = {
      on_enter = { "status_lapsed", "registry_export_update" },
      timers = { { name = "reinstatement_limit", after = "reinstatement_limit", event = "reinstatement_closed" } },
    },
    lapsed = { terminal = true, on_enter = { "status_lapsed", "end_specializations", "registry_export_update" } },
    suspended = { parent = "certified", on_enter = { "status_suspended", "registry_export_update" } },
    revoked = { on_enter = { "status_revoked", "end_specializations", "registry_export_update" } },
  },
  transitions = transitions,
  links = {
    employments = { workflow = "employment", field = "employment_ids", optional = true },
  },
  -- Data fields only this workflow's policies and plugins write (docs/workflows.md, "owned"):
  -- what the registry publishes (REG_2) and what decides the program's own counts and dates.
  -- Create and event data holding one are refused with the sentence given here.
  owned = {
    certification_number = "when the certification is issued (CERT_1: CMPSS- and the instance's serial)",
    registry_status = "on entering each certification state (REG_1)",
    issued_on = "when the certification is issued (CERT_1)",
    expires_on = "when the certification is issued, renewed or reinstated (CERT_3, REN_1)",
    period_starts_on = "when the certification is issued, renewed or reinstated (REN_2)",
    specializations = "when a specialization is added or the certification ends (CERT_2)",
    exam_attempts = "when an exam is taken or missed (EX_2)",
    exams = "when an exam is taken or missed, late cancellations included (EX_4, EX_7: the yearly report's no-shows)",
    window_ends = "when the application is approved (APP_8)",
    fees_due = "when a fee is decided, for the fees plugin's ledger (FEE_1)",
  },
}
