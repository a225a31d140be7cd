"""Positions, leases and dead letters in SQL: always written inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from casereg.projections.schema import dead_letters, leases, positions


def read_position(conn: sa.Connection, projection: str) -> int:
    row = conn.execute(sa.select(positions.c.stream_seq).where(positions.c.projection == projection)).first()
    return int(row[0]) if row else 0


def write_position(conn: sa.Connection, projection: str, stream_seq: int) -> None:
    now = datetime.now(UTC)
    updated = conn.execute(
        positions.update().where(positions.c.projection == projection).values(stream_seq=stream_seq, updated_at=now)
    )
    if updated.rowcount == 0:
        conn.execute(positions.insert().values(projection=projection, stream_seq=stream_seq, updated_at=now))


def lock_position(conn: sa.Connection, projection: str) -> int:
    """Read the position and hold it until the transaction ends (PostgreSQL row lock; SQLite holds the DB)."""
    if conn.dialect.name == "postgresql":
        if read_position(conn, projection) == 0:
            conn.execute(
                pg_insert(positions)
                .values(projection=projection, stream_seq=0, updated_at=datetime.now(UTC))
                .on_conflict_do_nothing()
            )
        row = conn.execute(
            sa.select(positions.c.stream_seq).where(positions.c.projection == projection).with_for_update()
        ).first()
        return int(row[0]) if row else 0
    return read_position(conn, projection)


def try_lease(
    conn: sa.Connection, projection: str, owner: str, ttl: float, holder_is_dead: Callable[[str], bool] | None = None
) -> bool:
    """Take or renew the projection's lease; False while another living owner holds an unexpired one.

    ``holder_is_dead`` lets a restarted process take over at once from a predecessor known to be gone.
    """
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl)
    row = conn.execute(sa.select(leases).where(leases.c.projection == projection).with_for_update()).first()
    if row is None:
        # FOR UPDATE locks nothing while the row does not exist: two instances may both try to create it.
        try:
            with conn.begin_nested():
                conn.execute(leases.insert().values(projection=projection, owner=owner, expires_at=expires))
        except sa.exc.IntegrityError:
            return False  # the other one created it first and holds the lease
        return True
    held_until = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if row.owner != owner and held_until > now and not (holder_is_dead and holder_is_dead(row.owner)):
        return False
    conn.execute(leases.update().where(leases.c.projection == projection).values(owner=owner, expires_at=expires))
    return True


def holds_lease(conn: sa.Connection, projection: str, owner: str) -> bool:
    row = conn.execute(sa.select(leases.c.owner).where(leases.c.projection == projection)).first()
    return row is not None and row[0] == owner


def release_lease(conn: sa.Connection, projection: str, owner: str) -> None:
    conn.execute(leases.delete().where(leases.c.projection == projection, leases.c.owner == owner))


def record_dead_letter(
    conn: sa.Connection, projection: str, stream_seq: int, subject: str, error: str, attempts: int
) -> None:
    conn.execute(
        dead_letters.insert().values(
            projection=projection,
            stream_seq=stream_seq,
            subject=subject,
            error=error[:4000],
            attempts=attempts,
            status="open",
            created_at=datetime.now(UTC),
        )
    )
