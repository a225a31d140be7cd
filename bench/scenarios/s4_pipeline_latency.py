"""Scenario 4 — pipeline latency at a steady 100 petitions/s for 60 s: submitted → proposal by routing, → first
deadline set, → acknowledged by the national simulator; p50/p95/p99. Goals: proposal p99 < 100 ms, national ack
p99 < 1 s.

Not measurable yet: the services do not exist. To add it, give ``SCENARIO`` a ``run`` function returning an
``Outcome`` with one row per stage (``higher_is_better=False``, goals ``max_value(100, "ms")`` and
``max_value(1000, "ms")``); nothing else in ``bench/`` changes.
"""

from __future__ import annotations

from bench.model import Scenario

SCENARIO = Scenario(
    number=4,
    key="pipeline_latency",
    title="pipeline latency",
    goal="proposal p99 < 100 ms, ack p99 < 1 s",
    needs=("intake", "routing", "escalation", "national-sync"),
)
