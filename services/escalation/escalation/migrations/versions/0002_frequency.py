"""Escalation: petition frequency per commune/ward x kind x month (rebuildable).

Revision ID: escalation0002
Revises: escalation0001
"""

import sqlalchemy as sa
from alembic import op

revision = "escalation0002"
down_revision = "escalation0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frequency",
        sa.Column("unit_code", sa.String(20), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("received", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("settled", sa.Integer, nullable=False),
        sa.Column("overdue", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("frequency")
