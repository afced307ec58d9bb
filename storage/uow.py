"""The unit of work: one transaction per Telegram update (or web request), committed once."""

from __future__ import annotations

from functools import cached_property
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
from storage.repositories.funnel import FunnelBuffer, FunnelRepository
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

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        privacy: Privacy,
        counts: FunnelBuffer | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._privacy = privacy
        self._counts = counts
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        for name in _REPOSITORIES:  # a reused unit of work must not keep the last session's repositories
            self.__dict__.pop(name, None)
        self._session = self._session_factory()
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
        counted = "funnel" in self.__dict__
        if counted and self._counts is None:  # counters go last: their rows are shared by everyone
            await self.funnel.write_counts()
        await self.session.commit()
        if counted and self._counts is not None:  # committed: now they happened (see FunnelBuffer)
            self._counts.add(self.funnel.take_counts())

    async def rollback(self) -> None:
        if "funnel" in self.__dict__:
            self.funnel.forget_counts()
        await self.session.rollback()

    # Repositories are made on first use: a turn needs three or four of the two dozen.
    @cached_property
    def reporters(self) -> ReporterRepository:
        return ReporterRepository(self.session, self._privacy)

    @cached_property
    def objects(self) -> ObjectRepository:
        return ObjectRepository(self.session)

    @cached_property
    def campaigns(self) -> CampaignRepository:
        return CampaignRepository(self.session)

    @cached_property
    def funnel(self) -> FunnelRepository:
        return FunnelRepository(self.session)

    @cached_property
    def tips(self) -> TipRepository:
        return TipRepository(self.session)

    @cached_property
    def updates(self) -> UpdateRepository:
        return UpdateRepository(self.session)

    @cached_property
    def translation_jobs(self) -> TranslationJobRepository:
        return TranslationJobRepository(self.session)

    @cached_property
    def confirmations(self) -> TipConfirmations:
        return TipConfirmations(self.session)

    @cached_property
    def retention(self) -> RetentionRepository:
        return RetentionRepository(self.session)

    @cached_property
    def heartbeats(self) -> HeartbeatRepository:
        return HeartbeatRepository(self.session)

    @cached_property
    def urgent_alerts(self) -> UrgentAlertRepository:
        return UrgentAlertRepository(self.session)

    @cached_property
    def followup(self) -> FollowupRepository:
        return FollowupRepository(self.session)

    @cached_property
    def followup_outbox(self) -> FollowupOutbox:
        return FollowupOutbox(self.session)

    @cached_property
    def announcements(self) -> AnnouncementRepository:
        return AnnouncementRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def send_slots(self) -> SendSlotRepository:
        return SendSlotRepository(self.session)

    @cached_property
    def publications(self) -> PublicationRepository:
        return PublicationRepository(self.session)

    @cached_property
    def moderators(self) -> ModeratorRepository:
        return ModeratorRepository(self.session)

    @cached_property
    def web_sessions(self) -> WebSessionRepository:
        return WebSessionRepository(self.session)

    @cached_property
    def login_throttle(self) -> LoginThrottleRepository:
        return LoginThrottleRepository(self.session)

    @cached_property
    def api_tokens(self) -> ApiTokenRepository:
        return ApiTokenRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session)

    @cached_property
    def review(self) -> ReviewRepository:
        return ReviewRepository(self.session)

    @cached_property
    def reporter_moderation(self) -> ReporterModeration:
        return ReporterModeration(self.session)

    @cached_property
    def review_stats(self) -> ReviewStatsRepository:
        return ReviewStatsRepository(self.session)

    @cached_property
    def tip_search(self) -> TipSearchRepository:
        return TipSearchRepository(self.session)


_REPOSITORIES = [name for name, value in vars(UnitOfWork).items() if isinstance(value, cached_property)]


class Database:
    """Owns the session factory and privacy keys; hands out units of work."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        privacy: Privacy,
        *,
        turn_session_factory: async_sessionmaker[AsyncSession] | None = None,
        counts: FunnelBuffer | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.privacy = privacy
        self._turn_session_factory = turn_session_factory or session_factory
        self.counts = counts

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.privacy, self.counts)

    def turn(self) -> UnitOfWork:
        """A unit of work for one Telegram update: a few short statements (see `create_turn_engine`)."""
        return UnitOfWork(self._turn_session_factory, self.privacy, self.counts)

    async def flush_counts(self) -> int:
        """Write the funnel counts buffered in this process (see `FunnelBuffer`); how many were written."""
        return await self.counts.flush(self.session_factory) if self.counts is not None else 0
