"""The turn's hot statements, run without SQLAlchemy's execution layer on the inline SQLite connection.

Every Telegram update runs a handful of short Core statements (claim the update, load the chat,
save it; look an object up; store a tip). Executing one through SQLAlchemy costs about 40 µs of
Python (compile-cache lookup, execution context, parameter and result processing, a greenlet
switch) around 3 µs of SQLite. `Prepared` compiles such a statement once for the dialect and keeps
what SQLAlchemy itself would do with it: the SQL text, the order of its parameters, the type
conversion of each parameter and result column (the dialect's own processors, so values are
stored exactly as SQLAlchemy stores them), and the Python-side column defaults of an INSERT or
UPDATE. Only statements the repositories mark with `hot()` take this path: on the inline SQLite
connection (`storage.sqlite_inline`, whose statements already run on the event loop's thread) and
on the session's asyncpg connection (`storage.hot_asyncpg`); elsewhere (the threaded SQLite engine)
`SessionStatements` runs the same statements through the session.

Repositories reach all of them through one small interface, `HotStatements`.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.schema import Column

from storage.sqlite_inline import InlineConnection

S = TypeVar("S", bound=ClauseElement)

_HOT: dict[int, ClauseElement] = {}  # id -> statement (kept alive, so an id is never reused)


def hot(statement: S) -> S:
    """Mark a Core statement, built once and kept, as one the turn runs often (see the module docstring)."""
    _HOT[id(statement)] = statement
    return statement


def is_hot(statement: ClauseElement) -> bool:
    return _HOT.get(id(statement)) is statement


def dialect_name(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""


Params = Mapping[str, Any]
Processor = Callable[[Any], Any]


class Prepared:
    """A hot statement compiled for one (positional-parameter) dialect, ready for a DB-API cursor."""

    __slots__ = ("_binds", "_columns", "_defaults", "_fixed", "_row", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        names = compiled.positiontup
        if names is None:
            raise ValueError(f"{dialect.name} does not use positional parameters")
        binds = compiled.binds
        if any(binds[name].expanding for name in names):
            raise ValueError("a hot statement cannot have an expanding IN parameter")
        self.sql: str = compiled.string
        self._binds: list[tuple[str, Processor | None]] = [
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]
        # Values fixed in the statement itself (`.values(viewed=[])`), then Python-side column defaults
        # for the columns an INSERT does not set (and `onupdate` ones of an UPDATE), as SQLAlchemy's
        # execution context would compute them per execution.
        self._fixed = {name: binds[name].effective_value for name in names if not binds[name].required}
        self._defaults: list[tuple[str, Callable[[], Any]]] = [
            (_bind_name(column, names), _default_of(column, "default")) for column in compiled.insert_prefetch
        ] + [(_bind_name(column, names), _default_of(column, "onupdate")) for column in compiled.update_prefetch]
        columns = list(statement.exported_columns) if hasattr(statement, "exported_columns") else []
        self._columns: list[Processor | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        self._row: Any = namedtuple("HotRow", [column.key for column in columns], rename=True) if columns else None  # type: ignore[misc]

    def parameters(self, params: Params) -> list[Any]:
        """The DB-API parameters, in order and converted, for one execution with `params`."""
        if self._fixed or self._defaults:
            params = {**self._fixed, **{name: make() for name, make in self._defaults}, **params}
        # Processors see None too, as under SQLAlchemy (JSON writes it as 'null').
        return [params[name] if process is None else process(params[name]) for name, process in self._binds]

    def row(self, raw: Sequence[Any]) -> Any:
        return self._row._make(
            value if process is None else process(value) for value, process in zip(raw, self._columns, strict=True)
        )


def _bind_name(column: Column[Any], names: Sequence[str]) -> str:
    if column.key not in names:
        raise ValueError(f"column {column.key}'s default has no parameter of its name")
    return column.key


def _default_of(column: Column[Any], attribute: str) -> Callable[[], Any]:
    default = getattr(column, attribute)
    if getattr(default, "is_scalar", False):
        value = default.arg
        return lambda: value
    if getattr(default, "is_callable", False):
        function = default.arg
        return lambda: function(None)  # SQLAlchemy wraps our zero-argument defaults to take a context
    raise ValueError(f"column {column.key}: a hot statement handles only scalar or callable defaults")


class HotRepository:
    """A repository on the hot path: marked statements through `_hot`, anything else through `_session`."""

    def __init__(self, hot: HotStatements) -> None:
        self._hot = hot

    @property
    def _session(self) -> AsyncSession:
        return self._hot.session


class HotStatements(Protocol):
    """What the hot path's repositories run their marked statements with; `session` for everything else."""

    dialect_name: str

    @property
    def session(self) -> AsyncSession: ...

    @property
    def has_session(self) -> bool:
        """Whether the session was made yet (ORM changes can only be pending in one that was)."""
        ...

    async def first(self, statement: ClauseElement, params: Params | None = None) -> Any: ...

    async def scalar(self, statement: ClauseElement, params: Params | None = None) -> Any: ...

    async def scalars(self, statement: ClauseElement, params: Params | None = None) -> list[Any]: ...

    async def execute(self, statement: ClauseElement, params: Params | None = None) -> int: ...

    def savepoint(self) -> AbstractAsyncContextManager[object]: ...


class SessionStatements:
    """Hot statements through the session, like any other (PostgreSQL, the threaded SQLite engine)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.dialect_name = dialect_name(session)

    @property
    def session(self) -> AsyncSession:
        return self._session

    @property
    def has_session(self) -> bool:
        return True

    async def first(self, statement: ClauseElement, params: Params | None = None) -> Any:
        return (await self._session.execute(statement, params)).first()  # type: ignore[call-overload]

    async def scalar(self, statement: ClauseElement, params: Params | None = None) -> Any:
        return await self._session.scalar(statement, params)  # type: ignore[call-overload]

    async def scalars(self, statement: ClauseElement, params: Params | None = None) -> list[Any]:
        return list(await self._session.scalars(statement, params))  # type: ignore[call-overload]

    async def execute(self, statement: ClauseElement, params: Params | None = None) -> int:
        result = await self._session.execute(statement, params)  # type: ignore[call-overload]
        return int(getattr(result, "rowcount", 0) or 0)

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        return self._session.begin_nested()


class InlineStatements:
    """Hot statements straight on the inline SQLite connection, inside the unit of work's transaction.

    Anything not marked `hot()` goes through the session, made on first use by `session_factory` and
    joined to the same connection and transaction.
    """

    def __init__(
        self, connection: InlineConnection, dialect: Dialect, session_factory: Callable[[], AsyncSession]
    ) -> None:
        self._connection: InlineConnection | None = connection
        self._dialect = dialect
        self.dialect_name = dialect.name
        self._session_factory = session_factory
        self._through_session: SessionStatements | None = None
        self._savepoints = 0

    @property
    def session(self) -> AsyncSession:
        return self._fallback().session

    @property
    def has_session(self) -> bool:
        return self._through_session is not None

    def _fallback(self) -> SessionStatements:
        if self._through_session is None:
            self._through_session = SessionStatements(self._session_factory())
        return self._through_session

    def close(self) -> None:
        """The unit of work ended: a repository kept past it must not write on the shared connection."""
        self._connection = None

    def _open(self) -> InlineConnection:
        if self._connection is None:
            raise RuntimeError("unit of work used after it ended")
        return self._connection

    async def _run(self, statement: ClauseElement, params: Params | None) -> tuple[Prepared, Any]:
        prepared = prepared_for(statement, self._dialect)
        args = prepared.parameters(params or {})
        connection = self._open()
        try:
            await connection.begin_if_idle()
            raw = connection.open()
            cursor = await connection.retrying(lambda: raw.execute(prepared.sql, args))
        except sqlite3.Error as error:
            raise self._as_sqlalchemy_error(prepared.sql, args, error) from error
        return prepared, cursor

    def _as_sqlalchemy_error(self, sql: str, args: Sequence[Any] | None, error: sqlite3.Error) -> BaseException:
        """The error as SQLAlchemy raises it (IntegrityError, OperationalError...), parameters hidden."""
        return DBAPIError.instance(sql, args, error, sqlite3.Error, hide_parameters=True, dialect=self._dialect)

    async def first(self, statement: ClauseElement, params: Params | None = None) -> Any:
        if not is_hot(statement):
            return await self._fallback().first(statement, params)
        prepared, cursor = await self._run(statement, params)
        found = cursor.fetchone()
        cursor.close()
        return None if found is None else prepared.row(found)

    async def scalar(self, statement: ClauseElement, params: Params | None = None) -> Any:
        row = await self.first(statement, params)
        return None if row is None else row[0]

    async def scalars(self, statement: ClauseElement, params: Params | None = None) -> list[Any]:
        if not is_hot(statement):
            return await self._fallback().scalars(statement, params)
        prepared, cursor = await self._run(statement, params)
        rows = cursor.fetchall()
        return [prepared.row(row)[0] for row in rows]

    async def execute(self, statement: ClauseElement, params: Params | None = None) -> int:
        if not is_hot(statement):
            return await self._fallback().execute(statement, params)
        _, cursor = await self._run(statement, params)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        connection = self._open()
        self._savepoints += 1
        name = f"hot_{self._savepoints}"
        try:
            await connection.begin_if_idle()
            raw = connection.open()
            raw.execute(f"SAVEPOINT {name}")
        except sqlite3.Error as error:
            raise self._as_sqlalchemy_error(f"SAVEPOINT {name}", None, error) from error
        try:
            yield self
        except BaseException:
            # Undo to the savepoint, unless the whole transaction is already gone (SQLite ended it on
            # a full disk, say, or the connection was closed): then the error that ended it is the one
            # to see. A failed undo inside a live transaction is raised: the turn must not go on.
            try:
                live = raw.in_transaction
            except sqlite3.ProgrammingError:  # closed
                live = False
            if live:
                raw.execute(f"ROLLBACK TO {name}")
                raw.execute(f"RELEASE {name}")
            raise
        raw.execute(f"RELEASE {name}")


_PREPARED: dict[tuple[int, int], tuple[Dialect, Prepared]] = {}


def prepared_for(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """`statement` compiled once for `dialect` (kept for the process's life, like the statement)."""
    # Per dialect object: its processors use that engine's settings (its JSON serializer, say).
    found = _PREPARED.get((id(statement), id(dialect)))
    if found is not None and found[0] is dialect:
        return found[1]
    prepared = Prepared(statement, dialect)
    _PREPARED[id(statement), id(dialect)] = (dialect, prepared)
    return prepared
