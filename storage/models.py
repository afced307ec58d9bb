"""SQLAlchemy models: the durable shape of Tracebot's data.

Privacy by design: a reporter is known only by a keyed HMAC pseudonym of the Telegram
user id; the chat id needed to reply is stored encrypted; names are never stored.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
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

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.driver == "asyncpg":
            return None  # asyncpg reads every timestamptz as an aware UTC datetime already: no call per value
        return super().result_processor(dialect, coltype)


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


class CampaignStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # the link opens the bot as a plain start
    ENDED = "ended"  # the link still opens the bot, with a polite note and the active objects


class Campaign(Base):
    """A public appeal (deep link `c-<code>`): its objects in order, or all active ones."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.ACTIVE, server_default="active")
    all_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # the last day it runs; after it, it counts as ended
    # {"en": "Thanks for helping the spring appeal!", "de": "..."}: shown after opt-in.
    intro: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
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
    channel: Mapped[str | None] = mapped_column(String(16))  # the channel tag of the link last opened
    # Object ids already counted as viewed since the last link was opened (no times): the funnel's
    # "object viewed" counts each object once per visit. Replaced at the next link.
    viewed: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
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
        # Urgent tips head the queue (ORDER BY urgent DESC, id DESC); the alert sender claims by due time (0011).
        Index("ix_tips_urgent_id", "urgent", "id"),
        Index("ix_tips_urgent_alert_due", "urgent_alert_next_attempt_at", "id"),
        # Per-object tallies (objects list, object page) count from the index alone (migration 0014).
        Index("ix_tips_object_status_country", "object_id", "status", "country_code"),
        # An object's tips in queue order (urgent first, newest first) without sorting them all (0015).
        Index("ix_tips_object_urgent_id", "object_id", "urgent", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_token: Mapped[str] = mapped_column(String(36), unique=True)
    # NULL only for an urgent report not about any object (sent with /urgent).
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="RESTRICT"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))  # the channel tag of the link it came through
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
    # A disclosure of abuse or a child in danger (a flag, not a status: it is reviewed like any tip).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The urgent alert's outbox (URGENT_ALERT_URL): when to post next (NULL: nothing to do), tries,
    # when it went out, or why it was given up.
    urgent_alert_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urgent_alert_next_attempt_at: Mapped[datetime | None] = mapped_column()
    urgent_alert_sent_at: Mapped[datetime | None] = mapped_column()
    urgent_alert_failure: Mapped[str | None] = mapped_column(String(32))
    # Whether the reporter lets investigators ask follow-up questions about this tip (migration 0010).
    # Off until they say yes on the preview; withdrawn from /privacy or with /stop.
    followup_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    followup_consent_at: Mapped[datetime | None] = mapped_column()

    @property
    def reference(self) -> str:
        return format_tip_reference(self.id)


class MessageKind(enum.StrEnum):
    QUESTION = "question"  # a moderator asks (English, sent translated)
    ANSWER = "answer"  # the reporter answers a question
    ADDITION = "addition"  # the reporter adds to the tip unasked


class QuestionState(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    DECLINED = "declined"  # "I'd rather not"
    CLOSED = "closed"  # consent withdrawn or the reporter unreachable


class TipMessage(Base):
    """One entry of a tip's follow-up thread (migration 0010).

    A question row is also its own delivery outbox, like `tips.confirmation_*`: it is committed
    with `delivery_next_attempt_at` set, claimed (which pushes that time forward), sent, then
    marked. Answers and additions are translation jobs, like tips (`translation_*`).
    """

    __tablename__ = "tip_messages"
    __table_args__ = (
        Index("ix_tip_messages_tip_id_id", "tip_id", "id"),
        Index("ix_tip_messages_delivery_due", "delivery_next_attempt_at", "id"),
        Index("ix_tip_messages_translation_status", "translation_status"),
        Index("ix_tip_messages_unread", "read_at", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # Questions: the English the moderator wrote. Answers and additions: what the reporter wrote.
    text_original: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    language_rule: Mapped[str | None] = mapped_column(String(32))
    text_english: Mapped[str | None] = mapped_column(Text)
    translation_status: Mapped[str] = mapped_column(String(16), default=TranslationStatus.NOT_NEEDED)
    translation_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    translation_next_attempt_at: Mapped[datetime | None] = mapped_column()
    translation_claimed_at: Mapped[datetime | None] = mapped_column()
    translation_error: Mapped[str | None] = mapped_column(Text)
    # Questions only: the whole message exactly as the reporter reads it, and whether it needed no
    # "could not be translated" note (translated by a model, or the reporter reads English).
    text_sent: Mapped[str | None] = mapped_column(Text)
    machine_translated: Mapped[bool | None] = mapped_column(Boolean)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id", ondelete="SET NULL"))
    state: Mapped[str | None] = mapped_column(String(16))  # QuestionState, questions only
    # Answers: the question they answer.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("tip_messages.id", ondelete="SET NULL"))
    # Question delivery (the outbox): when to try next (NULL: nothing to do), tries, the outcome.
    delivery_next_attempt_at: Mapped[datetime | None] = mapped_column()
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivered_at: Mapped[datetime | None] = mapped_column()
    delivery_failure: Mapped[str | None] = mapped_column(String(32))
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)  # so a reply can find its question
    # Answers and additions: when a moderator marked them read ("answer waiting" until then).
    read_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModeratorRole(enum.StrEnum):
    MODERATOR = "moderator"
    ADMIN = "admin"
    # Objects, campaigns and aggregate statistics; never tip text, notes, exports or aliases.
    CAMPAIGN_MANAGER = "campaign_manager"


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


class FunnelStep(enum.StrEnum):
    LINK_OPENED = "link_opened"
    OPTED_IN = "opted_in"
    OBJECT_VIEWED = "object_viewed"
    TIP_STARTED = "tip_started"
    TIP_SENT = "tip_sent"


class FunnelCount(Base):
    """How many times a funnel step happened on a day: counters only, never who did it or when.

    0 and "" stand for "no campaign/object/channel" so that the key has no NULLs (ON CONFLICT needs
    it); no foreign keys, so the counts outlive whatever they count.
    """

    __tablename__ = "funnel_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    object_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    step: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


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


class AnnouncementState(enum.StrEnum):
    DRAFT = "draft"  # being written; nothing queued yet
    SENDING = "sending"  # outbox rows queued; the worker sends them
    PAUSED = "paused"  # rows stay queued; the worker skips them until resumed
    CANCELLED = "cancelled"  # queued rows were cancelled; rows already sent stay sent
    DONE = "done"  # no row left to send


class Announcement(Base):
    """News for reporters who asked for it (`wants_news`), written in the dashboard."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text_en: Mapped[str] = mapped_column(Text)
    # {"de": "...", ...}: what a reporter using that language receives instead of the English text.
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=AnnouncementState.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()


class OutboxState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its turn (next_attempt_at)
    CLAIMED = "claimed"  # a worker took it; nothing was sent yet, so an expired claim is simply queued again
    SENDING = "sending"  # the send may have happened: never retried automatically (at most once)
    SENT = "sent"
    FAILED = "failed"  # refused for good, the chat is gone, or retries ran out
    INTERRUPTED = "interrupted"  # a worker died mid-send: delivered or not, we cannot know
    CANCELLED = "cancelled"


class OutboxMessage(Base):
    """One proactive message to one reporter, committed before anything is sent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_announcement_id_state", "announcement_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "announcement", "thanks", "preview"
    # What makes enqueueing idempotent, e.g. "announcement:12:34" or "thanks:5:34" (object, reporter).
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    # NULL only for a preview, which goes to the configured preview chat (ANNOUNCEMENT_PREVIEW_CHAT_ID).
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), index=True)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    failure: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendSlot(Base):
    """The proactive-send limiter shared by every instance (see `storage.repositories.send_slots`).

    Keys: "global:<n>" (one row per send allowed in any second), "chat:<reporter id>" and "pause"
    (Telegram's 429 retry_after). `free_at` is in epoch seconds: compared with arithmetic only.
    """

    __tablename__ = "send_slots"

    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    free_at: Mapped[float] = mapped_column(Float, default=0.0)


class Publication(Base):
    """A digest of what was last published to Telegram (e.g. the command menus), so a start skips it if unchanged."""

    __tablename__ = "publications"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "commands:<bot id>"
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column()
