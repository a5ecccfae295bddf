return {}
--@county
