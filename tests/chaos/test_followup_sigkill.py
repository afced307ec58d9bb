"""A follow-up question committed just before the bot process is SIGKILLed reaches the tipster exactly once.

The bot runs as `python -m bot.cli run --webhook` (a separate process). The question is committed
as the dashboard commits it (the row is the outbox); meanwhile Telegram (the emulator) refuses
every sendMessage with 502, so nothing can go out before the kill, whether the sender had
already claimed the row or not. After the restart the refusals stop: the tipster must receive the
question once, and further sender rounds must not send it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from emulator import BotApiEmulator
from storage.db import create_engine, create_session_factory
from storage.models import ModeratorRole, TipMessage
from storage.privacy import Privacy
from storage.uow import Database
from tests.chaos.botproc import SECRET_KEY, ProcessPool, bot_env, free_port, import_demo_catalog
from tests.support.followup import submit_tip, wait_until

QUESTION = "Question from the investigators: which shop sold it?"
USER = 880_001

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[Database]:
    engine = create_engine(database_url)
    try:
        yield Database(create_session_factory(engine), Privacy(SECRET_KEY))
    finally:
        await engine.dispose()


async def question_row(database: Database, question_id: int) -> TipMessage:
    async with database.session_factory() as session:
        row = await session.scalar(select(TipMessage).where(TipMessage.id == question_id))
    assert row is not None
    return row


async def test_question_committed_before_a_sigkill_is_delivered_once(
    database_url: str, chaos_emulator: BotApiEmulator, processes: ProcessPool, tmp_path: Path, storage: Database
) -> None:
    media = tmp_path / "media"
    await import_demo_catalog(database_url, media, tmp_path)
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/telegram/webhook"
    env = bot_env(chaos_emulator, database_url, port=port, media_dir=media, webhook_url=webhook)
    bot = processes.add("bot", env, port)
    await bot.start()
    tip_id = await submit_tip(chaos_emulator, USER, "en", "A red bag in Dover", consent=True)

    chaos_emulator.fail_next("sendMessage", error_code=502, retry_after=None, times=100_000)
    async with storage.unit_of_work() as uow:
        moderator = await uow.moderators.add("mia", "not-a-real-hash", ModeratorRole.MODERATOR)
        question_id = await uow.followup.add_question(tip_id, moderator.id, QUESTION, QUESTION, True)
        await uow.commit()

    async def claimed() -> bool:
        return (await question_row(storage, question_id)).delivery_attempts >= 1

    await wait_until(claimed)  # the sender took it and Telegram refused: the claim is committed
    await bot.kill()
    user = chaos_emulator.user(USER)
    assert not [message for message in user.messages if QUESTION in message.plain_text]
    row = await question_row(storage, question_id)
    assert row.delivered_at is None and row.delivery_next_attempt_at is not None

    chaos_emulator.state.faults.clear()
    await bot.start()

    async def delivered() -> bool:
        return (await question_row(storage, question_id)).delivered_at is not None

    await wait_until(delivered, within=30)
    await asyncio.sleep(3)  # several more sender rounds (every second with this grace)
    received = [message for message in user.messages if QUESTION in message.plain_text]
    assert len(received) == 1, "exactly once"
    sent = [call for call in chaos_emulator.calls_to("sendMessage") if call.ok and QUESTION in str(call.params)]
    assert len(sent) == 1
    row = await question_row(storage, question_id)
    assert row.telegram_message_id == received[0].message_id and row.delivery_next_attempt_at is None
