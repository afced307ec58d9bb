"""A brief cache for dashboard aggregates (status counts, statistics, top words).

Counting a million tips takes hundreds of milliseconds however it is indexed, and a moderator paging
through the queue does not need the tally recomputed on every click. Figures are kept for `ttl`
seconds per filter, one computation serves every request that waits for the same key, and a
moderator's own change (a status, a duplicate link) drops them at once. Tips arriving from the bot
show up in the figures within `ttl`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

COUNTS_TTL = 20.0  # queue tabs: short, the queue moves
STATS_TTL = 60.0  # statistics and top words: a minute old is fine for charts


class AggregateCache:
    def __init__(self, max_entries: int = 512) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        self._max_entries = max_entries
        self._generation = 0

    async def get(self, key: Hashable, ttl: float, compute: Callable[[], Awaitable[T]]) -> T:
        """The cached value of `key` if younger than `ttl` seconds, else `compute()`'s (computed once)."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < ttl:
            self._entries.move_to_end(key)
            value: T = entry[1]
            return value
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)  # type: ignore[no-any-return]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        generation = self._generation
        try:
            value = await compute()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters get it, nobody is warned about it
            raise
        finally:
            del self._pending[key]
        future.set_result(value)
        if generation == self._generation:  # not computed across an invalidation: may be stale
            self._entries[key] = (now, value)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value

    def invalidate(self) -> None:
        """Forget everything (after a moderator changed tips), including what is being computed."""
        self._entries.clear()
        self._generation += 1


AGGREGATES = web.AppKey("review_aggregates", AggregateCache)


def aggregates(request: web.Request) -> AggregateCache:
    return request.config_dict[AGGREGATES]
