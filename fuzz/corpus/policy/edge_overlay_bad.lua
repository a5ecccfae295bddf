return { params = { a = 1 }, overridable = { "a" }, guards = { g = function() return true end } }
--@county
return { params = { a = 2, b = 3 }, guards = {} }
