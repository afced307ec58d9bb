"""`await limiter.slot(chat_key)`: the one gate every proactive Bot API send goes through.

Telegram allows about 30 bulk messages per second per bot and one per second per chat. The state
lives in the database (`send_slots`), so every bot instance and worker shares one budget; see
`storage.repositories.send_slots` for why the guarantee holds whatever the network delays.
Interactive replies (answers to what a user just did) do not come here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.repositories.send_slots import PAUSE_KEY, SlotGrant
from storage.uow import Database

WINDOW = 1.05  # a second, plus room for clocks of different machines that disagree slightly
CHAT_SPACING = 1.05
LEASE = 15.0  # a slot held by a process that died frees itself after this long
MAX_POLL = 0.5  # re-check at least this often: a slot may free up earlier than predicted


class SendLimiter:
    def __init__(self, database: Database, per_second: int) -> None:
        self._database = database
        self.per_second = per_second  # 0: no overall cap, only the per-chat spacing and pauses

    async def acquire(self, chat_key: str) -> SlotGrant:
        """Wait until a send to `chat_key` may start, and take its slots (release them after)."""
        while True:
            async with self._database.short() as uow:
                taken = await uow.send_slots.try_take(
                    chat_key, per_second=self.per_second, now=time.time(), lease=LEASE
                )
                await uow.commit()
            if isinstance(taken, SlotGrant):
                return taken
            await asyncio.sleep(min(taken, MAX_POLL))

    async def release(self, grant: SlotGrant) -> None:
        async with self._database.short() as uow:
            await uow.send_slots.release(grant, completed_at=time.time(), window=WINDOW, chat_spacing=CHAT_SPACING)
            await uow.commit()

    @asynccontextmanager
    async def slot(self, chat_key: str) -> AsyncIterator[None]:
        """Hold a slot for the duration of one send (released when it completed, or failed)."""
        grant = await self.acquire(chat_key)
        try:
            yield
        finally:
            await asyncio.shield(self.release(grant))

    async def pause(self, retry_after: float, chat_key: str | None = None) -> None:
        """Telegram answered 429: nobody sends before `retry_after` seconds have passed.

        Telegram does not say whether the flood was one chat's or the whole bot's, so the pause
        applies to every send; the chat's own slot is held back too when it is known.
        """
        until = time.time() + retry_after
        async with self._database.short() as uow:
            await uow.send_slots.hold(PAUSE_KEY, until)
            if chat_key is not None:
                await uow.send_slots.hold(chat_key, until)
            await uow.commit()


def chat_key(reporter_id: int) -> str:
    """The limiter's key for a reporter's chat (no Telegram id is stored)."""
    return f"chat:{reporter_id}"
