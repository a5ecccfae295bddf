-- no states at all
return {
  name = "mini",
  initial = "draft",
  events = { "submit" },
  states = {},
  transitions = {},
}
