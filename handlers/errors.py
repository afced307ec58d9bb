"""The one error handler: log with context, tell the user something kind."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from handlers.context import TracebotContext
from handlers.delivery import Failure, classify
from translations.i18n import normalize_language

log = logging.getLogger(__name__)


async def on_error(update: object, context: TracebotContext) -> None:
    """Log the error class (messages may quote what a user wrote) and apologise where it helps."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, TelegramError):
        failure = classify(error)
        if failure is Failure.CHAT_GONE:
            log.info("update %s: the chat is gone or blocked the bot (%s)", update_id, type(error).__name__)
        elif failure is Failure.TRANSIENT:
            log.warning("update %s: Telegram unreachable (%s)", update_id, type(error).__name__)
        else:
            log.warning("update %s: Telegram refused a call (%s)", update_id, type(error).__name__)
        return
    # The formatter writes the traceback without exception messages (bot/logs.py).
    log.error("update %s failed (%s)", update_id, type(error).__name__, exc_info=error)
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
    except Exception as exc:  # noqa: BLE001 - an apology that fails must not raise from the error handler
        log.warning("update %s: could not tell the user about the error (%s)", update_id, type(exc).__name__)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_error_handler(on_error)
