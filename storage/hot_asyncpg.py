"""The turn's hot statements (`storage.hot`) straight on the session's asyncpg connection (PostgreSQL).

Through the session, each statement costs SQLAlchemy's execution layer and its asyncpg DB-API
adapter (a greenlet switch, a cursor, a prepared-statement cache of its own, a regular expression on
the command status) around asyncpg's own work: about a fifth of a PostgreSQL turn's CPU. This path uses
the adapter's internals (`_transaction`, `_start_transaction`, `_handle_exception`,
`_execute_mutex`) and the pool's `_invalidate`, so SQLAlchemy is pinned to 2.1.x in `pyproject.toml`;
`tests/test_driver_statements.py` holds it to what the session path stores and raises.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement

from storage.hot import Params, Prepared, SessionStatements, is_hot, prepared_for


class DriverStatements(SessionStatements):
    """Hot statements straight on the session's asyncpg connection, inside the session's transaction.

    The session checks the connection out and ends the transaction as usual (commit, rollback, a
    savepoint's statements); a marked statement runs as one asyncpg `fetch`/`execute` with the SQL,
    parameter order and type conversions SQLAlchemy compiled for it once (`Prepared`), skipping the
    execution layer and the DB-API adapter around each statement. The transaction is begun the way
    SQLAlchemy's asyncpg adapter begins it, so its commit and rollback end it. A lost connection is
    handled as SQLAlchemy handles one: the error comes as a `DBAPIError` with `connection_invalidated`,
    and the pool replaces every connection it handed out before (the rest may have died with it).
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._dialect = _bind(session).dialect
        self._adapter: Any = None  # SQLAlchemy's AsyncAdapt_asyncpg_connection, once checked out
        self._connection: AsyncConnection | None = None

    async def _adapted(self) -> Any:
        """The session's connection as SQLAlchemy's asyncpg adapter (checked out, and its transaction
        begun by the session, on first use and again after a commit)."""
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            connection = self._connection = await self.session.connection()
            self._adapter = (await connection.get_raw_connection()).dbapi_connection
        return self._adapter

    async def _run(self, statement: ClauseElement, params: Params | None, method: str) -> tuple[Prepared, Any]:
        prepared = prepared_for(statement, self._dialect)
        args = prepared.parameters(params or {})
        adapter = await self._adapted()
        try:
            async with adapter._execute_mutex:  # one statement at a time, as the adapter's cursors do
                if adapter._transaction is None:  # the adapter sends BEGIN lazily, before its first statement
                    await adapter._start_transaction()
                return prepared, await getattr(adapter._connection, method)(prepared.sql, *args)
        except Exception as error:
            raise await self._as_sqlalchemy_error(prepared.sql, args, error) from error
        except BaseException as exit_:
            # Cancelled (a timeout, a shutdown) mid-statement: the connection may be left anywhere (a
            # BEGIN that asyncpg counts as failed while the server has it open, say). SQLAlchemy's own
            # path invalidates the connection on such exit exceptions; so does this one, or it would
            # go back to the pool inside a transaction that nothing ever commits.
            connection = self._connection
            if connection is not None and not connection.invalidated:
                await asyncio.shield(connection.invalidate(exit_))
            raise

    async def _as_sqlalchemy_error(self, sql: str, args: Sequence[Any], error: Exception) -> BaseException:
        adapter, connection = self._adapter, self._connection
        assert connection is not None
        try:
            adapter._handle_exception(error)  # raises the adapter's DB-API error for it
        except adapter.dbapi.Error as translated:
            lost = self._dialect.is_disconnect(translated, adapter, None)
            if lost:  # as SQLAlchemy does on a disconnect: this connection, then all older ones
                fairy = await connection.get_raw_connection()
                await connection.invalidate(translated)
                connection.sync_engine.pool._invalidate(fairy, translated, _checkin=False)
            wrapped: BaseException = DBAPIError.instance(
                sql,
                args,
                translated,
                adapter.dbapi.Error,
                hide_parameters=True,
                dialect=self._dialect,
                connection_invalidated=lost,
            )
            return wrapped
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        async with self.session.begin_nested() as nested:
            await self.session.connection()  # SAVEPOINT now: the session would emit it on its next statement
            yield nested

    async def first(self, statement: ClauseElement, params: Params | None = None) -> Any:
        if not is_hot(statement):
            return await super().first(statement, params)
        prepared, found = await self._run(statement, params, "fetchrow")
        return None if found is None else prepared.row(found)

    async def scalars(self, statement: ClauseElement, params: Params | None = None) -> list[Any]:
        if not is_hot(statement):
            return await super().scalars(statement, params)
        prepared, rows = await self._run(statement, params, "fetch")
        return [prepared.row(row)[0] for row in rows]

    async def scalar(self, statement: ClauseElement, params: Params | None = None) -> Any:
        row = await self.first(statement, params)
        return None if row is None else row[0]

    async def execute(self, statement: ClauseElement, params: Params | None = None) -> int:
        if not is_hot(statement):
            return await super().execute(statement, params)
        _, status = await self._run(statement, params, "execute")
        counted = _STATUS_COUNT.match(status or "")
        return int(counted.group(1)) if counted else 0


_STATUS_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")  # asyncpg's command status


def _bind(session: AsyncSession) -> Any:
    if session.bind is None:
        raise ValueError("the session has no engine")
    return session.bind
