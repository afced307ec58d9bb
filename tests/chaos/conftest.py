"""Fixtures for the chaos tests: a fast-retrying emulator and a pool of bot processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.chaos.botproc import ProcessPool

CHAOS_TOKEN = "424242:CHAOS-token"


@pytest.fixture
async def chaos_emulator() -> AsyncIterator[BotApiEmulator]:
    """Like Telegram, but retries a failed webhook delivery within half a second, not minutes."""
    emu = BotApiEmulator(
        bot_token=CHAOS_TOKEN, bot_username="TracebotChaosBot", webhook_retry_base=0.05, webhook_retry_max=0.5
    )
    await emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[ProcessPool]:
    """Bot processes started by the test; all killed at teardown, whatever the outcome."""
    pool = ProcessPool(tmp_path / "bots")
    try:
        yield pool
    finally:
        await pool.close()
