"""The projection runner: a durable consumer per projection, applied in stream order, crash-safe.

For each fetched batch, one SQL transaction applies the events after the stored position and moves the position;
the batch is acknowledged only after that commit. A redelivered message at or below the position is skipped, so a
crash anywhere (before commit, after commit before ack, mid-batch) leaves the read model exact. A failing batch is
rolled back and replayed one message per transaction; a message that keeps failing is retried in place with
backoff and, after ``max_attempts``, its dead-letter row commits in the transaction that moves past it.
One instance per projection holds a lease row; every batch transaction checks it (fencing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import nats.errors
import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry import trace

from casereg.log.commit import StoredCommit
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import EventRegistry
from casereg.log.store import parse_time_or_none
from casereg.projections.positions import (
    lock_position,
    record_dead_letter,
    release_lease,
    try_lease,
    write_position,
)
from casereg.projections.projection import ApplyContext, Projection
from casereg.projections.watch import PositionWatch

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


def holder_is_dead(owner: str) -> bool:
    """A lease holder on this host whose process is gone (say, SIGKILLed and restarted by the supervisor)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseLost(RuntimeError):
    """Another instance took over this projection; stop writing."""


@dataclass
class RunnerHooks:
    """Fault-injection points for crash tests (called with the stream sequences concerned)."""

    after_apply: Callable[[int], None] | None = None  # inside the transaction, after one message
    before_commit: Callable[[Sequence[int]], None] | None = None
    after_commit: Callable[[Sequence[int]], None] | None = None  # committed, not yet acknowledged


@dataclass
class RunnerOptions:
    batch_size: int = 500
    max_attempts: int = 5
    backoff_base: float = 0.2
    backoff_cap: float = 10.0
    fetch_timeout: float = 1.0
    lease_ttl: float = 15.0
    conflict_retries: int = 100


def decode(msg: Msg, registry: EventRegistry) -> StoredCommit:
    meta = msg.metadata
    commit = StoredCommit.decode(meta.sequence.stream, msg.subject, parse_time_or_none(meta.timestamp), msg.data)
    return registry.upcast_commit(commit)


@dataclass
class ProjectionRunner:
    projection: Projection
    engine: sa.Engine
    js: JetStreamContext
    stream: str
    registry: EventRegistry = field(default_factory=EventRegistry)
    options: RunnerOptions = field(default_factory=RunnerOptions)
    hooks: RunnerHooks = field(default_factory=RunnerHooks)
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    watch: PositionWatch = field(default_factory=PositionWatch)

    def __post_init__(self) -> None:
        self.applied_position = 0
        self._last_delivery = 0
        self._tables = self.projection.live_tables()

    # --- SQL side (runs in a worker thread) ---------------------------------------------------------------

    def _apply_batch(self, commits: Sequence[StoredCommit | Exception], seqs: Sequence[int]) -> int:
        name = self.projection.name
        with self.engine.begin() as conn:
            if not try_lease(conn, name, self.owner, self.options.lease_ttl):
                raise LeaseLost(name)
            position = lock_position(conn, name)
            ctx = ApplyContext(conn=conn, tables=self._tables)
            todo: list[StoredCommit] = []
            for commit, seq in zip(commits, seqs, strict=True):
                if seq <= position:
                    continue  # redelivered after a crash: already applied
                if isinstance(commit, Exception):
                    raise commit
                todo.append(commit)
            with tracer.start_as_current_span(f"project {name}", attributes={"stream.seq.last": seqs[-1]}):
                if self.hooks.after_apply is None:
                    self.projection.apply_all(ctx, todo)
                else:  # crash tests need a point between two messages of one batch
                    for commit in todo:
                        self.projection.apply_all(ctx, [commit])
                        self.hooks.after_apply(commit.stream_seq)
            last = todo[-1].stream_seq if todo else position
            if last > position:
                write_position(conn, name, last)
            if self.hooks.before_commit:
                self.hooks.before_commit(seqs)
        if self.hooks.after_commit:
            self.hooks.after_commit(seqs)
        return max(last, position)

    def _dead_letter(self, seq: int, subject: str, error: BaseException, attempts: int) -> int:
        name = self.projection.name
        with self.engine.begin() as conn:
            if not try_lease(conn, name, self.owner, self.options.lease_ttl):
                raise LeaseLost(name)
            position = lock_position(conn, name)
            if seq <= position:
                return position
            record_dead_letter(conn, name, seq, subject, f"{type(error).__name__}: {error}", attempts)
            write_position(conn, name, seq)
        log.error("projection %s: stream seq %d dead-lettered after %d attempts", name, seq, attempts)
        return seq

    def _lease(self) -> bool:
        with self.engine.begin() as conn:
            return try_lease(conn, self.projection.name, self.owner, self.options.lease_ttl, holder_is_dead)

    def _release(self) -> None:
        with self.engine.begin() as conn:
            release_lease(conn, self.projection.name, self.owner)

    def _position(self) -> int:
        with self.engine.begin() as conn:
            return lock_position(conn, self.projection.name)

    # --- NATS side ----------------------------------------------------------------------------------------

    async def _react(self, commit: StoredCommit | Exception) -> None:
        if self.projection.react is None or isinstance(commit, Exception):
            return
        for _ in range(self.options.conflict_retries):
            try:
                await self.projection.react(commit)
                return
            except ConcurrencyConflict:
                continue  # someone else wrote first: re-decide; never a failure
        raise RuntimeError(f"{self.projection.name}: gave up after {self.options.conflict_retries} conflicts")

    async def _process(self, msgs: list[Msg]) -> None:
        seqs = [m.metadata.sequence.stream for m in msgs]
        commits: list[StoredCommit | Exception] = []
        for m in msgs:
            try:
                commits.append(decode(m, self.registry))
            except Exception as exc:  # a message we cannot read is a poison like any other
                commits.append(exc)
        try:
            for seq, commit in zip(seqs, commits, strict=True):
                if seq > self.applied_position:
                    await self._react(commit)
            self.applied_position = await asyncio.to_thread(self._apply_batch, commits, seqs)
        except LeaseLost:
            raise
        except Exception:
            log.warning("projection %s: batch %d..%d failed; isolating", self.projection.name, seqs[0], seqs[-1])
            for msg, seq, commit in zip(msgs, seqs, commits, strict=True):
                await self._process_one(msg, seq, commit)
        await msgs[-1].ack()  # AckPolicy.ALL: acknowledges the whole batch, after the commit
        self.watch.advance(self.applied_position)

    async def _process_one(self, msg: Msg, seq: int, commit: StoredCommit | Exception) -> None:
        attempt = 0
        while True:
            try:
                if seq > self.applied_position:
                    await self._react(commit)
                self.applied_position = await asyncio.to_thread(self._apply_batch, [commit], [seq])
                return
            except LeaseLost:
                raise
            except Exception as exc:
                attempt += 1
                if attempt >= self.options.max_attempts:
                    self.applied_position = await asyncio.to_thread(self._dead_letter, seq, msg.subject, exc, attempt)
                    return
                delay = min(self.options.backoff_cap, self.options.backoff_base * 2 ** (attempt - 1))
                log.warning(
                    "projection %s: seq %d failed (attempt %d/%d): %s; retrying in %.1fs",
                    self.projection.name,
                    seq,
                    attempt,
                    self.options.max_attempts,
                    type(exc).__name__,
                    delay,
                )
                with contextlib.suppress(Exception):
                    await msg.in_progress()
                await asyncio.sleep(delay)

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        """(Re)create the durable consumer at the SQL position + 1: the database, not the consumer, is the truth.

        A consumer left from before a crash would hand out the messages after the unacknowledged batch first
        and let the position skip it, so it is always recreated from the stored position.
        """
        name = self.projection.consumer_name
        position = await asyncio.to_thread(self._position)
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(self.stream, name)
        await self.js.add_consumer(
            self.stream,
            ConsumerConfig(
                durable_name=name,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=position + 1,
                ack_policy=AckPolicy.ALL,
                ack_wait=60.0,
                max_deliver=-1,
                max_ack_pending=self.options.batch_size * 2,
                filter_subjects=list(self.projection.subjects),
            ),
        )
        self.applied_position = position
        self.watch.advance(position)
        self._last_delivery = 0
        return await self.js.pull_subscribe_bind(durable=name, stream=self.stream)

    def _in_sequence(self, msgs: list[Msg]) -> bool:
        """Deliveries must follow one another; a gap or a redelivery means the cursor lost its place."""
        for m in msgs:
            delivery = m.metadata.sequence.consumer
            if delivery != self._last_delivery + 1:
                return False
            self._last_delivery = delivery
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Hold the lease and project until ``stop`` is set."""
        while not await asyncio.to_thread(self._lease):
            log.info("projection %s: another instance holds the lease; waiting", self.projection.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.options.lease_ttl / 3)
            if stop.is_set():
                return
        sub = await self._subscribe()
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.options.batch_size, timeout=self.options.fetch_timeout)
                except (nats.errors.TimeoutError, TimeoutError):
                    await asyncio.to_thread(self._lease)  # idle: keep the lease alive
                    continue
                if not msgs:
                    continue
                if not self._in_sequence(msgs):
                    log.warning("projection %s: delivery out of sequence; resubscribing", self.projection.name)
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
                    sub = await self._subscribe()
                    continue
                await self._process(msgs)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._release)
