"""Privacy (delete my data, nothing identifying in the database) and abuse (floods, blocked reporters)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from sqlalchemy import func, select, update

from emulator import BotApiEmulator
from handlers.flood import FloodGuard
from storage.models import Conversation, Reporter, Tip
from tests.support.flows import opt_in, send_tip
from tests.support.harness import RunningBot, make_settings, running_bot


async def test_delete_my_data_unlinks_tips(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 5001)
    await send_tip(user, "Bought in Utrecht")
    await user.send_command("privacy")
    notice = await user.wait_for_message()
    assert "/delete_my_data" in notice.plain_text
    await user.send_command("delete_my_data")
    question = await user.wait_for_message()
    assert "tips you already sent stay" in question.plain_text.lower()
    await user.press("Yes, delete my data")
    await user.wait_for_message(lambda message: "has been deleted" in message.plain_text)
    async with bot.services.database.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Reporter)) == 0
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
        tip = await session.scalar(select(Tip))
    assert tip is not None and tip.reporter_id is None and tip.text_original == "Bought in Utrecht"
    # Coming back starts afresh: opt-in again, no image before it.
    await user.send_command("start")
    welcome = await user.wait_for_message()
    assert "I understand, show me the objects" in welcome.button_labels


async def test_declining_deletion_keeps_everything(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 5002)
    await user.send_command("delete_my_data")
    await user.wait_for_message()
    await user.press("No, keep it")
    await user.wait_for_message(lambda message: "Nothing was deleted" in message.plain_text)
    async with bot.services.database.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Reporter)) == 1


async def test_database_file_alone_reveals_no_telegram_id(emulator: BotApiEmulator, tmp_path: Path) -> None:
    database = tmp_path / "tracebot.db"
    settings = make_settings(f"sqlite+aiosqlite:///{database}", emulator, tmp_path / "media")
    telegram_id = 7_301_998_412
    async with running_bot(settings, catalog_dir=tmp_path / "catalog"):
        user = emulator.user(telegram_id, first_name="Zofia", username="zofia_k", language_code="en")
        await user.send_command("start")
        welcome = await user.wait_for_message()
        await user.press_data(welcome.message_id, "optin")
        await user.wait_for_message(lambda message: message.kind == "photo")
        await send_tip(user, "Seen in a shop")
    raw = await asyncio.to_thread(lambda: b"".join(path.read_bytes() for path in tmp_path.glob("tracebot.db*")))
    as_text = str(telegram_id).encode()
    assert (
        as_text not in raw
        and telegram_id.to_bytes(8, "big") not in raw
        and telegram_id.to_bytes(8, "little") not in raw
    )
    assert b"Zofia" not in raw and b"zofia_k" not in raw
    for unkeyed in (hashlib.sha256, hashlib.sha1, hashlib.md5, hashlib.blake2b):
        assert unkeyed(as_text).hexdigest().encode() not in raw, "pseudonyms must be keyed, not plain hashes"


async def test_blocked_reporter_is_told_politely(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 5003)
    async with bot.services.database.session_factory() as session, session.begin():
        await session.execute(update(Reporter).values(blocked=True))
    await user.send_text("more tips")
    reply = await user.wait_for_message()
    assert "can no longer accept messages" in reply.plain_text
    async with bot.services.database.session_factory() as session:
        assert await session.scalar(select(Conversation.draft)) == {}


async def test_flood_gets_one_slow_down_message(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 5004)
    for index in range(60):
        await user.send_text(f"flood {index}")
    await user.wait_for_message(lambda message: "very quickly" in message.plain_text, timeout=15)
    slow_downs = [message for message in user.messages if "very quickly" in message.plain_text]
    assert len(slow_downs) == 1


def test_flood_guard_refills() -> None:
    guard = FloodGuard(rate=1.0, burst=3)
    assert [guard.admit(1, 0.0) for _ in range(5)] == ["ok", "ok", "ok", "warn", "drop"]
    assert guard.admit(2, 0.0) == "ok", "other users are not affected"
    assert guard.admit(1, 1.5) == "ok", "tokens come back over time"
    assert guard.admit(1, 1.5) == "warn", "a new flood is warned about again"
