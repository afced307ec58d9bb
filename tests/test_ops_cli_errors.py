"""Every `tracebot` command, given typical bad input, answers with one clear line and a non-zero exit.

No network, a missing file, a bad catalog, an unknown language, a wrong database URL, a busy port:
the operator gets `tracebot: <what is wrong>` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.cli import build_parser
from tests.support import netguard
from tests.support.cli import ROOT, tracebot
from tests.support.harness import SECRET_KEY, TOKEN


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DEAD_PORT = _closed_port()
UNREACHABLE_DB = f"postgresql://tracebot:db-password@127.0.0.1:{DEAD_PORT}/tracebot"
BOT = {"TELEGRAM_BOT_TOKEN": TOKEN, "SECRET_KEY": SECRET_KEY}


@dataclass(frozen=True)
class Case:
    command: str  # the subcommand path this case covers, e.g. "db backup"
    args: tuple[str, ...]
    message: str  # expected in the one line
    env: dict[str, str] = field(default_factory=dict)
    stdin: str = ""
    status: int = 1


CASES = [
    Case("run", ("run",), "cannot connect to the database", {**BOT, "DATABASE_URL": UNREACHABLE_DB}),
    Case("run", ("run",), "the Bot API (TELEGRAM_API_URL) is unreachable",
         {**BOT, "TELEGRAM_API_URL": f"http://127.0.0.1:{DEAD_PORT}"}),
    Case("run", ("run", "--webhook"), "invalid settings: WEBHOOK_SECRET is required with --webhook", BOT, status=2),
    Case("run", ("run",), "invalid settings: TELEGRAM_BOT_TOKEN is required", status=2),
    Case("demo", ("demo", "--port", "{busy}", "--emulator-port", "{busy}"), "address already in use"),
    Case("doctor", ("doctor",), "see the lines marked ✗", {"DATABASE_URL": "mysql://nope"}),
    Case("db upgrade", ("db", "upgrade"), "cannot connect to the database", {"DATABASE_URL": UNREACHABLE_DB}),
    Case("db downgrade", ("db", "downgrade", "no-such-revision"), "migrations: Can't locate revision"),
    Case("db current", ("db", "current"), "DATABASE_URL must be a sqlite:/// or postgresql:// URL",
         {"DATABASE_URL": "mysql://db/tracebot"}, status=2),
    Case("db backup", ("db", "backup", "copy.db"), "no SQLite database at"),
    Case("db reindex-search", ("db", "reindex-search"), "cannot connect to the database",
         {"DATABASE_URL": UNREACHABLE_DB}),
    Case("db restore", ("db", "restore", "--yes", "missing-backup.db"), "no such file: missing-backup.db"),
    Case("objects import", ("objects", "import", "no-such-folder"), "not found"),
    Case("objects import", ("objects", "import", "bad-catalog"), "bad-catalog/catalog.toml"),
    Case("link", ("link", "--bot", "TraceBot", "--campaign", "not a code!"), "do not fit in a deep link"),
    Case("link", ("link", "--bot", "TraceBot", "--qr", "no-such-folder/qr.png"), "No such file or directory"),
    Case("moderator add", ("moderator", "add", "alice", "--password-stdin"), "cannot connect to the database",
         {"DATABASE_URL": UNREACHABLE_DB}, stdin="correct horse battery staple\n"),
    Case("moderator reset-password", ("moderator", "reset-password", "nobody", "--password-stdin"),
         "no moderator named 'nobody'", stdin="correct horse battery staple\n"),
    Case("moderator list", ("moderator", "list"), "cannot connect to the database", {"DATABASE_URL": UNREACHABLE_DB}),
    Case("api-token create", ("api-token", "create", "nightly"), "cannot connect to the database",
         {"DATABASE_URL": UNREACHABLE_DB}),
    Case("api-token list", ("api-token", "list"), "cannot connect to the database", {"DATABASE_URL": UNREACHABLE_DB}),
    Case("api-token revoke", ("api-token", "revoke", "999"), "no active API token 999"),
    Case("models install", ("models", "install", "de"), "the argos package index is unreachable"),
    Case("models install", ("models", "install", "klingon"), "unknown language code klingon"),
    Case("models install", ("models", "install", "--file", "missing.argosmodel"), "no such file: missing.argosmodel"),
    Case("models install", ("models", "install", "--file", "bad-catalog/catalog.toml"), "not a valid argos package"),
    Case("models list", ("models", "list"), "DATABASE_URL must be a sqlite:/// or postgresql:// URL",
         {"DATABASE_URL": "mysql://db"}, status=2),
    Case("worker", ("worker", "--once"), "cannot connect to the database", {**BOT, "DATABASE_URL": UNREACHABLE_DB}),
]  # fmt: skip


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    subparsers = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subparsers:
        yield prefix.strip()
        return
    for name, child in subparsers[0].choices.items():
        yield from _leaf_commands(child, f"{prefix} {name}")


def test_every_command_has_a_bad_input_case() -> None:
    assert set(_leaf_commands(build_parser())) == {case.command for case in CASES}


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("case", CASES, ids=[" ".join(case.args) for case in CASES])
def test_bad_input_gives_one_clean_line(case: Case, tmp_path: Path, busy_port: int) -> None:
    (tmp_path / "bad-catalog").mkdir()
    (tmp_path / "bad-catalog" / "catalog.toml").write_text("[[objects]\nreference = ")
    guard = netguard.child_environment(tmp_path / "netguard.log")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tracebot.db'}",
        "MEDIA_DIR": str(tmp_path / "media"),
        "ARGOS_PACKAGES_DIR": str(tmp_path / "argos"),
        # Nothing but loopback is reachable, as on a machine without internet (here and in child processes).
        "PYTHONPATH": os.pathsep.join([str(netguard.GUARD_DIR), str(ROOT)]),
        netguard.LOG_ENV: guard[netguard.LOG_ENV],
        **case.env,
    }
    args = [arg.replace("{busy}", str(busy_port)) for arg in case.args]
    result = tracebot(*args, cwd=tmp_path, env=env, stdin=case.stdin)

    assert result.returncode == case.status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    ours = [line for line in result.stderr.splitlines() if line.startswith("tracebot: ")]
    if case.command == "doctor":
        assert "✗ Settings: DATABASE_URL must be a sqlite:/// or postgresql:// URL" in result.stdout
    else:
        assert len(ours) == 1, result.stderr
        assert case.message in ours[0], ours[0]
        assert result.stderr.rstrip("\n").splitlines()[-1] == ours[0], "the explanation is the last word"
    assert "db-password" not in result.stderr + result.stdout
    assert TOKEN.split(":")[1] not in result.stderr + result.stdout
    if case.args[:3] == ("models", "install", "de"):
        assert "--file FILE.argosmodel" in ours[0]
