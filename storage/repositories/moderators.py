"""Dashboard accounts and their login sessions. Passwords and session tokens arrive already hashed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Moderator, ModeratorRole, WebSession


@dataclass(frozen=True, slots=True)
class ModeratorRecord:
    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == ModeratorRole.ADMIN

    @property
    def reads_tips(self) -> bool:
        """Admins and moderators; campaign managers see only objects, campaigns and aggregates."""
        return self.role in (ModeratorRole.ADMIN, ModeratorRole.MODERATOR)

    @property
    def manages_catalog(self) -> bool:
        return self.role in (ModeratorRole.ADMIN, ModeratorRole.CAMPAIGN_MANAGER)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    moderator: ModeratorRecord
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


def _moderator_record(row: Moderator) -> ModeratorRecord:
    return ModeratorRecord(
        id=row.id,
        username=row.username,
        role=row.role,
        active=row.active,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


class ModeratorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, username: str, password_hash: str, role: ModeratorRole) -> ModeratorRecord:
        """Create an account; raises `ValueError` if the name is taken."""
        if await self.by_username(username) is not None:
            raise ValueError(f"moderator {username!r} already exists")
        row = Moderator(username=username, password_hash=password_hash, role=role, active=True)
        self._session.add(row)
        await self._session.flush()
        return _moderator_record(row)

    async def get(self, moderator_id: int) -> ModeratorRecord | None:
        row = await self._session.get(Moderator, moderator_id)
        return _moderator_record(row) if row else None

    async def by_username(self, username: str) -> ModeratorRecord | None:
        row = await self._session.scalar(select(Moderator).where(Moderator.username == username))
        return _moderator_record(row) if row else None

    async def credentials(self, username: str) -> tuple[ModeratorRecord, str] | None:
        """The account and its password hash, for verifying a login."""
        row = await self._session.scalar(select(Moderator).where(Moderator.username == username))
        return (_moderator_record(row), row.password_hash) if row else None

    async def all(self) -> list[ModeratorRecord]:
        rows = await self._session.scalars(select(Moderator).order_by(Moderator.username))
        return [_moderator_record(row) for row in rows]

    async def set_password(self, moderator_id: int, password_hash: str) -> None:
        await self._session.execute(
            update(Moderator).where(Moderator.id == moderator_id).values(password_hash=password_hash)
        )

    async def set_role(self, moderator_id: int, role: ModeratorRole) -> None:
        await self._session.execute(update(Moderator).where(Moderator.id == moderator_id).values(role=role))

    async def set_active(self, moderator_id: int, active: bool) -> None:
        await self._session.execute(update(Moderator).where(Moderator.id == moderator_id).values(active=active))

    async def record_login(self, moderator_id: int, now: datetime) -> None:
        await self._session.execute(update(Moderator).where(Moderator.id == moderator_id).values(last_login_at=now))


class WebSessionRepository:
    """Server-side login sessions keyed by the SHA-256 of the cookie token."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self, *, token_hash: str, moderator_id: int, csrf_token: str, now: datetime, expires_at: datetime
    ) -> None:
        self._session.add(
            WebSession(
                token_hash=token_hash,
                moderator_id=moderator_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=expires_at,
                last_seen_at=now,
            )
        )
        await self._session.flush()

    async def get(self, token_hash: str) -> SessionRecord | None:
        row = (
            await self._session.execute(
                select(WebSession, Moderator)
                .join(Moderator, Moderator.id == WebSession.moderator_id)
                .where(WebSession.token_hash == token_hash)
            )
        ).first()
        if row is None:
            return None
        web_session, moderator = row
        return SessionRecord(
            token_hash=web_session.token_hash,
            moderator=_moderator_record(moderator),
            csrf_token=web_session.csrf_token,
            created_at=web_session.created_at,
            expires_at=web_session.expires_at,
            last_seen_at=web_session.last_seen_at,
        )

    async def touch(self, token_hash: str, now: datetime) -> None:
        await self._session.execute(
            update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen_at=now)
        )

    async def delete(self, token_hash: str) -> None:
        await self._session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    async def delete_for(self, moderator_id: int) -> None:
        """End every session of an account (password reset, deactivation)."""
        await self._session.execute(delete(WebSession).where(WebSession.moderator_id == moderator_id))

    async def purge_expired(self, now: datetime) -> int:
        result = await self._session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)
