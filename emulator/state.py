"""The emulated server's state: users, chats, the update queue, callbacks, faults."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.errors import ApiError, chat_not_found, default_description
from emulator.files import FileStore
from emulator.flood import FloodControl
from emulator.models import (
    ApiCall,
    BotMessage,
    CallbackAnswer,
    ChatEvent,
    Fault,
    Json,
    Signal,
    WebhookDelivery,
)
from emulator.validation import DEFAULT_EXCLUDED_UPDATES, UPDATE_TYPES

FIRST_UPDATE_ID = 500_000_001  # Telegram's ids are large; start high so off-by-ones show


@dataclass
class UserProfile:
    """A simulated Telegram account."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked: bool = False  # the user blocked the bot: sends fail with 403

    def to_user(self) -> Json:
        """The Bot API ``User`` object."""
        user: Json = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                user[key] = value
        return user

    def to_chat(self) -> Json:
        """The Bot API ``Chat`` object of the private chat with this user."""
        chat: Json = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat


class ChatLog:
    """One private chat: its messages (both sides) and an ordered event log."""

    def __init__(self, chat_id: int) -> None:
        """Start an empty chat."""
        self.chat_id = chat_id
        self.events: list[ChatEvent] = []
        self.bot_messages: dict[int, BotMessage] = {}
        self.user_messages: dict[int, Json] = {}
        self.changed = Signal()
        self._message_ids = itertools.count(1)

    def next_message_id(self) -> int:
        """Message ids are per chat and shared by both sides, like in Telegram."""
        return next(self._message_ids)

    def add_event(self, kind: str, data: Json, message: BotMessage | None = None) -> ChatEvent:
        """Append an event and wake everyone waiting on this chat."""
        event = ChatEvent(len(self.events) + 1, kind, time.time(), data, message)
        self.events.append(event)
        self.changed.notify()
        return event

    def events_after(self, seq: int) -> list[ChatEvent]:
        """Events with a sequence number above ``seq``."""
        return self.events[max(seq, 0) :]

    def visible_bot_messages(self) -> list[BotMessage]:
        """Bot messages not deleted, oldest first."""
        return [m for m in self.bot_messages.values() if not m.deleted]


class UpdateQueue:
    """Pending updates in update_id order, with Telegram's allowed_updates filter."""

    def __init__(self) -> None:
        """Start empty with the default allowed set."""
        # Keyed by update_id; dicts keep insertion order, which is update_id order here, and
        # make removing one delivered update O(1) even with a large backlog.
        self._pending: dict[int, Json] = {}
        self.changed = Signal()
        self.allowed: frozenset[str] = UPDATE_TYPES - DEFAULT_EXCLUDED_UPDATES
        self.listeners: list[Callable[[], None]] = []
        self._ids = itertools.count(FIRST_UPDATE_ID)

    def push(self, kind: str, payload: Json) -> Json:
        """Create an update; types outside allowed_updates are dropped, as Telegram does."""
        update: Json = {"update_id": next(self._ids), kind: payload}
        if kind in self.allowed:
            self._pending[update["update_id"]] = update
            self._notify()
        return update

    @property
    def pending(self) -> list[Json]:
        """Pending updates, oldest first."""
        return list(self._pending.values())

    def __len__(self) -> int:
        """How many updates are pending."""
        return len(self._pending)

    def oldest(self, count: int) -> list[Json]:
        """The ``count`` oldest pending updates."""
        return list(itertools.islice(self._pending.values(), count))

    def _notify(self) -> None:
        self.changed.notify()
        for listener in self.listeners:
            listener()

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: forget earlier updates (negative: keep only the last -offset)."""
        if offset < 0:
            dropped = list(self._pending)[:offset] if -offset < len(self._pending) else []
        else:
            dropped = list(itertools.takewhile(lambda uid: uid < offset, self._pending))
        for update_id in dropped:
            del self._pending[update_id]

    def take(self, limit: int) -> list[Json]:
        """Up to ``limit`` pending updates (they stay until confirmed).

        Updates of types that allowed_updates no longer covers are dropped on the way.
        """
        batch: list[Json] = []
        dropped: list[int] = []
        for update_id, update in self._pending.items():
            if update_type(update) not in self.allowed:
                dropped.append(update_id)
                continue
            batch.append(update)
            if len(batch) >= limit:
                break
        for update_id in dropped:
            del self._pending[update_id]
        return batch

    def remove(self, update_id: int) -> None:
        """Forget one update (delivered by webhook)."""
        self._pending.pop(update_id, None)

    def clear(self) -> None:
        """drop_pending_updates."""
        self._pending.clear()


def update_type(update: Json) -> str:
    """The update's kind: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), "")


@dataclass
class CallbackQueryRecord:
    """A callback query sent to the bot, and the bot's answer once it arrives."""

    query_id: str
    user_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None


@dataclass
class WebhookConfig:
    """setWebhook's settings and the last delivery error (for getWebhookInfo)."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class EmulatorState:
    """Everything the emulated Bot API server knows."""

    bot_token: str
    bot_username: str
    bot_first_name: str
    profiles: dict[int, UserProfile] = field(default_factory=dict)
    chats: dict[int, ChatLog] = field(default_factory=dict)
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    files: FileStore = field(default_factory=FileStore)
    calls: list[ApiCall] = field(default_factory=list)
    commands: dict[tuple[str, str], list[Json]] = field(default_factory=dict)
    menu_buttons: dict[int | None, Json] = field(default_factory=dict)
    callbacks: dict[str, CallbackQueryRecord] = field(default_factory=dict)
    callback_answered: Signal = field(default_factory=Signal)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    flood: FloodControl | None = None  # Telegram's 429 flood control, when a test turns it on
    webhook: WebhookConfig | None = None
    webhook_deliveries: list[WebhookDelivery] = field(default_factory=list)
    webhook_progress: Signal = field(default_factory=Signal)
    closing: bool = False
    poll_generation: int = 0
    _callback_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(4_000_000_000_000_000_001))

    @property
    def bot_id(self) -> int:
        """The numeric part of the token, as in Telegram."""
        return int(self.bot_token.split(":", 1)[0])

    def bot_user(self) -> Json:
        """getMe's ``User``."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def chat(self, chat_id: int) -> ChatLog:
        """The chat log for ``chat_id``, created on first use."""
        log = self.chats.get(chat_id)
        if log is None:
            log = self.chats[chat_id] = ChatLog(chat_id)
        return log

    def require_chat(self, chat_id: int) -> tuple[UserProfile, ChatLog]:
        """A chat the bot may write to: the user must have written first and not blocked it."""
        profile = self.profiles.get(chat_id)
        if profile is None:
            raise chat_not_found()
        if profile.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return profile, self.chat(chat_id)

    def new_callback_id(self) -> str:
        """Callback query ids are opaque numeric strings in Telegram."""
        return str(next(self._callback_ids))

    def add_fault(self, method: str, fault: Fault, times: int) -> None:
        """Queue ``times`` copies of ``fault`` for ``method`` ("*" = any method)."""
        self.faults.setdefault(method.lower(), []).extend([fault] * times)

    def take_fault(self, method: str) -> Fault | None:
        """The next injected fault for ``method``, if any."""
        for key in (method.lower(), "*"):
            queue = self.faults.get(key)
            if queue:
                return queue.pop(0)
        return None


def make_fault(error_code: int, retry_after: int | None, description: str | None) -> Fault:
    """A Fault with Telegram's description for ``error_code`` unless one is given."""
    return Fault(
        error_code=error_code,
        description=description or default_description(error_code, retry_after),
        retry_after=retry_after if error_code == 429 else None,
    )
