"""Translation jobs: the tip row itself is the durable job, claimed in batches.

On PostgreSQL a batch is claimed with `FOR UPDATE SKIP LOCKED`, so several workers never take
the same tip; a claim is a lease, so tips held by a crashed worker are picked up again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Tip, TranslationStatus
from storage.repositories.search import search_values


@dataclass(frozen=True, slots=True)
class TranslationJob:
    tip_id: int
    text: str
    ui_language: str
    language: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class TranslationResult:
    tip_id: int
    status: TranslationStatus
    language: str | None = None
    confidence: float | None = None
    rule: str | None = None
    text_english: str | None = None
    error: str | None = None


class TranslationJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> list[TranslationJob]:
        """Take up to `limit` due jobs and stamp them as claimed (commit to publish the claim)."""
        due = and_(
            Tip.translation_status == TranslationStatus.PENDING,
            or_(Tip.translation_next_attempt_at.is_(None), Tip.translation_next_attempt_at <= now),
            or_(Tip.translation_claimed_at.is_(None), Tip.translation_claimed_at < now - lease),
        )
        rows = (
            await self._session.execute(
                select(Tip.id, Tip.text_original, Tip.ui_language, Tip.language, Tip.translation_attempts)
                .where(due)
                .order_by(Tip.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return []
        await self._session.execute(
            update(Tip).where(Tip.id.in_([row.id for row in rows])).values(translation_claimed_at=now)
        )
        return [
            TranslationJob(row.id, row.text_original, row.ui_language, row.language, row.translation_attempts)
            for row in rows
        ]

    async def complete(self, result: TranslationResult, now: datetime) -> None:
        values: dict[str, object] = {"translation_status": result.status, "translation_claimed_at": None}
        if result.language is not None:
            values.update(language=result.language, language_confidence=result.confidence, language_rule=result.rule)
        if result.status is TranslationStatus.DONE:
            values.update(text_english=result.text_english, translated_at=now, translation_error=None)
            # The translation becomes searchable masked, like the original (never in clear).
            original = await self._session.scalar(select(Tip.text_original).where(Tip.id == result.tip_id))
            values.update(search_values(original, result.text_english))
        await self._session.execute(update(Tip).where(Tip.id == result.tip_id).values(**values))

    async def retry_later(self, tip_id: int, attempts: int, at: datetime, error: str, *, give_up: bool) -> None:
        await self._session.execute(
            update(Tip)
            .where(Tip.id == tip_id)
            .values(
                translation_attempts=attempts,
                translation_next_attempt_at=at,
                translation_claimed_at=None,
                translation_error=error[:2000],
                translation_status=TranslationStatus.FAILED if give_up else TranslationStatus.PENDING,
            )
        )

    async def requeue_unsupported(self, languages: set[str]) -> int:
        """After a model is installed: tips in those languages become pending again."""
        if not languages:
            return 0
        result = await self._session.execute(
            update(Tip)
            .where(Tip.translation_status == TranslationStatus.UNSUPPORTED, Tip.language.in_(sorted(languages)))
            .values(translation_status=TranslationStatus.PENDING, translation_next_attempt_at=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def queue_stats(self) -> tuple[int, datetime | None]:
        """How many tips wait for translation, and when the oldest of them was received.

        Both come from the `translation_status` index: a count over the pending entries and the
        smallest pending id, then one primary-key lookup; never a scan of all tips.
        """
        pending = Tip.translation_status == TranslationStatus.PENDING
        depth, oldest_id = (await self._session.execute(select(func.count(), func.min(Tip.id)).where(pending))).one()
        if oldest_id is None:
            return 0, None
        return int(depth), await self._session.scalar(select(Tip.created_at).where(Tip.id == oldest_id))

    async def counts(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(Tip.translation_status, func.count()).group_by(Tip.translation_status)
        )
        return {status: count for status, count in rows.all()}
