"""Simulated Telegram users: what they send to the bot and what they see from it."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable, Iterator
from typing import Any

from emulator.context import now
from emulator.files import sniff_image
from emulator.models import BotMessage, CallbackAnswer, ChatEvent, Json
from emulator.state import CallbackQueryRecord, ChatLog, EmulatorState, UserProfile
from emulator.textparse import utf16_len

# Stand-in bytes for media whose content no test looks at: a WebP and an Ogg header.
_STICKER_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(18)
_VOICE_BYTES = b"OggS" + bytes(60)
_FALLBACK_PHOTO_SIZE = (800, 600)
_RECENT = 8  # how many chat events a timeout report shows


class SimulatedUser:
    """One Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(self, state: EmulatorState, profile: UserProfile) -> None:
        """Bind to the emulator state; ``emu.user(...)`` is the usual way to get one."""
        self._state = state
        self.profile = profile
        self._cursor = 0  # last chat event seq consumed by wait_for_message

    @property
    def user_id(self) -> int:
        """The user's id, which is also the private chat's id."""
        return self.profile.user_id

    @property
    def chat_id(self) -> int:
        """Same as ``user_id`` (private chat)."""
        return self.profile.user_id

    @property
    def language_code(self) -> str | None:
        """The Telegram client's language, sent with every update."""
        return self.profile.language_code

    @language_code.setter
    def language_code(self, value: str | None) -> None:
        self.profile.language_code = value

    @property
    def chat(self) -> ChatLog:
        """The chat log with every event of this conversation."""
        return self._state.chat(self.user_id)

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's messages in this chat, oldest first, edits applied, deletions removed."""
        return self.chat.visible_bot_messages()

    @property
    def last_message(self) -> BotMessage | None:
        """The bot's newest visible message."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def events(self) -> list[ChatEvent]:
        """Every chat event so far."""
        return list(self.chat.events)

    def block(self) -> None:
        """Block the bot: its sends to this chat fail with 403 until the user writes again."""
        self.profile.blocked = True

    def mark_read(self) -> None:
        """Skip everything so far; the next wait_for_message only sees newer messages."""
        self._cursor = len(self.chat.events)

    # -- sending -------------------------------------------------------------------------

    def _message(self, content: Json) -> Json:
        self.profile.blocked = False
        chat = self.chat
        message: Json = {
            "message_id": chat.next_message_id(),
            "from": self.profile.to_user(),
            "chat": self.profile.to_chat(),
            "date": now(),
            **content,
        }
        chat.user_messages[message["message_id"]] = message
        chat.add_event("user_message", {"message": message})
        return self._state.updates.push("message", message)

    async def send_text(self, text: str, *, reply_to: int | None = None) -> Json:
        """Send a text message; a leading /command gets a bot_command entity like Telegram.

        ``reply_to``: the id of a bot message this one replies to (Telegram then includes it).
        """
        if not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        content: Json = {"text": text}
        if reply_to is not None:
            original = self.chat.bot_messages.get(reply_to)
            if original is None:
                raise LookupError(f"no bot message {reply_to} in this chat")
            content["reply_to_message"] = original.to_telegram(self._state.bot_user(), self.profile.to_chat())
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            content["entities"] = [entity]
        return self._message(content)

    async def send_command(self, command: str, payload: str | None = None) -> Json:
        """Send ``/command payload`` (e.g. a deep link's /start parameter)."""
        text = f"/{command.removeprefix('/')}"
        return await self.send_text(f"{text} {payload}" if payload else text)

    async def send_photo(self, data: bytes, caption: str | None = None, mime_type: str | None = None) -> Json:
        """Send a photo; unrecognised bytes still work (as an 800x600 JPEG)."""
        sniffed = sniff_image(data)
        mime = mime_type or (sniffed[0] if sniffed else "image/jpeg")
        width, height = sniffed[1:] if sniffed else _FALLBACK_PHOTO_SIZE
        if not (0 < width <= 20_000 and 0 < height <= 20_000):
            width, height = _FALLBACK_PHOTO_SIZE  # a truncated or fake header
        sizes = self._state.files.add_photo(data, mime, width, height)
        content: Json = {"photo": [size.photo_size() for size in sizes]}
        if caption:
            content["caption"] = caption
        return self._message(content)

    async def send_location(self, latitude: float, longitude: float) -> Json:
        """Share a location."""
        return self._message({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_sticker(self, emoji: str = "👍") -> Json:
        """Send a sticker."""
        stored = self._state.files.add("sticker", _STICKER_BYTES, "image/webp", size=(512, 512))
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return self._message({"sticker": sticker})

    async def send_voice(self, data: bytes = _VOICE_BYTES, duration: int = 3) -> Json:
        """Send a voice message."""
        stored = self._state.files.add("voice", data, "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return self._message({"voice": voice})

    async def send_document(self, data: bytes, file_name: str = "document.pdf", mime_type: str | None = None) -> Json:
        """Send a file as a document."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._state.files.add("document", data, mime, file_name=file_name)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime,
            "file_size": stored.file_size,
        }
        return self._message({"document": document})

    async def press(self, label: str) -> str:
        """Press the inline button labelled ``label`` on the newest bot message that has it."""
        for message in reversed(self.messages):
            for row in message.buttons:
                for text, data in row:
                    if text != label:
                        continue
                    if data is None:
                        raise ValueError(f"button {label!r} opens a URL; it has no callback data")
                    return await self.press_data(message.message_id, data)
        shown = [m.button_labels for m in self.messages[-3:] if m.button_labels]
        raise LookupError(f"no inline button {label!r} in chat {self.chat_id}; recent: {shown}")

    async def press_data(self, message_id: int, data: str) -> str:
        """Send a callback query for ``message_id`` with raw ``data``; returns its id."""
        message = self.chat.bot_messages.get(message_id)
        if message is None or message.deleted:
            raise LookupError(f"bot message {message_id} does not exist in chat {self.chat_id}")
        state = self._state
        query_id = state.new_callback_id()
        state.callbacks[query_id] = CallbackQueryRecord(query_id, self.user_id, message_id, data)
        query: Json = {
            "id": query_id,
            "from": self.profile.to_user(),
            "message": message.to_telegram(state.bot_user(), self.profile.to_chat()),
            "chat_instance": str(self.user_id * 1_000_003 + state.bot_id),
            "data": data,
        }
        state.updates.push("callback_query", query)
        return query_id

    # -- waiting -------------------------------------------------------------------------

    async def wait_for_message(
        self,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the public test API takes a plain timeout
    ) -> BotMessage:
        """The next new bot message or edit in this chat (matching ``predicate``).

        Each user keeps a cursor: every event looked at is consumed, so consecutive calls
        return consecutive messages. Raises ``TimeoutError`` with the recent conversation.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        chat = self.chat
        while True:
            for event in chat.events_after(self._cursor):
                self._cursor = event.seq
                if event.message is not None and (predicate is None or predicate(event.message)):
                    return event.message
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_report(timeout, predicate))
            await chat.changed.wait(remaining)

    async def wait_for_callback_answer(
        self,
        callback_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the public test API takes a plain timeout
    ) -> CallbackAnswer:
        """What the bot passed to answerCallbackQuery for ``callback_id``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            record = self._state.callbacks.get(callback_id)
            if record is None:
                raise LookupError(f"unknown callback query id {callback_id!r}")
            if record.answer is not None:
                return record.answer
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"the bot did not answer callback query {callback_id} (data {record.data!r}) "
                    f"within {timeout} s\n{self._recent_failures()}"
                )
            await self._state.callback_answered.wait(remaining)

    def _timeout_report(self, timeout: float, predicate: Callable[..., Any] | None) -> str:
        wanted = "matching the predicate " if predicate is not None else ""
        lines = [
            f"no new bot message {wanted}for user {self.user_id} within {timeout} s.",
            "Recent chat events:",
        ]
        lines += [f"  {describe_event(e)}" for e in self.chat.events[-_RECENT:]] or ["  (none)"]
        return "\n".join([*lines, self._recent_failures()])

    def _recent_failures(self) -> str:
        failed = [c for c in self._state.calls if not c.ok][-5:]
        if not failed:
            return "No failed Bot API calls."
        return "Recent failed Bot API calls:\n" + "\n".join(f"  {c.method}: {c.error}" for c in failed)


def describe_event(event: ChatEvent) -> str:
    """One line per chat event, for timeout reports."""
    if event.message is not None:
        msg = event.message
        body = msg.plain_text or f"<{msg.kind}>"
        extra = f" buttons={msg.button_labels}" if msg.button_labels else ""
        return f"#{event.seq} bot {event.type} {msg.message_id}: {body!r}{extra}"
    if event.type == "user_message":
        sent = event.data["message"]
        body = sent.get("text") or next((k for k in sent if k not in _ENVELOPE), "?")
        return f"#{event.seq} user: {body!r}"
    details = {k: v for k, v in event.data.items() if v is not None}
    return f"#{event.seq} {event.type} {details}"


_ENVELOPE = frozenset({"message_id", "from", "chat", "date"})


class UserDirectory:
    """The simulated users by id; creating one is what makes its chat exist for the bot."""

    def __init__(self, state: EmulatorState) -> None:
        """Start with no users."""
        self._state = state
        self._users: dict[int, SimulatedUser] = {}

    def get(self, user_id: int) -> SimulatedUser | None:
        """An existing user."""
        return self._users.get(user_id)

    def __iter__(self) -> Iterator[SimulatedUser]:
        """All users, in creation order."""
        return iter(list(self._users.values()))

    def get_or_create(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimulatedUser:
        """The user with ``user_id``; given fields update an existing user's profile."""
        if user_id <= 0:
            raise ValueError("Telegram user ids are positive integers")
        user = self._users.get(user_id)
        if user is None:
            profile = UserProfile(user_id, first_name or f"User {user_id}")
            user = self._users[user_id] = SimulatedUser(self._state, profile)
            self._state.profiles[user_id] = profile
        profile = user.profile
        if first_name:
            profile.first_name = first_name
        if last_name is not None:
            profile.last_name = last_name or None
        if username is not None:
            profile.username = username or None
        if language_code is not None:
            profile.language_code = language_code or None
        return user
