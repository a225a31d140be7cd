"""Scenario 2 — rebuild: the aggregate-heads read model (what intake runs) rebuilt from sequence 0 with
``Rebuild`` into shadow tables and swapped in, against a raw ordered replay of the same messages plus a bulk
insert of the same rows into the same database. SQLite and PostgreSQL. Goal ≥ 0.5×.

The stream holds one petition and one supplement per case (interleaved, round-major), written with sync off and
then served by a restarted server with the project's ``sync_interval: always``. The raw side goes first and
fills the live table; the rebuild then replaces it and must produce exactly the same rows (checked).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.log.commit import StoredCommit
from casereg.log.provision import provision
from casereg.log.raw import last_sequence, replay
from casereg.projections.heads import heads_projection, heads_table
from casereg.projections.positions import write_position
from casereg.projections.rebuild import Progress, Rebuild
from casereg.settings import PlatformSettings
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext

from bench.data import REGISTRY, fill_cases
from bench.databases import database, pg_version
from bench.model import Outcome, Row, RunContext, Scenario, min_ratio

PROVINCE = "rb"
STREAM = "BENCH_REBUILD"
TABLE = "bench_case_heads"
INSERT_BATCH = 1000


@dataclass(frozen=True)
class Size:
    cases: int


SIZES = {"full": Size(cases=50_000), "quick": Size(cases=5_000), "smoke": Size(cases=40)}


def table_digest(engine: sa.Engine, table: sa.Table) -> tuple[int, str]:
    """Row count and a digest of every row, to prove both sides wrote the same read model."""
    digest = hashlib.sha256()
    count = 0
    with engine.connect() as conn:
        for row in conn.execute(sa.select(table).order_by(table.c.subject)):
            values = row._asdict()
            stamp = values["recorded_at"]
            values["recorded_at"] = stamp.replace(tzinfo=None).isoformat() if stamp else None
            digest.update(json.dumps(values, sort_keys=True, default=str).encode())
            count += 1
    return count, digest.hexdigest()


async def raw_rebuild(
    js: JetStreamContext, engine: sa.Engine, table: sa.Table, subject: str, last: int
) -> tuple[int, float]:
    """Ordered-consumer replay, heads computed in a dict, then ``executemany`` in batches.

    Returns the messages read and the seconds the replay alone took."""
    rows: dict[str, dict[str, Any]] = {}
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = 0

    async def on_message(msg: Msg) -> None:
        nonlocal seen
        events = json.loads(msg.data)["events"]
        final = events[-1]
        stream_seq = msg.metadata.sequence.stream
        before = rows.get(msg.subject)
        rows[msg.subject] = {
            "subject": msg.subject,
            "aggregate_id": final["case_id"],
            "stream_seq": stream_seq,
            "event_seq": final["seq"],
            "hash": final["hash"],
            "last_type": final["type"],
            "events": (before["events"] if before else 0) + len(events),
            "recorded_at": datetime.fromisoformat(final["recorded_at"]),
        }
        seen += 1
        if stream_seq >= last and not done.done():
            done.set_result(None)

    t0 = time.perf_counter()
    sub = await js.subscribe(subject, stream=STREAM, ordered_consumer=True, cb=on_message, pending_msgs_limit=-1)
    try:
        await asyncio.wait_for(done, 600)
    finally:
        await sub.unsubscribe()
    replay_s = time.perf_counter() - t0
    values = list(rows.values())
    for start in range(0, len(values), INSERT_BATCH):
        with engine.begin() as conn:
            conn.execute(table.insert(), values[start : start + INSERT_BATCH])
    return seen, replay_s


async def decode_only(js: JetStreamContext) -> dict[str, float]:
    """The project's read path alone (raw.replay + decode + upcast), no SQL: where the rebuild's time is not."""
    t0 = time.perf_counter()
    n = 0
    async for msg in replay(js, STREAM, subjects=[f"reg.{PROVINCE}.case.*"], batch=2000):
        commit = StoredCommit.decode(msg.stream_seq, msg.subject, None, msg.data)
        tuple(REGISTRY.upcast(e) for e in commit.events)
        n += 1
    seconds = time.perf_counter() - t0
    return {"messages": n, "seconds": round(seconds, 3), "msg_per_s": round(n / seconds, 1) if seconds else 0.0}


async def measure_backend(ctx: RunContext, js: JetStreamContext, backend: str, last: int) -> Row:
    with database(backend, ctx.scratch("rebuild-db"), ctx.pg_url) as url:
        migrate(url, [PLATFORM_MIGRATIONS])
        engine = create_engine(url)
        try:
            metadata = sa.MetaData()
            table = heads_table(metadata, TABLE)
            metadata.create_all(engine)
            projection = heads_projection(PROVINCE, table, name="bench-case-heads")

            ctx.progress(f"rebuild, {backend}: raw replay + bulk insert ...")
            t0 = time.perf_counter()
            read, replay_s = await raw_rebuild(js, engine, table, f"reg.{PROVINCE}.case.*", last)
            raw_s = time.perf_counter() - t0
            raw_rows, raw_digest = table_digest(engine, table)
            ctx.progress(f"  {read:,} messages → {raw_rows:,} rows in {raw_s:.2f}s → {read / raw_s:,.0f} msg/s")

            # The live projection is caught up to the end of the stream; the rebuild must reach it and swap.
            with engine.begin() as conn:
                write_position(conn, projection.name, last)
            ctx.progress(f"rebuild, {backend}: Rebuild from sequence 0 ...")
            shown = [time.monotonic()]

            def report(p: Progress) -> None:
                if time.monotonic() - shown[0] >= 5:
                    shown[0] = time.monotonic()
                    ctx.progress(f"  at {p.position:,}/{p.target:,} ({p.applied / p.elapsed:,.0f} msg/s)")

            rebuild = Rebuild(projection, engine, js, STREAM, REGISTRY, progress=report)
            t0 = time.perf_counter()
            position = await rebuild.run()
            project_s = time.perf_counter() - t0
            if position != last:
                raise AssertionError(f"rebuild stopped at {position}, stream ends at {last}")
            project_rows, project_digest = table_digest(engine, table)
            if (project_rows, project_digest) != (raw_rows, raw_digest):
                raise AssertionError(f"rebuilt rows differ from the raw ones ({project_rows} vs {raw_rows} rows)")
            ctx.progress(f"  {rebuild.applied:,} messages in {project_s:.2f}s → {rebuild.applied / project_s:,.0f}/s")
        finally:
            engine.dispose()
    return Row(
        label=f"rebuild heads, {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}",
        unit="msg/s",
        project=read / project_s,
        raw=read / raw_s,
        goals=(min_ratio(0.5),),
        details={
            "messages": read,
            "rows": raw_rows,
            "project_s": round(project_s, 3),
            "raw_s": round(raw_s, 3),
            "raw_replay_s": round(replay_s, 3),
            "raw_insert_s": round(raw_s - replay_s, 3),
            "rows_identical": True,
            "rebuild_batch_size": rebuild.batch_size,
            "raw_insert_batch": INSERT_BATCH,
        },
    )


async def run(ctx: RunContext) -> Outcome:
    size = SIZES[ctx.profile]
    server = ctx.server("rebuild", sync_always=False)
    details: dict[str, Any] = {"size": asdict(size)}
    with server:
        settings = PlatformSettings(province=PROVINCE, stream=STREAM)
        admin = await server.connect("admin")
        try:
            await provision(admin, settings)
            ctx.progress(f"rebuild: filling {size.cases:,} cases × 2 commits (sync off) ...")
            fill = await fill_cases(
                admin.jetstream(timeout=30),
                province=PROVINCE,
                seed=ctx.seed,
                cases=size.cases,
                second=lambda _i: True,
                progress=ctx.progress,
            )
        finally:
            await admin.close()
        details["fill"] = fill.as_json()
        details["restart_s"] = round(server.restart(sync_always=True), 2)
        nc = await server.connect("operator")
        rows: list[Row] = []
        try:
            js = nc.jetstream(timeout=30)
            last = await last_sequence(js, STREAM)
            details["project_read_path_without_sql"] = await decode_only(js)
            rows.append(await measure_backend(ctx, js, "sqlite", last))
            version = pg_version(ctx.pg_url)
            if version is None:
                rows.append(
                    Row(
                        label="rebuild heads, PostgreSQL",
                        unit="msg/s",
                        project=None,
                        goals=(min_ratio(0.5),),
                        note=(
                            f"skipped: PostgreSQL not reachable at {ctx.pg_url}"
                            if ctx.pg_url
                            else "skipped: no PostgreSQL URL"
                        ),
                    )
                )
            else:
                details["postgresql"] = version
                rows.append(await measure_backend(ctx, js, "postgresql", last))
        finally:
            with suppress(Exception):
                await nc.close()
    return Outcome(rows=rows, details=details)


SCENARIO = Scenario(
    number=2,
    key="rebuild",
    title="rebuild",
    goal="≥ 0.5×",
    run=run,
)
