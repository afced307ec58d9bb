"""The follow-up question outbox: each question row is its own durable delivery job.

As `tips.confirmation_*` is for references: a question is committed with
`delivery_next_attempt_at` set, claimed by the sender (which pushes that time forward by the
back-off, in the claiming transaction), sent, then marked delivered or undeliverable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import QuestionState, Reporter, Tip, TipMessage, TracedObject, utcnow


@dataclass(frozen=True, slots=True)
class DueQuestion:
    """A committed question, claimed for one delivery attempt."""

    message_id: int
    tip_id: int
    attempt: int
    text_sent: str
    object_reference: str
    chat_id_encrypted: str | None
    language: str | None
    consent: bool
    reporter_id: int | None  # the send limiter's per-chat key


class FollowupOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim_due(
        self, now: datetime, retry_delay: Callable[[int], timedelta], limit: int = 50
    ) -> list[DueQuestion]:
        """The questions longest due, each rescheduled `retry_delay(attempt)` ahead, in the claiming transaction.

        Committing the claim before sending is what makes a crash re-send at most once: the row's
        next attempt is already in the future, and only a delivery that was not recorded repeats.
        """
        rows = (
            await self._session.execute(
                select(
                    TipMessage.id,
                    TipMessage.tip_id,
                    TipMessage.delivery_attempts,
                    TipMessage.text_sent,
                    TracedObject.reference,
                    Reporter.chat_id_encrypted,
                    Reporter.language,
                    Tip.followup_consent,
                    Tip.reporter_id,
                )
                .join(Tip, Tip.id == TipMessage.tip_id)
                .join(TracedObject, TracedObject.id == Tip.object_id)
                .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
                .where(TipMessage.delivery_next_attempt_at <= now, TipMessage.delivered_at.is_(None))
                .order_by(TipMessage.delivery_next_attempt_at, TipMessage.id)
                .limit(limit)
                .with_for_update(of=TipMessage, skip_locked=True)
            )
        ).all()
        claimed = [
            DueQuestion(row[0], row[1], row[2] + 1, row[3] or "", row[4], row[5], row[6], bool(row[7]), row[8])
            for row in rows
        ]
        for item in claimed:
            await self._session.execute(
                update(TipMessage)
                .where(TipMessage.id == item.message_id)
                .values(delivery_attempts=item.attempt, delivery_next_attempt_at=now + retry_delay(item.attempt))
            )
        return claimed

    async def mark_delivered(self, message_id: int, telegram_message_id: int) -> None:
        await self._session.execute(
            update(TipMessage)
            .where(TipMessage.id == message_id)
            .values(delivered_at=utcnow(), delivery_next_attempt_at=None, telegram_message_id=telegram_message_id)
        )

    async def mark_undeliverable(self, message_id: int, reason: str) -> None:
        """Give up for good (`reason` is a short class such as chat_gone); the question is closed."""
        await self._session.execute(
            update(TipMessage)
            .where(TipMessage.id == message_id, TipMessage.delivered_at.is_(None))
            .values(delivery_failure=reason[:32], delivery_next_attempt_at=None, state=QuestionState.CLOSED)
        )
