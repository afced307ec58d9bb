"""Aggregates for the dashboard: per-object tallies, statistics, and the catalog as moderators see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, ObjectStatus, Tip, TipStatus, TracedObject
from storage.repositories.review import TipQuery, apply_filters

Dimension = Literal["language", "country", "object", "campaign", "status"]


@dataclass(frozen=True, slots=True)
class Tally:
    """One bar of a chart: a key (code or id), what to call it, and how many tips."""

    key: str
    label: str
    count: int


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
                .join(TracedObject, TracedObject.id == Tip.object_id)
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

    async def objects(self) -> list[ObjectSummary]:
        tips = func.count(Tip.id)
        new_tips = func.sum(case((Tip.status == TipStatus.NEW, 1), else_=0))
        statement = (
            select(TracedObject, tips, new_tips)
            .outerjoin(Tip, Tip.object_id == TracedObject.id)
            .group_by(TracedObject.id)
            .order_by(TracedObject.position, TracedObject.id)
        )
        return [
            ObjectSummary(
                id=row.id,
                reference=row.reference,
                question=row.question,
                hint=row.hint,
                image_path=row.image_path,
                status=row.status,
                tips=int(total or 0),
                new_tips=int(new or 0),
            )
            for row, total, new in (await self._session.execute(statement)).all()
        ]

    async def object(self, object_id: int) -> ObjectSummary | None:
        return next((item for item in await self.objects() if item.id == object_id), None)

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
