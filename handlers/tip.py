"""The tip flow: which country, what do you know, preview, send."""

from __future__ import annotations

import html
import math
import uuid
from collections.abc import Callable

from babel.numbers import format_decimal
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from handlers import browse, callbacks, followup, funnel, keyboards, urgent
from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.metrics import TIPS_COMMITTED
from handlers.start import welcome_text
from handlers.submitted import after_tip_committed
from handlers.telegram_text import MAX_TEXT, quote, visible_length
from handlers.turn import Step, Turn, in_turn
from storage.models import FunnelStep, format_tip_reference
from storage.repositories import TipDraft
from translations.countries import country_name, flag, is_country_code, normalize_country

DRAFTING = (Step.COUNTRY, Step.COUNTRY_TYPED, Step.DETAILS, Step.PREVIEW)


async def _start_draft(turn: Turn, object_id: int) -> None:
    turn.conversation.object_id = object_id
    turn.conversation.draft = {"token": str(uuid.uuid4()), "object_id": object_id, "recognised": True}
    await funnel.count(turn, FunnelStep.TIP_STARTED, object_id)


def ask_country(turn: Turn, prefix: str | None = None) -> None:
    turn.step = Step.COUNTRY
    question = turn.gettext("Which country do you think this object is from?")
    turn.say(f"{prefix}\n\n{question}" if prefix else question, keyboards.countries(turn))


def ask_details(turn: Turn) -> None:
    _ = turn.gettext
    turn.step = Step.DETAILS
    text = _(
        "What do you know about it? For example: what it is, the brand, where it is sold, or where you have "
        "seen it. Write in your own language. You can also share a location."
    )
    has_country = bool(turn.conversation.draft.get("country_code"))
    turn.say(text, keyboards.details(turn, can_skip=has_country))


def _country_line(turn: Turn) -> str:
    code = turn.conversation.draft.get("country_code")
    if code:
        return f"{flag(code)} {html.escape(country_name(code, turn.language))}"
    return html.escape(turn.gettext("I don't know"))


async def show_preview(turn: Turn) -> None:
    _ = turn.gettext
    draft = turn.conversation.draft
    obj = await turn.uow.objects.get(int(draft["object_id"]))
    reference = obj.reference if obj else "?"
    lines = [
        _("<b>Your tip about {reference}</b>").format(reference=html.escape(reference)),
        _("Country: {country}").format(country=_country_line(turn)),
    ]
    told = _("What you told us: {text}") if draft.get("text") else None
    if draft.get("latitude") is not None:
        lines.append(_("Location: {lat:.5f}, {lon:.5f}").format(lat=draft["latitude"], lon=draft["longitude"]))
    lines.append(_("Is this right? Press Send to submit it."))
    if told is not None:
        # The reporter's text gets whatever room the rest leaves (Telegram counts UTF-16 after parsing).
        room = MAX_TEXT - visible_length("\n\n".join([*lines, told.format(text="")]))
        lines.insert(2, told.format(text=quote(draft["text"], room)))
    turn.step = Step.PREVIEW
    revision, allowed = int(draft.get("revision", 0)), bool(draft.get("followup"))
    turn.say("\n\n".join(lines), keyboards.preview(turn, revision, followup=allowed))


async def _after_country(turn: Turn) -> None:
    draft = turn.conversation.draft
    if draft.get("text") or draft.get("latitude") is not None:
        await show_preview(turn)
    else:
        ask_details(turn)


def _not_a_country(turn: Turn, text: str) -> None:
    turn.say(
        turn.gettext(
            "I could not match “{text}” to a country. Please check the spelling, or choose “I don't know”."
        ).format(text=quote(text, 100)),
        keyboards.countries(turn),
    )
    turn.step = Step.COUNTRY


def valid_location(latitude: object, longitude: object) -> tuple[float, float] | None:
    """(latitude, longitude) if both are finite numbers on the globe, else None (forged updates)."""
    numbers = [float(value) for value in (latitude, longitude) if isinstance(value, int | float)]
    if len(numbers) != 2 or isinstance(latitude, bool) or isinstance(longitude, bool):
        return None
    lat, lon = numbers
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _too_long(turn: Turn, text: str) -> bool:
    limit = turn.context.services.settings.max_tip_length
    if len(text) <= limit:
        return False
    turn.say(
        turn.gettext(
            "Sorry, that message is too long ({length} characters). Please keep it under {limit} characters."
        ).format(
            length=format_decimal(len(text), locale=turn.language), limit=format_decimal(limit, locale=turn.language)
        )
    )
    return True


@in_turn
async def on_tip_start(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    object_id = callbacks.trailing_id(update.callback_query.data if update.callback_query else None)
    if not turn.reporter.opted_in or turn.step in (Step.STOPPED, Step.WELCOME):
        turn.answer(_("Please send /start first."), alert=True)
        return
    if turn.step in DRAFTING:
        turn.answer(_("Please finish or cancel your tip first."), alert=True)
        return
    obj = await turn.uow.objects.get(object_id) if object_id else None
    if obj is None or obj.status != "active":
        turn.answer(_("This object is no longer available."), alert=True)
        return
    turn.answer()
    await _start_draft(turn, obj.id)
    ask_country(turn)


@in_turn
async def on_country(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    choice = (update.callback_query.data or "").split(":", 1)[-1] if update.callback_query else ""
    if turn.step not in (Step.COUNTRY, Step.COUNTRY_TYPED):
        turn.answer(_("This button is no longer active."))
        return
    turn.answer()
    turn.clear_buttons()
    if choice not in (callbacks.COUNTRY_OTHER, callbacks.COUNTRY_UNKNOWN) and not is_country_code(choice):
        _not_a_country(turn, choice)  # a forged button: only ISO 3166 codes are stored
        return
    if choice == callbacks.COUNTRY_OTHER:
        turn.step = Step.COUNTRY_TYPED
        turn.say(_("Please type the name of the country."))
        return
    turn.conversation.draft["country_code"] = None if choice == callbacks.COUNTRY_UNKNOWN else choice
    await _after_country(turn)


@in_turn
async def on_tip_action(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    action = (update.callback_query.data or "") if update.callback_query else ""
    if turn.step not in DRAFTING or not turn.conversation.draft:
        turn.answer(_("This button is no longer active."))
        return
    turn.answer()
    turn.clear_buttons()
    if action == callbacks.TIP_CANCEL:
        await cancel_draft(turn)
    elif action == callbacks.TIP_EDIT and turn.step is Step.PREVIEW:
        ask_details(turn)
    elif action == callbacks.TIP_SKIP_DETAILS and turn.step is Step.DETAILS:
        await show_preview(turn)
    elif action == callbacks.TIP_FOLLOWUP and turn.step is Step.PREVIEW:
        # The choice is part of what is sent: a new revision, so Send on the old preview is refused.
        turn.conversation.draft["followup"] = not turn.conversation.draft.get("followup")
        turn.conversation.draft["revision"] = int(turn.conversation.draft.get("revision", 0)) + 1
        await show_preview(turn)
    elif action.startswith(callbacks.TIP_SEND) and turn.step is Step.PREVIEW:
        revision = action.removeprefix(callbacks.TIP_SEND).lstrip(":")
        if revision and int(revision) != int(turn.conversation.draft.get("revision", 0)):
            # The reporter changed the tip after this preview: send only what they last saw.
            await show_preview(turn)
            return
        await _submit(turn)


async def cancel_draft(turn: Turn) -> None:
    object_id = turn.conversation.object_id
    turn.conversation.draft = {}
    turn.step = Step.BROWSING
    text = turn.gettext("Cancelled. Nothing was sent.")
    turn.say(text, keyboards.show_object(turn, object_id) if object_id else None)


def confirmation_text(gettext: Callable[[str], str], tip_id: int, *, followup: bool) -> str:
    """What a reporter is told once their tip is committed (follow-up is mentioned only if they allowed it)."""
    if not followup:
        return gettext("Thank you! Your tip has been saved. Its reference is <b>{reference}</b>.").format(
            reference=format_tip_reference(tip_id)
        )
    return gettext(
        "Thank you! Your tip has been saved. Its reference is <b>{reference}</b>. "
        "Investigators may ask a follow-up question here; your identity stays hidden from them."
    ).format(reference=format_tip_reference(tip_id))


async def _submit(turn: Turn) -> None:
    draft = turn.conversation.draft
    tip_id, created = await turn.uow.tips.submit(
        TipDraft(
            draft_token=draft["token"],
            object_id=int(draft["object_id"]),
            reporter_id=turn.reporter.id,
            campaign_id=turn.conversation.campaign_id,
            channel=turn.conversation.channel,
            recognised=bool(draft.get("recognised", True)),
            country_code=draft.get("country_code"),
            country_text=draft.get("country_text"),
            text_original=draft.get("text", ""),
            latitude=draft.get("latitude"),
            longitude=draft.get("longitude"),
            ui_language=turn.language,
            followup_consent=bool(draft.get("followup")),
        )
    )
    turn.conversation.draft = {}
    turn.step = Step.BROWSING
    if created:
        await funnel.count(turn, FunnelStep.TIP_SENT, int(draft["object_id"]))

        async def count_tip() -> None:  # queued, so it counts only once the commit succeeded
            TIPS_COMMITTED.inc()

        turn.later(count_tip, method="countTip")
    text = confirmation_text(turn.gettext, tip_id, followup=bool(draft.get("followup")))
    told = turn.say(text, keyboards.after_tip(turn, int(draft["object_id"])))
    after_tip_committed(turn, tip_id, told)


async def _take_details(turn: Turn, *, text: str | None = None, location: tuple[float, float] | None = None) -> None:
    draft = turn.conversation.draft
    if text is not None:
        draft["text"] = text
    if location is not None:
        draft["latitude"], draft["longitude"] = location
    draft["revision"] = int(draft.get("revision", 0)) + 1


@in_turn
async def on_text(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    message = update.effective_message
    text = (message.text or "").strip() if message else ""
    if not text or await urgent.take_text(turn, text):
        return
    step = turn.step
    if step in urgent.STEPS and _too_long(turn, text):
        return  # the urgent path is open before the opt-in too: ask for a shorter report, not the welcome
    if step is Step.STOPPED:
        turn.say(_("You have stopped receiving objects. Send /start whenever you want to come back."))
    elif step is Step.WELCOME or not turn.reporter.opted_in:
        turn.step = Step.WELCOME
        turn.say(welcome_text(turn), keyboards.opt_in(turn))
    elif _too_long(turn, text) or await followup.take_answer(turn, message, text):
        return
    elif step is Step.BROWSING:
        if turn.conversation.object_id is None:
            await browse.show_current_or_first(turn)
            return
        await _start_draft(turn, turn.conversation.object_id)
        await _take_details(turn, text=text)
        ask_country(turn, prefix=_("Thank you, I have noted that."))
    elif step in (Step.COUNTRY, Step.COUNTRY_TYPED):
        code = normalize_country(text)
        if code is not None:
            turn.conversation.draft["country_code"] = code
            turn.conversation.draft["country_text"] = text[:200]
            await _after_country(turn)
        elif step is Step.COUNTRY and len(text.split()) > 3 and not turn.conversation.draft.get("text"):
            await _take_details(turn, text=text)
            ask_country(turn, prefix=_("Thank you, I have noted that."))
        else:
            _not_a_country(turn, text)
    else:  # DETAILS or PREVIEW: the text is (a new version of) what they know.
        await _take_details(turn, text=text)
        await show_preview(turn)


@in_turn
async def on_location(update: Update, context: TracebotContext, turn: Turn) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    location = valid_location(message.location.latitude, message.location.longitude)
    if not turn.reporter.opted_in or turn.step in (Step.WELCOME, Step.STOPPED):
        turn.say(turn.gettext("Please send /start first."))
    elif location is None:
        turn.say(turn.gettext("Sorry, that is not a valid location. Please share a place on the map."))
    elif turn.step in (Step.ANSWERING, Step.ADDING):
        turn.say(turn.gettext("Please write your answer."))
    elif turn.step is Step.BROWSING and turn.conversation.object_id is not None:
        await _start_draft(turn, turn.conversation.object_id)
        await _take_details(turn, location=location)
        ask_country(turn, prefix=turn.gettext("Thank you, I have noted the location."))
    elif turn.step in (Step.DETAILS, Step.PREVIEW):
        await _take_details(turn, location=location)
        await show_preview(turn)
    elif turn.step in urgent.STEPS:
        urgent.remind(turn)
    else:
        await _take_details(turn, location=location)
        ask_country(turn, prefix=turn.gettext("Thank you, I have noted the location."))


def register(application: Application) -> None:  # type: ignore[type-arg]
    group = Group.CONVERSATION
    application.add_handler(CallbackQueryHandler(on_tip_start, pattern=callbacks.TIP_START_PATTERN), group)
    application.add_handler(CallbackQueryHandler(on_country, pattern=callbacks.COUNTRY_PATTERN), group)
    application.add_handler(CallbackQueryHandler(on_tip_action, pattern=callbacks.TIP_ACTION_PATTERN), group)
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text), group)
    application.add_handler(MessageHandler(filters.LOCATION, on_location), group)
