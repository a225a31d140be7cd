"""Append: optimistic concurrency, lost acknowledgements, atomic commits and races (issue 3)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nats.errors
import pytest
from casereg.log.envelope import Actor, AggregateRef, Envelope, new_event_id, reaction_event_id
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import NewEvent
from casereg.log.raw import subject_messages
from casereg.log.store import AppendHooks, EventLog, Head
from casereg.log.verify import verify_messages

from tests.conftest import connect_as
from tests.log.conftest import LogEnv

ACTOR = Actor(agency="ubnd-52", officer="officer-1", role="clerk")


def ev(env: LogEnv, kind: str = "NoteAdded", event_id: str | None = None, **payload: object) -> NewEvent:
    return NewEvent(
        event_id=event_id or new_event_id(),
        type=kind,
        schema_version=1,
        payload=dict(payload),
        occurred_at=env.clock.now(),
        actor=ACTOR,
    )


async def stream_count(env: LogEnv) -> int:
    info = await env.nc.jetstream().stream_info(env.settings.stream)
    return int(info.state.messages)


async def test_first_append_and_chain(log_env: LogEnv) -> None:
    ref = AggregateRef.case("c1")
    first = await log_env.log.append(ref, [ev(log_env, n=1), ev(log_env, n=2)], Head.genesis("c1"))
    assert [e.seq for e in first.events] == [1, 2]
    assert first.events[0].prev_hash == Head.genesis("c1").hash
    assert first.events[1].prev_hash == first.events[0].hash
    log_env.clock.advance(timedelta(minutes=1))
    second = await log_env.log.append(ref, [ev(log_env, n=3)], first.head)
    assert second.events[0].seq == 3
    assert second.events[0].prev_hash == first.events[1].hash
    events = await log_env.log.events(ref)
    assert [e.payload["n"] for e in events] == [1, 2, 3]


async def test_stale_expected_sequence_is_a_typed_conflict(log_env: LogEnv) -> None:
    ref = AggregateRef.case("c2")
    first = await log_env.log.append(ref, [ev(log_env)], Head.genesis("c2"))
    await log_env.log.append(ref, [ev(log_env)], first.head)
    with pytest.raises(ConcurrencyConflict) as caught:
        await log_env.log.append(ref, [ev(log_env)], first.head)
    assert caught.value.expected == first.stream_seq
    assert await stream_count(log_env) == 2


async def test_lost_ack_retried_returns_original_sequence(log_env: LogEnv) -> None:
    dropped: list[int] = []

    def drop_first_ack(subject: str, seq: int) -> None:
        if not dropped:
            dropped.append(seq)
            raise nats.errors.TimeoutError

    log = log_env.new_log(hooks=AppendHooks(after_store=drop_first_ack))
    ref = AggregateRef.case("c3")
    result = await log.append(ref, [ev(log_env), ev(log_env)], Head.genesis("c3"))
    assert result.already_written
    assert result.stream_seq == dropped[0]
    assert await stream_count(log_env) == 1


async def test_lost_ack_then_caller_retry_stores_nothing_new(log_env: LogEnv) -> None:
    def drop(subject: str, seq: int) -> None:
        raise nats.errors.TimeoutError

    failing = log_env.new_log(hooks=AppendHooks(after_store=drop), publish_attempts=1)
    ref = AggregateRef.case("c4")
    events = [ev(log_env)]
    with pytest.raises(nats.errors.TimeoutError):
        await failing.append(ref, events, Head.genesis("c4"))
    assert await stream_count(log_env) == 1
    retried = await log_env.log.append(ref, events, Head.genesis("c4"))
    assert retried.already_written
    assert await stream_count(log_env) == 1


async def test_reaction_rerun_after_crash_appends_nothing(log_env: LogEnv) -> None:
    """A handler that appended but crashed before its checkpoint runs again with the same input."""
    ref = AggregateRef.case("c5")
    cause = await log_env.log.append(ref, [ev(log_env, "PetitionReceived")], Head.genesis("c5"))
    cause_id = cause.events[0].event_id

    def reaction() -> list[NewEvent]:
        return [ev(log_env, "PetitionClassified", reaction_event_id(cause_id, "PetitionClassified"))]

    first = await log_env.log.append(ref, reaction(), cause.head)
    again = await log_env.log.append(ref, reaction(), cause.head)  # the re-run decides from the same state
    assert again.already_written and again.stream_seq == first.stream_seq
    assert await stream_count(log_env) == 2


async def test_commit_of_three_lands_whole(log_env: LogEnv) -> None:
    ref = AggregateRef.case("c6")
    result = await log_env.log.append(ref, [ev(log_env, i=i) for i in range(3)], Head.genesis("c6"))
    commits = [c async for c in log_env.log.read(ref)]
    assert len(commits) == 1 and len(commits[0].events) == 3
    assert commits[0].stream_seq == result.stream_seq
    # A stale commit of three lands not at all.
    with pytest.raises(ConcurrencyConflict):
        await log_env.log.append(ref, [ev(log_env, i=i) for i in range(3)], Head.genesis("c6"))
    assert len(await log_env.log.events(ref)) == 3


def _count_evolve(state: int, envelope: Envelope) -> int:
    return state + 1


async def test_racing_writers_both_succeed_and_chain_verifies(log_env: LogEnv) -> None:
    ref = AggregateRef.case("race")
    await log_env.log.append(ref, [ev(log_env)], Head.genesis("race"))
    other_nc = await connect_as(log_env.server, "routing")
    other = log_env.new_log(nc=other_nc)

    async def writer(log: EventLog, tag: str) -> None:
        for i in range(10):
            await log.execute(ref, _count_evolve, 0, lambda _state, i=i: [ev(log_env, writer=tag, i=i)], attempts=50)

    await asyncio.gather(writer(log_env.log, "a"), writer(other, "b"))
    events = await log_env.log.events(ref)
    assert len(events) == 21
    assert [e.seq for e in events] == list(range(1, 22))
    js = log_env.nc.jetstream()
    raw = [m async for m in subject_messages(js, log_env.settings.stream, ref.subject(log_env.settings.province))]
    report = verify_messages(raw)
    assert report.ok, [b.describe() for b in report.breaks]
    assert report.events == 21
    await other_nc.close()


async def test_append_records_the_trace_id_of_its_span(log_env: LogEnv) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        result = await log_env.log.append(AggregateRef.case("traced"), [ev(log_env)], Head.genesis("traced"))
        expected = format(span.get_span_context().trace_id, "032x")
    assert result.events[0].trace_id == expected
    assert trace.get_current_span().get_span_context().is_valid is False
