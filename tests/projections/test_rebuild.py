"""Rebuild 100,000 events into shadow tables while the live projection keeps answering (issue 4)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import EventRegistry, NewEvent
from casereg.log.store import Head
from casereg.projections.positions import read_position
from casereg.projections.rebuild import Progress, Rebuild
from casereg.projections.runner import ProjectionRunner, RunnerOptions

from tests.projections.conftest import Stream, running, wait_for
from tests.projections.counter import counter_projection, read_total


async def write_commits(stream: Stream, cases: int, commits_per_case: int, events_per_commit: int) -> int:
    actor = Actor(service="seed")
    tag = new_event_id()[:8]

    async def one(c: int) -> int:
        case_id = f"rb-{tag}-{c}"
        ref, head, last = AggregateRef.case(case_id), Head.genesis(case_id), 0
        for _ in range(commits_per_case):
            events = [
                NewEvent(new_event_id(), "Counted", 1, {}, stream.log.clock.now(), actor)
                for _ in range(events_per_commit)
            ]
            result = await stream.log.append(ref, events, head)
            head, last = result.head, result.stream_seq
        return last

    lasts: list[int] = []
    for start in range(0, cases, 200):
        lasts += await asyncio.gather(*(one(c) for c in range(start, min(cases, start + 200))))
    return max(lasts)


def live_position(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return read_position(conn, "counter")


def applied_rows(engine: sa.Engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("select stream_seq, events from counter_applied order by 1"))]


async def test_rebuild_while_live_serves(stream: Stream, engine: sa.Engine) -> None:
    last = await write_commits(stream, cases=1000, commits_per_case=10, events_per_commit=10)
    projection = counter_projection([stream.subject_filter])
    js = stream.nc.jetstream()
    runner = ProjectionRunner(projection, engine, js, stream.settings.stream, options=RunnerOptions(batch_size=500))
    async with running(runner):
        await wait_for(lambda: live_position(engine) == last, limit=240)
        before = applied_rows(engine)
        assert read_total(engine) == 100_000

        reads: list[int] = []
        progress: list[Progress] = []
        rebuild = Rebuild(projection, engine, js, stream.settings.stream, EventRegistry(), progress=progress.append)
        task = asyncio.create_task(rebuild.run())
        extra_last = 0
        while not task.done():  # the live side keeps serving queries and taking new events during the rebuild
            reads.append(read_total(engine))
            if extra_last == 0:
                extra_last = await write_commits(stream, cases=20, commits_per_case=1, events_per_commit=5)
            await asyncio.sleep(0.01)
        swapped_at = await task
        assert swapped_at >= last
        assert reads and all(r >= 100_000 for r in reads)
        assert progress and progress[-1].applied >= 10_000
        await wait_for(lambda: live_position(engine) == extra_last, limit=60)

    after = applied_rows(engine)
    assert after[: len(before)] == before
    assert read_total(engine) == 100_100
    assert len(after) == 10_020
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
    assert not [n for n in names if "__r" in n or "__old" in n]  # no shadow or old table left behind
