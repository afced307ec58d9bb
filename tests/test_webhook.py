"""Webhook mode: only Telegram (who knows the secret) may post updates, and bad bodies are refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.web import TELEGRAM
from emulator import BotApiEmulator
from storage.models import Conversation
from tests.support.flows import opt_in
from tests.support.harness import WEBHOOK_SECRET, RunningBot, make_settings, running_bot

HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def webhook_bot(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, mode="webhook", catalog_dir=tmp_path / "catalog") as running:
        yield running


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Bo"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Bo", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def post(bot: RunningBot, body: Any, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, (bytes, str)) else {"json": body}
        async with session.post(f"{bot.url}/telegram/webhook", headers=headers or {}, **kwargs) as response:
            return response.status


async def test_correct_secret_is_processed(webhook_bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = emulator.user(2001, first_name="Bo", language_code="en")
    assert await post(webhook_bot, start_update(500, 2001), {HEADER: WEBHOOK_SECRET}) == 200
    welcome = await user.wait_for_message()
    assert "privacy" in welcome.plain_text.lower()


async def test_missing_or_wrong_secret_is_refused(webhook_bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = emulator.user(2002, first_name="Bo", language_code="en")
    assert await post(webhook_bot, start_update(501, 2002)) == 401
    assert await post(webhook_bot, start_update(502, 2002), {HEADER: "guess"}) == 403
    assert await post(webhook_bot, start_update(503, 2002), {HEADER: WEBHOOK_SECRET[:-1]}) == 403
    assert not user.messages, "a forged update must not reach the bot"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2, 3]", 400),
        (b'{"update_id": "x"}', 400),
        (b'{"update_id": 18189478209752356864}', 400),
        (b'{"update_id": -1}', 400),
        (b'{"update_id": 1, "message": {"chat": 5}}', 400),
        (b"{" * 100_000, 400),
        (b'{"update_id": 7, "pad": "' + b"x" * (1024 * 1024) + b'"}', 413),
        (b'{"update_id": 8, "some_future_update_type": {"x": 1}}', 200),
    ],
)
async def test_bad_bodies_get_clear_status_codes(webhook_bot: RunningBot, body: bytes, status: int) -> None:
    assert await post(webhook_bot, body, {HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}) == status


async def test_redelivered_update_is_processed_once(webhook_bot: RunningBot, emulator: BotApiEmulator) -> None:
    """Processed once; a redelivery (Telegram got no answer: the reply may be lost) re-shows the step."""
    user = emulator.user(2003, first_name="Bo", language_code="en")
    text_update = start_update(900, 2003)
    text_update["message"].update(text="I saw it in Riga", entities=[])
    telegram = webhook_bot.app[TELEGRAM].bot
    await telegram.set_webhook(f"{webhook_bot.url}/telegram/webhook", secret_token=WEBHOOK_SECRET)
    await user.send_command("start")
    welcome = await user.wait_for_message()
    await user.press_data(welcome.message_id, "optin")
    await user.wait_for_message(lambda message: message.kind == "photo")
    for _ in range(3):
        assert await post(webhook_bot, text_update, {HEADER: WEBHOOK_SECRET}) == 200
    questions = [await user.wait_for_message() for _ in range(3)]
    assert all("which country" in question.plain_text.lower() for question in questions)
    assert "I have noted that" in questions[0].plain_text
    assert all("I have noted that" not in question.plain_text for question in questions[1:])
    async with webhook_bot.services.database.session_factory() as session:
        draft = await session.scalar(select(Conversation.draft))
    assert draft is not None and draft["text"] == "I saw it in Riga" and draft["revision"] == 1


async def test_a_buttons_answer_rides_in_the_webhook_answer_and_an_alert_goes_first(
    webhook_bot: RunningBot, emulator: BotApiEmulator
) -> None:
    """One request fewer per button: Telegram runs the answerCallbackQuery given in our answer to the
    delivery, toast included (it shows with the reply). An alert is its own request, sent first."""
    telegram = webhook_bot.app[TELEGRAM].bot
    await telegram.set_webhook(f"{webhook_bot.url}/telegram/webhook", secret_token=WEBHOOK_SECRET)
    user = emulator.user(2004, first_name="Bo", language_code="en")
    await user.send_command("start")
    welcome = await user.wait_for_message()
    thanked = await user.wait_for_callback_answer(await user.press_data(welcome.message_id, "optin"))
    card = await user.wait_for_message(lambda message: message.kind == "photo")
    next_data = next(data for row in card.buttons for text, data in row if text == "Next ▶")
    plain = await user.wait_for_callback_answer(await user.press("I recognise this"))
    await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    alerted = await user.wait_for_callback_answer(await user.press_data(card.message_id, next_data or ""))
    answers = [(call.via, call.params.get("text")) for call in emulator.calls_to("answerCallbackQuery")]
    assert thanked.text == "Thank you!" and not thanked.show_alert
    assert plain.text is None and not plain.show_alert
    assert alerted.text == "Please finish or cancel your tip first." and alerted.show_alert
    assert answers == [
        ("webhook_reply", "Thank you!"),
        ("webhook_reply", None),
        ("request", "Please finish or cancel your tip first."),
    ]
    calls = [call.method for call in emulator.calls if call.at >= emulator.calls_to("sendPhoto")[0].at]
    assert calls.index("sendPhoto") < calls.index("answerCallbackQuery"), "the toast came with the card"
    assert card.kind == "photo"


async def test_a_parked_answer_is_sent_at_once_when_a_reply_waits_for_a_429(
    webhook_bot: RunningBot, emulator: BotApiEmulator
) -> None:
    telegram = webhook_bot.app[TELEGRAM].bot
    await telegram.set_webhook(f"{webhook_bot.url}/telegram/webhook", secret_token=WEBHOOK_SECRET)
    user = await opt_in(emulator, 2005)
    emulator.fail_next("sendMessage", 429, retry_after=1)
    await user.wait_for_callback_answer(await user.press("I recognise this"))
    await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    answer = emulator.calls_to("answerCallbackQuery")[-1]
    refused, delivered = emulator.calls_to("sendMessage")[-2:]
    assert answer.via == "request" and not refused.ok and delivered.ok
    assert refused.at <= answer.at < delivered.at - 0.9, "answered before the reply's wait, not after it"


async def test_a_button_whose_turn_failed_is_answered_with_the_apology(
    webhook_bot: RunningBot, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a button's handler: the apology goes out and the button's spinner stops (its answer
    rides in the webhook answer), instead of spinning until the app gives up."""
    telegram = webhook_bot.app[TELEGRAM].bot
    await telegram.set_webhook(f"{webhook_bot.url}/telegram/webhook", secret_token=WEBHOOK_SECRET)
    user = await opt_in(emulator, 2006)

    def broken_picker(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the country picker")

    monkeypatch.setattr("handlers.keyboards.countries", broken_picker)
    answered = await user.wait_for_callback_answer(await user.press("I recognise this"))
    await user.wait_for_message(lambda message: "something went wrong" in message.plain_text)
    assert answered.text is None and not answered.show_alert
    assert emulator.calls_to("answerCallbackQuery")[-1].via == "webhook_reply"
