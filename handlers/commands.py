"""/help, /privacy, /stop, /cancel, and unknown commands."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import callbacks, followup, keyboards, urgent
from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.tip import DRAFTING, cancel_draft
from handlers.turn import Step, Turn, in_turn


def N_(message: str) -> str:  # noqa: N802 - gettext convention: mark for extraction, translate later
    return message


# (command, description) for the Telegram command menu, translated per language at start-up.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Look at the objects")),
    ("help", N_("How this works")),
    ("privacy", N_("What we store and how to delete it")),
    ("language", N_("Change the language")),
    ("mytips", N_("Add to a tip you sent")),
    ("cancel", N_("Abandon the current step")),
    ("stop", N_("Stop receiving objects")),
    ("news", N_("News about objects and results, on or off")),
    ("delete_my_data", N_("Delete what we store about you")),
    ("urgent", N_("Report a child in danger")),
)


@in_turn
async def on_help(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    turn.say(
        "\n\n".join(
            [
                _("<b>How this works</b>"),
                _(
                    "I show you objects from investigations. If you recognise one, press “I recognise this” or "
                    "simply write what you know, in your own language. I will ask which country it is from, "
                    "show you your tip, and give you a reference once it is saved."
                ),
                # Every command, in the words of the command menu (translated for it already).
                "\n".join(f"/{name} – {_(description)}" for name, description in COMMANDS),
            ]
        ),
        keyboards.help_screen(turn),
    )


@in_turn
async def on_privacy(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    turn.say(
        "\n\n".join(
            [
                _("<b>Privacy notice</b>"),
                _(
                    "We never store your name, username or phone number. Your Telegram account is replaced by "
                    "a keyed pseudonym that cannot be turned back into your account without a secret key; the "
                    "chat address we need to answer you is stored encrypted."
                ),
                _(
                    "We store your tips (what you wrote, the country you chose, any location you shared), the "
                    "language you use and which campaign brought you here. Investigators see your tips and a "
                    "random alias, never who you are."
                ),
                _("Photos, voice messages and files are not accepted and not stored."),
                _(
                    "Send /stop to stop receiving objects, and /delete_my_data to erase your pseudonym, the "
                    "encrypted address and any unsent draft; tips you sent stay with investigators, unlinked from "
                    "you. Records of people who stop using the bot are erased automatically after a while."
                ),
            ]
        )
    )
    choices = await followup.privacy_choices(turn)  # after the notice: the buttons end the chat
    if choices is not None:
        turn.say(*choices)


async def _stop(turn: Turn) -> None:
    turn.conversation.draft = {}
    turn.step = Step.STOPPED
    await turn.uow.reporters.update(turn.reporter.id, stopped_at=datetime.now(UTC), wants_news=False)
    # Stopping also withdraws every tip's consent to follow-up questions.
    if await turn.uow.followup.withdraw_all(turn.reporter.id):
        turn.uow.audit.append(actor="reporter", action="followup.consent_withdrawn_all", target_type="reporter")
    turn.say(
        turn.gettext(
            "You will not receive any more objects. Thank you for your help. "
            "Send /start whenever you want to come back."
        )
    )


@in_turn
async def on_stop(update: Update, context: TracebotContext, turn: Turn) -> None:
    await _stop(turn)


@in_turn
async def on_stop_button(update: Update, context: TracebotContext, turn: Turn) -> None:
    turn.answer()
    turn.clear_buttons()
    await _stop(turn)


@in_turn
async def on_cancel(update: Update, context: TracebotContext, turn: Turn) -> None:
    if turn.step in DRAFTING:
        await cancel_draft(turn)
    elif turn.step in urgent.STEPS:
        await urgent.leave(turn)
    elif turn.step in (Step.ANSWERING, Step.ADDING):
        followup.cancel_answer(turn)
    else:
        turn.say(turn.gettext("There is nothing to cancel."))


@in_turn
async def on_unknown_command(update: Update, context: TracebotContext, turn: Turn) -> None:
    turn.say(turn.gettext("Sorry, I don't know that command. Send /help to see what I can do."))


def register(application: Application) -> None:  # type: ignore[type-arg]
    group = Group.CONVERSATION
    application.add_handler(CommandHandler("help", on_help), group)
    application.add_handler(CommandHandler("privacy", on_privacy), group)
    application.add_handler(CommandHandler("stop", on_stop), group)
    application.add_handler(CommandHandler("cancel", on_cancel), group)
    application.add_handler(CallbackQueryHandler(on_stop_button, pattern=f"^{callbacks.STOP}$"), group)


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Registered last: catches commands no feature claimed."""
    application.add_handler(MessageHandler(filters.COMMAND, on_unknown_command), Group.CONVERSATION)
