"""The simulator's storage: every accepted version in arrival order, plus each record's head (SQLite, SQLAlchemy Core).

The invariant counters are computed from the arrival log, which has no uniqueness constraint on purpose: a version
accepted twice, or out of order, would be stored and counted rather than silently refused by the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from casereg.db import create_engine
from casereg.log.canonical import canonical_bytes

from national_sync.adapter import payload_sha256

metadata = sa.MetaData()

received = sa.Table(
    "received",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("province", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("record_id", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("previous_version", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String, nullable=False),
    sa.Column("traceparent", sa.String, nullable=False, server_default=""),
    sa.Column("received_at", sa.String, nullable=False),
    sa.Index("received_record", "province", "kind", "record_id", "version"),
)

heads = sa.Table(
    "heads",
    metadata,
    sa.Column("province", sa.String, primary_key=True),
    sa.Column("kind", sa.String, primary_key=True),
    sa.Column("record_id", sa.String, primary_key=True),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
)


class PutStatus(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class PutResult:
    status: PutStatus
    held_version: int


@dataclass(frozen=True)
class Version:
    province: str
    kind: str
    record_id: str
    version: int
    previous_version: int
    payload: Any
    idempotency_key: str
    traceparent: str = ""


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{path.resolve()}")
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def put(self, v: Version) -> PutResult:
        """Store ``v`` if it follows the held head exactly; a same-content repeat is a duplicate; else a conflict."""
        sha = payload_sha256(v.payload)
        key = (heads.c.province == v.province) & (heads.c.kind == v.kind) & (heads.c.record_id == v.record_id)
        with self.engine.begin() as conn:
            head = conn.execute(sa.select(heads.c.latest_version).where(key)).scalar_one_or_none()
            held = head or 0
            if v.version <= held:
                same = conn.execute(
                    sa.select(received.c.payload_sha256).where(
                        received.c.province == v.province,
                        received.c.kind == v.kind,
                        received.c.record_id == v.record_id,
                        received.c.version == v.version,
                    )
                ).first()
                status = PutStatus.DUPLICATE if same is not None and same[0] == sha else PutStatus.CONFLICT
                return PutResult(status, held)
            if v.previous_version != held:
                return PutResult(PutStatus.CONFLICT, held)
            conn.execute(
                received.insert().values(
                    province=v.province,
                    kind=v.kind,
                    record_id=v.record_id,
                    version=v.version,
                    previous_version=v.previous_version,
                    payload=canonical_bytes(v.payload).decode(),
                    payload_sha256=sha,
                    idempotency_key=v.idempotency_key,
                    traceparent=v.traceparent,
                    received_at=datetime.now(UTC).isoformat(),
                )
            )
            if head is None:
                conn.execute(
                    heads.insert().values(
                        province=v.province,
                        kind=v.kind,
                        record_id=v.record_id,
                        latest_version=v.version,
                        payload_sha256=sha,
                    )
                )
            else:
                conn.execute(heads.update().where(key).values(latest_version=v.version, payload_sha256=sha))
        return PutResult(PutStatus.STORED, v.version)

    def holdings(
        self, province: str, kind: str | None, after: tuple[str, str] | None, limit: int
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """One page of heads ordered by (kind, record_id), and the cursor of the next page (None at the end)."""
        query = sa.select(heads.c.kind, heads.c.record_id, heads.c.latest_version, heads.c.payload_sha256).where(
            heads.c.province == province
        )
        if kind is not None:
            query = query.where(heads.c.kind == kind)
        if after is not None:
            query = query.where(sa.tuple_(heads.c.kind, heads.c.record_id) > sa.tuple_(*after))
        query = query.order_by(heads.c.kind, heads.c.record_id).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, ((rows[-1]["kind"], rows[-1]["record_id"]) if more else None)

    def versions(self, province: str, kind: str, record_id: str) -> list[dict[str, Any]]:
        """Every version held of one record, in arrival order."""
        query = (
            sa.select(
                received.c.version,
                received.c.previous_version,
                received.c.payload,
                received.c.payload_sha256,
                received.c.idempotency_key,
                received.c.traceparent,
                received.c.received_at,
            )
            .where(received.c.province == province, received.c.kind == kind, received.c.record_id == record_id)
            .order_by(received.c.seq)
        )
        with self.engine.connect() as conn:
            return [{**r._mapping, "payload": json.loads(r.payload)} for r in conn.execute(query)]

    def invariants(self) -> dict[str, int]:
        """Accepted versions that did not follow their predecessor, and versions accepted more than once."""
        record = (received.c.province, received.c.kind, received.c.record_id)
        previous = sa.func.lag(received.c.version).over(partition_by=record, order_by=received.c.seq)
        steps = sa.select(received.c.version.label("version"), previous.label("previous")).subquery()
        out_of_order = sa.select(sa.func.count()).where(steps.c.version != sa.func.coalesce(steps.c.previous, 0) + 1)
        distinct = sa.select(*record, received.c.version).distinct().subquery()
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(received)).scalar_one()
            unique = conn.execute(sa.select(sa.func.count()).select_from(distinct)).scalar_one()
            wrong = conn.execute(out_of_order.select_from(steps)).scalar_one()
        return {"accepted_out_of_order": wrong, "accepted_repeated": total - unique}

    def counts(self) -> dict[str, dict[str, int]]:
        """Records and versions held, per kind (all provinces)."""
        with self.engine.connect() as conn:
            records = conn.execute(sa.select(heads.c.kind, sa.func.count()).group_by(heads.c.kind)).all()
            versions = conn.execute(sa.select(received.c.kind, sa.func.count()).group_by(received.c.kind)).all()
        return {"records": {k: n for k, n in records}, "versions": {k: n for k, n in versions}}
