"""`INSERT ... ON CONFLICT` for whichever database the session is bound to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.hot import dialect_name

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def insert_for(session: AsyncSession, table: Any) -> PostgresqlInsert | SqliteInsert:
    """The dialect's INSERT for `table`, which has `on_conflict_do_nothing()` on both databases."""
    return insert_on(dialect_name(session), table)


def insert_on(dialect: str, table: Any) -> PostgresqlInsert | SqliteInsert:
    """`insert_for` by dialect name, for statements built once and kept (see the hot path's repositories)."""
    # Each dialect's module is imported on first use: a bot on SQLite never loads PostgreSQL's.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
