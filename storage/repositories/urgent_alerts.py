"""The urgent alert outbox: which urgent tips still have to be announced to URGENT_ALERT_URL.

`urgent_alert_next_attempt_at` is the outbox, as `confirmation_next_attempt_at` is for references:
NULL once announced or given up on, otherwise when to try next. Claiming moves it forward by the
back-off, so two instances never post the same alert at once and a failing one waits its turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Tip, utcnow


@dataclass(frozen=True, slots=True)
class DueAlert:
    tip_id: int
    attempt: int  # 1 for the first try


class UrgentAlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim_due(
        self, now: datetime, retry_delay: Callable[[int], timedelta], limit: int = 20
    ) -> list[DueAlert]:
        """The alerts longest due, each rescheduled `retry_delay(attempt)` ahead (locked: one sender each)."""
        rows = (
            await self._session.execute(
                select(Tip.id, Tip.urgent_alert_attempts)
                .where(Tip.urgent_alert_next_attempt_at <= now)
                .order_by(Tip.urgent_alert_next_attempt_at, Tip.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        claimed = [DueAlert(tip_id, attempts + 1) for tip_id, attempts in rows]
        for alert in claimed:
            await self._session.execute(
                update(Tip)
                .where(Tip.id == alert.tip_id)
                .values(
                    urgent_alert_attempts=alert.attempt, urgent_alert_next_attempt_at=now + retry_delay(alert.attempt)
                )
            )
        return claimed

    async def mark_sent(self, tip_id: int) -> None:
        await self._session.execute(
            update(Tip).where(Tip.id == tip_id).values(urgent_alert_sent_at=utcnow(), urgent_alert_next_attempt_at=None)
        )

    async def give_up(self, tip_id: int, reason: str) -> None:
        await self._session.execute(
            update(Tip)
            .where(Tip.id == tip_id)
            .values(urgent_alert_failure=reason[:32], urgent_alert_next_attempt_at=None)
        )
