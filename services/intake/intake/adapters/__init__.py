"""Intake's adapters: its own SQL tables (agency credentials, idempotency keys)."""
