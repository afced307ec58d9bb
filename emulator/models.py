"""Records the emulator keeps and hands to tests: bot messages, API calls, deliveries."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any

Json = dict[str, Any]


@dataclass
class MessageRevision:
    """A bot message's content before one of its edits."""

    text: str
    plain_text: str
    parse_mode: str | None
    entities: list[Json]
    reply_markup: Json | None
    date: int


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits applied).

    ``text`` is the text (or caption) exactly as the bot sent it, so HTML tags and escapes are
    still there; ``plain_text`` is what the user reads (tags stripped, entities unescaped,
    trimmed), which is also the ``text`` Telegram returns in the Message object. Both are ""
    for messages without text (a photo without caption, a location).
    """

    message_id: int
    chat_id: int
    date: int
    kind: str  # "text" | "photo" | "location"
    text: str
    plain_text: str
    parse_mode: str | None
    entities: list[Json] = field(default_factory=list)
    reply_markup: Json | None = None
    photo: list[Json] | None = None
    location: Json | None = None
    protect_content: bool = False
    disable_notification: bool = False
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: int | None = None
    history: list[MessageRevision] = field(default_factory=list)
    deleted: bool = False

    @property
    def html(self) -> str | None:
        """The HTML source as sent, when the message used the HTML parse mode."""
        return self.text if (self.parse_mode or "").lower() == "html" else None

    @property
    def caption(self) -> str | None:
        """Alias of ``text`` for media messages."""
        return self.text if self.kind != "text" else None

    @property
    def photo_file_id(self) -> str | None:
        """file_id of the largest photo size."""
        return self.photo[-1]["file_id"] if self.photo else None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of (label, callback_data); URL buttons have None as data."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]

    @property
    def button_labels(self) -> list[str]:
        """Every inline button label, row by row."""
        return [label for row in self.buttons for label, _ in row]

    @property
    def url_buttons(self) -> list[tuple[str, str]]:
        """(label, url) of every URL button."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(b["text"], b["url"]) for row in rows for b in row if "url" in b]

    def snapshot(self) -> BotMessage:
        """A deep copy, so later edits do not change what a waiter saw."""
        return _copy(self, as_dicts=False)  # type: ignore[no-any-return]

    def to_json(self) -> Json:
        """JSON form for the control API and the chat page."""
        data: Json = _copy(self, as_dicts=True)
        data["html"] = self.html
        data["photo_file_id"] = self.photo_file_id
        return data

    def to_telegram(self, bot: Json, chat: Json) -> Json:
        """The Bot API ``Message`` object for this message."""
        message: Json = {"message_id": self.message_id, "from": bot, "chat": chat}
        message["date"] = self.date
        entities_key = "entities"
        if self.kind == "text":
            message["text"] = self.plain_text
        elif self.kind == "photo":
            message["photo"] = self.photo
            entities_key = "caption_entities"
            if self.plain_text:
                message["caption"] = self.plain_text
        elif self.kind == "location":
            message["location"] = self.location
        if self.entities:
            message[entities_key] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram echoes only inline keyboards; reply keyboards stay client-side.
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.protect_content:
            message["has_protected_content"] = True
        return message


_ATOMS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    record: tuple(item.name for item in fields(record)) for record in (BotMessage, MessageRevision)
}


def _copy(value: Any, *, as_dicts: bool) -> Any:
    """``copy.deepcopy`` (or, ``as_dicts``, ``dataclasses.asdict``) of a message: the same result, cheaper.

    Every sent message and edit is copied twice for the chat log, so the generic versions, which
    look up fields and keep a memo for every nested value, were most of the emulator's cost per
    call. Messages hold JSON-like data; anything else still goes through ``copy.deepcopy``. Unlike
    deepcopy, an object shared by two fields (a markup-only edit's revision and the message) is
    copied once for each; nothing reads snapshots by identity.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {key: _copy(item, as_dicts=as_dicts) for key, item in value.items()}
    if kind is list:
        return [_copy(item, as_dicts=as_dicts) for item in value]
    if kind is tuple:
        return tuple(_copy(item, as_dicts=as_dicts) for item in value)
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        values = {name: _copy(getattr(value, name), as_dicts=as_dicts) for name in names}
        return values if as_dicts else kind(**values)
    return copy.deepcopy(value)


@dataclass
class ApiCall:
    """One Bot API request the emulator received."""

    method: str
    params: Json
    at: float
    ok: bool = True
    error: str | None = None
    via: str = "request"  # or "webhook_reply": called in the bot's answer to a webhook delivery

    def to_json(self) -> Json:
        """JSON form for ``GET /_emu/calls``."""
        return asdict(self)


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook."""

    update_id: int
    url: str
    attempt: int
    status: int | None  # HTTP status, None when the connection failed
    error: str | None
    at: float
    secret_token_sent: bool


@dataclass(frozen=True)
class Fault:
    """An error to return instead of running the next call(s) of a method."""

    error_code: int
    description: str
    retry_after: int | None


@dataclass(frozen=True)
class ChatEvent:
    """Something that happened in a chat, in order, for tests and the chat page."""

    seq: int
    type: str  # user_message | bot_message | edit | delete | callback_answer | chat_action
    at: float
    data: Json
    message: BotMessage | None = None  # snapshot for bot_message and edit

    def to_json(self) -> Json:
        """JSON form for ``GET /_emu/users/{id}/events``."""
        return {"seq": self.seq, "type": self.type, "at": self.at, **self.data}


class Signal:
    """Wakes every coroutine waiting for "something changed" (a re-armed asyncio.Event)."""

    def __init__(self) -> None:
        """Create the first generation's event."""
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters; later waiters wait for the next notify."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> bool:  # noqa: ASYNC109 - waiting is the point
        """Wait for the next notify; False when ``timeout`` seconds passed first."""
        event = self._event
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True
