"""Processed Telegram update ids: Telegram redelivers what it thinks failed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, utcnow
from storage.repositories.upsert import insert_for


class UpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

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
        values = {"bot_id": bot_id, "update_id": update_id, "processed_at": utcnow()}
        statement = (
            insert_for(self._session, ProcessedUpdate)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(ProcessedUpdate.update_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self._session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
