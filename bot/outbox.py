"""The outbox worker: sends announcements and thank-yous from committed outbox rows.

Each bot process runs a few senders. A sender claims one due row, waits for the shared limiter
(`storage.send_limiter`), commits "sending", calls the Bot API, then records the outcome. Because
"sending" is committed before the call, a process killed mid-send never repeats it: its row becomes
"interrupted" (at most once, see `storage.repositories.outbox`). A 429 pauses every sender in every
instance for `retry_after` and puts the row back; a 403 or a vanished chat unsubscribes the reporter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telegram.error import RetryAfter, TelegramError, TimedOut

from bot.metrics import OUTBOX_SENDS
from bot.services import BotServices
from handlers.context import TracebotApplication
from handlers.delivery import Failure, classify, retry_after_seconds
from handlers.news import thanks_text
from storage.models import OutboxState
from storage.privacy import InvalidToken
from storage.repositories.outbox import ANNOUNCEMENT, PREVIEW, THANKS, OutboxJob
from storage.send_limiter import SendLimiter, chat_key

log = logging.getLogger(__name__)

SENDERS = 4  # per process; the shared limiter, not this, sets the pace
CLAIM_LEASE = timedelta(seconds=10)  # a claim waits in the limiter (longer than a normal wait; safe if not)
SEND_LEASE = timedelta(seconds=20)  # longer than a Bot API call may take (timeouts are 5 s each)
IDLE_POLL = 1.0  # only one sender per process looks while the outbox is empty
RECOVER_EVERY = 5.0
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Outcome:
    state: OutboxState  # SENT, QUEUED (try again), FAILED or INTERRUPTED
    failure: str | None = None
    retry_in: float = 0.0
    unsubscribe: bool = False


class OutboxWorker:
    def __init__(self, application: TracebotApplication, services: BotServices, limiter: SendLimiter) -> None:
        self._application = application
        self._services = services
        self._limiter = limiter
        self._work = asyncio.Event()  # set while there may be rows to send: wakes the idle senders

    async def run_forever(self, senders: int = SENDERS) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._recover_forever(), name="outbox-recover")
            for index in range(senders):
                group.create_task(self._send_forever(watcher=index == 0), name=f"outbox-sender-{index}")

    async def _recover_forever(self) -> None:
        while True:
            try:
                await self.recover()
            except Exception:
                log.exception("outbox recovery failed")
            await asyncio.sleep(RECOVER_EVERY)

    async def recover(self) -> None:
        async with self._services.database.short() as uow:
            requeued, interrupted = await uow.outbox.recover(datetime.now(UTC))
            finished = await uow.outbox.finish_announcements()
            await uow.commit()
        if requeued or interrupted:
            log.warning("outbox: %d claims of stopped workers queued again, %d sends in doubt", requeued, interrupted)
        for announcement_id in finished:
            log.info("announcement %s: sent", announcement_id)

    async def _send_forever(self, *, watcher: bool) -> None:
        """Send while there is work; idle, the watcher polls and the others wait until it finds some."""
        while True:
            try:
                worked = await self.send_one()
            except Exception:
                log.exception("outbox sender failed")
                worked = False
            if worked:
                self._work.set()
            elif watcher:
                await asyncio.sleep(IDLE_POLL)
            else:
                self._work.clear()
                await self._work.wait()

    async def send_one(self) -> bool:
        """Claim and send one row; False when nothing was due."""
        database = self._services.database
        async with database.short() as uow:
            jobs = await uow.outbox.claim(datetime.now(UTC), CLAIM_LEASE)
            await uow.commit()
        if not jobs:
            return False
        job = jobs[0]
        send = await self._prepare(job)
        if isinstance(send, Outcome):  # nothing to send to (erased reporter, undecryptable chat)
            async with database.short() as uow:
                if await uow.outbox.mark_sending(job, datetime.now(UTC), SEND_LEASE):
                    await uow.outbox.mark_failed(job.id, send.failure or "unsendable")
                else:  # e.g. they unsubscribed meanwhile: the next claim drops the row
                    await uow.outbox.unclaim(job)
                await uow.commit()
            return True
        key = chat_key(job.reporter_id) if job.reporter_id is not None else PREVIEW
        grant = await self._limiter.acquire(key)
        try:
            async with database.short() as uow:
                started = await uow.outbox.mark_sending(job, datetime.now(UTC), SEND_LEASE)
                if not started:
                    await uow.outbox.unclaim(job)
                await uow.commit()
            outcome = await self._call(send) if started else None
        finally:
            await asyncio.shield(self._limiter.release(grant))
        if outcome is not None:
            await self._record(job, outcome, key)
        return True

    async def _prepare(self, job: OutboxJob) -> Callable[[], Awaitable[object]] | Outcome:
        """The Bot API call for a row, rendered in the reporter's language."""
        chat_id = self._chat_id(job)
        if isinstance(chat_id, Outcome):
            return chat_id
        bot = self._application.bot
        if job.kind == THANKS:
            text = thanks_text(self._services.catalogs.for_language(job.language).gettext)
            return lambda: bot.send_message(chat_id, text)
        if job.kind not in (ANNOUNCEMENT, PREVIEW) or job.announcement_id is None:
            return Outcome(OutboxState.FAILED, "unknown_kind")
        async with self._services.database.short() as uow:
            announcement = await uow.announcements.get(job.announcement_id)
            obj = await uow.objects.get(announcement.object_id) if announcement and announcement.object_id else None
        if announcement is None:
            return Outcome(OutboxState.FAILED, "no_announcement")
        text = announcement.translations.get(job.language) or announcement.text_en
        if obj is None:
            return lambda: bot.send_message(chat_id, text, parse_mode=None)
        if obj.telegram_file_id:
            file_id = obj.telegram_file_id
            return lambda: bot.send_photo(chat_id, file_id, caption=text, parse_mode=None, protect_content=True)
        try:
            image = await asyncio.to_thread((self._services.media_dir / obj.image_path).read_bytes)
        except OSError:
            log.warning("announcement %s: the object's image cannot be read", job.announcement_id)
            return Outcome(OutboxState.FAILED, "no_image")
        object_id, image_path, database = obj.id, obj.image_path, self._services.database

        async def upload() -> object:
            message = await bot.send_photo(chat_id, image, caption=text, parse_mode=None, protect_content=True)
            if message.photo:  # later rows reuse Telegram's copy instead of uploading it once per subscriber
                try:
                    async with database.short() as uow:
                        await uow.objects.remember_file_id(object_id, message.photo[-1].file_id, image_path)
                        await uow.commit()
                except Exception:  # the message went out: a lost cache entry must not make it look unsent
                    log.exception("announcement %s: the photo's file id was not kept", job.announcement_id)
            return message

        return upload

    def _chat_id(self, job: OutboxJob) -> int | Outcome:
        if job.kind == PREVIEW:
            preview_chat = self._services.settings.announcement_preview_chat_id
            return preview_chat if preview_chat is not None else Outcome(OutboxState.FAILED, "no_preview_chat")
        if job.chat_id_encrypted is None:
            return Outcome(OutboxState.FAILED, "no_chat")
        try:
            return self._services.database.privacy.decrypt_chat_id(job.chat_id_encrypted)
        except InvalidToken:
            return Outcome(OutboxState.FAILED, "undecryptable")

    async def _call(self, send: Callable[[], Awaitable[object]]) -> Outcome:
        try:
            await send()
        except RetryAfter as error:
            return Outcome(OutboxState.QUEUED, "retry_after", retry_in=retry_after_seconds(error))
        except TimedOut:
            # Telegram may have delivered it before the answer was lost: do not risk a duplicate.
            return Outcome(OutboxState.INTERRUPTED, "timed_out")
        except TelegramError as error:
            failure = classify(error)
            if failure is Failure.TRANSIENT:
                return Outcome(OutboxState.QUEUED, "transient", retry_in=5.0)
            return Outcome(OutboxState.FAILED, failure.value, unsubscribe=failure is Failure.CHAT_GONE)
        return Outcome(OutboxState.SENT)

    async def _record(self, job: OutboxJob, outcome: Outcome, key: str) -> None:
        OUTBOX_SENDS.labels(kind=job.kind, outcome=outcome.failure or "sent").inc()
        if outcome.failure == "retry_after":
            await self._limiter.pause(outcome.retry_in, key)
        now = datetime.now(UTC)
        async with self._services.database.short() as uow:
            if outcome.state is OutboxState.SENT:
                await uow.outbox.mark_sent(job.id, now)
            elif outcome.state is OutboxState.QUEUED and (
                outcome.failure == "retry_after" or job.attempts + 1 < MAX_ATTEMPTS  # a 429 is never our fault
            ):
                await uow.outbox.retry_at(job.id, now + timedelta(seconds=outcome.retry_in), outcome.failure or "")
            else:
                final = OutboxState.FAILED if outcome.state is OutboxState.QUEUED else outcome.state
                await uow.outbox.mark_failed(job.id, outcome.failure or "failed", state=final)
            if outcome.unsubscribe and job.reporter_id is not None:
                # The user blocked the bot (or the chat is gone): no more news. `blocked` is left alone:
                # it is the moderators' ban, and the user may come back and talk to us again.
                await uow.reporters.update(job.reporter_id, wants_news=False)
            await uow.commit()
        if outcome.state is not OutboxState.SENT:
            log.info("outbox %s (%s): %s", job.id, job.kind, outcome.failure)
