"""Scenario 5 — case load: what a handler does before it decides. ``EventLog.load`` of a random case (every
commit fetched with ``next_by_subj`` gets, decoded, upcast and folded through payload models) with a million cases
in the stream. Goal: p99 < 5 ms. The raw row does the same gets with nats-py and decodes nothing.

The stream is filled with sync off to save time (one petition per case, a supplement for every tenth case), then
the server restarts on the same store with the project's ``sync_interval: always`` and serves the loads. Loads run
one at a time (latency, not throughput), alternating which side goes first for each case. nats-server's resident
memory is read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from casereg.clock import SystemClock
from casereg.log.envelope import AggregateRef
from casereg.log.provision import provision
from casereg.log.store import EventLog
from casereg.settings import PlatformSettings
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from bench.data import REGISTRY, CaseState, case_id, evolve, fill_cases
from bench.model import Outcome, Row, RunContext, Scenario, max_value
from bench.stats import latency_summary

PROVINCE = "cl"
STREAM = "BENCH_CASES"
WARMUP = 20


@dataclass(frozen=True)
class Size:
    cases: int
    loads: int


SIZES = {
    "full": Size(cases=1_000_000, loads=5_000),
    "quick": Size(cases=20_000, loads=2_000),
    "smoke": Size(cases=300, loads=60),
}


def has_supplement(index: int) -> bool:
    return index % 10 == 3


async def raw_load(js: JetStreamContext, subject: str) -> int:
    """The same ``next_by_subj`` gets the log client makes, without decoding: messages read."""
    seq, n = 1, 0
    while True:
        try:
            msg = await js.get_msg(STREAM, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return n
        assert msg.seq is not None
        n += 1
        seq = msg.seq + 1


async def run(ctx: RunContext) -> Outcome:
    size = SIZES[ctx.profile]
    server = ctx.server("case-load", sync_always=False)
    details: dict[str, Any] = {"size": asdict(size), "supplemented_cases": "every tenth"}
    memory: dict[str, dict[str, float]] = {}
    with server:
        settings = PlatformSettings(province=PROVINCE, stream=STREAM)
        admin = await server.connect("admin")
        try:
            await provision(admin, settings)
            ctx.progress(f"case load: filling {size.cases:,} cases (sync off) ...")
            fill = await fill_cases(
                admin.jetstream(timeout=30),
                province=PROVINCE,
                seed=ctx.seed,
                cases=size.cases,
                second=has_supplement,
                progress=ctx.progress,
                chunk=100_000,
            )
            info = await admin.jetstream().stream_info(STREAM)
            details["stream"] = {"messages": info.state.messages, "bytes": info.state.bytes}
        finally:
            await admin.close()
        details["fill"] = fill.as_json()
        memory["after_fill"] = server.memory_mb()
        details["store_mb"] = server.store_mb()
        rss = memory["after_fill"]
        ctx.progress(
            f"  filled in {fill.seconds:.1f}s ({fill.rate:,.0f} msg/s); nats-server RSS {rss.get('VmRSS', 0):,.0f} MB,"
            f" peak {rss.get('VmHWM', 0):,.0f} MB; restarting with sync always ..."
        )
        details["restart_to_healthy_s"] = round(server.restart(sync_always=True), 2)
        memory["after_restart"] = server.memory_mb()

        nc = await server.connect("intake")
        try:
            log = EventLog(nc=nc, province=PROVINCE, clock=SystemClock(), stream=STREAM, registry=REGISTRY)
            js = nc.jetstream(timeout=5.0)
            rnd = random.Random(ctx.seed)
            sample = rnd.sample(range(size.cases), min(size.loads + WARMUP, size.cases))
            project_ms: list[float] = []
            raw_ms: list[float] = []
            ctx.progress(f"case load: {len(sample):,} random cases, one at a time ...")
            shown = time.monotonic()
            for k, index in enumerate(sample):
                ref = AggregateRef.case(case_id(ctx.seed, index))
                subject = ref.subject(PROVINCE)
                expected = 2 if has_supplement(index) else 1
                timings: dict[str, float] = {}
                for side in ("project", "raw") if k % 2 == 0 else ("raw", "project"):
                    t0 = time.perf_counter()
                    if side == "project":
                        aggregate = await log.load(ref, evolve, CaseState())
                        timings[side] = time.perf_counter() - t0
                        if aggregate.state.submissions != expected:
                            raise AssertionError(f"{ref.id}: loaded {aggregate.state.submissions} submissions")
                    else:
                        read = await raw_load(js, subject)
                        timings[side] = time.perf_counter() - t0
                        if read != expected:
                            raise AssertionError(f"{ref.id}: raw read {read} messages")
                if k >= WARMUP or len(sample) <= WARMUP:
                    project_ms.append(timings["project"] * 1000)
                    raw_ms.append(timings["raw"] * 1000)
                if time.monotonic() - shown >= 5:
                    shown = time.monotonic()
                    ctx.progress(f"  {k + 1:,}/{len(sample):,} loads")
        finally:
            await nc.close()
        memory["after_loads"] = server.memory_mb()

    project, raw = latency_summary(project_ms), latency_summary(raw_ms)
    details["memory_mb"] = memory
    details["project_latency"] = project
    details["raw_latency"] = raw
    after_fill, after_loads = memory["after_fill"], memory["after_loads"]
    memory_note = (
        f"after the loads (server restarted on the filled store); after fill {after_fill.get('VmRSS', 0):,.0f} MB, "
        f"peak while filling {after_fill.get('VmHWM', 0):,.0f} MB"
    )
    common = {"cases": size.cases, "loads": len(project_ms), "messages": details["stream"]["messages"]}
    return Outcome(
        rows=[
            Row(
                label="case load p50",
                unit="ms",
                project=project["p50_ms"],
                raw=raw["p50_ms"],
                higher_is_better=False,
                details=common,
            ),
            Row(
                label="case load p99",
                unit="ms",
                project=project["p99_ms"],
                raw=raw["p99_ms"],
                higher_is_better=False,
                goals=(max_value(5, "ms"),),
                details=common,
            ),
            Row(
                label="nats-server RSS",
                unit="MB",
                project=after_loads.get("VmRSS"),
                higher_is_better=False,
                note=memory_note,
                details={"cases": size.cases, **{k: v for k, v in memory.items()}},
            ),
        ],
        details=details,
    )


SCENARIO = Scenario(
    number=5,
    key="case_load",
    title="case load",
    goal="p99 < 5 ms",
    run=run,
)
