"""The shared tables every service database holds (created by the platform migrations)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

positions = sa.Table(
    "projection_positions",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("stream_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    info={"kind": "authoritative"},
)

leases = sa.Table(
    "projection_leases",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    info={"kind": "authoritative"},
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("projection", sa.String(100), nullable=False),
    sa.Column("stream_seq", sa.BigInteger, nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("projection", "stream_seq", name="uq_dead_letters_projection_seq"),
    info={"kind": "authoritative"},
)

REBUILDABLE = "rebuildable"
AUTHORITATIVE = "authoritative"


def table_kind(table: sa.Table) -> str:
    """Every table says whether a rebuild may replace it; undeclared tables count as authoritative."""
    return str(table.info.get("kind", AUTHORITATIVE))
