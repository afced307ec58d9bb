"""Update delivery: getUpdates long polling and webhooks (secret header, retries, order)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot
from telegram.error import Conflict

from emulator import BotApiEmulator
from tests.emulator.conftest import serve


async def test_long_poll_delivers_promptly_and_offset_acknowledges(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001, first_name="Ana", language_code="de")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done(), "getUpdates must wait while there is nothing to deliver"
    started = time.monotonic()
    sent = await user.send_command("start", "c-summer_o-TAO-0001")
    updates = await poll
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"long poll took {elapsed:.2f}s to deliver"

    assert len(updates) == 1 and updates[0].update_id == sent["update_id"]
    message = updates[0].message
    assert message is not None and message.text == "/start c-summer_o-TAO-0001"
    assert message.from_user is not None and message.from_user.language_code == "de"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6

    # Until confirmed, the update is delivered again; an offset past it drops it.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [sent["update_id"]]
    assert await bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == ()
    assert emu.pending_updates == []


async def test_update_ids_increase_and_limit_applies(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    ids = [(await user.send_text(f"m{i}"))["update_id"] for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    first_two = await bot.get_updates(limit=2)
    assert [u.message.text for u in first_two if u.message] == ["m0", "m1"]
    rest = await bot.get_updates(offset=first_two[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["m2"]


async def test_allowed_updates_filters_types(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    sent = await bot.send_message(1001, "pick", reply_markup=None)
    await bot.get_updates(allowed_updates=["callback_query"])
    await user.send_text("ignored")
    await user.press_data(sent.message_id, "x")
    updates = await bot.get_updates()
    assert [u.callback_query.data for u in updates if u.callback_query] == ["x"]
    assert all(u.message is None for u in updates)


async def test_second_poller_conflicts_the_first(bot: Bot, emu: BotApiEmulator) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first
    assert await second == ()


@dataclass
class Receiver:
    """A tiny webhook endpoint that records deliveries and can fail some of them."""

    fail_first: int = 0
    fail_update_ids: set[int] = field(default_factory=set)
    received: list[tuple[dict[str, Any], str | None, int]] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)  # bodies to answer deliveries with, in turn (JSON)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        failing = len(self.received) < self.fail_first or body["update_id"] in self.fail_update_ids
        self.fail_update_ids.discard(body["update_id"])
        status = 500 if failing else 200
        self.received.append((body, secret, status))
        if not failing and self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, bytes):
                return web.Response(body=answer, content_type="application/json")
            return web.json_response(answer)
        return web.Response(status=status)

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/hook", self.handle)
        return application


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest_asyncio.fixture
async def hook_url(receiver: Receiver) -> AsyncIterator[str]:
    async with serve(receiver.app()) as base:
        yield f"{base}/hook"


async def test_webhook_delivery_with_secret_and_retry(
    bot: Bot, emu: BotApiEmulator, receiver: Receiver, hook_url: str
) -> None:
    receiver.fail_first = 1
    assert await bot.set_webhook(hook_url, secret_token="s3cr3t-Token_1")
    user = emu.user(1001)
    sent = await user.send_text("hello webhook")
    await emu.wait_for_webhook_idle()

    assert [status for *_, status in receiver.received] == [500, 200]
    body, secret, _ = receiver.received[-1]
    assert secret == "s3cr3t-Token_1"
    assert body["update_id"] == sent["update_id"]
    assert body["message"]["text"] == "hello webhook"
    attempts = [(d.attempt, d.status) for d in emu.webhook_deliveries]
    assert attempts == [(1, 500), (2, 200)]

    info = await bot.get_webhook_info()
    assert info.url == hook_url and info.pending_update_count == 0
    assert info.last_error_message is not None and "500" in info.last_error_message

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_a_method_in_the_webhook_answer_is_run_like_a_request(
    bot: Bot, emu: BotApiEmulator, receiver: Receiver, hook_url: str
) -> None:
    """Telegram's webhook reply: `{"method": ..., params}` in the answer is a call whose result nobody gets."""
    user = emu.user(1001)
    receiver.answers = [
        {"method": "sendMessage", "chat_id": 1001, "text": "answered in the reply"},
        {"method": "sendMessage", "chat_id": 1001},  # no text: refused, and nobody is told
        {"ok": True},  # no method: nothing to run
        b"[" * 100_000,  # too deep to read: nothing to run, and the delivery still succeeded
    ]
    await bot.set_webhook(hook_url)
    for text in ("one", "two", "three", "four"):
        await user.send_text(text)
        await emu.wait_for_webhook_idle()
    assert [message.plain_text for message in user.messages] == ["answered in the reply"]
    replies = [(call.method, call.ok) for call in emu.calls if call.via == "webhook_reply"]
    assert replies == [("sendMessage", True), ("sendMessage", False)]
    assert all(status == 200 for *_, status in receiver.received), "a refused reply is no failed delivery"
    assert len(receiver.received) == 4, "each update delivered once"
    assert [delivery.status for delivery in emu.webhook_deliveries] == [200] * 4 and emu.pending_updates == []


async def test_webhook_keeps_order_within_a_chat(
    bot: Bot, emu: BotApiEmulator, receiver: Receiver, hook_url: str
) -> None:
    ana, ben = emu.user(1001), emu.user(1002)
    first = await ana.send_text("ana 1")
    await ana.send_text("ana 2")
    await ben.send_text("ben 1")
    receiver.fail_update_ids = {first["update_id"]}  # Ana's first update fails once
    await bot.set_webhook(hook_url, max_connections=10)
    await emu.wait_for_webhook_idle()

    delivered = [body["message"]["text"] for body, _, status in receiver.received if status == 200]
    assert delivered.index("ana 1") < delivered.index("ana 2"), delivered
    attempts_for_ana_2 = [b for b, _, _ in receiver.received if b["message"]["text"] == "ana 2"]
    assert len(attempts_for_ana_2) == 1, "a chat's later update waits for the earlier one"
    assert emu.pending_updates == []
    assert (await bot.get_webhook_info()).max_connections == 10


async def test_set_webhook_validation_and_drop_pending(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    await user.send_text("old")
    with pytest.raises(Exception, match=r"(?i)https url must be provided"):
        await bot.set_webhook("ftp://example.org/hook")
    with pytest.raises(Exception, match=r"(?i)secret token contains unallowed"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="bad secret!")
    await bot.delete_webhook(drop_pending_updates=True)
    assert emu.pending_updates == []


async def test_stop_ends_a_pending_long_poll_quickly(bot: Bot, emu: BotApiEmulator) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await emu.stop()
    assert await poll == ()
    assert time.monotonic() - started < 1.5


async def test_wait_for_message_timeout_explains_what_happened(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    await user.send_text("hello?")
    await bot.send_message(1001, "first answer")
    assert (await user.wait_for_message()).plain_text == "first answer"
    with pytest.raises(Exception, match="Can't parse entities"):
        await bot.send_message(1001, "<oops>", parse_mode="HTML")
    with pytest.raises(TimeoutError) as caught:
        await user.wait_for_message(timeout=0.1)
    report = str(caught.value)
    assert "no new bot message for user 1001" in report
    assert "user: 'hello?'" in report and "'first answer'" in report
    assert "sendMessage: Bad Request: can't parse entities" in report
