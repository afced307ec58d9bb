"""scale: a digest of the published command menus, and an index for per-object tallies

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_publications")),
    )
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.create_index("ix_tips_object_status_country", ["object_id", "status", "country_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_object_status_country")
    op.drop_table("publications")
