"""Tips are translated to English by the worker, through a real (tiny) argos package."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from emulator import BotApiEmulator
from storage.models import Tip
from tests.support.argos_models import build_argos_package, toy_translate
from tests.support.followup import submit_tip
from tests.support.harness import RunningBot, make_settings, running_bot
from translations.models import install_package_files

GERMAN_TIP = "Ich habe die rote Tasche hier gesehen. Der Mann ist sehr gross!"


async def wait_for_status(bot: RunningBot, tip_id: int, status: str, within: float = 20.0) -> Tip:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with bot.services.database.session_factory() as session:
            tip = await session.get(Tip, tip_id)
        assert tip is not None
        if tip.translation_status == status:
            return tip
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"tip {tip_id} stayed {tip.translation_status!r}, expected {status!r}")
        await asyncio.sleep(0.1)


async def test_unsupported_then_model_installed_then_translated(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    packages = tmp_path / "argos-packages"
    settings = make_settings(database_url, emulator, tmp_path / "media", argos_packages_dir=packages)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        tip_id = await submit_tip(emulator, 3001, "de", GERMAN_TIP, consent=False)
        tip = await wait_for_status(bot, tip_id, "unsupported")
        assert tip.language == "de" and tip.language_confidence is not None and tip.language_rule
        assert tip.text_english is None

        await asyncio.to_thread(install_package_files, [build_argos_package("de", "en", "tiny")], packages)
        worker = bot.services.translation_worker
        assert worker is not None
        assert await worker.requeue_unsupported() == 1
        worker.wake()
        tip = await wait_for_status(bot, tip_id, "done")
        assert tip.text_english == toy_translate(GERMAN_TIP, "de", "en")
        assert tip.text_original == GERMAN_TIP, "the original is kept as it was"
        assert tip.translated_at is not None


async def test_english_is_never_translated(bot: RunningBot, emulator: BotApiEmulator) -> None:
    text = "I have seen this red bag in a shop in Leeds, it is a brand"
    tip_id = await submit_tip(emulator, 3002, "en", text, consent=False)
    tip = await wait_for_status(bot, tip_id, "not_needed")
    assert tip.language == "en" and tip.text_english is None


async def test_broken_model_is_retried_with_backoff(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    packages = tmp_path / "argos-packages"
    (model,) = await asyncio.to_thread(install_package_files, [build_argos_package("de", "en", "tiny")], packages)
    (model.model_dir / "model.bin").write_bytes(b"corrupted")  # a real engine failure, not a fake translator
    settings = make_settings(database_url, emulator, tmp_path / "media", argos_packages_dir=packages)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        tip_id = await submit_tip(emulator, 3003, "de", GERMAN_TIP, consent=False)
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            async with bot.services.database.session_factory() as session:
                tip = await session.get(Tip, tip_id)
            assert tip is not None
            if tip.translation_attempts:
                break
            assert asyncio.get_running_loop().time() < deadline, "the failure was never recorded"
            await asyncio.sleep(0.1)
        assert tip.translation_status == "pending", "a failed batch stays queued for a retry"
        assert tip.translation_error and tip.translation_next_attempt_at is not None
        assert tip.translation_next_attempt_at > datetime.now(UTC)
        assert tip.text_english is None and tip.text_original == GERMAN_TIP


async def test_claims_of_a_crashed_worker_expire(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media", translation_worker="off")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        assert bot.services.translation_worker is None
        tip_id = await submit_tip(emulator, 3004, "en", "A red bag seen in Dover", consent=False)
        database = bot.services.database
        for _ in range(100):  # the confirmation briefly locks the row; SKIP LOCKED would pass it by
            async with database.session_factory() as session:
                if await session.scalar(select(Tip.confirmed_at).where(Tip.id == tip_id)) is not None:
                    break
            await asyncio.sleep(0.05)
        lease = timedelta(minutes=10)
        now = datetime.now(UTC)
        async with database.unit_of_work() as uow:  # a worker claims the job, then "crashes"
            claimed = await uow.translation_jobs.claim(10, now, lease)
            await uow.commit()
        assert [job.row_id for job in claimed] == [tip_id]
        async with database.unit_of_work() as uow:
            assert await uow.translation_jobs.claim(10, now + timedelta(minutes=1), lease) == []
            again = await uow.translation_jobs.claim(10, now + lease + timedelta(seconds=1), lease)
        assert [job.row_id for job in again] == [tip_id]
        async with database.session_factory() as session:
            tip = await session.get(Tip, tip_id)
        assert tip is not None and tip.translation_status == "pending"
