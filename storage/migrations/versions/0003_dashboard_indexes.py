"""dashboard indexes: keyset pagination of filtered review queues

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (index name, table, columns): each lets a filtered queue walk newest-first by id without sorting.
INDEXES = [
    ("ix_tips_object_id_id", "tips", ["object_id", "id"]),
    ("ix_tips_language_id", "tips", ["language", "id"]),
    ("ix_tips_assigned_to_id_id", "tips", ["assigned_to_id", "id"]),
    ("ix_tips_duplicate_of_id", "tips", ["duplicate_of_id"]),
    ("ix_audit_events_moderator_id", "audit_events", ["moderator_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
