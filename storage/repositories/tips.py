"""Tips: what reporters tell us. Submission is idempotent per draft."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from storage.hot import HotRepository, hot
from storage.models import Reporter, Tip, TranslationStatus, utcnow
from storage.repositories.review import ReviewRepository, ReviewTip
from storage.repositories.search import search_values
from storage.repositories.upsert import insert_on


@dataclass(frozen=True, slots=True)
class TipDraft:
    """Everything a reporter confirmed on the preview screen."""

    draft_token: str
    object_id: int | None  # None only for an urgent report sent with /urgent
    reporter_id: int
    campaign_id: int | None
    recognised: bool
    country_code: str | None
    country_text: str | None
    text_original: str
    latitude: float | None
    longitude: float | None
    ui_language: str
    urgent: bool = False
    announce: bool = False  # put the urgent alert in its outbox (URGENT_ALERT_URL is set)
    followup_consent: bool = False  # may investigators ask follow-up questions about it?
    channel: str | None = None  # the channel tag of the link the reporter came through


_TIPS = cast(Table, Tip.__table__)


@functools.cache
def _submit(dialect: str, columns: tuple[str, ...]) -> Any:
    # Built once (Core on the table): every tip goes through here in a turn. One statement, which
    # stores nothing for a draft token already used.
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in columns}
    statement = insert_on(dialect, _TIPS).values(**values)
    return hot(statement.on_conflict_do_nothing(index_elements=["draft_token"]).returning(_TIPS.c.id))


_CONFIRMED = hot(
    update(_TIPS)
    .where(_TIPS.c.id == bindparam("tip"))
    .values(confirmed_at=bindparam("at"), confirmation_next_attempt_at=None)
)


class TipRepository(HotRepository):
    async def submit(self, draft: TipDraft) -> tuple[int, bool]:
        """Store the tip once per draft token; returns (tip id, created now?)."""
        values = dict(
            draft_token=draft.draft_token,
            object_id=draft.object_id,
            reporter_id=draft.reporter_id,
            campaign_id=draft.campaign_id,
            channel=draft.channel,
            recognised=draft.recognised,
            country_code=draft.country_code,
            country_text=draft.country_text,
            text_original=draft.text_original,
            latitude=draft.latitude,
            longitude=draft.longitude,
            ui_language=draft.ui_language,
            followup_consent=draft.followup_consent,
            followup_consent_at=utcnow() if draft.followup_consent else None,
            translation_status=TranslationStatus.PENDING
            if draft.text_original.strip()
            else TranslationStatus.NOT_NEEDED,
            **search_values(draft.text_original, None),
            urgent=draft.urgent,
            urgent_alert_next_attempt_at=utcnow() if draft.urgent and draft.announce else None,
        )
        statement = _submit(self._hot.dialect_name, tuple(values))
        tip_id = await self._hot.scalar(statement, {f"new_{name}": value for name, value in values.items()})
        if tip_id is not None:
            return tip_id, True
        # The draft was sent before (a double tap, a redelivered update): the tip it made.
        tips = cast(Table, Tip.__table__)
        existing = await self._session.scalar(select(tips.c.id).where(tips.c.draft_token == draft.draft_token))
        if existing is None:
            raise LookupError("the draft was sent before, but its tip is gone (rolled back meanwhile?)")
        return existing, False

    async def latest_country(self, reporter_id: int) -> str | None:
        """The country the reporter chose in their latest tip that names one."""
        return await self._session.scalar(
            select(Tip.country_code)
            .where(Tip.reporter_id == reporter_id, Tip.country_code.is_not(None))
            .order_by(Tip.id.desc())
            .limit(1)
        )

    async def set_urgent_country(self, tip_id: int, reporter_id: int, country_code: str) -> None:
        """Record the country a tipster chose after their urgent report was stored (theirs only)."""
        await self._session.execute(
            update(Tip)
            .where(Tip.id == tip_id, Tip.reporter_id == reporter_id, Tip.urgent.is_(True), Tip.country_code.is_(None))
            .values(country_code=country_code)
        )

    async def get(self, tip_id: int) -> ReviewTip | None:
        """The tip with its object, campaign and reporter alias, as the dashboard shows it."""
        return await ReviewRepository(self._session).get(tip_id)


@dataclass(frozen=True, slots=True)
class DueConfirmation:
    """A committed tip whose reference may not have reached its reporter, claimed for one attempt."""

    tip_id: int
    attempt: int  # 1 for the sweeper's first try
    chat_id_encrypted: str | None  # None: the reporter erased their data
    language: str | None
    followup_consent: bool = False  # what the reference message says about follow-up questions
    reporter_id: int | None = None  # the send limiter's per-chat key
    urgent: bool = False  # an urgent report: its message carries the emergency contacts
    country_code: str | None = None


@dataclass(frozen=True, slots=True)
class UndeliveredConfirmation:
    failed_at: datetime
    reason: str


class TipConfirmations(HotRepository):
    """Which committed tips their reporter has been told about (the confirmation outbox).

    `confirmation_next_attempt_at` is the outbox: NULL once the reference was delivered or given
    up on, otherwise when to try next. Claiming moves it forward by the back-off, so a tip that
    keeps failing goes to the back of the line instead of blocking the ones behind it.
    """

    async def mark_confirmed(self, tip_id: int) -> None:
        await self._hot.execute(_CONFIRMED, {"tip": tip_id, "at": utcnow()})  # right after every tip

    async def mark_undeliverable(self, tip_id: int, reason: str) -> None:
        """Give up: the reference can never reach the reporter (`reason` is a short class, no details)."""
        await self._session.execute(
            update(Tip)
            .where(Tip.id == tip_id, Tip.confirmed_at.is_(None))
            .values(
                confirmation_failed_at=utcnow(), confirmation_failure=reason[:32], confirmation_next_attempt_at=None
            )
        )

    async def claim_due(
        self, now: datetime, created_before: datetime, retry_delay: Callable[[int], timedelta], limit: int = 50
    ) -> list[DueConfirmation]:
        """The `limit` tips longest due, each rescheduled `retry_delay(attempt)` ahead (locked: one sender each)."""
        rows = (
            await self._session.execute(
                select(
                    Tip.id,
                    Tip.confirmation_attempts,
                    Reporter.chat_id_encrypted,
                    Reporter.language,
                    Tip.followup_consent,
                    Tip.reporter_id,
                    Tip.urgent,
                    Tip.country_code,
                )
                .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
                .where(
                    Tip.confirmation_next_attempt_at <= now,
                    Tip.confirmed_at.is_(None),
                    Tip.created_at < created_before,
                )
                .order_by(Tip.confirmation_next_attempt_at, Tip.id)
                .limit(limit)
                .with_for_update(of=Tip, skip_locked=True)
            )
        ).all()
        claimed = [
            DueConfirmation(tip_id, attempts + 1, chat, language, bool(consent), reporter_id, bool(urgent), country)
            for tip_id, attempts, chat, language, consent, reporter_id, urgent, country in rows
        ]
        by_attempt: dict[int, list[int]] = {}
        for item in claimed:
            by_attempt.setdefault(item.attempt, []).append(item.tip_id)
        for attempt, tip_ids in by_attempt.items():
            await self._session.execute(
                update(Tip)
                .where(Tip.id.in_(tip_ids))
                .values(confirmation_attempts=attempt, confirmation_next_attempt_at=now + retry_delay(attempt))
            )
        return claimed

    async def undelivered(self, tip_id: int) -> UndeliveredConfirmation | None:
        """When and why the tip's reference could not be delivered, if it could not."""
        row = (
            await self._session.execute(
                select(Tip.confirmation_failed_at, Tip.confirmation_failure).where(Tip.id == tip_id)
            )
        ).first()
        if row is None or row[0] is None:
            return None
        return UndeliveredConfirmation(row[0], row[1] or "unknown")
