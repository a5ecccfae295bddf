-- lua/policy/supervision.lua — the decisions of the supervision workflow (one supervisor of
-- Medi-Cal Peer Support Specialists): the three qualification options (SUP_1, CalMHSA
-- guidelines §7, BHIN 22-018) and the supervisory-training deadline (SUP_2, parameter
-- supervisor_training_days: a DHCS standard, statewide, not county-overridable). The deadline
-- is computed from the first day of supervising and the policy in force, not a frozen copy.
local P = { guards = {}, assigns = {}, deadlines = {} }

-- The years of experience each option asks for (seed 004 §7: fixed by the state, not policy).
local BH_YEARS = 2               -- options 1 and 2: years in the behavioral health system
local DIRECT_SERVICE_YEARS = 4   -- option 3: years of direct behavioral-health service (peer services count)

-- Registered or certified SUD counselors are non-peer behavioral health professionals (seed 002 C.1).
local SUD_COUNSELORS = { registered_sud_counselor = true, certified_sud_counselor = true }
local DIPLOMAS = { high_school = true, ged = true, equivalency = true, degree = true }

local OPTION_NAMES = {
  "certified peer",
  "non-peer behavioral health professional",
  "high-school diploma or GED with direct service",
}

local function text(v)
  return type(v) == "string" and v ~= ""
end

local function years(v)
  return type(v) == "number" and v or 0
end

-- Why the evidence does not meet option n, or nil when it does. The supervisory training is
-- part of every option but may follow within the deadline (SUP_2), so it is not checked here.
local function option_problem(n, x)
  if n == 1 then
    if not text(x.certification_number) then
      return "no Medi-Cal Peer Support Specialist certification number (certification_number)"
    end
    if years(x.bh_years) < BH_YEARS then
      return string.format("%g years in behavioral health (bh_years); needs %d", years(x.bh_years), BH_YEARS)
    end
  elseif n == 2 then
    if not (x.bh_professional == true or SUD_COUNSELORS[x.profession]) then
      return "not recorded as a non-peer behavioral health professional (bh_professional, or profession "
        .. "registered_sud_counselor or certified_sud_counselor)"
    end
    if years(x.bh_years) < BH_YEARS then
      return string.format("%g years in behavioral health (bh_years); needs %d", years(x.bh_years), BH_YEARS)
    end
  else
    if not DIPLOMAS[x.education] then
      return "no high-school diploma or GED recorded (education)"
    end
    if years(x.direct_service_years) < DIRECT_SERVICE_YEARS then
      return string.format("%g years of direct behavioral health service (direct_service_years); needs %d",
        years(x.direct_service_years), DIRECT_SERVICE_YEARS)
    end
  end
  return nil
end

-- The option the evidence meets: the one named in ev.data.option, or the first of the three.
local function met_option(x)
  if x.option ~= nil then
    local asked = tonumber(x.option)
    if asked ~= 1 and asked ~= 2 and asked ~= 3 then
      return nil, string.format("there is no qualification option %s (options are 1, 2 and 3)", tostring(x.option))
    end
    asked = math.tointeger(asked)
    local why = option_problem(asked, x)
    if why then
      return nil, string.format("option %d (%s): %s", asked, OPTION_NAMES[asked], why)
    end
    return asked
  end
  local whys = {}
  for n = 1, 3 do
    local why = option_problem(n, x)
    if not why then return n end
    whys[#whys + 1] = string.format("option %d (%s): %s", n, OPTION_NAMES[n], why)
  end
  return nil, "meets no supervisor qualification option: " .. table.concat(whys, "; ")
end

-- SUP_1
function P.guards.sup_meets_an_option(inst, ev)
  local n, why = met_option(ev.data or {})
  if n then return true end
  return false, why
end

function P.assigns.sup_record_qualification(inst, ev, ctx)
  local x = ev.data
  local n = met_option(x)
  return {
    qualification = {
      option = n,
      basis = OPTION_NAMES[n],
      certification_number = x.certification_number,
      profession = x.profession,
      education = x.education,
      bh_years = x.bh_years,
      direct_service_years = x.direct_service_years,
      checked_on = ctx.today,
      checked_by = ev.actor,
    },
  }
end

-- SUP_2: a DHCS-approved supervisory training, completed on a real date not in the future.
function P.guards.sup_training_valid(inst, ev, ctx)
  local x = ev.data or {}
  if x.dhcs_approved ~= true then
    return false, "the supervisory training must be DHCS-approved (dhcs_approved)"
  end
  if not text(x.completed_on) or not date.valid(x.completed_on) then
    return false, 'the training completion date is missing or not "YYYY-MM-DD" (completed_on)'
  end
  if date.compare(x.completed_on, ctx.today) > 0 then
    return false, string.format("the training completion date %s is after today (%s)", x.completed_on, ctx.today)
  end
  return true
end

-- SUP_2: the last day on time: the first day of supervising + supervisor_training_days.
local function training_due(inst)
  local first = inst.data.first_started_on
  return first and date.add_days(first, params.supervisor_training_days) or nil
end

function P.assigns.sup_record_training(inst, ev, ctx)
  local done = ev.data.completed_on
  local due = training_due(inst)
  local patch = { training = { completed_on = done, course = ev.data.course, recorded_on = ctx.today } }
  if due then
    local late = date.days_between(due, done)
    patch.training_late_days = late > 0 and late or null
  end
  return patch
end

function P.guards.sup_trained(inst)
  return inst.data.training ~= nil, "the supervisory training is not recorded yet"
end

-- SUP_2: the deadline runs from the first day of supervising; that day plus
-- supervisor_training_days is the last day on time. Billing is never blocked here.
function P.assigns.sup_record_start(inst, ev, ctx)
  local first = inst.data.first_started_on or ctx.today
  local patch = {
    supervising = true,
    billing_allowed = true,
    started_on = ctx.today,
    first_started_on = first,
  }
  if inst.data.training == nil then
    patch.training_days = params.supervisor_training_days
    patch.training_due_on = date.add_days(first, params.supervisor_training_days)
  end
  return patch
end

function P.deadlines.sup_training_due(inst)
  return date.add_days(training_due(inst), 1)
end

function P.assigns.sup_mark_overdue(inst, ev, ctx)
  return {
    training_overdue_since = ctx.today,
    overdue_reason = string.format(
      "supervisory training was due by %s (%d days after starting to supervise on %s) and is not recorded",
      training_due(inst), params.supervisor_training_days, inst.data.first_started_on),
  }
end

function P.assigns.sup_record_stop(inst, ev, ctx)
  return { supervising = false, billing_allowed = false, stopped_on = ctx.today }
end

function P.assigns.sup_record_leave(inst, ev, ctx)
  return { supervising = false, billing_allowed = false, left_on = ctx.today }
end

return P
