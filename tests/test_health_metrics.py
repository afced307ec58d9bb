"""`/healthz`, `/readyz` and the Prometheus metrics of a running bot (real PTB against the emulator)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text, update

from bot import health
from emulator import BotApiEmulator
from storage.migrate import head_revision
from storage.models import Tip, WorkerHeartbeat
from tests.support.flows import opt_in, send_tip
from tests.support.harness import RunningBot, make_settings, running_bot


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def wait_for_heartbeat(running: RunningBot) -> None:
    for _ in range(100):
        async with running.services.database.session_factory() as session:
            if await session.scalar(select(WorkerHeartbeat.worker_id)):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the inline translation worker never beat")


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    assert condition()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_ready_when_database_migrations_and_worker_are(bot: RunningBot) -> None:
    assert await get_json(f"{bot.url}/healthz") == (200, {"status": "ok"})
    await wait_for_heartbeat(bot)
    status, body = await get_json(f"{bot.url}/readyz")
    assert status == 200, body
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "translation_worker": "ok"},
    }


async def test_not_ready_behind_on_migrations(bot: RunningBot) -> None:
    async with bot.services.database.session_factory() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = '0003'"))
        await session.commit()
    status, body = await get_json(f"{bot.url}/readyz")
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"]["migrations"] == f"at 0003, head is {head_revision()} (run `tracebot db upgrade`)"
    assert (await get_json(f"{bot.url}/healthz"))[0] == 200, "alive all the same: no restart would help"


async def test_not_ready_when_the_worker_stops_beating(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    await wait_for_heartbeat(bot)
    async with bot.services.database.session_factory() as session:
        await session.execute(update(WorkerHeartbeat).values(beat_at=datetime.now(UTC) - timedelta(minutes=5)))
        await session.commit()
    monkeypatch.setattr(health, "HEARTBEAT_STALE_AFTER", timedelta(minutes=1))
    status, body = await get_json(f"{bot.url}/readyz")
    if status == 200:  # the worker beat again between our update and the probe: it is alive, so try stale=0
        monkeypatch.setattr(health, "HEARTBEAT_STALE_AFTER", timedelta(0))
        status, body = await get_json(f"{bot.url}/readyz")
    assert status == 503
    assert body["checks"]["translation_worker"].startswith("last heartbeat ")


async def test_not_ready_when_the_database_is_unreachable(bot: RunningBot) -> None:
    database = bot.services.database
    working = database.session_factory

    def broken() -> Any:
        raise ConnectionRefusedError(111, "Connect call failed")

    database.session_factory = broken  # type: ignore[assignment]
    try:
        status, body = await get_json(f"{bot.url}/readyz")
    finally:
        database.session_factory = working
    assert status == 503 and body["checks"] == {"database": "unreachable (ConnectionRefusedError)"}


async def test_separate_workers_are_reported_but_do_not_make_an_instance_unready(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media", translation_worker="off")
    async with running_bot(settings) as running:
        status, body = await get_json(f"{running.url}/readyz")
    assert status == 200
    assert body["checks"]["translation_worker"] == "separate processes; none has beaten yet"


@pytest.fixture
async def bot_without_worker(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """Tips stay pending: nothing translates them."""
    settings = make_settings(database_url, emulator, tmp_path / "media", translation_worker="off")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as running:
        yield running


async def scrape(running: RunningBot) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"{running.url}/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_metrics_count_updates_tips_queue_and_api_errors(
    bot_without_worker: RunningBot, emulator: BotApiEmulator
) -> None:
    running = bot_without_worker
    handled = sample("tracebot_updates_handled_total", kind="message")
    pressed = sample("tracebot_updates_handled_total", kind="callback_query")
    observed = sample("tracebot_update_handling_seconds_count", kind="message")
    tips = sample("tracebot_tips_committed_total")
    errors = sample("tracebot_bot_api_errors_total", method="sendMessage", status="400")

    user = await opt_in(emulator, 4242)
    await send_tip(user, "Seen in a shop in Porto")

    # The reply can arrive a moment before its update counts as handled.
    await eventually(lambda: sample("tracebot_updates_handled_total", kind="callback_query") >= pressed + 3)
    assert sample("tracebot_updates_handled_total", kind="message") >= handled + 2  # /start, the text
    assert sample("tracebot_update_handling_seconds_count", kind="message") >= observed + 2
    assert sample("tracebot_tips_committed_total") == tips + 1

    async with running.services.database.session_factory() as session:
        await session.execute(update(Tip).values(created_at=datetime.now(UTC) - timedelta(hours=2)))
        await session.commit()
    body = await scrape(running)
    assert "tracebot_translation_queue_depth 1.0" in body
    oldest = sample("tracebot_translation_oldest_pending_seconds")
    assert 7200 <= oldest < 7300

    emulator.fail_next("sendMessage", error_code=400, retry_after=None, description="Bad Request: chat not found")
    await user.send_command("help")
    await eventually(lambda: sample("tracebot_bot_api_errors_total", method="sendMessage", status="400") > errors)
    assert sample("tracebot_bot_api_errors_total", method="sendMessage", status="400") == errors + 1
    assert 'tracebot_bot_api_errors_total{method="sendMessage",status="400"}' in await scrape(running)
