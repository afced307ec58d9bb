"""The outbox's rules at the storage level: idempotent enqueueing, exclusive claims, at-most-once recovery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.models import AnnouncementState, OutboxMessage, OutboxState
from storage.uow import Database

LEASE = timedelta(seconds=10)


async def subscribers(database: Database, count: int) -> list[int]:
    async with database.unit_of_work() as uow:
        ids = []
        for user_id in range(count):
            reporter, _, _ = await uow.reporters.open_chat(
                70_000 + user_id, 70_000 + user_id, language="en", telegram_language="en", initial_state="browsing"
            )
            await uow.reporters.update(
                reporter.id, wants_news=user_id != 0, blocked=user_id == 1, opted_in_at=datetime.now(UTC)
            )
            ids.append(reporter.id)
        await uow.commit()
    return ids


async def announce(database: Database, state: AnnouncementState = AnnouncementState.SENDING) -> int:
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        announcement_id = await uow.announcements.create("News", {}, None, None)
        await uow.announcements.move(announcement_id, (AnnouncementState.DRAFT,), state=state)
        await uow.outbox.enqueue_announcement(announcement_id, now)
        await uow.commit()
    return announcement_id


async def states(database: Database) -> list[str]:
    async with database.unit_of_work() as uow:
        return list((await uow.session.scalars(select(OutboxMessage.state).order_by(OutboxMessage.id))).all())


async def test_enqueueing_twice_adds_nobody_twice_and_skips_the_unsubscribed(database: Database) -> None:
    await subscribers(database, 6)  # the first wants no news, the second is blocked by moderators
    announcement_id = await announce(database)
    async with database.unit_of_work() as uow:
        assert await uow.outbox.enqueue_announcement(announcement_id, datetime.now(UTC)) == 0
        await uow.commit()
    assert await states(database) == ["queued"] * 4


async def test_concurrent_claims_never_take_the_same_row(database: Database) -> None:
    await subscribers(database, 12)
    await announce(database)

    async def claim() -> list[int]:
        async with database.unit_of_work() as uow:
            jobs = await uow.outbox.claim(datetime.now(UTC), LEASE, limit=3)
            await uow.commit()
        return [job.id for job in jobs]

    claimed = [job_id for batch in await asyncio.gather(*(claim() for _ in range(5))) for job_id in batch]
    assert len(claimed) == len(set(claimed)) == 10


async def test_a_paused_announcement_is_not_claimed(database: Database) -> None:
    await subscribers(database, 3)
    await announce(database, AnnouncementState.PAUSED)
    async with database.unit_of_work() as uow:
        assert await uow.outbox.claim(datetime.now(UTC), LEASE) == []


async def test_recovery_requeues_claims_but_never_repeats_a_send_in_doubt(database: Database) -> None:
    await subscribers(database, 5)
    await announce(database)
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        claimed, sending = await uow.outbox.claim(now, LEASE, limit=2)
        assert await uow.outbox.mark_sending(sending, now, LEASE)
        await uow.commit()
    later = now + LEASE + timedelta(seconds=1)  # both workers died
    async with database.unit_of_work() as uow:
        assert await uow.outbox.recover(later) == (1, 1)
        assert not await uow.outbox.mark_sending(claimed, later, LEASE), "a stale claim cannot start a send"
        await uow.commit()
    assert sorted(await states(database)) == ["interrupted", "queued", "queued"]


async def test_a_claim_taken_over_by_another_worker_stays_theirs(database: Database) -> None:
    await subscribers(database, 3)
    await announce(database)
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        (mine,) = await uow.outbox.claim(now, LEASE)
        await uow.commit()
    later = now + LEASE + timedelta(seconds=1)
    async with database.unit_of_work() as uow:
        await uow.outbox.recover(later)
        (theirs,) = await uow.outbox.claim(later, LEASE)
        assert theirs.id == mine.id
        await uow.outbox.unclaim(mine)  # the first worker gives up late: nothing changes
        assert await uow.outbox.mark_sending(theirs, later, LEASE)
        await uow.commit()
    assert (await states(database)).count(OutboxState.SENDING) == 1


async def test_news_queued_before_an_unsubscribe_a_stop_or_a_ban_is_dropped_not_sent(database: Database) -> None:
    ids = await subscribers(database, 6)  # the last four are queued
    announcement_id = await announce(database)
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        await uow.outbox.enqueue_preview(announcement_id, "en", now)  # a preview has no reporter: unaffected
        (waiting,) = await uow.outbox.claim(now, LEASE)  # claimed, then waiting for the limiter
        await uow.commit()
    others = [reporter_id for reporter_id in ids[2:] if reporter_id != waiting.reporter_id]
    async with database.unit_of_work() as uow:
        await uow.reporters.update(waiting.reporter_id, wants_news=False)  # /news off
        await uow.reporters.update(others[0], stopped_at=now)  # /stop
        await uow.reporters.update(others[1], blocked=True)  # a moderator's ban
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert not await uow.outbox.mark_sending(waiting, now, LEASE), "no send once they unsubscribed"
        await uow.outbox.unclaim(waiting)
        jobs = await uow.outbox.claim(now, LEASE, limit=10)
        await uow.commit()
    assert sorted(job.reporter_id or 0 for job in jobs) == [0, others[2]]
    async with database.unit_of_work() as uow:
        dropped = await uow.session.execute(
            select(OutboxMessage.reporter_id, OutboxMessage.failure).where(OutboxMessage.state == OutboxState.FAILED)
        )
        assert sorted(tuple(row) for row in dropped.all()) == sorted(
            (reporter_id, "unsubscribed") for reporter_id in (waiting.reporter_id, others[0], others[1])
        )
