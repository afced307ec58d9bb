"""confirmation delivery: attempts, next attempt (back-off) and undeliverable references

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmation_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("confirmation_next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmation_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmation_failure", sa.String(length=32), nullable=True))
        batch_op.drop_index("ix_tips_unconfirmed")
        batch_op.create_index(
            "ix_tips_confirmation_due", ["confirmation_next_attempt_at", "id"], unique=False
        )
    # Unconfirmed tips are due now: the sweeper takes them in the order they were received.
    op.execute("UPDATE tips SET confirmation_next_attempt_at = created_at WHERE confirmed_at IS NULL")


def downgrade() -> None:
    # Without these columns an undeliverable reference would be retried forever: count it as done.
    op.execute(
        "UPDATE tips SET confirmed_at = confirmation_failed_at "
        "WHERE confirmed_at IS NULL AND confirmation_failed_at IS NOT NULL"
    )
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_confirmation_due")
        batch_op.create_index("ix_tips_unconfirmed", ["confirmed_at", "id"], unique=False)
        batch_op.drop_column("confirmation_failure")
        batch_op.drop_column("confirmation_failed_at")
        batch_op.drop_column("confirmation_next_attempt_at")
        batch_op.drop_column("confirmation_attempts")
