"""The moderators' view of tips: filtered keyset queues, detail, and the review workflow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Moderator, Reporter, Tip, TipNote, TipStatus, TracedObject, format_tip_reference
from storage.repositories.followup import answer_waiting, unread_count
from storage.repositories.search import search_condition

MAX_DUPLICATE_CHAIN = 50
SEARCH_WINDOW = 20_000  # tips scanned in id order before a search asks the trigram index (see _search_page)
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class TipQuery:
    """What a queue, an export or an API call is filtered by; empty fields do not filter."""

    statuses: tuple[str, ...] = ()
    object_id: int | None = None
    language: str | None = None
    country_code: str | None = None
    campaign_id: int | None = None
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    text: str | None = None  # matched against the masked search copy only
    assigned_to_id: int | None = None
    unassigned: bool = False
    urgent_only: bool = False
    answer_waiting: bool = False  # a reporter's answer or addition no moderator has marked read

    def without_status(self) -> TipQuery:
        return TipQuery(
            object_id=self.object_id,
            language=self.language,
            country_code=self.country_code,
            campaign_id=self.campaign_id,
            created_from=self.created_from,
            created_before=self.created_before,
            text=self.text,
            assigned_to_id=self.assigned_to_id,
            unassigned=self.unassigned,
            urgent_only=self.urgent_only,
            answer_waiting=self.answer_waiting,
        )


@dataclass(frozen=True, slots=True)
class ReviewTip:
    """A tip as a moderator sees it: never the reporter's pseudonym or chat id, only the alias."""

    id: int
    object_id: int | None  # None: an urgent report not about any object
    object_reference: str | None
    campaign_id: int | None
    campaign_code: str | None
    reporter_alias: str | None
    recognised: bool
    country_code: str | None
    country_text: str | None
    text_original: str
    latitude: float | None
    longitude: float | None
    ui_language: str
    language: str | None
    language_confidence: float | None
    text_english: str | None
    translation_status: str
    status: str
    created_at: datetime
    updated_at: datetime | None
    assigned_to_id: int | None
    assigned_to: str | None
    duplicate_of_id: int | None
    urgent: bool = False
    followup_consent: bool = False
    answers_waiting: int = 0  # unread answers and additions in the tip's follow-up thread

    @property
    def reference(self) -> str:
        return format_tip_reference(self.id)

    @property
    def duplicate_of_reference(self) -> str | None:
        return format_tip_reference(self.duplicate_of_id) if self.duplicate_of_id is not None else None


@dataclass(frozen=True, slots=True)
class NoteRecord:
    id: int
    tip_id: int
    author: str | None
    text: str
    created_at: datetime


# ReviewTip's fields, in order, as columns: tips' own, and four names from joined tables. Plain
# columns, not `Tip` entities: building ORM objects cost more than the query on every queue page
# and export batch.
_JOINED: dict[str, Any] = {
    "object_reference": TracedObject.reference,
    "campaign_code": Campaign.code,
    "reporter_alias": Reporter.alias,
    "assigned_to": Moderator.username,
    "answers_waiting": unread_count(Tip.id),
}
_COLUMNS = {
    field.name: (_JOINED[field.name] if field.name in _JOINED else getattr(Tip, field.name)).label(field.name)
    for field in fields(ReviewTip)
}
REVIEW_FIELDS = tuple(_COLUMNS)


def _review_query(names: Sequence[str] = REVIEW_FIELDS) -> Select[*tuple[Any, ...]]:
    return (
        select(*(_COLUMNS[name] for name in names))
        .select_from(Tip)
        .outerjoin(TracedObject, TracedObject.id == Tip.object_id)  # urgent reports may have none
        .outerjoin(Campaign, Campaign.id == Tip.campaign_id)
        .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
        .outerjoin(Moderator, Moderator.id == Tip.assigned_to_id)
    )


def apply_filters(statement: AnySelect, query: TipQuery) -> AnySelect:
    """Add the query's conditions on `Tip` columns to any statement selecting from tips."""
    if query.statuses:
        statement = statement.where(Tip.status.in_(query.statuses))
    if query.object_id is not None:
        statement = statement.where(Tip.object_id == query.object_id)
    if query.language:
        statement = statement.where(Tip.language == query.language)
    if query.country_code:
        statement = statement.where(Tip.country_code == query.country_code)
    if query.campaign_id is not None:
        statement = statement.where(Tip.campaign_id == query.campaign_id)
    if query.created_from is not None:
        statement = statement.where(Tip.created_at >= query.created_from)
    if query.created_before is not None:
        statement = statement.where(Tip.created_at < query.created_before)
    if query.text:
        # Only the masked copy is searched, for everyone: a hidden contact can never be matched.
        condition = search_condition(query.text)
        if condition is not None:
            statement = statement.where(condition)
    if query.assigned_to_id is not None:
        statement = statement.where(Tip.assigned_to_id == query.assigned_to_id)
    elif query.unassigned:
        statement = statement.where(Tip.assigned_to_id.is_(None))
    if query.urgent_only:
        statement = statement.where(Tip.urgent.is_(True))
    if query.answer_waiting:
        statement = statement.where(answer_waiting())  # type: ignore[arg-type]
    return statement


def _after_in_queue(urgent: bool, tip_id: int) -> ColumnElement[bool]:
    """Tips after (urgent, tip_id) in queue order: urgent first, then newest first."""
    if urgent:
        return or_(and_(Tip.urgent.is_(True), Tip.id < tip_id), Tip.urgent.is_(False))
    return and_(Tip.urgent.is_(False), Tip.id < tip_id)


def _before_in_queue(urgent: bool, tip_id: int) -> ColumnElement[bool]:
    if urgent:
        return and_(Tip.urgent.is_(True), Tip.id > tip_id)
    return or_(Tip.urgent.is_(True), and_(Tip.urgent.is_(False), Tip.id > tip_id))


def _review_tip(row: Sequence[Any]) -> ReviewTip:
    return ReviewTip(*row)


class ReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self,
        query: TipQuery,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 50,
        urgent_first: bool = True,
    ) -> list[ReviewTip]:
        """Up to `limit` tips in queue order (urgent first, then newest first): after the tip `before_id`
        in that order, or the ones just before the tip `after_id`. A cursor is a tip id; its urgency
        is looked up, so links keep their simple shape and stay valid if the flag never changes. A text
        search on PostgreSQL is the exception: newest first by id only (see `_search_page`), as is
        every page with `urgent_first=False` (the API, whose clients poll with `after=<newest id>`)."""
        rows = await self.page_rows(
            query, before_id=before_id, after_id=after_id, limit=limit, urgent_first=urgent_first
        )
        return [_review_tip(row) for row in rows]

    async def page_rows(
        self,
        query: TipQuery,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 50,
        urgent_first: bool = True,
        names: Sequence[str] = REVIEW_FIELDS,
    ) -> list[Row[Any]]:
        """`page` as plain rows of `ReviewTip`'s fields `names` (all, in order, by default), for exports.

        The statements run as Core on the session's connection (in its transaction; sessions do not
        autoflush, so nothing pending is written first): the rows are plain columns, and the ORM's
        result machinery cost more than the query (about 3 µs a row).
        """
        statement = apply_filters(_review_query(names), query).limit(limit)
        if query.text and self._session.get_bind().dialect.name == "postgresql":
            # Searches are in id order (see `_search_page`); their cursors are ids too.
            rows = await self._search_page(statement, before_id, after_id, limit)
            if after_id is not None:
                rows.reverse()
        elif not urgent_first:
            if after_id is not None:
                rows = await self._rows(statement.where(Tip.id > after_id).order_by(Tip.id))
                rows.reverse()
            else:
                if before_id is not None:
                    statement = statement.where(Tip.id < before_id)
                rows = await self._rows(statement.order_by(Tip.id.desc()))
        elif after_id is not None:
            urgent = bool(await self._session.scalar(select(Tip.urgent).where(Tip.id == after_id)))
            statement = statement.where(_before_in_queue(urgent, after_id)).order_by(Tip.urgent.asc(), Tip.id.asc())
            rows = await self._rows(statement)
            rows.reverse()
        else:
            if before_id is not None:
                urgent = bool(await self._session.scalar(select(Tip.urgent).where(Tip.id == before_id)))
                statement = statement.where(_after_in_queue(urgent, before_id))
            rows = await self._rows(statement.order_by(Tip.urgent.desc(), Tip.id.desc()))
        return rows

    async def _rows(self, statement: Select[*tuple[Any, ...]]) -> list[Row[Any]]:
        connection = await self._session.connection()
        return list((await connection.execute(statement)).all())

    async def _search_page(
        self, statement: Select[*tuple[Any, ...]], before_id: int | None, after_id: int | None, limit: int
    ) -> list[Row[Any]]:
        """A page of a text search on PostgreSQL, in whichever of two ways finds it fast.

        PostgreSQL guesses that 1% of tips match any LIKE pattern. For a rare word it then walked the
        primary key backwards through most of the table (0.96 s at a million tips); made to use the
        trigram index, it spent 2.6 s collecting a common word's 300,000 matches to keep 51. So the
        nearest `SEARCH_WINDOW` tips are scanned in order first, which fills the page for any word
        that is not rare; only if they do not, the trigram index finds the matches (`id + 0` cannot
        be read in order from the primary key, so the planner cannot walk it).
        """
        if after_id is not None:
            newer = statement.where(Tip.id > after_id)
            window = newer.where(Tip.id <= after_id + SEARCH_WINDOW).order_by(Tip.id)
            everywhere = newer.order_by((Tip.id + 0).asc())
        else:
            older = statement if before_id is None else statement.where(Tip.id < before_id)
            top = select(func.max(Tip.id) + 1).scalar_subquery() if before_id is None else before_id
            window = older.where(Tip.id >= top - SEARCH_WINDOW).order_by(Tip.id.desc())
            everywhere = older.order_by((Tip.id + 0).desc())
        rows = await self._rows(window)
        if len(rows) < limit:
            rows = await self._rows(everywhere)
        return rows

    async def get(self, tip_id: int) -> ReviewTip | None:
        row = (await self._session.execute(_review_query().where(Tip.id == tip_id))).first()
        return _review_tip(row) if row else None

    async def existing(self, tip_ids: Iterable[int]) -> dict[int, str]:
        """Status of each tip that exists among `tip_ids`."""
        ids = sorted(set(tip_ids))
        if not ids:
            return {}
        rows = await self._session.execute(select(Tip.id, Tip.status).where(Tip.id.in_(ids)))
        return {tip_id: status for tip_id, status in rows.all()}

    async def status_counts(self, query: TipQuery) -> dict[str, int]:
        """How many tips match the query in each status (the status filter itself is ignored)."""
        statement = apply_filters(select(Tip.status, func.count()).select_from(Tip), query.without_status())
        rows = await self._session.execute(statement.group_by(Tip.status))
        counts = {status.value: 0 for status in TipStatus}
        counts.update({status: int(count) for status, count in rows.all()})
        return counts

    async def other_tips_by_same_reporter(self, tip_id: int) -> int:
        reporter_id = await self._session.scalar(select(Tip.reporter_id).where(Tip.id == tip_id))
        if reporter_id is None:
            return 0
        count = await self._session.scalar(
            select(func.count()).select_from(Tip).where(Tip.reporter_id == reporter_id, Tip.id != tip_id)
        )
        return int(count or 0)

    async def set_status(self, tip_ids: Iterable[int], status: TipStatus) -> dict[int, str]:
        """Move tips to `status`; returns the previous status of each tip that changed.

        Leaving `duplicate` drops the duplicate link; entering it needs `link_duplicate`.
        """
        before = {tip_id: old for tip_id, old in (await self.existing(tip_ids)).items() if old != status}
        if before:
            values: dict[str, Any] = {"status": status}
            if status != TipStatus.DUPLICATE:
                values["duplicate_of_id"] = None
            await self._session.execute(update(Tip).where(Tip.id.in_(sorted(before))).values(**values))
        return before

    async def assign(self, tip_ids: Iterable[int], moderator_id: int | None) -> list[int]:
        """Assign tips (or unassign with None); returns the ids that changed."""
        ids = sorted(set(tip_ids))
        if not ids:
            return []
        condition = (
            Tip.assigned_to_id.is_(None) if moderator_id is None else Tip.assigned_to_id.is_distinct_from(moderator_id)
        )
        changed = list(await self._session.scalars(select(Tip.id).where(Tip.id.in_(ids), condition)))
        if changed:
            await self._session.execute(update(Tip).where(Tip.id.in_(changed)).values(assigned_to_id=moderator_id))
        return changed

    async def link_duplicate(self, tip_id: int, original_id: int) -> str:
        """Mark `tip_id` a duplicate of `original_id`; returns its old status.

        Raises `LookupError` if either tip is missing and `ValueError` if the link would make a loop.
        """
        statuses = await self.existing([tip_id, original_id])
        if tip_id not in statuses or original_id not in statuses:
            raise LookupError("no such tip")
        cursor: int | None = original_id
        for _ in range(MAX_DUPLICATE_CHAIN):
            if cursor is None:
                break
            if cursor == tip_id:
                raise ValueError("a tip cannot be a duplicate of itself or of its own duplicate")
            cursor = await self._session.scalar(select(Tip.duplicate_of_id).where(Tip.id == cursor))
        else:
            raise ValueError("the duplicate chain is too long")
        await self._session.execute(
            update(Tip).where(Tip.id == tip_id).values(status=TipStatus.DUPLICATE, duplicate_of_id=original_id)
        )
        return statuses[tip_id]

    async def duplicates_of(self, tip_id: int) -> list[int]:
        return list(await self._session.scalars(select(Tip.id).where(Tip.duplicate_of_id == tip_id).order_by(Tip.id)))

    async def add_note(self, tip_id: int, moderator_id: int, text: str) -> int:
        note = TipNote(tip_id=tip_id, moderator_id=moderator_id, text=text)
        self._session.add(note)
        await self._session.flush()
        return note.id

    async def notes(self, tip_id: int) -> list[NoteRecord]:
        rows = await self._session.execute(
            select(TipNote, Moderator.username)
            .outerjoin(Moderator, Moderator.id == TipNote.moderator_id)
            .where(TipNote.tip_id == tip_id)
            .order_by(TipNote.id)
        )
        return [
            NoteRecord(id=note.id, tip_id=note.tip_id, author=author, text=note.text, created_at=note.created_at)
            for note, author in rows.all()
        ]


class ReporterModeration:
    """Blocking a reporter, addressed through one of their tips (moderators never see who it is)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def blocked_for_tip(self, tip_id: int) -> bool | None:
        """Whether the tip's reporter is blocked; None when the reporter erased their data."""
        return await self._session.scalar(
            select(Reporter.blocked).join(Tip, Tip.reporter_id == Reporter.id).where(Tip.id == tip_id)
        )

    async def set_blocked_for_tip(self, tip_id: int, blocked: bool) -> bool:
        """Block or unblock the reporter of a tip; False when there is no reporter any more."""
        reporter_id = await self._session.scalar(select(Tip.reporter_id).where(Tip.id == tip_id))
        if reporter_id is None:
            return False
        await self._session.execute(update(Reporter).where(Reporter.id == reporter_id).values(blocked=blocked))
        return True
