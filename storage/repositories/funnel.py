"""The campaign funnel: daily counters per (campaign, object, channel, step), nothing per person."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FunnelCount, FunnelStep
from storage.repositories.upsert import dialect_name, insert_on

_KEY = ("day", "campaign_id", "object_id", "channel", "step")


@functools.cache
def _add_one(dialect: str) -> Any:
    # Built once per dialect: a turn counts a funnel step on most updates.
    table = FunnelCount.__table__
    statement = insert_on(dialect, table).values(**{name: bindparam(f"new_{name}") for name in _KEY}, count=1)
    return statement.on_conflict_do_update(index_elements=list(_KEY), set_={"count": table.c.count + 1})


@dataclass(frozen=True, slots=True)
class FunnelRow:
    day: date
    campaign_id: int | None
    object_id: int | None
    channel: str | None
    step: str
    count: int


class FunnelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count(
        self,
        step: FunnelStep,
        *,
        campaign_id: int | None,
        object_id: int | None = None,
        channel: str | None = None,
        day: date | None = None,
    ) -> None:
        """Add one to today's counter (an upsert, so concurrent turns never lose a count)."""
        key = {
            "day": day or datetime.now(UTC).date(),
            "campaign_id": campaign_id or 0,
            "object_id": object_id or 0,
            "channel": channel or "",
            "step": step.value,
        }
        await self._session.execute(_add_one(dialect_name(self._session)), {f"new_{name}": key[name] for name in _KEY})

    async def rows(self, *, since: date, until: date, campaign_id: int | None = None) -> list[FunnelRow]:
        """Counters from `since` to `until` (both included), optionally for one campaign."""
        statement = select(
            FunnelCount.day,
            FunnelCount.campaign_id,
            FunnelCount.object_id,
            FunnelCount.channel,
            FunnelCount.step,
            func.sum(FunnelCount.count),
        ).where(FunnelCount.day >= since, FunnelCount.day <= until)
        if campaign_id is not None:
            statement = statement.where(FunnelCount.campaign_id == campaign_id)
        statement = statement.group_by(
            FunnelCount.day, FunnelCount.campaign_id, FunnelCount.object_id, FunnelCount.channel, FunnelCount.step
        ).order_by(FunnelCount.day)
        return [
            FunnelRow(day, campaign or None, obj or None, channel or None, step, int(total))
            for day, campaign, obj, channel, step, total in (await self._session.execute(statement)).all()
        ]
