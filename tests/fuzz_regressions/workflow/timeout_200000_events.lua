local ev = {}
for i = 1, 200000 do ev[i] = "e" .. i end
return { name = "w", initial = "a", events = ev, states = { a = {} }, transitions = {} }
