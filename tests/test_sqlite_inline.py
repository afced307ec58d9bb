"""The turns' SQLite engine: statements on the loop's thread, lock waits as async sleeps, no checkpoints on commit."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ClauseElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import bot.maintenance
import storage.sqlite_inline
from emulator import BotApiEmulator
from storage.db import analyze_sqlite, checkpoint_sqlite, create_engine, create_session_factory, create_turn_engine
from storage.migrate import upgrade
from storage.models import FunnelCount, FunnelStep, Tip
from storage.privacy import Privacy
from storage.repositories import TipDraft
from storage.repositories.funnel import FunnelBuffer
from storage.repositories.review import TipQuery, _review_query, apply_filters
from storage.repositories.review_stats import ReviewStatsRepository
from storage.sqlite_inline import inline_connector
from storage.uow import Database
from tests.support.harness import make_settings, running_bot


@pytest.fixture
async def turn_engine(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "turns.db"
    with contextlib.closing(sqlite3.connect(path)) as setup, setup:  # closed: all in the main file
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE counts (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        setup.execute("INSERT INTO counts VALUES (1, 0)")
    engine = create_turn_engine(f"sqlite+aiosqlite:///{path}")
    assert engine is not None
    yield engine, path
    await engine.dispose()


async def add_one(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE counts SET n = n + 1 WHERE id = 1"))


def count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as reader:
        return int(reader.execute("SELECT n FROM counts WHERE id = 1").fetchone()[0])


async def test_a_turn_waits_for_another_writer_while_the_loop_keeps_serving(
    turn_engine: tuple[AsyncEngine, Path],
) -> None:
    engine, path = turn_engine
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the dashboard, a worker or the CLI holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(ticker())
    turn = asyncio.create_task(add_one(engine))
    await asyncio.sleep(0.3)
    assert not turn.done(), "the turn went ahead while another connection held the write lock"
    assert ticks > 20, "the loop was blocked while the turn waited"
    blocker.execute("COMMIT")
    await asyncio.wait_for(turn, 5)
    ticking.cancel()
    blocker.close()
    assert count(path) == 1


async def test_a_lock_held_past_the_busy_timeout_fails_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    connection = await inline_connector(path, busy_timeout=0.2)()
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await connection.execute("INSERT INTO t VALUES (1)")
    assert 0.15 < time.monotonic() - started < 2
    await connection.close()
    blocker.close()


async def test_a_read_leaves_no_transaction_behind(turn_engine: tuple[AsyncEngine, Path]) -> None:
    engine, path = turn_engine
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM counts"))).scalar_one() == 0
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # would fail at once if the turn connection still held the lock
    other.execute("ROLLBACK")
    other.close()
    await add_one(engine)  # and the pooled connection starts a fresh transaction
    assert count(path) == 1


def count_in_main_file(path: Path, scratch: Path) -> int:
    """What the database file alone holds, without the WAL's frames not yet checkpointed into it."""
    copy = scratch / "main-file-only.db"
    copy.unlink(missing_ok=True)
    copy.write_bytes(path.read_bytes())
    return count(copy)


async def test_commits_leave_the_checkpoint_to_the_maintenance_loop(
    turn_engine: tuple[AsyncEngine, Path], tmp_path: Path
) -> None:
    engine, path = turn_engine
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() == 0
    for _ in range(1500):  # past SQLite's default of a checkpoint every 1,000 WAL pages
        await add_one(engine)
    assert count(path) == 1500
    assert count_in_main_file(path, tmp_path) == 0, "a commit checkpointed on the event loop"
    await asyncio.to_thread(checkpoint_sqlite, f"sqlite+aiosqlite:///{path}")
    assert count_in_main_file(path, tmp_path) == 1500


async def test_statistics_steer_an_objects_pages_to_their_indexes(tmp_path: Path) -> None:
    """After `analyze_sqlite` (the maintenance loop: at start and hourly) SQLite counts an object's tips
    from the covering index and reads its queue page in order from `ix_tips_object_urgent_id`."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        database = Database(create_session_factory(engine), Privacy("k" * 40))
        async with database.unit_of_work() as uow:
            for position, reference in enumerate(("TAO-1", "TAO-2")):
                await uow.objects.upsert(
                    reference=reference, question="?", hint=None, image_path="x.png", image_sha256="0" * 64,
                    position=position,
                )  # fmt: skip
            await uow.commit()
        async with database.unit_of_work() as uow:
            first = await uow.objects.by_reference("TAO-1")
            reporter, _, _ = await uow.reporters.open_chat(
                1, 1, language="en", telegram_language="en", initial_state="x"
            )
            assert first is not None
            draft = TipDraft(
                str(uuid.uuid4()), first.id, reporter.id, None, True, "DE", None, "a mug", None, None, "en"
            )
            await uow.tips.submit(draft)
            await uow.commit()
        columns = ", ".join(column.name for column in Tip.__table__.columns if column.name not in ("id", "draft_token"))
        async with engine.begin() as connection:
            for _ in range(11):  # 2,048 tips of one object
                await connection.execute(
                    text(f"INSERT INTO tips ({columns}, draft_token) SELECT {columns}, hex(randomblob(16)) FROM tips")
                )
        await asyncio.to_thread(analyze_sqlite, url)
        async with engine.connect() as connection:
            analysed = set((await connection.execute(text("SELECT idx FROM sqlite_stat1"))).scalars())
            summary = await plan(connection, ReviewStatsRepository(None)._summaries(first.id))  # type: ignore[arg-type]
            page = await plan(
                connection,
                apply_filters(_review_query(), TipQuery(object_id=first.id))
                .order_by(Tip.urgent.desc(), Tip.id.desc())
                .limit(20),
            )
    finally:
        await engine.dispose()
    assert {"ix_tips_object_urgent_id", "ix_tips_object_status_country"} <= analysed
    assert "COVERING INDEX ix_tips_object_status_country" in summary
    assert "INDEX ix_tips_object_urgent_id" in page and "TEMP B-TREE" not in page


async def plan(connection: AsyncConnection, statement: ClauseElement) -> str:
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    return " | ".join(row[3] for row in await connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


async def test_the_bot_refreshes_sqlites_statistics_when_it_starts(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hourly loop's first round analyses at once, whatever the clock says (a monotonic clock under
    an hour since boot once delayed it; an interval longer than any uptime stands in for that here)."""
    monkeypatch.setattr(bot.maintenance, "HOURLY", 1e12)
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with running_bot(make_settings(url, emulator, tmp_path / "media"), catalog_dir=tmp_path / "catalog"):
        deadline = time.monotonic() + 10
        while not await asyncio.to_thread(analysed, tmp_path / "bot.db"):
            assert time.monotonic() < deadline, "no ANALYZE within 10 s of the start"
            await asyncio.sleep(0.1)


def analysed(path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(path)) as reader:
        tables = {name for (name,) in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return "sqlite_stat1" in tables and reader.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0


async def test_unrefreshable_statistics_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Said in the log and left for the next hour: the hourly round (retention) goes on."""
    await bot.maintenance.refresh_sqlite_statistics(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'none.db'}")
    assert "statistics not refreshed" in caplog.text


@pytest.mark.parametrize("jobs_on", ["short", "unit_of_work"])
async def test_background_jobs_run_in_line_with_the_turns_and_never_make_one_poll_for_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs_on: str
) -> None:
    """Outbox claims and funnel flushes beside a stream of turns: through `Database.short` they take the
    turns' connection in turn, and no turn ever finds SQLite's write lock taken. Through the shared
    pool (the control) each job holds the lock from a thread while the turns poll for it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await asyncio.to_thread(upgrade, url)
    engine, turns_engine = create_engine(url), create_turn_engine(url)
    database = Database(
        create_session_factory(engine), Privacy("k" * 40), turn_engine=turns_engine, counts=FunnelBuffer()
    )
    polls = 0
    locked = storage.sqlite_inline._busy

    def counted(error: sqlite3.OperationalError) -> bool:
        nonlocal polls
        polls += locked(error)
        return locked(error)

    monkeypatch.setattr(storage.sqlite_inline, "_busy", counted)
    update_ids = itertools.count(1)

    async def turns() -> None:
        for _ in range(40):
            async with database.turn() as uow:
                assert await uow.updates.claim(1, next(update_ids))
                await uow.funnel.count(FunnelStep.OPTED_IN, campaign_id=None)
                await uow.commit()

    async def jobs() -> None:
        for _ in range(40):
            async with getattr(database, jobs_on)() as uow:
                assert await uow.outbox.claim(datetime.now(UTC), timedelta(seconds=30)) == []
                await uow.commit()
            await database.flush_counts()

    try:
        await asyncio.gather(*(turns() for _ in range(8)), *(jobs() for _ in range(3)))
        await database.flush_counts()
        async with database.unit_of_work() as uow:
            counted_steps = await uow.session.scalar(select(func.sum(FunnelCount.count)))
    finally:
        await engine.dispose()
        if turns_engine is not None:
            await turns_engine.dispose()
    assert counted_steps == 8 * 40
    if jobs_on == "short":
        assert polls == 0
    else:
        assert polls > 0
