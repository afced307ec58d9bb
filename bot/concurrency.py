"""Concurrent update processing that still handles each chat's updates one at a time, in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.logs import update_context
from bot.metrics import handled_metrics, update_kind


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Many chats in parallel, one update at a time per chat.

    Within one process this keeps a chat's updates ordered without a database round trip;
    across processes the reporter row lock taken by the unit of work does the same job.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        with update_context(update_id):  # log records get the update id, never its content
            await self._in_chat_order(update, _timed(update_kind(update), coroutine))

    async def _in_chat_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        key = chat.id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiters[key] -= 1
            if not self._waiters[key]:  # forget idle chats so the maps don't grow forever
                del self._waiters[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def _timed(kind: str, coroutine: Awaitable[Any]) -> None:
    """Handler latency: from the chat's turn coming up to the handlers finishing."""
    started = time.perf_counter()
    try:
        await coroutine
    finally:
        seconds, handled = handled_metrics(kind)
        seconds.observe(time.perf_counter() - started)
        handled.inc()
