"""Pure pieces of the dashboard, the account commands, and the indexes the queue relies on."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from bot.cli import main
from review.charts import columns, horizontal_bars
from review.security import Passwords, neutralise_cell, safe_next
from review.throttle import Backoff
from review.words import top_words
from storage.db import create_engine
from storage.models import Tip
from storage.repositories.review import TipQuery, _review_query, apply_filters
from storage.repositories.review_stats import Tally
from storage.repositories.search import escape_like


@given(st.text(max_size=200))
def test_safe_next_never_leaves_the_dashboard(target: str) -> None:
    result = safe_next(target)
    assert result.startswith("/review/") and not result.startswith("//")
    assert "\\" not in result and "\n" not in result and "\r" not in result


@given(st.text(max_size=50))
def test_neutralised_cells_never_start_a_formula(value: str) -> None:
    cell = neutralise_cell(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.endswith(value)


def test_escape_like() -> None:
    assert escape_like(r"50%_a\b") == r"50\%\_a\\b"


def test_backoff_is_free_then_doubles_up_to_its_bound() -> None:
    backoff = Backoff(free=2, max_delay=8)
    assert [backoff.delay(n).total_seconds() for n in range(8)] == [0, 0, 1, 2, 4, 8, 8, 8]
    assert backoff.delay(10_000).total_seconds() == 8, "no overflow however long it goes on"


def test_top_words_skip_stopwords_and_count() -> None:
    texts = ["The blue mug was sold in Hamburg.", "A blue MUG from a shop in Hamburg", "I think it's blue"]
    assert top_words(texts, count=3) == [("blue", 3), ("hamburg", 2), ("mug", 2)]


def test_charts_scale_to_the_biggest() -> None:
    chart = horizontal_bars("t", [Tally("DE", "DE", 10), Tally("PL", "PL", 5)], width=300, label_width=100)
    assert chart.bars[0].width == 2 * chart.bars[1].width
    assert columns("t", []).empty
    day = columns("t", [Tally("2025-01-01", "2025-01-01", 0), Tally("2025-01-02", "2025-01-02", 4)])
    assert day.bars[0].height == 0 and day.bars[1].height > 0


def test_passwords_verify_and_resist_garbage() -> None:
    passwords = Passwords(time_cost=1, memory_kib=1024)
    stored = passwords.hash("a long enough password")
    assert passwords.verify(stored, "a long enough password")
    assert not passwords.verify(stored, "wrong")
    assert not passwords.verify(None, "anything"), "unknown accounts still cost a verification, and fail"
    assert not passwords.verify("not-a-hash", "anything")


def test_the_dummy_hash_is_made_once_when_first_needed_not_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real_hash = PasswordHasher.hash

    def counted(hasher: PasswordHasher, password: str | bytes, *, salt: bytes | None = None) -> str:
        made.append(threading.current_thread().name)
        return real_hash(hasher, password, salt=salt)

    monkeypatch.setattr(PasswordHasher, "hash", counted)
    passwords = Passwords(time_cost=1, memory_kib=1024)
    assert made == [], "building the hasher (every start, every CLI command) makes no hash"
    asyncio.run(passwords.prepare())
    assert len(made) == 1 and made[0] != threading.current_thread().name, "made in a worker thread"
    assert not passwords.verify(None, "anything") and not passwords.verify(None, "other")
    asyncio.run(passwords.prepare())
    assert len(made) == 1, "one dummy hash for the life of the process"


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_account_and_token_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    code, out = run_cli(monkeypatch, capsys, "moderator", "add", "carol", "--role", "admin", "--password-stdin",
                        stdin="a sufficiently long password\n")  # fmt: skip
    assert code == 0 and "carol (admin) created" in out
    code, out = run_cli(
        monkeypatch, capsys, "moderator", "add", "carol", "--password-stdin", stdin="another long password\n"
    )
    assert code == 1 and "already exists" in out
    code, out = run_cli(monkeypatch, capsys, "moderator", "add", "dave", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 12" in out
    code, out = run_cli(
        monkeypatch, capsys, "moderator", "reset-password", "carol", "--password-stdin", stdin="a brand new password\n"
    )
    assert code == 0 and "reset" in out
    code, out = run_cli(
        monkeypatch, capsys, "moderator", "reset-password", "nobody", "--password-stdin", stdin="a brand new password\n"
    )
    assert code == 1
    code, out = run_cli(monkeypatch, capsys, "moderator", "list")
    assert code == 0 and "carol" in out and "admin" in out and "never" in out
    code, out = run_cli(monkeypatch, capsys, "api-token", "create", "nightly export")
    token = out.strip().splitlines()[-1]
    assert code == 0 and token.startswith("tbt_") and len(token) > 40
    code, out = run_cli(monkeypatch, capsys, "api-token", "list")
    assert "nightly export" in out and "active" in out and token not in out
    code, out = run_cli(monkeypatch, capsys, "api-token", "revoke", "1")
    assert code == 0
    code, out = run_cli(monkeypatch, capsys, "api-token", "revoke", "1")
    assert code == 1

    import asyncio

    async def audit() -> list[Any]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        try:
            async with engine.connect() as connection:
                return list(
                    (await connection.execute(text("SELECT action, actor FROM audit_events ORDER BY id"))).all()
                )
        finally:
            await engine.dispose()

    assert [tuple(row) for row in asyncio.run(audit())] == [
        ("account.create", "(command line)"),
        ("account.password_reset", "(command line)"),
        ("api_token.create", "(command line)"),
        ("api_token.revoke", "(command line)"),
    ]


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (TipQuery(), "pk"),
        (TipQuery(object_id=1), "ix_tips_object_id_id"),
        (TipQuery(statuses=("new",)), "ix_tips_status_id"),
        (TipQuery(language="de"), "ix_tips_language_id"),
        (TipQuery(assigned_to_id=1), "ix_tips_assigned_to_id_id"),
        (TipQuery(text="mug"), "pk"),  # a LIKE scan in id order; not a sort of every tip by mask version
    ],
)
async def test_queue_pages_walk_an_index_without_sorting(sqlite_template: Path, query: TipQuery, index: str) -> None:
    """At a million tips a page must not sort the table: SQLite's plan shows no temporary B-tree for the order."""
    migrated_url = f"sqlite+aiosqlite:///{sqlite_template}"
    statement = apply_filters(_review_query(), query).where(Tip.id < 500_000).order_by(Tip.id.desc()).limit(51)
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    engine = create_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            plan = " | ".join(
                str(row[-1]) for row in (await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
            )
    finally:
        await engine.dispose()
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    tips_step = next(step for step in plan.split(" | ") if " tips" in step)
    assert ("INTEGER PRIMARY KEY" in tips_step or "rowid" in tips_step) if index == "pk" else index in tips_step, plan
