"""Pipelining shared by the project and raw sides, so both send exactly the same pattern of requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.servers import BenchServer, process_cpu_seconds


@dataclass(frozen=True)
class Measured:
    """Wall time of a measured phase, with the CPU both processes spent on it."""

    operations: int
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.operations / self.wall_s if self.wall_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        per = 1e6 / self.operations if self.operations else 0.0
        return {
            "operations": self.operations,
            "wall_s": round(self.wall_s, 3),
            "rate_per_s": round(self.rate, 1),
            "client_cpu_s": round(self.client_cpu_s, 3),
            "server_cpu_s": round(self.server_cpu_s, 3),
            "client_cpu_us_per_op": round(self.client_cpu_s * per, 1),
            "server_cpu_us_per_op": round(self.server_cpu_s * per, 1),
            **self.extra,
        }


async def round_major(cases: int, rounds: int, window: int, op: Callable[[int, int], Awaitable[None]]) -> None:
    """Round by round, ``window`` cases at a time with ``gather``: one case's events stay strictly in order,
    different cases overlap (what a service handling many petitions at once does)."""
    for r in range(rounds):
        for start in range(0, cases, window):
            await asyncio.gather(*(op(c, r) for c in range(start, min(start + window, cases))))


async def measure(server: BenchServer, operations: int, work: Callable[[], Awaitable[None]]) -> Measured:
    cpu0, server0, t0 = process_cpu_seconds(), server.cpu_seconds(), time.perf_counter()
    await work()
    wall = time.perf_counter() - t0
    return Measured(operations, wall, process_cpu_seconds() - cpu0, server.cpu_seconds() - server0)
