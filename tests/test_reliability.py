"""Nothing a reporter was told is lost; nothing kept longer than needed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.maintenance import apply_retention
from emulator import BotApiEmulator
from storage.models import Conversation, ProcessedUpdate, Reporter, Tip
from tests.support.flows import REFERENCE, opt_in, send_tip, to_preview
from tests.support.harness import make_settings, running_bot


async def test_lost_confirmation_is_sent_again(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media", confirmation_grace_seconds=1)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 4001)
        preview = await to_preview(user, "Seen at a flea market in Gdańsk", "PL")
        # The tip commits, then Telegram fails the reply carrying its reference.
        emulator.fail_next("sendMessage", error_code=502, retry_after=None, description="Bad Gateway")
        await user.press_data(preview.message_id, "tip:send")
        later = await user.wait_for_message(
            lambda message: REFERENCE.search(message.plain_text) is not None, timeout=15
        )
        match = REFERENCE.search(later.plain_text)
        assert match is not None
        for _ in range(50):  # marked confirmed right after Telegram accepted the message
            async with bot.services.database.session_factory() as session:
                tips = (await session.scalars(select(Tip))).all()
            if tips and tips[0].confirmed_at is not None:
                break
            await asyncio.sleep(0.1)
        assert [tip.reference for tip in tips] == [match.group()]
        assert tips[0].confirmed_at is not None
        assert sum(REFERENCE.search(message.plain_text) is not None for message in user.messages) == 1


async def test_confirmed_tips_are_not_resent(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media", confirmation_grace_seconds=1)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 4002)
        await send_tip(user, "Sold in Lidl", "unknown")
        for _ in range(50):  # the confirmation is recorded right after Telegram accepted it
            async with bot.services.database.session_factory() as session:
                tip = await session.scalar(select(Tip))
            if tip is not None and tip.confirmed_at is not None:
                break
            await asyncio.sleep(0.1)
        assert tip is not None and tip.confirmed_at is not None and tip.country_code is None
        try:
            extra = await user.wait_for_message(timeout=3)
        except TimeoutError:
            extra = None
        assert extra is None, f"unexpected message {extra}"


async def test_retention_erases_idle_reporters_and_stale_drafts(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_hourly_round(*args: object) -> None:  # the test purges itself; the bot's own round could run late
        await asyncio.Event().wait()

    monkeypatch.setattr("bot.web.run_hourly", no_hourly_round)
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 4003)
        await send_tip(user, "A tip that is sent")
        drafter = await opt_in(emulator, 4004)
        await drafter.send_text("an unsent draft")
        await drafter.wait_for_message(lambda message: "which country" in message.plain_text.lower())

        database = bot.services.database
        long_ago = datetime.now(UTC) - timedelta(days=400)
        async with database.session_factory() as session, session.begin():
            first = (await session.scalars(select(Reporter).order_by(Reporter.id))).first()
            assert first is not None
            await session.execute(update(Reporter).where(Reporter.id == first.id).values(last_seen_at=long_ago))
            await session.execute(update(Conversation).values(updated_at=long_ago))
            await session.execute(update(ProcessedUpdate).values(processed_at=long_ago))
        report = await apply_retention(database, retention_days=180)
        assert report.reporters == 1 and report.drafts >= 1 and report.update_ids > 0
        async with database.session_factory() as session:
            tip = await session.scalar(select(Tip))
            reporters = (await session.scalars(select(Reporter))).all()
            drafts = [conversation.draft for conversation in (await session.scalars(select(Conversation))).all()]
        assert tip is not None and tip.reporter_id is None and tip.text_original == "A tip that is sent"
        assert len(reporters) == 1
        assert drafts == [{}]
