"""Escalation: the watch tables (settled cases, and the repeats of each settled case; rebuildable).

Revision ID: escalation0003
Revises: escalation0002
"""

import sqlalchemy as sa
from alembic import op

revision = "escalation0003"
down_revision = "escalation0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_settled",
        sa.Column("case_id", sa.String(128), primary_key=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "watch_repeats",
        sa.Column("original_case_id", sa.String(128), primary_key=True),
        sa.Column("repeat_case_id", sa.String(128), primary_key=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watch_repeats")
    op.drop_table("watch_settled")
