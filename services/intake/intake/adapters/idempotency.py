"""Idempotency keys of creating requests (the IETF Idempotency-Key draft), kept for good (authoritative table).

A request under a new key inserts an ``in_flight`` row and proceeds; when it is answered the caller stores the
status and body (:func:`complete`), so the same key and the same request replay that answer — after a restart
or days later. The same key with another request is a mismatch (422); the same key while the first request still
runs is a conflict (409), unless the in-flight row is older than the stale timeout: its request is taken to have
crashed and the new one takes the key over. A request refused with a 4xx gives its key back (:func:`abandon`).

Exactly one of many concurrent first requests wins: the winner is the one whose INSERT commits; the others hit
the primary key and read the row.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
import sqlalchemy as sa
from casereg.clock import Clock, SystemClock

metadata = sa.MetaData()

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("agency_code", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    info={"kind": "authoritative"},
)

IN_FLIGHT = "in_flight"
DONE = "done"
DEFAULT_STALE_AFTER = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
_SYSTEM = SystemClock()


class Outcome(enum.Enum):
    NEW = "new"  # the key is this request's now: proceed, then complete() or abandon()
    REPLAY = "replay"  # answered before with the same request: send the stored answer again
    MISMATCH = "mismatch"  # the key was used for another request: 422
    IN_FLIGHT = "in_flight"  # the first request under the key still runs: 409


@dataclass(frozen=True)
class Begun:
    outcome: Outcome
    #: The stored answer, for REPLAY only.
    status_code: int | None = None
    response_json: str | None = None


def fingerprint(operation: str, payload: Any) -> str:
    """The request hash of a command: SHA-256 over the operation name and the payload's canonical JSON (RFC 8785).

    Canonical, so the same request sent with other whitespace or key order (or over NATS instead of HTTP) matches.
    """
    digest = hashlib.sha256(operation.encode())
    digest.update(b"\n")
    digest.update(rfc8785.dumps(payload))
    return digest.hexdigest()


def _row_filter(agency: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(idempotency_keys.c.agency_code == agency, idempotency_keys.c.key == key)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def begin(
    engine: sa.Engine,
    agency: str,
    key: str,
    request_hash: str,
    *,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    clock: Clock = _SYSTEM,
) -> Begun:
    """Claim ``key`` for agency ``agency`` (its code) and this request, or say what was there."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")
    for _ in range(10):  # a row can vanish (abandoned) or be taken over between our INSERT and our read
        now = clock.now()
        try:
            with engine.begin() as conn:
                conn.execute(
                    idempotency_keys.insert().values(
                        agency_code=agency,
                        key=key,
                        request_hash=request_hash,
                        state=IN_FLIGHT,
                        created_at=now,
                        updated_at=now,
                    )
                )
            return Begun(Outcome.NEW)
        except sa.exc.IntegrityError:
            pass
        with engine.begin() as conn:
            row = conn.execute(sa.select(idempotency_keys).where(_row_filter(agency, key))).first()
            if row is None:
                continue
            if row.request_hash != request_hash:
                return Begun(Outcome.MISMATCH)
            if row.state == DONE:
                return Begun(Outcome.REPLAY, row.status_code, row.response)
            if _utc(row.updated_at) > now - stale_after:
                return Begun(Outcome.IN_FLIGHT)
            taken = conn.execute(
                idempotency_keys.update()
                .where(
                    _row_filter(agency, key),
                    idempotency_keys.c.state == IN_FLIGHT,
                    idempotency_keys.c.updated_at == row.updated_at,
                )
                .values(updated_at=now)
            )
            if taken.rowcount == 1:
                return Begun(Outcome.NEW)
    return Begun(Outcome.IN_FLIGHT)


def complete(
    engine: sa.Engine, agency: str, key: str, status_code: int, response_json: str, *, clock: Clock = _SYSTEM
) -> None:
    """Store the answer of the request that holds ``key``; later requests with the same hash replay it."""
    with engine.begin() as conn:
        done = conn.execute(
            idempotency_keys.update()
            .where(_row_filter(agency, key), idempotency_keys.c.state == IN_FLIGHT)
            .values(state=DONE, status_code=status_code, response=response_json, updated_at=clock.now())
        )
        if done.rowcount != 1:
            raise LookupError(f"no in-flight idempotency key {key!r} of agency {agency!r}")


def abandon(engine: sa.Engine, agency: str, key: str) -> None:
    """Give an in-flight key back (its request was refused with a 4xx), so the caller may use it again."""
    with engine.begin() as conn:
        conn.execute(idempotency_keys.delete().where(_row_filter(agency, key), idempotency_keys.c.state == IN_FLIGHT))
