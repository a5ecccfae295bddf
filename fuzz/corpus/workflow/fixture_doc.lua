-- The workflow of docs/plugins.md: notes recorded by the template plugin, and a
-- publish that its guard allows once enough notes exist.
return {
  name = "doc",
  initial = "draft",
  events = { "note", "publish" },
  states = { draft = {}, published = { terminal = true } },
  transitions = {
    { from = "draft", event = "note", to = "draft", actions = { "template_record" } },
    { from = "draft", event = "publish", to = "published", guard = "template_enough_records",
      actions = { "template_record" } },
  },
}
