"""When Telegram refuses a reply for good (400), the reporter is not left in silence.

Before: every Bad Request was logged as "Telegram unreachable" and the replies queued after the
refused one were dropped, so a refused preview left the conversation at `preview` with no Send
button and no word to the reporter.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from emulator import BotApiEmulator
from handlers.delivery import Failure, classify
from storage.models import Conversation
from tests.support.flows import REFERENCE, opt_in
from tests.support.harness import make_settings, running_bot

APOLOGY = "could not show you my reply"


def _country_question(message: object) -> bool:
    return "which country" in getattr(message, "plain_text", "").lower()


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (BadRequest("Message is too long"), Failure.REFUSED),
        (BadRequest("Can't parse entities: unsupported start tag"), Failure.REFUSED),
        (BadRequest("Chat not found"), Failure.CHAT_GONE),
        (Forbidden("Forbidden: bot was blocked by the user"), Failure.CHAT_GONE),
        (Forbidden("Forbidden: user is deactivated"), Failure.CHAT_GONE),
        (NetworkError("Bad Gateway"), Failure.TRANSIENT),
        (TimedOut(), Failure.TRANSIENT),
        (RetryAfter(timedelta(seconds=3)), Failure.TRANSIENT),
    ],
)
def test_failures_are_told_apart(error: Exception, failure: Failure) -> None:
    assert classify(error) is failure


async def test_refused_preview_gets_an_apology_and_the_tip_can_still_be_sent(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 6101)
        await user.send_text("A blue mug from a market in Leipzig")
        question = await user.wait_for_message(_country_question)
        emulator.fail_next("sendMessage", error_code=400, description="Bad Request: message is too long")
        await user.press_data(question.message_id, "cty:DE")
        apology = await user.wait_for_message(lambda message: APOLOGY in message.plain_text)
        assert apology.buttons == []
        async with bot.services.database.session_factory() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.state == "preview"
        assert conversation.draft["country_code"] == "DE" and "Leipzig" in conversation.draft["text"]

        # The reporter tries again: the conversation carries on from where it was.
        await user.send_text("A blue mug with yellow dots, market in Leipzig")
        preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
        assert "yellow dots" in preview.plain_text
        await user.press("✅ Send")
        await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    lines = [record.getMessage() for record in caplog.records]
    assert any("sendMessage failed (BadRequest, refused)" in line for line in lines), lines
    assert not any("unreachable" in line.lower() for line in lines), lines


@pytest.mark.parametrize(
    ("method", "description"),
    [
        ("editMessageReplyMarkup", "Bad Request: message to edit not found"),
        ("answerCallbackQuery", "Bad Request: query is too old and response timeout expired or query ID is invalid"),
    ],
)
async def test_a_refused_button_call_does_not_drop_the_replies_after_it(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, method: str, description: str
) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog"):
        user = await opt_in(emulator, 6102)
        await user.send_text("Seen in a shop in Porto")
        question = await user.wait_for_message(_country_question)
        emulator.fail_next(method, error_code=400, description=description)
        await user.press_data(question.message_id, "cty:PT")
        preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
        assert "Porto" in preview.plain_text
        assert not any(APOLOGY in message.plain_text for message in user.messages), "nothing the reporter needed"
        assert [call.ok for call in emulator.calls_to(method)][-1] is False


async def test_a_transient_failure_is_logged_as_one(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog"):
        user = await opt_in(emulator, 6103)
        emulator.fail_next("sendMessage", error_code=502, retry_after=None, description="Bad Gateway")
        await user.send_command("help")
        await user.send_command("help")
        await user.wait_for_message(lambda message: "how this works" in message.plain_text.lower())
    lines = [record.getMessage() for record in caplog.records]
    assert any("Telegram unreachable (NetworkError)" in line for line in lines), lines
    assert not any(APOLOGY in message.plain_text for message in user.messages)


async def test_a_blocked_reporter_gets_nothing_more(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog"):
        user = await opt_in(emulator, 6104)
        await user.send_text("A curtain like my aunt's in Graz")
        question = await user.wait_for_message(_country_question)
        emulator.fail_next("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user")
        calls = len(emulator.calls)
        await user.press_data(question.message_id, "cty:AT")
        for _ in range(100):
            if any("chat_gone" in record.getMessage() for record in caplog.records):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # an apology, had there been one, would have followed at once
        sent = [call for call in emulator.calls[calls:] if call.method == "sendMessage"]
    assert [call.ok for call in sent] == [False], "no apology to a chat that blocked the bot"
    assert any("sendMessage failed (Forbidden, chat_gone)" in record.getMessage() for record in caplog.records)
