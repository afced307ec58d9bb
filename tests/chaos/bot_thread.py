"""The in-process bot (`running_bot(..., mode="webhook")`) and the emulator on an event loop of their own.

Hypothesis drives its examples synchronously, so the bot lives in a background thread and each
example hands its batch over with `run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from emulator import BotApiEmulator
from tests.support.harness import TOKEN, WEBHOOK_SECRET, RunningBot, make_settings, running_bot

T = TypeVar("T")
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}


class BotThread:
    """Start with `start()`, run coroutines on its loop with `call()`, always `stop()`."""

    def __init__(self, database_url: str, workdir: Path, concurrency: int = 32) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.concurrency = concurrency
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-bot", daemon=True)
        self._stack = AsyncExitStack()
        self.emulator: BotApiEmulator | None = None
        self.bot: RunningBot | None = None
        self.session: aiohttp.ClientSession | None = None
        self._limit: asyncio.Semaphore | None = None

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        emulator = BotApiEmulator(bot_token=TOKEN, bot_username="TracebotFuzzBot")
        await emulator.start(host="127.0.0.1", port=0)
        self._stack.push_async_callback(emulator.stop)
        self.emulator = emulator
        settings = make_settings(self.database_url, emulator, self.workdir / "media")
        self.bot = await self._stack.enter_async_context(
            running_bot(settings, mode="webhook", catalog_dir=self.workdir / "catalog")
        )
        self.session = await self._stack.enter_async_context(aiohttp.ClientSession())
        self._limit = asyncio.Semaphore(self.concurrency)

    def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.call(self._stack.aclose(), timeout=60)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
        if not self.loop.is_running():
            self.loop.close()

    async def post(self, body: bytes) -> int:
        """POST one body to the webhook with the right secret; the HTTP status."""
        assert self.session is not None and self.bot is not None and self._limit is not None
        async with (
            self._limit,
            self.session.post(self.bot.url + "/telegram/webhook", data=body, headers=HEADERS) as reply,
        ):
            await reply.read()
            return reply.status

    async def post_all(self, bodies: list[bytes]) -> list[int]:
        return list(await asyncio.gather(*(self.post(body) for body in bodies)))

    async def healthy(self) -> bool:
        assert self.session is not None and self.bot is not None
        async with self.session.get(self.bot.url + "/healthz") as reply:
            return reply.status == 200
