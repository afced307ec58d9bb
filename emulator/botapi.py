"""The Bot API HTTP surface: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator import methods_bot, methods_chat
from emulator.context import ApiContext, Described, Handler
from emulator.errors import ApiError, not_found, unauthorized
from emulator.models import ApiCall
from emulator.params import Params, read_params

log = logging.getLogger(__name__)

# Telegram matches method names case-insensitively.
_METHODS: dict[str, tuple[str, Handler]] = {
    name.lower(): (name, handler) for name, handler in {**methods_bot.METHODS, **methods_chat.METHODS}.items()
}
SUPPORTED_METHODS = tuple(name for name, _ in _METHODS.values())
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def api_response(body: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON reply in Telegram's compact encoding."""
    return web.json_response(body, status=status, dumps=_dumps)


def error_response(error: ApiError) -> web.Response:
    """Telegram's error body with the matching HTTP status."""
    return api_response(error.to_json(), status=error.error_code)


class BotApi:
    """Request handlers for the Bot API routes."""

    def __init__(self, ctx: ApiContext) -> None:
        """Serve ``ctx.state`` and drive ``ctx.webhooks``."""
        self.ctx = ctx

    def routes(self) -> list[web.RouteDef]:
        """Routes to add to the application."""
        return [
            web.route("*", "/bot{token}/{method}", self.handle_method),
            web.get("/file/bot{token}/{file_path:.+}", self.handle_file),
        ]

    async def handle_method(self, request: web.Request) -> web.StreamResponse:
        """Run one Bot API method and reply like Telegram."""
        state = self.ctx.state
        if request.method not in ("GET", "POST"):
            return error_response(not_found())
        if request.match_info["token"] != state.bot_token:
            return error_response(unauthorized())
        status, body = await self.invoke(request.match_info["method"], lambda: read_params(request))
        return api_response(body, status)

    async def webhook_reply(self, values: dict[str, Any]) -> None:
        """A method the bot called in its answer to a webhook delivery (`{"method": ..., params}`).

        Telegram runs it like a request, but nobody learns whether it worked: the result is dropped
        (it shows in `emu.calls`, marked `via="webhook_reply"`).
        """
        requested = values.pop("method", None)
        if isinstance(requested, str):

            async def params() -> Params:
                return Params(values)

            await self.invoke(requested, params, via="webhook_reply")

    async def invoke(
        self, requested: str, params: Callable[[], Awaitable[Params]], via: str = "request"
    ) -> tuple[int, dict[str, Any]]:
        """Run the method `requested` (any case); the HTTP status and Telegram's body for it."""
        state = self.ctx.state
        name, handler = _METHODS.get(requested.lower(), (requested, None))
        call = ApiCall(method=name, params={}, at=time.time(), via=via)
        state.calls.append(call)
        try:
            read = await params()
            call.params = read.recorded()
            if handler is None:
                raise not_found()
            fault = state.take_fault(name)
            if fault is not None:
                parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.error_code, fault.description, parameters)
            if state.flood is not None:
                state.flood.admit(name, read.values.get("chat_id"), call.at)
            result = await handler(self.ctx, read)
        except ApiError as error:
            call.ok, call.error = False, error.description
            return error.error_code, error.to_json()
        except Exception:
            # The emulator must answer every request; a bug here shows up as a 500 in the
            # bot's logs and in emu.calls rather than as a dead connection.
            log.exception("emulator failed while handling %s", name)
            call.ok, call.error = False, "Internal Server Error"
            return 500, ApiError(500, "Internal Server Error").to_json()
        if isinstance(result, Described):
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        """Download a file by the file_path getFile returned."""
        if request.match_info["token"] != self.ctx.state.bot_token:
            return error_response(unauthorized())
        stored = self.ctx.state.files.by_path(request.match_info["file_path"])
        if stored is None:
            return error_response(not_found())
        return web.Response(body=stored.data, content_type=stored.mime_type)


async def fallback(request: web.Request) -> web.StreamResponse:
    """Telegram answers unknown paths with a JSON 404."""
    return error_response(not_found())
