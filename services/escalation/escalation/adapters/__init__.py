"""Escalation's edges: files, and later the database and the log."""
