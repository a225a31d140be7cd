"""The pushers: N workers send the outbox ledger to the national side, strictly in order per record.

A dispatcher hands out records (kind, record id) that have a due ``pending`` row; a record is held by one worker
at a time (and one process at a time: the ``national-sync-pusher`` lease). The worker pushes the record's lowest
version not yet pushed and records the answer in SQL *after* the push returns, so a crash in between only means
the same version is pushed again, which the national side acknowledges as a duplicate (idempotency key).

- accepted: the row is ``pushed``;
- conflict (the national side holds ``held_version``): if it holds this version or later, every row up to it is
  ``pushed``; otherwise the rows after ``held`` go back to ``pending`` and are pushed again from ``held + 1``;
- rejected: the row is ``rejected`` and the record stops there until ``casereg sync retry``;
- unavailable: the failure is recorded and the record's unpushed rows wait (``next_attempt_at``, doubling).

When idle the dispatcher looks at the ledger every ``poll_interval`` seconds, or at once when ``ledger`` (the
ledger projection's :class:`~casereg.projections.watch.PositionWatch`, in the same process) moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from casereg.projections.positions import release_lease, try_lease
from casereg.projections.runner import holder_is_dead
from casereg.projections.watch import PositionWatch
from opentelemetry import trace

from national_sync.adapter import NationalAdapter, NationalUnavailable, PushOutcome, PushRecord, PushResult
from national_sync.tables import PENDING, PUSHED, REJECTED, outbox

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

LEASE = "national-sync-pusher"
RecordKey = tuple[str, str]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _of(key: RecordKey) -> sa.ColumnElement[bool]:
    return sa.and_(outbox.c.kind == key[0], outbox.c.record_id == key[1])


@dataclass(frozen=True)
class Row:
    kind: str
    record_id: str
    version: int
    state: str
    attempts: int
    payload: str


@dataclass
class Pusher:
    engine: sa.Engine
    adapter: NationalAdapter
    workers: int = 8
    poll_interval: float = 0.5
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    lease_ttl: float = 15.0
    now: Callable[[], datetime] = utcnow
    #: The ledger projection's position in this process: new outbox rows wake an idle dispatcher at once.
    ledger: PositionWatch | None = None
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    # --- SQL (worker threads) -------------------------------------------------------------------------------

    def _lease(self) -> bool:
        with self.engine.begin() as conn:
            return try_lease(conn, LEASE, self.owner, self.lease_ttl, holder_is_dead)

    def _release(self) -> None:
        with self.engine.begin() as conn:
            release_lease(conn, LEASE, self.owner)

    def due(self, limit: int) -> list[RecordKey]:
        """Records with a pending row due now and no rejected row before it, oldest first."""
        now = self.now()
        blocked = outbox.alias("blocked")
        query = (
            sa.select(outbox.c.kind, outbox.c.record_id)
            .where(
                outbox.c.state == PENDING,
                sa.or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
                ~sa.exists().where(
                    blocked.c.kind == outbox.c.kind,
                    blocked.c.record_id == outbox.c.record_id,
                    blocked.c.state == REJECTED,
                    blocked.c.version < outbox.c.version,
                ),
            )
            .group_by(outbox.c.kind, outbox.c.record_id)
            .order_by(sa.func.min(outbox.c.stream_seq))
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(r.kind, r.record_id) for r in conn.execute(query)]

    def _next(self, key: RecordKey) -> Row | None:
        """The record's lowest version not pushed, when it may be pushed now."""
        query = sa.select(outbox).where(_of(key), outbox.c.state != PUSHED).order_by(outbox.c.version).limit(1)
        with self.engine.connect() as conn:
            r = conn.execute(query).first()
        if r is None or r.state == REJECTED:
            return None
        if r.next_attempt_at is not None:
            due = r.next_attempt_at if r.next_attempt_at.tzinfo else r.next_attempt_at.replace(tzinfo=UTC)
            if due > self.now():
                return None
        return Row(r.kind, r.record_id, r.version, r.state, r.attempts, r.payload)

    def _settle(self, row: Row, result: PushResult) -> None:
        key, now = (row.kind, row.record_id), self.now()
        this = sa.and_(_of(key), outbox.c.version == row.version)
        done = {"state": PUSHED, "pushed_at": now, "last_error": None, "next_attempt_at": None}
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(this).values(attempts=outbox.c.attempts + 1))
            if result.outcome == PushOutcome.ACCEPTED:
                conn.execute(outbox.update().where(this).values(**done))
            elif result.outcome == PushOutcome.REJECTED:
                conn.execute(outbox.update().where(this).values(state=REJECTED, last_error=result.detail[:500]))
            else:
                held = result.held_version or 0
                upto = outbox.update().where(_of(key), outbox.c.version <= held, outbox.c.state != PUSHED)
                conn.execute(upto.values(**done))
                if held < row.version:
                    after = outbox.update().where(_of(key), outbox.c.version > held)
                    conn.execute(after.values(state=PENDING, pushed_at=None, next_attempt_at=None))

    def _failed(self, row: Row, error: str) -> None:
        """Record the failure on the row; the record's unpushed rows all wait for the next attempt."""
        attempts = row.attempts + 1
        delay = min(self.backoff_max, self.backoff_initial * 2 ** min(attempts - 1, 30))
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(_of((row.kind, row.record_id)), outbox.c.version == row.version)
                .values(attempts=attempts, last_error=error[:500])
            )
            conn.execute(
                outbox.update()
                .where(_of((row.kind, row.record_id)), outbox.c.state == PENDING)
                .values(next_attempt_at=self.now() + timedelta(seconds=delay))
            )

    # --- pushing ----------------------------------------------------------------------------------------------

    async def push_record(self, key: RecordKey) -> None:
        """Push the record's versions in order until none is due, one fails, or the national side refuses one."""
        for _ in range(10_000):  # bounded: a national side answering nonsense must not spin a worker forever
            row = await asyncio.to_thread(self._next, key)
            if row is None:
                return
            record = PushRecord(row.kind, row.record_id, row.version, row.version - 1, json.loads(row.payload))
            with tracer.start_as_current_span("national-sync push", attributes={"national.kind": row.kind}):
                try:
                    result = await self.adapter.push(record)
                except NationalUnavailable as exc:
                    log.warning("push %s v%d failed: %s", row.kind, row.version, exc)
                    await asyncio.to_thread(self._failed, row, str(exc))
                    return
            if result.outcome == PushOutcome.CONFLICT and (result.held_version or 0) == row.version - 1:
                # The national side says it holds exactly what this version follows: not a state we can fix.
                await asyncio.to_thread(self._failed, row, f"conflict: {result.detail}")
                return
            await asyncio.to_thread(self._settle, row, result)
            if result.outcome == PushOutcome.REJECTED:
                log.error("push %s v%d rejected: %s", row.kind, row.version, result.detail)
                return

    async def _idle(self, stop: asyncio.Event, seen: int) -> None:
        """Until the poll interval passes, ``stop`` is set, or the ledger moves past ``seen``."""
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
        if self.ledger is not None:
            waits.append(asyncio.ensure_future(self.ledger.wait_for(seen + 1, self.poll_interval)))
        _, pending = await asyncio.wait(waits, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Hold the lease and push until ``stop`` is set."""
        while not await asyncio.to_thread(self._lease):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.lease_ttl / 3)
            if stop.is_set():
                return
        queue: asyncio.Queue[RecordKey] = asyncio.Queue(maxsize=self.workers)  # claims stay fresh
        claimed: set[RecordKey] = set()

        async def work() -> None:
            while True:
                key = await queue.get()
                try:
                    await self.push_record(key)
                except Exception:
                    log.exception("pusher: record %s failed unexpectedly", key[0])
                finally:
                    claimed.discard(key)
                    queue.task_done()

        tasks = [asyncio.create_task(work(), name=f"national-pusher-{i}") for i in range(self.workers)]
        renewed = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() - renewed > self.lease_ttl / 3:
                        if not await asyncio.to_thread(self._lease):
                            log.warning("pusher: lease lost; waiting")
                            await asyncio.wait_for(stop.wait(), self.lease_ttl / 3)
                            continue
                        renewed = time.monotonic()
                    seen = self.ledger.position if self.ledger is not None else 0
                    found = await asyncio.to_thread(self.due, self.workers * 4 + len(claimed))
                    fresh = [k for k in found if k not in claimed]
                    for key in fresh:
                        claimed.add(key)
                        await queue.put(key)
                    if fresh:
                        continue
                    await self._idle(stop, seen)
                except TimeoutError:
                    continue
                except Exception:  # the database away for a moment: keep the service alive and try again
                    log.exception("pusher: dispatch failed; retrying")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_interval)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._release)
