"""Intake: the registry read model (cases, case_access, feed), rebuildable.

Revision ID: intake0003
Revises: intake0002
"""

import sqlalchemy as sa
from alembic import op

revision = "intake0003"
down_revision = "intake0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("receipt_no", sa.Integer, nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False, index=True),
        sa.Column("received_on", sa.Date, nullable=False, index=True),
        sa.Column("handling_agency", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("unit_code", sa.String(20), nullable=False, index=True),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("crowded", sa.Boolean, nullable=False),
        sa.Column("complicated", sa.Boolean, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("last_event", sa.String(60), nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_access",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(100), primary_key=True),
    )
    op.create_table(
        "feed",
        sa.Column("agency", sa.String(100), primary_key=True),
        sa.Column("stream_seq", sa.BigInteger, primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feed")
    op.drop_table("case_access")
    op.drop_table("cases")
