"""Shared fixtures: databases (SQLite and PostgreSQL), the Bot API emulator, the running bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.privacy import Privacy
from storage.uow import Database
from tests.support.databases import fresh_database
from tests.support.harness import TOKEN, RunningBot, make_settings, running_bot


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The storage layer alone, on a migrated database (no bot)."""
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        yield Database(create_session_factory(engine), Privacy("k" * 40))
    finally:
        await engine.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator(bot_token=TOKEN, bot_username="TracebotTestBot")
    await emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def bot(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as running:
        yield running
