"""An announcement to 600 subscribers, sent by two bot processes, one of them SIGKILLed mid-way.

With the real default limits (TELEGRAM_RATE_LIMIT=30, one message per chat per second) the
emulator's own clock must never see more than 30 messages in any one-second window nor two
messages to one chat within a second; the emulator's flood control (which would answer 429) is on
and must never trigger. One injected 429 with retry_after must hold every sender back; users who
blocked the bot (403) are unsubscribed; after the SIGKILL and a restart nobody gets the
announcement twice, and everyone gets it once except a send the kill left in doubt (at most one
per sender of the killed process: "interrupted", never repeated).

Run with `-s` to see the figures.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.outbox import SENDERS
from emulator import BotApiEmulator
from emulator.models import ApiCall
from storage.db import create_engine, create_session_factory
from storage.models import Announcement, AnnouncementState, OutboxMessage, OutboxState, Reporter
from storage.privacy import Privacy
from storage.uow import Database
from tests.chaos.botproc import SECRET_KEY, BotProcess, ProcessPool, bot_env, free_port, import_demo_catalog
from tests.test_send_limiter import most_in_one_second

USERS = 600
FIRST_USER_ID = 900_000
BLOCKED_EVERY = 40  # every 40th user blocked the bot: 15 of them
RATE = 30  # the default TELEGRAM_RATE_LIMIT
RETRY_AFTER = 3
KILL_AFTER_SENDS = 200
FINISH_SECONDS = 150.0

pytestmark = pytest.mark.timeout(300)


def user_ids() -> list[int]:
    return [FIRST_USER_ID + index for index in range(USERS)]


def blocked(user_id: int) -> bool:
    return (user_id - FIRST_USER_ID) % BLOCKED_EVERY == 7


async def subscribe_and_announce(database_url: str) -> int:
    """600 reporters who asked for news, and an announcement queued for them as the dashboard does."""
    engine = create_engine(database_url)
    try:
        database = Database(create_session_factory(engine), Privacy(SECRET_KEY))
        now = datetime.now(UTC)
        async with database.unit_of_work() as uow:
            for user_id in user_ids():
                reporter, _, _ = await uow.reporters.open_chat(
                    user_id, user_id, language="en", telegram_language="en", initial_state="browsing"
                )
                await uow.reporters.update(reporter.id, wants_news=True, opted_in_at=now)
            announcement_id = await uow.announcements.create("New objects to look at: send /start", {}, None, None)
            await uow.announcements.move(
                announcement_id, (AnnouncementState.DRAFT,), state=AnnouncementState.SENDING, started_at=now
            )
            assert await uow.outbox.enqueue_announcement(announcement_id, now) == USERS
            await uow.commit()
        return announcement_id
    finally:
        await engine.dispose()


async def outbox_rows(database_url: str) -> dict[str, str]:
    """Each user's outbox row state, by pseudonym."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(
                select(Reporter.pseudonym, OutboxMessage.state).join(Reporter, Reporter.id == OutboxMessage.reporter_id)
            )
            return {pseudonym: state for pseudonym, state in rows.all()}
    finally:
        await engine.dispose()


async def wait_until_finished(database_url: str, timeout: float) -> None:  # noqa: ASYNC109
    engine = create_engine(database_url)
    open_states = [OutboxState.QUEUED, OutboxState.CLAIMED, OutboxState.SENDING]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while loop.time() < deadline:
            async with create_session_factory(engine)() as session:
                left = await session.scalar(select(func.count()).where(OutboxMessage.state.in_(open_states)))
                state = await session.scalar(select(Announcement.state))
            if not left and state == AnnouncementState.DONE:
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"{left} outbox rows still open after {timeout} s (announcement {state})")
    finally:
        await engine.dispose()


async def wait_for_sends(emulator: BotApiEmulator, count: int, timeout: float) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while sum(call.ok for call in emulator.calls_to("sendMessage")) < count:
        assert loop.time() < deadline, f"fewer than {count} messages after {timeout} s"
        await asyncio.sleep(0.1)


def chat_of(call: ApiCall) -> int:
    return int(call.params["chat_id"])


async def test_broadcast_to_600_with_two_workers_and_a_sigkill(
    database_url: str, chaos_emulator: BotApiEmulator, processes: ProcessPool, tmp_path: Path
) -> None:
    started = time.monotonic()
    media = tmp_path / "media"
    await import_demo_catalog(database_url, media, tmp_path)
    await subscribe_and_announce(database_url)
    for user_id in user_ids():
        user = chaos_emulator.user(user_id)
        if blocked(user_id):
            user.block()
    flood = chaos_emulator.flood_control(per_chat=1, overall=RATE, retry_after=1)
    chaos_emulator.fail_next("sendMessage", 429, retry_after=RETRY_AFTER)

    workers: list[BotProcess] = []
    for name in ("first", "second"):
        port = free_port()
        webhook = f"http://127.0.0.1:{port}/telegram/webhook"
        env = bot_env(chaos_emulator, database_url, port=port, media_dir=media, webhook_url=webhook)
        env["TELEGRAM_RATE_LIMIT"] = str(RATE)
        workers.append(processes.add(name, env, port))
    await asyncio.gather(*(worker.start() for worker in workers))

    await wait_for_sends(chaos_emulator, KILL_AFTER_SENDS, timeout=60)
    await workers[0].kill()
    await asyncio.sleep(1.0)
    await workers[0].start()
    await wait_until_finished(database_url, FINISH_SECONDS)
    await asyncio.gather(*(worker.stop() for worker in workers))

    calls = [
        call
        for call in chaos_emulator.calls_to("sendMessage")
        if FIRST_USER_ID <= chat_of(call) < FIRST_USER_ID + USERS
    ]
    # Telegram's limits, on the emulator's clock: every call counts, accepted or not.
    assert most_in_one_second([call.at for call in calls]) <= RATE
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        per_chat[chat_of(call)].append(call.at)
    too_close = [
        chat for chat, times in per_chat.items() if any(b - a < 1.0 for a, b in itertools.pairwise(sorted(times)))
    ]
    assert too_close == []
    assert flood.refused == 0, "the emulator's flood control had to refuse messages"

    # The injected 429 held back every sender of both processes for retry_after (sends already under
    # way when it arrived may land just after it).
    refused = [call for call in calls if call.error and call.error.startswith("Too Many Requests")]
    assert len(refused) == 1
    hold = refused[0].at
    assert not [call for call in calls if hold + 1.0 <= call.at < hold + RETRY_AFTER]

    privacy = Privacy(SECRET_KEY)
    states = await outbox_rows(database_url)
    delivered = Counter(chat_of(call) for call in calls if call.ok)
    state_of = {user_id: states[privacy.pseudonym(user_id)] for user_id in user_ids()}
    assert max(delivered.values()) == 1, "somebody got the announcement twice"
    for user_id, state in state_of.items():
        if blocked(user_id):
            # Refused (403), or in doubt when the kill came while that refusal was on its way back.
            assert delivered[user_id] == 0 and state in (OutboxState.FAILED, OutboxState.INTERRUPTED), (user_id, state)
        elif state == OutboxState.SENT:
            assert delivered[user_id] == 1, user_id
        else:
            assert state == OutboxState.INTERRUPTED, (user_id, state)
    in_doubt = [user_id for user_id, state in state_of.items() if state == OutboxState.INTERRUPTED]
    assert len(in_doubt) <= SENDERS  # one kill: at most one send in flight per sender
    missed = [user_id for user_id in user_ids() if not blocked(user_id) and not delivered[user_id]]
    assert set(missed) <= set(in_doubt)

    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        subscribed = dict((await session.execute(select(Reporter.pseudonym, Reporter.wants_news))).all())
    await engine.dispose()
    # Every 403 that was recorded unsubscribed its reporter (one lost with a kill could not be).
    assert [user_id for user_id in user_ids() if not subscribed[privacy.pseudonym(user_id)]] == [
        user_id for user_id in user_ids() if blocked(user_id) and state_of[user_id] == OutboxState.FAILED
    ]
    accepted = sorted(call.at for call in calls if call.ok)
    busiest_ten_seconds = max(sum(1 for t in accepted[i:] if t < start + 10) for i, start in enumerate(accepted))
    print(
        f"\nBROADCAST {database_url.split(':', 1)[0]}: users={USERS} delivered={sum(delivered.values())} "
        f"blocked={sum(map(blocked, user_ids()))} in_doubt={len(in_doubt)} missed={len(missed)} "
        f"peak_per_second={most_in_one_second([call.at for call in calls])} "
        f"steady_rate={busiest_ten_seconds / 10:.1f}/s first_to_last={accepted[-1] - accepted[0]:.1f}s "
        f"seconds={time.monotonic() - started:.1f}"
    )
