"""Audit: case timelines, replay as of any moment, seals over the log's heads (docs/audit.md)."""
