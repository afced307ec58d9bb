"""The one error handler: log with context, tell the user something kind."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import Application

from handlers.context import TracebotContext
from handlers.delivery import Failure, classify
from handlers.turn import in_webhook_reply, webhook_reply_taken
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
    if update.callback_query is not None:
        await _stop_the_spinner(update.update_id, update.callback_query)
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


async def _stop_the_spinner(update_id: int, query: CallbackQuery) -> None:
    """The pressed button's answer, which the failed turn never gave: the spinner stops with the apology.

    In the webhook's answer when there is one and nothing is in it yet; a turn that failed after
    answering left its answer there (or sent it), and a second answer would only be refused.
    """
    plain = {"method": "answerCallbackQuery", "callback_query_id": str(query.id)}
    if webhook_reply_taken(update_id) or in_webhook_reply(update_id, plain):
        return
    try:
        await query.answer()
    except TelegramError as exc:  # already answered, or too old: the apology still goes
        log.info("update %s: the button's answer was refused (%s)", update_id, type(exc).__name__)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_error_handler(on_error)
