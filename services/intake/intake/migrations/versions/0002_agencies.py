"""Intake: agencies, their API keys and idempotency keys (authoritative).

Revision ID: intake0002
Revises: intake0001
"""

import sqlalchemy as sa
from alembic import op

revision = "intake0002"
down_revision = "intake0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("unit_code", sa.String(20), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "agency_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("agency_code", sa.String(100), sa.ForeignKey("agencies.code"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_agency_keys_agency_code", "agency_keys", ["agency_code"])
    op.create_table(
        "idempotency_keys",
        sa.Column("agency_code", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_agency_keys_agency_code", table_name="agency_keys")
    op.drop_table("agency_keys")
    op.drop_table("agencies")
