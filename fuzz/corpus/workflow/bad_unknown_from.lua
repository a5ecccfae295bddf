-- 'submited' in the from list is misspelled
return {
  name = "mini",
  initial = "draft",
  events = { "submit", "withdraw" },
  states = { draft = {}, submitted = {}, withdrawn = { terminal = true } },
  transitions = {
    { from = "draft", event = "submit", to = "submitted" },
    { from = { "draft", "submited" }, event = "withdraw", to = "withdrawn" },
  },
}
