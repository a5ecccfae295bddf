return { params = { a = 1 }, overridable = { a = { kind = "integer", min = 0, max = 10 } } }
--@county
return { params = { a = function() return 2 end }, description = 7 }
