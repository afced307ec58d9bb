"""``BotApiEmulator``: the public face of the emulator (state, HTTP server, test helpers)."""

from __future__ import annotations

import asyncio
import re
from types import TracebackType

from aiohttp import web

from emulator.botapi import BotApi, fallback
from emulator.context import ApiContext
from emulator.control import ControlApi, control_errors
from emulator.flood import FloodControl
from emulator.models import ApiCall, BotMessage, Json, WebhookDelivery
from emulator.params import MAX_BODY_BYTES
from emulator.state import EmulatorState, make_fault
from emulator.users import SimulatedUser, UserDirectory
from emulator.webhook import WebhookDispatcher

_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")


class BotApiEmulator:
    """A local Telegram Bot API server that real PTB bots talk to over HTTP.

    Typical use in a test::

        emu = BotApiEmulator()
        await emu.start()
        bot = Bot(emu.bot_token, base_url=emu.base_url + "/bot",
                  base_file_url=emu.base_url + "/file/bot")
        user = emu.user(1001, first_name="Ana", language_code="de")
        await user.send_command("start")
        reply = await user.wait_for_message()
        await emu.stop()

    Create one emulator per event loop: it keeps asyncio primitives.
    """

    def __init__(
        self,
        bot_token: str = "123456:TEST-token",  # noqa: S107 - a fake token, the emulator is local
        bot_username: str = "TracebotDemoBot",
        bot_first_name: str | None = None,
        *,
        webhook_retry_base: float = 0.1,
        webhook_retry_max: float = 5.0,
    ) -> None:
        """Set up an empty server for the bot with ``bot_token`` (id = digits before ':')."""
        if not _TOKEN_RE.match(bot_token):
            raise ValueError("bot_token must look like '123456:ABC-def' (digits, colon, secret)")
        self.state = EmulatorState(
            bot_token=bot_token,
            bot_username=bot_username,
            bot_first_name=bot_first_name or bot_username,
        )
        self.users = UserDirectory(self.state)
        self.webhooks = WebhookDispatcher(self.state, retry_base=webhook_retry_base, retry_max=webhook_retry_max)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- server lifecycle ------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """An aiohttp application serving the Bot API, the control API and the chat page."""
        app = web.Application(client_max_size=MAX_BODY_BYTES + 1024 * 1024)
        app.middlewares.append(control_errors)
        api = BotApi(ApiContext(self.state, self.webhooks))
        self.webhooks.reply_handler = api.webhook_reply
        app.add_routes(api.routes())
        app.add_routes(ControlApi(self.state, self.users).routes())
        app.add_routes([web.route("*", "/{tail:.*}", fallback)])
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (port 0 picks a free one; see :attr:`base_url`)."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        self.state.closing = False
        # A short shutdown timeout: long polls are woken on stop, so nothing needs longer.
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
        self._base_url = f"http://{shown}:{bound_port}"

    async def stop(self) -> None:
        """Stop serving; waiting long polls return at once. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._wake_everyone()
        await self.webhooks.stop()
        await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        """``async with BotApiEmulator() as emu:`` starts it on a random port."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    async def _on_shutdown(self, app: web.Application) -> None:
        self._wake_everyone()

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.webhooks.stop()

    def _wake_everyone(self) -> None:
        self.state.closing = True
        self.state.updates.changed.notify()
        for chat in self.state.chats.values():
            chat.changed.notify()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not running; await emu.start() first")
        return self._base_url

    @property
    def api_url(self) -> str:
        """PTB's ``base_url`` argument (``base_url + "/bot"``)."""
        return self.base_url + "/bot"

    @property
    def file_url(self) -> str:
        """PTB's ``base_file_url`` argument (``base_url + "/file/bot"``)."""
        return self.base_url + "/file/bot"

    # -- bot identity ----------------------------------------------------------------------

    @property
    def bot_token(self) -> str:
        """The only token this server accepts."""
        return self.state.bot_token

    @property
    def bot_id(self) -> int:
        """The bot's user id (digits of the token)."""
        return self.state.bot_id

    @property
    def bot_username(self) -> str:
        """The bot's @username (without the @)."""
        return self.state.bot_username

    # -- test helpers ----------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimulatedUser:
        """The simulated user ``user_id`` (created, with its private chat, on first use)."""
        return self.users.get_or_create(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any) fail with ``error_code``."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self.state.add_fault(method, make_fault(error_code, retry_after, description), times)

    def flood_control(self, per_chat: int = 1, overall: int | None = 30, retry_after: int = 1) -> FloodControl:
        """Answer 429 with ``retry_after`` to messages beyond ``per_chat`` per chat (``overall`` in all) a second."""
        if per_chat < 1 or (overall is not None and overall < 1) or retry_after < 1:
            raise ValueError("limits and retry_after must be at least 1")
        self.state.flood = FloodControl(per_chat=per_chat, overall=overall, retry_after=retry_after)
        return self.state.flood

    @property
    def calls(self) -> list[ApiCall]:
        """Every Bot API call received, oldest first."""
        return self.state.calls

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive)."""
        return [c for c in self.state.calls if c.method.lower() == method.lower()]

    @property
    def commands(self) -> dict[tuple[str, str], list[Json]]:
        """setMyCommands lists by (canonical scope JSON, language_code or "")."""
        return self.state.commands

    @property
    def menu_buttons(self) -> dict[int | None, Json]:
        """setChatMenuButton values by chat id (None = default)."""
        return self.state.menu_buttons

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook delivery attempt, oldest first."""
        return self.state.webhook_deliveries

    async def wait_for_webhook_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - the public test API takes a plain timeout
    ) -> None:
        """Wait until every pending update has been delivered to the webhook."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.webhooks.idle:
            remaining = deadline - loop.time()
            if remaining <= 0:
                attempts = self.state.webhook_deliveries[-5:]
                raise TimeoutError(
                    f"{len(self.state.updates)} update(s) still undelivered after "
                    f"{timeout} s; last attempts: {attempts}"
                )
            await self.state.webhook_progress.wait(remaining)

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed (getUpdates) or delivered (webhook)."""
        return list(self.state.updates.pending)

    @property
    def sent_messages(self) -> list[BotMessage]:
        """Every bot message in every chat (including deleted ones), by chat then id."""
        return [m for chat in self.state.chats.values() for m in chat.bot_messages.values()]
