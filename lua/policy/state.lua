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
  -- APP_8: the window runs from the approval (seed 000 "approved for a 12-month period") or,
  -- read as seed 002 says it ("12 months from the date of their applications"), from the
  -- submission: "approval" or "submission" (docs/rules.md, "Where the documents disagree").
  application_window_starts = "approval",
  -- APP_8, CERT_1: what must fall inside the window is the sitting (taken_on); a result that
  -- arrives after the window's last day still certifies. The application waits this many days
  -- after the window for the result of a sitting held inside it, then closes.
  exam_result_wait_days = 30,
  -- Training (TRN_*)
  core_training_hours = 80,              -- TRN_1
  training_valid_from = "2022-07-01",    -- TRN_3
  training_review_days = 14,             -- TRN_4
  -- TRN_2: the 17 core competencies a completion record must name (seed 000, "17-Core
  -- Competencies", in its order; the ids are short forms of the seed's titles). A parameter
  -- is a number, string, boolean or function (docs/policies.md), so the list is returned
  -- by a function: params.core_competencies() gives a fresh table each call.
  core_competencies = function() return {
    "hope_recovery_wellness",                 -- 1. the concepts of hope, recovery and wellness
    "advocacy",                               -- 2. the role of advocacy
    "consumers_and_family_members",           -- 3. the role of consumers and family members
    "rehabilitation_and_recovery_practices",  -- 4. psychiatric rehabilitation skills, addiction recovery principles
    "cultural_and_structural_competence",     -- 5. cultural and structural competence
    "trauma_informed_care",                   -- 6. trauma-informed care
    "group_facilitation",                     -- 7. group facilitation skills
    "self_awareness_and_self_care",           -- 8. self-awareness and self-care
    "co_occurring_disorders",                 -- 9. co-occurring disorders of mental health and substance use
    "conflict_resolution",                    -- 10. conflict resolution
    "professional_boundaries_and_ethics",     -- 11. professional boundaries and ethics
    "employment_preparation",                 -- 12. preparation for employment opportunities
    "safety_and_crisis_planning",             -- 13. safety and crisis planning
    "navigation_and_referral",                -- 14. navigation of, and referral to, other services
    "documentation",                          -- 15. documentation skills and standards
    "confidentiality",                        -- 16. confidentiality
    "digital_literacy",                       -- 17. digital literacy
  } end,
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
  -- REN_5: the most recent Code of Ethics a renewal agrees to, the one seed 004 cites: the
  -- DHCS "Medi-Cal Code of Ethics for Peer Support Specialists in California", July 26, 2021.
  code_of_ethics_version = "2021-07-26",
  renewal_window_days = 90,              -- REN_4
  renewal_fee = 80,                      -- REN_4
  expiry_notice_days = 30,               -- REN_4 (notices: the expiry is approaching)
  reinstatement_fee = 80,                -- REN_7
  reinstatement_limit_days = 365,        -- REN_7
  -- Other pathways (PATH_*)
  legacy_employed_on = "2022-01-01",     -- PATH_1
  legacy_deadline = "2023-06-30",        -- PATH_1 (extended, seed 002)
  -- PATH_1: what the legacy deadline bounds. Seed 002 extends "this pathway" through the
  -- deadline and the entity takes grandparenting *applications* until then: "application"
  -- (the submission day; the exam follows inside the 12-month window). "certification"
  -- also requires the passed exam to be taken by the deadline.
  legacy_deadline_applies_to = "application",
  -- PATH_1: seed 002 says both "employed as a Peer on January 1, 2022" and "employed as a
  -- Certified Peer Support Specialist on January 1, 2022" (no Medi-Cal certification existed
  -- then). false: employed as a peer; true: also a peer certification held then (legacy.certified_on_employed_date).
  legacy_requires_certified_peer = false,
  legacy_peer_hours = 1550,              -- PATH_1
  reciprocity_peer_hours = 1550,         -- PATH_2
  reciprocity_hours_within_years = 3,    -- PATH_2
  -- PATH_2: the review of a transfer from another California program (data.transfer on the
  -- reciprocity pathway): returns true, or false and the reasons. A function-valued
  -- parameter (docs/policies.md); statewide, so not in P.overridable.
  transfer_review = function(transfer, today)
    local out = {}
    if type(transfer.program) ~= "string" or transfer.program == "" then
      out[#out + 1] = "the California program transferred from is not named (transfer.program)"
    end
    local on = transfer.certified_on
    if type(on) ~= "string" or not date.valid(on) then
      out[#out + 1] = "the certification date in that program is missing (transfer.certified_on, YYYY-MM-DD)"
    elseif today ~= nil and date.compare(on, today) > 0 then
      out[#out + 1] = "the certification date in that program (" .. on .. ") is after " .. today
    end
    if transfer.in_good_standing ~= true then
      out[#out + 1] = "not in good standing with that program"
    end
    if transfer.pending_discipline == true or transfer.unresolved_complaint == true then
      out[#out + 1] = "pending discipline or an unresolved complaint in that program"
    end
    if #out == 0 then return true end
    return false, table.concat(out, "; ")
  end,
  -- Employment, billing, supervision (county)
  hire_grace_days = 90,                  -- EMP_1
  ehr_restore_hours = 48,                -- EMP_3
  supervisor_training_days = 60,         -- SUP_2 (a DHCS standard, seed 000: statewide)
  peer_supervisor_required = false,      -- EMP_2 (seed 002 C.2): billing needs a supervisor linked to the hire
  -- Complaints and discipline (DIS_*)
  appeal_window_days = 30,               -- DIS_3
  complaint_ack_business_days = 5,       -- DIS_5
  investigation_days = 90,               -- DIS_5
  investigation_extension_days = 30,     -- DIS_5
  complaint_limit_years = 3,             -- DIS_6
}

-- County-side choices a county may make for itself; statewide certification rules, and the
-- DHCS supervisor-training standard (SUP_2), are not overridable. Each is declared with its kind
-- and the range a county's value must fall in (docs/policies.md); a value outside it (-5, 120.5,
-- 0/0, math.huge, "90") is refused when the engine opens, by `certflow check` and by
-- `certflow policy diff`, naming the file and the range.
P.overridable = {
  -- EMP_1: at least a day, at most a year after the hire date to become certified.
  hire_grace_days = { kind = "integer", min = 1, max = 365 },
  -- EMP_3: at least an hour, at most 30 days (720 hours) after the certification is notified.
  ehr_restore_hours = { kind = "integer", min = 1, max = 720 },
  -- EMP_2 (seed 002 C.2): whether the county requires a supervisor linked to each peer's employment.
  peer_supervisor_required = { kind = "boolean" },
}

return P
