"""Builds the PTB `Application`: the bot's composition root."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.concurrency import PerChatUpdateProcessor
from bot.ptb_request import AiohttpRequest
from bot.services import BotServices
from handlers import register_all
from handlers.commands import COMMANDS
from handlers.context import TracebotApplication, TracebotContext, attach_services

log = logging.getLogger(__name__)


def build_application(services: BotServices, *, polling: bool) -> TracebotApplication:
    """The bot, wired to its services; the caller owns initialize/start/stop/shutdown.

    With `polling` the application gets PTB's `Updater` (getUpdates); otherwise updates
    arrive through our webhook route and no updater is built.
    """
    settings = services.settings
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .request(AiohttpRequest(connection_pool_size=max(64, settings.max_concurrent_updates)))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=None))
        .context_types(ContextTypes(context=TracebotContext))
        .concurrent_updates(PerChatUpdateProcessor(settings.max_concurrent_updates))
    )
    # No bot-wide rate limiter: Telegram's ~30 messages/s is for bulk sends, not for replies to what a
    # user just did. Replies honour a 429 in `handlers.turn`; proactive sends share `storage.send_limiter`.
    if polling:
        builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=2))
    else:
        builder = builder.updater(None)
    application: TracebotApplication = builder.build()
    attach_services(application, services)
    register_all(application)
    return application


def menu_digest(services: BotServices) -> str:
    """What the published menus depend on: the commands and every catalog's source (reads files: call in a thread)."""
    digest = hashlib.sha256(json.dumps(COMMANDS).encode())
    digest.update(services.catalogs.fingerprint().encode())
    return digest.hexdigest()


async def publish_commands(application: Application[Any, Any, Any, Any, Any, Any], services: BotServices) -> None:
    """Set the command menu in every language we speak (`setMyCommands(language_code=...)`)."""
    catalogs = services.catalogs
    for language in catalogs.languages:
        # Compiling a catalog from its .po source takes milliseconds: not on the event loop.
        _ = (await asyncio.to_thread(catalogs.for_language, language)).gettext
        commands = [BotCommand(name, _(description)[:256]) for name, description in COMMANDS]
        code = None if language == "en" else language
        await application.bot.set_my_commands(commands, language_code=code)
    log.info("published the command menu in %d languages", len(catalogs.languages))


async def publish_commands_if_changed(
    application: Application[Any, Any, Any, Any, Any, Any], services: BotServices
) -> bool:
    """Publish the menus unless this bot already has exactly these (a digest in the database says so).

    Run in the background after start-up: 38 `setMyCommands` calls on every start made serving wait
    a second. The digest is recorded only once every language went through, so a failed or
    interrupted publication is redone at the next start.
    """
    name = f"commands:{application.bot.id}"
    digest = await asyncio.to_thread(menu_digest, services)
    async with services.database.short() as uow:
        if await uow.publications.digest(name) == digest:
            log.debug("the command menus are unchanged; not published again")
            return False
    await publish_commands(application, services)
    async with services.database.short() as uow:
        await uow.publications.record(name, digest, datetime.now(UTC))
        await uow.commit()
    return True
