"""Reading as of a moment, upcasting, and verify on exported copies (issue 3)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any, ClassVar

from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import DomainEvent, EventRegistry, NewEvent
from casereg.log.export import read_export, write_export
from casereg.log.raw import RawMessage, replay, subject_messages
from casereg.log.store import Head
from casereg.log.verify import BreakReason, verify_messages

from tests.log.conftest import LogEnv


def ev(env: LogEnv, kind: str = "NoteAdded", version: int = 1, **payload: Any) -> NewEvent:
    return NewEvent(new_event_id(), kind, version, dict(payload), env.clock.now(), Actor(officer="o1"))


async def write_case(env: LogEnv, case_id: str, commits: int) -> list[int]:
    ref, head, seqs = AggregateRef.case(case_id), Head.genesis(case_id), []
    for i in range(commits):
        env.clock.advance(timedelta(minutes=1))
        result = await env.log.append(ref, [ev(env, n=i)], head)
        head = result.head
        seqs.append(result.stream_seq)
    return seqs


async def test_read_as_of_sequence_and_time(log_env: LogEnv) -> None:
    seqs = await write_case(log_env, "a1", 3)
    await write_case(log_env, "other", 2)
    more = await write_case(log_env, "a1", 0)
    assert more == []
    ref = AggregateRef.case("a1")
    everything = await log_env.log.events(ref)
    assert [e.payload["n"] for e in await log_env.log.events(ref, as_of=seqs[1])] == [0, 1]
    at = everything[1].recorded_at
    assert [e.payload["n"] for e in await log_env.log.events(ref, as_of=at)] == [0, 1]
    assert await log_env.log.events(ref, as_of=everything[0].recorded_at - timedelta(seconds=1)) == []
    assert len(await log_env.log.events(ref, as_of=seqs[2] + 100)) == 3


class NoteAddedV2(DomainEvent):
    event_type: ClassVar[str] = "NoteAdded"
    schema_version: ClassVar[int] = 2
    text: str
    author: str


def upcast_note_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return {"text": payload["note"], "author": "unknown"}


async def test_upcast_reads_new_version_while_verify_passes(log_env: LogEnv) -> None:
    ref = AggregateRef.case("up1")
    await log_env.log.append(ref, [ev(log_env, "NoteAdded", 1, note="old shape")], Head.genesis("up1"))
    registry = EventRegistry([NoteAddedV2], upcasters=[("NoteAdded", 1, upcast_note_v1)])
    reader = log_env.new_log(registry=registry)
    (envelope,) = await reader.events(ref)
    assert envelope.schema_version == 2
    assert registry.decode(envelope) == NoteAddedV2(text="old shape", author="unknown")
    raw = [
        m
        async for m in subject_messages(
            log_env.nc.jetstream(), log_env.settings.stream, ref.subject(log_env.settings.province)
        )
    ]
    assert json.loads(raw[0].data)["events"][0]["schema_version"] == 1
    assert verify_messages(raw).ok


async def exported(env: LogEnv, *case_ids: str) -> list[RawMessage]:
    subjects = [AggregateRef.case(c).subject(env.settings.province) for c in case_ids]
    buf = io.StringIO()
    write_export([m async for m in replay(env.nc.jetstream(), env.settings.stream, subjects=subjects)], buf)
    return list(read_export(buf.getvalue().splitlines()))


def edit_event(msg: RawMessage, index: int, change: dict[str, Any]) -> RawMessage:
    body = json.loads(msg.data)
    body["events"][index].update(change)
    return RawMessage(msg.stream_seq, msg.subject, json.dumps(body).encode(), msg.time)


async def test_verify_reports_each_kind_of_tampering(log_env: LogEnv) -> None:
    await write_case(log_env, "v1", 5)
    await write_case(log_env, "v2", 2)
    copy = await exported(log_env, "v1", "v2")
    assert verify_messages(copy).ok
    v1 = [m for m in copy if m.subject.endswith(".v1")]
    v2 = [m for m in copy if m.subject.endswith(".v2")]

    changed = [edit_event(v1[0], 0, {"payload": {"n": 99}}), *v1[1:]]
    report = verify_messages(changed)
    assert [(b.reason, b.stream_seq) for b in report.breaks] == [(BreakReason.CHANGED, v1[0].stream_seq)]

    swapped = [v1[0], v1[2], v1[1], *v1[3:]]
    (brk,) = verify_messages(swapped).breaks
    assert brk.reason == BreakReason.REORDERED and brk.stream_seq == v1[2].stream_seq

    foreign = [*v1[:2], RawMessage(v2[0].stream_seq, v1[0].subject, v2[0].data), *v1[2:]]
    (brk,) = verify_messages(foreign).breaks
    assert brk.reason == BreakReason.FOREIGN and brk.stream_seq == v2[0].stream_seq

    removed = [v1[0], v1[1], v1[3], v1[4]]
    (brk,) = verify_messages(removed).breaks
    assert brk.reason == BreakReason.MISSING and brk.stream_seq == v1[3].stream_seq
    assert "seq 3..3" in brk.describe()


async def test_last_commit_of_an_aggregate(log_env: LogEnv) -> None:
    seqs = await write_case(log_env, "l1", 3)
    await write_case(log_env, "l2", 1)
    last = await log_env.log.last(AggregateRef.case("l1"))
    assert last is not None and last.stream_seq == seqs[-1] and last.last.seq == 3
    assert await log_env.log.last(AggregateRef.case("none")) is None
