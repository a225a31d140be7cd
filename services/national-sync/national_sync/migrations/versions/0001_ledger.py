"""National sync: the records' fold state (rebuildable) and the outbox ledger (authoritative).

Revision ID: national_sync0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "national_sync0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "national_state",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("record_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.create_table(
        "national_outbox",
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
    )
    op.create_index("ix_national_outbox_state", "national_outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_national_outbox_state", "national_outbox")
    op.drop_table("national_outbox")
    op.drop_table("national_state")
