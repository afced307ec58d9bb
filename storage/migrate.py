"""Programmatic Alembic: `tracebot db upgrade` and automatic upgrades on start-up."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic itself (10 MiB and 0.1 s of imports) is imported only when a migration runs: a start
# on an up-to-date schema compares revisions read from the files and the database directly.
MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"""^revision\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: run from a thread (`asyncio.to_thread`) inside async code; env.py runs its own loop."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision: the one no other revision names as its `down_revision`."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if (revision := _REVISION.search(source)) is not None:
            revisions.add(revision[1])
        if (down := _DOWN_REVISION.search(source)) is not None:
            parents.update(_QUOTED.findall(down[1]))
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # none or several heads: Alembic's own answer (or error)

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def revision_of(connection: Connection) -> str | None:
    """The schema revision stamped in the database (None before the first migration)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(revision_of)


async def upgrade_if_needed(engine: AsyncEngine, database_url: str) -> bool:
    """Bring the schema to head (in a worker thread); returns whether anything ran."""
    if await current_revision(engine) == head_revision():
        return False
    await asyncio.to_thread(upgrade, database_url)
    return True
