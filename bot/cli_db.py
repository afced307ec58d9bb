"""`tracebot db ...`: migrations, backup and restore."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from typing import Any

from bot.cli_errors import CommandError, safe_database_url
from bot.settings import load_storage_settings
from storage.backup import (
    BackupError,
    DatabaseSummary,
    RestoreTarget,
    backup_sqlite,
    inspect_backup,
    postgres_commands,
    sqlite_path,
)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import ensure_sqlite_directory

    url = load_storage_settings().database_url
    ensure_sqlite_directory(url)
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
    elif args.db_command == "downgrade":
        migrate.downgrade(url, args.revision)
    print(f"database at revision {asyncio.run(_current(url)) or 'base'} (head: {migrate.head_revision()})")
    return 0


def _cmd_reindex_search(args: argparse.Namespace) -> int:
    url = load_storage_settings().database_url
    print(f"masked the search copy of {asyncio.run(_reindex_search(url))} tips again")
    return 0


async def _reindex_search(url: str) -> int:
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_if_needed
    from storage.privacy import Privacy
    from storage.search_index import reindex_search
    from storage.uow import Database

    engine = create_engine(url)
    try:
        await upgrade_if_needed(engine, url)
        # Masking reads only tip text: no reporter data, so no real key is needed.
        return await reindex_search(Database(create_session_factory(engine), Privacy(secrets.token_hex(32))))
    finally:
        await engine.dispose()


async def _current(url: str) -> str | None:
    from storage.db import create_engine
    from storage.migrate import current_revision

    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


def _postgres_only(url: str, path: str, action: str) -> int:
    dump, restore = postgres_commands(url, path)
    shown = safe_database_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)
    print(f"# {shown} is PostgreSQL: use its own tools (the password comes from")
    print("# PGPASSWORD or ~/.pgpass, never from this line). Back up with:")
    print(dump)
    print("# and restore (with the bot stopped) with:")
    print(restore)
    print(f"tracebot: nothing was {action}: run the command above", file=sys.stderr)
    return 1


def _describe(summary: DatabaseSummary) -> str:
    tips = "no tips table" if summary.tips is None else f"{summary.tips} tips"
    return f"{summary.path} ({tips}, schema {summary.revision or 'empty'}, {summary.size / 1024**2:.1f} MiB)"


def _cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    url = load_storage_settings().database_url
    source = sqlite_path(url)
    if source is None:
        return _postgres_only(url, args.path, "written")
    try:
        report = backup_sqlite(source, Path(args.path))
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(f"backup written in {report.seconds:.1f} s: {_describe(report.summary)}; integrity check ok")
    return 0


def _confirm(question: str) -> bool:
    print(question + " Type 'yes' to continue: ", end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        raise CommandError("no answer on standard input; nothing was changed (use --yes in scripts)")
    return answer.strip().lower() == "yes"


def _cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from storage.migrate import head_revision

    url = load_storage_settings().database_url
    target = sqlite_path(url)
    if target is None:
        return _postgres_only(url, args.path, "restored")
    try:
        backup = inspect_backup(Path(args.path))
        with RestoreTarget(target) as held:
            now = _describe(held.current) if held.current else f"{target} (does not exist yet)"
            if not args.yes and not _confirm(f"Replace {now}\n   with {_describe(backup)}?"):
                print("nothing was changed")
                return 1
            restored = held.restore_from(backup.path)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(f"restored {_describe(restored)}")
    if restored.revision != head_revision():
        print("the backup has an older schema: `tracebot db upgrade` (or `tracebot run`) brings it up to date")
    return 0


def add_commands(commands: Any) -> None:
    """Register `db upgrade|downgrade|current|backup|restore` on the `tracebot` parser's subcommands."""
    db = commands.add_parser("db", help="database migrations, backup and restore")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate to the latest schema (or REVISION)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_cmd_migrate)
    downgrade = db_commands.add_parser("downgrade", help="migrate down to REVISION (e.g. base)")
    downgrade.add_argument("revision")
    downgrade.set_defaults(handler=_cmd_migrate)
    db_commands.add_parser("current", help="show the schema revision").set_defaults(handler=_cmd_migrate)
    backup = db_commands.add_parser("backup", help="consistent copy of the SQLite database, safe while the bot runs")
    backup.add_argument("path", help="the new backup file (never overwritten)")
    backup.set_defaults(handler=_cmd_backup)
    restore = db_commands.add_parser("restore", help="replace the SQLite database with a backup (bot stopped)")
    restore.add_argument("path", help="a file written by `tracebot db backup`")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(handler=_cmd_restore)
    db_commands.add_parser(
        "reindex-search", help="mask the searchable copy of tips again after the masking rules changed"
    ).set_defaults(handler=_cmd_reindex_search)
