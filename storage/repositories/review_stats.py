"""Aggregates for the dashboard: per-object tallies, statistics, and the catalog as moderators see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, ObjectStatus, Tip, TipStatus, TracedObject
from storage.repositories.review import TipQuery, apply_filters

Dimension = Literal["language", "country", "object", "campaign", "status"]
DIMENSIONS: tuple[Dimension, ...] = ("status", "language", "country", "object", "campaign")


@dataclass(frozen=True, slots=True)
class Tally:
    """One bar of a chart: a key (code or id), what to call it, and how many tips."""

    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    """How many tips match, and the biggest groups of them along each dimension."""

    total: int
    groups: dict[Dimension, list[Tally]]


@dataclass(frozen=True, slots=True)
class ObjectSummary:
    id: int
    reference: str
    question: str
    hint: str | None
    image_path: str
    status: str
    tips: int
    new_tips: int


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    id: int
    code: str
    title: str
    status: str
    tips: int


class ReviewStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _day(self) -> ColumnElement[Any]:
        # The day a tip arrived, in UTC whatever the server's or connection's time zone.
        if self._session.get_bind().dialect.name == "postgresql":
            return func.date(func.timezone("UTC", Tip.created_at))
        return func.date(Tip.created_at)

    async def per_day(self, query: TipQuery) -> list[Tally]:
        day = self._day().label("day")
        statement = apply_filters(select(day, func.count()).select_from(Tip), query).group_by(day).order_by(day)
        return [
            Tally(str(value)[:10], str(value)[:10], int(count))
            for value, count in (await self._session.execute(statement)).all()
        ]

    async def grouped(self, dimension: Dimension, query: TipQuery, limit: int = 50) -> list[Tally]:
        """Tip counts per language, country, object, campaign or status, biggest first."""
        count = func.count().label("n")
        statement: Select[Any, Any, int]
        if dimension == "object":
            statement = (
                select(TracedObject.id, TracedObject.reference, count)
                .select_from(Tip)
                # Outer: urgent reports about no object are a group too, as in `breakdown`.
                .outerjoin(TracedObject, TracedObject.id == Tip.object_id)
                .group_by(TracedObject.id, TracedObject.reference)
            )
        elif dimension == "campaign":
            statement = (
                select(Campaign.id, Campaign.code, count)
                .select_from(Tip)
                .outerjoin(Campaign, Campaign.id == Tip.campaign_id)
                .group_by(Campaign.id, Campaign.code)
            )
        else:
            column = {"language": Tip.language, "country": Tip.country_code, "status": Tip.status}[dimension]
            statement = select(column, column, count).select_from(Tip).group_by(column)
        statement = apply_filters(statement, query).order_by(count.desc()).limit(limit)
        rows = (await self._session.execute(statement)).all()
        return [Tally("" if key is None else str(key), label or "", int(n)) for key, label, n in rows]

    async def total(self, query: TipQuery) -> int:
        return int(await self._session.scalar(apply_filters(select(func.count()).select_from(Tip), query)) or 0)

    async def english_texts(self, object_id: int, limit: int = 5000) -> list[str]:
        """The newest translated (or English) texts about an object, for word counts."""
        statement = (
            select(Tip.text_english)
            .where(Tip.object_id == object_id, Tip.text_english.is_not(None), Tip.status != TipStatus.SPAM)
            .order_by(Tip.id.desc())
            .limit(limit)
        )
        return [text for text in await self._session.scalars(statement) if text]

    def _summaries(self, object_id: int | None = None) -> Select[TracedObject, int, int]:
        # Count per object first (an index-only scan of ix_tips_object_status_country), then join the
        # 200 objects: joining every tip to its object before grouping took 7x as long at a million.
        counts = select(
            Tip.object_id,
            func.count().label("tips"),
            func.count().filter(Tip.status == TipStatus.NEW).label("new_tips"),
        ).group_by(Tip.object_id)
        objects = select(TracedObject)
        if object_id is not None:
            counts, objects = counts.where(Tip.object_id == object_id), objects.where(TracedObject.id == object_id)
        tallies = counts.subquery()
        return (
            objects.add_columns(tallies.c.tips, tallies.c.new_tips)
            .outerjoin(tallies, tallies.c.object_id == TracedObject.id)
            .order_by(TracedObject.position, TracedObject.id)
        )

    async def objects(self) -> list[ObjectSummary]:
        return [_summary(row, total, new) for row, total, new in (await self._session.execute(self._summaries())).all()]

    async def object(self, object_id: int) -> ObjectSummary | None:
        found = (await self._session.execute(self._summaries(object_id))).first()
        return _summary(found[0], found[1], found[2]) if found is not None else None

    async def breakdown(self, query: TipQuery, limit: int = 20) -> Breakdown:
        """The total and the `limit` biggest groups per dimension, in one pass over the tips on PostgreSQL."""
        if self._session.get_bind().dialect.name != "postgresql":  # SQLite has no GROUPING SETS
            each = {dimension: await self.grouped(dimension, query, limit) for dimension in DIMENSIONS}
            return Breakdown(await self.total(query), each)
        columns = {
            "status": Tip.status,
            "language": Tip.language,
            "country": Tip.country_code,
            "object": Tip.object_id,
            "campaign": Tip.campaign_id,
        }
        flags = [func.grouping(column) for column in columns.values()]
        statement = apply_filters(select(*columns.values(), *flags, func.count()).select_from(Tip), query).group_by(
            func.grouping_sets(*columns.values(), text("()"))
        )
        total = 0
        found: dict[Dimension, list[tuple[Any, int]]] = {dimension: [] for dimension in DIMENSIONS}
        for row in (await self._session.execute(statement)).all():
            values, grouped_out, count = row[:5], row[5:10], int(row[10])
            if all(grouped_out):
                total = count
                continue
            index = grouped_out.index(0)
            found[DIMENSIONS[index]].append((values[index], count))
        # Objects and campaigns are shown by reference and code, as `grouped` joins them.
        names: dict[Dimension, dict[Any, str]] = {
            "object": await self._labels(TracedObject.id, TracedObject.reference),
            "campaign": await self._labels(Campaign.id, Campaign.code),
        }
        groups: dict[Dimension, list[Tally]] = {}
        for dimension, pairs in found.items():
            biggest = sorted(pairs, key=lambda pair: -pair[1])[:limit]
            groups[dimension] = [
                Tally(
                    "" if key is None else str(key),
                    names[dimension].get(key, "") if dimension in names else ("" if key is None else str(key)),
                    count,
                )
                for key, count in biggest
            ]
        return Breakdown(total, groups)

    async def _labels(self, key: Any, label: Any) -> dict[Any, str]:
        return {row[0]: row[1] for row in (await self._session.execute(select(key, label))).all()}

    async def set_object_status(self, object_id: int, status: ObjectStatus) -> str | None:
        """Change an object's status; returns the old one (None if there is no such object)."""
        old = await self._session.scalar(select(TracedObject.status).where(TracedObject.id == object_id))
        if old is not None and old != status:
            await self._session.execute(update(TracedObject).where(TracedObject.id == object_id).values(status=status))
        return old

    async def image_path(self, object_id: int) -> str | None:
        return await self._session.scalar(select(TracedObject.image_path).where(TracedObject.id == object_id))

    async def campaigns(self) -> list[CampaignSummary]:
        statement = (
            select(Campaign, func.count(Tip.id))
            .outerjoin(Tip, Tip.campaign_id == Campaign.id)
            .group_by(Campaign.id)
            .order_by(Campaign.code)
        )
        return [
            CampaignSummary(id=row.id, code=row.code, title=row.title, status=row.status, tips=int(n))
            for row, n in (await self._session.execute(statement)).all()
        ]

    async def filter_options(self) -> tuple[list[str], list[str]]:
        """Languages and countries that occur in tips (both indexed, so this stays cheap)."""
        languages = await self._session.scalars(
            select(Tip.language).where(Tip.language.is_not(None)).distinct().order_by(Tip.language)
        )
        countries = await self._session.scalars(
            select(Tip.country_code).where(Tip.country_code.is_not(None)).distinct().order_by(Tip.country_code)
        )
        return [value for value in languages if value], [value for value in countries if value]

    async def object_choices(self) -> list[tuple[int, str]]:
        rows = await self._session.execute(
            select(TracedObject.id, TracedObject.reference).order_by(TracedObject.position, TracedObject.id)
        )
        return [(object_id, reference) for object_id, reference in rows.all()]

    async def campaign_choices(self) -> list[tuple[int, str]]:
        rows = await self._session.execute(select(Campaign.id, Campaign.code).order_by(Campaign.code))
        return [(campaign_id, code) for campaign_id, code in rows.all()]


def _summary(row: TracedObject, total: int | None, new: int | None) -> ObjectSummary:
    return ObjectSummary(
        id=row.id,
        reference=row.reference,
        question=row.question,
        hint=row.hint,
        image_path=row.image_path,
        status=row.status,
        tips=int(total or 0),
        new_tips=int(new or 0),
    )
