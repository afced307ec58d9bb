"""Why a Bot API call failed: worth trying again later, or never going to work.

python-telegram-bot makes `BadRequest` a subclass of `NetworkError`, so "is it a network error?"
calls every refusal an outage. The order of the checks below is what tells them apart.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError


class Failure(enum.StrEnum):
    TRANSIENT = "transient"  # network, timeout, 5xx, 429: the same call may work later
    REFUSED = "refused"  # 400: Telegram will never accept this call; other calls to the chat may work
    CHAT_GONE = "chat_gone"  # 403, chat not found, user deactivated: nothing reaches this chat any more


# Bad Request descriptions that mean the chat itself is out of reach (Telegram's wording).
_CHAT_GONE_REASONS = ("chat not found", "user not found", "user is deactivated", "peer_id_invalid")


def classify(error: TelegramError) -> Failure:
    if isinstance(error, Forbidden):
        return Failure.CHAT_GONE
    if isinstance(error, BadRequest):
        description = error.message.lower()
        return Failure.CHAT_GONE if any(reason in description for reason in _CHAT_GONE_REASONS) else Failure.REFUSED
    return Failure.TRANSIENT


def retry_after_seconds(error: RetryAfter) -> float:
    """A 429's retry_after in seconds (PTB gives an int, or a timedelta with PTB_TIMEDELTA set)."""
    retry_after = error.retry_after
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
