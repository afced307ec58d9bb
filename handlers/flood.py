"""Flood control: a per-user token bucket checked before any database work.

A user who floods gets one polite slow-down message; further updates are dropped until the
bucket refills. Buckets live in process memory: with several instances each enforces its own
share, which is enough to stop floods without a shared store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from handlers.context import TracebotContext
from handlers.groups import Group

RATE_PER_SECOND = 1.0
BURST = 20
MAX_TRACKED = 100_000


@dataclass(slots=True)
class Bucket:
    tokens: float
    updated: float
    warned: bool = False


@dataclass
class FloodGuard:
    rate: float = RATE_PER_SECOND
    burst: int = BURST
    _buckets: dict[int, Bucket] = field(default_factory=dict)

    def admit(self, user_id: int, now: float) -> str:
        """'ok' to process, 'warn' to send the one slow-down message, 'drop' to ignore."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_full(now)
            bucket = self._buckets[user_id] = Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            if bucket.tokens >= self.burst / 2:
                bucket.warned = False  # calm again: a later flood deserves a new warning
            bucket.tokens -= 1
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: they carry no information."""
        refill = self.burst / self.rate
        self._buckets = {key: b for key, b in self._buckets.items() if now - b.updated < refill}


GUARD_KEY = "tracebot.flood_guard"


async def check_flood(update: Update, context: TracebotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    guard = context.application.bot_data.setdefault(GUARD_KEY, FloodGuard())
    verdict = guard.admit(user.id, time.monotonic())
    if verdict == "ok":
        return
    if verdict == "warn" and update.effective_chat is not None:
        catalogs = context.services.catalogs
        _ = catalogs.for_language(catalogs.resolve(user.language_code)).gettext
        await context.bot.send_message(
            update.effective_chat.id, _("You are sending messages very quickly. Please wait a moment, then go on.")
        )
    if update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, check_flood), Group.GUARD)
