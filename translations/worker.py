"""The translation worker: detects the language of each pending stored text and translates it to English.

Stored texts are tips and the reporter's answers and additions in a tip's follow-up thread,
claimed and batched together (one translation batch per source language).

Runs in the bot's process by default (a background task) or as `tracebot worker` processes.
Detection and translation are blocking CPU work, so they run in a worker thread; the event
loop only claims jobs and saves results. The original text is never modified.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from storage.models import TranslationStatus
from storage.repositories.translation_jobs import TranslationJob, TranslationResult
from storage.uow import Database
from translations.detect import Detection, LanguageDetector

log = logging.getLogger(__name__)

TARGET = "en"
HEARTBEAT_KIND = "translation"
# A worker whose heartbeat is older than this is taken for dead (it beats every `heartbeat_interval`).
HEARTBEAT_STALE_AFTER = timedelta(seconds=60)


class Translator(Protocol):
    """What the worker needs from `translations.engine.TranslationEngine`."""

    def can_translate(self, source: str, target: str = "en") -> bool: ...
    def translate_batch(self, source: str, texts: Sequence[str], target: str = "en") -> list[str]: ...
    def reload(self) -> None: ...


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    batch_size: int = 64
    poll_interval: float = 2.0
    lease: timedelta = timedelta(minutes=10)
    max_attempts: int = 6
    base_backoff: timedelta = timedelta(seconds=30)
    heartbeat_interval: float = 10.0


def backoff(attempts: int, base: timedelta) -> timedelta:
    """Exponential back-off: 30 s, 1 min, 2 min, ... capped at 6 hours."""
    delay: timedelta = base * (2 ** max(0, attempts - 1))
    return min(delay, timedelta(hours=6))


def process_batch(
    jobs: Sequence[TranslationJob], detector: LanguageDetector, translator: Translator
) -> list[TranslationResult]:
    """Blocking: detect languages, then one translation batch per source language (tips and thread texts alike)."""
    detections = detector.detect_many([(job.text, (job.ui_language,)) for job in jobs])
    by_language: dict[str, list[tuple[TranslationJob, Detection]]] = defaultdict(list)
    results: list[TranslationResult] = []
    for job, detection in zip(jobs, detections, strict=True):
        language = detection.language
        if language is None or not job.text.strip():
            results.append(_result(job, detection, TranslationStatus.NOT_NEEDED, with_language=False))
        elif language == TARGET:
            results.append(_result(job, detection, TranslationStatus.NOT_NEEDED))
        elif not translator.can_translate(language, TARGET):
            results.append(_result(job, detection, TranslationStatus.UNSUPPORTED))
        else:
            by_language[language].append((job, detection))
    for language, items in by_language.items():
        texts = [job.text for job, _detection in items]
        try:
            english = translator.translate_batch(language, texts, TARGET)
        except Exception as exc:  # noqa: BLE001 - one failing model must not stop the others
            # The class only: an engine's message may quote the text it choked on.
            log.warning("translating %d %s texts failed (%s)", len(texts), language, type(exc).__name__)
            results += [_result(job, det, TranslationStatus.FAILED, error=repr(exc)) for job, det in items]
            continue
        results += [
            _result(job, det, TranslationStatus.DONE, text_english=text)
            for (job, det), text in zip(items, english, strict=True)
        ]
    return results


def _result(
    job: TranslationJob,
    detection: Detection,
    status: TranslationStatus,
    *,
    with_language: bool = True,
    text_english: str | None = None,
    error: str | None = None,
) -> TranslationResult:
    return TranslationResult(
        job.row_id,
        status,
        detection.language if with_language else None,
        detection.confidence,
        detection.rule,
        text_english=text_english,
        error=error,
        kind=job.kind,
    )


class TranslationWorker:
    def __init__(
        self,
        database: Database,
        detector: LanguageDetector,
        translator: Translator,
        options: WorkerOptions | None = None,
    ) -> None:
        self._database = database
        self._detector = detector
        self._translator = translator
        self._options = options or WorkerOptions()
        self._wake = asyncio.Event()
        # Unique per process and start, readable in the heartbeat table: host, pid, random suffix.
        self.worker_id = f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._progress_at = 0.0  # loop time the work loop last started an iteration

    def wake(self) -> None:
        """A new tip is waiting: don't sleep out the poll interval."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch, process it, save the results; returns how many jobs were handled."""
        now = datetime.now(UTC)
        async with self._database.short() as uow:
            jobs = await uow.translation_jobs.claim(self._options.batch_size, now, self._options.lease)
            await uow.commit()
        if not jobs:
            return 0
        try:
            results = await asyncio.to_thread(process_batch, jobs, self._detector, self._translator)
        except Exception as exc:
            log.exception("translation batch failed")
            results = [
                TranslationResult(job.row_id, TranslationStatus.FAILED, error=repr(exc), kind=job.kind) for job in jobs
            ]
        await self._save(jobs, results)
        return len(jobs)

    async def _save(self, jobs: Sequence[TranslationJob], results: Sequence[TranslationResult]) -> None:
        now = datetime.now(UTC)
        by_key = {(job.kind, job.row_id): job for job in jobs}
        async with self._database.short() as uow:
            for result in results:
                if result.status is TranslationStatus.FAILED:
                    job = by_key[(result.kind, result.row_id)]
                    tries = job.attempts + 1
                    await uow.translation_jobs.retry_later(
                        job,
                        tries,
                        now + backoff(tries, self._options.base_backoff),
                        result.error or "unknown error",
                        give_up=tries >= self._options.max_attempts,
                    )
                else:
                    await uow.translation_jobs.complete(result, now)
            await uow.commit()

    async def requeue_unsupported(self) -> int:
        """Call after installing models: tips waiting for them are translated next."""
        await asyncio.to_thread(self._translator.reload)
        async with self._database.unit_of_work() as uow:
            # One UPDATE on the status index (no count of every tip first: this runs at each start).
            languages = {code for code in self._detector.languages if self._translator.can_translate(code, TARGET)}
            moved = await uow.translation_jobs.requeue_unsupported(languages)
            await uow.commit()
        return moved

    async def run_forever(self) -> None:
        log.info("translation worker started")
        loop = asyncio.get_running_loop()
        self._progress_at = loop.time()
        heartbeat = asyncio.create_task(self._heartbeat_forever(), name="translation-heartbeat")
        try:
            while True:
                self._progress_at = loop.time()
                try:
                    handled = await self.run_once()
                except Exception:
                    log.exception("translation worker iteration failed")
                    handled = 0
                if handled:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._options.poll_interval)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await self._forget_heartbeat()

    async def beat(self, started_at: datetime) -> None:
        """Record that this worker is alive (in the database, so every instance's /readyz sees it)."""
        now = datetime.now(UTC)
        async with self._database.short() as uow:
            await uow.heartbeats.beat(self.worker_id, HEARTBEAT_KIND, started_at, now)
            await uow.commit()

    async def _heartbeat_forever(self) -> None:
        """Beat every `heartbeat_interval` while the work loop makes progress.

        A batch stuck for longer than the lease stops the beats, so the worker shows as dead
        while its claimed tips go back to the queue.
        """
        loop, started_at = asyncio.get_running_loop(), datetime.now(UTC)
        try:  # rows of workers that died without removing theirs: once per start, not at every beat
            async with self._database.short() as uow:
                await uow.heartbeats.prune(HEARTBEAT_KIND, started_at - timedelta(days=1))
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - stale rows only cost a little space
            log.warning("pruning old worker heartbeats failed: %s", type(exc).__name__)
        while True:
            if loop.time() - self._progress_at < self._options.lease.total_seconds():
                try:
                    await self.beat(started_at)
                except Exception as exc:  # noqa: BLE001 - a missed beat is retried at the next interval
                    log.warning("translation worker heartbeat failed: %s", type(exc).__name__)
            await asyncio.sleep(self._options.heartbeat_interval)

    async def _forget_heartbeat(self) -> None:
        try:
            async with asyncio.timeout(5):
                async with self._database.short() as uow:
                    await uow.heartbeats.remove(self.worker_id)
                    await uow.commit()
        except Exception as exc:  # noqa: BLE001 - the row goes stale and is pruned later
            log.info("could not remove the worker heartbeat: %s", type(exc).__name__)
