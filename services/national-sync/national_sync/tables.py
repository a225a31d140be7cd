"""National sync's tables: the records' fold state (rebuildable) and the outbox ledger (authoritative).

``national_state`` is derived from the log alone and may be rebuilt (``casereg rebuild national-sync-ledger``).
``national_outbox`` holds what was and is to be pushed, with its push state: a rebuild neither drops nor writes
it. Its rows are immutable in content (kind, record id, version, payload) and inserted with ``ON CONFLICT DO
NOTHING``, so an event applied twice never makes a second row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

metadata = sa.MetaData()

PENDING = "pending"
PUSHED = "pushed"
REJECTED = "rejected"

national_state = sa.Table(
    "national_state",
    metadata,
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("record_id", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    info={"kind": "rebuildable"},
)

outbox = sa.Table(
    "national_outbox",
    metadata,
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("record_id", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("previous_version", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Column("stream_seq", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_national_outbox_state", "state", "next_attempt_at"),
    info={"kind": "authoritative"},
)

TABLES = (national_state,)


def insert_for(conn: sa.Connection, table: sa.Table) -> Any:
    """The dialect's INSERT that knows ``ON CONFLICT`` (SQLite and PostgreSQL)."""
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
