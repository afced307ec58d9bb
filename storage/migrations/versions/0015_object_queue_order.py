"""object queue order: an index for one object's tips urgent first, newest first

Without it SQLite sorted all of an object's tips to show the first 20 of its page (0.4 s for an
object with 130,000 tips among a million).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.create_index("ix_tips_object_urgent_id", ["object_id", "urgent", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_object_urgent_id")
