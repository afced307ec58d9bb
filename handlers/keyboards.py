"""Inline keyboards, built in the reporter's language."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers import callbacks
from handlers.followup import consent_button
from handlers.turn import Turn
from translations.countries import country_name, flag, suggested_countries


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def opt_in(turn: Turn) -> InlineKeyboardMarkup:
    _ = turn.gettext
    return InlineKeyboardMarkup([[_button(_("I understand, show me the objects"), callbacks.OPT_IN)]])


def object_card(turn: Turn, object_id: int) -> InlineKeyboardMarkup:
    _ = turn.gettext
    return InlineKeyboardMarkup(
        [
            [_button(_("I recognise this"), callbacks.with_id(callbacks.TIP_START, object_id))],
            [
                _button(_("◀ Previous"), callbacks.with_id(callbacks.OBJECT_PREVIOUS, object_id)),
                _button(_("Next ▶"), callbacks.with_id(callbacks.OBJECT_NEXT, object_id)),
            ],
            [_button(_("Stop"), callbacks.STOP)],
        ]
    )


def countries(turn: Turn, prefix: str = callbacks.COUNTRY) -> InlineKeyboardMarkup:
    """The country picker; `prefix` tells the tip's picker (with Cancel) from the urgent path's (without).

    Kept per language and picker: it is the same for everyone, and its CLDR names are slow to look up.
    """
    key = (turn.language, prefix)
    markup = _COUNTRY_PICKERS.get(key)
    if markup is None:
        markup = _COUNTRY_PICKERS[key] = _countries(turn, prefix)
    return markup


_COUNTRY_PICKERS: dict[tuple[str, str], InlineKeyboardMarkup] = {}


def _countries(turn: Turn, prefix: str) -> InlineKeyboardMarkup:
    _ = turn.gettext
    codes = suggested_countries(turn.language)
    buttons = [_button(f"{flag(code)} {country_name(code, turn.language)}", f"{prefix}:{code}") for code in codes]
    rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
    rows.append(
        [
            _button(_("Other…"), f"{prefix}:{callbacks.COUNTRY_OTHER}"),
            _button(_("I don't know"), f"{prefix}:{callbacks.COUNTRY_UNKNOWN}"),
        ]
    )
    if prefix == callbacks.COUNTRY:
        rows.append([_button(_("Cancel"), callbacks.TIP_CANCEL)])
    return InlineKeyboardMarkup(rows)


def help_screen(turn: Turn) -> InlineKeyboardMarkup:
    _ = turn.gettext
    return InlineKeyboardMarkup([[_button(_("I know of a child in danger"), callbacks.URGENT)]])


def details(turn: Turn, *, can_skip: bool) -> InlineKeyboardMarkup:
    _ = turn.gettext
    row = [_button(_("Cancel"), callbacks.TIP_CANCEL)]
    if can_skip:
        row.insert(0, _button(_("Nothing to add"), callbacks.TIP_SKIP_DETAILS))
    return InlineKeyboardMarkup([row])


def preview(turn: Turn, revision: int, *, followup: bool) -> InlineKeyboardMarkup:
    _ = turn.gettext
    return InlineKeyboardMarkup(
        [
            [consent_button(_, followup)],
            [_button(_("✅ Send"), f"{callbacks.TIP_SEND}:{revision}")],
            [_button(_("✏️ Edit"), callbacks.TIP_EDIT), _button(_("Cancel"), callbacks.TIP_CANCEL)],
        ]
    )


def after_tip(turn: Turn, object_id: int) -> InlineKeyboardMarkup:
    """Under a tip's confirmation; reporters who do not get news yet are offered it (see handlers.news)."""
    _ = turn.gettext
    rows = [
        [_button(_("Next object ▶"), callbacks.with_id(callbacks.OBJECT_NEXT, object_id))],
        [_button(_("Tell us more about this object"), callbacks.with_id(callbacks.TIP_START, object_id))],
    ]
    if not turn.reporter.wants_news:
        rows.append([_button(_("🔔 Tell me about new objects and results"), callbacks.NEWS_ON)])
    return InlineKeyboardMarkup(rows)


def show_object(turn: Turn, object_id: int) -> InlineKeyboardMarkup:
    _ = turn.gettext
    return InlineKeyboardMarkup([[_button(_("Show the object"), callbacks.with_id(callbacks.OBJECT_SHOW, object_id))]])
