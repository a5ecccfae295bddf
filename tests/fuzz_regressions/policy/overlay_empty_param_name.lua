return { params = { a = 1 }, overridable = { a = { kind = "integer", min = 0, max = 10 } } }
--@county
return { params = { [""] = 2, b = 3 } }
