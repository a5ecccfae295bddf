-- lua/tests/employment_grace.lua — policy test cases for the hire grace period (EMP_1,
-- EMP_3): `certflow policy test lua/tests`. Data only (docs/administrators.md). Day 90
-- after the hire date is still inside the grace period; on day 91 the timer fires.
-- The grace end is computed from the hire date and the county's hire_grace_days in force
-- (the copy in the hire's data, grace_ends_on, is what `start` computed, for notices).
return {
  -- San Diego: 90 days (lua/counties/san_diego.lua)
  {
    name = "san_diego: a hire on 2025-01-01 has through day 90, 2025-04-01",
    county = "san_diego", workflow = "employment", state = "hired",
    data = { name = "Ana", hired_on = "2025-01-01" }, today = "2025-01-01",
    event = "start",
    expect = { outcome = "applied", to = "grace", data = { grace_days = 90, grace_ends_on = "2025-04-01" } },
  },
  {
    name = "san_diego: the grace timer fires at the start of day 91",
    county = "san_diego", workflow = "employment", state = "grace",
    data = { name = "Ana", hired_on = "2025-01-01", grace_days = 90, grace_ends_on = "2025-04-01" },
    today = "2025-01-01",
    timer = "grace_period",
    expect = { due = "2025-04-02" },
  },
  {
    name = "san_diego: uncertified on day 91, EHR access for peer services is suspended",
    county = "san_diego", workflow = "employment", state = "grace",
    data = { name = "Ana", hired_on = "2025-01-01", grace_days = 90, grace_ends_on = "2025-04-01",
             ehr_access = "active" },
    today = "2025-04-02",
    event = "grace_ended",
    expect = { outcome = "applied", to = "ehr_suspended", data = { ehr_access = "suspended" } },
  },
  -- A county without an overlay: the state default, 90 days (lua/policy/state.lua)
  {
    name = "state default (kern, no overlay): 90 days, through 2025-04-01",
    county = "kern", workflow = "employment", state = "hired",
    data = { name = "Ben", hired_on = "2025-01-01" }, today = "2025-01-01",
    event = "start",
    expect = { outcome = "applied", to = "grace", data = { grace_days = 90, grace_ends_on = "2025-04-01" } },
  },
  -- A county overlay with 120 days (lua/counties/example.lua)
  {
    name = "example county (120 days): through day 120, 2025-05-01",
    county = "example", workflow = "employment", state = "hired",
    data = { name = "Cy", hired_on = "2025-01-01" }, today = "2025-01-01",
    event = "start",
    expect = { outcome = "applied", to = "grace", data = { grace_days = 120, grace_ends_on = "2025-05-01" } },
  },
  -- EMP_1: the deadline comes from the hire date and the days in force, not from a copy in
  -- the data: a hire whose copy says 2025-04-01 runs to day 120 in the example county.
  {
    name = "example county: the grace timer is computed from the hire date, not the stored copy",
    county = "example", workflow = "employment", state = "grace",
    data = { name = "Cy", hired_on = "2025-01-01", grace_days = 90, grace_ends_on = "2025-04-01" },
    today = "2025-01-01",
    timer = "grace_period",
    expect = { due = "2025-05-02" },
  },
  -- EMP_1: a COR extension must move the end later
  {
    name = "an extension to an earlier date is refused",
    county = "san_diego", workflow = "employment", state = "grace",
    data = { name = "Ana", hired_on = "2025-01-01", grace_days = 90, grace_ends_on = "2025-04-01" },
    today = "2025-03-15",
    event = "extend", event_data = { approved_by = "COR Lee", new_date = "2025-03-20" },
    expect = { outcome = "rejected", reason = "is not after the current end of the grace period, 2025-04-01" },
  },
}
