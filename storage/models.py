"""SQLAlchemy models: the durable shape of Tracebot's data.

Privacy by design: a reporter is known only by a keyed HMAC pseudonym of the Telegram
user id; the chat id needed to reply is stored encrypted; names are never stored.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ObjectStatus(enum.StrEnum):
    ACTIVE = "active"
    IDENTIFIED = "identified"
    ARCHIVED = "archived"


class TipStatus(enum.StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    ACTIONABLE = "actionable"
    FORWARDED = "forwarded"
    NOT_USEFUL = "not_useful"
    DUPLICATE = "duplicate"
    SPAM = "spam"


class TranslationStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    NOT_NEEDED = "not_needed"
    UNSUPPORTED = "unsupported"
    FAILED = "failed"


class TracedObject(Base):
    """An object cropped from case material that the public is asked about."""

    __tablename__ = "objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    question: Mapped[str] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)
    image_path: Mapped[str] = mapped_column(String(255))
    # {"de": {"question": "...", "hint": "..."}, ...}: shown to reporters who use that language.
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    image_sha256: Mapped[str] = mapped_column(String(64))
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=ObjectStatus.ACTIVE)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Campaign(Base):
    """A public appeal (deep link `c-<code>`), optionally scoped to some objects."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignObject(Base):
    __tablename__ = "campaign_objects"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Reporter(Base):
    """A member of the public, pseudonymous. Never holds a raw Telegram id or a name."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    alias: Mapped[str] = mapped_column(String(16), unique=True)
    chat_id_encrypted: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    opted_in_at: Mapped[datetime | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()
    wants_news: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """Where a reporter is in the dialogue; in the database so restarts and other instances see it."""

    __tablename__ = "conversations"

    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    draft: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Tip(Base):
    """What a reporter told us about an object. The original text is kept forever."""

    __tablename__ = "tips"
    __table_args__ = (
        Index("ix_tips_object_created", "object_id", "created_at"),
        Index("ix_tips_status_id", "status", "id"),
        Index("ix_tips_translation_status", "translation_status"),
        # Dashboard queues: filtered, newest first, keyset-paginated by id (migration 0003).
        Index("ix_tips_object_id_id", "object_id", "id"),
        Index("ix_tips_language_id", "language", "id"),
        Index("ix_tips_assigned_to_id_id", "assigned_to_id", "id"),
        Index("ix_tips_duplicate_of_id", "duplicate_of_id"),
        # Rows masked by older rules, to mask again (migration 0006). On PostgreSQL `search_text` also
        # has a pg_trgm GIN index when the extension could be created; it is not declared here because
        # it may be missing (see the migration), and SQLite searches it with a plain LIKE scan.
        Index("ix_tips_search_mask_version", "search_mask_version"),
        # The confirmation sweeper claims by due time (migration 0008).
        Index("ix_tips_confirmation_due", "confirmation_next_attempt_at", "id"),
        # Per-object tallies (objects list, object page) count from the index alone (migration 0014).
        Index("ix_tips_object_status_country", "object_id", "status", "country_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_token: Mapped[str] = mapped_column(String(36), unique=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="RESTRICT"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    recognised: Mapped[bool] = mapped_column(Boolean, default=True)
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    country_text: Mapped[str | None] = mapped_column(String(200))
    text_original: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    ui_language: Mapped[str] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(8))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    language_rule: Mapped[str | None] = mapped_column(String(32))
    text_english: Mapped[str | None] = mapped_column(Text)
    translation_status: Mapped[str] = mapped_column(String(16), default=TranslationStatus.PENDING)
    status: Mapped[str] = mapped_column(String(16), default=TipStatus.NEW)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(onupdate=utcnow)
    # Review workflow.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id", ondelete="SET NULL"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id", ondelete="SET NULL"))
    # Translation job state: the tip row is the durable job (claimed with SKIP LOCKED on PostgreSQL).
    translation_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    translation_next_attempt_at: Mapped[datetime | None] = mapped_column()
    translation_claimed_at: Mapped[datetime | None] = mapped_column()
    translation_error: Mapped[str | None] = mapped_column(Text)
    translated_at: Mapped[datetime | None] = mapped_column()
    # What search matches: contacts masked, normalised (`storage.pii.search_text`), written with the
    # text; `search_mask_version` is the `MASK_VERSION` it was masked with (NULL: not yet masked).
    search_text: Mapped[str | None] = mapped_column(Text, deferred=True)  # only ever a WHERE condition
    search_mask_version: Mapped[int | None] = mapped_column(Integer)
    # Set once the reporter has been sent the reference; a sweeper re-sends if a crash came between.
    confirmed_at: Mapped[datetime | None] = mapped_column()
    # The sweeper's outbox state: when to try next (NULL: nothing to do), how often it tried, and
    # when and why it gave up (the chat is gone, Telegram refuses the message, ...).
    confirmation_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    confirmation_next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    confirmation_failed_at: Mapped[datetime | None] = mapped_column()
    confirmation_failure: Mapped[str | None] = mapped_column(String(32))

    @property
    def reference(self) -> str:
        return format_tip_reference(self.id)


class ModeratorRole(enum.StrEnum):
    MODERATOR = "moderator"
    ADMIN = "admin"


class Moderator(Base):
    """A dashboard account (victim-identification specialist or admin)."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=ModeratorRole.MODERATOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class LoginThrottle(Base):
    """A sign-in failure counter: per account and client, per account, or per address.

    The key is a keyed HMAC of what it counts (names and addresses are not stored). A row for a
    browser that signed in carries `trusted_until`, which exempts it from the shared ceilings.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    trusted_until: Mapped[datetime | None] = mapped_column()
    # After this the row is forgotten (its failures no longer count) and may be deleted.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebSession(Base):
    """A dashboard login session; the cookie holds the token, the table only its SHA-256."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("moderators.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A read-only integration token for /api/; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class TipNote(Base):
    __tablename__ = "tip_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only record of every moderator action (no UI can edit or delete it)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "at"),
        Index("ix_audit_events_moderator_id", "moderator_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # username at the time, kept if the account goes
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is not processed twice."""

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def format_tip_reference(tip_id: int) -> str:
    """The reference a reporter is given, e.g. `T-000123`."""
    return f"T-{tip_id:06d}"


def parse_tip_reference(reference: str) -> int | None:
    reference = reference.strip().upper()
    if reference.startswith("T-") and reference[2:].isdigit():
        return int(reference[2:])
    return None


class WorkerHeartbeat(Base):
    """A background worker's last sign of life, so readiness checks on any instance can see it."""

    __tablename__ = "worker_heartbeats"
    __table_args__ = (Index("ix_worker_heartbeats_kind_beat_at", "kind", "beat_at"),)

    worker_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "translation"
    started_at: Mapped[datetime] = mapped_column()
    beat_at: Mapped[datetime] = mapped_column()


class Publication(Base):
    """A digest of what was last published to Telegram (e.g. the command menus), so a start skips it if unchanged."""

    __tablename__ = "publications"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "commands:<bot id>"
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column()
