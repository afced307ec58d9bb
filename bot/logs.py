"""Logging set-up: readable text by default, JSON lines for log collectors (`LOG_FORMAT=json`).

Logs never carry what a reporter wrote, where they are or who they are. Our own log lines name
update and tip ids, methods and error classes only; and because exception messages quote such
things (a database error its SQL parameters, a driver error the value it choked on, a Bot API
error the text it refused), tracebacks are written with every exception's class and code
location but without its message. Libraries that dump whole updates and API calls at DEBUG
(python-telegram-bot) are held at INFO whatever LOG_LEVEL says.

Every record logged while an update is being handled carries that update's id (set by
`bot.concurrency` through `update_context`), so a collector can group one update's lines.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

# (logger, lowest level it may log at): DEBUG in "telegram" prints every update and every call's parameters.
LIBRARY_FLOORS = {
    "telegram": logging.INFO,
    "telegram.ext.Updater": logging.WARNING,
    "aiosqlite": logging.INFO,  # DEBUG prints every statement with its parameters
    "asyncpg": logging.INFO,
    "hpack": logging.INFO,
    "httpx": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "alembic.runtime.migration": logging.WARNING,
}

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_UPDATE_ID: ContextVar[int | None] = ContextVar("tracebot_update_id", default=None)


@contextmanager
def update_context(update_id: int | None) -> Iterator[None]:
    """Tag every record logged inside the block (and tasks started there) with `update_id`."""
    token = _UPDATE_ID.set(update_id)
    try:
        yield
    finally:
        _UPDATE_ID.reset(token)


class UpdateIdFilter(logging.Filter):
    """Copies the current update id onto each record as `record.update_id` (None outside an update)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = _UPDATE_ID.get()
        return True


def _qualified_name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"


def describe_exception(error: BaseException) -> str:
    """A traceback of `error` and its causes with classes and code locations, never messages."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append("\nThe above exception led to the following one:\n\n")
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        code = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        detail = f" [sqlstate {code}]" if isinstance(code, str) and code.isalnum() and len(code) <= 5 else ""
        parts.append(f"{_qualified_name(type(item))}{detail} (message withheld)\n")
    return "".join(parts).rstrip("\n")


class PrivateFormatter(logging.Formatter):
    """Text lines (with `[update N]` while an update is handled); tracebacks without messages."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        # Never reuse a traceback another handler's formatter cached on the record: it has the messages.
        record.exc_text = None
        line = super().format(record)
        update_id = getattr(record, "update_id", None)
        if update_id is None:
            return line
        head, sep, tail = line.partition(": ")
        return f"{head} [update {update_id}]{sep}{tail}"

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's own name
        error = ei[1]
        return describe_exception(error) if error is not None else ""


class JsonFormatter(PrivateFormatter):
    """One JSON object per line: time, level, logger, message, update_id, exception (no messages)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is not None:
            entry["update_id"] = update_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_handler(fmt: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """The handler Tracebot logs through (to stderr unless `stream` is given)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else PrivateFormatter())
    handler.addFilter(UpdateIdFilter())
    return handler


def hold_library_loggers(level: int) -> None:
    """Keep chatty or payload-dumping library loggers at their floor (or `level` when higher)."""
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, level))


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler(fmt)]
    root.setLevel(level)
    hold_library_loggers(root.level)
