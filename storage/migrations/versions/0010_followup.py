"""follow-up: consent per tip and the tip thread (questions, answers, additions)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("followup_consent_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "tip_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text_original", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("language_confidence", sa.Float(), nullable=True),
        sa.Column("language_rule", sa.String(length=32), nullable=True),
        sa.Column("text_english", sa.Text(), nullable=True),
        sa.Column("translation_status", sa.String(length=16), nullable=False),
        sa.Column("translation_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("translation_next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("translation_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("translation_error", sa.Text(), nullable=True),
        sa.Column("text_sent", sa.Text(), nullable=True),
        sa.Column("machine_translated", sa.Boolean(), nullable=True),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("delivery_next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_failure", sa.String(length=32), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name=op.f("fk_tip_messages_tip_id_tips"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["moderators.id"],
            name=op.f("fk_tip_messages_moderator_id_moderators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["tip_messages.id"],
            name=op.f("fk_tip_messages_question_id_tip_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_messages")),
    )
    op.create_index("ix_tip_messages_tip_id_id", "tip_messages", ["tip_id", "id"], unique=False)
    op.create_index("ix_tip_messages_delivery_due", "tip_messages", ["delivery_next_attempt_at", "id"], unique=False)
    op.create_index("ix_tip_messages_translation_status", "tip_messages", ["translation_status"], unique=False)
    op.create_index("ix_tip_messages_unread", "tip_messages", ["read_at", "kind"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tip_messages_unread", table_name="tip_messages")
    op.drop_index("ix_tip_messages_translation_status", table_name="tip_messages")
    op.drop_index("ix_tip_messages_delivery_due", table_name="tip_messages")
    op.drop_index("ix_tip_messages_tip_id_id", table_name="tip_messages")
    op.drop_table("tip_messages")
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_column("followup_consent_at")
        batch_op.drop_column("followup_consent")
