"""`INSERT ... ON CONFLICT` for whichever database the session is bound to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> PostgresqlInsert | SqliteInsert:
    """The dialect's INSERT for `table`, which has `on_conflict_do_nothing()` on both databases."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    return postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)
