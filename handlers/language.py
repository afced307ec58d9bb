"""/language: pick the language the bot speaks (a button grid)."""

from __future__ import annotations

from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.turn import Turn, in_turn
from translations.i18n import native_name

LANGUAGE_PATTERN = r"^lang:[a-z]{2,3}$"


def language_keyboard(turn: Turn) -> InlineKeyboardMarkup:
    languages = turn.context.services.catalogs.languages
    buttons = [
        InlineKeyboardButton(("✓ " if code == turn.language else "") + native_name(code), callback_data=f"lang:{code}")
        for code in languages
    ]
    return InlineKeyboardMarkup([buttons[index : index + 3] for index in range(0, len(buttons), 3)])


@in_turn
async def on_language(update: Update, context: TracebotContext, turn: Turn) -> None:
    turn.say(turn.gettext("Which language would you like me to use?"), language_keyboard(turn))


@in_turn
async def on_language_chosen(update: Update, context: TracebotContext, turn: Turn) -> None:
    code = (update.callback_query.data or "").split(":", 1)[-1] if update.callback_query else ""
    catalogs = context.services.catalogs
    if code not in catalogs.languages:
        turn.answer(turn.gettext("This button is no longer active."))
        return
    await turn.uow.reporters.update(turn.reporter.id, language=code)
    turn.reporter = replace(turn.reporter, language=code)
    turn.translations = catalogs.for_language(code)
    turn.answer()
    turn.clear_buttons()
    turn.say(turn.gettext("Done. I will speak {language} with you.").format(language=native_name(code)))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("language", on_language), Group.CONVERSATION)
    application.add_handler(CallbackQueryHandler(on_language_chosen, pattern=LANGUAGE_PATTERN), Group.CONVERSATION)
