"""Escalation: the cases it follows and the due-date table (both rebuildable from the log).

Revision ID: escalation0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "escalation0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_cases",
        sa.Column("case_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("unit_code", sa.String(20), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
    )
    op.create_table(
        "deadlines",
        sa.Column("case_id", sa.String(128), primary_key=True),
        sa.Column("clock", sa.String(100), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("due", sa.Date, nullable=True),
        sa.Column("owed_by", sa.String(20), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("article", sa.String(500), nullable=False),
        sa.Column("warned_lead", sa.Integer, nullable=True),
        sa.Column("missed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_deadlines_due", "deadlines", ["state", "due"])


def downgrade() -> None:
    op.drop_index("ix_deadlines_due", "deadlines")
    op.drop_table("deadlines")
    op.drop_table("escalation_cases")
