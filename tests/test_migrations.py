"""The Alembic stairway: every revision upgrades, downgrades and upgrades again, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

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


async def test_upgrading_a_populated_database_keeps_every_row(database_url: str) -> None:
    """Table rebuilds (SQLite batch mode) must not fire ON DELETE rules on the rows that point at them."""
    await asyncio.to_thread(upgrade, database_url, "0010")
    engine = create_engine(database_url)
    statements = [
        "INSERT INTO objects (id, reference, question, image_path, translations, image_sha256, status, position,"
        " created_at, updated_at) VALUES (1, 'TAO-1', 'q', 'a.png', '{}', 'x', 'active', 0, :now, :now)",
        "INSERT INTO campaigns (id, code, title, active, created_at) VALUES (1, 'spring', 'Spring', true, :now)",
        "INSERT INTO campaign_objects (campaign_id, object_id, position) VALUES (1, 1, 0)",
        "INSERT INTO moderators (id, username, password_hash, role, active, created_at)"
        " VALUES (1, 'alice', 'h', 'admin', true, :now)",
        "INSERT INTO tips (id, draft_token, object_id, campaign_id, recognised, text_original, ui_language,"
        " translation_status, status, created_at, translation_attempts, confirmation_attempts, followup_consent)"
        " VALUES (1, 'a', 1, 1, true, 'first', 'en', 'pending', 'new', :now, 0, 0, true),"
        " (2, 'b', 1, 1, true, 'second', 'en', 'pending', 'new', :now, 0, 0, false)",
        "UPDATE tips SET duplicate_of_id = 1 WHERE id = 2",
        "INSERT INTO tip_notes (tip_id, moderator_id, text, created_at) VALUES (1, 1, 'a note', :now)",
    ]
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement), {"now": datetime.now(UTC)})
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, database_url, "head")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tips = (
                await connection.execute(text("SELECT id, campaign_id, duplicate_of_id FROM tips ORDER BY id"))
            ).all()
            notes = (await connection.execute(text("SELECT count(*) FROM tip_notes"))).scalar_one()
            links = (await connection.execute(text("SELECT count(*) FROM campaign_objects"))).scalar_one()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in tips] == [(1, 1, None), (2, 1, 1)]
    assert (notes, links) == (1, 1)
