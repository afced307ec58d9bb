"""The outbox: one row per proactive message, committed before anything is sent.

Enqueueing is idempotent (`dedupe_key` is unique, inserts skip existing keys). Workers claim rows
with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE). A
row moves queued → claimed → sending → sent/failed; "sending" is committed before the Bot API
call, so a worker killed mid-send leaves it "sending", and `recover` turns it into "interrupted"
instead of sending it again (at most once: a repeated announcement is worse than a missing one,
and Telegram offers no way to ask whether a message arrived).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announcement, AnnouncementState, OutboxMessage, OutboxState, Reporter, Tip
from storage.repositories.upsert import insert_for

ANNOUNCEMENT = "announcement"
THANKS = "thanks"
PREVIEW = "preview"
UNSUBSCRIBED = "unsubscribed"  # the failure of news whose reporter no longer wants it
_TERMINAL = (OutboxState.SENT, OutboxState.FAILED, OutboxState.INTERRUPTED, OutboxState.CANCELLED)


@dataclass(frozen=True, slots=True)
class OutboxJob:
    id: int
    kind: str
    reporter_id: int | None  # None: a preview
    chat_id_encrypted: str | None
    language: str
    announcement_id: int | None
    payload: dict[str, Any]
    attempts: int
    claimed_until: datetime


def _news_recipients() -> Any:
    """Who may receive news: asked for it, opted in, has not stopped, is not blocked and can be reached."""
    return and_(
        Reporter.wants_news.is_(True),
        Reporter.blocked.is_(False),
        Reporter.opted_in_at.is_not(None),
        Reporter.stopped_at.is_(None),
        Reporter.chat_id_encrypted.is_not(None),
    )


def _still_wanted() -> Any:
    """Previews always; news only while its reporter is still one of `_news_recipients`."""
    return or_(
        OutboxMessage.kind.not_in((ANNOUNCEMENT, THANKS)),
        exists().where(Reporter.id == OutboxMessage.reporter_id, _news_recipients()),
    )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue_announcement(self, announcement_id: int, now: datetime) -> int:
        """Queue the announcement for every reporter who wants news (again: adds only newcomers)."""
        recipients = select(
            literal(ANNOUNCEMENT),
            literal(f"{ANNOUNCEMENT}:{announcement_id}:") + cast(Reporter.id, String),
            Reporter.id,
            literal(announcement_id),
            literal({}, type_=OutboxMessage.payload.type),
            literal(OutboxState.QUEUED.value),
            literal(0),
            literal(now, type_=OutboxMessage.next_attempt_at.type),
            literal(now, type_=OutboxMessage.created_at.type),
        ).where(_news_recipients())
        return await self._insert(recipients)

    async def enqueue_thanks(self, object_id: int, now: datetime) -> int:
        """Queue a thank-you to each reporter with a tip about the object who wants news (once each)."""
        tipsters = (
            select(Tip.reporter_id).where(Tip.object_id == object_id, Tip.reporter_id.is_not(None)).distinct()
        ).scalar_subquery()
        recipients = select(
            literal(THANKS),
            literal(f"{THANKS}:{object_id}:") + cast(Reporter.id, String),
            Reporter.id,
            literal(None, type_=OutboxMessage.announcement_id.type),
            literal({"object_id": object_id}, type_=OutboxMessage.payload.type),
            literal(OutboxState.QUEUED.value),
            literal(0),
            literal(now, type_=OutboxMessage.next_attempt_at.type),
            literal(now, type_=OutboxMessage.created_at.type),
        ).where(_news_recipients(), Reporter.id.in_(tipsters))
        return await self._insert(recipients)

    async def enqueue_preview(self, announcement_id: int, language: str, now: datetime) -> None:
        """One preview of the announcement in `language`, for the preview chat (any state)."""
        self._session.add(
            OutboxMessage(
                kind=PREVIEW,
                dedupe_key=f"{PREVIEW}:{announcement_id}:{uuid.uuid4().hex}",
                reporter_id=None,
                announcement_id=announcement_id,
                payload={"language": language},
                state=OutboxState.QUEUED,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        await self._session.flush()

    async def _insert(self, recipients: Any) -> int:
        columns = [
            "kind",
            "dedupe_key",
            "reporter_id",
            "announcement_id",
            "payload",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
        ]
        statement = (
            insert_for(self._session, OutboxMessage)
            .from_select(columns, recipients)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = await self._session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim(self, now: datetime, lease: timedelta, limit: int = 1) -> list[OutboxJob]:
        """Take due rows (announcements only while they are being sent); commit to publish the claim.

        News whose reporter unsubscribed, stopped or was blocked since it was queued is marked failed
        ("unsubscribed") instead, so fewer than `limit` jobs (even none) may come back.
        """
        sending = exists().where(
            Announcement.id == OutboxMessage.announcement_id, Announcement.state == AnnouncementState.SENDING
        )
        rows = (
            (
                await self._session.execute(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.state == OutboxState.QUEUED,
                        OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.announcement_id.is_(None), OutboxMessage.kind == PREVIEW, sending),
                    )
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return []
        # News queued before a /news off, /stop or a ban is dropped here, not sent.
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(rows), ~_still_wanted())
            .values(state=OutboxState.FAILED, failure=UNSUBSCRIBED, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        until = now + lease
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(rows), OutboxMessage.state == OutboxState.QUEUED)
            .values(state=OutboxState.CLAIMED, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        found = await self._session.execute(
            select(OutboxMessage, Reporter.chat_id_encrypted, Reporter.language)
            .outerjoin(Reporter, Reporter.id == OutboxMessage.reporter_id)
            .where(OutboxMessage.id.in_(rows), OutboxMessage.state == OutboxState.CLAIMED)
            .order_by(OutboxMessage.id)
        )
        return [
            OutboxJob(
                id=row.id,
                kind=row.kind,
                reporter_id=row.reporter_id,
                chat_id_encrypted=encrypted,
                language=language or str((row.payload or {}).get("language", "en")),
                announcement_id=row.announcement_id,
                payload=dict(row.payload or {}),
                attempts=row.attempts,
                claimed_until=until,
            )
            for row, encrypted, language in found.all()
        ]

    async def mark_sending(self, job: OutboxJob, now: datetime, lease: timedelta) -> bool:
        """Record that the send starts; False if the claim was lost or the announcement paused meanwhile."""
        still_sending = or_(
            OutboxMessage.announcement_id.is_(None),
            OutboxMessage.kind == PREVIEW,
            exists().where(
                Announcement.id == OutboxMessage.announcement_id, Announcement.state == AnnouncementState.SENDING
            ),
        )
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == job.id,
                OutboxMessage.state == OutboxState.CLAIMED,
                OutboxMessage.claimed_until == job.claimed_until,
                still_sending,
                _still_wanted(),  # they may have unsubscribed while the row waited for the limiter
            )
            .values(state=OutboxState.SENDING, attempts=OutboxMessage.attempts + 1, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unclaim(self, job: OutboxJob) -> None:
        """Give our claim back untouched (nothing was sent); a claim another worker holds by now stays."""
        await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == job.id,
                OutboxMessage.state == OutboxState.CLAIMED,
                OutboxMessage.claimed_until == job.claimed_until,
            )
            .values(state=OutboxState.QUEUED, claimed_until=None)
            .execution_options(synchronize_session=False)
        )

    async def mark_sent(self, job_id: int, now: datetime) -> None:
        await self._set(job_id, OutboxState.SENDING, state=OutboxState.SENT, sent_at=now, claimed_until=None)

    async def retry_at(self, job_id: int, at: datetime, failure: str) -> None:
        """Telegram certainly did not take it (429, 5xx before delivery): queue it again."""
        await self._set(
            job_id,
            OutboxState.SENDING,
            state=OutboxState.QUEUED,
            next_attempt_at=at,
            failure=failure,
            claimed_until=None,
        )

    async def mark_failed(self, job_id: int, failure: str, *, state: OutboxState = OutboxState.FAILED) -> None:
        await self._set(job_id, OutboxState.SENDING, state=state, failure=failure[:32], claimed_until=None)

    async def _set(self, job_id: int, expected: OutboxState, **values: Any) -> None:
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == job_id, OutboxMessage.state == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def recover(self, now: datetime) -> tuple[int, int]:
        """Rows of workers that died: claims go back to the queue, sends in doubt become "interrupted"."""
        requeued = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.CLAIMED, OutboxMessage.claimed_until < now)
            .values(state=OutboxState.QUEUED, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        interrupted = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_until < now)
            .values(state=OutboxState.INTERRUPTED, failure="interrupted", claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(requeued, "rowcount", 0) or 0), int(getattr(interrupted, "rowcount", 0) or 0)

    async def cancel_queued(self, announcement_id: int) -> int:
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.announcement_id == announcement_id,
                OutboxMessage.kind == ANNOUNCEMENT,
                OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.CLAIMED]),
            )
            .values(state=OutboxState.CANCELLED, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def progress(self, announcement_id: int) -> dict[str, int]:
        """Rows per state for one announcement (previews not counted)."""
        rows = await self._session.execute(
            select(OutboxMessage.state, func.count())
            .where(OutboxMessage.announcement_id == announcement_id, OutboxMessage.kind == ANNOUNCEMENT)
            .group_by(OutboxMessage.state)
        )
        return {state: int(count) for state, count in rows.all()}

    async def sent_since(self, announcement_id: int, since: datetime) -> int:
        """Rows sent after `since` (the dashboard's rate)."""
        count = await self._session.scalar(
            select(func.count()).where(
                OutboxMessage.announcement_id == announcement_id,
                OutboxMessage.kind == ANNOUNCEMENT,
                OutboxMessage.state == OutboxState.SENT,
                OutboxMessage.sent_at >= since,
            )
        )
        return int(count or 0)

    async def last_preview(self, announcement_id: int) -> tuple[str, str | None] | None:
        """The state (and failure) of the announcement's latest preview, if any."""
        row = (
            await self._session.execute(
                select(OutboxMessage.state, OutboxMessage.failure)
                .where(OutboxMessage.announcement_id == announcement_id, OutboxMessage.kind == PREVIEW)
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        ).first()
        return (row.state, row.failure) if row is not None else None

    async def finish_announcements(self) -> list[int]:
        """Announcements being sent with no row left to send become "done"."""
        open_rows = exists().where(
            OutboxMessage.announcement_id == Announcement.id,
            OutboxMessage.kind == ANNOUNCEMENT,
            OutboxMessage.state.not_in(_TERMINAL),
        )
        ids = (
            (
                await self._session.execute(
                    select(Announcement.id).where(Announcement.state == AnnouncementState.SENDING, ~open_rows)
                )
            )
            .scalars()
            .all()
        )
        if ids:
            await self._session.execute(
                update(Announcement).where(Announcement.id.in_(ids)).values(state=AnnouncementState.DONE)
            )
        return list(ids)
