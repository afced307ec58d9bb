"""The Alembic stairway: every revision upgrades, downgrades and upgrades again, on both databases."""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import create_engine
from storage.migrate import alembic_config, downgrade, upgrade
from storage.models import Base


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_stairway(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    revisions = list(reversed(list(script.walk_revisions())))
    assert revisions, "there must be migrations"
    for revision in revisions:
        await asyncio.to_thread(upgrade, database_url, revision.revision)
        await asyncio.to_thread(downgrade, database_url, revision.down_revision or "base")
        await asyncio.to_thread(upgrade, database_url, revision.revision)
    assert set(Base.metadata.tables) <= await _tables(database_url)
    await asyncio.to_thread(downgrade, database_url, "base")
    assert await _tables(database_url) <= {"alembic_version"}
