"""Announce urgent tips to URGENT_ALERT_URL: one POST each, with the reference and a dashboard link, never the text.

The tip row is the outbox (`storage.repositories.urgent_alerts`): the bot commits the urgent tip
with its alert due, and this sender, called from its own loop (`bot.maintenance.run_alerts`), claims
due alerts in a short transaction (which also schedules the retry), posts them with no lock held,
and records the outcome.
A crash between posting and recording may announce a tip twice, never not at all.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import aiohttp

from bot.settings import Settings
from storage.models import format_tip_reference
from storage.repositories.urgent_alerts import DueAlert
from storage.uow import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # about 10 minutes of retries with the back-off below
RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(minutes=5)
TIMEOUT = aiohttp.ClientTimeout(total=10)
SENT, RETRY = "sent", "retry"


def alert_retry_delay(attempt: int) -> timedelta:
    """Wait after the `attempt`-th try: 10 s, doubling, at most 5 minutes."""
    return min(RETRY_CAP, RETRY_BASE * (1 << min(max(attempt - 1, 0), 10)))


def alert_body(settings: Settings, tip_id: int) -> dict[str, str]:
    """The whole alert: what arrived and where to look. Nothing the tipster wrote."""
    path = f"/review/tips/{tip_id}"
    return {
        "text": f"urgent tip {format_tip_reference(tip_id)} received",
        "url": f"{settings.public_url}{path}" if settings.public_url else path,
    }


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, str]) -> str:
    """SENT, RETRY, or the reason to give up (the webhook refuses this alert for good)."""
    try:
        async with http.post(url, json=body, allow_redirects=False) as response:
            if 200 <= response.status < 300:
                return SENT
            if 400 <= response.status < 500 and response.status not in (408, 425, 429):
                return f"http_{response.status}"
            return RETRY
    except (aiohttp.ClientError, TimeoutError):
        return RETRY


async def send_due_alerts(settings: Settings, database: Database, http: aiohttp.ClientSession) -> int:
    """Post every due urgent alert once; returns how many went out."""
    url = settings.urgent_alert_url
    if not url:
        return 0
    async with database.short() as uow:
        due = await uow.urgent_alerts.claim_due(datetime.now(UTC), alert_retry_delay)
        await uow.commit()
    sent = 0
    for alert in due:
        outcome = await _post(http, url, alert_body(settings, alert.tip_id))
        await _record(database, alert, outcome)
        sent += outcome == SENT
    return sent


async def _record(database: Database, alert: DueAlert, outcome: str) -> None:
    reference = format_tip_reference(alert.tip_id)
    if outcome == RETRY and alert.attempt < MAX_ATTEMPTS:
        log.warning("urgent alert for %s failed on attempt %d; retrying later", reference, alert.attempt)
        return  # the claim already scheduled the next attempt
    async with database.short() as uow:
        if outcome == SENT:
            await uow.urgent_alerts.mark_sent(alert.tip_id)
            log.info("urgent alert for %s sent", reference)
        else:
            reason = "gave_up" if outcome == RETRY else outcome
            await uow.urgent_alerts.give_up(alert.tip_id, reason)
            log.error("urgent alert for %s given up (%s): check URGENT_ALERT_URL", reference, reason)
        await uow.commit()
