"""Telegram's flood control, opt-in: too many messages to one chat (or overall) in a second get a 429.

Real Telegram answers `429 Too Many Requests: retry after N` when a bot sends one chat more than
a short burst per second, or floods in general. The emulator does the same when a test turns it
on (`BotApiEmulator.flood_control(...)`), so rate-limiting code meets the real error, not a mock.
Only accepted messages count; answers to callback queries and edits are not messages.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from emulator.errors import too_many_requests

# The methods that post a new message to a chat.
MESSAGE_METHODS = frozenset({"sendmessage", "sendphoto", "sendlocation", "senddocument", "copymessage"})
WINDOW = 1.0


@dataclass
class FloodControl:
    per_chat: int  # messages one chat may receive in any second
    overall: int | None  # messages all chats together may receive in any second (None: no cap)
    retry_after: int
    refused: int = 0  # 429s answered so far
    _chats: dict[int, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)

    def admit(self, method: str, chat_id: object, now: float) -> None:
        """Raise a 429 if a message to `chat_id` now would exceed the limits; else count it."""
        if method.lower() not in MESSAGE_METHODS or not isinstance(chat_id, int):
            return
        recent = self._chats.setdefault(chat_id, deque())
        for times in (recent, self._all):
            while times and times[0] <= now - WINDOW:
                times.popleft()
        if len(recent) >= self.per_chat or (self.overall is not None and len(self._all) >= self.overall):
            self.refused += 1
            raise too_many_requests(self.retry_after)
        recent.append(now)
        self._all.append(now)
