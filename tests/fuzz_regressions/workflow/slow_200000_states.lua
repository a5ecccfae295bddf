local st = {}
for i = 1, 200000 do st["s" .. i] = {} end
return { name = "w", initial = "s1", events = { "go" }, states = st, transitions = {} }
