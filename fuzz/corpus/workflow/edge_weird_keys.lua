return {
  name = "w", initial = "a", events = { "go", [3] = "gap", [1.5] = "x" },
  states = { a = { [1] = true }, [2] = {} , b = setmetatable and {} },
  transitions = { [0] = {}, { from = {}, event = "go", to = "a" }, n = 1 },
}
