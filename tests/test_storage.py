"""Storage behaviour that only shows under concurrency or at the edges."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import Reporter
from storage.uow import Database


async def test_first_contact_race_creates_one_reporter(database: Database) -> None:
    """Two instances see a new user's first two updates at once: one reporter, no error."""

    async def first_contact(pause: float) -> bool:
        async with database.unit_of_work() as uow:
            _reporter, _conversation, created = await uow.reporters.open_chat(
                42, 42, language="en", telegram_language="en", initial_state="welcome"
            )
            await asyncio.sleep(pause)  # hold the transaction open while the other one tries
            await uow.commit()
        return created

    results = await asyncio.gather(first_contact(0.3), first_contact(0.0))
    assert sorted(results) == [False, True]
    async with database.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Reporter)) == 1


async def test_update_claim_is_exactly_once(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.updates.claim(1, 100) is True
        assert await uow.updates.claim(1, 100) is False
        assert await uow.updates.claim(2, 100) is True, "update ids are per bot"
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert await uow.updates.claim(1, 101) is True
        await uow.rollback()  # the handler failed: the update may be processed again
    async with database.unit_of_work() as uow:
        assert await uow.updates.claim(1, 101) is True
        assert await uow.updates.claim(1, 100) is False
