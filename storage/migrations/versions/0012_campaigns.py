"""campaigns: status, dates, "all active", intro lines; channel tags; funnel counters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("all_active", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("intro", sa.JSON(), nullable=False, server_default="{}"))
    op.execute(sa.text("UPDATE campaigns SET status = 'paused' WHERE NOT active"))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("viewed", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
    op.create_table(
        "funnel_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("object_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "campaign_id", "object_id", "channel", "step", name=op.f("pk_funnel_counts")),
    )


def downgrade() -> None:
    op.drop_table("funnel_counts")
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("viewed")
        batch_op.drop_column("channel")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute(sa.text("UPDATE campaigns SET active = (status = 'active')"))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("intro")
        batch_op.drop_column("ends_on")
        batch_op.drop_column("starts_on")
        batch_op.drop_column("all_active")
        batch_op.drop_column("status")
