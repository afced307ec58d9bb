"""`tracebot db backup` / `restore`: an online SQLite copy taken while tips are being committed restores them all."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from storage.backup import BackupError, backup_sqlite, postgres_commands
from storage.db import create_engine, create_session_factory
from storage.migrate import head_revision, upgrade
from storage.models import Tip
from storage.privacy import Privacy
from storage.repositories import TipDraft
from storage.uow import Database
from tests.support.cli import tracebot

PRELOADED_TIPS = 20_000  # ~25 MB, so that the copy takes long enough for commits to land meanwhile


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Database, Path, int]]:
    """A migrated SQLite database with one object and many tips, as the bot would have it open."""
    path = tmp_path / "live.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    database = Database(create_session_factory(engine), Privacy("k" * 40))
    async with database.unit_of_work() as uow:
        obj, _ = await uow.objects.upsert(
            reference="TAO-0001", question="Mug?", hint=None, image_path="mug.png", image_sha256="0" * 64, position=0
        )
        filler = "Ich habe diese Tasse auf dem Markt in Leipzig gesehen. " * 20
        rows = [
            {"draft_token": str(uuid.uuid4()), "object_id": obj.id, "text_original": filler, "ui_language": "de"}
            for _ in range(PRELOADED_TIPS)
        ]
        await uow.session.execute(insert(Tip), rows)
        await uow.commit()
    try:
        yield database, path, obj.id
    finally:
        await engine.dispose()


async def _submit(database: Database, object_id: int) -> int:
    async with database.unit_of_work() as uow:
        tip_id, _ = await uow.tips.submit(
            TipDraft(
                draft_token=str(uuid.uuid4()), object_id=object_id, reporter_id=None, campaign_id=None,
                recognised=True, country_code="DE", country_text=None, text_original="Tasse aus Leipzig",
                latitude=None, longitude=None, ui_language="de",
            )
        )  # fmt: skip
        await uow.commit()
    return tip_id


def _tip_ids(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM tips ORDER BY id")]


async def test_backup_during_writes_restores_every_committed_tip(
    live: tuple[Database, Path, int], tmp_path: Path
) -> None:
    database, path, object_id = live
    committed: list[int] = []
    backup_running = asyncio.Event()
    warmed_up = asyncio.Event()
    during_backup: list[int] = []
    stop = asyncio.Event()

    async def writer() -> None:
        while not stop.is_set():
            tip_id = await _submit(database, object_id)
            committed.append(tip_id)
            if len(committed) >= 20:
                warmed_up.set()
            if backup_running.is_set():
                during_backup.append(tip_id)

    task = asyncio.create_task(writer())
    await warmed_up.wait()  # the writer is in full swing before the copy starts
    before = list(committed)
    backup_running.set()
    report = await asyncio.to_thread(backup_sqlite, path, tmp_path / "backup.db")
    backup_running.clear()
    await asyncio.sleep(0.05)
    stop.set()
    await task

    assert during_backup, "no tip was committed while the backup ran: the test proves nothing"
    with closing(sqlite3.connect(tmp_path / "backup.db")) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    in_backup = _tip_ids(tmp_path / "backup.db")
    # One moment in time: every tip committed before the copy began, then a gap-free prefix of later ones.
    assert set(before) <= set(in_backup)
    assert in_backup == list(range(1, len(in_backup) + 1))
    assert report.summary.tips == len(in_backup) and report.summary.revision == head_revision()

    fresh = tmp_path / "restored" / "tracebot.db"
    env = {"DATABASE_URL": f"sqlite:///{fresh}"}
    restored = await asyncio.to_thread(tracebot, "db", "restore", "--yes", str(tmp_path / "backup.db"),
                                       cwd=tmp_path, env=env)  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert f"{len(in_backup)} tips" in restored.stdout
    restored_ids = _tip_ids(fresh)
    assert restored_ids == in_backup
    assert set(before) <= set(restored_ids)


def test_backup_and_restore_through_the_cli(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'live.db'}"}
    assert tracebot("db", "upgrade", cwd=tmp_path, env=env).returncode == 0

    made = tracebot("db", "backup", "copy.db", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    assert "integrity check ok" in made.stdout

    again = tracebot("db", "backup", "copy.db", cwd=tmp_path, env=env)
    assert again.returncode == 1 and again.stderr == "tracebot: copy.db already exists; choose a new file name\n"

    declined = tracebot("db", "restore", "copy.db", cwd=tmp_path, env=env, stdin="no\n")
    assert declined.returncode == 1 and "nothing was changed" in declined.stdout
    accepted = tracebot("db", "restore", "copy.db", cwd=tmp_path, env=env, stdin="yes\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "restored" in accepted.stdout


async def test_restore_refuses_a_database_in_use(live: tuple[Database, Path, int], tmp_path: Path) -> None:
    database, path, _object_id = live
    await asyncio.to_thread(backup_sqlite, path, tmp_path / "backup.db")
    async with database.session_factory() as session:
        await session.execute(text("SELECT 1"))  # the "bot" holds a connection, as a running one does
        await session.commit()
        result = await asyncio.to_thread(
            tracebot, "db", "restore", "--yes", str(tmp_path / "backup.db"),
            cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{path}"},
        )  # fmt: skip
    assert result.returncode == 1
    assert "is in use (is the bot or a worker running?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_backup_refuses_damaged_or_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}"}
    result = tracebot("db", "restore", "--yes", "notes.txt", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "is not an SQLite database" in result.stderr
    with pytest.raises(BackupError, match="no SQLite database"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "copy.db")


def test_postgresql_gets_pg_dump_lines_without_the_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://tracebot:s3cret-pw@db.internal:5432/tracebot?sslmode=require"}
    result = tracebot("db", "backup", "nightly.dump", cwd=tmp_path, env=env)
    assert result.returncode == 1, "no backup file was written, so a script must not go on as if there were"
    assert "s3cret-pw" not in result.stdout + result.stderr
    dump, restore = postgres_commands(env["DATABASE_URL"], "nightly.dump")
    assert dump == (
        "pg_dump --format=custom --no-owner --file=nightly.dump "
        "'--dbname=postgresql://tracebot@db.internal:5432/tracebot?sslmode=require'"
    )
    assert dump in result.stdout and restore in result.stdout
    assert restore.startswith("pg_restore --clean --if-exists --no-owner --single-transaction")
