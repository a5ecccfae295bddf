local t = {}
for i = 1, 100 do t[i] = i end
return { params = { t = #t }, overridable = { t = { kind = "integer", min = 0, max = 1000000 } } }
--@county
local n = 0
for i = 1, 1000 do n = n + i end
return { params = { t = n } }
