"""Storage behaviour that only shows under concurrency or at the edges."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select, update

from storage.models import Reporter, Tip
from storage.repositories import TipDraft
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


async def test_last_seen_is_written_at_most_hourly(database: Database) -> None:
    """Retention reads `last_seen_at` in months: a turn rewrites it only when it is an hour old."""

    async def open_chat() -> None:
        async with database.unit_of_work() as uow:
            await uow.reporters.open_chat(42, 42, language="en", telegram_language="en", initial_state="welcome")
            await uow.commit()

    async def last_seen() -> datetime:
        async with database.unit_of_work() as uow:
            seen = await uow.session.scalar(select(Reporter.last_seen_at))
        assert seen is not None
        return seen

    await open_chat()
    first = await last_seen()
    await open_chat()
    assert await last_seen() == first, "rewritten within the hour"
    two_hours_ago = first - timedelta(hours=2)
    async with database.unit_of_work() as uow:
        await uow.session.execute(update(Reporter).values(last_seen_at=two_hours_ago))
        await uow.commit()
    await open_chat()
    assert await last_seen() > two_hours_ago + timedelta(hours=1)


async def test_stored_times_read_back_as_the_same_instant_in_utc(database: Database) -> None:
    """Written with any offset, read back (ORM and Core rows) as aware UTC datetimes: exports print `+00:00`.

    On asyncpg the values are not processed per row at all (the driver already reads timestamptz as
    UTC), on SQLite the naive stored value gets its zone back.
    """
    written = datetime(2024, 3, 1, 23, 59, 7, 123456, tzinfo=timezone(timedelta(hours=-5)))
    async with database.unit_of_work() as uow:
        await uow.reporters.open_chat(7, 7, language="en", telegram_language="en", initial_state="welcome")
        await uow.session.execute(update(Reporter).values(created_at=written))
        await uow.commit()
    async with database.unit_of_work() as uow:
        orm = (await uow.session.scalars(select(Reporter))).one().created_at
        core = (await (await uow.session.connection()).execute(select(Reporter.created_at))).scalar_one()
    for value in (orm, core):
        assert value == written and value.tzinfo is UTC
        assert value.isoformat() == "2024-03-02T04:59:07.123456+00:00"


async def test_a_draft_makes_one_tip_however_often_it_is_sent(database: Database) -> None:
    """One statement per tip (INSERT ... ON CONFLICT DO NOTHING): a draft sent again gets the first tip back."""
    async with database.unit_of_work() as uow:
        reporter, _, _ = await uow.reporters.open_chat(8, 8, language="en", telegram_language="en", initial_state="")
        draft = TipDraft(str(uuid.uuid4()), None, reporter.id, None, True, "DE", None, "a blue mug", None, None, "en")
        first = await uow.tips.submit(draft)
        again = await uow.tips.submit(draft)
        await uow.commit()
    async with database.unit_of_work() as uow:
        third = await uow.tips.submit(replace(draft, text_original="edited after sending"))
        await uow.commit()
        stored = (await uow.session.execute(select(Tip.id, Tip.text_original))).all()
    assert first[1] and not again[1] and not third[1]
    assert first[0] == again[0] == third[0] and stored == [(first[0], "a blue mug")]
