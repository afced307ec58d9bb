"""Worker heartbeats: each background worker stamps its row; readiness checks read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WorkerHeartbeat


@dataclass(frozen=True, slots=True)
class Heartbeat:
    worker_id: str
    kind: str
    started_at: datetime
    beat_at: datetime


class HeartbeatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def beat(self, worker_id: str, kind: str, started_at: datetime, now: datetime) -> None:
        """Stamp `worker_id` as alive at `now` (one writer per id, so update-then-insert is enough)."""
        result = await self._session.execute(
            update(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id).values(beat_at=now)
        )
        if not getattr(result, "rowcount", 0):
            await self._session.execute(
                insert(WorkerHeartbeat).values(worker_id=worker_id, kind=kind, started_at=started_at, beat_at=now)
            )

    async def get(self, worker_id: str) -> Heartbeat | None:
        row = await self._session.get(WorkerHeartbeat, worker_id)
        return None if row is None else Heartbeat(row.worker_id, row.kind, row.started_at, row.beat_at)

    async def latest(self, kind: str) -> datetime | None:
        """The most recent beat of any worker of `kind` (an index lookup)."""
        return await self._session.scalar(select(func.max(WorkerHeartbeat.beat_at)).where(WorkerHeartbeat.kind == kind))

    async def remove(self, worker_id: str) -> None:
        await self._session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))

    async def prune(self, kind: str, before: datetime) -> int:
        """Forget workers silent since `before` (crashed processes leave their row behind)."""
        result = await self._session.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.kind == kind, WorkerHeartbeat.beat_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
