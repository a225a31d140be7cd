"""What ``casereg sync status`` and ``casereg sync retry`` read and change in the ledger."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from casereg.log.raw import last_sequence
from casereg.projections.positions import read_position
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from national_sync.ledger import NAME
from national_sync.seals import POSITION as SEALS_POSITION
from national_sync.tables import PENDING, PUSHED, REJECTED, outbox


@dataclass(frozen=True)
class LedgerStatus:
    pushed: int
    backlog: int  # pending rows
    failing: int  # pending rows whose last push failed
    rejected: int
    oldest_pending_age_s: float | None
    last_error: str | None
    position: int
    seals_position: int


@dataclass(frozen=True)
class Lag:
    stream_last: int | None
    consumer_pending: int | None  # events of the ledger's subjects not yet applied
    seals_last: int | None


def ledger_status(engine: sa.Engine, now: datetime | None = None) -> LedgerStatus:
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        counts: dict[str, int] = {
            str(state): int(n)
            for state, n in conn.execute(sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state))
        }
        failing = conn.execute(
            sa.select(sa.func.count()).where(outbox.c.state == PENDING, outbox.c.last_error.is_not(None))
        ).scalar_one()
        oldest = conn.execute(sa.select(sa.func.min(outbox.c.created_at)).where(outbox.c.state == PENDING)).scalar()
        error = conn.execute(
            sa.select(outbox.c.last_error)
            .where(outbox.c.state != PUSHED, outbox.c.last_error.is_not(None))
            .order_by(outbox.c.created_at.desc())
            .limit(1)
        ).scalar()
        position, seals = read_position(conn, NAME), read_position(conn, SEALS_POSITION)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return LedgerStatus(
        pushed=int(counts.get(PUSHED, 0)),
        backlog=int(counts.get(PENDING, 0)),
        failing=int(failing),
        rejected=int(counts.get(REJECTED, 0)),
        oldest_pending_age_s=round((now - oldest).total_seconds(), 3) if oldest is not None else None,
        last_error=error,
        position=position,
        seals_position=seals,
    )


async def lag(js: JetStreamContext, stream: str, seals_stream: str, consumer: str) -> Lag:
    async def last(name: str) -> int | None:
        try:
            return await last_sequence(js, name)
        except NotFoundError:
            return None

    try:
        pending: int | None = int((await js.consumer_info(stream, consumer)).num_pending or 0)
    except NotFoundError:
        pending = None
    return Lag(stream_last=await last(stream), consumer_pending=pending, seals_last=await last(seals_stream))


def as_json(status: LedgerStatus, lag_: Lag | None) -> dict[str, Any]:
    return {"ledger": asdict(status), "lag": asdict(lag_) if lag_ else None}


def retry(engine: sa.Engine, kind: str | None = None, record_id: str | None = None) -> int:
    """Rejected rows back to pending and failed rows due now; returns how many rows changed."""
    where = [outbox.c.state != PUSHED]
    if kind:
        where.append(outbox.c.kind == kind)
    if record_id:
        where.append(outbox.c.record_id == record_id)
    stuck = sa.or_(outbox.c.state == REJECTED, outbox.c.next_attempt_at.is_not(None))
    with engine.begin() as conn:
        done = conn.execute(outbox.update().where(*where, stuck).values(state=PENDING, next_attempt_at=None))
    return int(done.rowcount)
