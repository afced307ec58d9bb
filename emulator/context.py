"""What a Bot API method implementation gets to work with."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from emulator.models import Json
from emulator.params import Params
from emulator.state import EmulatorState
from emulator.webhook import WebhookDispatcher


@dataclass
class ApiContext:
    """The server state plus the webhook dispatcher (which setWebhook starts)."""

    state: EmulatorState
    webhooks: WebhookDispatcher


@dataclass(frozen=True)
class Described:
    """A result that Telegram sends with a ``description`` (e.g. "Webhook was set")."""

    result: Any
    description: str


ApiResult = Json | list[Json] | bool | Described
Handler = Callable[[ApiContext, Params], Awaitable[ApiResult]]


def now() -> int:
    """Unix time, as Telegram's ``date`` fields use."""
    return int(time.time())
