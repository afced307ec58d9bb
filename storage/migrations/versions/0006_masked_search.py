"""masked search: a searchable copy of each tip with contact details masked, indexed for LIKE

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from storage.pii import MASK_VERSION, search_text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

BATCH = 1000
TRIGRAM_INDEX = "ix_tips_search_text_trgm"
_tips = sa.table(
    "tips",
    sa.column("id", sa.Integer()),
    sa.column("text_original", sa.Text()),
    sa.column("text_english", sa.Text()),
    sa.column("search_text", sa.Text()),
    sa.column("search_mask_version", sa.Integer()),
)


def _fill(connection: sa.Connection) -> None:
    """Mask every existing tip in Python (the rules are regular expressions SQL cannot run), in batches."""
    after = 0
    while True:
        rows = connection.execute(
            sa.select(_tips.c.id, _tips.c.text_original, _tips.c.text_english)
            .where(_tips.c.id > after)
            .order_by(_tips.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            sa.update(_tips)
            .where(_tips.c.id == sa.bindparam("tip_id"))
            .values(search_text=sa.bindparam("masked"), search_mask_version=MASK_VERSION),
            [{"tip_id": row.id, "masked": search_text(row.text_original, row.text_english)} for row in rows],
        )
        after = rows[-1].id


def _trigram_index(connection: sa.Connection) -> None:
    """A pg_trgm GIN index makes `LIKE '%...%'` an index search; without the extension, search still works."""
    try:
        with connection.begin_nested():  # a failed statement must not abort the migration's transaction
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        log.warning(
            "pg_trgm could not be created (%s); tip search works without an index but scans the table. "
            "Ask a superuser to run CREATE EXTENSION pg_trgm and then CREATE INDEX %s ON tips "
            "USING gin (search_text gin_trgm_ops).",
            type(exc.orig).__name__,
            TRIGRAM_INDEX,
        )
        return
    op.create_index(
        TRIGRAM_INDEX, "tips", ["search_text"], postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"}
    )


def upgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("search_mask_version", sa.Integer(), nullable=True))
        batch_op.create_index("ix_tips_search_mask_version", ["search_mask_version"], unique=False)
    connection = op.get_bind()
    _fill(connection)
    if connection.dialect.name == "postgresql":
        _trigram_index(connection)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")  # the extension stays: others may use it
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_search_mask_version")
        batch_op.drop_column("search_mask_version")
        batch_op.drop_column("search_text")
