"""A tiny round-robin reverse proxy for webhook POSTs, standing in for a load balancer.

Each POST goes to the next backend in turn; the backend's status code and body are passed
back unchanged (a dead backend becomes 502, so the sender retries). The proxy remembers which
backend answered which chat's update with which status.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from emulator.webhook import SECRET_HEADER, chat_key

FORWARDED_HEADERS = ("Content-Type", SECRET_HEADER)


@dataclass
class RoundRobinProxy:
    backends: list[str]  # full webhook URLs
    path: str = "/telegram/webhook"
    handled: Counter[tuple[int, int | str, int]] = field(default_factory=Counter)  # (backend, chat, status)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    url: str = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post(self.path, self._forward)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{self.path}"

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        index = next(self._turn) % len(self.backends)
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        try:
            async with self._session.post(self.backends[index], data=body, headers=headers) as reply:
                status, payload = reply.status, await reply.read()
                content_type = reply.headers.get("Content-Type", "application/json")
        except (aiohttp.ClientError, TimeoutError):
            status, payload, content_type = 502, b'{"ok": false}', "application/json"
        self.handled[(index, _chat_of(body), status)] += 1
        return web.Response(status=status, body=payload, headers={"Content-Type": content_type})

    def chats_served_by(self, backend: int) -> set[int | str]:
        """Chats for which this backend answered at least one update with 200."""
        return {chat for (index, chat, status) in self.handled if index == backend and status == 200}


def _chat_of(body: bytes) -> int | str:
    try:
        update = json.loads(body)
    except ValueError:
        return "unparsable"
    return chat_key(update) if isinstance(update, dict) else "unparsable"
