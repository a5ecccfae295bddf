x = 1
local ok = pcall(function() return os.time() end)
local mt = getmetatable("")
return { params = { ok = ok, mt = mt == nil }, guards = { g = function() return load == nil and require == nil and debug == nil end } }
--@county
params = nil
return { params = {} }
