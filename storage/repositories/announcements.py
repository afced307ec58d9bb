"""Announcements written in the dashboard (their delivery is the outbox's business)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announcement, AnnouncementState, Reporter


@dataclass(frozen=True, slots=True)
class AnnouncementRecord:
    id: int
    text_en: str
    translations: dict[str, str]
    object_id: int | None
    state: str
    created_at: datetime
    started_at: datetime | None


def _record(row: Announcement) -> AnnouncementRecord:
    translations = {str(k): str(v) for k, v in (row.translations or {}).items()}
    return AnnouncementRecord(
        row.id, row.text_en, translations, row.object_id, row.state, row.created_at, row.started_at
    )


class AnnouncementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self, text_en: str, translations: dict[str, str], object_id: int | None, created_by_id: int | None
    ) -> int:
        row = Announcement(text_en=text_en, translations=translations, object_id=object_id, created_by_id=created_by_id)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def get(self, announcement_id: int) -> AnnouncementRecord | None:
        row = await self._session.get(Announcement, announcement_id)
        return _record(row) if row is not None else None

    async def latest(self, limit: int = 100) -> list[AnnouncementRecord]:
        rows = await self._session.scalars(select(Announcement).order_by(Announcement.id.desc()).limit(limit))
        return [_record(row) for row in rows]

    async def edit(
        self, announcement_id: int, text_en: str, translations: dict[str, str], object_id: int | None
    ) -> bool:
        """Change a draft; False once it is no longer a draft."""
        return await self._update(
            announcement_id,
            (AnnouncementState.DRAFT,),
            text_en=text_en,
            translations=translations,
            object_id=object_id,
        )

    async def move(self, announcement_id: int, from_states: tuple[AnnouncementState, ...], **values: Any) -> bool:
        """Change the state (and other columns) if it is in one of `from_states`."""
        return await self._update(announcement_id, from_states, **values)

    async def _update(self, announcement_id: int, from_states: tuple[AnnouncementState, ...], **values: Any) -> bool:
        result = await self._session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.state.in_(from_states))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def subscriber_languages(self) -> dict[str, int]:
        """How many reporters who want news use each language (what to translate into)."""
        rows = await self._session.execute(
            select(Reporter.language, func.count())
            .where(Reporter.wants_news.is_(True), Reporter.blocked.is_(False))
            .group_by(Reporter.language)
        )
        return {language: int(count) for language, count in rows.all()}
