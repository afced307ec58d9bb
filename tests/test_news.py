"""News on request, and closing the loop: tipsters who asked for news are thanked when their object is identified.

Through the real stack: the bot (PTB, outbox worker) against the emulator, and the dashboard on the
same database marking the object identified.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from emulator import BotApiEmulator
from emulator.users import SimulatedUser
from handlers.news import thanks_text
from storage.models import AnnouncementState, AuditEvent, ModeratorRole, OutboxMessage, Reporter, Tip, TracedObject
from tests.review.support import CHEAP, PASSWORD, dashboard_app, make_config, page_csrf, sign_in
from tests.review.support import make_settings as dashboard_settings
from tests.support.flows import opt_in, send_tip, welcomed
from tests.support.harness import RunningBot, make_settings, running_bot
from translations.i18n import Catalogs

NEWS_BUTTON = "🔔 Tell me about new objects and results"
NEWS_ON = "You will hear about new objects and results"


async def news_by_command(user: SimulatedUser, expected: str) -> None:
    await user.send_command("news")
    await user.wait_for_message(lambda message: expected in message.plain_text)


async def test_news_toggles_and_stop_turns_it_off(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 5101)
    await news_by_command(user, NEWS_ON)
    await news_by_command(user, "You will no longer receive news.")
    await news_by_command(user, NEWS_ON)
    await user.send_command("stop")
    await user.wait_for_message(lambda message: "You will not receive any more objects" in message.plain_text)
    async with bot.services.database.unit_of_work() as uow:
        wants = await uow.session.scalar(select(Reporter.wants_news))
    assert wants is False


async def test_identified_object_thanks_its_tipsters_who_asked_for_news_once_in_their_language(
    bot: RunningBot, emulator: BotApiEmulator, aiohttp_client: Any, database_url: str
) -> None:
    by_button = await opt_in(emulator, 5201)
    await send_tip(by_button, "Seen this mug at a flea market in Lyon")
    await by_button.press(NEWS_BUTTON)
    await by_button.wait_for_message(lambda message: NEWS_ON in message.plain_text)

    german = await opt_in(emulator, 5202)
    await send_tip(german, "Meine Oma hatte genau diese Tasse")
    await send_tip(german, "Und noch etwas dazu")  # two tips: still one thank-you
    await news_by_command(german, NEWS_ON)

    no_news = await opt_in(emulator, 5203)
    await send_tip(no_news, "I know this one")
    news_but_no_tip = await opt_in(emulator, 5204)
    await news_by_command(news_but_no_tip, NEWS_ON)

    database = bot.services.database
    async with database.unit_of_work() as uow:
        object_id = await uow.session.scalar(select(Tip.object_id).limit(1))
        german_id = await uow.session.scalar(
            select(Reporter.id).where(Reporter.pseudonym == database.privacy.pseudonym(german.user_id))
        )
        assert object_id is not None and german_id is not None
        await uow.reporters.update(german_id, language="de")
        await uow.moderators.add("alice", CHEAP.hash(PASSWORD), ModeratorRole.ADMIN)
        await uow.commit()

    dashboard: TestClient[Any, Any] = await aiohttp_client(
        dashboard_app(dashboard_settings(database_url, bot.services.media_dir), make_config())
    )
    assert (await sign_in(dashboard)).status == 303
    page = f"/review/objects/{object_id}"
    csrf = await page_csrf(dashboard, page)
    response = await dashboard.post(
        f"{page}/status", data={"csrf_token": csrf, "status": "identified"}, allow_redirects=False
    )
    assert response.status == 303, await response.text()

    catalogs = Catalogs()
    english, deutsch = (thanks_text(catalogs.for_language(language).gettext) for language in ("en", "de"))
    assert english != deutsch
    await by_button.wait_for_message(lambda message: message.plain_text == english, timeout=15)
    await german.wait_for_message(lambda message: message.plain_text == deutsch, timeout=15)

    # Marking it identified again (after a round trip through "active") queues nobody twice.
    for status in ("active", "identified"):
        response = await dashboard.post(
            f"{page}/status", data={"csrf_token": csrf, "status": status}, allow_redirects=False
        )
        assert response.status == 303
    await asyncio.sleep(2)  # time for a wrongly queued duplicate to go out

    def thanked(user: SimulatedUser) -> int:
        return sum(message.plain_text in (english, deutsch) for message in user.messages)

    assert [thanked(user) for user in (by_button, german, no_news, news_but_no_tip)] == [1, 1, 0, 0]
    async with database.unit_of_work() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage.state))).all()
        audit = (
            await uow.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "object.thanks_queued"))
        ).all()
    assert sorted(rows) == ["sent", "sent"]
    assert [details["recipients"] for details in audit] == [2, 0]


async def test_an_announcement_with_an_object_reaches_subscribers_in_their_language_and_the_preview_chat(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    preview_chat = emulator.user(7777, first_name="Team")  # the team's own chat with the bot
    settings = make_settings(database_url, emulator, tmp_path / "media", announcement_preview_chat_id=7777)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        english_reader = await opt_in(emulator, 5301)
        await news_by_command(english_reader, NEWS_ON)
        german_reader = await opt_in(emulator, 5302)
        await news_by_command(german_reader, NEWS_ON)
        not_subscribed = await opt_in(emulator, 5303)
        database = bot.services.database
        now = datetime.now(UTC)
        async with database.unit_of_work() as uow:
            german_id = await uow.session.scalar(
                select(Reporter.id).where(Reporter.pseudonym == database.privacy.pseudonym(german_reader.user_id))
            )
            await uow.reporters.update(german_id, language="de")
            object_id = await uow.session.scalar(select(TracedObject.id).order_by(TracedObject.position).limit(1))
            announcement_id = await uow.announcements.create(
                "Three new objects are online.", {"de": "Drei neue Objekte sind online."}, object_id, None
            )
            await uow.outbox.enqueue_preview(announcement_id, "de", now)
            await uow.commit()
        preview = await preview_chat.wait_for_message(timeout=10)
        assert (preview.kind, preview.plain_text, preview.protect_content) == (
            "photo",
            "Drei neue Objekte sind online.",
            True,
        )
        assert not english_reader.messages[-1].plain_text.startswith("Three"), "a preview goes to nobody else"

        async with database.unit_of_work() as uow:
            # As if nobody had been shown the object yet: the first send uploads it, later ones reuse it.
            await uow.session.execute(update(TracedObject).values(telegram_file_id=None))
            await uow.announcements.move(announcement_id, (AnnouncementState.DRAFT,), state=AnnouncementState.SENDING)
            assert await uow.outbox.enqueue_announcement(announcement_id, now) == 2
            await uow.commit()
        english = await english_reader.wait_for_message(lambda m: m.kind == "photo" and "online" in m.plain_text)
        german = await german_reader.wait_for_message(lambda m: m.kind == "photo" and "online" in m.plain_text)
        assert (english.plain_text, english.protect_content) == ("Three new objects are online.", True)
        assert (german.plain_text, german.protect_content) == ("Drei neue Objekte sind online.", True)
        for _ in range(40):
            async with database.unit_of_work() as uow:
                state = (await uow.announcements.get(announcement_id)).state  # type: ignore[union-attr]
            if state == AnnouncementState.DONE:
                break
            await asyncio.sleep(0.25)
        assert state == AnnouncementState.DONE
        assert not any("online" in message.plain_text for message in not_subscribed.messages)
        async with database.unit_of_work() as uow:
            assert await uow.session.scalar(select(TracedObject.telegram_file_id).where(TracedObject.id == object_id))


async def test_news_is_refused_before_the_opt_in_and_after_stop_and_never_reaches_them(
    bot: RunningBot, emulator: BotApiEmulator
) -> None:
    newcomer = await welcomed(emulator, 5401)
    await news_by_command(newcomer, "Please send /start first.")

    stopped = await opt_in(emulator, 5402)
    await send_tip(stopped, "Seen this mug at a flea market in Lyon")  # leaves the news button behind
    await stopped.send_command("stop")
    await stopped.wait_for_message(lambda message: "You will not receive any more objects" in message.plain_text)
    await news_by_command(stopped, "Please send /start first.")
    answer = await stopped.wait_for_callback_answer(await stopped.press(NEWS_BUTTON))
    assert answer.text == "Please send /start first." and answer.show_alert

    database = bot.services.database
    async with database.unit_of_work() as uow:
        assert (await uow.session.scalars(select(Reporter.wants_news))).all() == [False, False]
        # Even a stale subscription (set before the opt-in rules) must not bring them news.
        await uow.session.execute(update(Reporter).values(wants_news=True))
        announcement_id = await uow.announcements.create("News", {}, None, None)
        await uow.announcements.move(announcement_id, (AnnouncementState.DRAFT,), state=AnnouncementState.SENDING)
        assert await uow.outbox.enqueue_announcement(announcement_id, datetime.now(UTC)) == 0
        await uow.commit()
