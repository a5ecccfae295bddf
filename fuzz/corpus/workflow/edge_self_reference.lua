local t = { name = "w", initial = "a", events = { "go" } }
t.states = { a = t, b = { timers = t } }
t.transitions = { t, { from = "a", event = "go", to = "a", guard = t } }
return t
