"""Webhook delivery: POST each update to the bot, retrying failures in order per chat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from emulator.models import Json, WebhookDelivery
from emulator.state import EmulatorState, update_type

log = logging.getLogger(__name__)

SCAN_WINDOW = 1000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


def chat_key(update: Json) -> int | str:
    """Updates with the same key are delivered strictly one after another."""
    payload = update.get(update_type(update))
    if isinstance(payload, dict):
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return "other"


class WebhookDispatcher:
    """Pushes pending updates to the configured webhook while one is set.

    Like Telegram, at most ``max_connections`` deliveries run at once, a chat's updates never
    overtake each other, and a failed delivery (non-2xx or connection error) is retried with
    exponential backoff until it succeeds or the webhook is removed.
    """

    def __init__(
        self,
        state: EmulatorState,
        retry_base: float = 0.1,
        retry_max: float = 5.0,
        request_timeout: float = 10.0,
    ) -> None:
        """Nothing runs until :meth:`ensure_running` is called inside the event loop."""
        self.state = state
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self._deliveries: dict[int, asyncio.Task[None]] = {}  # update_id -> task
        self._busy_keys: set[int | str] = set()
        self._wake = asyncio.Event()
        state.updates.listeners.append(self._wake.set)
        # Runs a method the bot put in its answer to a delivery (set by the server to its Bot API).
        self.reply_handler: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    def ensure_running(self) -> None:
        """Start the delivery loop (idempotent); call after setWebhook."""
        self._wake.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="emulator-webhook")

    async def stop(self) -> None:
        """Cancel the loop and every in-flight delivery; undelivered updates stay pending."""
        tasks = [t for t in (self._runner, *self._deliveries.values()) if t is not None]
        self._runner = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._deliveries.clear()
        self._busy_keys.clear()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    @property
    def idle(self) -> bool:
        """No update is waiting for or in delivery."""
        return not self._deliveries and not len(self.state.updates)

    async def _run(self) -> None:
        while self.state.webhook is not None:
            self._wake.clear()
            self._schedule()
            await self._wake.wait()

    def _schedule(self) -> None:
        config = self.state.webhook
        if config is None:
            return
        blocked = set(self._busy_keys)
        # Looking at a window, not the whole backlog, keeps a long single-chat queue cheap.
        for update in self.state.updates.oldest(SCAN_WINDOW):
            if len(self._deliveries) >= config.max_connections:
                return
            key = chat_key(update)
            if key in blocked:
                continue  # an earlier update of this chat is still on its way
            blocked.add(key)
            self._busy_keys.add(key)
            update_id = update["update_id"]
            self._deliveries[update_id] = asyncio.create_task(
                self._deliver(update, key), name=f"emulator-webhook-{update_id}"
            )

    async def _deliver(self, update: Json, key: int | str) -> None:
        attempt = 0
        try:
            while (config := self.state.webhook) is not None:
                attempt += 1
                status, error = await self._post(config.url, config.secret_token, update)
                self.state.webhook_deliveries.append(
                    WebhookDelivery(
                        update_id=update["update_id"],
                        url=config.url,
                        attempt=attempt,
                        status=status,
                        error=error,
                        at=time.time(),
                        secret_token_sent=config.secret_token is not None,
                    )
                )
                if error is None:
                    self.state.updates.remove(update["update_id"])
                    return
                self.state.webhook_progress.notify()
                config.last_error_date = int(time.time())
                config.last_error_message = error
                delay = min(self.retry_max, self.retry_base * 2 ** (attempt - 1))
                await asyncio.sleep(delay)
        finally:
            self._deliveries.pop(update["update_id"], None)
            self._busy_keys.discard(key)
            self._wake.set()
            self.state.webhook_progress.notify()

    async def _post(self, url: str, secret: str | None, update: Json) -> tuple[int | None, str | None]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as reply:
                body = await reply.read()
                if 200 <= reply.status < 300:
                    await self._run_reply(reply.content_type, body)
                    return reply.status, None
                reason = f"{reply.status} {reply.reason}"
                return reply.status, f"Wrong response from the webhook: {reply.reason and reason}"
        except TimeoutError:
            return None, "Read timeout expired"
        except (aiohttp.ClientError, OSError) as exc:
            log.debug("webhook delivery to %s failed: %r", url, exc)
            return None, f"Connection failed: {exc}"

    async def _run_reply(self, content_type: str, body: bytes) -> None:
        """Like Telegram: a JSON answer naming a `method` is a Bot API call whose result nobody gets."""
        if content_type != "application/json" or self.reply_handler is None:
            return
        try:
            values = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read: no call, like Telegram
            return
        if isinstance(values, dict) and isinstance(values.get("method"), str):
            await self.reply_handler(values)
