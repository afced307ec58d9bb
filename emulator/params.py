"""Bot API parameters from query strings, JSON, url-encoded and multipart bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from emulator.errors import ApiError, bad_request, chat_not_found

MAX_BODY_BYTES = 50 * 1024 * 1024  # Telegram's upload limit for bots

# Form encodings carry every value as a string; these fields hold JSON (PTB sends nested
# objects like reply_markup as JSON strings inside form fields).
JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "allowed_updates", "commands",
        "scope", "menu_button", "link_preview_options", "reply_parameters", "media",
        "rights",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {
        "message_id", "offset", "limit", "timeout", "max_connections", "cache_time",
        "reply_to_message_id", "message_thread_id", "live_period", "heading",
        "proximity_alert_radius", "user_id", "duration", "width", "height",
    }
)  # fmt: skip
FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "show_caption_above_media", "allow_paid_broadcast", "is_personal",
    }
)  # fmt: skip
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary used when recording calls."""
        return {"upload": self.filename, "content_type": self.content_type, "size": len(self.data)}


class Params:
    """Typed, Telegram-style access to one call's parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        """Normalise string values of well-known fields leniently; accessors do the checking."""
        self.values = {name: _normalise(name, value) for name, value in values.items()}

    def has(self, name: str) -> bool:
        """Whether the parameter was sent at all."""
        return name in self.values

    def get_str(self, name: str) -> str | None:
        """A string parameter (numbers are accepted and stringified, like Telegram)."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad_request(f'field "{name}" must be of type Integer')

    def get_float(self, name: str) -> float | None:
        """A float parameter."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise bad_request(f'field "{name}" must be of type Float')

    def get_bool(self, name: str, default: bool = False) -> bool:
        """A boolean parameter."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        raise bad_request(f'field "{name}" must be of type Boolean')

    def get_json(self, name: str, error: str | None = None) -> object:
        """A JSON-valued parameter; a string that is not JSON fails with ``error``."""
        value = self.values.get(name)
        if isinstance(value, str):
            raise bad_request(error or f"can't parse {name} JSON object")
        return value

    def chat_id(self) -> int:
        """The target chat; the emulator only knows private chats, so ids are ints."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise chat_not_found()

    def file(self, name: str, uploads: dict[str, UploadedFile]) -> UploadedFile | str | None:
        """A file parameter: an upload (by field name or ``attach://``) or a file_id string."""
        value = self.values.get(name)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            attached = uploads.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"file {value} not found in the request")
            return attached
        if value is None or isinstance(value, str):
            return value or None
        raise bad_request(f'field "{name}" must be of type String or InputFile')

    def recorded(self) -> dict[str, Any]:
        """JSON-safe copy for ``emu.calls`` (uploads replaced by a summary)."""
        return {
            name: value.describe() if isinstance(value, UploadedFile) else value for name, value in self.values.items()
        }

    def uploads(self) -> dict[str, UploadedFile]:
        """Every uploaded file part, by field name (targets of ``attach://``)."""
        return {k: v for k, v in self.values.items() if isinstance(v, UploadedFile)}


def _normalise(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        if name in JSON_FIELDS:
            return json.loads(value)
        if name in INT_FIELDS or name == "chat_id":
            return int(value)
        if name in FLOAT_FIELDS:
            return float(value)
    except ValueError:
        return value  # left as a string; the typed accessor reports it
    if name in BOOL_FIELDS:
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


async def read_params(request: web.Request) -> Params:
    """Merge query-string and body parameters (body wins, as in Telegram)."""
    values: dict[str, Any] = dict(request.query)
    content_type = request.content_type
    if request.method == "POST" and request.can_read_body:
        if content_type == "application/json":
            values.update(await _json_body(request))
        elif content_type == "application/x-www-form-urlencoded":
            values.update(await _form_body(request))
        elif content_type == "multipart/form-data":
            values.update(await _multipart_body(request))
    return Params(values)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await _read_limited(request)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("can't parse JSON encoded request body") from None
    if not isinstance(body, dict):
        raise bad_request("JSON object expected as request body")
    return body


async def _form_body(request: web.Request) -> dict[str, Any]:
    raw = await _read_limited(request)
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("can't parse url-encoded request body") from None


async def _multipart_body(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    total = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                continue  # nested multiparts and anonymous parts mean nothing to the Bot API
            chunks: list[bytes] = []
            while chunk := await part.read_chunk():
                total += len(chunk)
                if total > MAX_BODY_BYTES:
                    raise ApiError(413, "Request Entity Too Large")
                chunks.append(chunk)
            data = part.decode(b"".join(chunks))
            if part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                values[part.name] = UploadedFile(part.filename, content_type, data)
            else:
                values[part.name] = data.decode(part.get_charset(default="utf-8"))
    except ApiError:
        raise
    except (ValueError, LookupError, AssertionError, EOFError, HttpProcessingError, web.HTTPException):
        raise bad_request("can't parse multipart request body") from None
    return values


async def _read_limited(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
