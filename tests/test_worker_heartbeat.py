"""The translation worker's heartbeat: it beats while the work loop makes progress, stops when a batch hangs."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from storage.repositories import TipDraft
from storage.uow import Database
from translations.detect import LanguageDetector
from translations.worker import TranslationWorker, WorkerOptions

FAST = WorkerOptions(poll_interval=0.05, heartbeat_interval=0.05, lease=timedelta(seconds=0.5))


class HangingTranslator:
    """Knows German, and hangs in the middle of a batch until released (a stuck model)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def can_translate(self, source: str, target: str = "en") -> bool:
        return source == "de"

    def translate_batch(self, source: str, texts: Sequence[str], target: str = "en") -> list[str]:
        self.entered.set()
        self.release.wait(timeout=30)
        return ["translated"] * len(texts)

    def reload(self) -> None:
        pass


async def beat_of(database: Database, worker: TranslationWorker) -> datetime | None:
    async with database.unit_of_work() as uow:
        beat = await uow.heartbeats.get(worker.worker_id)
    return None if beat is None else beat.beat_at


async def until_beating(database: Database, worker: TranslationWorker) -> datetime:
    for _ in range(200):
        beat = await beat_of(database, worker)
        if beat is not None:
            return beat
        await asyncio.sleep(0.02)
    raise AssertionError("the worker never beat")


async def test_beats_while_working_and_forgets_itself_on_stop(database: Database) -> None:
    worker = TranslationWorker(database, LanguageDetector(), HangingTranslator(), FAST)
    task = asyncio.create_task(worker.run_forever())
    try:
        first = await until_beating(database, worker)
        await asyncio.sleep(0.3)
        later = await beat_of(database, worker)
        assert later is not None and later > first
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await beat_of(database, worker) is None, "a cleanly stopped worker leaves no heartbeat behind"


async def test_a_batch_stuck_past_its_lease_stops_the_beats(database: Database) -> None:
    translator = HangingTranslator()
    worker = TranslationWorker(database, LanguageDetector(), translator, FAST)
    task = asyncio.create_task(worker.run_forever())
    try:
        # Beating first, with nothing to do: on a slow machine the first beat could otherwise come
        # after a batch already hung past the lease, and there would be no beat to see stop.
        await until_beating(database, worker)
        async with database.unit_of_work() as uow:
            obj, _ = await uow.objects.upsert(
                reference="TAO-0001", question="Mug?", hint=None, image_path="m.png", image_sha256="0" * 64, position=0
            )
            await uow.tips.submit(
                TipDraft(
                    draft_token=str(uuid.uuid4()), object_id=obj.id, reporter_id=None, campaign_id=None,
                    recognised=True, country_code="DE", country_text=None, latitude=None, longitude=None,
                    ui_language="de",
                    text_original="Ich habe diese Tasse auf dem Markt in Leipzig gesehen, sie war sehr teuer.",
                )
            )  # fmt: skip
            await uow.commit()
        worker.wake()
        assert await asyncio.to_thread(translator.entered.wait, 10), "the batch never started"
        await asyncio.sleep(FAST.lease.total_seconds() + 0.2)  # the batch now hangs past its lease
        stalled = await beat_of(database, worker)
        await asyncio.sleep(0.3)
        assert await beat_of(database, worker) == stalled, "a hung worker must not look alive"
    finally:
        translator.release.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
