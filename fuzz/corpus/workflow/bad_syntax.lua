-- a comma is missing after the name
return {
  name = "mini"
  initial = "draft",
}
