"""Sign-in failure counters, locked row by row so concurrent attempts are decided one at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginThrottle
from storage.repositories.upsert import insert_for


@dataclass(frozen=True, slots=True)
class ThrottleState:
    key: str
    failures: int
    next_attempt_at: datetime
    trusted_until: datetime | None
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        """False once forgotten: its failures count no more, and it vouches for no browser."""
        return self.expires_at > now

    def trusted(self, now: datetime) -> bool:
        return self.live(now) and self.trusted_until is not None and self.trusted_until > now


class LoginThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create_missing(self, keys: Iterable[str], *, now: datetime, expires_at: datetime) -> None:
        """Create absent counters, empty. Commit before locking them: on PostgreSQL a row this transaction
        inserted counts as locked by it from the insert on, outside `lock`'s order, and could deadlock."""
        empty = [
            {"key": key, "failures": 0, "next_attempt_at": now, "expires_at": expires_at} for key in sorted(set(keys))
        ]
        if empty:
            await self._session.execute(insert_for(self._session, LoginThrottle).values(empty).on_conflict_do_nothing())

    async def lock(self, keys: Iterable[str]) -> dict[str, ThrottleState]:
        """The counters that exist, locked until the transaction ends (`SELECT ... FOR UPDATE` on
        PostgreSQL; SQLite transactions here begin IMMEDIATE, so they are serialised anyway).

        Always in key order, so two callers locking overlapping sets cannot deadlock.
        """
        ordered = sorted(set(keys))
        if not ordered:
            return {}
        result = await self._session.execute(
            select(
                LoginThrottle.key,
                LoginThrottle.failures,
                LoginThrottle.next_attempt_at,
                LoginThrottle.trusted_until,
                LoginThrottle.expires_at,
            )
            .where(LoginThrottle.key.in_(ordered))
            .order_by(LoginThrottle.key)
            .with_for_update()
        )
        return {
            row.key: ThrottleState(row.key, row.failures, row.next_attempt_at, row.trusted_until, row.expires_at)
            for row in result
        }

    async def save(self, state: ThrottleState) -> None:
        await self._session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == state.key)
            .values(
                failures=state.failures,
                next_attempt_at=state.next_attempt_at,
                trusted_until=state.trusted_until,
                expires_at=state.expires_at,
            )
        )

    async def trust(self, key: str, *, now: datetime, until: datetime) -> None:
        """Mark a browser as having signed in: no failures, exempt from the shared ceilings until `until`."""
        await self.forget([key])
        self._session.add(
            LoginThrottle(key=key, failures=0, next_attempt_at=now, trusted_until=until, expires_at=until)
        )
        await self._session.flush()

    async def forget(self, keys: Iterable[str]) -> None:
        await self._session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(keys))))

    async def purge_expired(self, now: datetime) -> int:
        """Delete forgotten counters, skipping any another attempt holds (it would wait on us otherwise)."""
        expired = select(LoginThrottle.key).where(LoginThrottle.expires_at <= now).with_for_update(skip_locked=True)
        result = await self._session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(expired)))
        return int(getattr(result, "rowcount", 0) or 0)
