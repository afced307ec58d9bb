"""Translation jobs: the stored text's own row is the durable job, claimed in batches.

Two kinds of stored text are translated: tips, and the reporter's answers and additions in a
tip's follow-up thread (`tip_messages`). Both carry the same `translation_*` columns. On
PostgreSQL a batch is claimed with `FOR UPDATE SKIP LOCKED`, so several workers never take the
same row; a claim is a lease, so rows held by a crashed worker are picked up again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Tip, TipMessage, TranslationStatus
from storage.repositories.search import search_values


class TextKind(enum.StrEnum):
    TIP = "tip"
    THREAD = "thread"  # an answer or addition in a tip's follow-up thread


_TABLES: dict[TextKind, type[Tip] | type[TipMessage]] = {TextKind.TIP: Tip, TextKind.THREAD: TipMessage}


@dataclass(frozen=True, slots=True)
class TranslationJob:
    row_id: int
    text: str
    ui_language: str
    language: str | None
    attempts: int
    kind: TextKind = TextKind.TIP


@dataclass(frozen=True, slots=True)
class TranslationResult:
    row_id: int
    status: TranslationStatus
    language: str | None = None
    confidence: float | None = None
    rule: str | None = None
    text_english: str | None = None
    error: str | None = None
    kind: TextKind = TextKind.TIP


class TranslationJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> list[TranslationJob]:
        """Take up to `limit` due jobs, tips first, and stamp them as claimed (commit to publish the claim)."""
        jobs = await self._claim_tips(limit, now, lease)
        if len(jobs) < limit:
            jobs += await self._claim_thread(limit - len(jobs), now, lease)
        return jobs

    @staticmethod
    def _due(table: type[Tip] | type[TipMessage], now: datetime, lease: timedelta) -> object:
        return and_(
            table.translation_status == TranslationStatus.PENDING,
            or_(table.translation_next_attempt_at.is_(None), table.translation_next_attempt_at <= now),
            or_(table.translation_claimed_at.is_(None), table.translation_claimed_at < now - lease),
        )

    async def _claim_tips(self, limit: int, now: datetime, lease: timedelta) -> list[TranslationJob]:
        rows = (
            await self._session.execute(
                select(Tip.id, Tip.text_original, Tip.ui_language, Tip.language, Tip.translation_attempts)
                .where(self._due(Tip, now, lease))  # type: ignore[arg-type]
                .order_by(Tip.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await self._session.execute(
                update(Tip).where(Tip.id.in_([row.id for row in rows])).values(translation_claimed_at=now)
            )
        return [TranslationJob(row[0], row[1], row[2], row[3], row[4], TextKind.TIP) for row in rows]

    async def _claim_thread(self, limit: int, now: datetime, lease: timedelta) -> list[TranslationJob]:
        # The reporter's bot language (kept on their tip) is the detector's prior, as for tips.
        rows = (
            await self._session.execute(
                select(
                    TipMessage.id,
                    TipMessage.text_original,
                    Tip.ui_language,
                    TipMessage.language,
                    TipMessage.translation_attempts,
                )
                .join(Tip, Tip.id == TipMessage.tip_id)
                .where(self._due(TipMessage, now, lease))  # type: ignore[arg-type]
                .order_by(TipMessage.id)
                .limit(limit)
                .with_for_update(of=TipMessage, skip_locked=True)
            )
        ).all()
        if rows:
            await self._session.execute(
                update(TipMessage).where(TipMessage.id.in_([row[0] for row in rows])).values(translation_claimed_at=now)
            )
        return [TranslationJob(row[0], row[1], row[2], row[3], row[4], TextKind.THREAD) for row in rows]

    async def complete(self, result: TranslationResult, now: datetime) -> None:
        table = _TABLES[result.kind]
        values: dict[str, object] = {"translation_status": result.status, "translation_claimed_at": None}
        if result.language is not None:
            values.update(language=result.language, language_confidence=result.confidence, language_rule=result.rule)
        if result.status is TranslationStatus.DONE:
            values.update(text_english=result.text_english, translation_error=None)
            if result.kind is TextKind.TIP:
                values.update(translated_at=now)
                # The translation becomes searchable masked, like the original (never in clear).
                original = await self._session.scalar(select(Tip.text_original).where(Tip.id == result.row_id))
                values.update(search_values(original, result.text_english))
        await self._session.execute(update(table).where(table.id == result.row_id).values(**values))

    async def retry_later(self, job: TranslationJob, attempts: int, at: datetime, error: str, *, give_up: bool) -> None:
        table = _TABLES[job.kind]
        await self._session.execute(
            update(table)
            .where(table.id == job.row_id)
            .values(
                translation_attempts=attempts,
                translation_next_attempt_at=at,
                translation_claimed_at=None,
                translation_error=error[:2000],
                translation_status=TranslationStatus.FAILED if give_up else TranslationStatus.PENDING,
            )
        )

    async def requeue_unsupported(self, languages: set[str]) -> int:
        """After a model is installed: texts in those languages become pending again."""
        if not languages:
            return 0
        moved = 0
        for table in _TABLES.values():
            result = await self._session.execute(
                update(table)
                .where(table.translation_status == TranslationStatus.UNSUPPORTED, table.language.in_(sorted(languages)))
                .values(translation_status=TranslationStatus.PENDING, translation_next_attempt_at=None)
            )
            moved += int(getattr(result, "rowcount", 0) or 0)
        return moved

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
