"""Projection positions, leases and dead letters (authoritative: a rebuild never drops them).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_positions",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "projection_leases",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dead_letters",
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
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("projection_leases")
    op.drop_table("projection_positions")
