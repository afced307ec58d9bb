"""The unit of work: one transaction per Telegram update (or web request), committed once."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.privacy import Privacy
from storage.repositories import (
    CampaignRepository,
    ObjectRepository,
    ReporterRepository,
    TipRepository,
    UpdateRepository,
)
from storage.repositories.announcements import AnnouncementRepository
from storage.repositories.audit import ApiTokenRepository, AuditRepository
from storage.repositories.followup import FollowupRepository
from storage.repositories.followup_outbox import FollowupOutbox
from storage.repositories.funnel import FunnelRepository
from storage.repositories.heartbeats import HeartbeatRepository
from storage.repositories.login_throttle import LoginThrottleRepository
from storage.repositories.moderators import ModeratorRepository, WebSessionRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.publications import PublicationRepository
from storage.repositories.retention import RetentionRepository
from storage.repositories.review import ReporterModeration, ReviewRepository
from storage.repositories.review_stats import ReviewStatsRepository
from storage.repositories.search import TipSearchRepository
from storage.repositories.send_slots import SendSlotRepository
from storage.repositories.tips import TipConfirmations
from storage.repositories.translation_jobs import TranslationJobRepository
from storage.repositories.urgent_alerts import UrgentAlertRepository


class UnitOfWork:
    """`async with UnitOfWork(...) as uow:` opens a transaction; leaving without `commit()` rolls back."""

    reporters: ReporterRepository
    objects: ObjectRepository
    campaigns: CampaignRepository
    funnel: FunnelRepository
    tips: TipRepository
    updates: UpdateRepository
    translation_jobs: TranslationJobRepository
    confirmations: TipConfirmations
    retention: RetentionRepository
    heartbeats: HeartbeatRepository
    urgent_alerts: UrgentAlertRepository
    followup: FollowupRepository
    followup_outbox: FollowupOutbox
    # Proactive messages: announcements, thank-yous, and the limiter they share.
    announcements: AnnouncementRepository
    outbox: OutboxRepository
    send_slots: SendSlotRepository
    publications: PublicationRepository
    # The moderator dashboard.
    moderators: ModeratorRepository
    web_sessions: WebSessionRepository
    login_throttle: LoginThrottleRepository
    api_tokens: ApiTokenRepository
    audit: AuditRepository
    review: ReviewRepository
    reporter_moderation: ReporterModeration
    review_stats: ReviewStatsRepository
    tip_search: TipSearchRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], privacy: Privacy) -> None:
        self._session_factory = session_factory
        self._privacy = privacy
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        session = self._session_factory()
        self._session = session
        self.reporters = ReporterRepository(session, self._privacy)
        self.objects = ObjectRepository(session)
        self.campaigns = CampaignRepository(session)
        self.funnel = FunnelRepository(session)
        self.tips = TipRepository(session)
        self.updates = UpdateRepository(session)
        self.translation_jobs = TranslationJobRepository(session)
        self.confirmations = TipConfirmations(session)
        self.retention = RetentionRepository(session)
        self.heartbeats = HeartbeatRepository(session)
        self.urgent_alerts = UrgentAlertRepository(session)
        self.followup = FollowupRepository(session)
        self.followup_outbox = FollowupOutbox(session)
        self.announcements = AnnouncementRepository(session)
        self.outbox = OutboxRepository(session)
        self.send_slots = SendSlotRepository(session)
        self.publications = PublicationRepository(session)
        self.moderators = ModeratorRepository(session)
        self.web_sessions = WebSessionRepository(session)
        self.login_throttle = LoginThrottleRepository(session)
        self.api_tokens = ApiTokenRepository(session)
        self.audit = AuditRepository(session)
        self.review = ReviewRepository(session)
        self.reporter_moderation = ReporterModeration(session)
        self.review_stats = ReviewStatsRepository(session)
        self.tip_search = TipSearchRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class Database:
    """Owns the session factory and privacy keys; hands out units of work."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], privacy: Privacy) -> None:
        self.session_factory = session_factory
        self.privacy = privacy

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.privacy)
