"""Background upkeep in the bot process: re-send lost tip confirmations, apply retention."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from telegram.error import Forbidden, TelegramError

from bot.services import BotServices
from handlers.context import TracebotApplication
from handlers.tip import confirmation_text
from handlers.turn import Step
from storage.privacy import InvalidToken

log = logging.getLogger(__name__)

UPDATE_ID_RETENTION = timedelta(days=7)  # Telegram stops redelivering long before this


async def resend_unconfirmed(application: TracebotApplication, services: BotServices) -> int:
    """Tell reporters the reference of committed tips they may never have been told about.

    The claim is a short transaction; messages go out after it, so no database lock is held
    while talking to Telegram (on SQLite that lock would stall every other update). Two instances
    may then both send one reference: reporters are told at least once, rarely twice.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=services.settings.confirmation_grace_seconds)
    async with services.database.unit_of_work() as uow:
        pending = await uow.confirmations.claim_unconfirmed(cutoff)
    sent = 0
    for tip in pending:
        try:
            chat_id = services.database.privacy.decrypt_chat_id(tip.chat_id_encrypted)
            _ = services.catalogs.for_language(tip.language).gettext
            await application.bot.send_message(chat_id, confirmation_text(_, tip.tip_id))
            sent += 1
        except Forbidden:
            log.info("tip %s: reporter blocked the bot; confirmation dropped", tip.tip_id)
        except InvalidToken:
            log.warning("tip %s: chat id cannot be decrypted with the current SECRET_KEY", tip.tip_id)
        except TelegramError as exc:
            log.warning("tip %s: confirmation not sent yet: %s", tip.tip_id, exc)
            continue
        async with services.database.unit_of_work() as uow:
            await uow.confirmations.mark_confirmed(tip.tip_id)
            await uow.commit()
    if sent:
        log.info("re-sent %d tip confirmations", sent)
    return sent


async def apply_retention(services: BotServices) -> None:
    now = datetime.now(UTC)
    async with services.database.unit_of_work() as uow:
        report = await uow.retention.purge(
            personal_before=now - timedelta(days=services.settings.retention_days),
            updates_before=now - UPDATE_ID_RETENTION,
            idle_state=Step.BROWSING.value,
        )
        await uow.commit()
    if report.drafts or report.reporters:
        log.info("retention: %d drafts dropped, %d idle reporters erased", report.drafts, report.reporters)


async def run_maintenance(application: TracebotApplication, services: BotServices, interval: float = 5.0) -> None:
    """Forever: confirmations every `interval` seconds, retention every hour."""
    last_retention = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            await resend_unconfirmed(application, services)
            if loop.time() - last_retention > 3600:
                await apply_retention(services)
                last_retention = loop.time()
        except Exception:
            log.exception("maintenance round failed")
        await asyncio.sleep(interval)
