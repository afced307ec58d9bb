"""`tracebot demo`: bot + Bot API emulator + web chat page + moderator dashboard, with no token and no network."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

import review
from bot.catalog import import_catalog
from bot.demo_catalog import QUESTION_TRANSLATIONS, write_demo_catalog
from bot.demo_defaults import DEMO_SECRET_KEY, DEMO_TOKEN
from bot.doctor import quick_summary
from bot.settings import Settings, load_settings
from bot.web import SERVICES, create_web_app, serve
from emulator import BotApiEmulator
from review.config import DashboardConfig
from review.security import Passwords
from storage.models import ModeratorRole
from translations.models import languages_without_path_to_english

log = logging.getLogger(__name__)

DEMO_BOT_USERNAME = "TracebotDemoBot"
DEMO_MODERATOR = "demo"


def demo_settings(data_dir: Path, host: str, port: int, emulator_port: int) -> Settings:
    return load_settings(
        telegram_bot_token=DEMO_TOKEN,
        telegram_api_url=f"http://{host}:{emulator_port}",
        database_url=f"sqlite+aiosqlite:///{data_dir / 'demo.db'}",
        secret_key=DEMO_SECRET_KEY,
        media_dir=data_dir / "media",
        web_host=host,
        web_port=port,
        webhook_url=None,
    )


def demo_languages() -> list[str]:
    """The languages the demo catalog's questions come in (besides English)."""
    return sorted({language for questions in QUESTION_TRANSLATIONS.values() for language in questions})


def translation_hint(packages_dir: Path) -> str:
    """What a newcomer will see about translation, and the command that changes it."""
    languages = demo_languages()
    missing = languages_without_path_to_english(languages, packages_dir)
    if not missing:
        return f"Translation: models for {' '.join(languages)} are installed; tips are translated to English."
    return (
        f"Translation: no model for {' '.join(missing)} is installed in {packages_dir}, so tips in those languages\n"
        "  show 'Language not supported by the translator'. On a machine with internet:\n"
        f"    .venv/bin/tracebot models install {' '.join(missing)}\n"
        "  (or `tracebot models install --file X.argosmodel` offline), then restart the demo."
    )


def _startup_notes(settings: Settings) -> str:
    """The translation hint and the doctor's short form; they only inform, so they never stop the demo."""
    try:
        return f"{translation_hint(settings.argos_packages_dir)}\n{quick_summary(settings)}"
    except Exception as exc:  # noqa: BLE001 - see above
        return f"(start-up checks unavailable: {type(exc).__name__}; run `tracebot doctor`)"


def create_demo_app(
    data_dir: Path, host: str = "127.0.0.1", port: int = 8080, emulator_port: int = 8081
) -> web.Application:
    settings = demo_settings(data_dir, host, port, emulator_port)
    emulator = BotApiEmulator(bot_token=DEMO_TOKEN, bot_username=DEMO_BOT_USERNAME)

    async def emulator_context(app: web.Application) -> AsyncIterator[None]:
        await emulator.start(host=host, port=emulator_port)
        try:
            yield
        finally:
            await emulator.stop()

    async def catalog_context(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        folder = write_demo_catalog(data_dir / "demo-catalog")
        report = await import_catalog(folder, services.database, services.media_dir)
        log.info(
            "demo catalog: %d new, %d updated, %d unchanged objects", report.created, report.updated, report.unchanged
        )
        yield

    # A fresh password at every start, printed once in the banner; the account is an admin to show everything.
    demo_password = secrets.token_urlsafe(12)

    async def demo_moderator_context(app: web.Application) -> AsyncIterator[None]:
        database = app[SERVICES].database
        password_hash = Passwords().hash(demo_password)
        async with database.unit_of_work() as uow:
            account = await uow.moderators.by_username(DEMO_MODERATOR)
            if account is None:
                await uow.moderators.add(DEMO_MODERATOR, password_hash, ModeratorRole.ADMIN)
            else:
                await uow.moderators.set_password(account.id, password_hash)
            await uow.commit()
        yield

    async def banner(app: web.Application) -> None:
        chat = f"{emulator.base_url}/chat?start=c-demo"
        print(
            "\nTracebot demo is running (synthetic objects, local Bot API emulator, no network).\n"
            f"  Chat with the bot:  {chat}\n"
            f"  Review dashboard:   http://{host}:{port}/review/  (user {DEMO_MODERATOR}, password {demo_password})\n"
            f"  Health / metrics:   http://{host}:{port}/healthz  http://{host}:{port}/readyz  "
            f"http://{host}:{port}/metrics\n"
            f"{_startup_notes(settings)}\n"
            "Press Ctrl+C to stop.\n",
            flush=True,
        )

    app = create_web_app(
        settings,
        mode="polling",
        before_bot=[emulator_context],
        after_services=[catalog_context, demo_moderator_context],
        # Plain-http demo on localhost: Secure cookies would never be sent back.
        extra_setup=[review.setup_with(DashboardConfig(cookie_secure=False, bot_username=DEMO_BOT_USERNAME))],
    )
    app.on_startup.append(banner)
    return app


def run_demo(data_dir: Path, host: str, port: int, emulator_port: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    serve(create_demo_app(data_dir, host, port, emulator_port), host=host, port=port)
