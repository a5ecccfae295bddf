-- lua/policy/certification.lua — the decisions of the certification workflow
-- (workflows/certification.lua): one person's application, training, exam attempts,
-- certification, renewal, expiry, reinstatement and discipline. Every number comes
-- from `params` (lua/policy/state.lua); docs/rules.md maps each rule to its function.
--
-- Conventions kept by every function here:
--  * A guard never fails on missing data: every guard of every candidate transition
--    runs, so each one checks what it reads and answers with a reason.
--  * Reasons name the numbers and dates they compare, so a rejection reads on its own.
--  * Fees are charged through the fees plugin (FEE_1): an assign puts what is due in
--    data.fees_due ({ type, amount, on, reason, covered_by }, amounts in dollars from
--    params) and the workflow's next action, fees_charge, writes it to the plugin's
--    ledger and removes the field. A guard that needs a fee checks the event data:
--    `fee_paid` (dollars) or `covered_by` (a scholarship award id, SCH_1).
--  * Lists in the data (fees, exams, ...) are replaced whole by a patch, so an assign
--    copies the old list and appends to it.
local G, A, D = {}, {}, {}

---------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------

local function num(v)
  return type(v) == "number" and v or 0
end

-- 100 -> "100", 12.5 -> "12.5"
local function n2s(v)
  local i = math.tointeger(v)
  if i then return tostring(i) end
  return string.format("%g", v)
end

local function money(v)
  return "$" .. n2s(v)
end

-- Data and event data are read-only views (not Lua tables): anything indexable counts.
local function is_table(v)
  return type(v) == "table" or type(v) == "userdata"
end

local function is_date(v)
  return type(v) == "string" and date.valid(v)
end

-- A date-time "YYYY-MM-DDTHH:MM..." (with Z, an offset, or local).
local function is_datetime(v)
  return type(v) == "string" and string.match(v, "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d") ~= nil
    and date.valid(string.sub(v, 1, 10))
end

-- Copy a list of the data and append one entry (a patch replaces lists whole).
local function append(list, entry)
  local out = {}
  if list then
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  out[#out + 1] = entry
  return out
end

-- "47 hours", "1 hour", "47 hours 30 minutes", "59 minutes"; whole minutes, rounded down
-- (47:59:59 left is "47 hours 59 minutes", never "48 hours").
local function duration(hours)
  local minutes = math.floor(hours * 60 + 1e-6)
  if minutes < 0 then minutes = 0 end
  local h, m = minutes // 60, minutes % 60
  local hs = h == 1 and "1 hour" or string.format("%d hours", h)
  local ms = m == 1 and "1 minute" or string.format("%d minutes", m)
  if h == 0 then return ms end
  if m == 0 then return hs end
  return hs .. " " .. ms
end

local function pathway(inst)
  return inst.data.pathway or "initial"
end

-- A fee due in this transition, for the fees plugin's fees_charge action (data.fees_due).
local function fee(kind, amount, ev, ctx, rule)
  local covered = ev and ev.data and ev.data.covered_by
  return { type = kind, amount = amount, on = ctx.today, reason = kind .. " fee (" .. rule .. ")",
           covered_by = type(covered) == "string" and covered ~= "" and covered or nil }
end

-- Is a fee of `amount` paid in this event? (APP_6, EX_1, EX_8, REN_4, REN_7, SCH_1)
-- A scholarship award (covered_by) pays only the fees an award covers (`coverable`: the
-- application fee, one exam attempt, one pre-approved retake); whether this award exists,
-- was awarded to this person, covers this fee and has not paid it yet is checked against
-- the pool by the fees plugin's guards fees_cover_* and again by its ledger (docs/rules.md, SCH_1).
local function fee_paid(inst, ev, amount, what, coverable)
  local d = ev.data or {}
  if type(d.covered_by) == "string" and d.covered_by ~= "" then
    if pathway(inst) == "reciprocity" then
      return false, string.format("reciprocity applicants are not eligible for scholarships: the %s of %s cannot be covered by award %s",
        what, money(amount), d.covered_by)
    end
    if not coverable then
      return false, string.format("a scholarship award pays the application fee, one exam attempt and one pre-approved retake, not the %s of %s (award %s): pay it with fee_paid",
        what, money(amount), d.covered_by)
    end
    return true
  end
  local paid = num(d.fee_paid)
  if paid < amount then
    return false, string.format("the %s of %s is not paid (fee_paid: %s)", what, money(amount), money(paid))
  end
  return true
end

-- Continuing-education hours of `list` ({ hours, law_ethics, completed_on }) completed
-- from `from` to `to` (inclusive; either may be nil for open). Returns total, law and
-- ethics, and the hours left out for their dates.
local function ce_hours(list, from, to)
  local total, ethics, outside = 0, 0, 0
  if not is_table(list) then return 0, 0, 0 end
  for _, c in ipairs(list) do
    local h = num(c.hours)
    local on = c.completed_on
    local inside = is_date(on)
      and (from == nil or date.compare(on, from) >= 0)
      and (to == nil or date.compare(on, to) <= 0)
    if inside then
      total = total + h
      if c.law_ethics == true then ethics = ethics + h end
    else
      outside = outside + h
    end
  end
  return total, ethics, outside
end

-- The reasons continuing education falls short, or nil. `period` names the span.
local function ce_shortfall(list, from, to, period)
  local total, ethics, outside = ce_hours(list, from, to)
  local out = {}
  local note = outside > 0 and string.format(" (%s hours outside it do not count)", n2s(outside)) or ""
  if total < params.ce_hours_required then
    out[#out + 1] = string.format("continuing education: %s of %d hours inside %s%s",
      n2s(total), params.ce_hours_required, period, note)
  end
  if ethics < params.ce_law_ethics_hours then
    out[#out + 1] = string.format("law and ethics: %s of %d hours inside %s%s",
      n2s(ethics), params.ce_law_ethics_hours, period, note)
  end
  if #out == 0 then return nil end
  return table.concat(out, "; ")
end

local function attempts(inst)
  return num(inst.data.exam_attempts)
end

-- The date a certification period started: issue, renewal or reinstatement.
local function period_start(inst)
  return inst.data.period_starts_on or inst.data.issued_on
end

---------------------------------------------------------------------------
-- Application: submission (APP_1..APP_6, PATH_1, PATH_2)
---------------------------------------------------------------------------

-- Fields an applicant may fill in while the application is a draft.
local DRAFT_FIELDS = {
  name = true, email = true, phone = true, address = true, birth_date = true, county = true,
  pathway = true, education = true, lived_experience = true, attests_willingness = true,
  ethics_version = true, ethics_signed_on = true, legacy = true, reciprocity = true,
  transfer = true,
}

function G.draft_fields_known(inst, ev)
  for k in pairs(ev.data or {}) do
    if not DRAFT_FIELDS[k] then
      return false, "'" .. tostring(k) .. "' is not a field of the application"
    end
  end
  return true
end

function A.update_draft(inst, ev)
  local patch = {}
  for k, v in pairs(ev.data or {}) do patch[k] = v end
  return patch
end

-- APP_1: at least minimum_age on the submission day (the birthday itself counts).
function G.is_adult(inst, ev, ctx)
  local born = inst.data.birth_date
  if not is_date(born) then
    return false, "birth date missing or not a date (YYYY-MM-DD)"
  end
  if date.compare(born, ctx.today) > 0 then
    return false, "birth date " .. born .. " is after the submission day " .. ctx.today
  end
  local age = date.age(born, ctx.today)
  if age < params.minimum_age then
    return false, string.format("applicant is %d on %s (born %s); must be at least %d on the submission day",
      age, ctx.today, born, params.minimum_age)
  end
  return true
end

-- APP_2
local EDUCATION = { high_school = true, equivalency = true, degree = true }
function G.has_education(inst)
  if EDUCATION[inst.data.education] then return true end
  return false, "no high-school diploma, equivalency or higher degree recorded (education: "
    .. tostring(inst.data.education) .. "; expected high_school, equivalency or degree)"
end

-- APP_3: recovery from mental illness or substance use, as a consumer of services or as
-- a parent, caregiver or family member of one. Anything else (homelessness) alone does not qualify.
local LIVED = { consumer = true, family_member = true }
function G.has_lived_experience(inst)
  local l = inst.data.lived_experience
  local kinds = type(l) == "string" and { l } or (is_table(l) and l or {})
  local named = {}
  for _, k in ipairs(kinds) do
    if LIVED[k] then return true end
    named[#named + 1] = tostring(k)
  end
  if #named == 0 then
    return false, "lived experience of recovery (as a consumer, or as a parent, caregiver or family member of one) not attested"
  end
  if #named == 1 and named[1] == "homelessness" then
    return false, "homelessness alone does not qualify as lived experience: attest recovery from mental illness or substance use, as a consumer or as a parent, caregiver or family member of one"
  end
  return false, "lived experience '" .. table.concat(named, ", ")
    .. "' does not qualify: attest recovery from mental illness or substance use, as a consumer or as a parent, caregiver or family member of one"
end

-- APP_4
function G.attests_willingness(inst)
  if inst.data.attests_willingness == true then return true end
  return false, "willingness to share one's experience and dedication to recovery not attested"
end

-- APP_5: the signed Code of Ethics agreement, version and date.
function G.ethics_signed(inst, ev, ctx)
  local v, on = inst.data.ethics_version, inst.data.ethics_signed_on
  if type(v) ~= "string" or v == "" or not is_date(on) then
    return false, "Code of Ethics agreement not recorded (ethics_version and ethics_signed_on are required)"
  end
  if date.compare(on, ctx.today) > 0 then
    return false, "Code of Ethics agreement is dated " .. on .. ", after " .. ctx.today
  end
  return true
end

-- APP_6
function G.application_fee_paid(inst, ev)
  return fee_paid(inst, ev, params.application_fee, "application fee", true)
end

-- PATH_1 (legacy) and PATH_2 (reciprocity); the initial pathway has nothing more here.
local function legacy_problems(inst, ctx)
  local out = {}
  if date.compare(ctx.today, params.legacy_deadline) > 0 then
    out[#out + 1] = "legacy (grandparenting) applications were accepted through " .. params.legacy_deadline
  end
  local l = inst.data.legacy
  if not is_table(l) then
    out[#out + 1] = "legacy pathway details missing (data.legacy)"
    return out
  end
  local started, ended = l.employed_from, l.employed_until
  local employed = is_date(started) and date.compare(started, params.legacy_employed_on) <= 0
    and (ended == nil or (is_date(ended) and date.compare(ended, params.legacy_employed_on) >= 0))
  if not employed then
    out[#out + 1] = "not employed as a peer on " .. params.legacy_employed_on
  end
  if params.legacy_requires_certified_peer == true and l.certified_on_employed_date ~= true then
    out[#out + 1] = "not employed as a certified peer on " .. params.legacy_employed_on
      .. " (legacy.certified_on_employed_date)"
  end
  if num(l.peer_hours) < params.legacy_peer_hours then
    out[#out + 1] = string.format("peer work: %s of %d hours", n2s(num(l.peer_hours)), params.legacy_peer_hours)
  end
  local ce = ce_shortfall(l.ce, nil, ctx.today, "the records given")
  if ce then out[#out + 1] = ce end
  if l.supervisor_letter ~= true then out[#out + 1] = "supervisor's letter missing" end
  if l.colleague_letter ~= true then out[#out + 1] = "colleague's letter missing" end
  if l.employment_verification ~= true then out[#out + 1] = "employment verification missing" end
  return out
end

local function reciprocity_problems(inst, ctx)
  local out = {}
  local r = inst.data.reciprocity
  if not is_table(r) then
    return { "reciprocity pathway details missing (data.reciprocity)" }
  end
  local since = date.add_years(ctx.today, -params.reciprocity_hours_within_years)
  local hours = 0
  for _, w in ipairs(is_table(r.peer_work) and r.peer_work or {}) do
    if is_date(w.ended_on) and date.compare(w.ended_on, since) >= 0 then hours = hours + num(w.hours) end
  end
  if hours < params.reciprocity_peer_hours then
    out[#out + 1] = string.format("peer work: %s of %d hours since %s (the last %d years)",
      n2s(hours), params.reciprocity_peer_hours, since, params.reciprocity_hours_within_years)
  end
  if r.certification_active ~= true then
    out[#out + 1] = "no current and active certification from the other state"
  end
  if r.pending_discipline == true or r.unresolved_complaint == true then
    out[#out + 1] = "pending discipline or an unresolved complaint in the other state"
  end
  local ce = ce_shortfall(r.ce, date.add_years(ctx.today, -2), ctx.today,
    "the past 2 years (" .. date.add_years(ctx.today, -2) .. " to " .. ctx.today .. ")")
  if ce then out[#out + 1] = ce end
  for _, letter in ipairs({ "supervisor_letter", "colleague_letter", "self_letter" }) do
    if r[letter] ~= true then out[#out + 1] = string.gsub(letter, "_", " ") .. " missing" end
  end
  return out
end

function G.pathway_requirements(inst, ev, ctx)
  local p = pathway(inst)
  local problems
  if p == "initial" then
    return true
  elseif p == "legacy" then
    problems = legacy_problems(inst, ctx)
  elseif p == "reciprocity" and is_table(inst.data.transfer) then
    -- PATH_2: a transfer from another California program is reviewed by the policy
    -- function params.transfer_review instead of the other-state requirements.
    local ok, why = params.transfer_review(inst.data.transfer, ctx.today)
    if ok then return true end
    return false, "transfer from another California program (" .. tostring(inst.data.transfer.program)
      .. ") refused by the transfer review: " .. tostring(why or "no reason given")
  elseif p == "reciprocity" then
    problems = reciprocity_problems(inst, ctx)
  else
    return false, "unknown pathway '" .. tostring(p) .. "' (initial, legacy or reciprocity)"
  end
  if #problems == 0 then return true end
  return false, p .. " pathway: " .. table.concat(problems, "; ")
end

function A.record_submission(inst, ev, ctx)
  return {
    pathway = pathway(inst),
    submitted_on = ctx.today,
    review_started_on = ctx.today,
    ethics = { version = inst.data.ethics_version, signed_on = inst.data.ethics_signed_on },
    fees_due = { fee("application", params.application_fee, ev, ctx, "APP_6") },
  }
end

---------------------------------------------------------------------------
-- Review (APP_7), decision, denial appeal (DIS_7), the window (APP_8)
---------------------------------------------------------------------------

-- APP_7: overdue from the day after review_sla_days.
function D.review_due(inst)
  local from = inst.data.review_started_on
  if not is_date(from) then return nil end
  return date.add_days(from, params.review_sla_days + 1)
end

function A.mark_review_overdue(inst, ev, ctx)
  return { review_overdue_since = ctx.today }
end

-- APP_8: the window runs application_valid_months from approval (or from the submission,
-- params.application_window_starts = "submission"), inclusive of its last day.
function A.record_approval(inst, ev, ctx)
  local from = ctx.today
  if params.application_window_starts == "submission" and is_date(inst.data.submitted_on) then
    from = inst.data.submitted_on
  end
  return {
    approved_on = ctx.today,
    window_starts = from,
    window_ends = date.add_days(date.add_months(from, params.application_valid_months), -1),
    exam_attempts = num(inst.data.exam_attempts),
    review_overdue_since = null,
  }
end

function A.record_denial(inst, ev, ctx)
  local reason = ev.data and ev.data.reason
  return { denied_on = ctx.today, denial_reason = type(reason) == "string" and reason or null }
end

-- DIS_7: a denial may be appealed within appeal_window_days.
local function appeal_last_day(inst)
  if not is_date(inst.data.denied_on) then return nil end
  return date.add_days(inst.data.denied_on, params.appeal_window_days)
end

function D.appeal_window_end(inst)
  local last = appeal_last_day(inst)
  return last and date.add_days(last, 1) or nil
end

function G.within_appeal_window(inst, ev, ctx)
  local last = appeal_last_day(inst)
  if not last then return false, "no denial date recorded" end
  if date.compare(ctx.today, last) > 0 then
    return false, string.format("the appeal window closed on %s (%d days after the denial on %s)",
      last, params.appeal_window_days, inst.data.denied_on)
  end
  return true
end

function A.record_appeal(inst, ev, ctx)
  return { appeals = append(inst.data.appeals,
    { action = "denial", filed_on = ctx.today, denied_on = inst.data.denied_on }) }
end

local function decide_last_appeal(inst, outcome, ctx, extra)
  local list = {}
  for i, a in ipairs(inst.data.appeals or {}) do list[i] = a end
  local last = list[#list] or {}
  local copy = { action = last.action, filed_on = last.filed_on, denied_on = last.denied_on,
                 outcome = outcome, decided_on = ctx.today }
  if #list == 0 then list[1] = copy else list[#list] = copy end
  local patch = extra or {}
  patch.appeals = list
  return patch
end

function A.appeal_overturned(inst, ev, ctx)
  return decide_last_appeal(inst, "overturned", ctx,
    { denied_on = null, denial_reason = null, review_started_on = ctx.today })
end

function A.appeal_upheld(inst, ev, ctx)
  return decide_last_appeal(inst, "upheld", ctx)
end

function G.restore_to_approved(inst, ev)
  if ev.data and ev.data.restore_to == "approved" then return true end
  return false, "the overturned denial goes back to review (restore_to is not \"approved\")"
end

function A.close_window(inst, ev, ctx)
  return { closed_on = ctx.today, closed_because = "window_ended", fees_forfeited = true, appointment = null }
end

function A.close_withdrawn(inst, ev, ctx)
  return { closed_on = ctx.today, closed_because = "withdrawn", fees_forfeited = true }
end

-- A sitting inside the window whose result has not arrived: the appointment's day, or nil.
local function sitting_awaiting_result(inst)
  local a, ends = inst.data.appointment, inst.data.window_ends
  if a == nil or not is_datetime(a.at) or not is_date(ends) then return nil end
  local on = string.sub(a.at, 1, 10)
  if date.compare(on, ends) > 0 then return nil end
  return on
end

-- APP_8: the window closes the day after its last day; while a sitting held inside it awaits
-- its result, exam_result_wait_days later (the sitting is what must fall inside the window).
function D.window_end(inst)
  if not is_date(inst.data.window_ends) then return nil end
  local close = date.add_days(inst.data.window_ends, 1)
  if sitting_awaiting_result(inst) then
    return date.add_days(close, params.exam_result_wait_days)
  end
  return close
end

-- The window's last day has passed, but a sitting inside it awaits its result: wait for it
-- (up to exam_result_wait_days after the window).
function G.sitting_awaits_result(inst, ev, ctx)
  local on = sitting_awaiting_result(inst)
  if on == nil then return false, "no exam sat inside the window awaits its result" end
  local last = date.add_days(inst.data.window_ends, params.exam_result_wait_days)
  if date.compare(ctx.today, last) > 0 then
    return false, string.format("the result of the exam of %s did not arrive by %s (%d days after the window ending %s)",
      on, last, params.exam_result_wait_days, inst.data.window_ends)
  end
  return true
end

function A.mark_awaiting_result(inst, ev, ctx)
  return { window_waits_for_result_since = ctx.today }
end

-- The date `on` lies in the application's window.
local function in_window(inst, on)
  local ends = inst.data.window_ends
  return is_date(ends) and date.compare(on, ends) <= 0
end

---------------------------------------------------------------------------
-- Training (TRN_1..TRN_4, APP_9)
---------------------------------------------------------------------------

-- TRN_2: a completion record names the provider, the hours and the completion date.
function G.training_record_complete(inst, ev)
  local t = ev.data or {}
  local missing = {}
  if type(t.provider) ~= "string" or t.provider == "" then missing[#missing + 1] = "provider" end
  if type(t.hours) ~= "number" then missing[#missing + 1] = "hours" end
  if not is_date(t.completed_on) then missing[#missing + 1] = "completed_on" end
  if not is_table(t.competencies) then missing[#missing + 1] = "competencies" end
  if #missing > 0 then
    return false, "the training certificate must name " .. table.concat(missing, ", ")
  end
  -- TRN_2: the record names every one of the core competencies (params.core_competencies()).
  local named = {}
  for _, c in ipairs(t.competencies) do
    if type(c) == "string" then named[c] = true end
  end
  local core, absent = params.core_competencies(), {}
  for _, c in ipairs(core) do
    if not named[c] then absent[#absent + 1] = c end
  end
  if #absent == 0 then return true end
  local total = #core
  return false, string.format("the training record covers %d of the %d core competencies: %d missing (%s)",
    total - #absent, total, #absent, table.concat(absent, ", "))
end

function G.no_training_review_pending(inst)
  local u = inst.data.training_upload
  if u == nil then return true end
  return false, "a training certificate uploaded on " .. tostring(u.uploaded_on) .. " is still under review"
end

function G.training_review_pending(inst)
  if inst.data.training_upload ~= nil then return true end
  return false, "no uploaded training certificate awaits review"
end

function A.record_training_upload(inst, ev, ctx)
  local t = ev.data
  return { training_upload = {
    provider = t.provider, provider_approved_from = t.provider_approved_from,
    provider_approved_until = t.provider_approved_until, hours = t.hours,
    completed_on = t.completed_on, kind = "core", uploaded_on = ctx.today,
    competencies = append(t.competencies, nil),
    review_due_on = date.add_days(ctx.today, params.training_review_days),
  } }
end

-- TRN_4: an open review is overdue from the day after training_review_days.
function D.training_review_due(inst)
  local u = inst.data.training_upload
  if u == nil or u.overdue_since ~= nil or not is_date(u.uploaded_on) then return nil end
  return date.add_days(u.uploaded_on, params.training_review_days + 1)
end

function A.mark_training_review_overdue(inst, ev, ctx)
  if inst.data.training_upload == nil then return nil end
  return { training_upload = { overdue_since = ctx.today } }
end

-- TRN_1, TRN_3: hours, an approved provider on the completion date, the valid-from date.
local function training_problems(t, hours_required)
  local out = {}
  local provider = tostring(t.provider)
  if not is_date(t.provider_approved_from) then
    out[#out + 1] = "training provider " .. provider .. " is not on the approved list"
  elseif is_date(t.completed_on) then
    if date.compare(t.completed_on, t.provider_approved_from) < 0
      or (is_date(t.provider_approved_until) and date.compare(t.completed_on, t.provider_approved_until) > 0) then
      out[#out + 1] = string.format("training provider %s was not approved on the completion date %s (approved %s to %s)",
        provider, t.completed_on, t.provider_approved_from,
        is_date(t.provider_approved_until) and t.provider_approved_until or "now")
    end
  end
  if is_date(t.completed_on) and date.compare(t.completed_on, params.training_valid_from) < 0 then
    out[#out + 1] = string.format("training completed on %s, before %s, does not count",
      t.completed_on, params.training_valid_from)
  end
  if num(t.hours) < hours_required then
    out[#out + 1] = string.format("training has %s hours; %d required", n2s(num(t.hours)), hours_required)
  end
  return out
end

function G.training_counts(inst)
  local t = inst.data.training_upload
  if t == nil then return false, "no uploaded training certificate awaits review" end
  local problems = training_problems(t, params.core_training_hours)
  if #problems == 0 then return true end
  return false, table.concat(problems, "; ")
end

function A.accept_training(inst, ev, ctx)
  local u = inst.data.training_upload
  return {
    training = { provider = u.provider, provider_approved_from = u.provider_approved_from,
                 provider_approved_until = u.provider_approved_until, hours = u.hours,
                 completed_on = u.completed_on, accepted_on = ctx.today, competencies = u.competencies and append(u.competencies, nil) or nil,
                 review_overdue_since = u.overdue_since },
    training_upload = null,
  }
end

function A.reject_training(inst, ev, ctx)
  local u = inst.data.training_upload
  local reason = ev.data and ev.data.reason
  return {
    training_rejections = append(inst.data.training_rejections,
      { provider = u.provider, hours = u.hours, completed_on = u.completed_on, uploaded_on = u.uploaded_on,
        rejected_on = ctx.today, reason = type(reason) == "string" and reason or nil }),
    training_upload = null,
  }
end

-- TRN_1 and APP_9: the core training is recorded for this application (legacy and
-- reciprocity need none). It stays valid for as long as the application's window.
function G.training_complete(inst)
  local p = pathway(inst)
  if p ~= "initial" then return true end
  if inst.data.training ~= nil then return true end
  return false, string.format("the %d-hour core training is not yet recorded; it must be completed before the first exam attempt",
    params.core_training_hours)
end

---------------------------------------------------------------------------
-- Accommodation (EX_5)
---------------------------------------------------------------------------

function G.no_accommodation_pending(inst)
  local a = inst.data.accommodation
  if a == nil or a.status ~= "pending" then return true end
  return false, "the accommodation request submitted on " .. tostring(a.requested_on)
    .. " is pending; scheduling is refused until it is decided"
end

function G.accommodation_pending(inst)
  local a = inst.data.accommodation
  if a ~= nil and a.status == "pending" then return true end
  return false, "no accommodation request is pending"
end

function G.accommodation_request_ok(inst, ev, ctx)
  local d = ev.data or {}
  local out = {}
  if inst.data.appointment ~= nil then
    out[#out + 1] = "an accommodation must be requested before the exam is scheduled (an exam is scheduled for "
      .. tostring(inst.data.appointment.at) .. ")"
  end
  if d.signed_by_medical_provider ~= true then
    out[#out + 1] = "the accommodation form must be signed by a licensed medical provider"
  end
  if not is_date(d.desired_date) then
    out[#out + 1] = "desired test date missing (desired_date, YYYY-MM-DD)"
  else
    local earliest = date.add_days(ctx.today, params.accommodation_lead_days)
    if date.compare(d.desired_date, earliest) < 0 then
      out[#out + 1] = string.format("the request must come at least %d days before the desired test date %s (on or before %s)",
        params.accommodation_lead_days, d.desired_date, date.add_days(d.desired_date, -params.accommodation_lead_days))
    end
  end
  if #out == 0 then return true end
  return false, table.concat(out, "; ")
end

function A.record_accommodation_request(inst, ev, ctx)
  return { accommodation = {
    status = "pending", requested_on = ctx.today, desired_date = ev.data.desired_date,
    decided_on = null, granted = null, overdue_since = null,
    review_due_on = date.add_days(ctx.today, params.accommodation_review_days),
  } }
end

function D.accommodation_review_due(inst)
  local a = inst.data.accommodation
  if a == nil or a.status ~= "pending" or a.overdue_since ~= nil or not is_date(a.requested_on) then return nil end
  return date.add_days(a.requested_on, params.accommodation_review_days + 1)
end

function A.mark_accommodation_overdue(inst, ev, ctx)
  return { accommodation = { overdue_since = ctx.today } }
end

function A.decide_accommodation(inst, ev, ctx)
  local granted = ev.data and ev.data.granted == true
  return { accommodation = { status = granted and "granted" or "denied", granted = granted, decided_on = ctx.today } }
end

---------------------------------------------------------------------------
-- Exam appointments, results, retakes (EX_1..EX_8)
---------------------------------------------------------------------------

-- EX_2: at most max_exam_attempts within the window.
function G.attempt_allowed(inst)
  local used = attempts(inst)
  if used >= params.max_exam_attempts then
    return false, string.format("exam attempts used: %d of %d within the window ending %s",
      used, params.max_exam_attempts, tostring(inst.data.window_ends))
  end
  return true
end

function G.no_appointment(inst)
  local a = inst.data.appointment
  if a == nil then return true end
  return false, "an exam is already scheduled for " .. tostring(a.at) .. "; reschedule or cancel it"
end

function G.has_appointment(inst)
  if inst.data.appointment ~= nil then return true end
  return false, "no exam appointment is scheduled"
end

-- EX_7, EX_8: after an attempt, a new appointment needs a retake request, paid and processed.
function G.retake_cleared(inst)
  if inst.data.retake_required ~= true then return true end
  local r = inst.data.retake
  if r == nil then
    return false, "a retake request must be filed and its fee paid before a new appointment"
  end
  if r.status ~= "approved" then
    return false, "the retake request filed on " .. tostring(r.requested_on) .. " awaits the entity's processing"
  end
  return true
end

-- EX_1: the first attempt's fee is paid when scheduling (a retake's with its request).
function G.exam_fee_paid(inst, ev)
  if inst.data.exam_fee_credit == true or inst.data.retake_required == true then return true end
  return fee_paid(inst, ev, params.exam_fee, "exam fee", true)
end

-- The appointment itself: a date-time in the future, inside the window, online or in person.
local MODES = { online = true, in_person = true }
function G.appointment_ok(inst, ev, ctx)
  local d = ev.data or {}
  if not is_datetime(d.at) then
    return false, "the appointment time is missing or not an ISO date-time (at)"
  end
  if not MODES[d.mode] then
    return false, "the exam mode must be online or in_person (mode: " .. tostring(d.mode) .. ")"
  end
  if date.hours_between(ctx.now, d.at) <= 0 then
    return false, "the appointment " .. d.at .. " is not in the future"
  end
  local on = string.sub(d.at, 1, 10)
  if not in_window(inst, on) then
    return false, string.format("the appointment on %s is after the window ending %s", on, tostring(inst.data.window_ends))
  end
  return true
end

function A.record_appointment(inst, ev, ctx)
  local patch = {
    appointment = { at = ev.data.at, mode = ev.data.mode, scheduled_on = ctx.today },
    exam_fee_credit = true,
    retake_required = null,
    retake = null,
  }
  if inst.data.exam_fee_credit ~= true and inst.data.retake_required ~= true then
    patch.fees_due = { fee("exam", params.exam_fee, ev, ctx, "EX_1") }
  end
  return patch
end

function A.reschedule_appointment(inst, ev, ctx)
  return { appointment = { at = ev.data.at, mode = ev.data.mode, rescheduled_on = ctx.today } }
end

-- EX_6: cancel or reschedule up to the mode's window before the appointment.
function G.cancel_in_time(inst, ev, ctx)
  local a = inst.data.appointment
  if a == nil or not is_datetime(a.at) then return false, "no exam appointment is scheduled" end
  local window = a.mode == "online" and params.cancel_window_online_hours or params.cancel_window_in_person_hours
  local left = date.hours_between(ctx.now, a.at)
  if left < window then
    return false, string.format("an %s exam may be cancelled or rescheduled up to %s before the appointment at %s; %s remain",
      a.mode == "online" and "online" or "in-person", duration(window), a.at, duration(left))
  end
  return true
end

function A.record_cancellation(inst, ev, ctx)
  return {
    appointment = null,
    cancellations = append(inst.data.cancellations,
      { at = inst.data.appointment.at, mode = inst.data.appointment.mode, cancelled_at = ctx.now, late = false }),
  }
end

-- EX_7: a late cancellation or a no-show forfeits the fee; it counts as an attempt
-- when no_show_counts_as_attempt.
function A.record_no_show(inst, ev, ctx)
  local a = inst.data.appointment
  local late_cancel = ev.name == "cancel_exam"
  local counts = params.no_show_counts_as_attempt == true
  local patch = {
    appointment = null,
    exam_fee_credit = false,
    retake_required = true,
    exams = append(inst.data.exams, { result = "no_show", at = a.at, mode = a.mode, on = ctx.today,
      late_cancellation = late_cancel, counts_as_attempt = counts, fee_forfeited = true }),
  }
  if counts then patch.exam_attempts = attempts(inst) + 1 end
  return patch
end

-- EX_3: a no-show that counts and uses up the last attempt closes the application.
function G.no_show_is_last_attempt(inst)
  if params.no_show_counts_as_attempt == true and attempts(inst) + 1 >= params.max_exam_attempts then
    return true
  end
  return false, "attempts remain after this no-show"
end

-- EX_4: the administrator's result: pass or fail, a score and the date taken.
function G.exam_passed(inst, ev)
  if ev.data and ev.data.result == "pass" then return true end
  return false, "exam not passed (result: " .. tostring(ev.data and ev.data.result) .. ")"
end

function G.exam_failed(inst, ev)
  if ev.data and ev.data.result == "fail" then return true end
  return false, "exam not failed (result: " .. tostring(ev.data and ev.data.result) .. ")"
end

function G.result_complete(inst, ev)
  local d = ev.data or {}
  local out = {}
  if d.result ~= "pass" and d.result ~= "fail" then out[#out + 1] = "result must be pass or fail" end
  if type(d.score) ~= "number" then out[#out + 1] = "score missing" end
  if not is_date(d.taken_on) then out[#out + 1] = "taken_on missing (YYYY-MM-DD)" end
  if #out == 0 then return true end
  return false, "exam result incomplete: " .. table.concat(out, "; ")
end

-- CERT_1: the passed attempt lies inside the window.
function G.taken_in_window(inst, ev)
  local on = ev.data and ev.data.taken_on
  if not is_date(on) then return false, "taken_on missing (YYYY-MM-DD)" end
  if not in_window(inst, on) then
    return false, "the exam taken on " .. on .. " is outside the window ending " .. tostring(inst.data.window_ends)
  end
  if pathway(inst) == "legacy" and params.legacy_deadline_applies_to == "certification"
    and date.compare(on, params.legacy_deadline) > 0 then
    return false, "the legacy pathway closed on " .. params.legacy_deadline
      .. ": its exam had to be taken by then (taken on " .. on .. ")"
  end
  local t = inst.data.training
  if pathway(inst) == "initial" and t ~= nil and is_date(t.completed_on) and date.compare(t.completed_on, on) > 0 then
    return false, "the core training completed on " .. t.completed_on .. " after the exam taken on " .. on
  end
  return true
end

-- EX_3: the failed attempt was the last one allowed.
function G.last_attempt(inst)
  if attempts(inst) + 1 >= params.max_exam_attempts then return true end
  return false, string.format("attempts remain: %d of %d used before this one", attempts(inst), params.max_exam_attempts)
end

function A.record_attempt(inst, ev, ctx)
  local d = ev.data
  local a = inst.data.appointment or {}
  local passed = d.result == "pass"
  return {
    exam_attempts = attempts(inst) + 1,
    exams = append(inst.data.exams, { result = d.result, score = d.score, taken_on = d.taken_on,
      at = a.at, mode = a.mode, counts_as_attempt = true }),
    last_exam = { result = d.result, score = d.score, taken_on = d.taken_on },
    appointment = null,
    exam_fee_credit = false,
    retake_required = (not passed) or null,
  }
end

function A.close_exhausted(inst, ev, ctx)
  return { closed_on = ctx.today, closed_because = "attempts_exhausted", fees_forfeited = true }
end

-- EX_8: a retake request and its fee, processed by the entity within retake_review_days.
function G.retake_needed(inst)
  if inst.data.retake_required == true then
    if inst.data.retake ~= nil then
      return false, "a retake request was already filed on " .. tostring(inst.data.retake.requested_on)
    end
    return true
  end
  return false, "no retake is needed: no failed attempt or no-show awaits one"
end

function G.retake_fee_paid(inst, ev)
  return fee_paid(inst, ev, params.retake_fee, "retake fee", true)
end

function A.record_retake_request(inst, ev, ctx)
  return {
    retake = { requested_on = ctx.today, status = "pending",
               review_due_on = date.add_days(ctx.today, params.retake_review_days) },
    retakes = append(inst.data.retakes, { requested_on = ctx.today }),
    fees_due = { fee("retake", params.retake_fee, ev, ctx, "EX_8") },
    exam_fee_credit = true,
  }
end

function G.retake_pending(inst)
  local r = inst.data.retake
  if r ~= nil and r.status == "pending" then return true end
  return false, "no retake request awaits processing"
end

function A.approve_retake(inst, ev, ctx)
  return { retake = { status = "approved", processed_on = ctx.today } }
end

function D.retake_review_due(inst)
  local r = inst.data.retake
  if r == nil or r.status ~= "pending" or r.overdue_since ~= nil or not is_date(r.requested_on) then return nil end
  return date.add_days(r.requested_on, params.retake_review_days + 1)
end

function A.mark_retake_overdue(inst, ev, ctx)
  return { retake = { overdue_since = ctx.today } }
end

---------------------------------------------------------------------------
-- Certification (CERT_1..CERT_3), registry status (REG_1)
---------------------------------------------------------------------------

-- CERT_3: valid certification_valid_years from `from`; date.add_years moves 29 February
-- to 28 February in a non-leap year.
local function expiry_from(from)
  return date.add_years(from, params.certification_valid_years)
end

-- CERT_1: the number is the instance's serial (its creation number in the database
-- that issues it), so no counter or other shared state is needed: "CMPSS-" and at
-- least six digits, e.g. CMPSS-000123. Unique within that database, and the same
-- every time the same events are replayed.
function A.issue_certificate(inst, ev, ctx)
  return {
    certification_number = string.format("CMPSS-%06d", inst.serial),
    issued_on = ctx.today,
    period_starts_on = ctx.today,
    expires_on = expiry_from(ctx.today),
    specializations = {},
  }
end

function A.status_active() return { registry_status = "active" } end
function A.status_lapsed() return { registry_status = "lapsed" } end
function A.status_suspended() return { registry_status = "suspended" } end
function A.status_revoked() return { registry_status = "revoked" } end

-- CERT_2: four specializations, each after its 40-hour training, only when certified.
local SPECIALIZATIONS = { parent_caregiver_family = true, crisis = true, justice_involved = true, unhoused = true }

function G.specialization_ok(inst, ev)
  local d = ev.data or {}
  if not SPECIALIZATIONS[d.kind] then
    return false, "unknown specialization '" .. tostring(d.kind)
      .. "' (parent_caregiver_family, crisis, justice_involved or unhoused)"
  end
  for _, s in ipairs(inst.data.specializations or {}) do
    if s == d.kind then return false, "specialization " .. d.kind .. " is already held" end
  end
  local out = {}
  if type(d.provider) ~= "string" or d.provider == "" then out[#out + 1] = "training provider missing" end
  if not is_date(d.completed_on) then out[#out + 1] = "completion date missing" end
  if num(d.hours) < params.specialization_training_hours then
    out[#out + 1] = string.format("%s specialization training has %s hours; %d required",
      d.kind, n2s(num(d.hours)), params.specialization_training_hours)
  end
  if #out == 0 then return true end
  return false, table.concat(out, "; ")
end

function A.add_specialization(inst, ev, ctx)
  local d = ev.data
  return {
    specializations = append(inst.data.specializations, d.kind),
    specialization_records = append(inst.data.specialization_records,
      { kind = d.kind, provider = d.provider, hours = d.hours, completed_on = d.completed_on, added_on = ctx.today }),
  }
end

-- CERT_2: specializations end with the certification (lapsed beyond reinstatement, revoked).
function A.end_specializations(inst, ev, ctx)
  if #(inst.data.specializations or {}) == 0 then return nil end
  return { specializations = {}, specializations_ended_on = ctx.today }
end

-- DIS_3: an overturned revocation brings them back.
function A.restore_specializations(inst)
  local kinds = {}
  for _, r in ipairs(inst.data.specialization_records or {}) do kinds[#kinds + 1] = r.kind end
  return { specializations = kinds, specializations_ended_on = null }
end

---------------------------------------------------------------------------
-- Renewal, expiry, reinstatement (REN_1..REN_7)
---------------------------------------------------------------------------

local function renewal_opens(inst)
  return date.add_days(inst.data.expires_on, -params.renewal_window_days)
end

function D.renewal_window_opens(inst)
  if not is_date(inst.data.expires_on) then return nil end
  return renewal_opens(inst)
end

-- Notices: the person hears expiry_notice_days before the expiry date (the notices plugin).
function D.expiry_notice_due(inst)
  if not is_date(inst.data.expires_on) then return nil end
  return date.add_days(inst.data.expires_on, -params.expiry_notice_days)
end

function A.mark_renewal_open(inst, ev, ctx)
  return { renewal_open_since = ctx.today }
end

-- DIS_7: a renewal denial that can still be appealed ("denied", inside the appeal
-- window) or whose appeal is pending ("appealed") stays the expiry.
local function renewal_denial_open(inst)
  local r = inst.data.renewal_denial
  return r ~= nil and (r.status == "denied" or r.status == "appealed")
end

-- REN_6: expired from the end of the expiry date (stayed by an open renewal denial, DIS_7).
function D.expiry(inst)
  if not is_date(inst.data.expires_on) then return nil end
  if renewal_denial_open(inst) then return nil end
  return date.add_days(inst.data.expires_on, 1)
end

-- REN_4: from renewal_window_days before the expiry date through the expiry date.
function G.in_renewal_window(inst, ev, ctx)
  local e = inst.data.expires_on
  if not is_date(e) then return false, "no expiry date recorded" end
  local opens = renewal_opens(inst)
  if date.compare(ctx.today, opens) < 0 then
    return false, string.format("renewal opens on %s (%d days before the expiry on %s)", opens, params.renewal_window_days, e)
  end
  if date.compare(ctx.today, e) > 0 then
    return false, "the certification expired on " .. e .. "; renewal had to be submitted by then"
  end
  return true
end

-- REN_3: not suspended or revoked (the state) and no open sanction (corrective action).
function G.good_standing(inst, ev, ctx)
  for _, c in ipairs(inst.data.corrective_actions or {}) do
    if c.completed_on == nil and c.overturned_on == nil then
      return false, "not in good standing: a corrective action ordered on " .. tostring(c.ordered_on) .. " is open"
    end
  end
  return true
end

-- REN_2: the hours inside the current period (its start through the submission day).
function G.ce_hours_met(inst, ev, ctx)
  local from = period_start(inst)
  local why = ce_shortfall(ev.data and ev.data.ce, from, ctx.today,
    "the current period (" .. tostring(from) .. " to " .. tostring(inst.data.expires_on) .. ")")
  if why then return false, why end
  return true
end

-- REN_7: reinstatement asks for the CE hours of the 2 years before it.
function G.ce_hours_met_reinstatement(inst, ev, ctx)
  local from = date.add_years(ctx.today, -params.certification_valid_years)
  local why = ce_shortfall(ev.data and ev.data.ce, from, ctx.today,
    string.format("the %d years before reinstatement (%s to %s)", params.certification_valid_years, from, ctx.today))
  if why then return false, why end
  return true
end

-- REN_5: the renewing person agrees to the most recent Code of Ethics.
function G.ethics_current(inst, ev, ctx)
  local d = ev.data or {}
  if d.ethics_version ~= params.code_of_ethics_version or not is_date(d.ethics_signed_on) then
    return false, string.format("agreement to the most recent Code of Ethics (version %s) with its date is required (given: %s)",
      tostring(params.code_of_ethics_version), tostring(d.ethics_version))
  end
  return true
end

function G.renewal_fee_paid(inst, ev)
  return fee_paid(inst, ev, params.renewal_fee, "renewal fee")
end

function A.record_renewal(inst, ev, ctx)
  local old = inst.data.expires_on
  return {
    renewal_denial = null,
    renewals = append(inst.data.renewals, { renewed_on = ctx.today, previous_expiry = old }),
    period_starts_on = date.add_days(old, 1),
    expires_on = expiry_from(old),
    renewal_open_since = null,
    ethics = { version = ev.data.ethics_version, signed_on = ev.data.ethics_signed_on },
    fees_due = { fee("renewal", params.renewal_fee, ev, ctx, "REN_4") },
  }
end

---------------------------------------------------------------------------
-- Denial of renewal and its appeal (DIS_7)
---------------------------------------------------------------------------

-- A renewal denied (and not overturned) is not renewed by `renew`.
function G.renewal_not_denied(inst)
  local r = inst.data.renewal_denial
  if r == nil then return true end
  return false, string.format("the renewal was denied on %s (%s); the denial is %s",
    tostring(r.denied_on), tostring(r.reason), tostring(r.status))
end

function G.renewal_denial_reason_given(inst, ev)
  local why = ev.data and ev.data.reason
  if type(why) == "string" and why ~= "" then return true end
  return false, "a denial of renewal must give its reason (reason)"
end

function A.record_renewal_denial(inst, ev, ctx)
  return {
    renewal_denial = { denied_on = ctx.today, reason = ev.data.reason, status = "denied",
                       expires_on = inst.data.expires_on },
    renewal_denials = append(inst.data.renewal_denials,
      { denied_on = ctx.today, reason = ev.data.reason, expires_on = inst.data.expires_on }),
  }
end

local function renewal_appeal_last_day(inst)
  local r = inst.data.renewal_denial
  if r == nil or not is_date(r.denied_on) then return nil end
  return date.add_days(r.denied_on, params.appeal_window_days)
end

function G.renewal_denial_appealable(inst, ev, ctx)
  local r = inst.data.renewal_denial
  if r == nil then return false, "no denial of renewal is recorded" end
  if r.status ~= "denied" then
    return false, "the denial of renewal of " .. tostring(r.denied_on) .. " is " .. tostring(r.status) .. ", not open to appeal"
  end
  local last = renewal_appeal_last_day(inst)
  if date.compare(ctx.today, last) > 0 then
    return false, string.format("the appeal window closed on %s (%d days after the denial of renewal on %s)",
      last, params.appeal_window_days, r.denied_on)
  end
  return true
end

function G.renewal_denial_unappealed(inst)
  local r = inst.data.renewal_denial
  if r ~= nil and r.status == "denied" then return true end
  return false, "no unappealed denial of renewal"
end

function G.renewal_appeal_pending(inst)
  local r = inst.data.renewal_denial
  if r ~= nil and r.status == "appealed" then return true end
  return false, "no appeal of a denial of renewal is pending"
end

-- The expiry date is behind us: the certification expires at once.
function G.expiry_passed(inst, ev, ctx)
  local e = inst.data.expires_on
  if is_date(e) and date.compare(ctx.today, e) > 0 then return true end
  return false, "the certification runs through " .. tostring(e)
end

function D.renewal_appeal_window_end(inst)
  local r = inst.data.renewal_denial
  if r == nil or r.status ~= "denied" then return nil end
  return date.add_days(renewal_appeal_last_day(inst), 1)
end

function A.record_renewal_appeal(inst, ev, ctx)
  local r = inst.data.renewal_denial
  return {
    renewal_denial = { status = "appealed", appealed_on = ctx.today },
    appeals = append(inst.data.appeals, { action = "renewal_denial", filed_on = ctx.today, denied_on = r.denied_on }),
  }
end

function A.close_renewal_appeal_window(inst, ev, ctx)
  return { renewal_denial = { status = "final", final_on = ctx.today } }
end

function A.renewal_appeal_upheld(inst, ev, ctx)
  return decide_last_appeal(inst, "upheld", ctx, { renewal_denial = { status = "upheld", decided_on = ctx.today } })
end

-- Overturned: the overturn renews directly (record_renewal follows and clears the denial).
function A.renewal_appeal_overturned(inst, ev, ctx)
  return decide_last_appeal(inst, "overturned", ctx)
end

local function reinstatement_last_day(inst)
  return date.add_days(inst.data.expires_on, params.reinstatement_limit_days)
end

function D.reinstatement_limit(inst)
  if not is_date(inst.data.expires_on) then return nil end
  return date.add_days(reinstatement_last_day(inst), 1)
end

function G.within_reinstatement_limit(inst, ev, ctx)
  if not is_date(inst.data.expires_on) then return false, "no expiry date recorded" end
  local last = reinstatement_last_day(inst)
  if date.compare(ctx.today, last) > 0 then
    return false, string.format("reinstatement closed on %s (%d days after the expiry on %s); only a new application is possible",
      last, params.reinstatement_limit_days, inst.data.expires_on)
  end
  return true
end

-- REN_7: the reinstatement fee plus the renewal fee (the renewal requirements).
function G.reinstatement_fee_paid(inst, ev)
  return fee_paid(inst, ev, params.reinstatement_fee + params.renewal_fee, "reinstatement fee plus renewal fee")
end

-- A reinstated certification starts a new period on the reinstatement day.
function A.record_reinstatement(inst, ev, ctx)
  return {
    reinstatements = append(inst.data.reinstatements, { reinstated_on = ctx.today, previous_expiry = inst.data.expires_on }),
    period_starts_on = ctx.today,
    expires_on = expiry_from(ctx.today),
    ethics = { version = ev.data.ethics_version, signed_on = ev.data.ethics_signed_on },
    fees_due = { fee("reinstatement", params.reinstatement_fee, ev, ctx, "REN_7"),
                 fee("renewal", params.renewal_fee, ev, ctx, "REN_7") },
  }
end

---------------------------------------------------------------------------
-- Discipline (DIS_2, DIS_3, DIS_4) and links to employments
---------------------------------------------------------------------------

-- The statuses before each adverse action, a stack: an overturned action (DIS_3) pops
-- back to the status it interrupted, even when a revocation followed a suspension.
local function sanction(inst, ev, ctx, action)
  return {
    status_before_action = append(inst.data.status_before_action, inst.state),
    sanctions = append(inst.data.sanctions,
      { action = action, on = ctx.today, from_state = inst.state, complaint_id = ev.data and ev.data.from }),
  }
end

function A.record_suspension(inst, ev, ctx) return sanction(inst, ev, ctx, "suspension") end
function A.record_revocation(inst, ev, ctx) return sanction(inst, ev, ctx, "revocation") end

local function previous_status(inst)
  local stack = inst.data.status_before_action or {}
  return stack[#stack]
end

function A.record_restoration(inst, ev, ctx)
  local stack, kept = inst.data.status_before_action or {}, {}
  for i = 1, #stack - 1 do kept[i] = stack[i] end
  return {
    status_before_action = kept,
    sanctions = append(inst.data.sanctions,
      { action = "restored", on = ctx.today, from_state = inst.state, to_state = previous_status(inst),
        complaint_id = ev.data and ev.data.from }),
  }
end

-- DIS_2: a suspension ends (its term, or lifted): the status before it returns.
function A.record_lifting(inst, ev, ctx)
  local stack, kept = inst.data.status_before_action or {}, {}
  for i = 1, #stack - 1 do kept[i] = stack[i] end
  return {
    status_before_action = kept,
    sanctions = append(inst.data.sanctions,
      { action = "suspension_lifted", on = ctx.today, from_state = inst.state, to_state = previous_status(inst),
        complaint_id = ev.data and ev.data.from }),
  }
end

-- The status a state stands for. The certification workflow nests active and suspended
-- in `certified` (full paths "certified.active", "certified.suspended"); instances still on
-- its earlier, flat definition are in "certified" and "suspended". Both read the same.
local STATUS_OF_STATE = { ["certified.active"] = "certified", ["certified.suspended"] = "suspended" }
local function status_of(state)
  return STATUS_OF_STATE[state] or state
end

local function was(state)
  return function(inst)
    local before = status_of(previous_status(inst))
    if before == state then return true end
    return false, "the status before the action was " .. tostring(before) .. ", not " .. state
  end
end
G.was_certified = was("certified")
G.was_suspended = was("suspended")
G.was_expired = was("expired")

function A.record_corrective_action(inst, ev, ctx)
  local d = ev.data or {}
  return { corrective_actions = append(inst.data.corrective_actions,
    { ordered_on = ctx.today, complaint_id = d.from, what = type(d.what) == "string" and d.what or nil }) }
end

local function is_open(c)
  return c.completed_on == nil and c.overturned_on == nil
end

function G.corrective_action_open(inst)
  for _, c in ipairs(inst.data.corrective_actions or {}) do
    if is_open(c) then return true end
  end
  return false, "no corrective action is open"
end

-- Close one open corrective action: the one ordered by the complaint that sends the event
-- (ev.data.from), else the oldest open one. `field` is completed_on or overturned_on.
local function close_corrective_action(inst, ev, ctx, field)
  local from = ev.data and ev.data.from
  local all, pick = inst.data.corrective_actions or {}, nil
  for i, c in ipairs(all) do
    if is_open(c) and type(from) == "string" and c.complaint_id == from then pick = i break end
  end
  if pick == nil then
    for i, c in ipairs(all) do
      if is_open(c) then pick = i break end
    end
  end
  local list = {}
  for i, c in ipairs(all) do
    if i == pick then
      list[i] = { ordered_on = c.ordered_on, complaint_id = c.complaint_id, what = c.what, [field] = ctx.today }
    else
      list[i] = c
    end
  end
  return { corrective_actions = list }
end

function A.complete_corrective_action(inst, ev, ctx)
  return close_corrective_action(inst, ev, ctx, "completed_on")
end

function A.overturn_corrective_action(inst, ev, ctx)
  return close_corrective_action(inst, ev, ctx, "overturned_on")
end

-- docs/lifecycles.md: an employment announces itself with `employment_started`.
function A.record_employment(inst, ev)
  local from = ev.data and ev.data.from
  if type(from) ~= "string" then return nil end
  for _, id in ipairs(inst.data.employment_ids or {}) do
    if id == from then return nil end
  end
  return { employment_ids = append(inst.data.employment_ids, from) }
end

-- Kept for certifications created before the `employments` link became optional: their
-- stored workflow definition pairs each notifying transition with one guarded by this, and
-- an instance keeps its definition. The current workflow does not use it, and a rejection
-- never gives its reason (docs/embedding.md: reasons come from the transitions nearest to
-- passing, and the paired transition without the send always fails one guard fewer).
function G.has_employments(inst)
  if #(inst.data.employment_ids or {}) > 0 then return true end
  return false, "no linked employment to notify"
end

return { guards = G, assigns = A, deadlines = D }
