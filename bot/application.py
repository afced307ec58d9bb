"""Builds the PTB `Application`: the bot's composition root."""

from __future__ import annotations

import logging
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


async def publish_commands(application: Application[Any, Any, Any, Any, Any, Any], services: BotServices) -> None:
    """Set the command menu in every language we speak (`setMyCommands(language_code=...)`)."""
    catalogs = services.catalogs
    for language in catalogs.languages:
        _ = catalogs.for_language(language).gettext
        commands = [BotCommand(name, _(description)[:256]) for name, description in COMMANDS]
        code = None if language == "en" else language
        await application.bot.set_my_commands(commands, language_code=code)
    log.info("published the command menu in %d languages", len(catalogs.languages))
