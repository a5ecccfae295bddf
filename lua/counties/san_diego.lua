-- San Diego County (seed 002): the 90-day hire grace period, as the state default.
return {
  description = "San Diego County Behavioral Health Services",
  params = { hire_grace_days = 90 },
}
