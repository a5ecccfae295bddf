return { params = { a = 1 }, overridable = { a = { kind = "integer", min = 0, max = 10 } }, guards = { g = function() return true end } }
--@county
return { params = { a = 2, b = 3 }, guards = {} }
