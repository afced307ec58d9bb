"""The unit of work: one transaction per Telegram update (or web request), committed once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from types import TracebackType
from typing import Self, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import SQLITE_BUSY_TIMEOUT, create_session_factory
from storage.hot import HotStatements, InlineStatements, SessionStatements
from storage.hot_asyncpg import DriverStatements
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
from storage.sqlite_inline import InlineConnection


class InlineTurns:
    """The turns' one SQLite connection (`create_turn_engine`), used directly, one turn at a time.

    The engine's pool holds just this connection (one, no overflow), so a turn takes it here, under
    a lock, and runs its hot statements on it without a checkout; a session a turn needs after all
    checks the same connection out of the pool, inside the same transaction. The first turn (and
    one after the pool replaced a broken connection) gets it through one checkout, which also runs
    the engine's own set-up of a new connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._lock = asyncio.Lock()
        self._connection: InlineConnection | None = None

    async def acquire(self) -> InlineConnection:
        async with asyncio.timeout(SQLITE_BUSY_TIMEOUT):  # as long as the pool would have waited
            await self._lock.acquire()
        try:
            if self._connection is None or self._connection.raw is None:
                async with self.engine.connect() as connection:
                    inline = cast(InlineConnection, (await connection.get_raw_connection()).driver_connection)
                    if inline.raw is None:  # closed behind the pool's back: the pool opens another
                        await connection.invalidate()
                        inline = cast(InlineConnection, (await connection.get_raw_connection()).driver_connection)
                    self._connection = inline
            return self._connection
        except BaseException:
            self._lock.release()
            raise

    def release(self) -> None:
        self._lock.release()


class UnitOfWork:
    """`async with UnitOfWork(...) as uow:` opens a transaction; leaving without `commit()` rolls back."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        privacy: Privacy,
        counts: FunnelBuffer | None = None,
        *,
        inline: InlineTurns | None = None,
        on_driver: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self._on_driver = on_driver  # hot statements straight on asyncpg (`DriverStatements`)
        self._privacy = privacy
        self._counts = counts
        self._inline = inline
        self._session: AsyncSession | None = None
        self._connection: InlineConnection | None = None  # a turn's, on SQLite (see `InlineTurns`)
        self._hot: HotStatements | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            if self._connection is None:
                raise RuntimeError("unit of work used outside `async with`")
            # A turn that needs the ORM after all: its session checks out the turn's own connection.
            self._session = self._session_factory()
        return self._session

    @property
    def hot(self) -> HotStatements:
        """What the hot path's repositories run their marked statements with (see `storage.hot`)."""
        if self._hot is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._hot

    def _forget_repositories(self) -> None:
        """A reused unit of work must not keep the last session's repositories; and as they point back
        at it (through the hot statements' session getter), dropping them lets reference counting free
        a turn's objects at once instead of leaving a cycle to the garbage collector."""
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)

    async def __aenter__(self) -> Self:
        self._forget_repositories()
        if self._inline is None:
            session = self._session = self._session_factory()
            self._hot = DriverStatements(session) if self._on_driver else SessionStatements(session)
            return self
        connection = self._connection = await self._inline.acquire()
        self._hot = InlineStatements(connection, self._inline.dialect, lambda: self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        connection, self._connection = self._connection, None
        if isinstance(self._hot, InlineStatements):
            self._hot.close()
        self._hot = None
        self._forget_repositories()
        try:
            if session is not None:
                try:
                    if session.in_transaction():
                        await session.rollback()
                finally:
                    await session.close()
        finally:
            if connection is not None and self._inline is not None:
                try:
                    if connection.raw is not None and connection.raw.in_transaction:
                        await connection.rollback()  # what was not committed
                finally:
                    self._inline.release()

    async def commit(self) -> None:
        counted = "funnel" in self.__dict__
        if counted and self._counts is None:  # counters go last: their rows are shared by everyone
            await self.funnel.write_counts()
        if self._session is not None:
            await self._session.commit()  # on a turn's connection: the hot statements' work too
        if self._connection is not None:
            await self._connection.commit()
        if counted and self._counts is not None:  # committed: now they happened (see FunnelBuffer)
            self._counts.add(self.funnel.take_counts())

    async def rollback(self) -> None:
        if "funnel" in self.__dict__:
            self.funnel.forget_counts()
        if self._session is not None:
            await self._session.rollback()
        if self._connection is not None:
            await self._connection.rollback()

    # Repositories are made on first use: a turn needs three or four of the two dozen.
    @cached_property
    def reporters(self) -> ReporterRepository:
        return ReporterRepository(self.hot, self._privacy)

    @cached_property
    def objects(self) -> ObjectRepository:
        return ObjectRepository(self.hot)

    @cached_property
    def campaigns(self) -> CampaignRepository:
        return CampaignRepository(self.session)

    @cached_property
    def funnel(self) -> FunnelRepository:
        return FunnelRepository(lambda: self.session)  # most turns only count: no session made for that

    @cached_property
    def tips(self) -> TipRepository:
        return TipRepository(self.hot)

    @cached_property
    def updates(self) -> UpdateRepository:
        return UpdateRepository(self.hot)

    @cached_property
    def translation_jobs(self) -> TranslationJobRepository:
        return TranslationJobRepository(self.session)

    @cached_property
    def confirmations(self) -> TipConfirmations:
        return TipConfirmations(self.hot)

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
        turn_engine: AsyncEngine | None = None,
        counts: FunnelBuffer | None = None,
        driver_statements: bool = True,
    ) -> None:
        """`driver_statements=False` runs hot statements on asyncpg through the session too (tests
        compare the two)."""
        self.session_factory = session_factory
        bind = session_factory.kw.get("bind")
        self._on_driver = driver_statements and bind is not None and bind.dialect.driver == "asyncpg"
        self.privacy = privacy
        # The turns' sessions (rare: a turn needing the ORM) check the turn engine's connection out.
        self._turn_session_factory = create_session_factory(turn_engine) if turn_engine is not None else session_factory
        self.counts = counts
        self._inline_turns = InlineTurns(turn_engine) if turn_engine is not None else None

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work from the shared pool: web requests, exports, tools, and jobs that may take long."""
        return UnitOfWork(self.session_factory, self.privacy, self.counts, on_driver=self._on_driver)

    def short(self) -> UnitOfWork:
        """A unit of work of a few quick statements that waits on nothing else inside it (no network
        call, no thread): a turn, or a background job's claim or record of what it sent.

        On a SQLite file it runs on the turns' one connection (`create_turn_engine`), in line with the
        turns. From the shared pool such a job took the write lock at BEGIN and kept it while each of
        its statements waited for a thread and then for the busy event loop, and the turns behind it
        polled for the lock meanwhile: the jobs of a start alone (outbox, reminders, menus) made the
        first updates of a burst wait 0.2 s. Elsewhere it is `unit_of_work()`.
        """
        return UnitOfWork(
            self._turn_session_factory, self.privacy, self.counts, inline=self._inline_turns, on_driver=self._on_driver
        )

    def turn(self) -> UnitOfWork:
        """A unit of work for one Telegram update: a few short statements (see `short`)."""
        return self.short()

    async def flush_counts(self) -> int:
        """Write the funnel counts buffered in this process (see `FunnelBuffer`); how many were written."""
        return await self.counts.flush(self._counts_session) if self.counts is not None else 0

    @asynccontextmanager
    async def _counts_session(self) -> AsyncIterator[AsyncSession]:
        async with self.short() as uow:
            yield uow.session
            await uow.commit()
