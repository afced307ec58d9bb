"""The masked search copy of tips: written with the text, filled by migration 0006, re-masked on rule changes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.settings import load_settings
from bot.web import SEARCH_REINDEX, SETTINGS, search_index_context, services_context
from storage.db import create_engine, create_session_factory
from storage.migrate import downgrade, upgrade
from storage.models import Tip, TranslationStatus
from storage.pii import MASK_VERSION, PHONE_MASK, mask_contacts, normalise_search, search_text
from storage.privacy import Privacy
from storage.repositories import TipDraft
from storage.repositories.review import TipQuery
from storage.repositories.translation_jobs import TranslationResult
from storage.search_index import reindex_search
from storage.uow import Database
from tests.support.cli import tracebot
from tests.support.databases import fresh_database, postgres_server_url

REVISION = "0006"  # the migration that adds the search copy (re-chained by the lead if renamed)
BEFORE = "0005"
TEXT = "Ruf  +49 170 1234567 an, jan.kowalski@example.org, Tasse aus HAMBURG"
ENGLISH = "Call +49 170 1234567, jan.kowalski@example.org, mug from Hamburg"


async def add_tip(database: Database, text_original: str = TEXT, english: str | None = ENGLISH) -> int:
    async with database.unit_of_work() as uow:
        mug, _ = await uow.objects.upsert(
            reference=f"TAO-{uuid.uuid4().hex[:6]}", question="Mug?", hint=None, image_path="mug.png",
            image_sha256="0" * 64, position=0,
        )  # fmt: skip
        reporter, _, _ = await uow.reporters.open_chat(
            1, 1, language="de", telegram_language="de", initial_state="idle"
        )
        tip_id, _ = await uow.tips.submit(
            TipDraft(str(uuid.uuid4()), mug.id, reporter.id, None, True, None, None, text_original, None, None, "de")
        )
        if english is not None:
            done = TranslationResult(tip_id, TranslationStatus.DONE, "de", 0.9, "test", text_english=english)
            await uow.translation_jobs.complete(done, datetime.now(UTC))
        await uow.commit()
    return tip_id


async def stored(database: Database, tip_id: int) -> tuple[str | None, int | None]:
    async with database.session_factory() as session:
        row = (await session.execute(select(Tip.search_text, Tip.search_mask_version).where(Tip.id == tip_id))).one()
    return row[0], row[1]


def test_search_text_is_masked_and_normalised() -> None:
    assert search_text(TEXT, ENGLISH) == (
        "ruf [phone number hidden] an, [e-mail hidden], tasse aus hamburg\n"
        "call [phone number hidden], [e-mail hidden], mug from hamburg"
    )
    assert search_text("", None) == ""
    assert normalise_search(" Ｔａｓｓｅ\u00a0 AUS\tStraße ") == "tasse aus strasse"
    # Separators people type in numbers (no-break spaces, dashes) and full-width @ are masked too.
    assert mask_contacts("+49\u00a0170\u00a01234567 or 0171–1234567") == f"{PHONE_MASK} or {PHONE_MASK}"
    assert mask_contacts("jan\uff20example.org") == "[e-mail hidden]"
    assert "1234567" not in search_text("Tel. +49 170\u202f1234567", None)


async def test_the_write_paths_store_a_masked_copy(database: Database) -> None:
    tip_id = await add_tip(database, english=None)
    assert await stored(database, tip_id) == (search_text(TEXT, None), MASK_VERSION)
    async with database.unit_of_work() as uow:
        await uow.translation_jobs.complete(
            TranslationResult(tip_id, TranslationStatus.DONE, "de", 0.9, "test", text_english=ENGLISH),
            datetime.now(UTC),
        )
        await uow.commit()
    copy, version = await stored(database, tip_id)
    assert copy == search_text(TEXT, ENGLISH) and version == MASK_VERSION
    assert "170" not in copy and "kowalski" not in copy and "mug from hamburg" in copy
    async with database.unit_of_work() as uow:
        found = await uow.review.page(TipQuery(text="MUG  from"))
        hidden = await uow.review.page(TipQuery(text="1234567"))
    assert [tip.id for tip in found] == [tip_id] and hidden == []


async def test_reindex_masks_rows_of_older_rules_in_batches(database: Database, database_url: str) -> None:
    tips = [await add_tip(database) for _ in range(5)]
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(Tip).where(Tip.id.in_(tips[:3])).values(search_text=TEXT, search_mask_version=MASK_VERSION - 1)
        )
        await uow.session.execute(
            update(Tip).where(Tip.id == tips[3]).values(search_text=None, search_mask_version=None)
        )
        await uow.session.execute(update(Tip).where(Tip.id == tips[4]).values(search_mask_version=MASK_VERSION + 1))
        await uow.commit()
    assert await reindex_search(database, batch=2) == 4, "older and missing copies; never a newer one"
    for tip_id in tips[:4]:
        assert await stored(database, tip_id) == (search_text(TEXT, ENGLISH), MASK_VERSION)
    assert (await stored(database, tips[4]))[1] == MASK_VERSION + 1
    assert await reindex_search(database) == 0


async def test_start_up_masks_stale_copies(database: Database, database_url: str, tmp_path: Path) -> None:
    tip_id = await add_tip(database)
    async with database.unit_of_work() as uow:
        await uow.session.execute(update(Tip).where(Tip.id == tip_id).values(search_mask_version=0))
        await uow.commit()
    app = web.Application()
    app[SETTINGS] = load_settings(
        telegram_bot_token="123456:SEARCH-test-token", database_url=database_url, secret_key="s" * 40,
        media_dir=tmp_path / "media", webhook_url=None, translation_worker="off",
    )  # fmt: skip
    contexts = [services_context(app), search_index_context(app)]
    for context in contexts:
        await anext(context)
    try:
        assert await app[SEARCH_REINDEX] == 1
    finally:
        for context in reversed(contexts):
            await anext(context, None)
    assert await stored(database, tip_id) == (search_text(TEXT, ENGLISH), MASK_VERSION)


def test_reindex_search_command(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    result = tracebot("db", "reindex-search", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "masked the search copy of 0 tips again" in result.stdout


async def _insert_old_tip(url: str) -> None:
    """A tip as stored before the search copy existed (plain SQL: the models are ahead of this schema)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO objects (id, reference, question, image_path, image_sha256, status, position,"
                    " created_at, updated_at) VALUES (1, 'TAO-0001', 'Mug?', 'mug.png', :sha, 'active', 0, :now, :now)"
                ),
                {"sha": "0" * 64, "now": datetime.now(UTC)},
            )
            await connection.execute(
                text(
                    "INSERT INTO tips (id, draft_token, object_id, recognised, text_original, text_english,"
                    " ui_language, translation_status, status, created_at)"
                    " VALUES (1, 'old', 1, true, :original, :english, 'de', 'done', 'new', :now)"
                ),
                {"original": TEXT, "english": ENGLISH, "now": datetime.now(UTC)},
            )
    finally:
        await engine.dispose()


async def _indexes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                index["name"] or ""
                for index in await connection.run_sync(lambda sync: sa.inspect(sync).get_indexes("tips"))
            }
    finally:
        await engine.dispose()


async def test_migration_masks_existing_tips_and_indexes_them(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url, BEFORE)
    await _insert_old_tip(database_url)
    await asyncio.to_thread(upgrade, database_url, REVISION)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT search_text, search_mask_version FROM tips"))).one()
    finally:
        await engine.dispose()
    assert tuple(row) == (search_text(TEXT, ENGLISH), MASK_VERSION)
    indexes = await _indexes(database_url)
    assert "ix_tips_search_mask_version" in indexes
    if make_url(database_url).get_backend_name() == "postgresql":
        assert "ix_tips_search_text_trgm" in indexes
    await asyncio.to_thread(downgrade, database_url, BEFORE)
    assert not {"ix_tips_search_mask_version", "ix_tips_search_text_trgm"} & await _indexes(database_url)


@pytest.mark.postgres
async def test_without_pg_trgm_the_migration_warns_and_search_still_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A role that may not create extensions: no trigram index, a warning, and a working (scanning) search."""
    server = postgres_server_url()
    assert server is not None
    role = f"tracebot_noext_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        async with fresh_database("postgresql", tmp_path) as url:
            owner = create_async_engine(url, isolation_level="AUTOCOMMIT")
            async with owner.connect() as connection:  # tables yes, extensions no (no CREATE on the database)
                await connection.execute(text(f'ALTER SCHEMA public OWNER TO "{role}"'))
            await owner.dispose()
            limited = make_url(url).set(username=role).render_as_string(hide_password=False)
            with caplog.at_level(logging.WARNING):
                await asyncio.to_thread(upgrade, limited)
            assert "pg_trgm could not be created" in caplog.text
            assert "ix_tips_search_text_trgm" not in await _indexes(limited)
            engine = create_engine(limited)
            try:
                database = Database(create_session_factory(engine), Privacy("search-index-test-secret"))
                tip_id = await add_tip(database)
                async with database.unit_of_work() as uow:
                    assert [tip.id for tip in await uow.review.page(TipQuery(text="hamburg"))] == [tip_id]
            finally:
                await engine.dispose()
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        await admin.dispose()
