"""The one error handler: log with context, tell the user something kind."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from handlers.context import TracebotContext
from translations.i18n import normalize_language

log = logging.getLogger(__name__)


async def on_error(update: object, context: TracebotContext) -> None:
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        log.info("update %s: the user blocked the bot", update_id)
        return
    if isinstance(error, (TimedOut, NetworkError, RetryAfter)):
        log.warning("update %s: Telegram unreachable: %s", update_id, error)
        return
    log.error("update %s failed", update_id, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    catalogs = context.services.catalogs
    _ = catalogs.for_language(catalogs.resolve(normalize_language(user.language_code) if user else None)).gettext
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            _("Sorry, something went wrong on our side. Nothing you confirmed was lost; please try again."),
        )
    except Exception:
        log.warning("could not tell the user about the error", exc_info=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_error_handler(on_error)
