"""Escalation's pure domain: the working-day calendar, day counting, the legal rule table and the clocks."""
