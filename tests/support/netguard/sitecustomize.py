"""Block and record every non-loopback network access.

Python imports `sitecustomize` at startup from sys.path, so a child process whose
PYTHONPATH includes this directory and whose environment names a log file in
`TRACEBOT_NETGUARD_LOG` runs with the guard installed before any of its own imports.
Attempts are both raised (as OSError, like a real network failure) and appended to the
log - code that swallows errors (argostranslate logs and ignores them) still shows up.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

LOG_ENV = "TRACEBOT_NETGUARD_LOG"
_INET = (socket.AF_INET, socket.AF_INET6)


class NetworkBlockedError(OSError):
    """Raised instead of connecting anywhere but loopback."""


def _is_loopback(host: object) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    return text in {"localhost", "::1", "0.0.0.0"} or text.startswith("127.")


def _blocked(what: str, log_path: str | None) -> NetworkBlockedError:
    if log_path:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(what + "\n")
    return NetworkBlockedError(f"network access blocked in tests: {what}")


def install(log_path: str | None = None) -> Callable[[], None]:
    """Patch the socket module; returns a function that undoes it."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in _INET and not _is_loopback(address[0]):
            raise _blocked(f"connect {address!r}", log_path)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in _INET and not _is_loopback(address[0]):
            raise _blocked(f"connect_ex {address!r}", log_path)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            raise _blocked(f"getaddrinfo {host!r}", log_path)
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo

    def restore() -> None:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo

    return restore


if os.environ.get(LOG_ENV):
    install(os.environ[LOG_ENV])
