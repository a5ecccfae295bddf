-- workflows/scholarship.lua — one scholarship pool and the awards made from it (SCH_1,
-- FEE_1). The pool's balance and its awards are this instance's data, so that every
-- decision (open, eligible, funded, covered, non-transferable) is a guard that can see
-- them; an award is an entry of data.awards, keyed by its unique award ID.
-- Decisions live in lua/policy/scholarship.lua. Every change to the awards is mirrored
-- into the fees plugin (fees_sync_awards), whose ledger accepts a fee "covered_by" an
-- award only when that award, awarded to that certification instance (applicant_id is
-- the instance's id), covers the fee and has not paid it; the ledger then sends `cover`
-- here, so a covered certification fee is paid from this pool once (docs/rules.md, SCH_1).
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
      actions = { "sch_grant", "fees_sync_awards" } },
    { from = "closed", event = "award", to = "closed", guard = "sch_pool_open" },

    { from = "open", event = "preapprove_retake", to = "open",
      guard = { "sch_award_usable", "sch_retake_fundable" }, actions = { "sch_preapprove_retake", "fees_sync_awards" } },
    { from = "closed", event = "preapprove_retake", to = "closed",
      guard = { "sch_award_usable", "sch_retake_fundable" }, actions = { "sch_preapprove_retake", "fees_sync_awards" } },

    { from = "open", event = "cover", to = "open",
      guard = { "sch_award_usable", "sch_holder_matches", "sch_item_covered" }, actions = { "sch_cover", "fees_sync_awards" } },
    { from = "closed", event = "cover", to = "closed",
      guard = { "sch_award_usable", "sch_holder_matches", "sch_item_covered" }, actions = { "sch_cover", "fees_sync_awards" } },

    -- an unused award (or its unused part) returns to the pool
    { from = "open", event = "release", to = "open", guard = "sch_award_active", actions = { "sch_release", "fees_sync_awards" } },
    { from = "closed", event = "release", to = "closed", guard = "sch_award_active", actions = { "sch_release", "fees_sync_awards" } },
    { from = "open", event = "expire_awards", to = "open", reenter = true, actions = { "sch_expire_awards", "fees_sync_awards" } },
    { from = "closed", event = "expire_awards", to = "closed", reenter = true, actions = { "sch_expire_awards", "fees_sync_awards" } },

    -- awards have no extension: the request is refused and stays on record
    { from = "open", event = "extend_award", to = "open", guard = "sch_no_extension" },
    { from = "closed", event = "extend_award", to = "closed", guard = "sch_no_extension" },

    { from = "open", event = "close", to = "closed", actions = { "sch_record_close" } },
  },
}
