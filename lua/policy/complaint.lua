-- lua/policy/complaint.lua — the decisions of the complaint workflow (one complaint against a
-- certificant, DIS_1..DIS_7): the filing limits, the acknowledgement and investigation
-- clocks with their single extension, the outcomes, and the appeal of an adverse action.
-- A complaint and its appeal keep the same fields: the complaint's at the top of the data,
-- the appeal's under data.appeal. Every assign appends one entry to data.steps (DIS_4).
-- Parameters: complaint_limit_years, complaint_ack_business_days, investigation_days,
-- investigation_extension_days, appeal_window_days.
local P = { guards = {}, assigns = {}, deadlines = {} }

-- DIS_7: the actions appealable on a complaint (denials of an application or a renewal are
-- appealed on the certification, not here). Keyed by the complaint's outcome state.
-- Seed 003: "Receive appeals of any adverse action": a corrective action too.
local APPEALABLE = { suspended = "suspension", revoked = "revocation", corrective_action_ordered = "corrective action" }

local OUTCOMES = {
  dismiss = "dismissed", corrective_action = "corrective action", suspend = "suspension", revoke = "revocation",
}

local function text(v)
  return type(v) == "string" and v ~= ""
end

local function in_appeal(inst)
  return inst.state == "appealed"
end

-- The record the clocks belong to: the appeal's while it is under review, else the complaint's.
local function record(inst)
  if in_appeal(inst) then return inst.data.appeal or {} end
  return inst.data
end

local function what(inst)
  return in_appeal(inst) and "appeal review" or "investigation"
end

-- DIS_4: the steps so far plus one.
local function steps_with(inst, ev, ctx, step, note)
  local list = {}
  for i, s in ipairs(inst.data.steps or {}) do list[i] = s end
  list[#list + 1] = { step = step, on = ctx.today, by = ev.actor, note = note }
  return list
end

-- A patch of the complaint's fields, or of the appeal's while it is under review, with a step.
local function patch_of(inst, ev, ctx, fields, step, note)
  local p
  if in_appeal(inst) then p = { appeal = fields } else p = fields end
  p.steps = steps_with(inst, ev, ctx, step, note)
  return p
end

-- DIS_5: the clocks of a complaint or an appeal received today.
local function clocks(today)
  return {
    received_on = today,
    ack_due_on = date.add_business_days(today, params.complaint_ack_business_days),
    review_due_on = date.add_days(today, params.investigation_days),
  }
end

-- DIS_1: recorded on receipt (the instance is created when the complaint is received).
function P.assigns.dis_record_receipt(inst, ev, ctx)
  local p = clocks(ctx.today)
  p.steps = steps_with(inst, ev, ctx, "received", inst.data.summary)
  return p
end

-- A date is the start of that day: a deadline on the day after the last day allowed.
function P.deadlines.dis_ack_due(inst)
  local r = record(inst)
  if r.acknowledged_on or r.ack_overdue_since or not r.ack_due_on then return nil end
  return date.add_days(r.ack_due_on, 1)
end

function P.deadlines.dis_review_due(inst)
  local r = record(inst)
  if r.review_overdue_since or not r.review_due_on then return nil end
  return date.add_days(r.review_due_on, 1)
end

function P.assigns.dis_record_ack(inst, ev, ctx)
  local r = record(inst)
  local late = date.compare(ctx.today, r.ack_due_on) > 0
  return patch_of(inst, ev, ctx, { acknowledged_on = ctx.today, ack_late = late },
    in_appeal(inst) and "appeal acknowledged" or "acknowledged")
end

function P.assigns.dis_mark_ack_overdue(inst, ev, ctx)
  local r = record(inst)
  return patch_of(inst, ev, ctx, { ack_overdue_since = ctx.today },
    in_appeal(inst) and "appeal acknowledgement overdue" or "acknowledgement overdue",
    string.format("not acknowledged within %d business days of receipt on %s (due by %s)",
      params.complaint_ack_business_days, r.received_on, r.ack_due_on))
end

function P.assigns.dis_mark_review_overdue(inst, ev, ctx)
  local r = record(inst)
  return patch_of(inst, ev, ctx, { review_overdue_since = ctx.today }, what(inst) .. " overdue",
    string.format("%s not completed by %s", what(inst), r.review_due_on))
end

-- DIS_6: what keeps the complaint out, by check: link, filed (the time limit), held (the
-- conduct while certified). Dates come from the data at filing.
local function acceptance_problems(inst)
  local d, out = inst.data, {}
  if not text(d.certification_id) then
    out.link = "the complaint names no certification (certification_id): it must be against a certificant"
  end
  if not text(d.incident_on) or not date.valid(d.incident_on) then
    out.filed = 'the incident date is missing or not "YYYY-MM-DD" (incident_on)'
    return out
  end
  local filed, years = d.received_on, params.complaint_limit_years
  local limit = date.add_years(d.incident_on, years)
  if date.compare(d.incident_on, filed) > 0 then
    out.filed = string.format("the incident date %s is after the complaint was filed on %s", d.incident_on, filed)
  elseif date.compare(filed, limit) > 0 then
    out.filed = string.format("filed on %s, more than %d years after the incident on %s (the limit was %s)",
      filed, years, d.incident_on, limit)
  end
  local from, to = d.certification_held_from, d.certification_held_until
  if not text(from) or not date.valid(from) then
    out.held = "the certification's held-from date is not recorded (certification_held_from)"
  elseif date.compare(d.incident_on, from) < 0 then
    out.held = string.format("the incident on %s happened before the person held the certification (held from %s)",
      d.incident_on, from)
  elseif text(to) and date.valid(to) and date.compare(d.incident_on, to) > 0 then
    out.held = string.format("the incident on %s happened after the certification ended on %s", d.incident_on, to)
  end
  return out
end

local CHECKS = { "link", "filed", "held" }

function P.guards.dis_names_certification(inst)
  local why = acceptance_problems(inst).link
  return why == nil, why
end

function P.guards.dis_filed_in_time(inst)
  local why = acceptance_problems(inst).filed
  return why == nil, why
end

function P.guards.dis_while_certified(inst)
  local why = acceptance_problems(inst).held
  return why == nil, why
end

function P.guards.dis_outside_limits(inst)
  if next(acceptance_problems(inst)) ~= nil then return true end
  return false, string.format(
    "the complaint meets the filing limits (filed on %s, within %d years of the incident on %s, while the certification was held): accept and investigate it",
    inst.data.received_on, params.complaint_limit_years, inst.data.incident_on)
end

function P.assigns.dis_record_acceptance(inst, ev, ctx)
  return patch_of(inst, ev, ctx, { accepted_on = ctx.today }, "accepted")
end

function P.assigns.dis_record_decline(inst, ev, ctx)
  local found, list = acceptance_problems(inst), {}
  for _, k in ipairs(CHECKS) do list[#list + 1] = found[k] end
  local why = table.concat(list, "; ")
  return patch_of(inst, ev, ctx, { declined_on = ctx.today, declined_reason = why }, "declined", why)
end

-- DIS_5: one extension of the investigation (or of the appeal review), of at most
-- investigation_extension_days; a second is refused.
function P.guards.dis_extension_allowed(inst, ev)
  local r, max = record(inst), params.investigation_extension_days
  if r.extension then
    return false, string.format("the %s was already extended once (on %s, by %d days to %s); a second extension is refused",
      what(inst), r.extension.on, r.extension.days, r.extension.to)
  end
  local days = ev.data and ev.data.days
  if math.type(days) ~= "integer" or days < 1 or days > max then
    return false, string.format("an extension adds 1 to %d days (days); asked %s", max, tostring(days))
  end
  return true
end

function P.assigns.dis_record_extension(inst, ev, ctx)
  local r, days = record(inst), ev.data.days
  local to = date.add_days(r.review_due_on, days)
  return patch_of(inst, ev, ctx, {
    extension = { on = ctx.today, days = days, from = r.review_due_on, to = to, reason = ev.data.reason },
    review_due_on = to,
    review_overdue_since = null,
  }, what(inst) .. " extended", string.format("by %d days, from %s to %s", days, r.review_due_on, to))
end

-- DIS_1, DIS_2: a decision states the findings of the investigation (or of the review).
function P.guards.dis_findings_recorded(inst, ev)
  if ev.data and text(ev.data.findings) then return true end
  return false, "record the findings behind the decision (findings)"
end

function P.assigns.dis_record_outcome(inst, ev, ctx)
  local outcome = OUTCOMES[ev.name]
  return patch_of(inst, ev, ctx, {
    outcome = outcome,
    decided_on = ctx.today,
    decided_by = ev.actor,
    findings = ev.data.findings,
    corrective_action = ev.data.corrective_action,   -- e.g. the required educational classes
    suspension = ev.name == "suspend"
      and { from = ctx.today, last_day = ev.data.suspended_until, until_lifted = ev.data.until_lifted == true } or nil,
  }, outcome, ev.data.findings)
end

function P.assigns.dis_record_step(inst, ev, ctx)
  if ev.name == "appeal_window_closed" then
    return patch_of(inst, ev, ctx, { appeal_window_closed_on = ctx.today }, "appeal window closed",
      string.format("no appeal within %d days of the decision on %s", params.appeal_window_days, inst.data.decided_on))
  end
  return patch_of(inst, ev, ctx, { corrective_action_completed_on = ctx.today }, "corrective action completed")
end

-- DIS_7: any adverse action, once (an upheld appeal is final).
function P.guards.dis_appealable(inst)
  local a = inst.data.appeal
  if a ~= nil and a.outcome ~= nil then
    return false, string.format("the %s was already appealed (filed %s, %s on %s); the decision on appeal is final",
      tostring(a.action), tostring(a.received_on), tostring(a.outcome), tostring(a.decided_on))
  end
  if APPEALABLE[inst.state] then return true end
  return false, string.format(
    "a %s cannot be appealed: only an adverse action (a corrective action, a suspension or a revocation) can (denials of an application or a renewal are appealed on the certification)",
    inst.data.outcome or inst.state)
end

local function appeal_of(action)
  return function(inst)
    local a = inst.data.appeal
    if a ~= nil and a.action == action then return true end
    return false, "the appeal is not of a " .. action
  end
end
P.guards.dis_appeal_of_suspension = appeal_of("suspension")
P.guards.dis_appeal_of_corrective_action = appeal_of("corrective action")

-- A suspension has a term: suspended_until (a date after the decision; lifted the day after)
-- or until_lifted = true (it lasts until the entity lifts it, event lift_suspension).
function P.guards.dis_suspension_term_given(inst, ev, ctx)
  local d = ev.data or {}
  if d.until_lifted == true and d.suspended_until == nil then return true end
  if text(d.suspended_until) and date.valid(d.suspended_until) and d.until_lifted == nil then
    if date.compare(d.suspended_until, ctx.today) >= 0 then return true end
    return false, "the suspension's last day " .. d.suspended_until .. " is before the decision on " .. ctx.today
  end
  return false, 'a suspension needs its term: suspended_until (its last day, YYYY-MM-DD) or until_lifted = true (until the entity lifts it)'
end

function P.deadlines.dis_suspension_end(inst)
  local s = inst.data.suspension
  if s == nil or not text(s.last_day) then return nil end
  return date.add_days(s.last_day, 1)
end

function P.assigns.dis_record_lifting(inst, ev, ctx)
  local s = inst.data.suspension or {}
  local why = ev.name == "suspension_term_ended" and ("its term ended on " .. tostring(s.last_day))
    or (ev.data and text(ev.data.reason) and ev.data.reason or "lifted by the entity")
  return patch_of(inst, ev, ctx, { suspension = { lifted_on = ctx.today } }, "suspension lifted", why)
end

-- DIS_3: within appeal_window_days of the decision; the last day is inside.
function P.guards.dis_within_appeal_window(inst, ev, ctx)
  local decided = inst.data.decided_on
  local last = date.add_days(decided, params.appeal_window_days)
  if date.compare(ctx.today, last) <= 0 then return true end
  return false, string.format("the appeal window closed on %s (%d days after the decision on %s)",
    last, params.appeal_window_days, decided)
end

function P.deadlines.dis_appeal_window_end(inst)
  if inst.data.appeal ~= nil then return nil end -- appealed already: back after an upheld appeal
  return date.add_days(inst.data.decided_on, params.appeal_window_days + 1)
end

function P.assigns.dis_record_appeal(inst, ev, ctx)
  local a = clocks(ctx.today)
  a.action = APPEALABLE[inst.state]
  a.filed_by = ev.data and ev.data.filed_by or ev.actor
  a.grounds = ev.data and ev.data.grounds
  return { appeal = a, steps = steps_with(inst, ev, ctx, "appealed", a.action) }
end

function P.guards.dis_appeal_not_acknowledged(inst)
  local a = inst.data.appeal or {}
  if a.acknowledged_on then return false, "the appeal was already acknowledged on " .. a.acknowledged_on end
  return true
end

-- DIS_3: upheld (the action stands) or overturned (the certification is restored).
function P.assigns.dis_record_appeal_outcome(inst, ev, ctx)
  local outcome = ev.name == "overturn" and "overturned" or "upheld"
  return patch_of(inst, ev, ctx, { outcome = outcome, decided_on = ctx.today, findings = ev.data.findings },
    "appeal " .. outcome, ev.data.findings)
end

return P
