"""urgent tips: the flag, an urgent report without an object, and the urgent alert's outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.alter_column("object_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("urgent_alert_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("urgent_alert_next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("urgent_alert_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("urgent_alert_failure", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_tips_urgent_id", ["urgent", "id"], unique=False)
        batch_op.create_index("ix_tips_urgent_alert_due", ["urgent_alert_next_attempt_at", "id"], unique=False)


def downgrade() -> None:
    # Urgent reports without an object cannot exist without the flag: they go with it.
    op.execute("DELETE FROM tips WHERE object_id IS NULL")
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_urgent_alert_due")
        batch_op.drop_index("ix_tips_urgent_id")
        batch_op.drop_column("urgent_alert_failure")
        batch_op.drop_column("urgent_alert_sent_at")
        batch_op.drop_column("urgent_alert_next_attempt_at")
        batch_op.drop_column("urgent_alert_attempts")
        batch_op.drop_column("urgent")
        batch_op.alter_column("object_id", existing_type=sa.Integer(), nullable=False)
