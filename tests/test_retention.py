"""Retention purges in batches, each its own transaction, so turns go on while a large purge runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from bot.maintenance import apply_retention
from storage.db import create_turn_engine
from storage.models import Conversation, ProcessedUpdate, Reporter
from storage.uow import Database

LONG_AGO = datetime.now(UTC) - timedelta(days=400)


async def seed(database: Database, *, reporters: int, update_ids: int) -> None:
    """`reporters` idle ones with an unsent draft, one active; `update_ids` old update ids and one recent."""
    for user in range(reporters + 1):
        async with database.unit_of_work() as uow:
            await uow.reporters.open_chat(
                1000 + user, 1000 + user, language="en", telegram_language="en", initial_state="details"
            )
            await uow.commit()
    async with database.session_factory() as session, session.begin():
        active = await session.scalar(select(func.max(Reporter.id)))
        await session.execute(update(Reporter).where(Reporter.id != active).values(last_seen_at=LONG_AGO))
        await session.execute(update(Conversation).values(updated_at=LONG_AGO, draft={"text": "unsent"}))
        if update_ids:
            await session.execute(
                insert(ProcessedUpdate),
                [{"bot_id": 1, "update_id": number, "processed_at": LONG_AGO} for number in range(update_ids)],
            )
        await session.execute(insert(ProcessedUpdate).values(bot_id=1, update_id=10**9, processed_at=datetime.now(UTC)))


async def counts(database: Database) -> tuple[int, int, int]:
    async with database.session_factory() as session:
        reporters = await session.scalar(select(func.count()).select_from(Reporter))
        drafts = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.state != "browsing")
        )
        update_ids = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
    return int(reporters or 0), int(drafts or 0), int(update_ids or 0)


async def test_a_purge_in_batches_takes_everything_due_and_nothing_else(database: Database) -> None:
    await seed(database, reporters=25, update_ids=250)
    report = await apply_retention(database, retention_days=180, batch=7, pause=0)
    assert (report.reporters, report.update_ids) == (25, 250)
    assert report.drafts == 26  # every draft was stale (the active reporter's too), then 25 of them erased
    assert await counts(database) == (1, 0, 1)  # the active reporter, its emptied draft, the recent update id
    again = await apply_retention(database, retention_days=180, batch=7, pause=0)
    assert (again.drafts, again.reporters, again.update_ids) == (0, 0, 0)


async def test_turns_go_on_while_a_large_purge_runs(database_url: str, database: Database) -> None:
    await seed(database, reporters=0, update_ids=3_000)
    turn_engine = create_turn_engine(database_url)  # as in the bot: SQLite turns on their own connection
    bot_database = Database(database.session_factory, database.privacy, turn_engine=turn_engine)
    try:
        purge = asyncio.create_task(apply_retention(bot_database, retention_days=180, batch=100, pause=0.02))
        for _ in range(2_000):  # until the first batches are committed: the purge is under way
            if (await counts(database))[2] <= 2_900:
                break
            await asyncio.sleep(0.005)
        async with asyncio.timeout(1):
            async with bot_database.turn() as uow:
                assert await uow.updates.claim(1, 10**9 + 1)
                await uow.commit()
        assert not purge.done()  # the turn did not wait for the whole purge
        assert (await purge).update_ids == 3_000
    finally:
        if turn_engine is not None:
            await turn_engine.dispose()
    assert (await counts(database))[2] == 2  # the two recent update ids


async def test_a_reporter_seen_again_during_a_batch_is_kept(database: Database) -> None:
    """Between a batch's select and its write a turn may commit (PostgreSQL): the write checks again."""
    from storage.repositories.retention import RetentionRepository

    await seed(database, reporters=2, update_ids=0)
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        retention = uow.retention
        session = retention._session
        select_ids = session.scalars

        async def then_seen_again(statement: Any) -> Any:  # what a turn committing now would leave
            ids = await select_ids(statement)
            await session.execute(update(Reporter).values(last_seen_at=now))
            await session.execute(update(Conversation).values(updated_at=now, draft={"text": "new"}))
            return ids

        session.scalars = then_seen_again  # type: ignore[method-assign]
        before = now - timedelta(days=180)
        drafts = await RetentionRepository.drop_stale_drafts(retention, before, "browsing", after=0, limit=10)
        reporters = await RetentionRepository.erase_idle_reporters(retention, before, after=0, limit=10)
        await uow.commit()
    assert (drafts.purged, reporters.purged) == (0, 0)
    assert await counts(database) == (3, 3, 1)  # every reporter, every draft kept
