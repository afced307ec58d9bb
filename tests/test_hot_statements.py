"""The turn's hot statements on the inline SQLite connection (`storage.hot`) store and read exactly what
the same statements store and read through SQLAlchemy, and keep the unit of work's all-or-nothing.

Each test runs one script of repository calls twice, on two fresh databases: once the way the dashboard
and PostgreSQL run them (through the session), once the way the bot's turns on SQLite do (prepared, on
the inline connection). What the repositories return and every stored row must be the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine, create_session_factory, create_turn_engine
from storage.hot import InlineStatements, SessionStatements, is_hot
from storage.migrate import upgrade
from storage.models import ProcessedUpdate, Reporter, utcnow
from storage.privacy import Privacy
from storage.repositories import TipDraft
from storage.repositories.reporters import _NEW_REPORTER
from storage.uow import Database

Script = Callable[[Database], Awaitable[list[Any]]]


@contextlib.asynccontextmanager
async def sqlite_database(path: Path, *, inline: bool) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    turn_engine = create_turn_engine(url) if inline else None
    assert not inline or turn_engine is not None
    try:
        yield Database(
            create_session_factory(engine),
            Privacy("k" * 40),
            turn_engine=turn_engine,
        )
    finally:
        if turn_engine is not None:
            await turn_engine.dispose()
        await engine.dispose()


_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


def stored_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables turns write, as SQLite holds them; times and random values by their form."""

    def form(column: str, value: Any) -> Any:
        if isinstance(value, str) and _TIME.match(value):
            return "<time>"
        if column in {"alias", "chat_id_encrypted"} and value is not None:
            return f"<{column}:{len(value)}>"
        return value

    tables = ["reporters", "conversations", "tips", "processed_updates", "objects"]
    with contextlib.closing(sqlite3.connect(path)) as reader:
        rows = {}
        for table in tables:
            cursor = reader.execute(f"SELECT * FROM {table} ORDER BY 1, 2")  # the names above
            names = [column[0] for column in cursor.description]
            rows[table] = [tuple(form(name, value) for name, value in zip(names, row, strict=True)) for row in cursor]
    return rows


async def run_both(tmp_path: Path, script: Script) -> tuple[list[Any], list[Any]]:
    """Run `script` through the session and inline; assert the stored rows match; return both results."""
    results = []
    for inline in (False, True):
        path = tmp_path / f"{'inline' if inline else 'session'}.db"
        async with sqlite_database(path, inline=inline) as database:
            async with database.turn() as uow:
                assert isinstance(uow.hot, InlineStatements if inline else SessionStatements)
            results.append(await script(database))
        results.append(stored_rows(path))
    through_session, session_rows, inline, inline_rows = results
    assert inline_rows == session_rows
    assert sum(len(rows) for rows in session_rows.values()) > 0
    return through_session, inline


def draft(token: str, reporter_id: int, object_id: int) -> TipDraft:
    return TipDraft(
        draft_token=token,
        object_id=object_id,
        reporter_id=reporter_id,
        campaign_id=None,
        recognised=True,
        country_code="FR",
        country_text=None,
        text_original="Vu à Lyon 😀, marché\nrue \"Mercière\" 'x' \\ 0612345678",
        latitude=45.76,
        longitude=4.83,
        ui_language="fr",
        followup_consent=True,
        channel="tv",
    )


async def the_tip_walk(database: Database) -> list[Any]:
    seen: list[Any] = []
    async with database.unit_of_work() as uow:
        made = await uow.objects.create(
            reference="MUG-1",
            question="Where is this mug from?",
            hint=None,
            translations={"fr": {"question": "D'où vient cette tasse ?"}},
            image_path="mug.jpg",
            image_sha256="0" * 64,
        )
        await uow.commit()
    assert made is not None
    async with database.turn() as uow:
        seen.append(await uow.updates.claim(1, 100))
        reporter, conversation, created = await uow.reporters.open_chat(
            42, 4242, language="fr", telegram_language="fr-FR", initial_state="welcome"
        )
        seen += [reporter.language, reporter.opted_in, conversation, created]
        await uow.reporters.opt_in(reporter.id, utcnow())
        await uow.reporters.update(reporter.id, language="de", wants_news=True, campaign_id=None)
        obj = await uow.objects.get(made.id)
        seen += [obj, await uow.objects.get(made.id + 99), await uow.objects.neighbour(None, 12345, 1)]
        conversation.state, conversation.object_id = "preview", made.id
        conversation.viewed = [made.id, 7]
        conversation.draft = {"text": "Ünïcode 😀 \x01", "n": 1.5, "nested": {"a": [1, None, True]}}
        await uow.reporters.save_conversation(conversation)
        tip = await uow.tips.submit(draft("token-1", reporter.id, made.id))
        again = await uow.tips.submit(draft("token-1", reporter.id, made.id))
        seen += [tip[1], again == (tip[0], False)]
        await uow.confirmations.mark_confirmed(tip[0])
        await uow.commit()
    async with database.turn() as uow:  # the same update again, then a later one
        seen.append(await uow.updates.claim(1, 100))
        again_reporter, again_conversation, again_created = await uow.reporters.open_chat(
            42, 4242, language="en", telegram_language=None, initial_state="x"
        )
        seen.append((replace(again_reporter, alias=""), again_conversation, again_created))
        await uow.commit()
    # last_seen_at is rewritten at most hourly: age it, and the next turn touches it
    async with database.unit_of_work() as uow:
        await uow.reporters.update(reporter.id, last_seen_at=utcnow() - timedelta(hours=2))
        await uow.commit()
    async with database.turn() as uow:
        seen.append(await uow.updates.claim(1, 101))
        seen.append(
            (await uow.reporters.open_chat(42, 4242, language="en", telegram_language=None, initial_state="x"))[2]
        )
        await uow.commit()
    async with database.unit_of_work() as uow:
        last_seen = await uow.session.scalar(select(Reporter.last_seen_at).where(Reporter.id == reporter.id))
    seen.append(last_seen is not None and utcnow() - last_seen < timedelta(minutes=1))  # touched again
    return seen


def assert_the_walk_read_alike(through_session: list[Any], other: list[Any]) -> None:
    assert other == through_session
    assert through_session[0] is True and through_session[4] is True  # claimed; a new reporter
    assert through_session[10] is False  # the update redelivered
    assert through_session[-1] is True


async def test_the_walk_stores_and_reads_the_same_rows_either_way(tmp_path: Path) -> None:
    assert_the_walk_read_alike(*await run_both(tmp_path, the_tip_walk))


async def rolled_back(database: Database) -> list[Any]:
    """A turn that fails before its commit leaves nothing, hot statements and ORM rows alike."""

    async def failing_turn() -> None:
        async with database.turn() as uow:
            await uow.updates.claim(1, 200)
            await uow.reporters.open_chat(43, 4343, language="en", telegram_language=None, initial_state="welcome")
            uow.session.add(ProcessedUpdate(bot_id=1, update_id=201))  # the ORM, on the same transaction
            await uow.session.flush()
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await failing_turn()
    async with database.turn() as uow:  # committed: both ways of writing land together
        uow.session.add(ProcessedUpdate(bot_id=1, update_id=300))
        claimed = await uow.updates.claim(1, 301)
        await uow.commit()
    async with database.turn() as uow:
        return [
            claimed,
            await uow.updates.claim(1, 200),
            await uow.updates.claim(1, 300),
            await uow.updates.claim(1, 301),
        ]


async def test_a_failed_turn_keeps_nothing_and_a_committed_one_keeps_both_kinds_of_write(tmp_path: Path) -> None:
    through_session, inline = await run_both(tmp_path, rolled_back)
    assert inline == through_session == [True, True, False, False]


async def savepoint_rolled_back(database: Database) -> list[Any]:
    """A lost race for a new reporter is undone to the savepoint, as SQLAlchemy's IntegrityError."""
    async with database.turn() as uow:
        reporter, _, _ = await uow.reporters.open_chat(
            44, 4444, language="en", telegram_language=None, initial_state="welcome"
        )
        values = {
            "pseudonym": database.privacy.pseudonym(44),  # taken: the other instance's row
            "alias": "R-TAKEN",
            "chat": "token",
            "new_language": "en",
            "new_telegram_language": None,
        }

        async def lose_the_race() -> None:
            async with uow.hot.savepoint():
                await uow.updates.claim(1, 400)  # undone with the savepoint
                await uow.hot.scalar(_NEW_REPORTER, values)

        with pytest.raises(IntegrityError) as raised:
            await lose_the_race()
        assert "R-TAKEN" not in str(raised.value)  # parameters are never in errors (they are personal)
        claimed = await uow.updates.claim(1, 401)
        await uow.commit()
    async with database.turn() as uow:
        return [claimed, await uow.updates.claim(1, 400), reporter.id]


async def test_a_failed_savepoint_is_undone_and_the_turn_goes_on(tmp_path: Path) -> None:
    through_session, inline = await run_both(tmp_path, savepoint_rolled_back)
    assert inline == through_session == [True, True, 1]


def test_only_marked_statements_take_the_inline_path() -> None:
    assert is_hot(_NEW_REPORTER)
    assert not is_hot(select(Reporter))  # an ORM statement goes through the session, entities and all


async def test_turns_take_the_one_connection_in_turn_and_get_it_back_after_the_pool_replaced_it(
    tmp_path: Path,
) -> None:
    async with sqlite_database(tmp_path / "turns.db", inline=True) as database:
        order: list[str] = []
        first_inside = asyncio.Event()

        async def first() -> None:
            async with database.turn() as uow:
                await uow.updates.claim(1, 1)
                first_inside.set()
                await asyncio.sleep(0.05)  # the second turn must wait meanwhile
                order.append("first commits")
                await uow.commit()

        async def second() -> None:
            await first_inside.wait()
            async with database.turn() as uow:
                order.append("second starts")
                assert await uow.updates.claim(1, 1) is False  # sees the first turn's commit
                await uow.commit()

        await asyncio.gather(first(), second())
        assert order == ["first commits", "second starts"]

        turns = database._inline_turns
        assert turns is not None
        await turns.engine.dispose()  # the pool closes its connection, as after an invalidation
        async with database.turn() as uow:
            assert await uow.updates.claim(1, 2) is True
            await uow.commit()
        async with database.turn() as uow:
            assert await uow.updates.claim(1, 2) is False


async def committed_twice(database: Database) -> list[Any]:
    """A unit of work may go on after a commit: what it writes next is committed by the next commit."""
    async with database.turn() as uow:
        await uow.updates.claim(1, 500)
        await uow.commit()
        await uow.updates.claim(1, 501)
        await uow.commit()
    async with database.turn() as uow:
        return [await uow.updates.claim(1, 500), await uow.updates.claim(1, 501)]


async def test_a_unit_of_work_goes_on_after_a_commit(tmp_path: Path) -> None:
    through_session, inline = await run_both(tmp_path, committed_twice)
    assert inline == through_session == [False, False]


async def test_a_repository_kept_past_its_turn_cannot_write(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path / "turns.db", inline=True) as database:
        async with database.turn() as uow:
            updates = uow.updates
            await uow.commit()
        with pytest.raises(RuntimeError, match="after it ended"):
            await updates.claim(1, 99)  # would open a transaction on the next turn's connection
        async with database.turn() as uow:
            assert await uow.updates.claim(1, 99) is True


async def test_a_savepoint_shows_the_error_that_ended_the_whole_transaction(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path / "turns.db", inline=True) as database, database.turn() as uow:
        await uow.updates.claim(1, 1)
        connection = uow._connection
        assert connection is not None and connection.raw is not None
        raw = connection.raw

        async def ended_inside() -> None:
            async with uow.hot.savepoint():
                raw.rollback()  # as SQLite does by itself on a full disk, say
                raise OSError("the disk is full")

        with pytest.raises(OSError, match="disk is full"):  # not "no such savepoint"
            await ended_inside()


async def test_a_connection_closed_inside_a_savepoint_shows_the_first_error_and_turns_go_on(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path / "turns.db", inline=True) as database:
        async with database.turn() as uow:
            connection = uow._connection
            assert connection is not None

            async def closed_inside() -> None:
                async with uow.hot.savepoint():
                    await uow.updates.claim(1, 1)
                    connection.stop()  # closed under the turn (the pool invalidated it, say)
                    raise OSError("lost the file")

            with pytest.raises(OSError, match="lost the file"):
                await closed_inside()
        async with database.turn() as uow:  # a fresh connection; the closed turn's claim was never committed
            assert await uow.updates.claim(1, 1) is True
            await uow.commit()


@pytest.mark.parametrize("inline", [True, False])
async def test_a_turn_leaves_nothing_for_the_garbage_collector(tmp_path: Path, inline: bool) -> None:
    """Repositories point back at their unit of work; one that kept them made a cycle per turn (15
    objects, a session among them), all left to the collector instead of freed as the turn ended."""
    import gc

    from storage.repositories.funnel import FunnelBuffer

    async with sqlite_database(tmp_path / "turns.db", inline=inline) as database:
        database.counts = FunnelBuffer()  # as in the bot: counting needs no session
        for update_id in range(3):  # warm up: caches, prepared statements
            await one_turn(database, update_id)
        gc.collect()
        gc.disable()
        try:
            for update_id in range(3, 53):
                await one_turn(database, update_id)
            unreachable = gc.collect()
        finally:
            gc.enable()
        assert unreachable < 50  # less than one object per turn
        assert database.counts.pending == 53


async def one_turn(database: Database, update_id: int) -> None:
    from storage.models import FunnelStep

    async with database.turn() as uow:
        await uow.updates.claim(1, update_id)
        await uow.reporters.open_chat(7, 7, language="en", telegram_language="en", initial_state="welcome")
        await uow.funnel.count(FunnelStep.LINK_OPENED, campaign_id=None)
        await uow.commit()
