"""Tips: what reporters tell us. Submission is idempotent per draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Reporter, Tip, TranslationStatus, utcnow
from storage.repositories.review import ReviewRepository, ReviewTip
from storage.repositories.search import search_values


@dataclass(frozen=True, slots=True)
class TipDraft:
    """Everything a reporter confirmed on the preview screen."""

    draft_token: str
    object_id: int
    reporter_id: int
    campaign_id: int | None
    recognised: bool
    country_code: str | None
    country_text: str | None
    text_original: str
    latitude: float | None
    longitude: float | None
    ui_language: str


class TipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def submit(self, draft: TipDraft) -> tuple[int, bool]:
        """Store the tip once per draft token; returns (tip id, created now?)."""
        existing = await self._session.scalar(select(Tip.id).where(Tip.draft_token == draft.draft_token))
        if existing is not None:
            return existing, False
        tip = Tip(
            draft_token=draft.draft_token,
            object_id=draft.object_id,
            reporter_id=draft.reporter_id,
            campaign_id=draft.campaign_id,
            recognised=draft.recognised,
            country_code=draft.country_code,
            country_text=draft.country_text,
            text_original=draft.text_original,
            latitude=draft.latitude,
            longitude=draft.longitude,
            ui_language=draft.ui_language,
            translation_status=TranslationStatus.PENDING
            if draft.text_original.strip()
            else TranslationStatus.NOT_NEEDED,
            **search_values(draft.text_original, None),
        )
        self._session.add(tip)
        await self._session.flush()
        return tip.id, True

    async def get(self, tip_id: int) -> ReviewTip | None:
        """The tip with its object, campaign and reporter alias, as the dashboard shows it."""
        return await ReviewRepository(self._session).get(tip_id)


@dataclass(frozen=True, slots=True)
class UnconfirmedTip:
    tip_id: int
    chat_id_encrypted: str
    language: str


class TipConfirmations:
    """Which committed tips their reporter has been told about (the confirmation outbox)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def mark_confirmed(self, tip_id: int) -> None:
        await self._session.execute(update(Tip).where(Tip.id == tip_id).values(confirmed_at=utcnow()))

    async def claim_unconfirmed(self, created_before: datetime, limit: int = 50) -> list[UnconfirmedTip]:
        """Committed tips whose reference may never have reached the reporter (locked: one sender each)."""
        rows = await self._session.execute(
            select(Tip.id, Reporter.chat_id_encrypted, Reporter.language)
            .join(Reporter, Reporter.id == Tip.reporter_id)
            .where(Tip.confirmed_at.is_(None), Tip.created_at < created_before, Reporter.chat_id_encrypted.is_not(None))
            .order_by(Tip.id)
            .limit(limit)
            .with_for_update(of=Tip, skip_locked=True)
        )
        return [UnconfirmedTip(tip_id, chat, language) for tip_id, chat, language in rows.all() if chat]
