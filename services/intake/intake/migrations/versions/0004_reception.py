"""Intake: the reception read model (reception_sessions, reception_entries), rebuildable.

Revision ID: intake0004
Revises: intake0003
"""

import sqlalchemy as sa
from alembic import op

revision = "intake0004"
down_revision = "intake0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reception_sessions",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(100), nullable=False, index=True),
        sa.Column("held_on", sa.Date, nullable=False, index=True),
        sa.Column("reception_type", sa.String(20), nullable=False),
        sa.Column("host_officer", sa.String(64), nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("crowded_groups", sa.Integer, nullable=False),
        sa.Column("cases_opened", sa.Integer, nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reception_entries",
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("serial_no", sa.Integer, nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("citizens", sa.Integer, nullable=False),
        sa.Column("representatives", sa.Integer, nullable=False),
        sa.Column("crowded", sa.Boolean, nullable=False),
        sa.Column("has_prior_handling", sa.Boolean, nullable=False),
        sa.Column("has_requests", sa.Boolean, nullable=False),
        sa.Column("has_result", sa.Boolean, nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True, index=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_reception_entries_book", "agency", "year", "serial_no", unique=True),
    )


def downgrade() -> None:
    op.drop_table("reception_entries")
    op.drop_table("reception_sessions")
