-- lua/policy/certification.lua — the decisions of the certification workflow.
local P = { guards = {}, assigns = {}, deadlines = {} }

local function number(v) return type(v) == "number" and v or 0 end

P.guards = {}
P.assigns = {}
P.deadlines = {}

-- APP_1: at least 18 on the day the application is submitted.
function P.guards.is_adult(inst, ev, ctx)
  local born = inst.data.birth_date
  if not born or not date.valid(born) then
    return false, "birth date missing or not a date (YYYY-MM-DD)"
  end
  local age = date.age(born, ctx.today)
  if age < params.minimum_age then
    return false, string.format("applicant is %d on %s; must be at least %d", age, ctx.today, params.minimum_age)
  end
  return true
end

-- APP_2
function P.guards.has_education(inst)
  local e = inst.data.education
  if e == "high_school" or e == "equivalency" or e == "degree" then return true end
  return false, "no high-school diploma, equivalency or higher degree recorded"
end

-- APP_3
function P.guards.has_lived_experience(inst)
  local l = inst.data.lived_experience
  if l == "consumer" or l == "family_member" then return true end
  return false, "lived experience of recovery (as a consumer or a family member) not attested"
end

-- APP_5
function P.guards.ethics_signed(inst)
  if inst.data.ethics_version and inst.data.ethics_signed_on then return true end
  return false, "Code of Ethics agreement (version and date) not recorded"
end

function P.assigns.record_submission(inst, ev, ctx)
  return { submitted_on = ctx.today, application_fee = 100 }
end

-- APP_7: a review still open after review_sla_days is overdue.
function P.deadlines.review_due(inst, ctx)
  if not inst.data.submitted_on then return nil end
  return date.add_days(inst.data.submitted_on, params.review_sla_days + 1)
end

function P.assigns.mark_review_overdue(inst, ev, ctx)
  return { review_overdue_since = ctx.today }
end

-- APP_8: an approved application is valid for 12 months.
function P.assigns.record_approval(inst, ev, ctx)
  return { approved_on = ctx.today,
           window_ends = date.add_days(date.add_months(ctx.today, params.application_valid_months), -1),
           exam_attempts = 0 }
end

function P.deadlines.window_end(inst, ctx)
  return date.add_days(inst.data.window_ends, 1)
end

-- TRN_1, TRN_3: approved provider, enough hours, completed on or after the valid-from date.
function P.guards.training_counts(inst, ev, ctx)
  local t = ev.data
  if not t.approved_provider then
    return false, "training provider is not on the approved list"
  end
  if not t.completed_on or not date.valid(t.completed_on) then
    return false, "training completion date missing"
  end
  if date.compare(t.completed_on, params.training_valid_from) < 0 then
    return false, "training completed before " .. params.training_valid_from .. " does not count"
  end
  if number(t.hours) < params.core_training_hours then
    return false, string.format("training has %s hours; %d required", tostring(t.hours), params.core_training_hours)
  end
  return true
end

function P.assigns.record_training(inst, ev, ctx)
  return { training = { provider = ev.data.provider, hours = ev.data.hours, completed_on = ev.data.completed_on } }
end

function P.guards.training_complete(inst)
  if inst.data.training then return true end
  return false, "core training not yet recorded"
end

-- EX_2: at most max_exam_attempts within the window.
function P.guards.attempt_allowed(inst, ev, ctx)
  local used = number(inst.data.exam_attempts)
  if used >= params.max_exam_attempts then
    return false, string.format("exam attempts used: %d of %d within the window ending %s",
      used, params.max_exam_attempts, inst.data.window_ends)
  end
  return true
end

function P.guards.exam_passed(inst, ev)
  if ev.data.result == "pass" then return true end
  return false, "exam not passed"
end

function P.guards.exam_failed(inst, ev)
  if ev.data.result == "fail" then return true end
  return false, "exam not failed"
end

-- EX_3: the failed attempt was the last one allowed.
function P.guards.last_attempt(inst)
  if number(inst.data.exam_attempts) + 1 >= params.max_exam_attempts then return true end
  return false, "attempts remain"
end

function P.assigns.record_attempt(inst, ev, ctx)
  return { exam_attempts = number(inst.data.exam_attempts) + 1,
           last_exam = { result = ev.data.result, score = ev.data.score, taken_on = ev.data.taken_on or ctx.today } }
end

-- CERT_1, CERT_3: issue the certification, valid for two years.
function P.assigns.issue_certificate(inst, ev, ctx)
  return { certification_number = "PSS-" .. string.upper(string.sub(inst.id, 1, 8)),
           issued_on = ctx.today,
           expires_on = date.add_years(ctx.today, params.certification_valid_years) }
end

-- REN_4: renewal opens renewal_window_days before expiry.
function P.deadlines.renewal_window_opens(inst, ctx)
  return date.add_days(inst.data.expires_on, -params.renewal_window_days)
end

-- REN_6: not renewed by the end of the expiry date.
function P.deadlines.expiry(inst, ctx)
  return date.add_days(inst.data.expires_on, 1)
end

function P.guards.in_renewal_window(inst, ev, ctx)
  local opens = date.add_days(inst.data.expires_on, -params.renewal_window_days)
  if date.compare(ctx.today, opens) < 0 then
    return false, "renewal opens on " .. opens .. " (" .. params.renewal_window_days .. " days before expiry)"
  end
  if date.compare(ctx.today, inst.data.expires_on) > 0 then
    return false, "certification expired on " .. inst.data.expires_on
  end
  return true
end

-- REN_2: continuing education inside the current period.
function P.guards.ce_hours_met(inst, ev)
  local total, ethics = number(ev.data.ce_hours), number(ev.data.ce_law_ethics_hours)
  if total < params.ce_hours_required then
    return false, string.format("continuing education: %d of %d hours", total, params.ce_hours_required)
  end
  if ethics < params.ce_law_ethics_hours then
    return false, string.format("law and ethics hours: %d of %d", ethics, params.ce_law_ethics_hours)
  end
  return true
end

function P.assigns.record_renewal(inst, ev, ctx)
  return { expires_on = date.add_years(inst.data.expires_on, params.certification_valid_years),
           renewed_on = ctx.today, renewal_fee = 80 }
end

function P.assigns.mark_renewal_open(inst, ev, ctx)
  return { renewal_open_since = ctx.today }
end

-- REN_7: reinstatement within a limit after expiry.
function P.deadlines.reinstatement_limit(inst, ctx)
  return date.add_days(inst.data.expires_on, params.reinstatement_limit_days + 1)
end

function P.assigns.record_reinstatement(inst, ev, ctx)
  return { expires_on = date.add_years(ctx.today, params.certification_valid_years),
           reinstated_on = ctx.today, reinstatement_fee = 80 }
end

return P
