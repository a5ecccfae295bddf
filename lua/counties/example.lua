-- lua/counties/example.lua — a documented example overlay, not a real county: copy it to
-- lua/counties/<county>.lua (lower case, e.g. los_angeles.lua) and keep the lines you need.
-- It overrides every parameter the state lets a county change (P.overridable in
-- lua/policy/state.lua); any other parameter is refused when the engine opens, and a
-- county without a file runs on the state defaults. Each value must fit what P.overridable
-- declares for it: here whole numbers of days (1 to 365) or hours (1 to 720); a fraction, a
-- negative number, NaN or infinity is refused with the file, the parameter and the range.
-- The file is data: no metatables, no code that runs later. The scenario tests run a county
-- named "example" on it.
return {
  description = "Example county (documentation and tests)",
  params = {
    -- EMP_1: days after the hire date to become certified (state default 90). With 120, a
    -- hire on 2025-01-01 has through 2025-05-01; EHR access for peer services is
    -- suspended on 2025-05-02. A COR extension still moves the date per hire.
    hire_grace_days = 120,
    -- EMP_3: hours after the certification is notified within which EHR access for peer
    -- services must be restored (state default 48); a later restore is reported overdue.
    ehr_restore_hours = 24,
    -- EMP_2 (seed 002 C.2): a hire bills only once a supervisor is linked to the employment
    -- (the assign_supervisor event); the state default is false.
    peer_supervisor_required = true,
    -- SUP_2 (supervisory training within 60 days of starting to supervise) is a DHCS
    -- standard, the same in every county: it is not a county parameter.
  },
}
