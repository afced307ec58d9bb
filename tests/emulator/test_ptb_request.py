"""AiohttpRequest honours PTB's request contract: timeouts, errors, encodings, lifecycle."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from aiohttp.web_request import FileField
from telegram import InputFile
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.ptb_request import AiohttpRequest
from tests.emulator.conftest import serve


def _slow_app(delay: float) -> web.Application:
    """Answers /slow after ``delay`` seconds and echoes request details at /echo."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.json_response({"ok": True, "result": True})

    async def echo(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            form = await request.post()
            fields = {
                name: (value.filename, value.file.read().decode()) if isinstance(value, FileField) else value
                for name, value in form.items()
            }
        return web.json_response(
            {
                "content_type": request.content_type,
                "user_agent": request.headers.get("User-Agent", ""),
                "fields": fields,
            }
        )

    app = web.Application()
    app.router.add_post("/slow", slow)
    app.router.add_post("/echo", echo)
    return app


def test_defaults_match_httpx_request() -> None:
    request = AiohttpRequest()
    assert request.read_timeout == 5.0
    assert AiohttpRequest(read_timeout=None).read_timeout is None
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)


async def test_default_read_timeout_applies_and_explicit_one_overrides() -> None:
    request = AiohttpRequest(read_timeout=0.2)
    async with serve(_slow_app(0.6)) as base, request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{base}/slow", "POST")  # DEFAULT_NONE -> 0.2 s
        status, body = await request.do_request(f"{base}/slow", "POST", read_timeout=3.0)
    assert status == 200
    assert b'"ok": true' in body


async def test_timeout_surfaces_through_ptb_post_as_timed_out() -> None:
    request = AiohttpRequest()
    async with serve(_slow_app(0.6)) as base, request:
        with pytest.raises(TimedOut):
            await request.post(f"{base}/slow", read_timeout=0.1)


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now.
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{port}/x", "POST")
    assert not isinstance(caught.value, TimedOut)


async def test_plain_parameters_are_one_json_body() -> None:
    data = RequestData(
        [
            RequestParameter.from_input("chat_id", 42),
            RequestParameter.from_input("reply_markup", {"inline_keyboard": [[{"text": "A"}]]}),
            RequestParameter.from_input("text", "Grüße <b>"),
        ]
    )
    async with serve(_slow_app(0)) as base, AiohttpRequest() as request:
        status, body = await request.do_request(f"{base}/echo", "POST", request_data=data)
    echoed = BaseRequest.parse_json_payload(body)
    assert status == 200
    assert echoed["content_type"] == "application/json"
    assert echoed["user_agent"].startswith("python-telegram-bot")
    assert echoed["fields"] == {
        "chat_id": 42,
        "reply_markup": {"inline_keyboard": [[{"text": "A"}]]},
        "text": "Grüße <b>",
    }


async def test_files_are_sent_as_multipart() -> None:
    upload = InputFile(b"hello file", filename="note.txt")
    data = RequestData(
        [
            RequestParameter.from_input("chat_id", 7),
            RequestParameter.from_input("document", upload),
        ]
    )
    assert data.contains_files
    async with serve(_slow_app(0)) as base, AiohttpRequest() as request:
        status, body = await request.do_request(f"{base}/echo", "POST", request_data=data)
    echoed = BaseRequest.parse_json_payload(body)
    assert status == 200
    assert echoed["content_type"] == "multipart/form-data"
    assert echoed["fields"]["chat_id"] == "7"
    assert echoed["fields"]["document"] == ["note.txt", "hello file"]


async def test_lifecycle_shutdown_and_reinitialize() -> None:
    request = AiohttpRequest()
    async with serve(_slow_app(0)) as base:
        # Usable without an explicit initialize(), like HTTPXRequest.
        status, _ = await request.do_request(f"{base}/slow", "POST")
        assert status == 200
        await request.shutdown()
        await request.shutdown()  # idempotent
        with pytest.raises(RuntimeError, match="not initialized"):
            await request.do_request(f"{base}/slow", "POST")
        await request.initialize()
        status, _ = await request.do_request(f"{base}/slow", "POST")
        assert status == 200
        await request.shutdown()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"ok": true, "result": {"text": "Gr\\u00fc\\u00dfe"}}', "Grüße"),  # orjson's way
        (b'{"ok": true, "result": {"text": "a\xffb"}}', "a\ufffdb"),  # invalid UTF-8: replaced, as before
        (b'{"ok": true, "result": {"text": "a\\ud800b"}}', "ab"),  # a lone surrogate: dropped, as before
    ],
)
def test_answers_parse_with_orjson_and_fall_back_to_the_lenient_parser(payload: bytes, expected: str) -> None:
    assert AiohttpRequest.parse_json_payload(payload)["result"]["text"] == expected


def test_an_answer_that_is_not_json_is_an_invalid_server_response() -> None:
    with pytest.raises(TelegramError, match="Invalid server response"):
        AiohttpRequest.parse_json_payload(b"<html>502</html>")
