"""The safe path for abuse disclosures and emergencies: /urgent, the help-screen button, and detection.

Whoever says a child is in danger, by command, button or in their own words, is shown at once the
emergency number and child-protection contacts of their country (the country of their tip, else
asked with the country picker). What they write is stored as an urgent tip: flagged, first in the
queue, and announced to URGENT_ALERT_URL by its own alert loop (reference and link, never the text).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers import callbacks, keyboards
from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.submitted import after_tip_committed
from handlers.telegram_text import quote
from handlers.turn import Outgoing, Step, Turn, in_turn, resting_step
from storage.models import format_tip_reference
from storage.repositories import TipDraft
from translations.countries import is_country_code, normalize_country
from translations.safety.hotlines import Hotlines
from translations.safety.phrases import find_disclosure

STEPS = (Step.URGENT_COUNTRY, Step.URGENT_COUNTRY_TYPED, Step.URGENT_DETAILS)
# The tip flow's steps whose draft an urgent report takes over (object, country, location).
_DRAFT_STEPS = (Step.COUNTRY, Step.COUNTRY_TYPED, Step.DETAILS, Step.PREVIEW)
TIP_KEY = "urgent_tip_id"  # draft: the urgent tip stored while its country is being asked
COUNTRY_KEY = "urgent_country"  # draft: the country chosen after /urgent, for the report to come


def contacts_text(turn: Turn, country_code: str | None) -> str:
    """Who to call now, in the tipster's language: short, the emergency number first."""
    return contacts_message(turn.gettext, turn.context.services.hotlines, country_code)


def contacts_message(gettext: Callable[[str], str], hotlines: Hotlines, country_code: str | None) -> str:
    """`contacts_text` for code without a turn (the reference sweeper re-sending an urgent report's message)."""
    _ = gettext
    contacts = hotlines.for_country(country_code)
    if contacts is None:
        return _("<b>If a child is in danger now, call your local emergency number.</b>")
    lines = [_("<b>If a child is in danger now, call {number}.</b>").format(number=html.escape(contacts.emergency))]
    if contacts.child_helpline:
        lines.append(_("Child helpline: {number}").format(number=html.escape(contacts.child_helpline)))
    if contacts.hotline_url:
        lines.append(_("Report abuse images online: {url}").format(url=html.escape(str(contacts.hotline_url))))
    return "\n".join(lines)


def passed_as_urgent(gettext: Callable[[str], str], tip_id: int) -> str:
    return gettext("Your message was passed to investigators as urgent ({reference}).").format(
        reference=format_tip_reference(tip_id)
    )


async def _known_country(turn: Turn) -> str | None:
    """The country of the tip being written, else of the reporter's latest tip."""
    code = turn.conversation.draft.get("country_code") or turn.conversation.draft.get(COUNTRY_KEY)
    if isinstance(code, str) and is_country_code(code):
        return code
    return await turn.uow.tips.latest_country(turn.reporter.id)


def _ask_country(turn: Turn, first: str) -> Outgoing:
    turn.step = Step.URGENT_COUNTRY
    question = turn.gettext("Which country are you in?")
    return turn.say(f"{first}\n\n{question}", keyboards.countries(turn, prefix=callbacks.URGENT_COUNTRY))


def _continue_keyboard(turn: Turn) -> InlineKeyboardMarkup | None:
    object_id = turn.conversation.object_id
    if object_id is None or resting_step(turn) is not Step.BROWSING:
        return None  # no object image before the opt-in, nor after /stop
    return keyboards.show_object(turn, object_id)


async def _report(turn: Turn, text: str, origin: str) -> None:
    """Store `text` as an urgent tip (with the draft's object, country and location), then show the contacts."""
    draft = turn.conversation.draft
    in_draft = turn.step in _DRAFT_STEPS
    object_id = draft.get("object_id") if in_draft else None
    if object_id is None and turn.step is Step.BROWSING:
        object_id = turn.conversation.object_id  # wrote about the object on screen
    country = await _known_country(turn)
    tip_id, _created = await turn.uow.tips.submit(
        TipDraft(
            draft_token=str(uuid.uuid4()),
            object_id=int(object_id) if object_id is not None else None,
            reporter_id=turn.reporter.id,
            campaign_id=turn.conversation.campaign_id,
            recognised=True,
            country_code=country,
            country_text=draft.get("country_text") if in_draft else None,
            text_original=text,
            latitude=draft.get("latitude") if in_draft else None,
            longitude=draft.get("longitude") if in_draft else None,
            ui_language=turn.language,
            urgent=True,
            announce=bool(turn.context.services.settings.urgent_alert_url),
        )
    )
    turn.uow.audit.append(
        actor="tracebot", action="tip.urgent", target_type="tip", target_id=tip_id, details={"origin": origin}
    )
    passed = passed_as_urgent(turn.gettext, tip_id)
    if country is None:
        turn.conversation.draft = {TIP_KEY: tip_id}
        told = _ask_country(turn, f"{contacts_text(turn, None)}\n\n{passed}")
    else:
        turn.conversation.draft = {}
        turn.step = resting_step(turn)
        told = turn.say(f"{contacts_text(turn, country)}\n\n{passed}", _continue_keyboard(turn))
    after_tip_committed(turn, tip_id, told)


async def take_text(turn: Turn, text: str) -> bool:
    """Handle free text on the urgent path, or a disclosure in any step; False: not ours, go on."""
    if len(text) > turn.context.services.settings.max_tip_length:
        if find_disclosure(text) is not None:  # too long to store, but the contacts cannot wait
            turn.say(contacts_text(turn, await _known_country(turn)))
        return False  # the tip flow asks for a shorter message; the resent one comes back here
    step = turn.step
    if step is Step.URGENT_DETAILS:
        await _report(turn, text, origin="command")
        return True
    if step in (Step.URGENT_COUNTRY, Step.URGENT_COUNTRY_TYPED):
        code = normalize_country(text)
        if code is not None:
            await _country_chosen(turn, code)
            return True
        if TIP_KEY not in turn.conversation.draft and len(text.split()) > 3:
            await _report(turn, text, origin="command")  # wrote their report before naming a country
            return True
        if find_disclosure(text) is None:
            turn.say(
                turn.gettext(
                    "I could not match “{text}” to a country. Please check the spelling, or choose “I don't know”."
                ).format(text=quote(text, 100)),
                keyboards.countries(turn, prefix=callbacks.URGENT_COUNTRY),
            )
            turn.step = Step.URGENT_COUNTRY
            return True
    elif find_disclosure(text) is None:
        return False
    await _report(turn, text, origin="detected")
    return True


async def _country_chosen(turn: Turn, code: str | None) -> None:
    """Show the chosen country's contacts; then the stored report is complete, or /urgent asks what they know."""
    tip_id = turn.conversation.draft.get(TIP_KEY)
    if isinstance(tip_id, int) and code is not None:
        await turn.uow.tips.set_urgent_country(tip_id, turn.reporter.id, code)
    if isinstance(tip_id, int):
        turn.conversation.draft = {}
        turn.step = resting_step(turn)
        turn.say(contacts_text(turn, code), _continue_keyboard(turn))
        return
    _ask_details(turn, code)


def _ask_details(turn: Turn, code: str | None) -> None:
    turn.conversation.draft = {COUNTRY_KEY: code} if code else {}
    turn.step = Step.URGENT_DETAILS
    prompt = turn.gettext("Write here what you know. It goes straight to investigators, marked urgent.")
    turn.say(f"{contacts_text(turn, code)}\n\n{prompt}")


def remind(turn: Turn) -> None:
    """Show the current urgent step again (a redelivered update, or a location where text was asked)."""
    if turn.step is Step.URGENT_DETAILS:
        _ask_details(turn, turn.conversation.draft.get(COUNTRY_KEY))
    elif turn.step is Step.URGENT_COUNTRY_TYPED:
        turn.say(turn.gettext("Please type the name of the country."))
    else:
        _ask_country(turn, contacts_text(turn, None))


async def leave(turn: Turn) -> None:
    """/cancel on the urgent path: nothing is pending once a report is stored, so it only says so."""
    stored = TIP_KEY in turn.conversation.draft
    turn.conversation.draft = {}
    turn.step = resting_step(turn)
    if stored:
        turn.say(turn.gettext("There is nothing to cancel."))
    else:
        turn.say(turn.gettext("Cancelled. Nothing was sent."), _continue_keyboard(turn))


async def _start(turn: Turn, text: str) -> None:
    if text and len(text) <= turn.context.services.settings.max_tip_length:
        await _report(turn, text, origin="command")
        return
    code = await _known_country(turn)
    turn.conversation.draft = {}
    if code is None:
        _ask_country(turn, contacts_text(turn, None))
    else:
        _ask_details(turn, code)


@in_turn
async def on_urgent(update: Update, context: TracebotContext, turn: Turn) -> None:
    message = update.effective_message
    words = (message.text or "").split(maxsplit=1) if message else []
    await _start(turn, words[1].strip() if len(words) > 1 else "")


@in_turn
async def on_urgent_button(update: Update, context: TracebotContext, turn: Turn) -> None:
    turn.answer()
    await _start(turn, "")


@in_turn
async def on_urgent_country(update: Update, context: TracebotContext, turn: Turn) -> None:
    choice = (update.callback_query.data or "").split(":", 1)[-1] if update.callback_query else ""
    if turn.step not in (Step.URGENT_COUNTRY, Step.URGENT_COUNTRY_TYPED):
        turn.answer(turn.gettext("This button is no longer active."))
        return
    turn.answer()
    turn.clear_buttons()
    if choice == callbacks.COUNTRY_OTHER:
        turn.step = Step.URGENT_COUNTRY_TYPED
        turn.say(turn.gettext("Please type the name of the country."))
    elif choice == callbacks.COUNTRY_UNKNOWN:
        await _country_chosen(turn, None)
    elif is_country_code(choice):
        await _country_chosen(turn, choice)
    else:
        remind(turn)  # a forged button: only ISO 3166 codes are stored


def register(application: Application) -> None:  # type: ignore[type-arg]
    group = Group.CONVERSATION
    application.add_handler(CommandHandler("urgent", on_urgent), group)
    application.add_handler(CallbackQueryHandler(on_urgent_button, pattern=f"^{callbacks.URGENT}$"), group)
    application.add_handler(CallbackQueryHandler(on_urgent_country, pattern=callbacks.URGENT_COUNTRY_PATTERN), group)
