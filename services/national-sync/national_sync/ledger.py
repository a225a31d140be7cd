"""The outbox ledger: events become national record versions in the transaction that moves the position.

``apply`` folds each event (``national_sync.domain.mapping``) against the stored fold state and, for every new
version, inserts an outbox row (``pending``), keyed by (kind, record id, version), with ``ON CONFLICT DO
NOTHING``. A rebuild replays into shadow tables and writes no outbox row: the outbox and its push state stay as
they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from casereg.log.canonical import canonical_bytes
from casereg.log.commit import StoredCommit
from casereg.projections.projection import ApplyContext, Projection

from national_sync.adapter import payload_sha256
from national_sync.domain.mapping import Tracked, Update, fold
from national_sync.tables import PENDING, TABLES, insert_for, national_state, outbox

NAME = "national-sync-ledger"


def payload_text(payload: dict[str, Any]) -> tuple[str, str]:
    """The payload as stored and pushed (canonical JSON) and its sha256 (what the national side reports)."""
    return canonical_bytes(payload).decode(), payload_sha256(payload)


def record_versions(conn: sa.Connection, rows: Iterable[tuple[str, str, int, dict[str, Any], int]]) -> None:
    """Insert outbox rows (kind, record id, version, payload, stream seq) unless they exist already."""
    now = datetime.now(UTC)
    for kind, record_id, version, payload, stream_seq in rows:
        text, digest = payload_text(payload)
        stmt = insert_for(conn, outbox).values(
            kind=kind,
            record_id=record_id,
            version=version,
            previous_version=version - 1,
            payload=text,
            payload_sha256=digest,
            stream_seq=stream_seq,
            state=PENDING,
            attempts=0,
            created_at=now,
        )
        conn.execute(stmt.on_conflict_do_nothing())


def _store(ctx: ApplyContext, update: Update, stream_seq: int) -> None:
    states = ctx.table("national_state")
    text = json.dumps(update.state, sort_keys=True, ensure_ascii=False)
    stmt = insert_for(ctx.conn, states).values(
        kind=update.kind, record_id=update.record_id, version=update.version, state=text
    )
    ctx.conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[states.c.kind, states.c.record_id], set_={"version": update.version, "state": text}
        )
    )
    # Only the live projection writes the outbox: a rebuild (or a replay) works on shadow copies of
    # national_state and stays behind the live position, so every version it finds is in the outbox already.
    if update.push and states is national_state:
        record_versions(ctx.conn, [(update.kind, update.record_id, update.version, update.state, stream_seq)])


def make_apply(province: str) -> Any:
    def apply(ctx: ApplyContext, commit: StoredCommit) -> None:
        states = ctx.table("national_state")

        def lookup(kind: str, record_id: str) -> Tracked | None:
            row = ctx.conn.execute(
                sa.select(states.c.version, states.c.state).where(
                    states.c.kind == kind, states.c.record_id == record_id
                )
            ).first()
            return Tracked(row.version, json.loads(row.state)) if row else None

        aggregate = commit.aggregate.kind
        for envelope in commit.events:
            for update in fold(lookup, aggregate, envelope, province):
                _store(ctx, update, commit.stream_seq)

    return apply


def ledger_projection(province: str) -> Projection:
    return Projection(
        NAME,
        [f"reg.{province}.case.*", f"reg.{province}.session.*"],
        TABLES,
        make_apply(province),
        description="National records' fold state; writes the outbox ledger (authoritative) in the same transaction",
        labels={"service": "national-sync"},
    )
