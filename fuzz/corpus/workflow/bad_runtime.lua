-- workflow files are data: no functions are available
return {
  name = string.lower("MINI"),
}
