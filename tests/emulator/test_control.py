"""The control API under /_emu/ and the browser chat page."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from emulator import BotApiEmulator
from tests.emulator.conftest import png

STATIC = Path(__file__).resolve().parents[2] / "emulator" / "static"


async def test_user_message_json_creates_user_and_update(
    bot: Bot, emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    url = f"{emu.base_url}/_emu/users/2001/messages"
    body = {"text": "مرحبا", "first_name": "Layla", "language_code": "ar"}
    async with http.post(url, json=body) as reply:
        assert reply.status == 200
        update = (await reply.json())["update"]
    assert update["message"]["from"]["language_code"] == "ar"
    updates = await bot.get_updates()
    assert updates[0].message is not None and updates[0].message.text == "مرحبا"
    assert emu.user(2001).profile.first_name == "Layla"


async def test_events_long_poll_wakes_on_bot_message(
    bot: Bot, emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    emu.user(2001)
    events_url = f"{emu.base_url}/_emu/users/2001/events"
    await bot.send_message(2001, "first")
    async with http.get(events_url, params={"after": "0"}) as reply:
        history = await reply.json()
    assert [(e["seq"], e["type"]) for e in history] == [(1, "bot_message")]

    async def poll() -> list[dict[str, object]]:
        async with http.get(events_url, params={"after": "1", "wait": "5"}) as reply:
            result: list[dict[str, object]] = await reply.json()
            return result

    waiting = asyncio.create_task(poll())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    started = time.monotonic()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    await bot.send_message(2001, "<b>second</b>", parse_mode="HTML", reply_markup=markup)
    events = await waiting
    assert time.monotonic() - started < 1.0
    assert len(events) == 1 and events[0]["seq"] == 2
    message = events[0]["message"]
    assert isinstance(message, dict)
    assert message["plain_text"] == "second" and message["html"] == "<b>second</b>"
    assert message["entities"] == [{"type": "bold", "offset": 0, "length": 6}]
    assert message["reply_markup"] == {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}


async def test_callbacks_edits_and_answers_show_up_as_events(
    bot: Bot, emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    emu.user(2001)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    sent = await bot.send_message(2001, "question", reply_markup=markup)
    url = f"{emu.base_url}/_emu/users/2001/callbacks"
    async with http.post(url, json={"message_id": sent.message_id, "data": "go"}) as reply:
        query_id = (await reply.json())["callback_query_id"]
    (update,) = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.id == query_id
    await bot.answer_callback_query(query_id, text="Saved ✓")
    await bot.edit_message_text("answered", 2001, sent.message_id)
    await bot.delete_message(2001, sent.message_id)
    await bot.send_chat_action(2001, "typing")

    async with http.get(f"{emu.base_url}/_emu/users/2001/events?after=1") as reply:
        events = await reply.json()
    assert [e["type"] for e in events] == ["callback_answer", "edit", "delete", "chat_action"]
    assert events[0]["text"] == "Saved ✓" and events[0]["show_alert"] is False
    assert events[1]["message"]["plain_text"] == "answered" and events[1]["message"]["edited"]
    assert events[2]["message_id"] == sent.message_id
    assert events[3]["action"] == "typing"


async def test_photo_upload_and_file_download(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    image = png(40, 30)
    form = aiohttp.FormData()
    form.add_field("photo", image, filename="p.png", content_type="image/png")
    form.add_field("caption", "look")
    form.add_field("language_code", "fr")
    async with http.post(f"{emu.base_url}/_emu/users/2002/messages", data=form) as reply:
        message = (await reply.json())["update"]["message"]
    assert message["caption"] == "look"
    assert (message["photo"][-1]["width"], message["photo"][-1]["height"]) == (40, 30)
    async with http.get(f"{emu.base_url}/_emu/files/{message['photo'][-1]['file_id']}") as reply:
        assert reply.content_type == "image/png"
        assert await reply.read() == image
    async with http.get(f"{emu.base_url}/_emu/files/nope") as reply:
        assert reply.status == 404


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"location": {"latitude": 52.52, "longitude": 13.405}}, "location"),
        ({"kind": "sticker"}, "sticker"),
        ({"kind": "voice"}, "voice"),
        ({"kind": "document"}, "document"),
    ],
)
async def test_media_kinds(emu: BotApiEmulator, http: aiohttp.ClientSession, body: dict[str, object], key: str) -> None:
    async with http.post(f"{emu.base_url}/_emu/users/2003/messages", json=body) as reply:
        assert reply.status == 200
        assert key in (await reply.json())["update"]["message"]


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/_emu/users/2004/messages", {"data": b"{broken", "headers": {"Content-Type": "application/json"}}),
        ("/_emu/users/2004/messages", {"json": [1, 2]}),
        ("/_emu/users/2004/messages", {"json": {"nothing": True}}),
        ("/_emu/users/2004/messages", {"json": {"text": "  "}}),
        ("/_emu/users/2004/messages", {"json": {"location": {"latitude": 95, "longitude": 0}}}),
        ("/_emu/users/abc/messages", {"json": {"text": "hi"}}),
        ("/_emu/users/0/messages", {"json": {"text": "hi"}}),
        ("/_emu/users/2999/callbacks", {"json": {"message_id": 1, "data": "x"}}),
    ],
)
async def test_bad_control_requests_are_400(
    emu: BotApiEmulator, http: aiohttp.ClientSession, path: str, kwargs: dict[str, object]
) -> None:
    async with http.post(f"{emu.base_url}{path}", **kwargs) as reply:  # type: ignore[arg-type]
        assert reply.status == 400
        body = await reply.json()
    assert body["ok"] is False and body["error"]


async def test_bad_events_query_and_callback_on_missing_message(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emu.base_url}/_emu/users/2005/events?after=x") as reply:
        assert reply.status == 400
    emu.user(2005)
    url = f"{emu.base_url}/_emu/users/2005/callbacks"
    async with http.post(url, json={"message_id": 77, "data": "x"}) as reply:
        assert reply.status == 400
        assert "does not exist" in (await reply.json())["error"]


async def test_calls_and_sent(bot: Bot, emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    emu.user(2006)
    await bot.send_message(2006, "one")
    await bot.send_location(2006, 1.0, 2.0)
    async with http.get(f"{emu.base_url}/_emu/calls?method=sendmessage") as reply:
        calls = await reply.json()
    assert [(c["method"], c["params"]["text"], c["ok"]) for c in calls] == [("sendMessage", "one", True)]
    async with http.get(f"{emu.base_url}/_emu/sent") as reply:
        sent = await reply.json()
    assert [(m["chat_id"], m["kind"]) for m in sent] == [(2006, "text"), (2006, "location")]
    async with http.get(f"{emu.base_url}/_emu/bot") as reply:
        assert (await reply.json())["bot"]["username"] == "TracebotDemoBot"


async def test_chat_page_and_assets_are_served(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{emu.base_url}/chat?user=5&lang=ar&start=abc") as reply:
        assert reply.status == 200 and reply.content_type == "text/html"
        page = await reply.text()
    assert 'src="/_emu/static/chat.js"' in page and 'dir="auto"' in page
    assets = {"chat.js": "javascript", "render.js": "javascript", "timeline.js": "javascript", "chat.css": "css"}
    for asset, kind in assets.items():
        async with http.get(f"{emu.base_url}/_emu/static/{asset}") as reply:
            assert reply.status == 200 and kind in reply.content_type, asset


def test_chat_page_loads_nothing_from_outside() -> None:
    external = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(\s*['"]?(?:https?:|//)""", re.I)
    for path in sorted(STATIC.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert not external.findall(text), f"{path.name} references an external resource"
        if path.suffix == ".js":
            # Bot-supplied text must never reach the DOM as markup.
            assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", text)
    assert {p.name for p in STATIC.iterdir()} >= {"chat.html", "chat.js", "render.js", "timeline.js", "chat.css"}
