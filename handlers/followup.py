"""Follow-up questions: consent per tip, answering a moderator's question, withdrawing consent.

The moderator never learns who the reporter is: questions reach the reporter through the bot,
quoting only the tip's and the object's references, and answers join the tip's thread.
Questions themselves are delivered by the outbox sender (`bot/maintenance.py`), not from here.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers import callbacks
from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.turn import Step, Turn, in_turn, resting_step
from storage.models import format_tip_reference
from storage.repositories.followup import OpenQuestion

# Steps in which a reporter is in the middle of a tip: a question button must not discard it.
_BUSY = (Step.COUNTRY, Step.COUNTRY_TYPED, Step.DETAILS, Step.PREVIEW)
MY_TIPS = 5  # how many recent tips /mytips offers


def consent_button(gettext: Callable[[str], str], allowed: bool) -> InlineKeyboardButton:
    """The preview's toggle: its box shows the current choice (not asked until they tick it)."""
    box = "☑" if allowed else "☐"
    label = gettext("Investigators may ask me follow-up questions")
    return InlineKeyboardButton(f"{box} {label}", callback_data=callbacks.TIP_FOLLOWUP)


def compose_question(
    gettext: Callable[[str], str], tip_id: int, object_reference: str, body: str, translated: bool
) -> str:
    """The whole message the reporter reads (plain text), as the moderator previews and the row stores it."""
    heading = gettext("Question from the investigators about your tip {tip} (object {object}):").format(
        tip=format_tip_reference(tip_id), object=object_reference
    )
    parts = [heading, body.strip()]
    if not translated:
        parts.append(gettext("This question could not be translated into your language."))
    return "\n\n".join(parts)


def question_keyboard(gettext: Callable[[str], str], message_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(gettext("Answer"), callback_data=callbacks.with_id(callbacks.ANSWER, message_id)),
                InlineKeyboardButton(
                    gettext("I'd rather not"), callback_data=callbacks.with_id(callbacks.DECLINE, message_id)
                ),
            ]
        ]
    )


def _audit(turn: Turn, action: str, tip_id: int, **details: object) -> None:
    """The reporter's side of the thread in the audit trail: never who they are, only the tip."""
    turn.uow.audit.append(actor="reporter", action=action, target_type="tip", target_id=tip_id, details=details)


@in_turn
async def on_question_button(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    data = update.callback_query.data if update.callback_query else None
    message_id = callbacks.trailing_id(data)
    question = await turn.uow.followup.open_question(turn.reporter.id, message_id) if message_id else None
    if question is None:
        turn.answer(_("This button is no longer active."))
        turn.clear_buttons()
        return
    if turn.step in _BUSY:
        turn.answer(_("Please finish or cancel your tip first."), alert=True)
        return
    turn.answer()
    turn.clear_buttons()
    if data is not None and data.startswith(callbacks.DECLINE):
        await turn.uow.followup.decline(question)
        _audit(turn, "followup.declined", question.tip_id, question_id=question.message_id)
        turn.say(_("All right, you declined this question."))
        return
    turn.step = Step.ANSWERING
    turn.conversation.draft = {"question_id": question.message_id}
    turn.say(_("Please write your answer."))


async def take_answer(turn: Turn, message: Message | None, text: str) -> bool:
    """Handle `text` if it answers a question (after "Answer", or as a reply to the question) or adds to a tip."""
    question: OpenQuestion | None = None
    if turn.step is Step.ADDING:
        await _take_addition(turn, text)
        return True
    if turn.step is Step.ANSWERING:
        question_id = int(turn.conversation.draft.get("question_id") or 0)
        question = await turn.uow.followup.open_question(turn.reporter.id, question_id) if question_id else None
        turn.conversation.draft = {}
        turn.step = resting_step(turn)
        if question is None:
            turn.say(turn.gettext("This question is closed; nothing was sent."))
            return True
    elif message is not None and message.reply_to_message is not None and turn.step not in _BUSY:
        replied = message.reply_to_message
        # Telegram echoes the question's buttons in the reply, so it is found even before the
        # sender has recorded the message id; either way only the reporter's own open question.
        button_id = _answer_button_id(replied)
        followup = turn.uow.followup
        if button_id is not None:
            question = await followup.open_question(turn.reporter.id, button_id)
        else:
            question = await followup.question_replied_to(turn.reporter.id, replied.message_id)
    if question is None:
        return False
    answer_id = await turn.uow.followup.add_answer(question, text)
    _audit(turn, "followup.answer", question.tip_id, message_id=answer_id, length=len(text))
    turn.say(turn.gettext("Thank you, your answer has been passed on to the investigators."))
    _wake_translator(turn)
    return True


def _wake_translator(turn: Turn) -> None:
    worker = turn.context.services.translation_worker
    if worker is not None:

        async def wake_translator() -> None:
            worker.wake()

        turn.later(wake_translator, method="wakeTranslator")


async def _take_addition(turn: Turn, text: str) -> None:
    tip_id = int(turn.conversation.draft.get("tip_id") or 0)
    turn.conversation.draft = {}
    turn.step = resting_step(turn)
    added = await turn.uow.followup.add_addition(tip_id, turn.reporter.id, text) if tip_id else None
    if added is None:  # the tip is not theirs (a forged button) or gone
        turn.say(turn.gettext("Cancelled. Nothing was sent."))
        return
    _audit(turn, "followup.addition", tip_id, message_id=added, length=len(text))
    reference = format_tip_reference(tip_id)
    turn.say(turn.gettext("Thank you, this has been added to {reference}.").format(reference=reference))
    _wake_translator(turn)


@in_turn
async def on_my_tips(update: Update, context: TracebotContext, turn: Turn) -> None:
    """/mytips: the reporter's recent tips by reference, a button each to add to one."""
    _ = turn.gettext
    tips = await turn.uow.followup.recent_tips(turn.reporter.id, limit=MY_TIPS)
    if not tips:
        turn.say(_("You have not sent any tips yet."))
        return
    rows = [
        [
            InlineKeyboardButton(
                _("Add to {reference}").format(reference=format_tip_reference(tip.tip_id)),
                callback_data=callbacks.with_id(callbacks.ADD_TO_TIP, tip.tip_id),
            )
        ]
        for tip in tips
    ]
    turn.say(_("Your recent tips. Press one to add something to it."), InlineKeyboardMarkup(rows))


@in_turn
async def on_add_to_tip(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    tip_id = callbacks.trailing_id(update.callback_query.data if update.callback_query else None)
    if turn.step in _BUSY:
        turn.answer(_("Please finish or cancel your tip first."), alert=True)
        return
    owned = {tip.tip_id for tip in await turn.uow.followup.recent_tips(turn.reporter.id, limit=MY_TIPS)}
    if tip_id not in owned:
        turn.answer(_("This button is no longer active."))
        return
    turn.answer()
    turn.step = Step.ADDING
    turn.conversation.draft = {"tip_id": tip_id}
    turn.say(
        _("What would you like to add to {reference}? Write it in your own language.").format(
            reference=format_tip_reference(tip_id)
        )
    )


def _answer_button_id(message: Message) -> int | None:
    """The question id in a message's "Answer" button, if it has one."""
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            data = button.callback_data
            if isinstance(data, str) and data.startswith(callbacks.ANSWER + ":"):
                return callbacks.trailing_id(data)
    return None


def cancel_answer(turn: Turn) -> None:
    turn.conversation.draft = {}
    turn.step = resting_step(turn)
    turn.say(turn.gettext("Cancelled. Nothing was sent."))


async def privacy_choices(turn: Turn) -> tuple[str, InlineKeyboardMarkup] | None:
    """For /privacy: the tips that allow follow-up questions, a button each to stop them."""
    tips = await turn.uow.followup.recent_tips(turn.reporter.id, consented=True)
    if not tips:
        return None
    _ = turn.gettext
    rows = [
        [
            InlineKeyboardButton(
                _("Stop questions about {reference}").format(reference=format_tip_reference(tip.tip_id)),
                callback_data=callbacks.with_id(callbacks.WITHDRAW, tip.tip_id),
            )
        ]
        for tip in tips
    ]
    return _("You allowed follow-up questions about these tips. Press one to stop them."), InlineKeyboardMarkup(rows)


@in_turn
async def on_withdraw(update: Update, context: TracebotContext, turn: Turn) -> None:
    tip_id = callbacks.trailing_id(update.callback_query.data if update.callback_query else None)
    turn.answer()
    if tip_id is None or not await turn.uow.followup.set_consent(tip_id, turn.reporter.id, False):
        turn.say(turn.gettext("This button is no longer active."))
        return
    _audit(turn, "followup.consent_withdrawn", tip_id)
    reference = format_tip_reference(tip_id)
    turn.say(turn.gettext("You will get no more follow-up questions about {reference}.").format(reference=reference))


def register(application: Application) -> None:  # type: ignore[type-arg]
    group = Group.CONVERSATION
    application.add_handler(CommandHandler("mytips", on_my_tips), group)
    application.add_handler(CallbackQueryHandler(on_add_to_tip, pattern=callbacks.ADD_TO_TIP_PATTERN), group)
    application.add_handler(CallbackQueryHandler(on_question_button, pattern=callbacks.QUESTION_PATTERN), group)
    application.add_handler(CallbackQueryHandler(on_withdraw, pattern=callbacks.WITHDRAW_PATTERN), group)
