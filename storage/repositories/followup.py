"""Follow-up: the reporter's consent per tip and the tip's thread (questions, answers, additions).

Delivering questions is `storage.repositories.followup_outbox`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from storage.models import (
    MessageKind,
    Moderator,
    QuestionState,
    Reporter,
    Tip,
    TipMessage,
    TranslationStatus,
    utcnow,
)

REPORTER_TEXTS = (MessageKind.ANSWER, MessageKind.ADDITION)


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """One entry of a tip's thread as the dashboard shows it (never who the reporter is)."""

    id: int
    kind: str
    text_original: str
    language: str | None
    text_english: str | None
    translation_status: str
    text_sent: str | None
    machine_translated: bool | None
    moderator: str | None
    state: str | None
    question_id: int | None
    delivered_at: datetime | None
    delivery_failure: str | None
    read_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FollowupTarget:
    """Who a question about a tip would reach: nothing identifying, only what the checks need."""

    tip_id: int
    consent: bool
    reporter_id: int | None  # None: the reporter erased their data
    language: str | None
    blocked: bool
    unreachable: str | None  # why the last question could not be delivered, if it could not


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    message_id: int
    tip_id: int


@dataclass(frozen=True, slots=True)
class ReporterTip:
    tip_id: int
    created_at: datetime


class FollowupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # Consent.

    async def set_consent(self, tip_id: int, reporter_id: int, consent: bool) -> bool:
        """The reporter's own tip only; withdrawing also closes its questions not yet answered."""
        result = await self._session.execute(
            update(Tip)
            .where(Tip.id == tip_id, Tip.reporter_id == reporter_id)
            .values(followup_consent=consent, followup_consent_at=utcnow())
        )
        changed = bool(getattr(result, "rowcount", 0))
        if changed and not consent:
            await self._close_open_questions(Tip.id == tip_id)
        return changed

    async def withdraw_all(self, reporter_id: int) -> int:
        result = await self._session.execute(
            update(Tip)
            .where(Tip.reporter_id == reporter_id, Tip.followup_consent.is_(True))
            .values(followup_consent=False, followup_consent_at=utcnow())
        )
        await self._close_open_questions(Tip.reporter_id == reporter_id)
        return int(getattr(result, "rowcount", 0) or 0)

    async def _close_open_questions(self, tips: object) -> None:
        """Questions not yet answered are closed; those not yet sent are never sent."""
        await self._session.execute(
            update(TipMessage)
            .where(
                TipMessage.kind == MessageKind.QUESTION,
                TipMessage.state == QuestionState.OPEN,
                TipMessage.tip_id.in_(select(Tip.id).where(tips)),  # type: ignore[arg-type]
            )
            .values(state=QuestionState.CLOSED, delivery_next_attempt_at=None)
        )

    async def recent_tips(self, reporter_id: int, limit: int = 10, *, consented: bool = False) -> list[ReporterTip]:
        """The reporter's newest tips (only those that allow follow-up questions, if `consented`)."""
        statement = select(Tip.id, Tip.created_at).where(Tip.reporter_id == reporter_id)
        if consented:
            statement = statement.where(Tip.followup_consent.is_(True))
        rows = await self._session.execute(statement.order_by(Tip.id.desc()).limit(limit))
        return [ReporterTip(tip_id, created_at) for tip_id, created_at in rows.all()]

    # The dashboard side.

    async def target(self, tip_id: int) -> FollowupTarget | None:
        row = (
            await self._session.execute(
                select(Tip.id, Tip.followup_consent, Reporter.id, Reporter.language, Reporter.blocked)
                .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
                .where(Tip.id == tip_id)
            )
        ).first()
        if row is None:
            return None
        failure = await self._session.scalar(
            select(TipMessage.delivery_failure)
            .where(TipMessage.tip_id == tip_id, TipMessage.kind == MessageKind.QUESTION)
            .order_by(TipMessage.id.desc())
            .limit(1)
        )
        reporter_id = row[2] if row[2] is not None and row[3] is not None else None
        return FollowupTarget(row[0], bool(row[1]), reporter_id, row[3], bool(row[4]), failure)

    async def thread(self, tip_id: int) -> list[ThreadEntry]:
        rows = await self._session.execute(
            select(TipMessage, Moderator.username)
            .outerjoin(Moderator, Moderator.id == TipMessage.moderator_id)
            .where(TipMessage.tip_id == tip_id)
            .order_by(TipMessage.id)
        )
        return [_entry(message, username) for message, username in rows.all()]

    async def threads(self, tip_ids: list[int]) -> dict[int, list[ThreadEntry]]:
        """The threads of several tips at once (exports), by tip: only tips whose thread is not empty."""
        result: dict[int, list[ThreadEntry]] = {}
        if not tip_ids:
            return result
        if self._session.get_bind().dialect.name == "postgresql":
            # One array parameter: a thousand-item IN list cost more to render than the query took.
            wanted = TipMessage.tip_id == any_(bindparam("tip_ids", tip_ids, type_=ARRAY(Integer)))
        else:
            wanted = TipMessage.tip_id.in_(tip_ids)
        rows = await self._session.execute(
            select(TipMessage, Moderator.username)
            .outerjoin(Moderator, Moderator.id == TipMessage.moderator_id)
            .where(wanted)
            .order_by(TipMessage.tip_id, TipMessage.id)
        )
        for message, username in rows.all():
            result.setdefault(message.tip_id, []).append(_entry(message, username))
        return result

    async def open_questions(self, tip_id: int) -> int:
        return int(
            await self._session.scalar(
                select(func.count()).where(
                    TipMessage.tip_id == tip_id,
                    TipMessage.kind == MessageKind.QUESTION,
                    TipMessage.state == QuestionState.OPEN,
                )
            )
            or 0
        )

    async def questions_by_moderator_since(self, moderator_id: int, since: datetime) -> int:
        return int(
            await self._session.scalar(
                select(func.count()).where(
                    TipMessage.moderator_id == moderator_id,
                    TipMessage.kind == MessageKind.QUESTION,
                    TipMessage.created_at >= since,
                )
            )
            or 0
        )

    async def questions_to_reporter_since(self, reporter_id: int, since: datetime) -> int:
        return int(
            await self._session.scalar(
                select(func.count())
                .select_from(TipMessage)
                .join(Tip, Tip.id == TipMessage.tip_id)
                .where(
                    Tip.reporter_id == reporter_id,
                    TipMessage.kind == MessageKind.QUESTION,
                    TipMessage.created_at >= since,
                )
            )
            or 0
        )

    async def add_question(
        self, tip_id: int, moderator_id: int, english: str, text_sent: str, machine_translated: bool
    ) -> int:
        """Store the question; committing it is what queues its delivery (the row is the outbox)."""
        now = utcnow()
        message = TipMessage(
            tip_id=tip_id,
            kind=MessageKind.QUESTION,
            text_original=english,
            language="en",
            text_english=english,
            translation_status=TranslationStatus.NOT_NEEDED,
            text_sent=text_sent,
            machine_translated=machine_translated,
            moderator_id=moderator_id,
            state=QuestionState.OPEN,
            delivery_next_attempt_at=now,
            created_at=now,
        )
        self._session.add(message)
        await self._session.flush()
        return message.id

    async def mark_read(self, tip_id: int) -> int:
        result = await self._session.execute(
            update(TipMessage)
            .where(TipMessage.tip_id == tip_id, TipMessage.kind.in_(REPORTER_TEXTS), TipMessage.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # The reporter side.

    async def open_question(self, reporter_id: int, message_id: int) -> OpenQuestion | None:
        """The reporter's own still open question, if `message_id` is one."""
        return await self._find_open(reporter_id, TipMessage.id == message_id)

    async def question_replied_to(self, reporter_id: int, telegram_message_id: int) -> OpenQuestion | None:
        return await self._find_open(reporter_id, TipMessage.telegram_message_id == telegram_message_id)

    async def _find_open(self, reporter_id: int, condition: object) -> OpenQuestion | None:
        row = (
            await self._session.execute(
                select(TipMessage.id, TipMessage.tip_id)
                .join(Tip, Tip.id == TipMessage.tip_id)
                .where(
                    condition,  # type: ignore[arg-type]
                    Tip.reporter_id == reporter_id,
                    Tip.followup_consent.is_(True),
                    TipMessage.kind == MessageKind.QUESTION,
                    # Not `delivered_at`: the reporter may press "Answer" before the sender has recorded it.
                    TipMessage.state == QuestionState.OPEN,
                )
                .order_by(TipMessage.id.desc())
                .limit(1)
            )
        ).first()
        return OpenQuestion(row[0], row[1]) if row else None

    async def add_answer(self, question: OpenQuestion, text: str) -> int:
        """The answer joins the thread, queued for translation; the question is answered."""
        await self._session.execute(
            update(TipMessage).where(TipMessage.id == question.message_id).values(state=QuestionState.ANSWERED)
        )
        return await self._add_reporter_text(question.tip_id, MessageKind.ANSWER, text, question.message_id)

    async def decline(self, question: OpenQuestion) -> None:
        await self._session.execute(
            update(TipMessage).where(TipMessage.id == question.message_id).values(state=QuestionState.DECLINED)
        )

    async def add_addition(self, tip_id: int, reporter_id: int, text: str) -> int | None:
        """Text the reporter adds to their own earlier tip; None if the tip is not theirs."""
        owned = await self._session.scalar(select(Tip.id).where(Tip.id == tip_id, Tip.reporter_id == reporter_id))
        if owned is None:
            return None
        return await self._add_reporter_text(tip_id, MessageKind.ADDITION, text, None)

    async def _add_reporter_text(self, tip_id: int, kind: MessageKind, text: str, question_id: int | None) -> int:
        message = TipMessage(
            tip_id=tip_id,
            kind=kind,
            text_original=text,
            translation_status=TranslationStatus.PENDING if text.strip() else TranslationStatus.NOT_NEEDED,
            question_id=question_id,
        )
        self._session.add(message)
        await self._session.flush()
        return message.id


def _unread(tip_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    return and_(TipMessage.tip_id == tip_id, TipMessage.kind.in_(REPORTER_TEXTS), TipMessage.read_at.is_(None))


def answer_waiting() -> ColumnElement[bool]:
    """A WHERE condition on `tips`: a reporter's answer or addition no moderator has read yet."""
    return exists().where(_unread(Tip.id))


def unread_count(tip_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ScalarSelect[int]:
    """How many of the tip's answers and additions are unread (a correlated column for tip queries)."""
    return select(func.count()).select_from(TipMessage).where(_unread(tip_id)).scalar_subquery()


def _entry(message: TipMessage, username: str | None) -> ThreadEntry:
    return ThreadEntry(
        id=message.id,
        kind=message.kind,
        text_original=message.text_original,
        language=message.language,
        text_english=message.text_english,
        translation_status=message.translation_status,
        text_sent=message.text_sent,
        machine_translated=message.machine_translated,
        moderator=username,
        state=message.state,
        question_id=message.question_id,
        delivered_at=message.delivered_at,
        delivery_failure=message.delivery_failure,
        read_at=message.read_at,
        created_at=message.created_at,
    )
