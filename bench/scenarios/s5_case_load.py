"""Scenario 5 — case load: what a handler does before it decides. ``EventLog.load`` of a random case (every
commit fetched with ``next_by_subj`` gets, decoded, upcast and folded through payload models) with a million cases
in the stream. Goal: p99 < 5 ms. The raw side makes the same gets with nats-py and decodes nothing.

The stream is filled with sync off to save time (one petition per case, a supplement for every tenth case), then
the server restarts on the same store with the project's ``sync_interval: always`` and serves three passes of
loads, one at a time (latency, not throughput), each on fresh random cases, the project and raw sides alternating:

- ``cold``: the first loads after the restart, while nats-server still has to load each message block it touches;
- ``warm``: the same number again right after (every block has been touched);
- ``paced``: after an idle pause longer than nats-server's block cache expiry, a slow steady rate, as a registry's
  handlers load cases in ordinary hours.

nats-server's resident memory is read from ``/proc/<pid>/status`` after the fill, the restart and the loads.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass, field
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


@dataclass(frozen=True)
class Size:
    cases: int
    loads: int  # per pass (cold, warm)
    paced_loads: int
    paced_interval_s: float
    idle_before_paced_s: float  # longer than nats-server's message block cache expiry (10 s)


SIZES = {
    "full": Size(cases=1_000_000, loads=5_000, paced_loads=300, paced_interval_s=0.05, idle_before_paced_s=12),
    "quick": Size(cases=20_000, loads=2_000, paced_loads=200, paced_interval_s=0.05, idle_before_paced_s=12),
    "smoke": Size(cases=300, loads=40, paced_loads=6, paced_interval_s=0.01, idle_before_paced_s=0),
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


@dataclass
class Pass:
    name: str
    project_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"project": latency_summary(self.project_ms), "raw": latency_summary(self.raw_ms)}


class Loader:
    """Loads cases through the log client and raw, checking both read what was written."""

    def __init__(self, ctx: RunContext, log: EventLog, js: JetStreamContext) -> None:
        self.ctx, self.log, self.js = ctx, log, js

    async def project(self, index: int) -> float:
        ref = AggregateRef.case(case_id(self.ctx.seed, index))
        t0 = time.perf_counter()
        aggregate = await self.log.load(ref, evolve, CaseState())
        ms = (time.perf_counter() - t0) * 1000
        if aggregate.state.submissions != expected(index):
            raise AssertionError(f"{ref.id}: loaded {aggregate.state.submissions} submissions")
        return ms

    async def raw(self, index: int) -> float:
        subject = AggregateRef.case(case_id(self.ctx.seed, index)).subject(PROVINCE)
        t0 = time.perf_counter()
        read = await raw_load(self.js, subject)
        ms = (time.perf_counter() - t0) * 1000
        if read != expected(index):
            raise AssertionError(f"{subject}: raw read {read} messages")
        return ms

    async def run_pass(self, name: str, pairs: list[tuple[int, int]], interval: float = 0.0) -> Pass:
        """Each pair is (case for the project, case for raw); who goes first alternates."""
        out = Pass(name)
        shown = time.monotonic()
        for k, (mine, theirs) in enumerate(pairs):
            if k % 2 == 0:
                out.project_ms.append(await self.project(mine))
                await asyncio.sleep(interval / 2)
                out.raw_ms.append(await self.raw(theirs))
            else:
                out.raw_ms.append(await self.raw(theirs))
                await asyncio.sleep(interval / 2)
                out.project_ms.append(await self.project(mine))
            await asyncio.sleep(interval / 2)
            if time.monotonic() - shown >= 5:
                shown = time.monotonic()
                self.ctx.progress(f"  {name}: {k + 1:,}/{len(pairs):,} loads")
        return out


def expected(index: int) -> int:
    return 2 if has_supplement(index) else 1


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
            loader = Loader(ctx, log, nc.jetstream(timeout=5.0))
            rnd = random.Random(ctx.seed)
            wanted = 2 * (2 * size.loads + size.paced_loads)
            picks = (
                rnd.sample(range(size.cases), wanted)
                if wanted <= size.cases
                else rnd.choices(range(size.cases), k=wanted)
            )
            pairs = list(zip(picks[0::2], picks[1::2], strict=True))
            cold_pairs, warm_pairs = pairs[: size.loads], pairs[size.loads : 2 * size.loads]
            paced_pairs = pairs[2 * size.loads :]
            ctx.progress(f"case load: cold pass, {size.loads:,} random cases per side ...")
            cold = await loader.run_pass("cold", cold_pairs)
            ctx.progress(f"case load: warm pass, {size.loads:,} random cases per side ...")
            warm = await loader.run_pass("warm", warm_pairs)
            memory["after_warm"] = server.memory_mb()
            ctx.progress(
                f"case load: paced pass, idle {size.idle_before_paced_s:g}s then "
                f"{1 / size.paced_interval_s:g} loads/s, {size.paced_loads:,} per side ..."
            )
            await asyncio.sleep(size.idle_before_paced_s)
            paced = await loader.run_pass("paced", paced_pairs, size.paced_interval_s)
        finally:
            await nc.close()
        memory["after_loads"] = server.memory_mb()

    passes = {p.name: p.summary() for p in (cold, warm, paced)}
    details["memory_mb"] = memory
    details["latency"] = passes
    after_fill, after_loads = memory["after_fill"], memory["after_loads"]
    common = {"cases": size.cases, "messages": details["stream"]["messages"]}

    def p(name: str, side: str, key: str) -> float:
        value: float = passes[name][side][key]
        return value

    def p99_row(name: str, label: str, note: str) -> Row:
        return Row(
            label=label,
            unit="ms",
            project=p(name, "project", "p99_ms"),
            raw=p(name, "raw", "p99_ms"),
            higher_is_better=False,
            goals=(max_value(5, "ms"),),
            note=note + f"; p50 {p(name, 'project', 'p50_ms'):.2f} ms (raw {p(name, 'raw', 'p50_ms'):.2f} ms)",
            details={**common, "pass": name, **passes[name]},
        )

    return Outcome(
        rows=[
            Row(
                label="case load p50, warm",
                unit="ms",
                project=p("warm", "project", "p50_ms"),
                raw=p("warm", "raw", "p50_ms"),
                higher_is_better=False,
                details={**common, "pass": "warm"},
            ),
            p99_row("warm", "case load p99, warm", "every message block already loaded once"),
            p99_row("cold", "case load p99, cold", "first loads after a restart"),
            p99_row(
                "paced",
                f"case load p99, {1 / size.paced_interval_s:g}/s",
                f"{1 / size.paced_interval_s:g} loads/s after {size.idle_before_paced_s:g}s idle",
            ),
            Row(
                label="nats-server RSS",
                unit="MB",
                project=after_loads.get("VmRSS"),
                higher_is_better=False,
                note=(
                    f"after the loads; after fill {after_fill.get('VmRSS', 0):,.0f} MB, "
                    f"after restart {memory['after_restart'].get('VmRSS', 0):,.0f} MB"
                ),
                details={"cases": size.cases, **memory},
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
