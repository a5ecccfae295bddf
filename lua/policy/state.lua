-- lua/policy/state.lua — the statewide policy's parameters: every default of the
-- certification rules (docs/rules.md) as a named value, and the list of those a
-- county may override. The decisions that use them live beside this file, one file
-- per lifecycle (certification.lua, employment.lua, ...); together they are the state policy.
local P = {}

P.params = {
  -- Application (APP_*)
  minimum_age = 18,                      -- APP_1
  application_fee = 100,                 -- APP_6
  review_sla_days = 30,                  -- APP_7
  application_valid_months = 12,         -- APP_8
  -- Training (TRN_*)
  core_training_hours = 80,              -- TRN_1
  training_valid_from = "2022-07-01",    -- TRN_3
  training_review_days = 14,             -- TRN_4
  -- Exam (EX_*)
  exam_fee = 150,                        -- EX_1
  retake_fee = 150,                      -- EX_1, EX_8
  max_exam_attempts = 3,                 -- EX_2
  accommodation_lead_days = 30,          -- EX_5
  accommodation_review_days = 30,        -- EX_5
  cancel_window_online_hours = 1,        -- EX_6
  cancel_window_in_person_hours = 48,    -- EX_6
  no_show_counts_as_attempt = true,      -- EX_7
  retake_review_days = 30,               -- EX_8
  -- Certification (CERT_*)
  specialization_training_hours = 40,    -- CERT_2
  certification_valid_years = 2,         -- CERT_3
  -- Renewal (REN_*)
  ce_hours_required = 20,                -- REN_2
  ce_law_ethics_hours = 6,               -- REN_2
  code_of_ethics_version = "2022",       -- REN_5 (the most recent Code of Ethics a renewal agrees to)
  renewal_window_days = 90,              -- REN_4
  renewal_fee = 80,                      -- REN_4
  expiry_notice_days = 30,               -- REN_4 (notices: the expiry is approaching)
  reinstatement_fee = 80,                -- REN_7
  reinstatement_limit_days = 365,        -- REN_7
  -- Other pathways (PATH_*)
  legacy_employed_on = "2022-01-01",     -- PATH_1
  legacy_deadline = "2023-06-30",        -- PATH_1 (extended, seed 002)
  legacy_peer_hours = 1550,              -- PATH_1
  reciprocity_peer_hours = 1550,         -- PATH_2
  reciprocity_hours_within_years = 3,    -- PATH_2
  -- Employment, billing, supervision (county)
  hire_grace_days = 90,                  -- EMP_1
  ehr_restore_hours = 48,                -- EMP_3
  supervisor_training_days = 60,         -- SUP_2
  -- Complaints and discipline (DIS_*)
  appeal_window_days = 30,               -- DIS_3
  complaint_ack_business_days = 5,       -- DIS_5
  investigation_days = 90,               -- DIS_5
  investigation_extension_days = 30,     -- DIS_5
  complaint_limit_years = 3,             -- DIS_6
}

-- County-side timelines a county may set for itself; statewide certification rules are not overridable.
P.overridable = { "hire_grace_days", "ehr_restore_hours", "supervisor_training_days" }

return P
