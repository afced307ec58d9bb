"""Fixtures: a running emulator, a real PTB Bot on AiohttpRequest, and small HTTP helpers."""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from aiohttp import web
from telegram import Bot

from bot.ptb_request import AiohttpRequest
from emulator import BotApiEmulator


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """A started emulator on a random port (fast webhook retries)."""
    emulator = BotApiEmulator(webhook_retry_base=0.05, webhook_retry_max=0.2)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def make_bot(emu: BotApiEmulator, token: str | None = None) -> Bot:
    """A real PTB Bot pointed at the emulator, on the aiohttp backend."""
    return Bot(
        token or emu.bot_token,
        base_url=emu.api_url,
        base_file_url=emu.file_url,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(),
    )


@pytest_asyncio.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    """An initialized Bot (initialize() already called getMe)."""
    async with make_bot(emu) as ptb_bot:
        yield ptb_bot


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for raw Bot API and control API requests."""
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a random local port and yield its base URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def png(width: int, height: int, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A valid solid-colour PNG."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
