"""Routing's pure domain: classification, eligibility, competence and the proposed outcome (no I/O)."""
