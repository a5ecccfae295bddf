-- workflows/scholarship.lua — one scholarship pool and the awards made from it (SCH_1,
-- FEE_1). The pool's balance and its awards are this instance's data, so that every
-- decision (open, eligible, funded, covered, non-transferable) is a guard that can see
-- them; an award is an entry of data.awards, keyed by its unique award ID.
-- Decisions live in lua/policy/scholarship.lua.
--
-- Create it with { name, code, funds, closes_on, award_valid_months (optional, default
-- application_valid_months) }. Events name the award they are about with award_id.
return {
  name = "scholarship",
  description = "A scholarship pool with limited funds and a closing date, and its awards",
  initial = "open",
  events = { "award", "preapprove_retake", "cover", "release", "extend_award", "close", "expire_awards" },
  states = {
    -- awards may be made until the closing date, while funds last
    open = {
      on_enter = { "sch_open_pool" },
      timers = {
        { name = "closing", after = "sch_closing", event = "close" },
        { name = "award_expiry", after = "sch_next_expiry", event = "expire_awards" },
      },
    },
    -- no new awards; existing ones are used until they expire, unused amounts return
    closed = {
      timers = { { name = "award_expiry", after = "sch_next_expiry", event = "expire_awards" } },
    },
  },
  transitions = {
    -- an award re-enters `open` so that the expiry timer covers it
    { from = "open", event = "award", to = "open", reenter = true,
      guard = { "sch_pool_open", "sch_request_complete", "sch_eligible", "sch_funds_available" },
      actions = { "sch_grant" } },
    { from = "closed", event = "award", to = "closed", guard = "sch_pool_open" },

    { from = "open", event = "preapprove_retake", to = "open",
      guard = { "sch_award_usable", "sch_retake_fundable" }, actions = { "sch_preapprove_retake" } },
    { from = "closed", event = "preapprove_retake", to = "closed",
      guard = { "sch_award_usable", "sch_retake_fundable" }, actions = { "sch_preapprove_retake" } },

    { from = "open", event = "cover", to = "open",
      guard = { "sch_award_usable", "sch_holder_matches", "sch_item_covered" }, actions = { "sch_cover" } },
    { from = "closed", event = "cover", to = "closed",
      guard = { "sch_award_usable", "sch_holder_matches", "sch_item_covered" }, actions = { "sch_cover" } },

    -- an unused award (or its unused part) returns to the pool
    { from = "open", event = "release", to = "open", guard = "sch_award_active", actions = { "sch_release" } },
    { from = "closed", event = "release", to = "closed", guard = "sch_award_active", actions = { "sch_release" } },
    { from = "open", event = "expire_awards", to = "open", reenter = true, actions = { "sch_expire_awards" } },
    { from = "closed", event = "expire_awards", to = "closed", reenter = true, actions = { "sch_expire_awards" } },

    -- awards have no extension: the request is refused and stays on record
    { from = "open", event = "extend_award", to = "open", guard = "sch_no_extension" },
    { from = "closed", event = "extend_award", to = "closed", guard = "sch_no_extension" },

    { from = "open", event = "close", to = "closed", actions = { "sch_record_close" } },
  },
}
