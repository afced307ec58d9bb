"""Reporters (pseudonymous members of the public) and their conversation state."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Reporter, utcnow
from storage.privacy import Privacy
from storage.records import ConversationRecord, ReporterRecord

_ALIAS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def new_alias() -> str:
    return "R-" + "".join(secrets.choice(_ALIAS_ALPHABET) for _ in range(8))


def _reporter_record(row: Reporter) -> ReporterRecord:
    return ReporterRecord(
        id=row.id,
        alias=row.alias,
        language=row.language,
        telegram_language=row.telegram_language,
        campaign_id=row.campaign_id,
        opted_in=row.opted_in_at is not None,
        stopped=row.stopped_at is not None,
        blocked=row.blocked,
        wants_news=row.wants_news,
    )


def _conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        reporter_id=row.reporter_id,
        state=row.state,
        object_id=row.object_id,
        campaign_id=row.campaign_id,
        channel=row.channel,
        viewed=list(row.viewed or []),
        draft=dict(row.draft or {}),
    )


class ReporterRepository:
    def __init__(self, session: AsyncSession, privacy: Privacy) -> None:
        self._session = session
        self._privacy = privacy

    async def open_chat(
        self,
        telegram_user_id: int,
        chat_id: int,
        *,
        language: str,
        telegram_language: str | None,
        initial_state: str,
    ) -> tuple[ReporterRecord, ConversationRecord, bool]:
        """Load (and lock, on PostgreSQL) the reporter and conversation for a user, creating both if new.

        The row lock serialises one chat's updates across bot instances until the unit of work ends.
        """
        pseudonym = self._privacy.pseudonym(telegram_user_id)
        found = await self._load_locked(pseudonym)
        if found is None:
            try:
                async with self._session.begin_nested():  # a savepoint: a lost race must not abort the update
                    reporter = Reporter(
                        pseudonym=pseudonym,
                        alias=new_alias(),
                        chat_id_encrypted=self._privacy.encrypt_chat_id(chat_id),
                        language=language,
                        telegram_language=telegram_language,
                    )
                    self._session.add(reporter)
                    await self._session.flush()
                    conversation = Conversation(reporter_id=reporter.id, state=initial_state, draft={}, viewed=[])
                    self._session.add(conversation)
                    await self._session.flush()
                return _reporter_record(reporter), _conversation_record(conversation), True
            except IntegrityError:
                # Another instance created this reporter at the same moment: use theirs.
                found = await self._load_locked(pseudonym)
                if found is None:
                    raise
        reporter, conversation = found
        reporter.last_seen_at = utcnow()
        if reporter.chat_id_encrypted is None:
            reporter.chat_id_encrypted = self._privacy.encrypt_chat_id(chat_id)
        return _reporter_record(reporter), _conversation_record(conversation), False

    async def _load_locked(self, pseudonym: str) -> tuple[Reporter, Conversation] | None:
        row = await self._session.execute(
            select(Reporter, Conversation)
            .join(Conversation, Conversation.reporter_id == Reporter.id)
            .where(Reporter.pseudonym == pseudonym)
            .with_for_update(of=Reporter)
        )
        found = row.first()
        return (found[0], found[1]) if found is not None else None

    async def update(self, reporter_id: int, **values: Any) -> None:
        """Set reporter columns, e.g. `language`, `opted_in_at`, `stopped_at`, `campaign_id`."""
        await self._session.execute(update(Reporter).where(Reporter.id == reporter_id).values(**values))

    async def opt_in(self, reporter_id: int, at: datetime) -> None:
        await self.update(reporter_id, opted_in_at=at, stopped_at=None)

    async def save_conversation(self, conversation: ConversationRecord) -> None:
        await self._session.execute(
            update(Conversation)
            .where(Conversation.reporter_id == conversation.reporter_id)
            .values(
                state=conversation.state,
                object_id=conversation.object_id,
                campaign_id=conversation.campaign_id,
                channel=conversation.channel,
                viewed=list(conversation.viewed),
                draft=dict(conversation.draft),
                updated_at=utcnow(),
            )
        )

    async def chat_id(self, reporter_id: int) -> int | None:
        """Decrypt the chat id to reach a reporter (follow-ups, announcements)."""
        token = await self._session.scalar(select(Reporter.chat_id_encrypted).where(Reporter.id == reporter_id))
        return self._privacy.decrypt_chat_id(token) if token else None
