-- workflows/employment.lua — one hire into a county program position that requires
-- lived experience (EMP_1..EMP_3): the grace period after the hire date and its COR
-- extension, billing eligibility (peer codes vs. "Other Qualified Provider"), and EHR
-- access for peer services. Decisions live in lua/policy/employment.lua; the contract
-- with the certification workflow is docs/lifecycles.md.
--
-- Create it with { name, hired_on = "YYYY-MM-DD", certification_id = <the person's
-- certification instance, if there is one yet>, program, program_type = "smhs" (specialty
-- mental health) or "dmc_ods" (DMC-ODS), position }, then fire `start`:
-- that first event tells the certification about the hire (`employment_started`).
return {
  name = "employment",
  description = "A hire in a county peer position: grace period, billing, EHR access",
  initial = "hired",
  events = {
    "start", "link_certification", "extend", "record_oqp", "bill",
    "certification_granted", "certification_lost", "grace_ended",
    "ehr_restored", "ehr_restore_overdue", "end", "assign_supervisor",
    -- fired by the engine itself when a county's policy change is applied (docs/administrators.md)
    "policy_changed",
  },
  states = {
    -- created, not started: nothing is decided before `start`
    hired = { on_enter = { "emp_check_hire" } },
    -- working uncertified inside the grace period (EMP_1); the timer moves with an extension
    grace = {
      -- the county hears when the grace period ends (the notices plugin; again after an extension)
      on_enter = { "emp_billing_flags", "notices_grace_period_ending" },
      timers = { { name = "grace_period", after = "emp_grace_end", event = "grace_ended" } },
    },
    -- certified in good standing: peer codes may be billed (EMP_2)
    certified = { on_enter = { "emp_billing_flags" } },
    -- the grace period ended without certification: EHR access for peer services is suspended (EMP_3)
    ehr_suspended = { on_enter = { "emp_billing_flags" } },
    -- certified after a suspension: EHR access is being restored, due by ehr_restore_by (EMP_3)
    ehr_restoring = {
      on_enter = { "emp_billing_flags" },
      timers = { { name = "ehr_restore", after = "emp_ehr_restore_by", event = "ehr_restore_overdue" } },
    },
    -- was certified, the certification was lost (expired, suspended, revoked): peer billing
    -- stops; EHR access is untouched (EMP_3 is about the end of the grace period)
    not_in_good_standing = { on_enter = { "emp_billing_flags" } },
    ended = { terminal = true, on_enter = { "emp_billing_flags" } },
  },
  transitions = {
    -- start: the first event; it tells the linked certification about this hire
    { from = "hired", event = "start", to = "certified", guard = "emp_start_certified",
      actions = { "emp_record_start", "emp_record_certified" },
      send = { { link = "certification", event = "employment_started" } } },
    { from = "hired", event = "start", to = "grace", guard = "emp_start_linked",
      actions = { "emp_record_start" },
      send = { { link = "certification", event = "employment_started" } } },
    -- no certification yet (the hire has not applied): link it later with link_certification
    { from = "hired", event = "start", to = "grace", guard = "emp_start_unlinked",
      actions = { "emp_record_start" } },

    { from = "grace", event = "link_certification", to = "grace",
      guard = "emp_link_valid", actions = { "emp_record_link" },
      send = { { link = "certification", event = "employment_started" } } },
    { from = "ehr_suspended", event = "link_certification", to = "ehr_suspended",
      guard = "emp_link_valid", actions = { "emp_record_link" },
      send = { { link = "certification", event = "employment_started" } } },

    -- EMP_1: a COR-approved extension moves the end of the grace period (and its timer)
    { from = "grace", event = "extend", to = "grace", reenter = true,
      guard = "emp_extension_valid", actions = { "emp_record_extension" } },

    -- EMP_1: certified inside the window
    { from = "grace", event = "certification_granted", to = "certified",
      guard = "emp_from_certification", actions = { "emp_record_certified" } },
    -- EMP_3: the window ended without certification
    { from = "grace", event = "grace_ended", to = "ehr_suspended", actions = { "emp_suspend_ehr" } },
    -- EMP_3: certification notified: restore EHR access within ehr_restore_hours
    { from = "ehr_suspended", event = "certification_granted", to = "ehr_restoring",
      guard = "emp_from_certification", actions = { "emp_record_certified", "emp_schedule_ehr_restore" } },
    { from = "ehr_restoring", event = "ehr_restored", to = "certified", actions = { "emp_record_ehr_restored" } },
    { from = "ehr_restoring", event = "ehr_restore_overdue", to = "ehr_restoring",
      actions = { "emp_mark_ehr_restore_overdue" } },

    -- the certification left `certified` (expired, suspended, revoked): peer billing stops
    { from = "certified", event = "certification_lost", to = "not_in_good_standing",
      guard = "emp_from_certification", actions = { "emp_record_lost" } },
    -- lost again before access came back: uncertified, access still suspended
    { from = "ehr_restoring", event = "certification_lost", to = "ehr_suspended",
      guard = "emp_from_certification", actions = { "emp_record_lost" } },
    -- restored or reinstated: back in good standing
    { from = "not_in_good_standing", event = "certification_granted", to = "certified",
      guard = "emp_from_certification", actions = { "emp_record_certified" } },
    -- granted again while already in good standing (a renewal re-enters `certified`): recorded, no change
    { from = "certified", event = "certification_granted", to = "certified", guard = "emp_from_certification" },
    { from = "ehr_restoring", event = "certification_granted", to = "ehr_restoring", guard = "emp_from_certification" },

    -- EMP_2: the program records that the hire meets "Other Qualified Provider" criteria
    { from = "grace", event = "record_oqp", to = "grace", guard = "emp_oqp_valid", actions = { "emp_record_oqp" } },
    { from = "certified", event = "record_oqp", to = "certified", guard = "emp_oqp_valid", actions = { "emp_record_oqp" } },
    { from = "ehr_suspended", event = "record_oqp", to = "ehr_suspended",
      guard = "emp_oqp_valid", actions = { "emp_record_oqp" } },
    { from = "ehr_restoring", event = "record_oqp", to = "ehr_restoring",
      guard = "emp_oqp_valid", actions = { "emp_record_oqp" } },
    { from = "not_in_good_standing", event = "record_oqp", to = "not_in_good_standing",
      guard = "emp_oqp_valid", actions = { "emp_record_oqp" } },

    -- EMP_2: a service to bill; a refused one stays in the history with its reason
    { from = "grace", event = "bill", to = "grace", guard = "emp_may_bill", actions = { "emp_record_bill" } },
    { from = "certified", event = "bill", to = "certified", guard = "emp_may_bill", actions = { "emp_record_bill" } },
    { from = "ehr_suspended", event = "bill", to = "ehr_suspended",
      guard = "emp_may_bill", actions = { "emp_record_bill" } },
    { from = "ehr_restoring", event = "bill", to = "ehr_restoring",
      guard = "emp_may_bill", actions = { "emp_record_bill" } },
    { from = "not_in_good_standing", event = "bill", to = "not_in_good_standing",
      guard = "emp_may_bill", actions = { "emp_record_bill" } },

    -- A county's policy change, applied (`certflow policy apply`): the engine fires
    -- `policy_changed` on each hire it moves. EMP_1: a hire whose grace period ended without
    -- certification is back in grace when the policy in force puts its last day on or after
    -- today (EHR access for peer services is active again; the suspension stays in the history).
    { from = "ehr_suspended", event = "policy_changed", to = "grace",
      guard = "emp_grace_reopens", actions = { "emp_reopen_grace" } },
    -- a moved deadline: the copies kept for notices and reports follow (the engine moves the timer)
    { from = "grace", event = "policy_changed", to = "grace",
      guard = "emp_grace_copy_stale", actions = { "emp_refresh_grace" } },
    { from = "ehr_restoring", event = "policy_changed", to = "ehr_restoring",
      guard = "emp_restore_copy_stale", actions = { "emp_refresh_restore" } },

    -- seed 002 C.2: the peer's supervisor, linked (required for billing where the county says so)
    { from = "hired", event = "assign_supervisor", to = "hired",
      guard = "emp_supervisor_valid", actions = { "emp_record_supervisor" } },
    { from = "grace", event = "assign_supervisor", to = "grace",
      guard = "emp_supervisor_valid", actions = { "emp_record_supervisor" } },
    { from = "certified", event = "assign_supervisor", to = "certified",
      guard = "emp_supervisor_valid", actions = { "emp_record_supervisor" } },
    { from = "ehr_suspended", event = "assign_supervisor", to = "ehr_suspended",
      guard = "emp_supervisor_valid", actions = { "emp_record_supervisor" } },
    { from = "ehr_restoring", event = "assign_supervisor", to = "ehr_restoring",
      guard = "emp_supervisor_valid", actions = { "emp_record_supervisor" } },
    { from = "not_in_good_standing", event = "assign_supervisor", to = "not_in_good_standing",
      guard = "emp_supervisor_valid", actions = { "emp_record_supervisor" } },

    -- separation from the position
    { from = "*", event = "end", to = "ended", actions = { "emp_record_end" } },
  },
  -- policy_pins: the county parameters `policy apply --for new` kept this hire on
  -- The data each event is fired with (docs/events.md is printed from this table by
  -- `certflow workflow fields --format markdown`). A caller's event that lacks a
  -- required field, or gives one of another type, is rejected before the policies run,
  -- the reason saying where the field belongs; lua/policy/employment.lua reads these.
  event_data = {
    link_certification = {
      certification_id = { type = "string", required = true, example = "99fd4828-0f4e-4c59-9a55-0d2f6c0b7a31",
                           about = "the id of the person's certification instance" },
    },
    extend = {
      approved_by = { type = "string", required = true, example = "COR J. Park",
                      about = "the county contract officer (COR) who approved the extension" },
      new_date = { type = "date", required = true, example = "2025-05-01",
                   about = "the new last day of the grace period, after the current one" },
      reason = { type = "string", example = "exam date", about = "why the grace period is extended" },
    },
    record_oqp = {
      recorded_by = { type = "string", required = true, example = "M. Chen, program manager",
                      about = "who at the program recorded the Other Qualified Provider criteria" },
      criteria = { type = "string", required = true, example = "OPOH Section M",
                   about = "the Other Qualified Provider criteria the hire meets" },
    },
    bill = {
      code_type = { type = "string", example = "peer", about = "peer (peer service codes) or non_peer" },
      code = { type = "string", example = "H0025", about = "the service code billed" },
      service_on = { type = "date", example = "2025-03-01", about = "the date of service (default: the event's day)" },
    },
    assign_supervisor = {
      supervisor_id = { type = "string", required = true, example = "5b1e2c3d-7a8b-4c9d-9e0f-1a2b3c4d5e6f",
                        about = "the id of the supervisor's supervision instance" },
    },
    ["end"] = {
      reason = { type = "string", example = "resigned", about = "why the employment ended" },
    },
  },
  owned = {
    policy_pins = "when a county's policy change is applied for new hires only (policy apply --for new)",
  },
  links = {
    certification = { workflow = "certification", field = "certification_id" },
  },
}
