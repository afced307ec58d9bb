"""Fuzz the webhook: thousands of malformed, odd and hostile updates, with the right secret.

Properties: the webhook never answers 5xx (a 5xx makes Telegram redeliver the same poison update
forever), the server stays healthy, and afterwards an ordinary user still completes a tip. The
emulator refuses the bot's replies to chats it does not know (400) - the bot must shrug that off.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.web import TELEGRAM
from emulator import BotApiEmulator
from storage.models import parse_tip_reference
from tests.chaos.bot_thread import BotThread
from tests.chaos.fuzz_updates import KNOWN_USERS, body
from tests.support.harness import WEBHOOK_SECRET

BATCH = 50
FULL_RUN = 10_000
SMALL_RUN = 1_000
REFERENCE = re.compile(r"\bT-\d{6}\b")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def bot_thread(database_url: str, tmp_path: Path) -> Iterator[BotThread]:
    thread = BotThread(database_url, tmp_path)
    try:
        thread.start()
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def sqlite_bot_thread(tmp_path: Path) -> Iterator[BotThread]:
    thread = BotThread(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}", tmp_path)
    try:
        thread.start()
        yield thread
    finally:
        thread.stop()


def fuzz(thread: BotThread, total: int) -> Counter[int]:
    """Post `total` generated bodies in batches of BATCH; returns the status code counts."""
    statuses: Counter[int] = Counter()
    assert thread.emulator is not None
    for user_id in KNOWN_USERS:
        thread.emulator.user(user_id, first_name="Fuzz")

    @settings(
        max_examples=total // BATCH,
        deadline=None,
        database=None,
        derandomize=True,  # the same 10,000 bodies on every run: CI is reproducible
        # No shrinking: a batch of 50 posts is slow to replay; the assertion names the culprits instead.
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(batch=st.lists(body, min_size=BATCH, max_size=BATCH))
    def webhook_never_fails(batch: list[bytes]) -> None:
        result = thread.call(thread.post_all(batch))
        statuses.update(result)
        failed = [(status, sent[:300]) for status, sent in zip(result, batch, strict=True) if status >= 500]
        assert not failed, f"5xx from the webhook: {failed[:3]}"

    webhook_never_fails()
    return statuses


async def complete_a_tip(thread: BotThread, user_id: int) -> str:
    """An ordinary user, through the emulator's webhook delivery, from /start to a reference."""
    emulator, bot = thread.emulator, thread.bot
    assert emulator is not None and bot is not None
    await bot.app[TELEGRAM].bot.set_webhook(bot.url + "/telegram/webhook", secret_token=WEBHOOK_SECRET)
    user = emulator.user(user_id, first_name="After", language_code="en")
    await user.send_command("start")
    welcome = await user.wait_for_message(lambda m: "optin" in _data(m), timeout=10)
    await user.press_data(welcome.message_id, "optin")
    await user.wait_for_message(lambda m: m.kind == "photo", timeout=10)
    await user.send_text("I saw this mug at a market in Leipzig")
    question = await user.wait_for_message(lambda m: "which country" in m.plain_text.lower(), timeout=10)
    await user.press_data(question.message_id, "cty:DE")
    preview = await user.wait_for_message(lambda m: any(d.startswith("tip:send") for d in _data(m)), timeout=10)
    await user.press_data(preview.message_id, next(d for d in _data(preview) if d.startswith("tip:send")))
    done = await user.wait_for_message(lambda m: REFERENCE.search(m.plain_text) is not None, timeout=10)
    match = REFERENCE.search(done.plain_text)
    assert match is not None
    tip_id = parse_tip_reference(match.group())
    assert tip_id is not None
    async with bot.services.database.unit_of_work() as uow:
        tip = await uow.tips.get(tip_id)
    assert tip is not None and tip.country_code == "DE" and "Leipzig" in tip.text_original
    return match.group()


def _data(message: object) -> set[str]:
    buttons = getattr(message, "buttons", [])
    return {value for row in buttons for _, value in row if value}


def check_aftermath(thread: BotThread, statuses: Counter[int], total: int, started: float) -> None:
    emulator = thread.emulator
    assert isinstance(emulator, BotApiEmulator)
    posted = sum(statuses.values())
    replies = sum(1 for call in emulator.calls if call.method.lower() == "sendmessage" and call.ok)
    refused = sum(1 for call in emulator.calls if not call.ok)
    print(
        f"\nFUZZ {thread.database_url.split(':', 1)[0]}: posted={posted} statuses={dict(sorted(statuses.items()))} "
        f"replies_delivered={replies} replies_refused_by_emulator={refused} seconds={time.monotonic() - started:.1f}"
    )
    assert posted >= total
    assert all(status < 500 for status in statuses), statuses
    assert statuses[200] >= posted // 4, "most bodies must get past the door and into the handlers"
    assert replies > 0, "some fuzzed updates from known chats must have been answered"
    assert thread.call(thread.healthy())
    reference = thread.call(complete_a_tip(thread, 9_000_001))
    assert REFERENCE.fullmatch(reference)


@pytest.mark.parametrize(
    "forged",
    [
        {"message_id": 1, "date": 0, "chat": {"id": {}, "type": "private"}, "text": "/start"},
        {"message_id": 1, "date": 0, "chat": {"id": [7], "type": "private"}, "text": "hi"},
        {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "from": {"id": {}, "is_bot": False, "first_name": "x"},
        },
        {"message_id": 1, "date": 0, "chat": {"id": "7", "type": "private"}, "text": "hi"},
        {"message_id": 1, "date": 0, "chat": {"id": True, "type": "private"}, "text": "hi"},
    ],
)
def test_forged_ids_are_refused_not_500(sqlite_bot_thread: BotThread, forged: dict[str, object]) -> None:
    """Found by the fuzzer: PTB keys sets and dicts by chat and user id, so `{}` or `[7]` crashed it into a 500.

    Telegram only ever sends integers; anything else is refused at the door.
    """
    body = json.dumps({"update_id": 77, "message": forged}).encode()
    assert sqlite_bot_thread.call(sqlite_bot_thread.post(body)) == 400
    assert sqlite_bot_thread.call(sqlite_bot_thread.healthy())


def test_fuzz_webhook(bot_thread: BotThread) -> None:
    started = time.monotonic()
    statuses = fuzz(bot_thread, FULL_RUN)
    check_aftermath(bot_thread, statuses, FULL_RUN, started)


def test_fuzz_webhook_small_sqlite(sqlite_bot_thread: BotThread) -> None:
    started = time.monotonic()
    statuses = fuzz(sqlite_bot_thread, SMALL_RUN)
    check_aftermath(sqlite_bot_thread, statuses, SMALL_RUN, started)
