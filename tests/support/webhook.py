"""A local HTTP endpoint standing in for a chat-ops webhook: records every POSTed JSON body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class RecordingWebhook:
    url: str = ""
    bodies: list[Any] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 204
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.arrived.set()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 204)


@asynccontextmanager
async def recording_webhook() -> AsyncIterator[RecordingWebhook]:
    hook = RecordingWebhook()
    app = web.Application()
    app.router.add_post("/hook", hook.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
    try:
        yield hook
    finally:
        await runner.cleanup()
