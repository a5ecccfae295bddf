-- lua/policy/employment.lua — the decisions of the employment workflow (one hire in a
-- county peer position): the hire grace period and its COR extension (EMP_1), billing
-- eligibility (EMP_2), EHR access for peer services (EMP_3). Parameters: hire_grace_days,
-- ehr_restore_hours (both county-overridable, see lua/counties/).
--
-- Every deadline and eligibility here is computed from the policy in force and the facts
-- in the data (hired_on, the COR extensions, ehr_notified_at), never from a copy frozen at
-- the start: a county's change of hire_grace_days or ehr_restore_hours reaches live hires
-- (`certflow policy diff|apply`, docs/administrators.md). `grace_ends_on` and
-- `ehr_restore_by` in the data are what the program computed when it last wrote them (for
-- notices and reports); decisions do not read them.
local P = { guards = {}, assigns = {}, deadlines = {} }

local function text(v)
  return type(v) == "string" and v ~= ""
end

local function linked(inst)
  return text(inst.data.certification_id)
end

-- A county parameter as it applies to this instance: the value `policy apply --for new`
-- pinned in its data (policy_pins) when it kept this hire on an older value, else the
-- policy in force (docs/administrators.md, "Who a change is for").
local function param(inst, name)
  local pins = inst.data.policy_pins -- instance data objects are read-only views (userdata)
  if (type(pins) == "userdata" or type(pins) == "table") and pins[name] ~= nil then return pins[name] end
  return params[name]
end

-- EMP_1: the last day inside the grace period: hire date + hire_grace_days under the policy
-- in force, or the last COR extension's date when that is later.
local function grace_end(inst)
  local d = inst.data
  local last = date.add_days(d.hired_on, param(inst, "hire_grace_days"))
  local n = d.extensions and #d.extensions or 0
  if n > 0 and date.compare(d.extensions[n].to, last) > 0 then last = d.extensions[n].to end
  return last
end

-- EMP_2: the two kinds of program a peer position is in (seed 002). In DMC-ODS an
-- uncertified peer has only the peer-specific codes, which need certification; the Other
-- Qualified Provider route (non-peer codes while uncertified) is for specialty mental health.
local PROGRAM_TYPES = {
  smhs = "specialty mental health (SMHS)",
  dmc_ods = "Drug Medi-Cal Organized Delivery System (DMC-ODS)",
}

local function program_name(d)
  return PROGRAM_TYPES[d.program_type] or "not recorded (program_type)"
end

-- The certification number the county found in the registry at hire, if any.
local function claimed_number(ev)
  return ev.data and text(ev.data.certification_number) and ev.data.certification_number or nil
end

-- "90 days after hire on 2025-01-01", plus the last COR extension if there is one.
local function grace_basis(inst)
  local d = inst.data
  local s = string.format("%d days after hire on %s", param(inst, "hire_grace_days"), d.hired_on)
  local n = d.extensions and #d.extensions or 0
  if n > 0 then
    local x = d.extensions[n]
    s = s .. string.format(", extended to %s by %s on %s", x.to, x.approved_by, x.approved_on)
  end
  return s
end

-- Creation: the hire date is the start of every EMP_1 computation, so a hire without a
-- real one is refused outright (the error names the field; nothing is created).
function P.assigns.emp_check_hire(inst)
  local d = inst.data
  if not text(d.hired_on) or not date.valid(d.hired_on) then
    error(string.format('an employment needs hired_on, the hire date as "YYYY-MM-DD" (got %s)',
      d.hired_on == nil and "nothing" or string.format("%q", tostring(d.hired_on))), 0)
  end
  if d.program_type ~= nil and not PROGRAM_TYPES[d.program_type] then
    error(string.format('program_type is "smhs" (specialty mental health) or "dmc_ods" (DMC-ODS), not %q',
      tostring(d.program_type)), 0)
  end
  if d.certification_id ~= nil and not text(d.certification_id) then
    error("certification_id must be the id (text) of the person's certification instance", 0)
  end
  return nil
end

-- start: exactly one of the three passes (certified at hire / linked / not linked yet).
function P.guards.emp_start_certified(inst, ev)
  local number = claimed_number(ev)
  if not number then
    return false, "not certified at hire (the start data names no certification_number)"
  end
  if not linked(inst) then
    return false, string.format(
      "certification %s was given at hire, but no certification is linked: set certification_id when creating the hire",
      number)
  end
  return true
end

function P.guards.emp_start_linked(inst, ev)
  if not linked(inst) then
    return false, "no certification linked (certification_id)"
  end
  return claimed_number(ev) == nil, "certified at hire"
end

function P.guards.emp_start_unlinked(inst, ev)
  if linked(inst) then
    return false, "a certification is linked"
  end
  if claimed_number(ev) then
    return false, "a certified hire needs its certification linked (certification_id)"
  end
  return true
end

-- EMP_1: the grace period runs hire_grace_days after the hire date; the last day is inside.
function P.assigns.emp_record_start(inst, ev, ctx)
  return {
    started_on = ctx.today,
    grace_days = param(inst, "hire_grace_days"),
    grace_ends_on = grace_end(inst),
    ehr_access = "active",
    certified = false,
  }
end

function P.deadlines.emp_grace_end(inst)
  return date.add_days(grace_end(inst), 1)
end

-- EMP_1 after a policy change (the engine fires `policy_changed` on apply, docs/administrators.md):
-- a hire whose grace period ended without certification (EHR suspended, never certified) is
-- back inside it when the policy in force puts its last day on or after today. Recorded as a
-- transition back to `grace`; the suspension stays in the history.
function P.guards.emp_grace_reopens(inst, ev, ctx)
  local d = inst.data
  if d.certification_lost_on ~= nil or d.certified == true then
    return false, "EHR access is suspended because a certification was lost, not because the grace period ended"
  end
  local last = grace_end(inst)
  if date.compare(ctx.today, last) > 0 then
    return false, string.format("the grace period ended on %s (%s)", last, grace_basis(inst))
  end
  return true
end

function P.assigns.emp_reopen_grace(inst, ev, ctx)
  local list = {}
  for i, x in ipairs(inst.data.reopened or {}) do list[i] = x end
  list[#list + 1] = { on = ctx.today, suspended_on = inst.data.ehr_suspended_on, grace_ends_on = grace_end(inst) }
  return {
    ehr_access = "active",
    ehr_suspended_on = null,
    grace_days = param(inst, "hire_grace_days"),
    grace_ends_on = grace_end(inst),
    reopened = list,
  }
end

-- A policy change that moves a live deadline refreshes the copies kept for notices and reports.
function P.guards.emp_grace_copy_stale(inst)
  if inst.data.grace_ends_on == grace_end(inst) and inst.data.grace_days == param(inst, "hire_grace_days") then
    return false, "the grace period is unchanged"
  end
  return true
end

function P.assigns.emp_refresh_grace(inst)
  return { grace_days = param(inst, "hire_grace_days"), grace_ends_on = grace_end(inst) }
end

local function restore_by(inst)
  return date.add_hours(inst.data.ehr_notified_at, param(inst, "ehr_restore_hours"))
end

function P.guards.emp_restore_copy_stale(inst)
  if inst.data.ehr_restore_by == restore_by(inst) then
    return false, "the EHR restore deadline is unchanged"
  end
  return true
end

function P.assigns.emp_refresh_restore(inst)
  return { ehr_restore_by = restore_by(inst) }
end

function P.guards.emp_link_valid(inst, ev)
  if linked(inst) then
    return false, "this hire is already linked to certification " .. inst.data.certification_id
  end
  if not (ev.data and text(ev.data.certification_id)) then
    return false, "give the id of the person's certification instance (certification_id)"
  end
  return true
end

function P.assigns.emp_record_link(inst, ev, ctx)
  return { certification_id = ev.data.certification_id, linked_on = ctx.today }
end

-- EMP_1: a county may extend the grace period with its contract officer's (COR) approval;
-- the approver and the new date are recorded, and the timer moves (the transition re-enters).
function P.guards.emp_extension_valid(inst, ev)
  local x = ev.data or {}
  if not text(x.approved_by) then
    return false, "a grace period extension needs the approving contract officer (COR) in approved_by"
  end
  if not text(x.new_date) or not date.valid(x.new_date) then
    return false, 'a grace period extension needs its new end date as "YYYY-MM-DD" (new_date)'
  end
  local current = grace_end(inst)
  if date.compare(x.new_date, current) <= 0 then
    return false, string.format("the new date %s is not after the current end of the grace period, %s (%s)",
      x.new_date, current, grace_basis(inst))
  end
  return true
end

function P.assigns.emp_record_extension(inst, ev, ctx)
  local list = {}
  for i, x in ipairs(inst.data.extensions or {}) do list[i] = x end
  list[#list + 1] = {
    approved_by = ev.data.approved_by,
    approved_on = ctx.today,
    from = grace_end(inst),
    to = ev.data.new_date,
    reason = ev.data.reason,
  }
  return { grace_ends_on = ev.data.new_date, extensions = list }
end

-- Events from the linked certification carry its id in `from` (docs/lifecycles.md).
function P.guards.emp_from_certification(inst, ev)
  local from = ev.data and ev.data.from
  if linked(inst) and from == inst.data.certification_id then
    return true
  end
  return false, string.format("'%s' must come from this hire's certification %s over its link (it came from %s)",
    ev.name, linked(inst) and inst.data.certification_id or "(none linked)", text(from) and from or "no certification")
end

function P.assigns.emp_record_certified(inst, ev, ctx)
  return {
    certified = true,
    certified_on = ctx.today,
    certification_number = claimed_number(ev) or inst.data.certification_number,
    certification_lost_on = null,
    certification_status = null,
  }
end

-- EMP_3: the grace period ended without certification: EHR access for peer services is
-- suspended until the certification is notified.
function P.assigns.emp_suspend_ehr(inst, ev, ctx)
  return { ehr_access = "suspended", ehr_suspended_on = ctx.today }
end

-- EMP_3: access is restored within ehr_restore_hours of the notification (seed 002: 24-48 hours).
function P.assigns.emp_schedule_ehr_restore(inst, ev, ctx)
  return {
    ehr_access = "restore_pending",
    ehr_notified_at = ctx.now,
    ehr_restore_by = date.add_hours(ctx.now, param(inst, "ehr_restore_hours")),
    ehr_restore_overdue_since = null,
  }
end

function P.deadlines.emp_ehr_restore_by(inst)
  return restore_by(inst)
end

function P.assigns.emp_mark_ehr_restore_overdue(inst, ev, ctx)
  return { ehr_restore_overdue_since = ctx.now }
end

function P.assigns.emp_record_ehr_restored(inst, ev, ctx)
  return { ehr_access = "active", ehr_restored_at = ctx.now }
end

function P.assigns.emp_record_lost(inst, ev, ctx)
  return {
    certified = false,
    certification_lost_on = ctx.today,
    certification_status = ev.data and ev.data.from_state or null,
  }
end

-- EMP_2: "Other Qualified Provider" criteria, recorded by the program (seed 002, OPOH Section M).
function P.guards.emp_oqp_valid(inst, ev)
  local x = ev.data or {}
  if inst.data.program_type ~= "smhs" then
    return false, string.format(
      "the Other Qualified Provider route is for specialty mental health (SMHS) programs only; this hire's program is %s",
      program_name(inst.data))
  end
  if not text(x.recorded_by) then
    return false, "say who at the program recorded the Other Qualified Provider criteria (recorded_by)"
  end
  if not text(x.criteria) then
    return false, "name the Other Qualified Provider criteria the hire meets (criteria)"
  end
  return true
end

function P.assigns.emp_record_oqp(inst, ev, ctx)
  return {
    oqp = { recorded_by = ev.data.recorded_by, criteria = ev.data.criteria, on = ctx.today },
    non_peer_billing = true,
  }
end

-- Flags for reports, kept in step with the state: peer codes only in good standing with
-- EHR access; non-peer codes only with Other Qualified Provider criteria recorded.
function P.assigns.emp_billing_flags(inst)
  local live = inst.state ~= "ended"
  return {
    peer_billing = inst.state == "certified",
    non_peer_billing = live and inst.data.oqp ~= nil,
  }
end

-- Seed 002 C.2: where the county requires it, a supervisor is linked to the peer's employment
-- (checked last: the bill is otherwise billable).
local function supervised(inst, code)
  if param(inst, "peer_supervisor_required") and not text(inst.data.supervisor_id) then
    return false, string.format(
      "service code%s: this county requires a supervisor linked to each peer's employment; none is (assign_supervisor)",
      code)
  end
  return true
end

-- EMP_2: a bill names its code type; a refusal says why, with the dates behind it.
function P.guards.emp_may_bill(inst, ev, ctx)
  local d = inst.data
  local kind = ev.data and ev.data.code_type
  local code = ev.data and text(ev.data.code) and (" " .. ev.data.code) or ""
  -- Seed 003: "Complete formal hiring ... prior to provision": no service before the hire date.
  local on = ev.data and ev.data.service_on
  if on ~= nil and (not text(on) or not date.valid(on)) then
    return false, 'the date of service must be "YYYY-MM-DD" (service_on)'
  end
  on = on or ctx.today
  if date.compare(on, ctx.today) > 0 then
    return false, string.format("the date of service %s is after today (%s)", on, ctx.today)
  end
  if date.compare(on, d.hired_on) < 0 then
    return false, string.format(
      "service code%s on %s is before the hire date %s: hiring must be complete before a service is provided",
      code, on, d.hired_on)
  end
  if kind == "non_peer" then
    if d.program_type == "dmc_ods" then
      return false, string.format(
        "non-peer service code%s: in a DMC-ODS program a peer bills only the peer-specific codes (seed 002)", code)
    end
    if d.oqp ~= nil and d.program_type == "smhs" then return supervised(inst, code) end
    return false, string.format(
      "non-peer service code%s needs the program to record that this hire meets the Other Qualified Provider criteria; none is recorded",
      code)
  end
  if kind ~= "peer" then
    return false, 'a bill names its code_type: "peer" or "non_peer"'
  end
  local s = inst.state
  if s == "certified" then return supervised(inst, code) end
  local why
  if s == "grace" then
    why = string.format("this hire is not certified yet (grace period until %s, %s)", grace_end(inst), grace_basis(inst))
  elseif s == "ehr_suspended" and d.certification_lost_on == nil then
    why = string.format("the grace period ended on %s (%s) without certification; EHR access for peer services is suspended since %s",
      grace_end(inst), grace_basis(inst), d.ehr_suspended_on)
  elseif s == "ehr_suspended" then
    why = string.format("the certification was lost on %s (%s) before EHR access was restored",
      d.certification_lost_on, d.certification_status or "not certified")
  elseif s == "ehr_restoring" then
    return false, string.format(
      "peer service code%s: EHR access for peer services is being restored after certification on %s (due by %s); bill once it is restored",
      code, d.certified_on, restore_by(inst))
  else
    why = string.format("the certification was lost on %s (%s)", d.certification_lost_on, d.certification_status or "not certified")
  end
  return false, string.format("peer service code%s needs a certification in good standing: %s", code, why)
end

function P.assigns.emp_record_bill(inst, ev, ctx)
  local b = inst.data.billed or {}
  local kind = ev.data.code_type
  return {
    billed = { peer = (b.peer or 0) + (kind == "peer" and 1 or 0),
               non_peer = (b.non_peer or 0) + (kind == "non_peer" and 1 or 0) },
    last_bill = { code_type = kind, code = ev.data.code, on = ctx.today, service_on = ev.data.service_on or ctx.today },
  }
end

-- Seed 002 C.2: the supervisor (a supervision instance) linked to this peer's employment.
function P.guards.emp_supervisor_valid(inst, ev)
  local x = ev.data or {}
  if not text(x.supervisor_id) then
    return false, "give the id of the supervisor's supervision instance (supervisor_id)"
  end
  if x.supervisor_id == inst.data.supervisor_id then
    return false, "this supervisor is already linked to this hire"
  end
  return true
end

function P.assigns.emp_record_supervisor(inst, ev, ctx)
  return { supervisor_id = ev.data.supervisor_id, supervisor_since = ctx.today }
end

function P.assigns.emp_record_end(inst, ev, ctx)
  return { ended_on = ctx.today, end_reason = ev.data and ev.data.reason or null }
end

return P
