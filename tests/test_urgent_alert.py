"""The urgent alert outbox: one POST per urgent tip, retried with back-off, given up on a refusal; never the text."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.settings import Settings, load_settings
from bot.urgent_alert import MAX_ATTEMPTS, alert_retry_delay, send_due_alerts
from storage.models import Tip
from storage.repositories import TipDraft
from storage.uow import Database
from tests.support.harness import SECRET_KEY, TOKEN
from tests.support.webhook import RecordingWebhook, recording_webhook


@pytest.fixture
async def hook() -> AsyncIterator[RecordingWebhook]:
    async with recording_webhook() as hook:
        yield hook


def _settings(url: str | None) -> Settings:
    return load_settings(
        telegram_bot_token=TOKEN, secret_key=SECRET_KEY, webhook_url=None, urgent_alert_url=url, public_url=None
    )


async def _urgent_tip(database: Database, text: str, *, announce: bool = True) -> int:
    async with database.unit_of_work() as uow:
        reporter, _, _ = await uow.reporters.open_chat(77, 77, language="en", telegram_language="en", initial_state="x")
        tip_id, _ = await uow.tips.submit(
            TipDraft(
                draft_token=str(uuid.uuid4()), object_id=None, reporter_id=reporter.id, campaign_id=None,
                recognised=True, country_code=None, country_text=None, text_original=text, latitude=None,
                longitude=None, ui_language="en", urgent=True, announce=announce,
            )
        )  # fmt: skip
        await uow.commit()
    return tip_id


async def _row(database: Database, tip_id: int) -> Tip:
    async with database.session_factory() as session:
        tip = await session.scalar(select(Tip).where(Tip.id == tip_id))
    assert tip is not None
    return tip


async def _make_due(database: Database, tip_id: int) -> None:
    async with database.unit_of_work() as uow:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await uow.session.execute(update(Tip).where(Tip.id == tip_id).values(urgent_alert_next_attempt_at=past))
        await uow.commit()


async def test_a_failed_alert_is_retried_after_the_back_off(database: Database, hook: RecordingWebhook) -> None:
    tip_id = await _urgent_tip(database, "He locks her in the cellar")
    hook.statuses = [503]
    async with aiohttp.ClientSession() as http:
        assert await send_due_alerts(_settings(hook.url), database, http) == 0
        row = await _row(database, tip_id)
        assert row.urgent_alert_attempts == 1 and row.urgent_alert_sent_at is None
        assert row.urgent_alert_next_attempt_at is not None
        assert row.urgent_alert_next_attempt_at > datetime.now(UTC) + timedelta(seconds=5), "waits its back-off"
        assert await send_due_alerts(_settings(hook.url), database, http) == 0, "not due yet: not posted again"
        await _make_due(database, tip_id)
        assert await send_due_alerts(_settings(hook.url), database, http) == 1
    row = await _row(database, tip_id)
    assert row.urgent_alert_sent_at is not None and row.urgent_alert_next_attempt_at is None
    reference = f"T-{tip_id:06d}"
    assert hook.bodies == [{"text": f"urgent tip {reference} received", "url": f"/review/tips/{tip_id}"}] * 2
    assert "cellar" not in str(hook.bodies)


async def test_a_refusal_or_too_many_failures_gives_up(database: Database, hook: RecordingWebhook) -> None:
    refused = await _urgent_tip(database, "first")
    hook.statuses = [404]
    async with aiohttp.ClientSession() as http:
        await send_due_alerts(_settings(hook.url), database, http)
        row = await _row(database, refused)
        assert row.urgent_alert_failure == "http_404" and row.urgent_alert_next_attempt_at is None

        failing = await _urgent_tip(database, "second")
        hook.statuses = [500] * MAX_ATTEMPTS
        for _ in range(MAX_ATTEMPTS):
            await _make_due(database, failing)
            await send_due_alerts(_settings(hook.url), database, http)
    row = await _row(database, failing)
    assert row.urgent_alert_attempts == MAX_ATTEMPTS and row.urgent_alert_failure == "gave_up"
    assert row.urgent_alert_next_attempt_at is None and row.urgent_alert_sent_at is None


async def test_nothing_is_posted_without_a_url_or_for_unannounced_tips(
    database: Database, hook: RecordingWebhook
) -> None:
    quiet = await _urgent_tip(database, "no alert configured when this was stored", announce=False)
    async with aiohttp.ClientSession() as http:
        assert await send_due_alerts(_settings(None), database, http) == 0
        assert await send_due_alerts(_settings(hook.url), database, http) == 0
    assert hook.bodies == [] and (await _row(database, quiet)).urgent_alert_attempts == 0


def test_back_off_doubles_up_to_a_cap() -> None:
    assert [alert_retry_delay(n).total_seconds() for n in (1, 2, 3, 10)] == [10, 20, 40, 300]
