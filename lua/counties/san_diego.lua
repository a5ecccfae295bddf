-- lua/counties/san_diego.lua — San Diego County Behavioral Health Services (BHS), from its
-- "Q&A on Peer Support Services" (revised 8/30/2023, seed 002). San Diego's timelines equal
-- the state defaults today; they are written out so that a change to a state default does
-- not silently change San Diego, and so that the county's sources are next to its numbers.
--
-- What the workflows do with them (workflows/employment.lua, workflows/supervision.lua):
-- * Hire grace period (B.3, E.6, E.7): positions that require lived experience are filled
--   by a Certified Peer Support Specialist, or certification is obtained within 90 days of
--   hire. Day 90 after the hire date is still inside; on day 91 an uncertified hire's EHR
--   access for peer services is suspended.
-- * COR extensions (E.6): "COR approval is needed for situations that the timeline cannot
--   be met by a peer." That is the employment `extend` event: it records the approving
--   contract officer (approved_by) and the new end date, and the timer moves to it.
--   Extensions are not limited in number or length here; each one is on record.
-- * Other Qualified Provider (B.3, E.6): while uncertified, a hire bills only non-peer
--   codes, and only once the program records that the OQP criteria (OPOH Section M) are
--   met — the employment `record_oqp` event; peer codes need certification (DHCS).
-- * SanWITS access (B.7): uncertified DMC-ODS peers have EHR access suspended until
--   SUDEHRSupport is notified of certification (the certification's
--   `certification_granted`); "verification and access typically follow within 24 to 48
--   hours of receiving notification" — the restore is due 48 hours after notification.
-- * Supervision of peers (C.2, BHIN 22-026): certified peers provide services under the
--   direction of a Behavioral Health Professional or a Peer Support Specialist Supervisor:
--   a hire bills once a supervisor is linked to the employment (`assign_supervisor`).
-- * Other Qualified Provider and program type (B.3, B.7): the OQP route is for specialty
--   mental health programs; in DMC-ODS a peer has only the peer codes (program_type).
-- * Supervisors (C.3, BHIN 22-018): DHCS-approved supervisory training within 60 days of
--   beginning to supervise; peer billing may begin before the supervisor completes it. The
--   60 days are a DHCS standard (seed 000), statewide: not a county parameter.
return {
  description = "San Diego County Behavioral Health Services",
  params = {
    hire_grace_days = 90,            -- B.3/E.6: certified within 90 days of hire
    ehr_restore_hours = 48,          -- B.7: SanWITS access restored within 24 to 48 hours
    peer_supervisor_required = true, -- C.2: peers serve under the direction of a supervisor (BHIN 22-026)
  },
}
