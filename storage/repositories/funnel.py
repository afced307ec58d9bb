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
def _add(dialect: str) -> Any:
    # Built once per dialect: a turn counts a funnel step on most updates.
    table = FunnelCount.__table__
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in _KEY}
    statement = insert_on(dialect, table).values(**values, count=bindparam("added"))
    return statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"count": table.c.count + statement.excluded.count}
    )


@dataclass(frozen=True, slots=True)
class FunnelRow:
    day: date
    campaign_id: int | None
    object_id: int | None
    channel: str | None
    step: str
    count: int


Key = tuple[date, int, int, str, str]  # _KEY's values


class FunnelRepository:
    """Counts are added when the unit of work commits (`write_counts`), not when they happen.

    Every reporter opening the same link or viewing the same object adds to the same row, whose
    lock (PostgreSQL) is held from the upsert until the commit. Written last, in key order, that is
    the last moment of each turn instead of most of it, and 64 people opening one link at once do
    not queue behind each other's whole turns (PostgreSQL, `bench.walk`: opt-in p99 2.9 s -> 1.3 s).
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._pending: dict[Key, int] = {}

    async def count(
        self,
        step: FunnelStep,
        *,
        campaign_id: int | None,
        object_id: int | None = None,
        channel: str | None = None,
        day: date | None = None,
    ) -> None:
        """Add one to today's counter when the unit of work commits (an upsert: concurrent turns never lose one)."""
        key = (day or datetime.now(UTC).date(), campaign_id or 0, object_id or 0, channel or "", step.value)
        self._pending[key] = self._pending.get(key, 0) + 1

    def forget_counts(self) -> None:
        """The unit of work rolled back: what it counted did not happen."""
        self._pending.clear()

    async def write_counts(self) -> None:
        """Write the counts of this unit of work (in key order, so two turns never wait on each other in a cycle)."""
        pending, self._pending = self._pending, {}
        statement = _add(dialect_name(self._session))
        for key in sorted(pending):
            values = {f"new_{name}": value for name, value in zip(_KEY, key, strict=True)}
            await self._session.execute(statement, {**values, "added": pending[key]})

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
