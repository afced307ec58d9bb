"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a file-backed SQLite URL; None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of a file-backed SQLite database (the default lives under ./data/)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine tuned per backend.

    `hide_parameters`: SQL parameters carry tip text, locations and encrypted chat ids; without it
    SQLAlchemy writes them into every database error's message (and `echo` logs them).
    """
    if is_sqlite(url):
        ensure_sqlite_directory(url)
        timeout = {"timeout": SQLITE_BUSY_TIMEOUT}
        engine = create_async_engine(url, echo=echo, hide_parameters=True, connect_args=timeout)
        _tune_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if make_url(url).get_driver_name() == "asyncpg":
        # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic plan
        # that ignores the values, and a queue filtered by status, country and language went from
        # 2 ms to 256 ms at a million tips. Planning each time costs about a millisecond.
        connect_args["server_settings"] = {"plan_cache_mode": "force_custom_plan"}
    engine = create_async_engine(
        url, echo=echo, hide_parameters=True, pool_size=20, max_overflow=20, connect_args=connect_args
    )
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection idle this many seconds is pinged before it is handed out again.
PING_AFTER_IDLE = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections that sat idle in the pool (the documented
    pessimistic-disconnect recipe, with a threshold).

    asyncpg's ping is three round trips (BEGIN, an empty query, ROLLBACK), and `pool_pre_ping` made
    one before every unit of work: a tenth of a busy bot's CPU. A connection that went bad while idle
    (a server restart, a failover, a firewall's idle timeout) is still found before anyone uses it,
    and its failed ping renews the whole pool, as `pool_pre_ping` does. One that breaks while the
    pool hands it round under load fails the statement that finds it, and SQLAlchemy then renews the
    whole pool too: the turn fails before replying, and Telegram delivers its update again.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # just connected, or used a moment ago
        try:
            dbapi_connection.ping()
        except Exception as error:  # any failure: the pool renews itself (the rest likely died too)
            raise InvalidatePoolError("a pooled connection failed its ping") from error


def create_turn_engine(url: str, *, echo: bool = False) -> AsyncEngine | None:
    """The engine for the bot's turns, when it differs from `create_engine`'s; None when it does not.

    On a SQLite file: one connection whose short statements run on the event loop's thread
    (`storage.sqlite_inline`). Turns take SQLite's write lock at BEGIN anyway, so a pool of them only
    raced for it; one connection serves them in order and keeps p99 flat under a burst.
    """
    path = sqlite_file(url)
    if path is None:
        return None
    from storage.sqlite_inline import inline_connector

    ensure_sqlite_directory(url)
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        async_creator=inline_connector(path, busy_timeout=SQLITE_BUSY_TIMEOUT),
        pool_size=1,
        max_overflow=0,
        pool_timeout=SQLITE_BUSY_TIMEOUT,
    )
    _tune_sqlite(engine, inline=True)
    return engine


# Seconds a statement waits for another connection's write lock before failing.
SQLITE_BUSY_TIMEOUT = 30


def _tune_sqlite(engine: AsyncEngine, *, inline: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (below) instead of the driver's lazy deferred BEGIN.
        if not inline:  # the inline connection is opened in autocommit mode
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if inline:
            # A commit that checkpoints copies the WAL into the database with an fsync: 5-9 ms on the
            # event loop every thousand pages. `checkpoint_sqlite` does it in a thread instead.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        else:  # the inline connection waits for locks asynchronously instead
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.close()

    if inline:
        return  # it begins its own transactions (`InlineConnection.begin_if_idle`)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two deferred transactions that both read and
        # then write would otherwise fail with SQLITE_BUSY instead of waiting their turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def checkpoint_sqlite(url: str) -> None:
    """Copy the WAL back into a SQLite file without making anyone wait (blocking: run it in a thread).

    The turns' connection never checkpoints on commit (see `_tune_sqlite`), so the bot's maintenance
    loop calls this every few seconds; PASSIVE skips what readers or a writer still need.
    """
    path = sqlite_file(url)
    if path is None:
        return
    with contextlib.closing(sqlite3.connect(path, timeout=1)) as connection:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


ANALYZE_BUSY_TIMEOUT = 5


def analyze_sqlite(url: str) -> None:
    """Refresh SQLite's table statistics, sampled (a few milliseconds at a million tips; blocking: a thread).

    Without them SQLite chooses between two indexes on the same leading column by rule, and picked
    the one that is not covering for an object's counts (10 ms became 120 ms once migration 0015
    added a second index on `object_id`). PostgreSQL's autovacuum keeps its own statistics.
    """
    path = sqlite_file(url)
    if path is None:
        return
    # A short wait for the write lock: skipped for an hour is better than the maintenance round waiting.
    with contextlib.closing(sqlite3.connect(path, timeout=ANALYZE_BUSY_TIMEOUT)) as connection:
        connection.execute("PRAGMA analysis_limit=1000")
        connection.execute("ANALYZE")
        connection.commit()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
