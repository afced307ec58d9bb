"""Retention: stale drafts, inactive reporters and old update ids are purged after a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, ProcessedUpdate, Reporter


@dataclass(frozen=True, slots=True)
class PurgeReport:
    drafts: int
    reporters: int
    update_ids: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def purge(self, *, personal_before: datetime, updates_before: datetime, idle_state: str) -> PurgeReport:
        """Drop unsent drafts and reporters idle since `personal_before` (their tips stay, unlinked)."""
        drafts = await self._session.execute(
            update(Conversation)
            .where(Conversation.updated_at < personal_before, cast(Conversation.draft, String) != "{}")
            .values(draft={}, state=idle_state)
        )
        reporters = await self._session.execute(delete(Reporter).where(Reporter.last_seen_at < personal_before))
        updates = await self._session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < updates_before)
        )
        return PurgeReport(_count(drafts), _count(reporters), _count(updates))

    async def forget_reporter(self, reporter_id: int) -> None:
        """Erase a reporter on request: the row, its encrypted chat id and conversation; tips are unlinked."""
        await self._session.execute(delete(Reporter).where(Reporter.id == reporter_id))
