"""A reacting handler that crashes between its append and its checkpoint appends nothing new on re-run."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.log.envelope import Actor, AggregateRef, reaction_event_id
from casereg.log.events import NewEvent
from casereg.log.store import Head
from casereg.projections.positions import read_position
from casereg.projections.projection import Projection
from casereg.projections.runner import ProjectionRunner, RunnerHooks, RunnerOptions

from tests.projections.conftest import Stream, running, wait_for
from tests.projections.counter import counter_projection


async def test_rerun_after_crash_between_append_and_checkpoint(stream: Stream, engine: sa.Engine) -> None:
    last = await stream.write(cases=3, events_per_case=1)
    appended: list[bool] = []

    async def react(commit: StoredCommit) -> None:
        cause = commit.events[-1]
        if cause.type != "Counted":
            return
        reaction = NewEvent(
            reaction_event_id(cause.event_id, "Acknowledged"),
            "Acknowledged",
            1,
            {},
            cause.occurred_at,
            Actor(service="test"),
            causation_id=cause.event_id,
        )
        result = await stream.log.append(commit.aggregate, [reaction], Head.after(commit))
        appended.append(result.already_written)

    crashed: list[int] = []

    def crash_once(seqs: Sequence[int]) -> None:
        if not crashed:
            crashed.append(seqs[-1])
            raise RuntimeError("process died between append and checkpoint")

    base = counter_projection([stream.subject_filter])
    projection = Projection(base.name, base.subjects, base.tables, base.apply, react=react)
    runner = ProjectionRunner(
        projection,
        engine,
        stream.nc.jetstream(),
        stream.settings.stream,
        options=RunnerOptions(batch_size=10, backoff_base=0.01),
        hooks=RunnerHooks(before_commit=crash_once),
    )
    async with running(runner):
        # 3 causes + 3 reactions are all projected (reactions land on the same subjects).
        await wait_for(lambda: read_position_now(engine) > last)
        info = await stream.nc.jetstream().stream_info(stream.settings.stream)
        await wait_for(lambda: read_position_now(engine) == info.state.last_seq)
    assert crashed
    assert True in appended  # the re-run found its own earlier append
    info = await stream.nc.jetstream().stream_info(stream.settings.stream)
    assert info.state.messages == 6  # each cause got exactly one reaction


def read_position_now(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return read_position(conn, "counter")


async def test_loading_an_aggregate_creates_no_consumer(stream: Stream) -> None:
    await stream.write(cases=2, events_per_case=3)
    js = stream.nc.jetstream()
    before = (await js.stream_info(stream.settings.stream)).state.consumer_count
    subjects = sorted(
        {s for s in (await js.stream_info(stream.settings.stream, subjects_filter=">")).state.subjects or {}}
    )
    for subject in subjects:
        ref = AggregateRef.from_subject(subject)
        aggregate = await stream.log.load(ref, lambda n, _e: n + 1, 0)
        assert aggregate.state == 3
    assert (await js.stream_info(stream.settings.stream)).state.consumer_count == before
