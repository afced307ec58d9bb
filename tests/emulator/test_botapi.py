"""A real PTB Bot on AiohttpRequest against the emulator's Bot API."""

from __future__ import annotations

import datetime as dtm

import aiohttp
import pytest
from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardButton, Message
from telegram import InlineKeyboardMarkup as Markup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from emulator import BotApiEmulator
from emulator.botapi import SUPPORTED_METHODS
from tests.emulator.conftest import make_bot, png


def keyboard(*labels: str) -> Markup:
    return Markup([[InlineKeyboardButton(label, callback_data=f"cb:{label}") for label in labels]])


async def test_get_me(bot: Bot, emu: BotApiEmulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "TracebotDemoBot", True)
    assert [call.method for call in emu.calls][:2] == ["getMe", "getMe"]  # initialize + ours


async def test_send_message_round_trip(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001, first_name="Ana", language_code="de")
    html = "  <b>Hallo</b> &amp; <a href='https://example.org/x'>willkommen</a> 🎉 <i>Ana</i>\n"
    sent = await bot.send_message(1001, html, parse_mode="HTML", reply_markup=keyboard("Next"))

    # What PTB got back: Telegram's trimmed text with UTF-16 entity offsets.
    assert sent.text == "Hallo & willkommen 🎉 Ana"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 5),
        ("text_link", 8, 10),
        ("italic", 22, 3),  # the emoji counts as two UTF-16 units
    ]
    assert sent.reply_markup == keyboard("Next")

    # What the user sees.
    seen = await user.wait_for_message()
    assert seen.message_id == sent.message_id
    assert seen.plain_text == sent.text
    assert seen.html == html and seen.parse_mode == "HTML"
    assert seen.buttons == [[("Next", "cb:Next")]]
    assert seen.button_labels == ["Next"]
    assert user.last_message is not None and user.last_message.message_id == sent.message_id
    call = emu.calls_to("sendMessage")[-1]
    assert call.params["chat_id"] == 1001
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Next"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x" * 4097}, "Message is too long"),
        ({"text": "😀" * 2049}, "Message is too long"),  # 4098 UTF-16 units
        ({"text": "<b>bold</i>", "parse_mode": "HTML"}, "Can't parse entities"),
        ({"text": "<script>x</script>", "parse_mode": "HTML"}, 'unsupported start tag "script"'),
        ({"text": "<b>open", "parse_mode": "HTML"}, "Can't parse entities"),
        ({"text": "   "}, "Message text is empty"),
        ({"text": "hi", "reply_markup": keyboard("x" * 65)}, "Button_data_invalid"),
        ({"text": "hi", "parse_mode": "Fancy"}, "Unsupported parse_mode"),
    ],
)
async def test_validation_errors_are_bad_requests(
    bot: Bot, emu: BotApiEmulator, kwargs: dict[str, object], error: str
) -> None:
    emu.user(1001)
    if "reply_markup" in kwargs:
        # 65 one-byte characters of callback data is one byte over Telegram's limit.
        data = "d" * 65
        kwargs["reply_markup"] = Markup([[InlineKeyboardButton("B", callback_data=data)]])
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(1001, **kwargs)  # type: ignore[arg-type]
    assert error.lower() in str(caught.value).lower()
    assert not emu.user(1001).messages


async def test_text_at_the_limits_is_accepted(bot: Bot, emu: BotApiEmulator) -> None:
    emu.user(1001)
    await bot.send_message(1001, "😀" * 2048)  # exactly 4096 UTF-16 units
    await bot.send_message(1001, "x" * 4096)
    ok = Markup([[InlineKeyboardButton("B", callback_data="é" * 32)]])  # 64 bytes
    await bot.send_message(1001, "data", reply_markup=ok)
    assert len(emu.user(1001).messages) == 3


async def test_unknown_chat_and_blocked_user(bot: Bot, emu: BotApiEmulator) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hello")
    user = emu.user(1002)
    user.block()
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(1002, "hello")
    await user.send_text("I'm back")
    await bot.send_message(1002, "welcome back")


async def test_photo_upload_resend_and_download(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    image = png(320, 200)
    first = await bot.send_photo(1001, image, caption="<b>Object</b> TAO-1", parse_mode="HTML")
    assert [(p.width, p.height) for p in first.photo] == [(90, 56), (320, 200)]
    assert first.caption == "Object TAO-1"
    assert first.caption_entities[0].type == "bold"

    again = await bot.send_photo(1001, first.photo[-1].file_id)
    assert again.photo[-1].file_id == first.photo[-1].file_id

    file = await bot.get_file(first.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image

    seen = [m for m in user.messages if m.kind == "photo"]
    assert len(seen) == 2
    assert seen[0].plain_text == "Object TAO-1" and seen[0].photo_file_id == first.photo[-1].file_id

    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(1001, b"definitely not an image")
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(1001, "no-such-file-id")
    with pytest.raises(BadRequest, match="Wrong file_id"):
        await bot.get_file("no-such-file-id")


async def test_edits_and_message_not_modified(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    sent = await bot.send_message(1001, "Step 1", reply_markup=keyboard("Next"))
    await user.wait_for_message()

    edited = await bot.edit_message_text(
        "<b>Step 2</b>", 1001, sent.message_id, parse_mode="HTML", reply_markup=keyboard("Done")
    )
    assert isinstance(edited, Message)
    assert edited.text == "Step 2" and edited.edit_date is not None
    seen = await user.wait_for_message()
    assert seen.edited and seen.plain_text == "Step 2"
    assert seen.button_labels == ["Done"]
    assert [rev.plain_text for rev in seen.history] == ["Step 1"]

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>Step 2</b>", 1001, sent.message_id, parse_mode="HTML", reply_markup=keyboard("Done")
        )

    await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=None)
    assert (await user.wait_for_message()).reply_markup is None
    assert user.messages[0].buttons == []
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=None)

    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", 1001, 999)
    with pytest.raises(BadRequest, match="There is no caption"):
        await bot.edit_message_caption(1001, sent.message_id, caption="c")


async def test_delete_message_and_location(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    sent = await bot.send_message(1001, "temporary")
    where = await bot.send_location(1001, 52.37, 4.89)
    assert where.location is not None
    assert (where.location.latitude, where.location.longitude) == (52.37, 4.89)
    assert await bot.delete_message(1001, sent.message_id)
    assert [m.kind for m in user.messages] == ["location"]
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(1001, sent.message_id)
    with pytest.raises(BadRequest, match="Wrong location"):
        await bot.send_location(1001, 91.0, 0.0)


async def test_answer_callback_query(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(1001)
    await bot.send_message(1001, "pick", reply_markup=keyboard("Prev", "Next"))
    query_id = await user.press("Next")
    updates = await bot.get_updates(timeout=1)
    query = updates[-1].callback_query
    assert query is not None and (query.id, query.data) == (query_id, "cb:Next")
    assert isinstance(query.message, Message) and query.message.text == "pick"

    assert await bot.answer_callback_query(query_id, text="Loading…", show_alert=True)
    answer = await user.wait_for_callback_answer(query_id)
    assert (answer.text, answer.show_alert) == ("Loading…", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(LookupError):
        await user.press("Missing")


async def test_commands_by_scope_and_language(bot: Bot, emu: BotApiEmulator) -> None:
    emu.user(1001)
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "Los geht's")], language_code="de")
    await bot.set_my_commands([BotCommand("stop", "Stop")], scope=BotCommandScopeChat(1001))
    assert emu.commands[('{"type":"default"}', "")][1] == {"command": "help", "description": "Help"}
    assert emu.commands[('{"type":"default"}', "de")] == [{"command": "start", "description": "Los geht's"}]
    assert ('{"chat_id":1001,"type":"chat"}', "") in emu.commands
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start"]
    await bot.delete_my_commands(language_code="de")
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Not Valid", "x")])


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_injection_surfaces_as_retry_after(bot: Bot, emu: BotApiEmulator) -> None:
    emu.user(1001)
    emu.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "flood")
    retry = caught.value.retry_after  # int or timedelta, depending on PTB_TIMEDELTA
    assert (retry.total_seconds() if isinstance(retry, dtm.timedelta) else retry) == 3
    await bot.send_message(1001, "after the wait")  # only the next call fails
    emu.fail_next("*", error_code=500, times=2)
    for _ in range(2):
        with pytest.raises(Exception, match="Internal Server Error"):
            await bot.get_me()
    assert (await bot.get_me()).id == emu.bot_id
    assert [c.ok for c in emu.calls[-4:]] == [True, False, False, True]


async def test_wrong_token_unknown_method_and_raw_http(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(emu, token="654321:wrong") as wrong:
            await wrong.get_me()
    base = f"{emu.api_url}{emu.bot_token}"
    async with http.get(f"{base}/noSuchMethod") as reply:
        assert reply.status == 404
        assert await reply.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http.get(f"{base}/GETME") as reply:  # method names are case-insensitive
        assert (await reply.json())["result"]["username"] == "TracebotDemoBot"
    async with http.post(f"{base}/getMe", data=b"{", headers={"Content-Type": "application/json"}) as reply:
        body = await reply.json()
        assert reply.status == 400 and body["description"].startswith("Bad Request: can't parse JSON")


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"chat_id": "abc", "text": "x"}, "Bad Request: chat not found"),
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 1001, "text": "x", "reply_markup": "{nope"}, "Bad Request: can't parse reply"),
        ({"chat_id": 1001, "text": "x", "reply_markup": [1]}, "Bad Request: can't parse reply"),
        ({"chat_id": 1001, "text": {"a": 1}}, 'Bad Request: field "text" must be of type String'),
        (
            {"chat_id": 1001, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "t"}]]}},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed",
        ),
        (
            {
                "chat_id": 1001,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "t", "url": "x", "callback_data": "d"}]]},
            },
            "Bad Request: can't parse inline keyboard button: exactly one",
        ),
    ],
)
async def test_malformed_parameters_get_telegram_errors(
    emu: BotApiEmulator, http: aiohttp.ClientSession, body: dict[str, object], description: str
) -> None:
    emu.user(1001)
    async with http.post(f"{emu.api_url}{emu.bot_token}/sendMessage", json=body) as reply:
        payload = await reply.json()
    assert reply.status == 400
    assert payload["ok"] is False and payload["error_code"] == 400
    assert payload["description"].startswith(description)


GARBAGE = {
    "chat_id": [1],
    "message_id": "x",
    "text": {"a": 1},
    "reply_markup": "[",
    "photo": 5,
    "latitude": "north",
    "commands": "x",
    "scope": 5,
    "allowed_updates": 5,
    "url": 5,
    "callback_query_id": [],
    "file_id": {},
    "action": 1,
    "menu_button": 3,
    "offset": "soon",
}


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_every_method_answers_garbage_with_a_4xx(
    emu: BotApiEmulator, http: aiohttp.ClientSession, encoding: str
) -> None:
    emu.user(1001)
    form = {key: value if isinstance(value, str) else str(value) for key, value in GARBAGE.items()}
    for method in SUPPORTED_METHODS:
        kwargs = {"json": GARBAGE} if encoding == "json" else {"data": form}
        async with http.post(f"{emu.api_url}{emu.bot_token}/{method}", **kwargs) as reply:  # type: ignore[arg-type]
            body = await reply.json()
        assert 400 <= reply.status < 500 or reply.status == 200, (method, reply.status, body)
        assert body["ok"] is (reply.status == 200), method
    assert all(call.error != "Internal Server Error" for call in emu.calls)
