return 42
--@county
return "x"
