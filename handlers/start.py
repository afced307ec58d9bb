"""/start (with or without a deep link), the content note and privacy summary, and the opt-in."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers import browse, callbacks, funnel, keyboards
from handlers.context import TracebotContext
from handlers.deeplinks import DeepLink, parse_payload
from handlers.groups import Group
from handlers.turn import Step, Turn, in_turn
from storage.models import CampaignStatus, FunnelStep
from storage.records import CampaignRecord
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


async def _apply_deep_link(turn: Turn, payload: str | None) -> CampaignRecord | None:
    """Follow a link: its campaign (if running), object and channel tag; count the open.

    Returns the campaign whose intro line to show. An ended campaign still opens the bot, with a
    polite note and all active objects; a paused one (or one not started yet) is a plain start.
    """
    link = parse_payload(payload)
    if link == DeepLink():
        return None
    conversation = turn.conversation
    conversation.channel, conversation.viewed = link.channel, []
    campaign = await turn.uow.campaigns.by_code(link.campaign_code) if link.campaign_code else None
    obj = await turn.uow.objects.by_reference(link.object_reference) if link.object_reference else None
    await turn.uow.funnel.count(
        FunnelStep.LINK_OPENED,
        campaign_id=campaign.id if campaign else None,
        object_id=obj.id if obj else None,
        channel=link.channel,
    )
    state = campaign.state_on(datetime.now(UTC).date()) if campaign else None
    if campaign is not None and state == CampaignStatus.ACTIVE:
        conversation.campaign_id = campaign.id
        if turn.reporter.campaign_id is None:  # the reporter keeps only the first campaign they came through
            await turn.uow.reporters.update(turn.reporter.id, campaign_id=campaign.id)
    elif campaign is not None:
        conversation.campaign_id = None
        if state == CampaignStatus.ENDED:
            turn.say(
                turn.gettext(
                    "This appeal has ended. Thank you for your interest! You can still look at the objects "
                    "we are asking about now."
                )
            )
    if obj is not None and obj.status == "active":
        conversation.object_id = obj.id
    return campaign if state == CampaignStatus.ACTIVE else None


def say_intro(turn: Turn, campaign: CampaignRecord | None) -> None:
    """The campaign's intro line in the reporter's language (else English), while it runs."""
    running = campaign is not None and campaign.state_on(datetime.now(UTC).date()) == CampaignStatus.ACTIVE
    intro = campaign.intro_in(turn.language) if campaign and running else None
    if intro:
        turn.say(html.escape(intro))


@in_turn
async def on_start(update: Update, context: TracebotContext, turn: Turn) -> None:
    payload = context.args[0] if context.args else None
    campaign = await _apply_deep_link(turn, payload)
    turn.conversation.draft = {}
    if turn.reporter.opted_in and not turn.reporter.stopped:
        say_intro(turn, campaign)
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
    await funnel.count(turn, FunnelStep.OPTED_IN)
    turn.answer(turn.gettext("Thank you!"))
    turn.clear_buttons()
    campaign_id = turn.conversation.campaign_id
    say_intro(turn, await turn.uow.campaigns.get(campaign_id) if campaign_id else None)
    await browse.show_current_or_first(turn)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", on_start), Group.CONVERSATION)
    application.add_handler(CallbackQueryHandler(on_opt_in, pattern=f"^{callbacks.OPT_IN}$"), Group.CONVERSATION)
