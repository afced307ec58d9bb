"""What Telegram validates besides text: keyboards, commands, scopes, actions, webhooks."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from emulator.errors import bad_request
from emulator.textparse import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ParsedText,
    check_entities,
    plain_text_for,
    trim,
    utf16_len,
)

MAX_BUTTONS = 100
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100

# An inline button must carry exactly one of these besides its label.
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip
UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
        "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip
# Without allowed_updates Telegram sends everything except these three.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_TEXT_TYPE = 'Field "text" must be of type String'
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def message_text(source: str | None, parse_mode: str | None, entities: object | None) -> ParsedText:
    """Parse and check a message text: 1-4096 UTF-16 units after entity parsing."""
    parsed = _parse(source or "", parse_mode, entities)
    if not parsed.text:
        raise bad_request("message text is empty")
    if utf16_len(parsed.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return parsed


def caption_text(source: str | None, parse_mode: str | None, entities: object | None) -> ParsedText:
    """Parse and check a media caption: at most 1024 UTF-16 units, may be empty."""
    parsed = _parse(source or "", parse_mode, entities)
    if utf16_len(parsed.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return parsed


def _parse(source: str, parse_mode: str | None, entities: object | None) -> ParsedText:
    if entities is not None:
        # Explicit entities win over parse_mode, as in the Bot API.
        return trim(ParsedText(source, check_entities(entities, source)))
    return trim(plain_text_for(source, parse_mode))


def reply_markup(raw: object) -> dict[str, Any] | None:
    """Check any of the four reply_markup kinds; returns it unchanged."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        _inline_keyboard(raw["inline_keyboard"])
    elif "keyboard" in raw:
        _reply_keyboard(raw["keyboard"])
    elif not ({"remove_keyboard", "force_reply"} & raw.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return raw


def _inline_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _inline_button(button)


def _inline_button(button: object) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: object expected")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request(f"can't parse inline keyboard button: {_TEXT_TYPE}")
    if not text.strip():
        raise bad_request("BUTTON_TEXT_EMPTY")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request("can't parse inline keyboard button: exactly one of the optional fields must be used")
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or not ((parts.scheme in ("http", "https") and parts.hostname) or parts.scheme == "tg"):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _reply_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
    for row in rows:
        for button in row:
            label = button.get("text") if isinstance(button, dict) else button
            if not isinstance(label, str) or not label:
                raise bad_request(f"can't parse keyboard button: {_TEXT_TYPE}")


def callback_answer_text(text: str | None) -> str | None:
    """answerCallbackQuery's text: at most 200 characters."""
    if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    return text


def commands(raw: object) -> list[dict[str, str]]:
    """setMyCommands' list: at most 100 commands, each /[a-z0-9_]{1,32} with a description."""
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > MAX_COMMANDS:
        raise bad_request("too many commands specified")
    result: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: object expected")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.match(command.removeprefix("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("command description must be non-empty")
        result.append({"command": command.removeprefix("/"), "description": description})
    return result


def command_scope(raw: object) -> dict[str, Any]:
    """A BotCommandScope (default when absent)."""
    if raw is None:
        return {"type": "default"}
    if not isinstance(raw, dict) or raw.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope: unsupported type")
    return raw


def scope_key(scope: dict[str, Any]) -> str:
    """Canonical JSON of a scope, the first half of the ``emu.commands`` key."""
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def language_code(raw: str | None) -> str:
    """An empty string or a two-letter ISO 639-1 code."""
    if raw and not _LANGUAGE_RE.match(raw):
        raise bad_request("invalid language code specified")
    return raw or ""


def chat_action(raw: str | None) -> str:
    """sendChatAction's action."""
    if raw not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return raw


def allowed_updates(raw: object) -> frozenset[str] | None:
    """None for "keep the previous setting"; an empty list means Telegram's default set."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise bad_request("can't parse allowed updates JSON object")
    chosen = frozenset(raw) & UPDATE_TYPES
    return chosen or UPDATE_TYPES - DEFAULT_EXCLUDED_UPDATES


def webhook_url(raw: str) -> str:
    """The emulator accepts plain http too, so that tests can receive webhooks locally."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    return raw


def secret_token(raw: str | None) -> str | None:
    """1-256 characters of A-Z, a-z, 0-9, _ and -."""
    if raw and not _SECRET_RE.match(raw):
        raise bad_request("secret token contains unallowed characters")
    return raw or None
