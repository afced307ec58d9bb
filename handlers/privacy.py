"""/delete_my_data: erase the reporter's record on request (tips stay, unlinked)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.turn import Turn, in_turn

FORGET_YES = "forget:yes"
FORGET_NO = "forget:no"


def explanation(turn: Turn) -> str:
    return turn.gettext(
        "Deleting your data erases your pseudonym, the encrypted address we use to reply to you, your "
        "language and any unsent draft. Tips you already sent stay with the investigators, but nothing "
        "links them to you any more, so you will not get follow-up questions about them."
    )


@in_turn
async def on_delete_my_data(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Yes, delete my data"), callback_data=FORGET_YES)],
            [InlineKeyboardButton(_("No, keep it"), callback_data=FORGET_NO)],
        ]
    )
    turn.say(explanation(turn) + "\n\n" + _("Do you want to delete your data now?"), keyboard)


@in_turn
async def on_forget_answer(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    turn.answer()
    turn.clear_buttons()
    if update.callback_query is None or update.callback_query.data != FORGET_YES:
        turn.say(_("Nothing was deleted."))
        return
    await turn.uow.retention.forget_reporter(turn.reporter.id)
    turn.forget_conversation()
    turn.say(_("Your data has been deleted. Thank you for your help. If you send /start again, you start afresh."))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("delete_my_data", on_delete_my_data), Group.CONVERSATION)
    application.add_handler(CallbackQueryHandler(on_forget_answer, pattern=r"^forget:(yes|no)$"), Group.CONVERSATION)
