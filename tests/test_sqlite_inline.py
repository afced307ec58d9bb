"""The turns' SQLite engine: statements on the loop's thread, lock waits as async sleeps, no checkpoints on commit."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import checkpoint_sqlite, create_turn_engine
from storage.sqlite_inline import inline_connector


@pytest.fixture
async def turn_engine(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "turns.db"
    with contextlib.closing(sqlite3.connect(path)) as setup, setup:  # closed: all in the main file
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE counts (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        setup.execute("INSERT INTO counts VALUES (1, 0)")
    engine = create_turn_engine(f"sqlite+aiosqlite:///{path}")
    assert engine is not None
    yield engine, path
    await engine.dispose()


async def add_one(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE counts SET n = n + 1 WHERE id = 1"))


def count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as reader:
        return int(reader.execute("SELECT n FROM counts WHERE id = 1").fetchone()[0])


async def test_a_turn_waits_for_another_writer_while_the_loop_keeps_serving(
    turn_engine: tuple[AsyncEngine, Path],
) -> None:
    engine, path = turn_engine
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the dashboard, a worker or the CLI holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(ticker())
    turn = asyncio.create_task(add_one(engine))
    await asyncio.sleep(0.3)
    assert not turn.done(), "the turn went ahead while another connection held the write lock"
    assert ticks > 20, "the loop was blocked while the turn waited"
    blocker.execute("COMMIT")
    await asyncio.wait_for(turn, 5)
    ticking.cancel()
    blocker.close()
    assert count(path) == 1


async def test_a_lock_held_past_the_busy_timeout_fails_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    connection = await inline_connector(path, busy_timeout=0.2)()
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await connection.execute("INSERT INTO t VALUES (1)")
    assert 0.15 < time.monotonic() - started < 2
    await connection.close()
    blocker.close()


async def test_a_read_leaves_no_transaction_behind(turn_engine: tuple[AsyncEngine, Path]) -> None:
    engine, path = turn_engine
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM counts"))).scalar_one() == 0
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # would fail at once if the turn connection still held the lock
    other.execute("ROLLBACK")
    other.close()
    await add_one(engine)  # and the pooled connection starts a fresh transaction
    assert count(path) == 1


def count_in_main_file(path: Path, scratch: Path) -> int:
    """What the database file alone holds, without the WAL's frames not yet checkpointed into it."""
    copy = scratch / "main-file-only.db"
    copy.unlink(missing_ok=True)
    copy.write_bytes(path.read_bytes())
    return count(copy)


async def test_commits_leave_the_checkpoint_to_the_maintenance_loop(
    turn_engine: tuple[AsyncEngine, Path], tmp_path: Path
) -> None:
    engine, path = turn_engine
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() == 0
    for _ in range(1500):  # past SQLite's default of a checkpoint every 1,000 WAL pages
        await add_one(engine)
    assert count(path) == 1500
    assert count_in_main_file(path, tmp_path) == 0, "a commit checkpointed on the event loop"
    await asyncio.to_thread(checkpoint_sqlite, f"sqlite+aiosqlite:///{path}")
    assert count_in_main_file(path, tmp_path) == 1500
