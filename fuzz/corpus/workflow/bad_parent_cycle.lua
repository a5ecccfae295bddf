return {
  name = "m", initial = "a", events = { "go" },
  states = { a = { parent = "b", initial = "b" }, b = { parent = "a", initial = "a" } },
  transitions = {},
}
