"""Retention: stale drafts, inactive reporters and old update ids are purged after a while.

Each method purges one batch, in the caller's transaction, and says where the next one starts. The
caller commits between batches (`bot.maintenance.apply_retention`), so a purge after a burst (a
week after a million updates, a million update ids fall due in the same hour) never holds the
database for long: on SQLite one transaction holds the only write lock, and every turn waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, String, Update, cast, delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, ProcessedUpdate, Reporter


@dataclass(frozen=True, slots=True)
class PurgeReport:
    drafts: int
    reporters: int
    update_ids: int


@dataclass(frozen=True, slots=True)
class Batch:
    """What one batch purged, and the key to start the next one after (None: nothing was left)."""

    purged: int
    next_after: int | None


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def drop_stale_drafts(self, before: datetime, idle_state: str, *, after: int, limit: int) -> Batch:
        """Unsent drafts untouched since `before`, of reporters after `after` (in id order): emptied."""
        due = (Conversation.updated_at < before, cast(Conversation.draft, String) != "{}")
        empty = update(Conversation).values(draft={}, state=idle_state)
        return await self._in_key_order(Conversation.reporter_id, due, empty, after=after, limit=limit)

    async def erase_idle_reporters(self, before: datetime, *, after: int, limit: int) -> Batch:
        """Reporters not seen since `before`, after `after` (in id order): erased (their tips stay, unlinked)."""
        due = (Reporter.last_seen_at < before,)
        return await self._in_key_order(Reporter.id, due, delete(Reporter), after=after, limit=limit)

    async def _in_key_order(
        self, key: Any, due: tuple[Any, ...], write: Update | Delete, *, after: int, limit: int
    ) -> Batch:
        """`write` on the next `limit` rows after `after` (in `key` order) that are `due`.

        The write checks `due` again: on PostgreSQL a turn may have changed a row since the select
        (a reporter seen again, a draft written), and such a row is kept.
        """
        ids = list(await self._session.scalars(select(key).where(key > after, *due).order_by(key).limit(limit)))
        if not ids:
            return Batch(0, None)
        result = await self._session.execute(write.where(key.in_(ids), *due))
        return Batch(_rowcount(result), ids[-1] if len(ids) == limit else None)

    async def forget_update_ids(self, before: datetime, *, limit: int) -> Batch:
        """The oldest update ids processed before `before`, at most `limit` of them (by `processed_at`'s index)."""
        oldest = (
            select(ProcessedUpdate.bot_id, ProcessedUpdate.update_id)
            .where(ProcessedUpdate.processed_at < before)
            .order_by(ProcessedUpdate.processed_at)
            .limit(limit)
        )
        key = tuple_(ProcessedUpdate.bot_id, ProcessedUpdate.update_id)
        purged = _rowcount(await self._session.execute(delete(ProcessedUpdate).where(key.in_(oldest))))
        return Batch(purged, 0 if purged == limit else None)

    async def forget_reporter(self, reporter_id: int) -> None:
        """Erase a reporter on request: the row, its encrypted chat id and conversation; tips are unlinked."""
        await self._session.execute(delete(Reporter).where(Reporter.id == reporter_id))
