"""The event-log client: append with optimistic concurrency, read back, fold.

One decision = one JetStream message (a commit of one or more events) on the aggregate's subject. The append
carries ``Nats-Expected-Last-Subject-Sequence`` (the aggregate's last *stream* sequence; 0 = must not exist).
A "wrong last sequence" answer means either someone else wrote, or our own earlier attempt was stored and its
acknowledgement lost; the client tells them apart by looking for this call's event ids after the expected
sequence (DESIGN §2). Loading an aggregate uses ``next_by_subj`` message gets and never creates a consumer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import nats.errors
from nats.aio.client import Client as NATS
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from casereg.clock import Clock
from casereg.log.canonical import event_hash, genesis_hash
from casereg.log.commit import StoredCommit, encode_commit
from casereg.log.envelope import AggregateRef, Envelope
from casereg.log.errors import ConcurrencyConflict, LogError, RetriesExhausted
from casereg.log.events import EventRegistry, NewEvent
from casereg.log.raw import subject_messages

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("casereg.log")

WRONG_LAST_SEQUENCE = 10071
#: The same check failing on a message of an atomic batch (nats-server 2.15 answers with this code there).
WRONG_LAST_SEQUENCE_IN_BATCH = 10164
S = TypeVar("S")
T = TypeVar("T")


@dataclass(frozen=True)
class Head:
    """What an appender must know about an aggregate's last event to extend its chain."""

    stream_seq: int
    event_seq: int
    hash: str
    recorded_at: datetime | None

    @classmethod
    def genesis(cls, case_id: str) -> Head:
        return cls(stream_seq=0, event_seq=0, hash=genesis_hash(case_id), recorded_at=None)

    @classmethod
    def after(cls, commit: StoredCommit) -> Head:
        last = commit.last
        return cls(stream_seq=commit.stream_seq, event_seq=last.seq, hash=last.hash, recorded_at=last.recorded_at)


@dataclass(frozen=True)
class AppendResult:
    stream_seq: int
    events: tuple[Envelope, ...]
    head: Head
    #: True when an earlier attempt of this same append had already been stored (lost acknowledgement).
    already_written: bool = False


@dataclass(frozen=True)
class Aggregate(Generic[T]):
    """An aggregate's folded state and the head to append after it."""

    ref: AggregateRef
    state: T
    head: Head


@dataclass
class AppendHooks:
    """Fault injection for tests: ``after_store`` runs once the server stored the message, before the ack is used."""

    after_store: Callable[[str, int], None] | None = None


@dataclass
class EventLog:
    """Client of the registry's stream for one province."""

    nc: NATS
    province: str
    clock: Clock
    registry: EventRegistry = field(default_factory=EventRegistry)
    stream: str = "REG"
    publish_timeout: float = 5.0
    publish_attempts: int = 3
    max_inflight_batches: int = 32
    hooks: AppendHooks = field(default_factory=AppendHooks)

    def __post_init__(self) -> None:
        self.js: JetStreamContext = self.nc.jetstream(timeout=self.publish_timeout)
        self._batch_slots = asyncio.Semaphore(self.max_inflight_batches)

    # --- writing ------------------------------------------------------------------------------------------

    def seal_events(self, ref: AggregateRef, events: Sequence[NewEvent], head: Head) -> list[Envelope]:
        """Give pending events their place in the chain: seq, monotonic recorded_at, prev_hash and hash."""
        if not events:
            raise ValueError("an append needs at least one event")
        now = self.clock.now()
        recorded = max(now, head.recorded_at) if head.recorded_at else now
        trace_id = _current_trace_id()
        out: list[Envelope] = []
        prev, seq = head.hash, head.event_seq
        for ev in events:
            seq += 1
            body = {
                "event_id": ev.event_id,
                "case_id": ref.id,
                "type": ev.type,
                "schema_version": ev.schema_version,
                "seq": seq,
                "occurred_at": ev.occurred_at,
                "recorded_at": recorded,
                "actor": ev.actor,
                "causation_id": ev.causation_id,
                "correlation_id": ev.correlation_id or ev.causation_id or ev.event_id,
                "trace_id": trace_id,
                "payload": ev.payload,
                "prev_hash": prev,
                "hash": "",
            }
            draft = Envelope.model_validate(body)
            envelope = draft.model_copy(update={"hash": event_hash(draft.stored())})
            out.append(envelope)
            prev = envelope.hash
        return out

    async def append(self, ref: AggregateRef, events: Sequence[NewEvent], head: Head) -> AppendResult:
        """Append one decision atomically, or raise :class:`ConcurrencyConflict`."""
        attributes: dict[str, str | int] = {"casereg.aggregate": ref.kind, "casereg.events": len(events)}
        with _tracer.start_as_current_span("casereg.log.append", kind=SpanKind.PRODUCER, attributes=attributes):
            return await self._append(ref, events, head)

    async def _append(self, ref: AggregateRef, events: Sequence[NewEvent], head: Head) -> AppendResult:
        envelopes = self.seal_events(ref, events, head)
        subject = ref.subject(self.province)
        data = encode_commit(envelopes)
        headers = {
            "Nats-Msg-Id": envelopes[0].event_id,
            "Nats-Expected-Last-Subject-Sequence": str(head.stream_seq),
        }
        propagate.inject(headers)
        for attempt in range(1, self.publish_attempts + 1):
            try:
                ack = await self.js.publish(subject, data, headers=headers, stream=self.stream)
                if self.hooks.after_store is not None:
                    self.hooks.after_store(subject, ack.seq)
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                # The message may or may not be stored; retrying is safe (the sequence check runs first).
                if attempt == self.publish_attempts:
                    raise
                log.warning("append to %s timed out (attempt %d); retrying", subject, attempt)
                continue
            except APIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:
                    raise
                return await self._resolve_wrong_sequence(ref, subject, envelopes, head)
            result_head = Head(ack.seq, envelopes[-1].seq, envelopes[-1].hash, envelopes[-1].recorded_at)
            return AppendResult(stream_seq=ack.seq, events=tuple(envelopes), head=result_head)
        raise AssertionError("unreachable")

    async def _resolve_wrong_sequence(
        self, ref: AggregateRef, subject: str, envelopes: list[Envelope], head: Head
    ) -> AppendResult:
        own_id = envelopes[0].event_id
        last_seq: int | None = None
        async for commit in self._commits(subject, after=head.stream_seq):
            last_seq = commit.stream_seq
            if any(e.event_id == own_id for e in commit.events):
                return AppendResult(
                    stream_seq=commit.stream_seq,
                    events=commit.events,
                    head=Head.after(commit),
                    already_written=True,
                )
        raise ConcurrencyConflict(subject, head.stream_seq, last_seq)

    async def append_atomic(
        self, writes: Sequence[tuple[AggregateRef, Sequence[NewEvent], Head]]
    ) -> list[AppendResult]:
        """Several aggregates in one all-or-nothing JetStream atomic batch (rare: e.g. counter + new case).

        Each message carries its own expected last subject sequence; a mismatch rejects the whole batch.
        """
        sealed = [(ref, self.seal_events(ref, events, head), head) for ref, events, head in writes]
        # Unique per attempt: twins of one request (same event ids) may send at the same moment, and the server
        # would interleave two batches that share an id. De-duplication rests on the expected sequences.
        batch_id = uuid.uuid4().hex
        async with self._batch_slots:
            for attempt in range(1, 6):
                response = await self._send_batch(batch_id, sealed)
                error = response.get("error")
                if error is None:
                    break
                if "too many inflight" in str(error.get("description", "")).lower() and attempt < 5:
                    await asyncio.sleep(0.05 * 2**attempt)
                    continue
                if error.get("err_code") in (WRONG_LAST_SEQUENCE, WRONG_LAST_SEQUENCE_IN_BATCH):
                    return await self._resolve_wrong_batch(sealed)
                raise LogError(f"atomic batch rejected: {error}")
            else:
                raise RetriesExhausted("atomic batch: too many in flight")
        last_seq = int(response["seq"])
        first_seq = last_seq - len(sealed) + 1
        return [
            AppendResult(
                stream_seq=first_seq + i,
                events=tuple(envs),
                head=Head(first_seq + i, envs[-1].seq, envs[-1].hash, envs[-1].recorded_at),
            )
            for i, (_, envs, _) in enumerate(sealed)
        ]

    async def _send_batch(
        self, batch_id: str, sealed: list[tuple[AggregateRef, list[Envelope], Head]]
    ) -> dict[str, Any]:
        n = len(sealed)
        for i, (ref, envs, head) in enumerate(sealed, 1):
            headers = {
                "Nats-Batch-Id": batch_id,
                "Nats-Batch-Sequence": str(i),
                "Nats-Expected-Last-Subject-Sequence": str(head.stream_seq),
            }
            propagate.inject(headers)
            subject, data = ref.subject(self.province), encode_commit(envs)
            if i < n:
                await self.nc.publish(subject, data, headers=headers)
            else:
                headers["Nats-Batch-Commit"] = "1"
                msg = await self.nc.request(subject, data, headers=headers, timeout=self.publish_timeout)
                result: dict[str, Any] = json.loads(msg.data)
                return result
        raise ValueError("an atomic batch needs at least one write")

    async def _resolve_wrong_batch(self, sealed: list[tuple[AggregateRef, list[Envelope], Head]]) -> list[AppendResult]:
        results = []
        for ref, envs, head in sealed:
            results.append(await self._resolve_wrong_sequence(ref, ref.subject(self.province), envs, head))
        return results

    # --- reading ------------------------------------------------------------------------------------------

    async def _commits(self, subject: str, after: int = 0) -> AsyncIterator[StoredCommit]:
        """Messages of one subject after a stream sequence, from the stream leader, without a consumer."""
        async for raw in subject_messages(self.js, self.stream, subject, after=after):
            yield StoredCommit.decode(raw.stream_seq, raw.subject, parse_time_or_none(raw.time), raw.data)

    async def read(
        self, ref: AggregateRef, *, as_of: int | datetime | None = None, after: int = 0
    ) -> AsyncIterator[StoredCommit]:
        """Commits of one aggregate in order, stopping at a stream sequence or a ``recorded_at`` time."""
        async for commit in self._commits(ref.subject(self.province), after=after):
            if isinstance(as_of, int) and commit.stream_seq > as_of:
                return
            if isinstance(as_of, datetime):
                kept = tuple(e for e in commit.events if e.recorded_at <= as_of)
                if not kept:
                    return
                if len(kept) < len(commit.events):
                    yield StoredCommit(commit.stream_seq, commit.subject, commit.time, kept)
                    return
            yield commit

    async def last(self, ref: AggregateRef) -> StoredCommit | None:
        """The aggregate's last commit (one leader get, whatever its length), or None if it has none."""
        try:
            raw = await self.js.get_msg(self.stream, subject=ref.subject(self.province))
        except NotFoundError:
            return None
        assert raw.seq is not None and raw.subject is not None
        commit = StoredCommit.decode(raw.seq, raw.subject, parse_time_or_none(raw.time), raw.data or b"")
        return self.registry.upcast_commit(commit)

    async def events(self, ref: AggregateRef, *, as_of: int | datetime | None = None) -> list[Envelope]:
        """Every event of an aggregate (upcast to current versions) up to ``as_of``."""
        out: list[Envelope] = []
        async for commit in self.read(ref, as_of=as_of):
            out.extend(self.registry.upcast(e) for e in commit.events)
        return out

    async def load(
        self,
        ref: AggregateRef,
        evolve: Callable[[S, Envelope], S],
        initial: S,
        *,
        as_of: int | datetime | None = None,
        after: Aggregate[S] | None = None,
    ) -> Aggregate[S]:
        """Fold an aggregate; with ``after`` (a cached state) only newer commits are read."""
        state = after.state if after else initial
        head = after.head if after else Head.genesis(ref.id)
        async for commit in self.read(ref, as_of=as_of, after=head.stream_seq):
            for envelope in commit.events:
                state = evolve(state, self.registry.upcast(envelope))
            head = Head.after(commit)
        return Aggregate(ref=ref, state=state, head=head)

    async def execute(
        self,
        ref: AggregateRef,
        evolve: Callable[[S, Envelope], S],
        initial: S,
        decide: Callable[[S], Sequence[NewEvent]] | Callable[[S], Awaitable[Sequence[NewEvent]]],
        *,
        attempts: int = 5,
        cached: Aggregate[S] | None = None,
    ) -> AppendResult | None:
        """Load, decide, append; on a conflict re-read and re-decide (bounded). ``None`` when nothing to write."""
        aggregate = await self.load(ref, evolve, initial, after=cached)
        for attempt in range(1, attempts + 1):
            decided = decide(aggregate.state)
            events = await decided if isinstance(decided, Awaitable) else decided
            if not events:
                return None
            try:
                return await self.append(ref, events, aggregate.head)
            except ConcurrencyConflict:
                if attempt == attempts:
                    raise
                aggregate = await self.load(ref, evolve, initial, after=aggregate)
        raise AssertionError("unreachable")


def parse_time_or_none(value: object) -> datetime | None:
    """A server timestamp (a datetime, or RFC 3339 text with up to nanoseconds and Z or an offset) in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    found = _RFC3339.match(value)
    if found is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    whole, fraction, zone = found.groups()
    micro = ((fraction or "")[1:] + "000000")[:6]
    offset = "+00:00" if zone in (None, "", "Z", "z") else zone
    return datetime.fromisoformat(f"{whole}.{micro}{offset}").astimezone(UTC)


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)?$")


def _current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
