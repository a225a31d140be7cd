"""Dead letters: list, show, and retry one after the fix (``casereg deadletter``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from nats.js.client import JetStreamContext

from casereg.log.commit import StoredCommit
from casereg.log.events import EventRegistry
from casereg.log.store import parse_time_or_none
from casereg.projections.projection import ApplyContext, Projection
from casereg.projections.schema import dead_letters


@dataclass(frozen=True)
class DeadLetter:
    id: int
    projection: str
    stream_seq: int
    subject: str
    error: str
    attempts: int
    status: str
    created_at: datetime
    resolved_at: datetime | None


def list_dead_letters(
    engine: sa.Engine, *, projection: str | None = None, status: str | None = "open"
) -> list[DeadLetter]:
    query = sa.select(dead_letters).order_by(dead_letters.c.id)
    if projection:
        query = query.where(dead_letters.c.projection == projection)
    if status:
        query = query.where(dead_letters.c.status == status)
    with engine.connect() as conn:
        return [DeadLetter(**row._mapping) for row in conn.execute(query)]


def get_dead_letter(engine: sa.Engine, dead_letter_id: int) -> DeadLetter:
    with engine.connect() as conn:
        row = conn.execute(sa.select(dead_letters).where(dead_letters.c.id == dead_letter_id)).first()
    if row is None:
        raise LookupError(f"no dead letter {dead_letter_id}")
    return DeadLetter(**row._mapping)


async def retry_dead_letter(
    engine: sa.Engine,
    js: JetStreamContext,
    stream: str,
    projection: Projection,
    dead_letter_id: int,
    registry: EventRegistry | None = None,
) -> DeadLetter:
    """Apply the dead-lettered event now (after a fix) and mark it retried, in one transaction.

    On failure nothing changes and the error propagates; the row stays open.
    """
    letter = get_dead_letter(engine, dead_letter_id)
    if letter.projection != projection.name:
        raise ValueError(f"dead letter {dead_letter_id} belongs to projection {letter.projection}")
    if letter.status != "open":
        raise ValueError(f"dead letter {dead_letter_id} is {letter.status}, not open")
    raw = await js.get_msg(stream, seq=letter.stream_seq)
    commit = StoredCommit.decode(
        letter.stream_seq, raw.subject or letter.subject, parse_time_or_none(raw.time), raw.data or b""
    )
    if registry is not None:
        commit = registry.upcast_commit(commit)
    if projection.react is not None:
        await projection.react(commit)
    with engine.begin() as conn:
        projection.apply_all(ApplyContext(conn=conn, tables=projection.live_tables()), [commit])
        conn.execute(
            dead_letters.update()
            .where(dead_letters.c.id == dead_letter_id)
            .values(status="retried", resolved_at=datetime.now(UTC))
        )
    return get_dead_letter(engine, dead_letter_id)
