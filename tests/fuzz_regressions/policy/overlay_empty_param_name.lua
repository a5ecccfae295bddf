return { params = { a = 1 }, overridable = { "a" } }
--@county
return { params = { [""] = 2, b = 3 } }
