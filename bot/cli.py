"""The `tracebot` command line."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import SettingsError, StorageSettings, load_settings, load_storage_settings


def _cmd_run(args: argparse.Namespace) -> int:
    # httpx (imported by PTB) loads its command-line tool, and with it click, rich and pygments
    # (5 MiB resident), when they are installed; a failed import is its documented fallback.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from bot.demo_defaults import DEMO_SECRET_KEY, DEMO_TOKEN
    from bot.logs import configure_logging
    from bot.web import create_web_app, serve

    settings = load_settings()
    if settings.telegram_bot_token.get_secret_value() == DEMO_TOKEN or (
        settings.secret_key.get_secret_value() == DEMO_SECRET_KEY
    ):
        raise SettingsError("invalid settings: the demo token/secret key are public; set your own")
    if args.webhook and settings.webhook_secret is None:
        raise SettingsError("invalid settings: WEBHOOK_SECRET is required with --webhook")
    configure_logging(settings.log_level, settings.log_format)
    _print_quick_doctor(settings)
    import review

    app = create_web_app(settings, mode="webhook" if args.webhook else "polling", extra_setup=[review.setup])
    serve(app, host=settings.web_host, port=settings.web_port)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo
    from bot.logs import configure_logging

    configure_logging("INFO")
    run_demo(Path(args.data_dir), args.host, args.port, args.emulator_port)
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import failed, run_doctor

    checks = asyncio.run(run_doctor(webhook=args.webhook))
    for check in checks:
        print(check.line())
    if failed(checks):
        print("Something needs fixing: see the lines marked ✗.", file=sys.stderr)
        return 1
    return 0


def _print_quick_doctor(settings: StorageSettings) -> None:
    """The short form of `tracebot doctor` at start: local checks only, never fatal."""
    from bot.doctor import quick_summary

    try:
        print(quick_summary(settings), flush=True)
    except Exception as exc:  # noqa: BLE001 - a summary must never keep the bot from starting
        print(f"doctor: summary unavailable ({type(exc).__name__}); run `tracebot doctor`", flush=True)


def _storage_settings() -> StorageSettings:
    # Database and catalog commands need only DATABASE_URL/MEDIA_DIR, not a bot token.
    return load_storage_settings()


def _cmd_objects_import(args: argparse.Namespace) -> int:
    from bot.catalog import import_catalog
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_if_needed
    from storage.privacy import Privacy
    from storage.uow import Database

    settings = _storage_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_if_needed(engine, settings.database_url)
            # Importing objects never touches reporters, so no real pseudonym key is needed here.
            database = Database(create_session_factory(engine), Privacy(secrets.token_hex(32)))
            report = await import_catalog(Path(args.folder), database, settings.media_dir)
        finally:
            await engine.dispose()
        print(
            f"imported {args.folder}: {report.created} new, {report.updated} updated, "
            f"{report.unchanged} unchanged objects; {report.campaigns} campaigns"
        )

    asyncio.run(run())
    return 0


def _cmd_link(args: argparse.Namespace) -> int:
    from handlers.deeplinks import make_payload
    from review.qrcodes import qr_png, qr_svg

    payload = make_payload(args.campaign, args.object, args.channel)  # ValueError: one clean line (cli_errors)
    url = f"https://t.me/{args.bot}" + (f"?start={payload}" if payload else "")
    print(url)
    if args.qr:
        target = Path(args.qr)
        if target.suffix.lower() == ".svg":
            target.write_text(qr_svg(url), encoding="utf-8")
        else:
            target.write_bytes(qr_png(url))
        print(f"QR code (with the link printed under it) written to {args.qr}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracebot", description="Tip-intake bot for 'trace an object' appeals.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot (long polling, or --webhook) with health/metrics")
    run.add_argument("--webhook", action="store_true", help="receive updates on WEBHOOK_PATH instead of polling")
    run.set_defaults(handler=_cmd_run)

    demo = commands.add_parser("demo", help="bot + local Bot API emulator + web chat page, no token needed")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="dashboard / tips list port")
    demo.add_argument("--emulator-port", type=int, default=8081, help="Bot API emulator and chat page port")
    demo.add_argument("--data-dir", default="data/demo", help="where the demo keeps its database and images")
    demo.set_defaults(handler=_cmd_demo)

    doctor = commands.add_parser("doctor", help="check settings, database, Bot API, media, models and disk")
    doctor.add_argument("--webhook", action="store_true", help="also check the webhook (implied by WEBHOOK_URL)")
    doctor.set_defaults(handler=_cmd_doctor)

    from bot.cli_db import add_commands as add_database_commands

    add_database_commands(commands)  # upgrade, downgrade, current, backup, restore

    objects = commands.add_parser("objects", help="object catalog")
    object_commands = objects.add_subparsers(dest="objects_command", required=True)
    importer = object_commands.add_parser("import", help="load a catalog folder (images + catalog.toml)")
    importer.add_argument("folder")
    importer.set_defaults(handler=_cmd_objects_import)

    link = commands.add_parser("link", help="print a deep link (and write a QR code)")
    link.add_argument("--bot", required=True, help="the bot's username")
    link.add_argument("--campaign", help="campaign code")
    link.add_argument("--object", help="object reference, e.g. TAO-0001")
    link.add_argument("--channel", help="channel tag: where the link is posted, e.g. x or poster-berlin")
    link.add_argument("--qr", help="write a QR code to this .png or .svg file")
    link.set_defaults(handler=_cmd_link)

    from bot.cli_translation import add_commands as add_translation_commands
    from review.cli import add_commands as add_dashboard_commands

    add_dashboard_commands(commands, lambda: load_storage_settings().database_url)  # accounts and API tokens
    add_translation_commands(commands)  # models install/list, worker
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.cli_errors import FAILURE_EXIT, SETTINGS_EXIT, explain

        message = explain(exc)
        if message is None:
            raise  # not an expected failure: a bug, whose traceback is worth having
        print(f"tracebot: {message}", file=sys.stderr)
        return SETTINGS_EXIT if isinstance(exc, SettingsError) else FAILURE_EXIT


if __name__ == "__main__":
    sys.exit(main())
