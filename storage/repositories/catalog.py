"""Objects and campaigns: what the public is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.hot import HotRepository, hot
from storage.models import Campaign, CampaignObject, CampaignStatus, ObjectStatus, TracedObject
from storage.records import CampaignRecord, ObjectRecord

_objects = cast(Table, TracedObject.__table__)
_GET_OBJECT = hot(
    select(
        _objects.c.id,
        _objects.c.reference,
        _objects.c.question,
        _objects.c.hint,
        _objects.c.image_path,
        _objects.c.telegram_file_id,
        _objects.c.status,
        _objects.c.translations,
    ).where(_objects.c.id == bindparam("object"))
)
_campaign_objects = cast(Table, CampaignObject.__table__)
_ACTIVE_IDS = hot(
    select(_objects.c.id)
    .where(_objects.c.status == ObjectStatus.ACTIVE.value)
    .order_by(_objects.c.position, _objects.c.id)
)
_CAMPAIGN_ACTIVE_IDS = hot(
    select(_objects.c.id)
    .join(_campaign_objects, _campaign_objects.c.object_id == _objects.c.id)
    .where(_objects.c.status == ObjectStatus.ACTIVE.value, _campaign_objects.c.campaign_id == bindparam("campaign"))
    .order_by(_campaign_objects.c.position, _objects.c.id)
)


def _object_record(row: Any) -> ObjectRecord:
    return ObjectRecord(
        id=row.id,
        reference=row.reference,
        question=row.question,
        hint=row.hint,
        image_path=row.image_path,
        telegram_file_id=row.telegram_file_id,
        status=row.status,
        translations=dict(row.translations or {}),
    )


def _campaign_record(row: Campaign) -> CampaignRecord:
    return CampaignRecord(
        id=row.id,
        code=row.code,
        title=row.title,
        status=row.status,
        all_active=row.all_active,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        intro=dict(row.intro or {}),
    )


@dataclass(frozen=True, slots=True)
class CampaignFields:
    """What the dashboard edits on a campaign."""

    code: str
    title: str
    status: CampaignStatus
    all_active: bool
    starts_on: date | None
    ends_on: date | None
    intro: dict[str, str]
    object_ids: list[int]


class ObjectRepository(HotRepository):
    async def get(self, object_id: int) -> ObjectRecord | None:
        # Core on the table, not `session.get`: turns look an object up on most updates. Edits made
        # through ORM rows earlier in this unit of work (the dashboard's) are written first.
        if self._hot.has_session and (self._session.new or self._session.dirty):
            await self._session.flush()
        row = await self._hot.first(_GET_OBJECT, {"object": object_id})
        return _object_record(row) if row else None

    async def by_reference(self, reference: str) -> ObjectRecord | None:
        row = await self._session.scalar(
            select(TracedObject).where(func.upper(TracedObject.reference) == reference.upper())
        )
        return _object_record(row) if row else None

    async def browsable(self, campaign_id: int | None) -> list[int]:
        """Ids of the active objects a reporter can page through, in display order.

        A campaign's own objects if it lists any still active; otherwise ("all active") every one.
        """
        if campaign_id is not None:
            ids = await self._hot.scalars(_CAMPAIGN_ACTIVE_IDS, {"campaign": campaign_id})
            if ids:
                return ids
        return await self._hot.scalars(_ACTIVE_IDS)

    async def neighbour(self, current_id: int | None, campaign_id: int | None, step: int) -> ObjectRecord | None:
        """The object `step` places after (or before, if negative) the current one, wrapping round."""
        ids = await self.browsable(campaign_id)
        if not ids:
            return None
        index = ids.index(current_id) + step if current_id in ids else 0
        return await self.get(ids[index % len(ids)])

    async def all(self) -> list[ObjectRecord]:
        """Every object, archived ones too, in display order (the dashboard's catalog)."""
        rows = await self._session.scalars(select(TracedObject).order_by(TracedObject.position, TracedObject.id))
        return [_object_record(row) for row in rows]

    async def create(
        self,
        *,
        reference: str,
        question: str,
        hint: str | None,
        translations: dict[str, dict[str, str]],
        image_path: str,
        image_sha256: str,
    ) -> ObjectRecord | None:
        """A new active object at the end of the list; None if the reference is taken."""
        if await self.by_reference(reference) is not None:
            return None
        last = await self._session.scalar(select(func.max(TracedObject.position)))
        row = TracedObject(
            reference=reference,
            question=question,
            hint=hint,
            image_path=image_path,
            image_sha256=image_sha256,
            position=(last or 0) + 1,
            status=ObjectStatus.ACTIVE,
            translations=translations,
        )
        self._session.add(row)
        await self._session.flush()
        return _object_record(row)

    async def edit(
        self, object_id: int, *, question: str, hint: str | None, translations: dict[str, dict[str, str]]
    ) -> bool:
        row = await self._session.get(TracedObject, object_id)
        if row is None:
            return False
        row.question, row.hint, row.translations = question, hint, translations
        return True

    async def set_image(self, object_id: int, image_path: str, image_sha256: str) -> bool:
        row = await self._session.get(TracedObject, object_id)
        if row is None:
            return False
        if row.image_sha256 != image_sha256:
            row.telegram_file_id = None  # Telegram's cached copy is of the old image.
        row.image_path, row.image_sha256 = image_path, image_sha256
        return True

    async def move(self, object_id: int, step: int) -> bool:
        """Swap an object with its neighbour in display order (step -1: up, +1: down)."""
        in_order = select(TracedObject.id).order_by(TracedObject.position, TracedObject.id)
        ids = list(await self._session.scalars(in_order))
        if object_id not in ids:
            return False
        index = ids.index(object_id)
        other = index + step
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
        for position, current in enumerate(ids):
            row = await self._session.get(TracedObject, current)
            if row is not None:
                row.position = position
        return True

    async def remember_file_id(self, object_id: int, file_id: str, image_path: str) -> None:
        """Keep Telegram's id of the sent image, unless the image was replaced while it was sent."""
        row = await self._session.get(TracedObject, object_id)
        if row is not None and row.image_path == image_path:
            row.telegram_file_id = file_id

    async def upsert(
        self,
        *,
        reference: str,
        question: str,
        hint: str | None,
        image_path: str,
        image_sha256: str,
        position: int,
        translations: dict[str, dict[str, str]] | None = None,
    ) -> tuple[ObjectRecord, bool]:
        """Create or update by reference; returns the record and whether anything changed."""
        row = await self._session.scalar(select(TracedObject).where(TracedObject.reference == reference))
        if row is None:
            row = TracedObject(
                reference=reference,
                question=question,
                hint=hint,
                image_path=image_path,
                image_sha256=image_sha256,
                position=position,
                status=ObjectStatus.ACTIVE,
                translations=translations or {},
            )
            self._session.add(row)
            await self._session.flush()
            return _object_record(row), True
        translations = translations or {}
        changed = (row.question, row.hint, row.image_sha256, row.position, row.translations or {}) != (
            question,
            hint,
            image_sha256,
            position,
            translations,
        )
        row.translations = translations
        if row.image_sha256 != image_sha256:
            row.telegram_file_id = None  # Telegram's cached copy is of the old image.
        row.question, row.hint, row.image_path, row.image_sha256, row.position = (
            question,
            hint,
            image_path,
            image_sha256,
            position,
        )
        await self._session.flush()
        return _object_record(row), changed


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_code(self, code: str) -> CampaignRecord | None:
        row = await self._session.scalar(select(Campaign).where(func.lower(Campaign.code) == code.lower()))
        return _campaign_record(row) if row else None

    async def get(self, campaign_id: int) -> CampaignRecord | None:
        row = await self._session.get(Campaign, campaign_id)
        return _campaign_record(row) if row else None

    async def all(self) -> list[CampaignRecord]:
        return [_campaign_record(row) for row in await self._session.scalars(select(Campaign).order_by(Campaign.code))]

    async def object_ids(self, campaign_id: int) -> list[int]:
        """The campaign's own objects in order (empty: "all active")."""
        return list(
            await self._session.scalars(
                select(CampaignObject.object_id)
                .where(CampaignObject.campaign_id == campaign_id)
                .order_by(CampaignObject.position)
            )
        )

    async def save(self, campaign_id: int | None, fields: CampaignFields) -> CampaignRecord | None:
        """Create (`campaign_id` None) or edit a campaign; None if the code belongs to another one."""
        taken = await self.by_code(fields.code)
        if taken is not None and taken.id != campaign_id:
            return None
        row = Campaign() if campaign_id is None else await self._session.get(Campaign, campaign_id)
        if row is None:
            return None
        row.code, row.title, row.status, row.all_active = fields.code, fields.title, fields.status, fields.all_active
        row.starts_on, row.ends_on, row.intro = fields.starts_on, fields.ends_on, dict(fields.intro)
        if campaign_id is None:
            self._session.add(row)
        await self._session.flush()
        await self._session.execute(delete(CampaignObject).where(CampaignObject.campaign_id == row.id))
        for position, object_id in enumerate([] if fields.all_active else fields.object_ids):
            self._session.add(CampaignObject(campaign_id=row.id, object_id=object_id, position=position))
        await self._session.flush()
        return _campaign_record(row)

    async def upsert(self, *, code: str, title: str, object_ids: list[int]) -> CampaignRecord:
        row = await self._session.scalar(select(Campaign).where(Campaign.code == code))
        if row is None:
            row = Campaign(code=code, title=title, status=CampaignStatus.ACTIVE, all_active=not object_ids)
            self._session.add(row)
            await self._session.flush()
        row.title = title
        await self._session.execute(delete(CampaignObject).where(CampaignObject.campaign_id == row.id))
        for position, object_id in enumerate(object_ids):
            self._session.add(CampaignObject(campaign_id=row.id, object_id=object_id, position=position))
        await self._session.flush()
        return _campaign_record(row)
