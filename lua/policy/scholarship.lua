-- lua/policy/scholarship.lua — the decisions of the scholarship workflow (one pool and its
-- awards, SCH_1; the fees an award pays, FEE_1). The shipped workflow keeps each award as a
-- row of the fees plugin, whose guards decide about one award (the functions "for pools
-- whose awards are rows" at the end); pools created by the first version keep their awards
-- in data.awards and run on the functions before them, which stay for those pools. An award reserves its whole amount from the
-- pool when it is made, so the pool can never promise more than it holds; what the award
-- has not paid when it is released or expires returns to the pool. Fees paid are recorded
-- in the award's fees list and never come back (FEE_1). Amounts: application_fee, exam_fee,
-- retake_fee (state parameters) and the core training's cost given with the award.
local P = { guards = {}, assigns = {}, deadlines = {} }

local ITEMS = { "application_fee", "core_training", "exam", "retake" }
local ITEM_NAMES = {
  application_fee = "application fee", core_training = "core training",
  exam = "one exam attempt", retake = "one pre-approved retake",
}

local function text(v)
  return type(v) == "string" and v ~= ""
end

local function money(n)
  if math.type(n) == "integer" or n == math.floor(n) then return string.format("$%d", math.floor(n)) end
  return string.format("$%.2f", n)
end

local function award_of(inst, ev)
  local id = ev.data and ev.data.award_id
  if not text(id) then return nil, nil, "name the award (award_id)" end
  local a = inst.data.awards and inst.data.awards[id]
  if a == nil then return nil, id, "there is no award " .. id .. " in this pool" end
  return a, id
end

-- What the fees plugin mirrors of an award after this transition (fees_sync_awards reads
-- data.awards_changed, writes those awards' rows and removes the field): only the awards a
-- transition changes, so a pool's fire costs the same however many awards it holds.
local function mirror(id, a, over)
  over = over or {}
  return {
    award_id = id,
    applicant_id = a.applicant_id,
    status = over.status or a.status,
    expires_on = a.expires_on,
    covers = over.covers or a.covers,
    fees = over.fees or a.fees,
  }
end

-- Creation: a pool needs funds and a closing date; re-entering `open` keeps its data.
function P.assigns.sch_open_pool(inst)
  local d = inst.data
  if d.balance ~= nil then return nil end
  if type(d.funds) ~= "number" or d.funds <= 0 then
    error("a scholarship pool needs its funds, a positive amount (funds)", 0)
  end
  if not text(d.closes_on) or not date.valid(d.closes_on) then
    error('a scholarship pool needs its closing date as "YYYY-MM-DD" (closes_on)', 0)
  end
  return { balance = d.funds, reserved = 0, spent = 0, returned = 0, next_number = 1 }
end

-- The pool takes awards through its closing date (the last day included).
function P.deadlines.sch_closing(inst)
  return date.add_days(inst.data.closes_on, 1)
end

function P.assigns.sch_record_close(inst, ev, ctx)
  return { closed_on = ctx.today }
end

function P.guards.sch_pool_open(inst, ev, ctx)
  if date.compare(ctx.today, inst.data.closes_on) <= 0 then return true end
  return false, string.format("the scholarship pool closed on %s; no awards after its closing date", inst.data.closes_on)
end

function P.guards.sch_request_complete(inst, ev)
  local x = ev.data or {}
  if not text(x.applicant_id) then
    return false, "name the applicant (applicant_id): an award belongs to one person"
  end
  if type(x.training_cost) ~= "number" or x.training_cost <= 0 then
    return false, "give the cost of the core training with the approved provider (training_cost)"
  end
  return true
end

function P.guards.sch_eligible(inst, ev)
  local x = ev.data or {}
  if x.pathway == "reciprocity" then
    return false, "reciprocity applicants are not eligible for scholarships"
  end
  for id, a in pairs(inst.data.awards or {}) do
    if a.applicant_id == x.applicant_id and a.status ~= "released" then
      return false, string.format("%s already holds award %s from this pool", x.applicant_id, id)
    end
  end
  return true
end

-- What a new award covers and costs: application fee, core training, one exam attempt, and a
-- retake only when it is pre-approved with the award (or later, case by case).
local function award_covers(x)
  local c = {
    application_fee = params.application_fee,
    core_training = type(x.training_cost) == "number" and x.training_cost or 0,
    exam = params.exam_fee,
  }
  if text(x.retake_approved_by) then c.retake = params.retake_fee end
  return c
end

local function total(c)
  local n = 0
  for _, item in ipairs(ITEMS) do n = n + (c[item] or 0) end
  return n
end

local function breakdown(c)
  local parts = {}
  for _, item in ipairs(ITEMS) do
    if c[item] then parts[#parts + 1] = ITEM_NAMES[item] .. " " .. money(c[item]) end
  end
  return table.concat(parts, ", ")
end

function P.guards.sch_funds_available(inst, ev)
  local c = award_covers(ev.data)
  local need, left = total(c), inst.data.balance
  if left >= need then return true end
  return false, string.format("the pool is exhausted: %s left, this award needs %s (%s)",
    money(left), money(need), breakdown(c))
end

-- SCH_1: a unique award ID — the pool's code and a number that is never reused.
function P.assigns.sch_grant(inst, ev, ctx)
  local d, x = inst.data, ev.data
  local n = d.next_number
  local code = text(d.code) and d.code or string.upper(string.sub(inst.id, 1, 8))
  local id = string.format("%s-%04d", code, n)
  local c = award_covers(x)
  local amount = total(c)
  local months = d.award_valid_months or params.application_valid_months
  local award = {
    applicant_id = x.applicant_id,
    applicant = x.applicant,
    pathway = x.pathway,
    awarded_on = ctx.today,
    expires_on = date.add_days(date.add_months(ctx.today, months), -1),
    covers = c,
    amount = amount,
    used = 0,
    status = "active",
    fees = {},
  }
  if c.retake then award.retake_approved = { by = x.retake_approved_by, on = ctx.today } end
  return {
    awards = { [id] = award },
    balance = d.balance - amount,
    reserved = d.reserved + amount,
    next_number = n + 1,
    last_award_id = id,
    awards_changed = { mirror(id, award) },
  }
end

-- An award that can still pay: it exists, is active, and has not expired (no extension).
function P.guards.sch_award_usable(inst, ev, ctx)
  local a, id, why = award_of(inst, ev)
  if not a then return false, why end
  if a.status ~= "active" then
    return false, string.format("award %s is %s (since %s)", id, a.status, a.ended_on)
  end
  if date.compare(ctx.today, a.expires_on) > 0 then
    return false, string.format("award %s expired on %s; awards have no extension", id, a.expires_on)
  end
  return true
end

function P.guards.sch_award_active(inst, ev)
  local a, id, why = award_of(inst, ev)
  if not a then return false, why end
  if a.status ~= "active" then
    return false, string.format("award %s is %s (since %s)", id, a.status, a.ended_on)
  end
  return true
end

-- Non-transferable: only the person it was awarded to may use it.
function P.guards.sch_holder_matches(inst, ev)
  local a, id = award_of(inst, ev)
  if not a then return true end -- sch_award_usable says why
  if ev.data.applicant_id == a.applicant_id then return true end
  return false, string.format("award %s belongs to %s, not %s: awards are non-transferable",
    id, a.applicant_id, tostring(ev.data.applicant_id))
end

function P.guards.sch_item_covered(inst, ev)
  local a, id = award_of(inst, ev)
  if not a then return true end -- sch_award_usable says why
  local item = ev.data.item
  if not ITEM_NAMES[item] then
    return false, "name what to pay (item): application_fee, core_training, exam or retake"
  end
  if item == "retake" and not a.covers.retake then
    return false, string.format("award %s covers a retake only if it is pre-approved case by case; none is", id)
  end
  for _, f in ipairs(a.fees) do
    if f.type == item then
      return false, string.format("award %s already paid its %s on %s", id, ITEM_NAMES[item], f.on)
    end
  end
  return true
end

-- FEE_1: the fee is recorded as paid by the award; it is never refunded or transferred.
function P.assigns.sch_cover(inst, ev, ctx)
  local a, id = award_of(inst, ev)
  local item = ev.data.item
  local amount = a.covers[item]
  local fees = {}
  for i, f in ipairs(a.fees) do fees[i] = f end
  fees[#fees + 1] = { type = item, amount = amount, on = ctx.today, covered_by = id }
  return {
    awards = { [id] = { fees = fees, used = a.used + amount } },
    spent = inst.data.spent + amount,
    awards_changed = { mirror(id, a, { fees = fees }) },
  }
end

-- One retake, pre-approved case by case, reserved from the pool when it is approved.
function P.guards.sch_retake_fundable(inst, ev)
  local a, id = award_of(inst, ev)
  if not a then return true end -- sch_award_usable says why
  if a.covers.retake then
    return false, string.format("award %s already has its one retake pre-approved (by %s on %s)",
      id, a.retake_approved.by, a.retake_approved.on)
  end
  if not text(ev.data.approved_by) then
    return false, "a retake is covered only if pre-approved case by case: name who approved it (approved_by)"
  end
  local fee, left = params.retake_fee, inst.data.balance
  if left < fee then
    return false, string.format("the pool is exhausted: %s left, the retake needs %s", money(left), money(fee))
  end
  return true
end

function P.assigns.sch_preapprove_retake(inst, ev, ctx)
  local a, id = award_of(inst, ev)
  local fee = params.retake_fee
  local covers = { retake = fee }
  for item, n in pairs(a.covers) do covers[item] = n end
  return {
    awards = { [id] = { covers = { retake = fee }, amount = a.amount + fee,
                        retake_approved = { by = ev.data.approved_by, on = ctx.today } } },
    balance = inst.data.balance - fee,
    reserved = inst.data.reserved + fee,
    awards_changed = { mirror(id, a, { covers = covers }) },
  }
end

-- The unpaid part of an award returns to the pool; what it paid stays paid.
local function returning(inst, id, a, status, today)
  local back = a.amount - a.used
  return {
    awards = { [id] = { status = status, ended_on = today, returned = back } },
    balance = inst.data.balance + back,
    reserved = inst.data.reserved - a.amount,
    returned = inst.data.returned + back,
    awards_changed = { mirror(id, a, { status = status }) },
  }
end

function P.assigns.sch_release(inst, ev, ctx)
  local a, id = award_of(inst, ev)
  local p = returning(inst, id, a, "released", ctx.today)
  p.awards[id].release_reason = ev.data.reason
  return p
end

-- The earliest expiry of an active award: its unpaid part returns the day after.
function P.deadlines.sch_next_expiry(inst)
  local first
  for _, a in pairs(inst.data.awards or {}) do
    if a.status == "active" and (first == nil or date.compare(a.expires_on, first) < 0) then
      first = a.expires_on
    end
  end
  return first and date.add_days(first, 1) or nil
end

function P.assigns.sch_expire_awards(inst, ev, ctx)
  local awards, balance, reserved, returned = {}, inst.data.balance, inst.data.reserved, inst.data.returned
  local changed = {}
  for id, a in pairs(inst.data.awards or {}) do
    if a.status == "active" and date.compare(a.expires_on, ctx.today) < 0 then
      local back = a.amount - a.used
      awards[id] = { status = "expired", ended_on = ctx.today, returned = back }
      balance, reserved, returned = balance + back, reserved - a.amount, returned + back
      changed[#changed + 1] = id
    end
  end
  if #changed == 0 then return nil end
  table.sort(changed)
  for i, id in ipairs(changed) do changed[i] = mirror(id, inst.data.awards[id], { status = "expired" }) end
  return { awards = awards, balance = balance, reserved = reserved, returned = returned, awards_changed = changed }
end

function P.guards.sch_no_extension(inst, ev)
  local a, id, why = award_of(inst, ev)
  if not a then return false, why end
  return false, string.format("award %s cannot be extended: scholarship awards have no extension (it expires on %s)",
    id, a.expires_on)
end

-- ---- For pools whose awards are rows of the fees plugin (the shipped workflow) ----
-- The pool's data holds its counters; the fees plugin's guards decide about one award
-- (fees_award_one_per_person, _usable, _holder, _item, _retake_open, _no_extension) and
-- its actions write the award's row and move the counters (fees_award_add, _cover,
-- _retake, _release, _expire), keeping data.next_expiry, the last day of the active award
-- that ends first.

function P.guards.sch_pathway_eligible(inst, ev)
  local x = ev.data or {}
  if x.pathway == "reciprocity" then
    return false, "reciprocity applicants are not eligible for scholarships"
  end
  return true
end

-- SCH_1: a unique award ID — the pool's code and a number that is never reused. The award
-- itself goes to the fees plugin in data.award_new (fees_award_add writes its row and
-- removes the field).
function P.assigns.sch_grant_award(inst, ev, ctx)
  local d, x = inst.data, ev.data
  local n = d.next_number
  local code = text(d.code) and d.code or string.upper(string.sub(inst.id, 1, 8))
  local id = string.format("%s-%04d", code, n)
  local c = award_covers(x)
  local amount = total(c)
  local months = d.award_valid_months or params.application_valid_months
  local award = {
    award_id = id,
    applicant_id = x.applicant_id,
    applicant = x.applicant,
    pathway = x.pathway,
    awarded_on = ctx.today,
    expires_on = date.add_days(date.add_months(ctx.today, months), -1),
    covers = c,
  }
  if c.retake then award.retake_approved = { by = x.retake_approved_by, on = ctx.today } end
  return {
    balance = d.balance - amount,
    reserved = d.reserved + amount,
    next_number = n + 1,
    last_award_id = id,
    award_new = award,
  }
end

-- One retake, pre-approved case by case, reserved from the pool when it is approved
-- (fees_award_retake_open has checked the award; fees_award_retake records it).
function P.guards.sch_retake_funds(inst)
  local fee, left = params.retake_fee, inst.data.balance
  if left < fee then
    return false, string.format("the pool is exhausted: %s left, the retake needs %s", money(left), money(fee))
  end
  return true
end

function P.assigns.sch_reserve_retake(inst, ev, ctx)
  local fee = params.retake_fee
  return {
    balance = inst.data.balance - fee,
    reserved = inst.data.reserved + fee,
    retake_new = { fee = fee, by = ev.data.approved_by, on = ctx.today },
  }
end

-- The unpaid part of an award returns the day after its last day.
function P.deadlines.sch_award_expiry(inst)
  local last = inst.data.next_expiry
  return text(last) and date.add_days(last, 1) or nil
end

return P
