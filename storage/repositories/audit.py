"""The append-only audit trail of moderator actions, and read-only API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiToken, AuditEvent


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AuditRepository:
    """Append and read; there is deliberately no update or delete."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def append(
        self,
        *,
        actor: str,
        action: str,
        moderator_id: int | None = None,
        target_type: str | None = None,
        target_id: str | int | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record an action; it commits with the unit of work that did it, or not at all."""
        event = AuditEvent(
            actor=actor[:64],
            action=action[:64],
            moderator_id=moderator_id,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id)[:64],
            details=details or {},
        )
        if at is not None:
            event.at = at
        self._session.add(event)

    async def recorded_since(self, *, action: str, actor: str, target_id: str, since: datetime) -> bool:
        """Whether `actor` already has an `action` event on `target_id` at or after `since`."""
        found = await self._session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.action == action,
                AuditEvent.at >= since,
                AuditEvent.actor == actor[:64],
                AuditEvent.target_id == target_id[:64],
            )
            .limit(1)
        )
        return found is not None

    async def page(self, query: AuditQuery, *, before_id: int | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first, keyset-paginated by id."""
        statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if before_id is not None:
            statement = statement.where(AuditEvent.id < before_id)
        if query.action:
            statement = statement.where(AuditEvent.action == query.action)
        if query.actor:
            statement = statement.where(AuditEvent.actor == query.actor)
        if query.since is not None:
            statement = statement.where(AuditEvent.at >= query.since)
        if query.before is not None:
            statement = statement.where(AuditEvent.at < query.before)
        return [
            AuditRecord(
                id=row.id,
                at=row.at,
                actor=row.actor,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                details=dict(row.details or {}),
            )
            for row in await self._session.scalars(statement)
        ]

    async def actions(self) -> list[str]:
        """Distinct action names, for the filter."""
        return list(await self._session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def _token_record(row: ApiToken) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=row.id, name=row.name, created_at=row.created_at, last_used_at=row.last_used_at, revoked_at=row.revoked_at
    )


class ApiTokenRepository:
    """Integration tokens; only the SHA-256 of a token is stored."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, name: str, token_hash: str) -> ApiTokenRecord:
        row = ApiToken(name=name[:100], token_hash=token_hash)
        self._session.add(row)
        await self._session.flush()
        return _token_record(row)

    async def active_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        row = await self._session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        )
        return _token_record(row) if row else None

    async def touch(self, token_id: int, now: datetime) -> None:
        await self._session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))

    async def all(self) -> list[ApiTokenRecord]:
        return [_token_record(row) for row in await self._session.scalars(select(ApiToken).order_by(ApiToken.id))]

    async def revoke(self, token_id: int, now: datetime) -> bool:
        result = await self._session.execute(
            update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        )
        return bool(getattr(result, "rowcount", 0))
