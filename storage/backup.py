"""Backups: a consistent online copy of an SQLite database, and its restore; pg_dump lines for PostgreSQL.

SQLite copies go through SQLite's own backup API in one step: the copy is the database as of one
moment (every transaction committed before it started, none half-written), taken while the bot
keeps writing (WAL mode lets writers go on). The functions block: call them from a thread
(`asyncio.to_thread`) inside async code.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from storage.db import is_sqlite, sqlite_file

BUSY_TIMEOUT = 30.0  # seconds to wait for a writer's lock before giving up


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class DatabaseSummary:
    """What a database file holds, for the operator to confirm a restore."""

    path: Path
    revision: str | None
    tips: int | None
    size: int


@dataclass(frozen=True)
class BackupReport:
    summary: DatabaseSummary
    seconds: float


def sqlite_path(database_url: str) -> Path | None:
    """The file of a file-backed SQLite URL; None for PostgreSQL."""
    if not is_sqlite(database_url):
        return None
    path = sqlite_file(database_url)
    if path is None:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return path


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)


def _summary(connection: sqlite3.Connection, path: Path) -> DatabaseSummary:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    revision = (
        connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if "alembic_version" in tables
        else None
    )
    tips = connection.execute("SELECT count(*) FROM tips").fetchone()[0] if "tips" in tables else None
    return DatabaseSummary(path, revision[0] if revision else None, tips, path.stat().st_size)


def _integrity_problem(connection: sqlite3.Connection) -> str | None:
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return None if rows == ["ok"] else "; ".join(rows[:3])


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_sqlite(source: Path, destination: Path) -> BackupReport:
    """Copy the live database `source` to the new file `destination` (never overwritten)."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose a new file name")
    if not destination.parent.is_dir():
        raise BackupError(f"no such folder: {destination.parent}")
    started = time.monotonic()
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(_connect(source)) as live, closing(_connect(partial)) as copy:
            live.backup(copy)  # all pages in one step: a single read transaction, one moment in time
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            problem = _integrity_problem(copy)
            if problem is not None:
                raise BackupError(f"the copy failed its integrity check: {problem}")
            summary = _summary(copy, partial)
        _fsync(partial)
        partial.replace(destination)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(replace(summary, path=destination), time.monotonic() - started)


def inspect_backup(path: Path) -> DatabaseSummary:
    """Check that `path` is an intact Tracebot SQLite database; describe it."""
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)) as connection:
            problem = _integrity_problem(connection)
            if problem is not None:
                raise BackupError(f"{path} is damaged: {problem}")
            summary = _summary(connection, path)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database ({exc})") from None
    if summary.revision is None:
        raise BackupError(f"{path} is not a Tracebot database (no schema revision)")
    return summary


class RestoreTarget:
    """The database file to be replaced, held exclusively so nothing else can open it meanwhile.

    `open()` refuses when another process has the database open (a running bot, a worker): an
    exclusive lock cannot be had then. Detection works for processes on this machine; network
    file systems may not tell.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.current: DatabaseSummary | None = None
        self._connection: sqlite3.Connection | None = None

    def open(self) -> RestoreTarget:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists()
        connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            connection.execute("BEGIN EXCLUSIVE")
            if existed:
                self.current = _summary(connection, self.path)
            connection.execute("COMMIT")  # the exclusive lock stays until the connection closes
        except sqlite3.OperationalError as exc:
            connection.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise BackupError(f"{self.path} is in use (is the bot or a worker running?); stop it first") from None
            raise BackupError(f"cannot open {self.path}: {exc}") from None
        self._connection = connection
        return self

    def restore_from(self, backup: Path) -> DatabaseSummary:
        """Replace the database's contents with `backup`'s, in place (SQLite's backup API)."""
        assert self._connection is not None, "open() first"
        try:
            with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True, isolation_level=None)) as source:
                source.backup(self._connection)
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            problem = _integrity_problem(self._connection)
            if problem is not None:
                raise BackupError(f"the restored database failed its integrity check: {problem}")
            return _summary(self._connection, self.path)
        except sqlite3.Error as exc:
            raise BackupError(f"restore into {self.path} failed: {exc}") from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> RestoreTarget:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def postgres_commands(database_url: str, path: str) -> tuple[str, str]:
    """The `pg_dump` and `pg_restore` command lines for this database; the password is left out."""
    url = make_url(database_url)
    # URL.set() keeps a field given as None, so build the URL again without the password.
    plain = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)
    target = plain.render_as_string(hide_password=False)
    dump = shlex.join(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", f"--dbname={target}"])
    restore = shlex.join(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={target}", path]
    )
    return dump, restore
