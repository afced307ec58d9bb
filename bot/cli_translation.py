"""`tracebot models ...` and `tracebot worker`: translation models and worker processes."""

from __future__ import annotations

import argparse
import asyncio
import secrets
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.cli_errors import CommandError
from bot.settings import load_settings, load_storage_settings
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_if_needed
from storage.privacy import Privacy
from storage.uow import Database
from translations.i18n import Catalogs
from translations.models import (
    InstallProgress,
    PackageIndexUnreachable,
    download_and_install,
    install_package_files,
    languages_without_path_to_english,
    list_installed,
)
from translations.routing import normalize_code

ARGOS_ONLY_CODES = {"zt", "pb"}  # argos's codes for traditional Chinese and Brazilian Portuguese


async def _requeue_unsupported(database_url: str, packages_dir: Path) -> int:
    """Tips that were waiting for a model go back to the queue."""
    from translations.detect import LanguageDetector
    from translations.engine import TranslationEngine
    from translations.worker import TranslationWorker

    engine = create_engine(database_url)
    try:
        await upgrade_if_needed(engine, database_url)
        # Only translation columns are touched: no reporter data, so no real key is needed.
        database = Database(create_session_factory(engine), Privacy(secrets.token_hex(32)))
        translator = await asyncio.to_thread(TranslationEngine, packages_dir)
        return await TranslationWorker(database, LanguageDetector(), translator).requeue_unsupported()
    finally:
        await engine.dispose()


def unknown_language_codes(codes: list[str]) -> list[str]:
    """The codes that name no language (argos's own `zt`/`pb` included as known)."""
    unknown = []
    for code in codes:
        normalized = normalize_code(code)
        if normalized in ARGOS_ONLY_CODES:
            continue
        try:
            Locale.parse(normalized)
        except (UnknownLocaleError, ValueError):
            unknown.append(code)
    return unknown


def _cmd_models_install(args: argparse.Namespace) -> int:
    # rich is imported here, not at the top: this module is loaded to build the parser of every
    # `tracebot` command, `run` included, and a bot never draws progress bars.
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    console = Console(stderr=True)
    settings = load_storage_settings()
    packages_dir = settings.argos_packages_dir
    if not args.file and not args.codes:
        raise CommandError("name language codes (downloads) or --file X.argosmodel (offline)")
    missing_files = [path for path in args.file or [] if not Path(path).is_file()]
    if missing_files:
        raise CommandError("no such file: " + ", ".join(missing_files))
    unknown = unknown_language_codes(args.codes)
    if unknown:
        raise CommandError(f"unknown language code {', '.join(unknown)}: use ISO 639-1 codes such as de fr pl ar")
    if args.file:
        with console.status("installing..."):
            installed = install_package_files([Path(path) for path in args.file], packages_dir)
        for model in installed:
            console.print(f"installed {model.from_code} -> {model.to_code} ({model.version})")
    if args.codes:
        with Progress(TextColumn("{task.description}"), BarColumn(), console=console, transient=True) as progress:
            task = progress.add_task("fetching the package index", total=None)

            def show(event: InstallProgress) -> None:
                description = f"{event.stage} {event.package} {event.message}".strip()
                progress.update(task, description=description, completed=event.step, total=event.total or None)

            try:
                report = download_and_install(args.codes, show, packages_dir=packages_dir, both_directions=True)
            except PackageIndexUnreachable as exc:
                raise CommandError(
                    f"the argos package index is unreachable ({exc.url}): no internet here? Download the "
                    ".argosmodel files elsewhere and run `tracebot models install --file FILE.argosmodel`"
                ) from None
        for model in report.installed:
            console.print(f"installed {model.from_code} -> {model.to_code} ({model.version})")
        if report.already_installed:
            console.print("already translatable both ways: " + ", ".join(report.already_installed))
        if report.unavailable:
            console.print("[yellow]no package to English for: " + ", ".join(report.unavailable))
        if report.unavailable_reverse:
            missing = ", ".join(report.unavailable_reverse)
            console.print(f"[yellow]no package from English for: {missing} (follow-up questions go in English)")
    moved = asyncio.run(_requeue_unsupported(settings.database_url, packages_dir))
    console.print(f"{moved} tips waiting for a model were queued for translation")
    return 0


def _cmd_models_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    settings = load_storage_settings()
    table = Table(title=f"argos packages in {settings.argos_packages_dir}")
    for column in ("from", "to", "version", "path"):
        table.add_column(column)
    for model in list_installed(settings.argos_packages_dir):
        table.add_row(model.from_code, model.to_code, str(model.version), str(model.path))
    Console().print(table)
    missing = languages_without_path_to_english(
        [code for code in Catalogs().languages if code != "en"], settings.argos_packages_dir
    )
    if missing:
        print("UI languages with no path to English yet: " + " ".join(missing))
        print("install with: tracebot models install " + " ".join(missing))
    else:
        print("every UI language can be translated to English")
    questions = languages_without_path_to_english(
        [code for code in Catalogs().languages if code != "en"], settings.argos_packages_dir, from_english=True
    )
    if questions:
        print("UI languages follow-up questions cannot be translated into yet: " + " ".join(questions))
    else:
        print("follow-up questions can be translated into every UI language")
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from bot.logs import configure_logging
    from bot.translation import build_translation_worker

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_if_needed(engine, settings.database_url)
            database = Database(create_session_factory(engine), Privacy(settings.secret_key.get_secret_value()))
            worker = await asyncio.to_thread(build_translation_worker, settings, database)
            if args.once:
                handled = 1
                while handled:
                    handled = await worker.run_once()
            else:
                await worker.run_forever()
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


def add_commands(commands: Any) -> None:
    """Register `models` and `worker` on the `tracebot` parser's subcommands."""
    models = commands.add_parser("models", help="translation models (argos packages)")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    install = model_commands.add_parser("install", help="install models: language codes (online) or --file (offline)")
    install.add_argument("codes", nargs="*", help="languages to make translatable to English, e.g. de fr pl")
    install.add_argument("--file", action="append", help="an .argosmodel file (repeatable)")
    install.set_defaults(handler=_cmd_models_install)
    listing = model_commands.add_parser("list", help="installed models and UI languages still lacking one")
    listing.set_defaults(handler=_cmd_models_list)

    worker = commands.add_parser("worker", help="run a translation worker process (several may run)")
    worker.add_argument("--once", action="store_true", help="drain the queue, then exit")
    worker.set_defaults(handler=_cmd_worker)
