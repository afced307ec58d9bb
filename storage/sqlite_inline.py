"""A SQLite connection for the bot's turns that runs each statement on the event loop's own thread.

aiosqlite hands every statement to a thread and back; a turn runs about seven short statements, and
those hops (and the kernel's thread switches behind them) cost more CPU than SQLite itself. Turns
touch a handful of rows by primary or unique key, which SQLite answers in microseconds, so this
connection runs them directly and only *waits* asynchronously: its busy timeout is zero, and when
another connection (the dashboard, a worker, the CLI) holds the write lock, `BEGIN IMMEDIATE` gets
SQLITE_BUSY at once and is retried after an `asyncio.sleep`, so the loop keeps serving meanwhile.

It has the shape of an aiosqlite connection (coroutine methods, an async cursor), so SQLAlchemy's
aiosqlite dialect drives it unchanged through `create_async_engine(..., async_creator=...)`. Use it
only for short statements: long queries (dashboard pages, exports) stay on the threaded engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

T = TypeVar("T")

# Waits between attempts while another connection holds the lock: short at first, then capped.
FIRST_WAIT = 0.001
LONGEST_WAIT = 0.05


def _busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (SQLITE_BUSY): worth waiting for. Not SQLITE_LOCKED, a
    conflict within this connection, which no wait resolves."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_BUSY)
    return str(error) == "database is locked"


class InlineCursor:
    """An aiosqlite-shaped cursor over a `sqlite3.Cursor`."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.open().cursor()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Self:
        if sql.lstrip()[:6].upper() != "PRAGMA":  # settings are made outside transactions
            await self._connection.begin_if_idle()
        await self._connection.retrying(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        rows = list(parameters)  # a retry needs them again
        await self._connection.begin_if_idle()
        await self._connection.retrying(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while rows := self._cursor.fetchmany(self._cursor.arraysize):
            for row in rows:
                yield row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """An aiosqlite-shaped connection whose statements run inline and whose lock waits are async sleeps."""

    def __init__(self, raw: sqlite3.Connection, busy_timeout: float) -> None:
        self.raw: sqlite3.Connection | None = raw
        self._busy_timeout = busy_timeout

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # SQLAlchemy's adapter checks aiosqlite's `_connection` before commit and rollback.
        return self.raw

    @property
    def isolation_level(self) -> str | None:
        return self.open().isolation_level

    def open(self) -> sqlite3.Connection:
        if self.raw is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self.raw

    async def retrying(self, statement: Callable[[], T]) -> T:
        """Run `statement`; while the database is locked by another connection, sleep and try again."""
        self.open()
        deadline: float | None = None
        wait = FIRST_WAIT
        while True:
            try:
                return statement()
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self._busy_timeout
                if now >= deadline:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT)

    async def begin_if_idle(self) -> None:
        """Open a transaction that holds the write lock from its first statement on (BEGIN IMMEDIATE).

        Two deferred transactions that both read and then write would fail with SQLITE_BUSY instead of
        waiting their turn. Issued here rather than by a SQLAlchemy "begin" listener, which costs a whole
        statement execution through the engine on every turn.
        """
        raw = self.open()
        if not raw.in_transaction:
            await self.retrying(lambda: raw.execute("BEGIN IMMEDIATE"))

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        cursor = InlineCursor(self)
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        await self.retrying(self.open().commit)

    async def rollback(self) -> None:
        self.open().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.open().create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate outside a greenlet, e.g. at garbage collection)."""
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.close()


def inline_connector(path: Path, *, busy_timeout: float) -> Callable[[], Awaitable[InlineConnection]]:
    """An `async_creator` for `create_async_engine`: autocommit mode (BEGIN is ours), no busy handler."""

    async def connect() -> InlineConnection:
        # check_same_thread=False: the pool may close it from the garbage collector's thread.
        raw = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        return InlineConnection(raw, busy_timeout)

    return connect
