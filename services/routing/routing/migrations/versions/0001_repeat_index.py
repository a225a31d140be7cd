"""Routing: the repeat index (repeat_cases, repeat_submitters), rebuildable; keyed hashes only, no clear values.

Revision ID: routing0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "routing0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repeat_cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("unit_code", sa.String(20), nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("received_seq", sa.BigInteger, nullable=False),
        sa.Column("sketch", sa.LargeBinary, nullable=True),
    )
    op.create_table(
        "repeat_submitters",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("person_key", sa.String(128), nullable=True),
        sa.Column("id_hash", sa.String(64), nullable=True),
        sa.Column("name_address_hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_repeat_submitters_id_hash", "repeat_submitters", ["id_hash"])
    op.create_index("ix_repeat_submitters_name_address_hash", "repeat_submitters", ["name_address_hash"])


def downgrade() -> None:
    op.drop_table("repeat_submitters")
    op.drop_table("repeat_cases")
