"""Scenario 3 — intake over HTTP: durable petitions per second with 64 concurrent clients (load from a second
process) against raw append at the same durability; p50/p99 latency. Goal ≥ 0.5× and never under 100/s.

Not measurable yet: intake has no HTTP API. To add it, give ``SCENARIO`` a ``run`` function returning an
``Outcome`` (see ``s1_append.py``: ``ctx.server(...)`` starts nats-server, ``bench.pipeline`` measures) with a
row whose goals are ``(min_ratio(0.5), min_value(100, "/s"))``; nothing else in ``bench/`` changes.
"""

from __future__ import annotations

from bench.model import Scenario

SCENARIO = Scenario(
    number=3,
    key="intake_http",
    title="intake over HTTP",
    goal="≥ 0.5× and ≥ 100/s",
    needs=("intake", "routing", "escalation", "national-sync"),
)
