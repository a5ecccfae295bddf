local tr = {}
for i = 1, 200000 do tr[i] = { from = "a", event = "go", to = "a", guard = "g" .. i } end
return { name = "w", initial = "a", events = { "go" }, states = { a = {} }, transitions = tr }
