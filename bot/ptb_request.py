"""A python-telegram-bot networking backend on aiohttp.

PTB ships an httpx backend; on the same machine aiohttp moves about three times as many
updates per second through the bot, so Tracebot plugs this class into PTB instead::

    bot = Bot(token, request=AiohttpRequest(), get_updates_request=AiohttpRequest())
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

import aiohttp
import orjson

# DefaultValue and ODVInput live in PTB's private modules; its own HTTPXRequest imports them the
# same way, and we need them to keep do_request's signature identical to BaseRequest's.
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.metrics import BOT_API_ERRORS, api_method
from storage.text import loads_storable

if TYPE_CHECKING:
    from telegram._utils.types import JSONDict, ODVInput

__all__ = ["AiohttpRequest"]

_JSON_CONTENT_TYPE: Final = "application/json"


class AiohttpRequest(BaseRequest):
    """:class:`telegram.request.BaseRequest` implemented with one :class:`aiohttp.ClientSession`.

    Timeouts follow :class:`telegram.request.HTTPXRequest`: each may be ``None`` for "no limit"
    and is used whenever PTB passes ``DEFAULT_NONE`` for it. aiohttp has no per-write timeout, so
    ``write_timeout`` (or ``media_write_timeout`` for uploads) is folded into an overall deadline
    for the request together with the other three.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_shut_down",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        """Store the settings; the session itself is created by :meth:`initialize`."""
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._shut_down = False

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """Decode a Bot API answer, dropping characters the database cannot store (see `storage.text`).

        Every polled update enters the bot here. Unlike PTB's own version, a body that is not
        JSON is not logged: it may quote what a user wrote. orjson parses it several times faster;
        what orjson refuses (invalid UTF-8, lone surrogates, integers past 64 bits) takes the standard
        library's more lenient way, as before, and bytes that are not UTF-8 are replaced.
        """
        try:
            return loads_storable(payload, lenient=True)  # type: ignore[no-any-return]
        except (ValueError, RecursionError) as exc:
            raise TelegramError("Invalid server response") from exc

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; PTB adds the long-poll time to it for getUpdates."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Create the HTTP session (needs a running event loop, hence not in ``__init__``)."""
        self._shut_down = False
        if self._session is None or self._session.closed:
            self._session = self._new_session()

    async def shutdown(self) -> None:
        """Close the session; a later :meth:`initialize` opens a fresh one."""
        self._shut_down = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._pool_size)
        # PTB parses the body itself, and Telegram never needs cookies.
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": self.USER_AGENT},
        )

    def _session_for_request(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if self._shut_down:
                raise RuntimeError("This AiohttpRequest is not initialized!")
            # Like HTTPXRequest, work before an explicit initialize(): Bot methods are usable
            # without `async with bot`, and we are inside the loop here.
            self._session = self._new_session()
        return self._session

    def _timeout(
        self,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
        *,
        has_files: bool,
    ) -> aiohttp.ClientTimeout:
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if has_files else self._write_timeout
        else:
            write = write_timeout
        return _client_timeout(read, write, connect, pool)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return ``(status, body)``; PTB interprets both."""
        session = self._session_for_request()
        has_files = bool(request_data and request_data.contains_files)
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, has_files=has_files)
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] = {}
        if request_data is not None:
            if has_files:
                body = _multipart(request_data)
            else:
                # One JSON body (the Bot API takes application/json), encoded by orjson: PTB's
                # form of JSON values inside form fields cost a json.dumps per value and a urlencode.
                body = orjson.dumps(request_data.parameters)
                headers["Content-Type"] = _JSON_CONTENT_TYPE
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy,
            ) as response:
                if response.status != 200:  # the Bot API answers 200 for success only
                    BOT_API_ERRORS.labels(method=api_method(url), status=str(response.status)).inc()
                return response.status, await response.read()
        except TimeoutError as exc:
            # aiohttp's timeout errors subclass both TimeoutError and ClientError.
            BOT_API_ERRORS.labels(method=api_method(url), status="timeout").inc()
            raise TimedOut(f"Timed out: {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            BOT_API_ERRORS.labels(method=api_method(url), status="network").inc()
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            BOT_API_ERRORS.labels(method=api_method(url), status="network").inc()
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc


@functools.lru_cache(maxsize=64)  # a handful of combinations; ClientTimeout is immutable
def _client_timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    # aiohttp's `connect` covers waiting for a pooled connection plus establishing one.
    acquire = None if pool is None or connect is None else pool + connect
    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    return aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect, sock_read=read)


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """Build the multipart body: plain parameters as fields, files as file parts."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
