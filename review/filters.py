"""Turn query strings into validated filters. Anything malformed is a 400, never a database error."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from storage.models import TipStatus, parse_tip_reference
from storage.repositories.review import TipQuery

MAX_ID = 2**31 - 1  # tips.id is a 32-bit INTEGER on PostgreSQL
MAX_SEARCH = 200
OPEN = "open"  # pseudo-status: new or in review
OPEN_STATUSES = (TipStatus.NEW.value, TipStatus.IN_REVIEW.value)
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,4})?")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_ID = re.compile(r"\d{1,10}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class FilterError(ValueError):
    """A filter value is malformed; the message says which and why, for a 400 page."""


def parse_id(value: str | None, name: str) -> int | None:
    """A positive database id, or None for an empty value."""
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not _ID.fullmatch(value) or not 0 < int(value) <= MAX_ID:
        raise FilterError(f"{name} must be a positive whole number")
    return int(value)


def path_id(request: web.Request, key: str) -> int:
    """The id in the route's `{key}` part; an id that cannot exist is a 404 like a missing row."""
    try:
        found = parse_id(request.match_info[key], key)
    except FilterError:
        found = None
    if found is None:
        raise web.HTTPNotFound()
    return found


def parse_tip_id(value: str | None) -> int | None:
    """A tip given as `T-000123` or `123`."""
    if value is None or not value.strip():
        return None
    reference = parse_tip_reference(value)
    if reference is not None:
        if not 0 < reference <= MAX_ID:
            raise FilterError("no such tip reference")
        return reference
    return parse_id(value, "tip")


def parse_day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip()[:10]) if len(value.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2999:
        raise FilterError(f"{name} must be a date like 2025-01-31")
    return day


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TipFilters:
    """The queue filters as typed (strings, for refilling the form) once validated."""

    status: str = ""
    object: str = ""
    language: str = ""
    country: str = ""
    campaign: str = ""
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    assigned: str = ""
    urgent: str = ""  # "1": urgent tips only
    answer: str = ""  # "waiting": only tips with a follow-up answer no moderator has read

    def params(self, **changes: str) -> dict[str, str]:
        """Non-empty filters as query parameters, with `changes` applied."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values.update(changes)
        return {key: value for key, value in values.items() if value}

    def query_string(self, **changes: str) -> str:
        return urlencode(self.params(**changes))

    def with_status(self, status: str) -> TipFilters:
        return replace(self, status=status)

    @property
    def active(self) -> bool:
        return bool(self.params(status=""))

    def to_query(self, moderator_id: int | None = None) -> TipQuery:
        """The repository query; `assigned=me` needs the signed-in moderator's id."""
        date_from, date_to = parse_day(self.date_from, "from"), parse_day(self.date_to, "to")
        statuses: tuple[str, ...] = ()
        if self.status == OPEN:
            statuses = OPEN_STATUSES
        elif self.status:
            statuses = (self.status,)
        return TipQuery(
            statuses=statuses,
            object_id=parse_id(self.object, "object"),
            language=self.language or None,
            country_code=self.country or None,
            campaign_id=parse_id(self.campaign, "campaign"),
            created_from=start_of(date_from) if date_from else None,
            created_before=start_of(date_to) + timedelta(days=1) if date_to else None,
            text=self.q or None,
            assigned_to_id=moderator_id if self.assigned == "me" else None,
            unassigned=self.assigned == "none",
            urgent_only=self.urgent == "1",
            answer_waiting=self.answer == "waiting",
        )


def parse_filters(query: MultiMapping[str]) -> TipFilters:
    """Validate the filter parameters of a queue, export, statistics or API request."""
    status = query.get("status", "").strip()
    if status and status != OPEN and status not in {item.value for item in TipStatus}:
        raise FilterError("unknown status")
    language = query.get("language", "").strip()
    if language and not _LANGUAGE.fullmatch(language):
        raise FilterError("language must be a code like de or pt-BR")
    country = query.get("country", "").strip()
    if country and not _COUNTRY.fullmatch(country):
        raise FilterError("country must be a two-letter code like DE")
    search = query.get("q", "").strip()
    if len(search) > MAX_SEARCH:
        raise FilterError(f"search text must be at most {MAX_SEARCH} characters")
    if _CONTROL.search(search):
        raise FilterError("search text contains control characters")
    assigned = query.get("assigned", "").strip()
    if assigned not in ("", "me", "none"):
        raise FilterError("assigned must be me or none")
    urgent = query.get("urgent", "").strip()
    if urgent not in ("", "1"):
        raise FilterError("urgent must be 1 or empty")
    answer = query.get("answer", "").strip()
    if answer not in ("", "waiting"):
        raise FilterError("answer must be waiting")
    filters = TipFilters(
        status=status,
        object=query.get("object", "").strip(),
        language=language,
        country=country.upper(),
        campaign=query.get("campaign", "").strip(),
        date_from=query.get("date_from", "").strip(),
        date_to=query.get("date_to", "").strip(),
        q=search,
        assigned=assigned,
        urgent=urgent,
        answer=answer,
    )
    parsed = filters.to_query()  # validates ids and dates
    if parsed.created_from and parsed.created_before and parsed.created_from >= parsed.created_before:
        raise FilterError("the start date is after the end date")
    return filters


@dataclass(frozen=True, slots=True)
class Cursor:
    before: int | None = None
    after: int | None = None


def parse_cursor(query: MultiMapping[str]) -> Cursor:
    before, after = parse_id(query.get("before"), "before"), parse_id(query.get("after"), "after")
    if before is not None and after is not None:
        raise FilterError("give before or after, not both")
    return Cursor(before, after)
