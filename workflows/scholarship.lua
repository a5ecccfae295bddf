-- workflows/scholarship.lua — one scholarship pool and the awards made from it (SCH_1,
-- FEE_1). The pool's data holds its funds and counters only (balance, reserved, spent,
-- returned, next_number, next_expiry); each award is its own row of the fees plugin
-- (fees_awards, and one fees_award_items row per item it covers), so a pool's fire reads
-- and writes one award however many the pool has made. The decisions about the pool are
-- lua/policy/scholarship.lua's; those about one award (one per person, usable, the holder,
-- an item paid once, a retake approved once, no extension) are the fees plugin's guards,
-- which read that award's row, and its actions write it and move the pool's counters.
-- The ledger accepts a certification fee "covered_by" an award only when that award,
-- awarded to that certification instance (applicant_id is the instance's id), covers the
-- fee and has not paid it; it then sends `cover` here, so a covered certification fee is
-- paid from this pool once (docs/rules.md, SCH_1).
--
-- Create it with { name, code, funds, closes_on, award_valid_months (optional, default
-- application_valid_months) }. Events name the award they are about with award_id.
-- (Pools created before kept their awards in data.awards; they stay on the version they
-- were created with, whose functions the policy keeps: docs/lifecycles.md, "scholarship".)
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
        { name = "award_expiry", after = "sch_award_expiry", event = "expire_awards" },
      },
    },
    -- no new awards; existing ones are used until they expire, unused amounts return
    closed = {
      timers = { { name = "award_expiry", after = "sch_award_expiry", event = "expire_awards" } },
    },
  },
  transitions = {
    -- an award re-enters `open` so that the expiry timer covers it
    { from = "open", event = "award", to = "open", reenter = true,
      guard = { "sch_pool_open", "sch_request_complete", "sch_pathway_eligible", "fees_award_one_per_person",
                "sch_funds_available" },
      actions = { "sch_grant_award", "fees_award_add" } },
    { from = "closed", event = "award", to = "closed", guard = "sch_pool_open" },

    { from = "open", event = "preapprove_retake", to = "open",
      guard = { "fees_award_usable", "fees_award_retake_open", "sch_retake_funds" },
      actions = { "sch_reserve_retake", "fees_award_retake" } },
    { from = "closed", event = "preapprove_retake", to = "closed",
      guard = { "fees_award_usable", "fees_award_retake_open", "sch_retake_funds" },
      actions = { "sch_reserve_retake", "fees_award_retake" } },

    { from = "open", event = "cover", to = "open",
      guard = { "fees_award_usable", "fees_award_holder", "fees_award_item" }, actions = { "fees_award_cover" } },
    { from = "closed", event = "cover", to = "closed",
      guard = { "fees_award_usable", "fees_award_holder", "fees_award_item" }, actions = { "fees_award_cover" } },

    -- an unused award (or its unused part) returns to the pool
    { from = "open", event = "release", to = "open", guard = "fees_award_active", actions = { "fees_award_release" } },
    { from = "closed", event = "release", to = "closed", guard = "fees_award_active", actions = { "fees_award_release" } },
    { from = "open", event = "expire_awards", to = "open", reenter = true, actions = { "fees_award_expire" } },
    { from = "closed", event = "expire_awards", to = "closed", reenter = true, actions = { "fees_award_expire" } },

    -- awards have no extension: the request is refused and stays on record
    { from = "open", event = "extend_award", to = "open", guard = "fees_award_no_extension" },
    { from = "closed", event = "extend_award", to = "closed", guard = "fees_award_no_extension" },

    { from = "open", event = "close", to = "closed", actions = { "sch_record_close" } },
  },
}
