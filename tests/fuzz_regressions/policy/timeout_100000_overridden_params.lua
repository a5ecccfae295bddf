local params, over = {}, {}
for i = 1, 100000 do params["p" .. i] = i; over["p" .. i] = { kind = "integer", min = 0, max = 1000000 } end
return { params = params, overridable = over }
--@county
local params = {}
for i = 1, 100000 do params["p" .. i] = i + 1 end
return { params = params }
