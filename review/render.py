"""Server-side rendering: the jinja2 environment (autoescaped) and the helpers templates use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jinja2
from aiohttp import web

from review.context import TEMPLATES, optional_session
from storage.models import ObjectStatus, TipStatus
from storage.pii import mask_contacts
from translations.countries import country_name, flag

STATUS_LABELS: dict[str, str] = {
    TipStatus.NEW: "New",
    TipStatus.IN_REVIEW: "In review",
    TipStatus.ACTIONABLE: "Actionable",
    TipStatus.FORWARDED: "Forwarded",
    TipStatus.NOT_USEFUL: "Not useful",
    TipStatus.DUPLICATE: "Duplicate",
    TipStatus.SPAM: "Spam",
}
TRANSLATION_LABELS = {
    "pending": "translation pending",
    "done": "translated",
    "not_needed": "no translation needed",
    "unsupported": "language not supported by the translator",
    "failed": "translation failed",
}
# Messages shown after an action, chosen by code so a link cannot make the page say anything else.
NOTICES = {
    "status": "Status changed.",
    "assigned": "Assignment updated.",
    "note": "Note added.",
    "duplicate": "Tip linked as a duplicate.",
    "bulk": "Selected tips updated.",
    "bulk_none": "No tips were selected.",
    "object_status": "Object status changed.",
    "object_saved": "Object saved.",
    "campaign_saved": "Campaign saved.",
    "account": "Account updated.",
    "logged_out": "You have signed out.",
    "question": "Question saved; the bot is delivering it.",
    "read": "Answers marked as read.",
    "announcement_saved": "Announcement saved.",
    "announcement_preview": "Preview queued for the preview chat.",
    "announcement_send": "Sending started.",
    "announcement_pause": "Sending paused.",
    "announcement_resume": "Sending resumed.",
    "announcement_cancel": "Announcement cancelled; messages already sent stay sent.",
}


def format_utc(value: datetime | None, with_seconds: bool = False) -> str:
    if value is None:
        return "–"
    pattern = "%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M"
    return value.astimezone(UTC).strftime(pattern) + " UTC"


def country_label(code: str | None) -> str:
    if not code:
        return "unknown"
    return f"{flag(code)} {country_name(code, 'en')}".strip()


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def build_templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        utc=format_utc,
        country=country_label,
        country_name=lambda code: country_name(code, "en") if code else "unknown",
        flag=lambda code: flag(code) if code else "",
        status_label=lambda status: STATUS_LABELS.get(status, status),
        translation_label=lambda status: TRANSLATION_LABELS.get(status, status),
        percent=percent,
        mask=mask_contacts,
    )
    environment.globals.update(
        STATUSES=list(TipStatus),
        STATUS_LABELS=STATUS_LABELS,
        OBJECT_STATUSES=list(ObjectStatus),
    )
    return environment


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """Render a page with the signed-in moderator, their CSRF token and any notice."""
    session = optional_session(request)
    notice = NOTICES.get(request.query.get("notice", ""))
    body = (
        request.config_dict[TEMPLATES]
        .get_template(template)
        .render(
            me=session.moderator if session else None,
            csrf_token=session.csrf_token if session else "",
            current_path=request.path,
            notice=notice,
            now=datetime.now(UTC),
            **context,
        )
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", status=status, title=title, message=message)


def see_other(location: str) -> web.Response:
    """A 303 redirect as a response (so cookies can be set on it)."""
    return web.Response(status=303, headers={"Location": location})


def with_notice(url: str, notice: str) -> str:
    """`url` with its `notice` parameter replaced by `notice`."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "notice"]
    query.append(("notice", notice))
    return urlunsplit(parts._replace(query=urlencode(query)))
