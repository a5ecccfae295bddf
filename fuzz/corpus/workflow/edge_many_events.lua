local ev = {}
for i = 1, 300 do ev[i] = "e" .. i end
local tr = {}
for i = 1, 300 do tr[i] = { from = "a", event = "e" .. i, to = "a" } end
return { name = "w", initial = "a", events = ev, states = { a = {} }, transitions = tr }
