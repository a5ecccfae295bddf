return { params = { a = 1 }, overridable = { "a" } }
--@county
return { params = { a = function() return 2 end }, description = 7 }
