"""On PostgreSQL the turn's hot statements run straight on asyncpg (`storage.hot_asyncpg.DriverStatements`): they
store and read exactly what the same statements do through the session, keep the unit of work's
all-or-nothing and its savepoints, and a lost connection is an invalidated `DBAPIError` after which
turns go on, on fresh connections.

Each comparison runs one script of repository calls on two fresh databases, once through the session
and once on the driver, like `tests/test_hot_statements.py` does for SQLite's inline connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import create_engine, create_session_factory
from storage.hot import SessionStatements
from storage.hot_asyncpg import DriverStatements
from storage.migrate import upgrade
from storage.privacy import Privacy
from storage.uow import Database
from tests.support.databases import fresh_database
from tests.test_hot_statements import (
    Script,
    assert_the_walk_read_alike,
    committed_twice,
    rolled_back,
    savepoint_rolled_back,
    the_tip_walk,
)

pytestmark = pytest.mark.postgres

IDLE_IN_TRANSACTION = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
)
TABLES = ["reporters", "conversations", "tips", "processed_updates", "objects"]


@contextlib.asynccontextmanager
async def postgres_database(tmp_path: Path, *, on_driver: bool) -> AsyncIterator[tuple[Database, str]]:
    async with fresh_database("postgresql", tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        try:
            yield Database(create_session_factory(engine), Privacy("k" * 40), driver_statements=on_driver), url
        finally:
            await engine.dispose()


async def stored_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables turns write; times and random values by their form."""

    def form(column: str, value: Any) -> Any:
        if isinstance(value, datetime):
            return "<time>"
        if column in {"alias", "chat_id_encrypted"} and value is not None:
            return f"<{column}:{len(value)}>"
        return value

    reader = create_async_engine(url, poolclass=NullPool)
    try:
        async with reader.connect() as connection:
            rows = {}
            for table in TABLES:
                result = await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))  # the names above
                names = list(result.keys())
                rows[table] = [tuple(form(n, v) for n, v in zip(names, row, strict=True)) for row in result]
            return rows
    finally:
        await reader.dispose()


async def run_both(tmp_path: Path, script: Script) -> tuple[list[Any], list[Any]]:
    results = []
    for on_driver in (False, True):
        async with postgres_database(tmp_path, on_driver=on_driver) as (database, url):
            async with database.turn() as uow:
                assert type(uow.hot) is (DriverStatements if on_driver else SessionStatements)
            results.append(await script(database))
            results.append(await stored_rows(url))
    through_session, session_rows, on_driver_result, driver_rows = results
    assert driver_rows == session_rows
    assert sum(len(rows) for rows in session_rows.values()) > 0
    return through_session, on_driver_result


async def test_the_walk_stores_and_reads_the_same_rows_either_way(tmp_path: Path) -> None:
    assert_the_walk_read_alike(*await run_both(tmp_path, the_tip_walk))


async def test_a_failed_turn_keeps_nothing_and_a_committed_one_keeps_both_kinds_of_write(tmp_path: Path) -> None:
    through_session, on_driver = await run_both(tmp_path, rolled_back)
    assert on_driver == through_session == [True, True, False, False]


async def test_a_failed_savepoint_is_undone_and_the_turn_goes_on(tmp_path: Path) -> None:
    through_session, on_driver = await run_both(tmp_path, savepoint_rolled_back)
    assert on_driver == through_session == [True, True, 1]


async def test_a_unit_of_work_goes_on_after_a_commit(tmp_path: Path) -> None:
    through_session, on_driver = await run_both(tmp_path, committed_twice)
    assert on_driver == through_session == [False, False]


async def test_hot_statements_run_inside_the_transaction_and_wait_for_its_row_locks(tmp_path: Path) -> None:
    """The first hot statement begins the transaction (SQLAlchemy's adapter would have begun it lazily):
    an uncommitted claim is invisible to another turn, which waits on it and then sees it taken."""
    async with postgres_database(tmp_path, on_driver=True) as (database, _):
        first_claimed = asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with database.turn() as uow:
                assert await uow.updates.claim(1, 7) is True
                first_claimed.set()
                await asyncio.sleep(0.2)
                order.append("first commits")
                await uow.commit()

        async def second() -> bool:
            await first_claimed.wait()
            async with database.turn() as uow:
                claimed = await uow.updates.claim(1, 7)  # waits for the first turn's transaction
                order.append("second claimed")
                await uow.commit()
                return claimed

        _, second_claimed = await asyncio.gather(first(), second())
        assert order == ["first commits", "second claimed"]
        assert second_claimed is False


async def test_a_lost_connection_fails_its_turn_as_invalidated_and_the_next_turns_get_fresh_ones(
    tmp_path: Path,
) -> None:
    async with postgres_database(tmp_path, on_driver=True) as (database, url):
        pids = set()
        async with database.turn() as one, database.turn() as two:  # two pooled connections
            for uow in (one, two):
                pids.add((await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        outside = create_async_engine(url, poolclass=NullPool)
        try:
            async with outside.connect() as connection:
                for pid in pids:
                    await connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        finally:
            await outside.dispose()

        with pytest.raises(DBAPIError) as failed:
            async with database.turn() as uow:
                await uow.updates.claim(1, 1)
        assert failed.value.connection_invalidated  # as SQLAlchemy reports a disconnect
        for update_id in (1, 2, 3):  # both dead connections were replaced, not only the one that failed
            async with database.turn() as uow:
                assert await uow.updates.claim(1, update_id) is True
                pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                assert pid not in pids
                await uow.commit()


async def test_a_turn_cancelled_mid_statement_leaves_no_transaction_open_on_its_connection(tmp_path: Path) -> None:
    """Cancelled at any point of its first hot statement (a BEGIN that asyncpg counts as failed while the
    server keeps it open, say), a turn's connection must not go back to the pool inside a transaction:
    every later unit of work on it would then only release savepoints, never commit."""
    async with fresh_database("postgresql", tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(url, pool_size=1, max_overflow=0)  # every turn gets the same connection
        database = Database(create_session_factory(engine), Privacy("k" * 40))

        async def claim(update_id: int) -> None:
            async with database.turn() as uow:
                await uow.updates.claim(1, update_id)
                await uow.commit()

        try:
            for steps in range(12):  # cancel after 0, 1, 2... passes of the event loop
                task = asyncio.create_task(claim(steps))
                for _ in range(steps):
                    await asyncio.sleep(0)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await claim(1000 + steps)  # the next turn, on the same pooled connection
                outside = create_async_engine(url, poolclass=NullPool)
                try:
                    async with outside.connect() as connection:
                        committed = await connection.scalar(
                            text("SELECT count(*) FROM processed_updates WHERE update_id = :id"), {"id": 1000 + steps}
                        )
                        in_transaction = await connection.scalar(IDLE_IN_TRANSACTION)
                finally:
                    await outside.dispose()
                assert committed == 1, f"cancelled after {steps} passes: the next turn's commit did not commit"
                assert in_transaction == 0, f"cancelled after {steps} passes: a connection idles in a transaction"
        finally:
            await engine.dispose()
