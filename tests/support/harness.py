"""Run the real Tracebot server (PTB + aiohttp) against the Bot API emulator, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.catalog import import_catalog
from bot.demo_catalog import write_demo_catalog
from bot.services import BotServices
from bot.settings import Settings, load_settings
from bot.web import COMMAND_MENUS, SERVICES, Mode, create_web_app
from emulator import BotApiEmulator

TOKEN = "123456:TEST-token"
SECRET_KEY = "test-secret-key-0123456789abcdef-0123456789"
WEBHOOK_SECRET = "test-webhook-secret"


def make_settings(database_url: str, emulator: BotApiEmulator, media_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": emulator.base_url,
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "media_dir": media_dir,
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_url": None,
        "web_port": 0,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class RunningBot:
    app: web.Application
    runner: web.AppRunner
    url: str

    @property
    def services(self) -> BotServices:
        return self.app[SERVICES]

    async def command_menus_published(self) -> bool:
        """Wait for the background publication of the command menus; False when they were unchanged."""
        return await self.app[COMMAND_MENUS]


@asynccontextmanager
async def running_bot(
    settings: Settings,
    *,
    mode: Mode = "polling",
    catalog_dir: Path | None = None,
    extra_setup: list[Callable[[web.Application], None]] | None = None,
) -> AsyncIterator[RunningBot]:
    """Start the full server on a free port; import the synthetic demo catalog first (`extra_setup`: the dashboard)."""

    async def load_catalog(app: web.Application) -> AsyncIterator[None]:
        if catalog_dir is not None:
            services = app[SERVICES]
            await import_catalog(write_demo_catalog(catalog_dir), services.database, services.media_dir)
        yield

    app = create_web_app(settings, mode=mode, after_services=[load_catalog], extra_setup=extra_setup)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield RunningBot(app=app, runner=runner, url=f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
