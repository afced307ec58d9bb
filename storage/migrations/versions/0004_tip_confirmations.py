"""tip confirmations: when the reporter was told the tip's reference

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_tips_unconfirmed", ["confirmed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_unconfirmed")
        batch_op.drop_column("confirmed_at")
