"""A tip's follow-up thread on the dashboard: what it shows, and whether a question may be asked.

The desk (`FOLLOWUP`) is set by the composition root: the argos engine that translates
questions en→xx, the function that writes the message exactly as the reporter will read it
(in their language, from the bot's catalogs), and the caps from the settings. Without it (a
dashboard run without the bot) the thread is shown but no question can be asked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from storage.repositories.followup import FollowupTarget
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_QUESTION = 1000

# Why a question cannot be asked, in the moderator's words (the audit trail stores the key).
REFUSALS = {
    "no_consent": "The reporter has not agreed to follow-up questions about this tip.",
    "no_reporter": "The reporter deleted their data; they cannot be reached.",
    "blocked": "The reporter is blocked.",
    "unreachable": "The reporter cannot be reached (they blocked the bot or their chat is gone).",
    "open_questions": "This tip already has the most unanswered questions allowed.",
    "moderator_hourly": "You have asked the most questions allowed in one hour. Try again later.",
    "reporter_daily": "This reporter has been asked the most questions allowed in one day.",
    "unavailable": "Questions cannot be sent from this dashboard (the bot is not running here).",
}
# Delivery failures that mean nothing reaches the reporter any more (see bot/maintenance.py).
UNREACHABLE = ("chat_gone", "no_chat", "undecryptable")


class QuestionTranslator(Protocol):
    def can_translate(self, source: str, target: str = "en") -> bool: ...
    def translate_batch(self, source: str, texts: Sequence[str], target: str = "en") -> list[str]: ...


# (reporter language, tip id, object reference, question body, machine-translated?) -> the message.
Composer = Callable[[str, int, str, str, bool], str]


@dataclass(frozen=True, slots=True)
class FollowupLimits:
    open_per_tip: int = 3
    per_moderator_hour: int = 20
    per_reporter_day: int = 3


@dataclass(frozen=True, slots=True)
class FollowupDesk:
    translator: QuestionTranslator | None
    compose: Composer
    limits: FollowupLimits


FOLLOWUP = web.AppKey("followup_desk", FollowupDesk)


@dataclass(frozen=True, slots=True)
class QuestionPreview:
    english: str
    text_sent: str
    machine_translated: bool
    language: str


def desk(request: web.Request) -> FollowupDesk | None:
    return request.config_dict.get(FOLLOWUP)


async def refusal(uow: UnitOfWork, target: FollowupTarget, moderator_id: int, limits: FollowupLimits) -> str | None:
    """The REFUSALS key that forbids a new question about this tip now, or None."""
    if not target.consent:
        return "no_consent"
    if target.reporter_id is None:
        return "no_reporter"
    if target.blocked:
        return "blocked"
    if target.unreachable in UNREACHABLE:
        return "unreachable"
    if await uow.followup.open_questions(target.tip_id) >= limits.open_per_tip:
        return "open_questions"
    now = datetime.now(UTC)
    if await uow.followup.questions_by_moderator_since(moderator_id, now - timedelta(hours=1)) >= (
        limits.per_moderator_hour
    ):
        return "moderator_hourly"
    if await uow.followup.questions_to_reporter_since(target.reporter_id, now - timedelta(days=1)) >= (
        limits.per_reporter_day
    ):
        return "reporter_daily"
    return None


async def preview_question(
    followup: FollowupDesk, english: str, language: str, tip_id: int, object_reference: str
) -> QuestionPreview:
    """Translate en→`language` off the event loop (English with a note where no model exists)."""
    translator = followup.translator
    body, translated = english, language == "en"  # English needs no translation and no note
    if not translated and translator is not None:
        try:
            if await asyncio.to_thread(translator.can_translate, "en", language):
                (body,) = await asyncio.to_thread(translator.translate_batch, "en", [english], language)
                translated = True
        except Exception as exc:  # noqa: BLE001 - a broken model: the English goes out with the note
            log.warning("translating a question en->%s failed (%s)", language, type(exc).__name__)
            body = english
    text = followup.compose(language, tip_id, object_reference, body, translated)
    return QuestionPreview(english, text, translated, language)


async def thread_context(uow: UnitOfWork, request: web.Request, tip_id: int, moderator_id: int) -> dict[str, Any]:
    """What tip.html needs for the thread section."""
    target = await uow.followup.target(tip_id)
    thread = await uow.followup.thread(tip_id)
    followup = desk(request)
    refused = None
    if target is not None:
        refused = "unavailable" if followup is None else await refusal(uow, target, moderator_id, followup.limits)
    return {
        "thread": thread,
        "followup_target": target,
        "question_refusal": REFUSALS.get(refused) if refused else None,
        "unread_answers": sum(1 for entry in thread if entry.kind != "question" and entry.read_at is None),
        "max_question": MAX_QUESTION,
    }
