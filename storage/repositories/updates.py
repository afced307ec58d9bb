"""Processed Telegram update ids: Telegram redelivers what it thinks failed."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select

from storage.hot import HotRepository, hot
from storage.models import ProcessedUpdate, utcnow
from storage.repositories.upsert import insert_on


@functools.cache
def _claim(dialect: str) -> Any:
    # Built once per dialect on the table (Core, not the ORM): every update runs it.
    table = ProcessedUpdate.__table__
    return hot(
        insert_on(dialect, table)
        .values(bot_id=bindparam("bot"), update_id=bindparam("update"), processed_at=bindparam("at"))
        .on_conflict_do_nothing()
        .returning(table.c.update_id)
    )


class UpdateRepository(HotRepository):
    async def seen(self, bot_id: int, update_id: int) -> bool:
        found = await self._session.scalar(
            select(ProcessedUpdate.update_id).where(
                ProcessedUpdate.bot_id == bot_id, ProcessedUpdate.update_id == update_id
            )
        )
        return found is not None

    def mark(self, bot_id: int, update_id: int) -> None:
        """Record the update as handled; it commits with the rest of the unit of work or not at all."""
        self._session.add(ProcessedUpdate(bot_id=bot_id, update_id=update_id))

    async def claim(self, bot_id: int, update_id: int) -> bool:
        """Record the update as handled, in one round trip; False if it already was (a redelivery).

        It commits with the rest of the unit of work or not at all, so a failed attempt can be retried.
        On PostgreSQL a concurrent duplicate waits for the first attempt's transaction to end.
        """
        values = {"bot": bot_id, "update": update_id, "at": utcnow()}
        return await self._hot.first(_claim(self._hot.dialect_name), values) is not None

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self._session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
