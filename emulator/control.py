"""Control API under ``/_emu/`` and the browser chat page at ``/chat``.

Lets a person (through the chat page) or a test in another process act as a Telegram user:
send messages and media, press buttons, and follow the conversation by long polling.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from emulator.models import Json
from emulator.params import MAX_BODY_BYTES
from emulator.state import EmulatorState
from emulator.textparse import MAX_TEXT_LENGTH, utf16_len
from emulator.users import SimulatedUser, UserDirectory

STATIC_DIR = Path(__file__).with_name("static")
MAX_EVENT_WAIT = 60.0
_PROFILE_FIELDS = ("first_name", "last_name", "username", "language_code")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$", re.IGNORECASE)


class ControlError(Exception):
    """A bad control request; becomes a 400 with ``{"ok": false, "error": ...}``."""


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _user_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not raw.isdigit() or not 0 < int(raw) < 2**52:
        raise ControlError("user id must be a positive integer")
    return int(raw)


@web.middleware
async def control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ControlError into a 400 JSON reply."""
    try:
        return await handler(request)
    except ControlError as exc:
        return _error(str(exc))


class ControlApi:
    """Handlers for the control routes."""

    def __init__(self, state: EmulatorState, users: UserDirectory) -> None:
        """Serve ``state``, acting through ``users``."""
        self.state = state
        self.users = users

    def routes(self) -> list[web.AbstractRouteDef]:
        """Routes to add to the application."""
        return [
            web.get("/chat", self.chat_page),
            web.get("/_emu/bot", self.bot_info),
            web.post("/_emu/users/{user_id}/messages", self.post_message),
            web.post("/_emu/users/{user_id}/callbacks", self.post_callback),
            web.get("/_emu/users/{user_id}/events", self.get_events),
            web.get("/_emu/users/{user_id}/messages", self.get_bot_messages),
            web.get("/_emu/files/{file_id}", self.get_file),
            web.get("/_emu/calls", self.get_calls),
            web.get("/_emu/sent", self.get_sent),
            web.static("/_emu/static", STATIC_DIR, append_version=False),
        ]

    async def chat_page(self, request: web.Request) -> web.StreamResponse:
        """The Telegram-like web chat."""
        return web.FileResponse(STATIC_DIR / "chat.html", headers={"Cache-Control": "no-store"})

    async def bot_info(self, request: web.Request) -> web.StreamResponse:
        """The bot's profile and the command menu a client in ``lang`` would show."""
        lang = request.query.get("lang", "")
        default_scope = '{"type":"default"}'
        commands = self.state.commands.get((default_scope, lang)) or self.state.commands.get((default_scope, ""), [])
        return web.json_response({"bot": self.state.bot_user(), "commands": commands})

    async def post_message(self, request: web.Request) -> web.StreamResponse:
        """Send a message as the user (JSON, or multipart with a ``photo``/``document`` file)."""
        user_id = _user_id(request)
        if request.content_type == "multipart/form-data":
            fields, files = await _read_multipart(request)
        else:
            fields, files = await _read_json(request), {}
        user = self.users.get_or_create(user_id, **_profile(fields))
        update = await _dispatch_message(user, fields, files)
        return web.json_response({"ok": True, "update": update})

    async def post_callback(self, request: web.Request) -> web.StreamResponse:
        """Press a button: ``{"message_id": N, "data": "..."}``."""
        user = self._existing_user(request)
        body = await _read_json(request)
        message_id, data = body.get("message_id"), body.get("data")
        if type(message_id) is not int or not isinstance(data, str) or not data:
            raise ControlError('expected {"message_id": int, "data": non-empty string}')
        try:
            query_id = await user.press_data(message_id, data)
        except LookupError as exc:
            raise ControlError(str(exc)) from None
        return web.json_response({"ok": True, "callback_query_id": query_id})

    def _existing_user(self, request: web.Request) -> SimulatedUser:
        user = self.users.get(_user_id(request))
        if user is None:
            raise ControlError("this user has not written to the bot yet")
        return user

    async def get_events(self, request: web.Request) -> web.StreamResponse:
        """Chat events after ``after``; waits up to ``wait`` seconds for the first new one."""
        chat = self.state.chat(_user_id(request))
        after, wait = _number(request, "after", 0), _number(request, "wait", 0.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait, 0.0), MAX_EVENT_WAIT)
        while not (events := chat.events_after(int(after))) and not self.state.closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await chat.changed.wait(remaining)
        return web.json_response([event.to_json() for event in events])

    async def get_bot_messages(self, request: web.Request) -> web.StreamResponse:
        """The bot's messages in this chat, current state."""
        chat = self.state.chat(_user_id(request))
        return web.json_response([m.to_json() for m in chat.visible_bot_messages()])

    async def get_file(self, request: web.Request) -> web.StreamResponse:
        """A stored file's bytes with its content type."""
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            return _error("unknown file_id", status=404)
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type,
            headers={"Cache-Control": "max-age=3600"},
        )

    async def get_calls(self, request: web.Request) -> web.StreamResponse:
        """Every Bot API call received, optionally only ``?method=...``."""
        wanted = request.query.get("method", "").lower()
        calls = [c.to_json() for c in self.state.calls if not wanted or c.method.lower() == wanted]
        return web.json_response(calls)

    async def get_sent(self, request: web.Request) -> web.StreamResponse:
        """Every bot message in every chat (deleted ones flagged)."""
        chats = self.state.chats.values()
        sent = [m.to_json() for chat in chats for m in chat.bot_messages.values()]
        sent.sort(key=lambda m: (m["date"], m["chat_id"], m["message_id"]))
        return web.json_response(sent)


def _profile(fields: Json) -> dict[str, str]:
    """Optional account fields sent along with a message (they update the simulated user)."""
    profile: dict[str, str] = {}
    for key in _PROFILE_FIELDS:
        value = fields.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 64:
            raise ControlError(f"{key} must be a string of at most 64 characters")
        profile[key] = value
    language = profile.get("language_code", "")
    if language and not _LANGUAGE_RE.match(language):
        raise ControlError("language_code must look like 'en' or 'pt-br'")
    return profile


def _number(request: web.Request, name: str, default: float) -> float:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ControlError(f"{name} must be a number") from None
    if not math.isfinite(value):
        raise ControlError(f"{name} must be a finite number")
    return value


async def _read_json(request: web.Request) -> Json:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ControlError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


async def _read_multipart(request: web.Request) -> tuple[Json, dict[str, tuple[str, bytes]]]:
    fields: Json = {}
    files: dict[str, tuple[str, bytes]] = {}
    total = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            data = bytearray()
            while chunk := await part.read_chunk():
                total += len(chunk)
                if total > MAX_BODY_BYTES:
                    raise ControlError("upload too large")
                data.extend(chunk)
            if part.filename is not None:
                files[part.name] = (part.filename, bytes(data))
            else:
                fields[part.name] = data.decode("utf-8")
    except (ValueError, LookupError, AssertionError, EOFError, HttpProcessingError):
        raise ControlError("malformed multipart body") from None
    return fields, files


def _coordinate(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


async def _dispatch_message(user: SimulatedUser, fields: Json, files: dict[str, tuple[str, bytes]]) -> Json:
    if "photo" in files:
        caption = fields.get("caption")
        return await user.send_photo(files["photo"][1], caption=str(caption) if caption else None)
    if "document" in files:
        name, data = files["document"]
        return await user.send_document(data, name or "document")
    if isinstance(text := fields.get("text"), str):
        if not text.strip() or utf16_len(text) > MAX_TEXT_LENGTH:
            raise ControlError("text must have 1-4096 characters")
        return await user.send_text(text)
    if "location" in fields:
        location = fields["location"]
        if not isinstance(location, dict):
            raise ControlError("location must be an object")
        lat, lon = _coordinate(location.get("latitude")), _coordinate(location.get("longitude"))
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ControlError("location needs latitude in [-90, 90] and longitude in [-180, 180]")
        return await user.send_location(lat, lon)
    kind = fields.get("kind")
    if kind == "sticker":
        return await user.send_sticker(str(fields.get("emoji") or "👍"))
    if kind == "voice":
        return await user.send_voice()
    if kind == "document":
        name = str(fields.get("file_name") or "file.pdf")
        return await user.send_document(b"%PDF-1.4\n%%EOF\n", name)
    raise ControlError('send one of "text", "location", "kind", or a "photo"/"document" file')
