"""Replies to what a user just did are not throttled bot-wide; a 429 on one is honoured for that call.

Issue 12: TELEGRAM_RATE_LIMIT used to throttle every Bot API call to 30/s for the whole bot. It is
now the proactive (bulk) limit only; these run with its default (30).
"""

from __future__ import annotations

import asyncio

from emulator import BotApiEmulator
from tests.support.flows import opt_in
from tests.support.harness import RunningBot
from tests.test_send_limiter import most_in_one_second

USERS = 150
HELP_TITLE = "How this works"


async def test_a_burst_of_replies_goes_faster_than_the_bulk_limit(bot: RunningBot, emulator: BotApiEmulator) -> None:
    assert bot.services.settings.telegram_rate_limit == 30
    users = [emulator.user(6000 + index, first_name="B", language_code="en") for index in range(USERS)]
    await asyncio.gather(*(user.send_command("help") for user in users))
    await asyncio.gather(*(user.wait_for_message(timeout=30) for user in users))
    replies = [call.at for call in emulator.calls_to("sendMessage") if call.ok]
    assert len(replies) == USERS
    # A bot-wide 30/s limiter (a leaky bucket of 30) needs at least (150 - 30) / 30 = 4 s for them.
    span = max(replies) - min(replies)
    print(f"REPLIES {USERS} in {span:.2f} s, at most {most_in_one_second(replies)} in one second")
    assert span < 3.5


async def test_a_429_on_a_reply_waits_retry_after_and_tries_again_once(
    bot: RunningBot, emulator: BotApiEmulator
) -> None:
    user = await opt_in(emulator, 6501)
    emulator.fail_next("sendMessage", 429, retry_after=1)
    await user.send_command("help")
    await user.wait_for_message(lambda message: HELP_TITLE in message.plain_text)
    refused, delivered = emulator.calls_to("sendMessage")[-2:]
    assert not refused.ok and delivered.ok
    assert delivered.at - refused.at >= 1.0
    assert sum(HELP_TITLE in message.plain_text for message in user.messages) == 1


async def test_a_button_answer_is_never_held_back(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 6502)
    emulator.fail_next("answerCallbackQuery", 429, retry_after=20)
    before = len(user.messages)
    pressed = asyncio.get_running_loop().time()
    await user.press("Next ▶")
    await user.wait_for_message(lambda message: message.kind == "photo" and len(user.messages) > before, timeout=5)
    assert asyncio.get_running_loop().time() - pressed < 5, "the card did not wait for the answer's retry_after"
    assert len(emulator.calls_to("answerCallbackQuery")) == 2  # the opt-in's, and the refused one: no retry
