"""/start (with or without a deep link), the content note and privacy summary, and the opt-in."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers import browse, callbacks, keyboards
from handlers.context import TracebotContext
from handlers.deeplinks import parse_payload
from handlers.groups import Group
from handlers.turn import Step, Turn, in_turn
from translations.i18n import native_name


def welcome_text(turn: Turn) -> str:
    _ = turn.gettext
    return "\n\n".join(
        [
            _("<b>Help identify objects and save children</b>"),
            _(
                "Police teams that identify victims of child sexual abuse show objects cut out of the background "
                "of their images: a mug, a curtain, a label. Everything harmful has been removed, but the "
                "subject is distressing. If you recognise an object, or know where it is sold or made, your "
                "tip can help find where a child is."
            ),
            _(
                "<b>Your privacy</b>: we do not store your name, username or phone number. Investigators "
                "see only your tip and a random alias. You can stop with /stop and delete your data at any "
                "time. Read more with /privacy."
            ),
            _("Language: {language}. Change it any time with /language.").format(language=native_name(turn.language)),
        ]
    )


async def _apply_deep_link(turn: Turn, payload: str | None) -> None:
    link = parse_payload(payload)
    if link.campaign_code:
        campaign = await turn.uow.campaigns.by_code(link.campaign_code)
        if campaign is not None and campaign.active:
            turn.conversation.campaign_id = campaign.id
            if turn.reporter.campaign_id is None:
                await turn.uow.reporters.update(turn.reporter.id, campaign_id=campaign.id)
    if link.object_reference:
        obj = await turn.uow.objects.by_reference(link.object_reference)
        if obj is not None and obj.status == "active":
            turn.conversation.object_id = obj.id


@in_turn
async def on_start(update: Update, context: TracebotContext, turn: Turn) -> None:
    payload = context.args[0] if context.args else None
    await _apply_deep_link(turn, payload)
    turn.conversation.draft = {}
    if turn.reporter.opted_in and not turn.reporter.stopped:
        await browse.show_current_or_first(turn)
        return
    turn.step = Step.WELCOME
    turn.say(welcome_text(turn), keyboards.opt_in(turn))


@in_turn
async def on_opt_in(update: Update, context: TracebotContext, turn: Turn) -> None:
    if turn.step is not Step.WELCOME and turn.reporter.opted_in and not turn.reporter.stopped:
        turn.answer()
        turn.clear_buttons()
        return
    await turn.uow.reporters.opt_in(turn.reporter.id, datetime.now(UTC))
    turn.answer(turn.gettext("Thank you!"))
    turn.clear_buttons()
    await browse.show_current_or_first(turn)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", on_start), Group.CONVERSATION)
    application.add_handler(CallbackQueryHandler(on_opt_in, pattern=f"^{callbacks.OPT_IN}$"), Group.CONVERSATION)
