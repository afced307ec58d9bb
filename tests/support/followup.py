"""The follow-up story's moving parts for end-to-end tests: a bot with its dashboard, a moderator, a tipster."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

import review
from emulator import BotApiEmulator
from emulator.models import BotMessage
from emulator.users import SimulatedUser
from storage.models import AuditEvent, ModeratorRole, TipMessage
from tests.review.support import CHEAP, PASSWORD, csrf_of, make_config
from tests.support.harness import RunningBot, make_settings, running_bot

REFERENCE = re.compile(r"T-\d{6}")
WAIT = 15.0  # seconds for each bot reply: the shared test machine can be slow
PREVIEWED = re.compile(r'name="previewed" value="([^"]*)"')


def button_data(message: BotMessage) -> list[str]:
    return [data for row in message.buttons for _label, data in row if data]


@asynccontextmanager
async def followup_bot(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, **overrides: Any
) -> AsyncIterator[RunningBot]:
    """The whole server (bot, sender, translator, dashboard) with a moderator account `mia`."""
    values: dict[str, Any] = {"argos_packages_dir": tmp_path / "argos", "confirmation_grace_seconds": 1}
    values.update(overrides)
    settings = make_settings(database_url, emulator, tmp_path / "media", **values)
    setup = [review.setup_with(make_config())]
    async with running_bot(settings, catalog_dir=tmp_path / "catalog", extra_setup=setup) as bot:
        async with bot.services.database.unit_of_work() as uow:
            await uow.moderators.add("mia", CHEAP.hash(PASSWORD), ModeratorRole.MODERATOR)
            await uow.commit()
        yield bot


@dataclass
class Moderator:
    """A signed-in dashboard session over real HTTP."""

    session: aiohttp.ClientSession
    base: str

    async def page(self, path: str) -> str:
        async with self.session.get(self.base + path) as response:
            assert response.status == 200, await response.text()
            return await response.text()

    async def post(self, path: str, data: dict[str, str], *, csrf_from: str) -> tuple[int, str]:
        token = csrf_of(await self.page(csrf_from))
        async with self.session.post(self.base + path, data={"csrf_token": token, **data}) as response:
            return response.status, await response.text()

    async def preview(self, tip_id: int, question: str) -> tuple[int, str]:
        return await self.post(
            f"/review/tips/{tip_id}/questions/preview", {"question": question}, csrf_from=f"/review/tips/{tip_id}"
        )

    async def ask(self, tip_id: int, question: str) -> str:
        """Preview, then send exactly what was previewed; returns what the tipster will read."""
        status, page = await self.preview(tip_id, question)
        assert status == 200, page
        match = PREVIEWED.search(page)
        assert match, "the preview shows the text that will be sent"
        previewed = html.unescape(match.group(1))
        status, page = await self.post(
            f"/review/tips/{tip_id}/questions",
            {"question": question, "previewed": previewed},
            csrf_from=f"/review/tips/{tip_id}",
        )
        assert status == 200 and "Question saved" in page, page
        return previewed


@asynccontextmanager
async def signed_in(bot: RunningBot, username: str = "mia") -> AsyncIterator[Moderator]:
    # The dashboard runs on 127.0.0.1: aiohttp's cookie jar refuses cookies of IP hosts unless unsafe.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(bot.url + "/review/login") as response:
            token = csrf_of(await response.text())
        form = {"csrf_token": token, "username": username, "password": PASSWORD, "next": ""}
        async with session.post(bot.url + "/review/login", data=form, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
        yield Moderator(session, bot.url)


async def submit_tip(emulator: BotApiEmulator, user_id: int, language: str, text: str, *, consent: bool) -> int:
    """A whole tip by callback data (any UI language), ticking the follow-up box on the preview if `consent`."""
    user = emulator.user(user_id, first_name="Kim", language_code=language)
    await user.send_command("start", "c-demo")
    welcome = await user.wait_for_message(timeout=WAIT)
    await user.press_data(welcome.message_id, "optin")
    await user.wait_for_message(lambda message: message.kind == "photo", timeout=WAIT)
    await user.send_text(text)
    question = await user.wait_for_message(lambda message: "cty:DE" in button_data(message), timeout=WAIT)
    await user.press_data(question.message_id, "cty:DE")
    preview = await user.wait_for_message(lambda message: "tip:fu" in button_data(message), timeout=WAIT)
    assert any(label.startswith("☐") for label in preview.button_labels), "not asked until they say yes"
    if consent:
        await user.press_data(preview.message_id, "tip:fu")
        preview = await user.wait_for_message(lambda message: "tip:fu" in button_data(message), timeout=WAIT)
        assert any(label.startswith("☑") for label in preview.button_labels)
    send = next(data for data in button_data(preview) if data.startswith("tip:send"))
    await user.press_data(preview.message_id, send)
    confirmation = await user.wait_for_message(
        lambda message: REFERENCE.search(message.plain_text) is not None, timeout=WAIT
    )
    match = REFERENCE.search(confirmation.plain_text)
    assert match is not None
    return int(match.group()[2:])


async def wait_until(check: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def thread_rows(bot: RunningBot, tip_id: int) -> list[TipMessage]:
    async with bot.services.database.session_factory() as session:
        return list((await session.scalars(select(TipMessage).where(TipMessage.tip_id == tip_id))).all())


async def audit_actions(bot: RunningBot, tip_id: int) -> list[str]:
    async with bot.services.database.session_factory() as session:
        rows = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == str(tip_id)).order_by(AuditEvent.id)
        )
        return list(rows.all())


def question_to(user: SimulatedUser) -> Callable[[BotMessage], bool]:
    return lambda message: any(data.startswith("fq:a:") for data in button_data(message))


async def answer_by_button(user: SimulatedUser, text: str, gettext: Callable[[str], str] = str) -> BotMessage:
    """Wait for the question, press "Answer", write `text`, wait for the thanks; returns the question."""
    question = await user.wait_for_message(question_to(user), timeout=20)
    await user.press_data(question.message_id, next(d for d in button_data(question) if d.startswith("fq:a:")))
    prompt = gettext("Please write your answer.")
    await user.wait_for_message(lambda message: message.plain_text == prompt, timeout=WAIT)
    await user.send_text(text)
    thanks = gettext("Thank you, your answer has been passed on to the investigators.")
    await user.wait_for_message(lambda message: message.plain_text == thanks, timeout=WAIT)
    return question
