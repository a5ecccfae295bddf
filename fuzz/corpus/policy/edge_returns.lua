local P = {}
P.params = { n = 1, s = "x", b = true, f = 1.5, big = math.maxinteger, neg = math.mininteger }
P.overridable = { n = { kind = "integer", min = 0, max = 10 }, s = { kind = "string", one_of = { "x", "y" } }, b = { kind = "boolean" } }
local cyc = {}
cyc.self = cyc
P.guards = {
  reason_table = function() return false, { "not", "a", "string" } end,
  reason_number = function() return false, 42 end,
  error_table = function() error({ code = 1 }) end,
  error_nil = function() error() end,
  view_tostring = function(inst, ev) return tostring(inst.data) ~= "" and #ev.data == 0 end,
  pairs_data = function(inst) local n = 0 for k, v in pairs(inst.data) do n = n + 1 end return n > 0 end,
  ipairs_list = function(inst) for i, v in ipairs(inst.data.list) do end return true end,
  coroutine = function() local co = coroutine and coroutine.wrap(function() coroutine.yield(1) end) return co and co() == 1 end,
  format = function() return string.format("%99d|%-99s|%q", 1, "x", "y\0z") ~= "" end,
  gsub = function() return (("x"):rep(1000):gsub("x", "%0%0")) ~= "" end,
}
P.assigns = {
  cyclic = function() return cyc end,
  deep = function() local t = {} local c = t for i = 1, 5000 do c.x = {} c = c.x end return t end,
  data_view = function(inst) return { copy = inst.data, ev = inst.data.nested } end,
  ev_view = function(inst, ev) return ev.data end,
  whole_inst = function(inst) return { i = inst } end,
  mixed_keys = function() return { [1] = "a", [2.5] = "b", [true] = "c" } end,
  nan_key = function() local t = {} t[0/0 ~= 0/0 and "nan" or 1] = 0/0 return t end,
  int_keys = function() return { [math.maxinteger] = 1, [-1] = 2, [0] = 3 } end,
  bad_utf8 = function() return { ["\xff\xfe"] = "\xc3\x28" } end,
  long_key = function() return { [string.rep("k", 100000)] = 1 } end,
  returns_nil = function() return nil end,
  returns_string = function() return "patch" end,
  mt_pairs = function() return setmetatable({}, { __pairs = function() error("no") end, __index = function() return 1 end }) end,
}
P.deadlines = {
  bad_date = function() return "2025-02-30" end,
  far = function() return "9999-12-31T23:59:59+14:00" end,
  negative = function() return "-0001-01-01" end,
  number = function() return 12345 end,
  table = function() return {} end,
  nothing = function() end,
  add_huge = function(inst, ctx) return date.add_days(ctx.today, math.maxinteger) end,
  add_months = function(inst, ctx) return date.add_months("2024-01-31", 1e15) end,
  business = function(inst, ctx) return date.add_business_days(ctx.today, 100000000) end,
  hours = function(inst, ctx) return date.add_hours(ctx.now, -1e12) end,
}
return P
--@county
return { params = { n = 2, s = "y", b = false } }
