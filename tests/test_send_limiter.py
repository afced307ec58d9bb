"""The proactive-send limiter shared through the database: two "processes", one budget."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest

from storage.db import create_engine, create_session_factory
from storage.privacy import Privacy
from storage.send_limiter import SendLimiter
from storage.uow import Database

PER_SECOND = 10


@pytest.fixture
async def second_process(database: Database, database_url: str) -> AsyncIterator[Database]:
    """Another engine on the same database, as another bot instance would have."""
    engine = create_engine(database_url)
    try:
        yield Database(create_session_factory(engine), Privacy("k" * 40))
    finally:
        await engine.dispose()


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for other in times[index:] if other < start + 1.0) for index, start in enumerate(times))


async def test_two_processes_share_the_overall_and_per_chat_limits(
    database: Database, second_process: Database
) -> None:
    limiters = [SendLimiter(database, PER_SECOND), SendLimiter(second_process, PER_SECOND)]
    # 36 chats written once and one chat written four times, by 8 senders split over the two processes.
    keys = [f"chat:{index}" for index in range(36)] + ["chat:hot"] * 4
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in keys:
        queue.put_nowait(key)
    sent: dict[str, list[float]] = defaultdict(list)

    async def sender(limiter: SendLimiter) -> None:
        while not queue.empty():
            key = queue.get_nowait()
            async with limiter.slot(key):
                sent[key].append(time.time())  # what Telegram would see: the moment of the call
                await asyncio.sleep(0.01)

    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for index in range(8):
            group.create_task(sender(limiters[index % 2]))
    elapsed = time.monotonic() - started

    everything = [at for times in sent.values() for at in times]
    assert len(everything) == 40
    assert most_in_one_second(everything) <= PER_SECOND
    hot = sorted(sent["chat:hot"])
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(hot))
    # The limit is a ceiling, not a crawl: 40 sends at 10/s take about 4 s, not one a second.
    assert elapsed < 9, elapsed


async def test_a_pause_holds_back_every_process(database: Database, second_process: Database) -> None:
    first, second = SendLimiter(database, PER_SECOND), SendLimiter(second_process, PER_SECOND)
    await first.pause(1.5)
    paused_at = time.time()
    async with second.slot("chat:1"):
        started = time.time()
    assert started - paused_at >= 1.4
