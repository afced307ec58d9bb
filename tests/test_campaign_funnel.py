"""A campaign manager's campaign, end to end: upload, campaign, QR code, a reporter's tip, the funnel.

The real bot (PTB against the emulator) and the real dashboard share one database and media folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bot.web
from emulator import BotApiEmulator
from storage.db import create_engine, create_session_factory
from storage.models import Base, Conversation, FunnelCount, FunnelStep, ModeratorRole, Tip, parse_tip_reference
from storage.repositories.funnel import FunnelBuffer
from storage.uow import Database
from tests.review.support import CHEAP, PASSWORD, csrf_of, dashboard_app, make_config, page_csrf, sign_in
from tests.review.support import make_settings as dashboard_settings
from tests.support.flows import opt_in, send_tip
from tests.support.harness import RunningBot, running_bot
from tests.support.harness import make_settings as make_bot_settings
from tests.support.images import has_metadata, jpeg_with_gps
from tests.support.qr import decode_qr, needs_zbar

pytestmark = needs_zbar

INTRO = "Thank you for helping the spring appeal!"


@pytest.fixture
async def manager(bot: RunningBot, aiohttp_client: Any) -> TestClient[Any, Any]:
    """The dashboard on the bot's database and media folder, signed in as a campaign manager."""
    services = bot.services
    async with services.database.unit_of_work() as uow:
        await uow.moderators.add("carol", CHEAP.hash(PASSWORD), ModeratorRole.CAMPAIGN_MANAGER)
        await uow.commit()
    settings = dashboard_settings(services.settings.database_url, services.media_dir)
    client: TestClient[Any, Any] = await aiohttp_client(
        dashboard_app(settings, make_config(bot_username="TracebotTestBot"))
    )
    assert (await sign_in(client, "carol")).status == 303
    return client


async def create_object_and_campaign(client: TestClient[Any, Any]) -> tuple[int, int]:
    form = FormData()
    form.add_field("csrf_token", csrf_of(await (await client.get("/review/objects/new")).text()))
    form.add_field("reference", "TAO-0900")
    form.add_field("question", "Where is this red tile from?")
    form.add_field("image", jpeg_with_gps(), filename="tile.jpg", content_type="image/jpeg")
    created = await client.post("/review/objects/new", data=form, allow_redirects=False)
    assert created.status == 303, await created.text()
    object_id = int(created.headers["Location"].split("/")[3])
    token = await page_csrf(client, "/review/campaigns/new")
    campaign = await client.post(
        "/review/campaigns/new",
        data={
            "csrf_token": token,
            "code": "spring26",
            "title": "Spring 2026",
            "status": "active",
            "objects": "TAO-0900, TAO-0001",
            "intro": f"en | {INTRO}",
        },
        allow_redirects=False,
    )
    assert campaign.status == 303, await campaign.text()
    return object_id, int(campaign.headers["Location"].split("/")[3])


async def funnel_totals(database: Database, campaign_id: int) -> dict[str, int]:
    await database.flush_counts()  # the bot's counts are buffered for up to a second (FunnelBuffer)
    async with database.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(FunnelCount.step, func.sum(FunnelCount.count))
            .where(FunnelCount.campaign_id == campaign_id)
            .group_by(FunnelCount.step)
        )
        return {step: int(total) for step, total in rows.all()}


async def row_counts(database: Database) -> dict[str, int]:
    await database.flush_counts()
    async with database.unit_of_work() as uow:
        return {
            table.name: int(await uow.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def test_campaign_qr_to_attributed_tip_and_funnel(
    bot: RunningBot, emulator: BotApiEmulator, manager: TestClient[Any, Any], tmp_path: Path
) -> None:
    database = bot.services.database
    object_id, campaign_id = await create_object_and_campaign(manager)
    png = await (await manager.get(f"/review/links/code.png?campaign={campaign_id}&channel=x")).read()
    url = (await asyncio.to_thread(decode_qr, png, tmp_path)).strip()
    assert url == "https://t.me/TracebotTestBot?start=c-spring26_s-x"

    user = await opt_in(emulator, 3001, url.partition("?start=")[2])
    card = user.last_message
    assert "TAO-0900" in card.plain_text, "the campaign's first object"
    assert any(INTRO in message.plain_text for message in user.messages), "the intro line after opt-in"
    sent = emulator.state.files.get(card.photo_file_id or "")
    assert sent is not None and not has_metadata(sent.data), "Telegram got the re-encoded image only"
    for _ in range(100):  # remembered just after the send, in its own unit of work
        async with database.unit_of_work() as uow:
            obj = await uow.objects.get(object_id)
        if obj is not None and obj.telegram_file_id:
            break
        await asyncio.sleep(0.05)
    assert obj is not None and obj.telegram_file_id == card.photo_file_id, "the file id is cached after the first send"
    stored = await asyncio.to_thread((bot.services.media_dir / obj.image_path).read_bytes)
    assert sent.data == stored

    await send_tip(user, "Tiles like this are sold in a market in Porto")
    async with database.unit_of_work() as uow:
        tip = await uow.session.scalar(select(Tip).order_by(Tip.id.desc()))
        assert tip is not None
        assert (tip.object_id, tip.campaign_id, tip.channel) == (object_id, campaign_id, "x")
    expected = {"link_opened": 1, "opted_in": 1, "object_viewed": 1, "tip_started": 1, "tip_sent": 1}
    assert await funnel_totals(database, campaign_id) == expected
    page = await (await manager.get(f"/review/funnel?campaign={campaign_id}")).text()
    assert "How these counts are made" in page and "TAO-0900" in page
    assert "<td>x</td>" + '<td class="num">1</td>' * 5 in page.replace("\n", "").replace("    ", "")

    # A second reporter pages forward and back and sends a tip: counters go up in place (a new one only
    # for TAO-0001's first view); nothing per person is added beyond the reporter, their conversation,
    # the updates seen and the tip itself.
    await bot.command_menus_published()  # its one row in `publications` is written in the background
    before = await row_counts(database)
    second = await opt_in(emulator, 3002, url.partition("?start=")[2])
    await second.press("Next ▶")
    await second.wait_for_message(lambda message: message.kind == "photo" and "TAO-0001" in message.plain_text)
    await second.press("◀ Previous")  # back to a card already counted as viewed on this visit
    await second.wait_for_message(lambda message: message.kind == "photo" and "TAO-0900" in message.plain_text)
    await send_tip(second, "Same tile, seen in Lisbon")
    after = await row_counts(database)
    async with database.unit_of_work() as uow:
        first_object = await uow.objects.by_reference("TAO-0001")
    assert first_object is not None
    grown = {name for name in after if after[name] != before[name]}
    assert grown <= {"reporters", "conversations", "processed_updates", "tips", "funnel_counts"}
    assert after["funnel_counts"] - before["funnel_counts"] == 1, "only TAO-0001's first view is a new counter"
    totals = await funnel_totals(database, campaign_id)
    assert totals == {"link_opened": 2, "opted_in": 2, "object_viewed": 3, "tip_started": 2, "tip_sent": 2}
    # No per-person trail: the counters carry no reporter, and no table gained a timestamp per step.
    columns = {column.name for column in Base.metadata.tables["funnel_counts"].columns}
    assert columns == {"day", "campaign_id", "object_id", "channel", "step", "count"}
    async with database.unit_of_work() as uow:
        viewed = list(await uow.session.scalars(select(Conversation.viewed)))  # object ids only, no times
    assert sorted(map(sorted, viewed), key=len) == [[object_id], sorted([object_id, first_object.id])]


async def test_an_ended_campaign_still_opens_the_bot(
    bot: RunningBot, emulator: BotApiEmulator, manager: TestClient[Any, Any]
) -> None:
    _, campaign_id = await create_object_and_campaign(manager)
    token = await page_csrf(manager, f"/review/campaigns/{campaign_id}/edit")
    response = await manager.post(
        f"/review/campaigns/{campaign_id}/edit",
        data={"csrf_token": token, "code": "spring26", "title": "Spring 2026", "status": "ended", "all_active": "1"},
        allow_redirects=False,
    )
    assert response.status == 303
    user = emulator.user(3003, first_name="Ana", language_code="en")
    await user.send_command("start", "c-spring26")
    note = await user.wait_for_message()
    assert "This appeal has ended" in note.plain_text
    await user.wait_for_message(lambda message: "privacy" in message.plain_text.lower())
    await user.press("I understand, show me the objects")
    card = await user.wait_for_message(lambda message: message.kind == "photo")
    assert "TAO-0900" not in card.plain_text, "all active objects in their usual order, not the campaign's"
    assert not any(INTRO in message.plain_text for message in user.messages)
    tip_id = parse_tip_reference(await send_tip(user, "I think this is from Spain"))
    async with bot.services.database.unit_of_work() as uow:
        credited = (await uow.session.execute(select(Tip.campaign_id).where(Tip.id == tip_id))).one()
    assert credited == (None,), "tips after the end are not credited to it"


async def test_counts_are_written_at_commit_and_dropped_with_a_rollback(database: Database) -> None:
    """Shared counter rows are locked only for the end of a turn; what a rolled-back turn counted never happened."""
    async with database.unit_of_work() as uow:
        await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)
        await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)
        assert await uow.session.scalar(select(func.count()).select_from(FunnelCount)) == 0, "written before commit"
        await uow.commit()
    async with database.unit_of_work() as uow:
        await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)
        await uow.rollback()
        await uow.funnel.count(FunnelStep.TIP_SENT, campaign_id=None, object_id=None)
        await uow.commit()
    async with database.unit_of_work() as uow:
        rows = (await uow.session.execute(select(FunnelCount.step, FunnelCount.count))).all()
    assert sorted((step, count) for step, count in rows) == [("opted_in", 2), ("tip_sent", 1)]


async def test_buffered_counts_are_written_by_a_flush_once_their_turn_committed(database: Database) -> None:
    """The bot's mode: a commit hands its counts to the process's buffer; a flush adds them up in one go."""
    buffered = Database(database.session_factory, database.privacy, counts=FunnelBuffer())
    for step in (FunnelStep.OPTED_IN, FunnelStep.OPTED_IN, FunnelStep.TIP_SENT):
        async with buffered.turn() as uow:
            await uow.funnel.count(step, campaign_id=None)
            await uow.commit()
    async with buffered.turn() as uow:
        await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)
        await uow.rollback()
    async with buffered.turn() as uow:
        await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)  # left without a commit: rolled back
    async with database.unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(FunnelCount)) == 0, "no counter in a turn"
    assert buffered.counts is not None and buffered.counts.pending == 3
    assert await buffered.flush_counts() == 3 and await buffered.flush_counts() == 0
    async with buffered.turn() as uow:
        await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)
        await uow.commit()
    assert await buffered.flush_counts() == 1
    async with database.unit_of_work() as uow:
        rows = (await uow.session.execute(select(FunnelCount.step, FunnelCount.count))).all()
    assert sorted((step, count) for step, count in rows) == [("opted_in", 3), ("tip_sent", 1)]


def transaction(
    session_factory: async_sessionmaker[AsyncSession],
) -> Callable[[], AbstractAsyncContextManager[AsyncSession]]:
    """A session in a transaction, committed when the block ends (what `FunnelBuffer.flush` writes in)."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session, session.begin():
            yield session

    return opened


async def test_a_failed_flush_keeps_the_counts_for_the_next(database: Database, tmp_path: Path) -> None:
    buffer = FunnelBuffer()
    buffer.add({(date(2026, 12, 2), 0, 0, "", "opted_in"): 2})
    unreachable = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/none.db")
    try:
        with pytest.raises(OperationalError):
            await buffer.flush(transaction(create_session_factory(unreachable)))
    finally:
        await unreachable.dispose()
    buffer.add({(date(2026, 12, 2), 0, 0, "", "opted_in"): 1})
    assert buffer.pending == 3
    assert await buffer.flush(transaction(database.session_factory)) == 3
    async with database.unit_of_work() as uow:
        assert (await uow.session.execute(select(FunnelCount.step, FunnelCount.count))).all() == [("opted_in", 3)]


async def test_the_server_writes_the_last_counts_when_it_stops(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.web, "COUNTS_FLUSH_INTERVAL", 3600)  # no flush while it runs: only the one at the stop
    settings = make_bot_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as running:
        database = running.services.database
        assert database.counts is not None
        await opt_in(emulator, 3100, "")
        counted = database.counts.pending
        assert counted >= 2, "the link opened and the opt-in"
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(select(func.coalesce(func.sum(FunnelCount.count), 0)))
    finally:
        await engine.dispose()
    assert total == counted
