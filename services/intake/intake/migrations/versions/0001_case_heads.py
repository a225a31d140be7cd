"""Intake: case heads read model (rebuildable).

Revision ID: intake0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "intake0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_heads",
        sa.Column("subject", sa.String(300), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("last_type", sa.String(100), nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_heads")
