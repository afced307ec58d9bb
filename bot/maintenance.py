"""Background upkeep in the bot process: re-send lost tip confirmations, announce urgent tips, apply retention."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
from telegram import InlineKeyboardMarkup
from telegram.error import RetryAfter, TelegramError

from bot.services import BotServices
from bot.urgent_alert import TIMEOUT as ALERT_TIMEOUT
from bot.urgent_alert import send_due_alerts
from handlers.context import TracebotApplication
from handlers.delivery import Failure, classify, retry_after_seconds
from handlers.followup import question_keyboard
from handlers.tip import confirmation_text
from handlers.turn import Step
from handlers.urgent import contacts_message, passed_as_urgent
from storage.db import analyze_sqlite, checkpoint_sqlite, is_sqlite
from storage.privacy import InvalidToken
from storage.repositories.followup_outbox import DueQuestion
from storage.repositories.retention import Batch, PurgeReport, RetentionRepository
from storage.repositories.tips import DueConfirmation
from storage.send_limiter import SendLimiter, chat_key
from storage.uow import Database

log = logging.getLogger(__name__)

UPDATE_ID_RETENTION = timedelta(days=7)  # Telegram stops redelivering long before this
CLAIM_BATCH = 50
RETRY_CAP = timedelta(hours=1)
DELIVERED = "delivered"
T = TypeVar("T")


def retry_delay(attempt: int, base: timedelta) -> timedelta:
    """How long to wait after the sweeper's `attempt`-th try: `base`, doubling each time, at most RETRY_CAP."""
    doublings: int = min(max(attempt - 1, 0), 20)
    return min(RETRY_CAP, base * (1 << doublings))


class Claim:
    """A batch claimed by a sweeper: each row is this instance's until its back-off runs out.

    The claim moved each row's next attempt `retry_delay(attempt, base)` past the claim's start;
    after that another instance may claim the same row. A send that would start (or, having waited
    for the limiter, whose 429 pause can last minutes, would go out) past most of that lease is not
    made: the row stays due and goes out at a later round. Make it before the claim's transaction,
    so time spent waiting for that transaction counts against the lease too.
    """

    def __init__(self, base: timedelta) -> None:
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()
        self._base = base

    def held(self, attempt: int) -> bool:
        lease = retry_delay(attempt, self._base).total_seconds()
        return self._loop.time() < self._started + lease * 0.8


async def _send_claimed(
    limiter: SendLimiter, claim: Claim, key: str, what: str, attempt: int, send: Callable[[], Awaitable[T]]
) -> T | str | None:
    """One proactive send through the shared limiter, for a claimed row.

    Returns what `send` returned once Telegram accepted it, the reason (a `Failure` value) it never
    can be delivered, or None to try again later (429, a transient error, or the claim ran out).
    """
    if not claim.held(attempt):
        log.info("%s: the claim ran out before sending; left for a later round", what)
        return None
    try:
        async with limiter.slot(key):
            if not claim.held(attempt):
                log.info("%s: the claim ran out while waiting to send; left for a later round", what)
                return None
            return await send()
    except RetryAfter as error:
        await limiter.pause(retry_after_seconds(error), key)
        log.warning("%s not sent (429); retrying later", what)
        return None
    except TelegramError as error:
        failure = classify(error)
        name = type(error).__name__
        if failure is Failure.TRANSIENT:
            log.warning("%s not sent on attempt %d (%s); retrying later", what, attempt, name)
            return None
        log.info("%s undeliverable (%s, %s)", what, name, failure.value)
        return failure.value


async def resend_unconfirmed(
    application: TracebotApplication, services: BotServices, limiter: SendLimiter | None = None
) -> int:
    """Tell reporters the reference of committed tips they may never have been told about.

    The claim is a short transaction that also reschedules each claimed tip by the back-off, so
    another instance will not take it meanwhile and a failing tip does not keep the head of the
    line; messages go out after it, so no database lock is held while talking to Telegram. A
    permanent refusal (chat gone, bot blocked, message refused) marks the reference undeliverable,
    which the dashboard shows on the tip. A crash between sending and recording means a reporter
    may rarely be told twice, never not at all.
    """
    limiter = limiter or SendLimiter(services.database, services.settings.telegram_rate_limit)
    grace = timedelta(seconds=services.settings.confirmation_grace_seconds)
    claim = Claim(grace)
    now = datetime.now(UTC)
    async with services.database.short() as uow:
        due = await uow.confirmations.claim_due(
            now, now - grace, lambda attempt: retry_delay(attempt, grace), limit=CLAIM_BATCH
        )
        await uow.commit()
    sent = 0
    for tip in due:
        outcome = await _send_reference(application, services, limiter, claim, tip)
        if outcome is None:
            continue  # transient: the claim already scheduled the next attempt
        async with services.database.short() as uow:
            if outcome == DELIVERED:
                await uow.confirmations.mark_confirmed(tip.tip_id)
                sent += 1
            else:
                await uow.confirmations.mark_undeliverable(tip.tip_id, outcome)
            await uow.commit()
    if sent:
        log.info("re-sent %d tip confirmations", sent)
    return sent


async def _send_reference(
    application: TracebotApplication, services: BotServices, limiter: SendLimiter, claim: Claim, tip: DueConfirmation
) -> str | None:
    """DELIVERED, a reason the reference can never be delivered, or None to try again later."""
    if tip.chat_id_encrypted is None:
        log.info("tip %s: the reporter erased their data; reference not delivered", tip.tip_id)
        return "no_chat"
    try:
        chat_id = services.database.privacy.decrypt_chat_id(tip.chat_id_encrypted)
    except InvalidToken:
        log.warning("tip %s: chat id cannot be decrypted with the current SECRET_KEY", tip.tip_id)
        return "undecryptable"
    _ = services.catalogs.for_language(tip.language or services.settings.default_language).gettext
    # A re-send is proactive: it shares the limiter with announcements (keyed by tip when no reporter).
    key = chat_key(tip.reporter_id) if tip.reporter_id is not None else f"tip:{tip.tip_id}"
    if tip.urgent:  # the lost message was the emergency contacts: they matter more than the reference
        contacts = contacts_message(_, services.hotlines, tip.country_code)
        text = f"{contacts}\n\n{passed_as_urgent(_, tip.tip_id)}"
    else:
        text = confirmation_text(_, tip.tip_id, followup=tip.followup_consent)

    async def send() -> str:
        await application.bot.send_message(chat_id, text)
        return DELIVERED

    outcome = await _send_claimed(limiter, claim, key, f"tip {tip.tip_id}: reference", tip.attempt, send)
    if outcome == Failure.CHAT_GONE.value and tip.reporter_id is not None:
        async with services.database.short() as uow:  # a blocked bot sends them no news either
            await uow.reporters.update(tip.reporter_id, wants_news=False)
            await uow.commit()
    return outcome


async def send_due_questions(
    application: TracebotApplication, services: BotServices, limiter: SendLimiter | None = None
) -> int:
    """Deliver committed follow-up questions (the `tip_messages` outbox), like the reference sweeper.

    The claim commits each question's next attempt in the future before anything is sent, so a
    crash between the moderator's commit and the send re-sends it once, at the next round after
    the restart; only a crash after Telegram accepted it and before `mark_delivered` could repeat
    it. A permanent refusal (bot blocked, chat gone, data deleted) marks the question
    undeliverable, which the tip page shows as "reporter unreachable".
    """
    limiter = limiter or SendLimiter(services.database, services.settings.telegram_rate_limit)
    grace = timedelta(seconds=services.settings.confirmation_grace_seconds)
    claim = Claim(grace)
    now = datetime.now(UTC)
    async with services.database.short() as uow:
        due = await uow.followup_outbox.claim_due(now, lambda attempt: retry_delay(attempt, grace), limit=CLAIM_BATCH)
        await uow.commit()
    sent = 0
    for question in due:
        outcome = await _deliver_question(application, services, limiter, claim, question)
        if outcome is None:
            continue  # transient: the claim already scheduled the next attempt
        async with services.database.short() as uow:
            details: dict[str, object] = {"question_id": question.message_id}
            if isinstance(outcome, int):
                await uow.followup_outbox.mark_delivered(question.message_id, outcome)
                action = "followup.delivered"
                sent += 1
            else:
                await uow.followup_outbox.mark_undeliverable(question.message_id, outcome)
                action, details["reason"] = "followup.undeliverable", outcome
            uow.audit.append(actor="bot", action=action, target_type="tip", target_id=question.tip_id, details=details)
            await uow.commit()
    return sent


async def send_question(
    application: TracebotApplication, chat_id: int, text: str, keyboard: InlineKeyboardMarkup
) -> int:
    """The one place a follow-up question goes to Telegram (plain text, exactly as previewed); its message id."""
    message = await application.bot.send_message(chat_id, text, parse_mode=None, reply_markup=keyboard)
    return message.message_id


async def _deliver_question(
    application: TracebotApplication, services: BotServices, limiter: SendLimiter, claim: Claim, question: DueQuestion
) -> int | str | None:
    """The Telegram message id once delivered, a reason it never can be, or None to try again later."""
    if not question.consent:
        return "no_consent"  # withdrawn after it was committed
    if question.chat_id_encrypted is None:
        return "no_chat"
    try:
        chat_id = services.database.privacy.decrypt_chat_id(question.chat_id_encrypted)
    except InvalidToken:
        return "undecryptable"
    language = question.language or services.settings.default_language
    gettext = services.catalogs.for_language(language).gettext
    # A question is proactive: it shares the limiter with reference re-sends and announcements.
    key = chat_key(question.reporter_id) if question.reporter_id is not None else f"tip:{question.tip_id}"
    keyboard = question_keyboard(gettext, question.message_id)

    async def send() -> int:
        return await send_question(application, chat_id, question.text_sent, keyboard)

    return await _send_claimed(limiter, claim, key, f"question {question.message_id}", question.attempt, send)


RETENTION_BATCH = 1_000  # rows per transaction
RETENTION_PAUSE = 0.05  # seconds between batches: turns waiting for the database take it in between


async def apply_retention(
    database: Database, *, retention_days: int, batch: int = RETENTION_BATCH, pause: float = RETENTION_PAUSE
) -> PurgeReport:
    """Purge what retention says is due, in batches of at most `batch` rows, each its own transaction.

    A turn waiting for SQLite's write lock retries every few milliseconds (at most 50), so a pause of
    `pause` between batches lets every waiting turn in; on PostgreSQL no row stays locked long.
    """
    if batch < 1:
        raise ValueError("a retention batch takes at least one row")
    now = datetime.now(UTC)
    personal_before = now - timedelta(days=retention_days)

    async def batches(purge: Callable[[RetentionRepository, int], Awaitable[Batch]]) -> int:
        purged, after = 0, 0
        while True:
            async with database.unit_of_work() as uow:
                done = await purge(uow.retention, after)
                await uow.commit()
            purged += done.purged
            if done.next_after is None:
                return purged
            after = done.next_after
            await asyncio.sleep(pause)

    report = PurgeReport(
        drafts=await batches(
            lambda retention, after: retention.drop_stale_drafts(
                personal_before, Step.BROWSING.value, after=after, limit=batch
            )
        ),
        reporters=await batches(
            lambda retention, after: retention.erase_idle_reporters(personal_before, after=after, limit=batch)
        ),
        update_ids=await batches(
            lambda retention, _after: retention.forget_update_ids(now - UPDATE_ID_RETENTION, limit=batch)
        ),
    )
    if report.drafts or report.reporters:
        log.info("retention: %d drafts dropped, %d idle reporters erased", report.drafts, report.reporters)
    return report


HOURLY = 3600.0  # seconds between retention rounds (and SQLite statistics)
RETRY_HOURLY = 300.0  # seconds before a failed round is tried again


async def refresh_sqlite_statistics(url: str) -> None:
    """The planner's statistics (see `analyze_sqlite`); a failure is logged and never holds retention back."""
    try:
        await asyncio.to_thread(analyze_sqlite, url)
    except sqlite3.Error:
        log.warning("SQLite statistics not refreshed this hour", exc_info=True)


async def run_maintenance(
    application: TracebotApplication, services: BotServices, limiter: SendLimiter, interval: float = 5.0
) -> None:
    """Forever, every `interval` seconds: confirmations, follow-up questions, SQLite's checkpoint."""
    while True:
        try:
            await resend_unconfirmed(application, services, limiter)
            await send_due_questions(application, services, limiter)
            if is_sqlite(services.settings.database_url):
                await asyncio.to_thread(checkpoint_sqlite, services.settings.database_url)
        except Exception:
            log.exception("maintenance round failed")
        await asyncio.sleep(interval)


async def run_hourly(services: BotServices) -> None:
    """Forever, at start and then hourly: retention and SQLite's statistics.

    Its own task: a purge after a burst takes its batches' pauses (about a minute per million rows),
    and confirmations and follow-up questions must not wait for it.
    """
    while True:
        try:
            if is_sqlite(services.settings.database_url):
                await refresh_sqlite_statistics(services.settings.database_url)
            await apply_retention(services.database, retention_days=services.settings.retention_days)
        except Exception:
            log.exception("retention round failed; tried again in %.0f minutes", RETRY_HOURLY / 60)
            await asyncio.sleep(RETRY_HOURLY)  # what was purged stays purged; the rest is still due
            continue
        await asyncio.sleep(HOURLY)


async def run_alerts(services: BotServices, interval: float = 5.0) -> None:
    """Forever: post due urgent alerts every `interval` seconds.

    A loop of its own: the maintenance loop's Telegram sends wait for the shared limiter (a 429
    pauses every instance, possibly for minutes), and an alert about a child in danger must not.
    """
    async with aiohttp.ClientSession(timeout=ALERT_TIMEOUT) as http:
        while True:
            try:
                await send_due_alerts(services.settings, services.database, http)
            except Exception:
                log.exception("urgent alert round failed")
            await asyncio.sleep(interval)
