"""The PostgreSQL pool pings a connection that sat idle, and only such a one (`storage.db._ping_when_idle`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage import db
from tests.support.databases import fresh_database

pytestmark = pytest.mark.postgres

PID = text("SELECT pg_backend_pid()")


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def pool_with_two_dead_connections(engine: AsyncEngine, url: str) -> set[int]:
    """Check two connections out at once, put them back, then end both server processes from outside."""
    async with engine.connect() as one, engine.connect() as two:
        pids = {(await one.execute(PID)).scalar_one(), (await two.execute(PID)).scalar_one()}
    outside = create_async_engine(url, poolclass=NullPool)
    try:
        async with outside.connect() as connection:
            for pid in pids:
                ended = await connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
                assert ended.scalar_one() is True
    finally:
        await outside.dispose()
    return pids


async def test_a_connection_that_died_idle_in_the_pool_is_replaced_before_anyone_uses_it(
    engine: AsyncEngine, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = await pool_with_two_dead_connections(engine, url)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # both have now been idle long enough
    for _ in range(3):
        async with engine.connect() as connection:
            assert (await connection.execute(PID)).scalar_one() not in dead  # and no error reached us


async def test_one_used_a_moment_ago_is_not_pinged_and_its_failure_renews_the_whole_pool(
    engine: AsyncEngine, url: str
) -> None:
    """The price of skipping the ping: the first statement on a connection that broke under load fails
    (a turn fails before replying, and Telegram delivers the update again); then every connection
    of the pool is replaced, so the next unit of work does not hit the other dead one."""
    dead = await pool_with_two_dead_connections(engine, url)
    with pytest.raises(DBAPIError) as failed:
        async with engine.connect() as connection:
            await connection.execute(PID)
    assert failed.value.connection_invalidated
    for _ in range(3):
        async with engine.connect() as connection:
            assert (await connection.execute(PID)).scalar_one() not in dead
