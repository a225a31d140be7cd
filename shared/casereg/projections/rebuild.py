"""Rebuild a projection from sequence 0 into shadow tables and swap them in atomically.

The live projection keeps running and serving reads meanwhile. The shadow catches up to the live position in
rounds; the last round and the swap happen in one transaction that holds the live position (SQLite: the write
lock; PostgreSQL: the position row), so the live runner resumes on the new tables exactly where it stopped.
Authoritative tables are never touched: a projection may only own rebuildable ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from nats.js.client import JetStreamContext

from casereg.log.commit import StoredCommit
from casereg.log.events import EventRegistry
from casereg.log.raw import RawMessage, last_sequence, replay
from casereg.projections.positions import lock_position, read_position
from casereg.projections.projection import ApplyContext, Projection


@dataclass(frozen=True)
class Progress:
    applied: int
    position: int
    target: int
    elapsed: float


ProgressFn = Callable[[Progress], None]


def shadow_tables(projection: Projection, suffix: str) -> dict[str, sa.Table]:
    """Copies of the projection's tables under new names; index and constraint names get the suffix too."""
    md = sa.MetaData()
    out: dict[str, sa.Table] = {}
    for table in projection.tables:
        copy = table.to_metadata(md, name=f"{table.name}__{suffix}")
        for index in copy.indexes:
            if index.name:
                index.name = sa.sql.quoted_name(f"{index.name}__{suffix}", None)
        for constraint in copy.constraints:
            if isinstance(constraint.name, str):
                constraint.name = sa.sql.quoted_name(f"{constraint.name}__{suffix}", None)
        out[table.name] = copy
    return out


def _decode(msg: RawMessage, registry: EventRegistry) -> StoredCommit:
    commit = StoredCommit.decode(msg.stream_seq, msg.subject, None, msg.data)
    return registry.upcast_commit(commit)


@dataclass
class Rebuild:
    projection: Projection
    engine: sa.Engine
    js: JetStreamContext
    stream: str
    registry: EventRegistry
    batch_size: int = 2000
    progress: ProgressFn | None = None

    def __post_init__(self) -> None:
        self.suffix = f"r{time.time_ns()}"
        self.shadow = shadow_tables(self.projection, self.suffix)
        self.position = 0
        self.applied = 0
        self._started = time.monotonic()

    def _apply(self, conn: sa.Connection, commits: list[StoredCommit]) -> None:
        self.projection.apply_all(ApplyContext(conn=conn, tables=self.shadow), commits)
        self.position = commits[-1].stream_seq
        self.applied += len(commits)

    def _report(self, target: int) -> None:
        if self.progress:
            self.progress(Progress(self.applied, self.position, target, time.monotonic() - self._started))

    async def _catch_up(self, target: int) -> None:
        batch: list[StoredCommit] = []
        async for msg in replay(
            self.js,
            self.stream,
            subjects=list(self.projection.subjects),
            start_seq=self.position + 1,
            stop_seq=target,
            batch=self.batch_size,
        ):
            batch.append(_decode(msg, self.registry))
            if len(batch) >= self.batch_size:
                with self.engine.begin() as conn:
                    self._apply(conn, batch)
                batch = []
                self._report(target)
        if batch:
            with self.engine.begin() as conn:
                self._apply(conn, batch)
        self.position = max(self.position, target)
        self._report(target)

    def _live_position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.projection.name)

    async def run(self, *, final_gap: int = 500, max_rounds: int = 20) -> int:
        """Rebuild and swap; returns the stream sequence the new tables are at."""
        with self.engine.begin() as conn:
            for table in self.shadow.values():
                table.create(conn)
        try:
            for _ in range(max_rounds):
                target = self._live_position()
                await self._catch_up(target)
                if self._live_position() - self.position <= final_gap:
                    break
            while True:
                # Fetch what the live projection may still apply, then swap under its lock.
                stream_last = await last_sequence(self.js, self.stream)
                pending = (
                    [
                        _decode(m, self.registry)
                        async for m in replay(
                            self.js,
                            self.stream,
                            subjects=list(self.projection.subjects),
                            start_seq=self.position + 1,
                            stop_seq=stream_last,
                        )
                    ]
                    if stream_last > self.position
                    else []
                )
                if self._swap(pending, stream_last):
                    return self.position
        except BaseException:
            with self.engine.begin() as conn:
                for table in self.shadow.values():
                    table.drop(conn, checkfirst=True)
            raise

    def _swap(self, pending: list[StoredCommit], fetched_to: int) -> bool:
        with self.engine.begin() as conn:
            live = lock_position(conn, self.projection.name)
            if live > fetched_to:
                return False  # the live runner moved past what we fetched: fetch again
            todo = [c for c in pending if self.position < c.stream_seq <= live]
            if todo:
                self._apply(conn, todo)
            if live < self.position:
                raise RuntimeError("shadow is ahead of the live projection; cannot swap")
            self.position = live
            for table in self.projection.tables:
                old = f"{table.name}__old_{self.suffix}"
                conn.execute(sa.text(f'ALTER TABLE "{table.name}" RENAME TO "{old}"'))
                conn.execute(sa.text(f'ALTER TABLE "{self.shadow[table.name].name}" RENAME TO "{table.name}"'))
                conn.execute(sa.text(f'DROP TABLE "{old}"'))
        return True
