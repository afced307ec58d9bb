"""What was last published to Telegram, by digest, so an unchanged menu is not sent again at every start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Publication
from storage.repositories.upsert import insert_for


class PublicationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def digest(self, name: str) -> str | None:
        """The digest recorded for `name`, or None if it was never published."""
        return await self._session.scalar(select(Publication.digest).where(Publication.name == name))

    async def record(self, name: str, digest: str, now: datetime) -> None:
        """Remember that `name` was published with `digest` (instances racing at start write the same value)."""
        statement = insert_for(self._session, Publication).values(name=name, digest=digest, published_at=now)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[Publication.name], set_={"digest": digest, "published_at": now}
            )
        )
