"""Reporters (pseudonymous members of the public) and their conversation state."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.hot import HotRepository, HotStatements, hot
from storage.models import Conversation, Reporter, utcnow
from storage.privacy import Privacy
from storage.records import ConversationRecord, ReporterRecord

_ALIAS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def new_alias() -> str:
    return "R-" + "".join(secrets.choice(_ALIAS_ALPHABET) for _ in range(8))


# `last_seen_at` only feeds retention (months), so a turn rewrites it at most this often.
LAST_SEEN_EVERY = timedelta(hours=1)

# The hot path, built once on the tables (Core, not the ORM): every update runs these.
_reporters, _conversations = cast(Table, Reporter.__table__), cast(Table, Conversation.__table__)
_OPEN_CHAT = hot(
    select(
        _reporters.c.id,
        _reporters.c.alias,
        _reporters.c.language,
        _reporters.c.telegram_language,
        _reporters.c.campaign_id,
        _reporters.c.opted_in_at,
        _reporters.c.stopped_at,
        _reporters.c.blocked,
        _reporters.c.wants_news,
        _reporters.c.last_seen_at,
        _reporters.c.chat_id_encrypted.is_not(None).label("reachable"),
        _conversations.c.state,
        _conversations.c.object_id,
        _conversations.c.campaign_id.label("conversation_campaign_id"),
        _conversations.c.channel,
        _conversations.c.viewed,
        _conversations.c.draft,
    )
    .join(_conversations, _conversations.c.reporter_id == _reporters.c.id)
    .where(_reporters.c.pseudonym == bindparam("pseudonym"))
    .with_for_update(of=_reporters)
)
_NEW_REPORTER = hot(
    insert(_reporters)
    .values(
        pseudonym=bindparam("pseudonym"),
        alias=bindparam("alias"),
        chat_id_encrypted=bindparam("chat"),
        language=bindparam("new_language"),
        telegram_language=bindparam("new_telegram_language"),
    )
    .returning(_reporters.c.id)
)
_NEW_CONVERSATION = hot(
    insert(_conversations).values(
        reporter_id=bindparam("reporter"),
        state=bindparam("new_state"),
        viewed=[],
        draft={},
    )
)
_TOUCH = hot(update(_reporters).where(_reporters.c.id == bindparam("reporter")).values(last_seen_at=bindparam("at")))
_SAVE_CONVERSATION = hot(
    update(_conversations)
    .where(_conversations.c.reporter_id == bindparam("reporter"))
    .values(
        state=bindparam("new_state"),
        object_id=bindparam("new_object_id"),
        campaign_id=bindparam("new_campaign_id"),
        channel=bindparam("new_channel"),
        viewed=bindparam("new_viewed", type_=_conversations.c.viewed.type),
        draft=bindparam("new_draft", type_=_conversations.c.draft.type),
        updated_at=bindparam("at", type_=_conversations.c.updated_at.type),
    )
)


def _records(row: Any) -> tuple[ReporterRecord, ConversationRecord]:
    reporter = ReporterRecord(
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
    conversation = ConversationRecord(
        reporter_id=row.id,
        state=row.state,
        object_id=row.object_id,
        campaign_id=row.conversation_campaign_id,
        channel=row.channel,
        viewed=list(row.viewed or []),
        draft=dict(row.draft or {}),
    )
    return reporter, conversation


@functools.cache
def _update_reporter(columns: tuple[str, ...]) -> Any:
    # Built once per set of columns (a handful: opt-in, stop, language, news, campaign): turns run them.
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in columns}
    return hot(update(_reporters).where(_reporters.c.id == bindparam("reporter")).values(**values))


class ReporterRepository(HotRepository):
    def __init__(self, hot: HotStatements, privacy: Privacy) -> None:
        super().__init__(hot)
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
        found = await self._hot.first(_OPEN_CHAT, {"pseudonym": pseudonym})
        if found is None:
            try:
                async with self._hot.savepoint():  # a savepoint: a lost race must not abort the update
                    alias = new_alias()
                    values = {
                        "pseudonym": pseudonym,
                        "alias": alias,
                        "chat": self._privacy.encrypt_chat_id(chat_id),
                        "new_language": language,
                        "new_telegram_language": telegram_language,
                    }
                    reporter_id = await self._hot.scalar(_NEW_REPORTER, values)
                    conversation = {"reporter": reporter_id, "new_state": initial_state}
                    await self._hot.execute(_NEW_CONVERSATION, conversation)
                reporter = ReporterRecord(
                    id=reporter_id,
                    alias=alias,
                    language=language,
                    telegram_language=telegram_language,
                    campaign_id=None,
                    opted_in=False,
                    stopped=False,
                    blocked=False,
                    wants_news=False,
                )
                return reporter, ConversationRecord(reporter_id=reporter_id, state=initial_state), True
            except IntegrityError:
                # Another instance created this reporter at the same moment: use theirs.
                found = await self._hot.first(_OPEN_CHAT, {"pseudonym": pseudonym})
                if found is None:
                    raise
        now = utcnow()
        if not found.reachable:
            await self.update(found.id, chat_id_encrypted=self._privacy.encrypt_chat_id(chat_id), last_seen_at=now)
        elif now - found.last_seen_at >= LAST_SEEN_EVERY:
            await self._hot.execute(_TOUCH, {"reporter": found.id, "at": now})
        reporter_record, conversation_record = _records(found)
        return reporter_record, conversation_record, False

    async def update(self, reporter_id: int, **values: Any) -> None:
        """Set reporter columns, e.g. `language`, `opted_in_at`, `stopped_at`, `campaign_id`."""
        parameters = {f"new_{name}": value for name, value in values.items()}
        await self._hot.execute(_update_reporter(tuple(sorted(values))), {"reporter": reporter_id, **parameters})

    async def opt_in(self, reporter_id: int, at: datetime) -> None:
        await self.update(reporter_id, opted_in_at=at, stopped_at=None)

    async def save_conversation(self, conversation: ConversationRecord) -> None:
        values = {
            "reporter": conversation.reporter_id,
            "new_state": conversation.state,
            "new_object_id": conversation.object_id,
            "new_campaign_id": conversation.campaign_id,
            "new_channel": conversation.channel,
            "new_viewed": list(conversation.viewed),
            "new_draft": dict(conversation.draft),
            "at": utcnow(),
        }
        await self._hot.execute(_SAVE_CONVERSATION, values)

    async def chat_id(self, reporter_id: int) -> int | None:
        """Decrypt the chat id to reach a reporter (follow-ups, announcements)."""
        token = await self._session.scalar(select(Reporter.chat_id_encrypted).where(Reporter.id == reporter_id))
        return self._privacy.decrypt_chat_id(token) if token else None
