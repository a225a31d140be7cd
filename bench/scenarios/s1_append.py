"""Scenario 1 — append: petitions with a sealed identity through ``EventLog.append``, pipelined across cases,
against raw JetStream publishes with the concurrency header, pipelined the same way. Goal ≥ 0.7×.

Per case: round 0 is the petition that opens it (a new person: a new data key in the SQL key store), rounds 1..n
are supplements by the same person (identity sealed again under the cached key). Every append carries the
expected last subject sequence, so both sides pay the concurrency check. The raw side publishes a commit of the
same size with nothing else. Both run on the project's server configuration (``sync_interval: always``); a
second row runs both without it, for reference.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from casereg.clock import SystemClock
from casereg.crypto.keystore import SqlKeyStore
from casereg.crypto.person import person_key_id, seal_identity
from casereg.db import KEYSTORE_MIGRATIONS, create_engine, migrate
from casereg.log.canonical import genesis_hash
from casereg.log.commit import encode_commit
from casereg.log.envelope import AggregateRef
from casereg.log.provision import provision
from casereg.log.raw import replay
from casereg.log.store import EventLog, Head
from casereg.log.verify import verify_messages
from casereg.settings import PlatformSettings
from nats.aio.client import Client as NATS

from bench.data import (
    REGISTRY,
    CommitTemplate,
    case_id,
    event_id,
    identity,
    offline_log,
    person_id,
    petition_event,
)
from bench.model import Outcome, Row, RunContext, Scenario, min_ratio
from bench.pipeline import Measured, measure, round_major
from bench.servers import BenchServer
from bench.stats import runs_summary

MASTER_SECRET = "casereg-bench-master-secret"
EXPECTED_SEQ = "Nats-Expected-Last-Subject-Sequence"


@dataclass(frozen=True)
class Size:
    cases: int
    rounds: int
    window: int
    repeats: int


SIZES = {
    "full": Size(cases=5000, rounds=5, window=1000, repeats=3),
    "quick": Size(cases=1000, rounds=3, window=1000, repeats=3),
    "smoke": Size(cases=12, rounds=2, window=8, repeats=1),
}


async def _stream(server: BenchServer, tag: str) -> PlatformSettings:
    """A fresh stream with the project's configuration (``provision``), one per run."""
    settings = PlatformSettings(province=f"a{tag}", stream=f"BENCH_APPEND_{tag}")
    admin = await server.connect("admin")
    try:
        await provision(admin, settings)
    finally:
        await admin.close()
    return settings


async def _drop(server: BenchServer, settings: PlatformSettings) -> None:
    admin = await server.connect("admin")
    try:
        await admin.jetstream().delete_stream(settings.stream)
    finally:
        await admin.close()


async def _verify(nc: NATS, settings: PlatformSettings, expected: int) -> None:
    js = nc.jetstream(timeout=30)
    messages = [m async for m in replay(js, settings.stream)]
    report = verify_messages(messages)
    if report.messages != expected or not report.ok:
        raise AssertionError(f"append run left {report.messages} messages (want {expected}); breaks {report.breaks}")


async def project_run(ctx: RunContext, server: BenchServer, size: Size, tag: str, *, verify: bool) -> Measured:
    settings = await _stream(server, tag)
    keys_url = f"sqlite:///{ctx.scratch('append-keys') / f'keys-{tag}.db'}"
    migrate(keys_url, [KEYSTORE_MIGRATIONS])
    engine = create_engine(keys_url)
    keys = SqlKeyStore(engine, MASTER_SECRET)
    nc = await server.connect("intake")
    try:
        log = EventLog(
            nc=nc, province=settings.province, clock=SystemClock(), stream=settings.stream, registry=REGISTRY
        )
        # Clear identities exist before the measurement, as they would arrive with the request.
        people = [(person_id(ctx.seed, i), identity(i)) for i in range(size.cases)]
        refs = [AggregateRef.case(case_id(ctx.seed, i)) for i in range(size.cases)]
        heads = [Head.genesis(ref.id) for ref in refs]

        sealing = [0.0, 0.0]  # seconds in seal_identity: round 0 (new data key), later rounds (cached key)

        async def append(i: int, r: int) -> None:
            pid, clear = people[i]
            t0 = time.perf_counter()
            await keys.prepare_async([person_key_id(pid)])  # new people's keys share group commits
            sealed = seal_identity(keys, pid, clear)
            sealing[min(r, 1)] += time.perf_counter() - t0
            event = petition_event(seed=ctx.seed, index=i, round_=r, sealed=sealed, pid=pid)
            heads[i] = (await log.append(refs[i], [event], heads[i])).head

        measured = await measure(
            server, size.cases * size.rounds, lambda: round_major(size.cases, size.rounds, size.window, append)
        )
        if verify:
            await _verify(nc, settings, size.cases * size.rounds)
    finally:
        await nc.close()
        engine.dispose()
    await _drop(server, settings)
    return replace(
        measured,
        extra={"seal_identity_new_key_s": round(sealing[0], 3), "seal_identity_cached_key_s": round(sealing[1], 3)},
    )


async def raw_run(ctx: RunContext, server: BenchServer, size: Size, tag: str, payloads: list[bytes]) -> Measured:
    settings = await _stream(server, tag)
    nc = await server.connect("intake")
    try:
        js = nc.jetstream(timeout=5.0)
        subjects = [f"reg.{settings.province}.case.{case_id(ctx.seed, i)}" for i in range(size.cases)]
        last = [0] * size.cases

        async def publish(i: int, r: int) -> None:
            ack = await js.publish(subjects[i], payloads[r], headers={EXPECTED_SEQ: str(last[i])})
            last[i] = ack.seq

        measured = await measure(
            server, size.cases * size.rounds, lambda: round_major(size.cases, size.rounds, size.window, publish)
        )
        info = await js.stream_info(settings.stream)
        if info.state.messages != size.cases * size.rounds:
            raise AssertionError(f"raw run stored {info.state.messages} messages")
    finally:
        await nc.close()
    await _drop(server, settings)
    return measured


def raw_payloads(seed: int, rounds: int) -> list[bytes]:
    """A commit per round of the size the log client writes (round 0 a petition, then supplements)."""
    out = []
    for r in range(rounds):
        template = CommitTemplate.build("a0", min(r, 1), seed=seed)
        cid = case_id(seed, 0)
        data, _ = template.render(cid, event_id(seed, 0, r), person_id(seed, 0), genesis_hash(cid))
        out.append(data)
    return out


def client_cpu_breakdown(ctx: RunContext, n: int) -> dict[str, float]:
    """Microseconds per append of each step the log client takes before the network, measured without a server
    (the key store is the same SQLite set-up as in the measured runs)."""
    keys_url = f"sqlite:///{ctx.scratch('append-keys') / 'keys-breakdown.db'}"
    migrate(keys_url, [KEYSTORE_MIGRATIONS])
    engine = create_engine(keys_url)
    keys = SqlKeyStore(engine, MASTER_SECRET)
    log = offline_log("a0")
    people = [(person_id(ctx.seed + 1, i), identity(i)) for i in range(n)]
    refs = [AggregateRef.case(case_id(ctx.seed + 1, i)) for i in range(n)]
    out: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        out[name] = round((now - clock[0]) / n * 1e6, 1)
        clock[0] = now

    try:
        for pid, clear in people:
            seal_identity(keys, pid, clear)
        lap("seal_identity_new_key_us")
        sealed = [seal_identity(keys, pid, clear) for pid, clear in people]
        lap("seal_identity_cached_key_us")
        events = [
            petition_event(seed=ctx.seed, index=i, round_=0, sealed=sealed[i], pid=people[i][0]) for i in range(n)
        ]
        lap("build_event_us")
        envelopes = [log.seal_events(refs[i], [events[i]], Head.genesis(refs[i].id)) for i in range(n)]
        lap("seal_events_chain_hash_us")
        for envs in envelopes:
            encode_commit(envs)
        lap("encode_commit_us")
    finally:
        engine.dispose()
    return out


async def run(ctx: RunContext) -> Outcome:
    size = SIZES[ctx.profile]
    payloads = raw_payloads(ctx.seed, size.rounds)
    rows: list[Row] = []
    details: dict[str, Any] = {
        "size": asdict(size),
        "appends_per_run": size.cases * size.rounds,
        "commit_bytes": [len(p) for p in payloads],
        "new_data_keys_per_run": size.cases,
        "client_cpu_breakdown": client_cpu_breakdown(ctx, min(size.cases, 500)),
    }
    for sync_always in (True, False):
        mode = "always" if sync_always else "off"
        server = ctx.server(f"append-{mode}", sync_always=sync_always)
        project: list[Measured] = []
        raw: list[Measured] = []
        with server:
            for rep in range(size.repeats):
                tag = f"{mode[0]}{rep}"
                # Alternate who goes first, so neither side always meets a warmer server.
                order = ("project", "raw") if rep % 2 == 0 else ("raw", "project")
                for side in order:
                    ctx.progress(f"append, sync {mode}: {side} run {rep + 1}/{size.repeats} ...")
                    if side == "project":
                        m = await project_run(ctx, server, size, f"p{tag}", verify=rep == 0)
                        project.append(m)
                    else:
                        m = await raw_run(ctx, server, size, f"r{tag}", payloads)
                        raw.append(m)
                    ctx.progress(f"  {m.operations:,} appends in {m.wall_s:.2f}s → {m.rate:,.0f}/s")
        rows.append(
            Row(
                label=f"append, sync {mode}" + ("" if sync_always else " (reference)"),
                unit="appends/s",
                project=statistics.median(m.rate for m in project),
                raw=statistics.median(m.rate for m in raw),
                goals=(min_ratio(0.7),) if sync_always else (),
                note=""
                if sync_always
                else "same server configuration without sync_interval: always; no goal, for reference",
                details={
                    "project": runs_summary([m.rate for m in project]),
                    "raw": runs_summary([m.rate for m in raw]),
                    "project_runs": [m.as_json() for m in project],
                    "raw_runs": [m.as_json() for m in raw],
                    "chain_verified": True,
                },
            )
        )
    return Outcome(rows=rows, details=details)


SCENARIO = Scenario(
    number=1,
    key="append",
    title="append",
    goal="≥ 0.7×",
    run=run,
)
