"""The campaign funnel: daily counters per (campaign, object, channel, step), nothing per person."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.hot import dialect_name
from storage.models import FunnelCount, FunnelStep
from storage.repositories.upsert import insert_on

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


async def _write(session: AsyncSession, counts: dict[Key, int]) -> None:
    """Add the counts to their rows, in key order (two writers never wait on each other in a cycle)."""
    statement = _add(dialect_name(session))
    for key in sorted(counts):
        values = {f"new_{name}": value for name, value in zip(_KEY, key, strict=True)}
        await session.execute(statement, {**values, "added": counts[key]})


class FunnelBuffer:
    """The counts of committed turns, summed in this process and written every second or so (`flush`).

    Every reporter opening the same link or viewing the same object adds to the same row. Written
    in each turn, that row's lock (PostgreSQL) made everyone who opened one link at once queue
    behind each other's commits (`bench.walk` on PostgreSQL: opt-in p99 1.3 s even with the upsert
    last); buffered, a turn writes no counter at all and the rows take one upsert each per flush.
    The price: the counts of the last second are lost if the process is killed (they are
    statistics, not anything a person was told is saved); a clean stop flushes them.
    """

    def __init__(self) -> None:
        self._pending: dict[Key, int] = {}
        self._flushing = asyncio.Lock()

    def add(self, counts: dict[Key, int]) -> None:
        for key, added in counts.items():
            self._pending[key] = self._pending.get(key, 0) + added

    @property
    def pending(self) -> int:
        return sum(self._pending.values())

    async def flush(self, transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]]) -> int:
        """Write what was counted since the last flush in one `transaction` (a session, committed when the
        block ends); on failure keep it for the next."""
        async with self._flushing:
            counts, self._pending = self._pending, {}
            if not counts:
                return 0
            try:
                async with transaction() as session:
                    await _write(session, counts)
            except BaseException:
                self.add(counts)
                raise
            return sum(counts.values())


class FunnelRepository:
    """Counts are kept when they happen and written only if the unit of work commits.

    With a `FunnelBuffer` (the bot), a commit hands them to it; without one (tools, tests) they are
    written at commit (`write_counts`), last and in key order.
    """

    def __init__(self, session: Callable[[], AsyncSession]) -> None:
        self._session = session  # asked for only when something is read or written
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

    def take_counts(self) -> dict[Key, int]:
        """What this unit of work counted (for a `FunnelBuffer`, once it committed)."""
        pending, self._pending = self._pending, {}
        return pending

    async def write_counts(self) -> None:
        """Write the counts of this unit of work in its transaction (in key order)."""
        await _write(self._session(), self.take_counts())

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
            for day, campaign, obj, channel, step, total in (await self._session().execute(statement)).all()
        ]
