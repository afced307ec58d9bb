"""News for reporters who ask for it: `/news` turns it on or off, and so does a button after a tip.

What they then receive (announcements, the thank-you when an object they reported on is
identified) is sent by the outbox worker, not from here.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers import callbacks
from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.turn import Turn, in_turn


def thanks_text(gettext: Callable[[str], str]) -> str:
    """The thank-you when an object a reporter told us about was identified (never any case detail)."""
    return gettext("Thank you for your tip. The object you told us about has been identified. Your help counted.")


async def _set_news(turn: Turn, wanted: bool) -> None:
    await turn.uow.reporters.update(turn.reporter.id, wants_news=wanted)
    if wanted:
        turn.say(turn.gettext("You will hear about new objects and results. Send /news again to turn this off."))
    else:
        turn.say(turn.gettext("You will no longer receive news."))


def _may_subscribe(turn: Turn) -> bool:
    """News is only for people who opted in and have not stopped (it may carry object images)."""
    return turn.reporter.opted_in and not turn.reporter.stopped


@in_turn
async def on_news(update: Update, context: TracebotContext, turn: Turn) -> None:
    if not _may_subscribe(turn):
        turn.say(turn.gettext("Please send /start first."))
        return
    await _set_news(turn, not turn.reporter.wants_news)


@in_turn
async def on_news_button(update: Update, context: TracebotContext, turn: Turn) -> None:
    if not _may_subscribe(turn):
        turn.answer(turn.gettext("Please send /start first."), alert=True)
        return
    turn.answer()
    if not turn.reporter.wants_news:
        await _set_news(turn, True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    group = Group.CONVERSATION
    application.add_handler(CommandHandler("news", on_news), group)
    application.add_handler(CallbackQueryHandler(on_news_button, pattern=f"^{callbacks.NEWS_ON}$"), group)
