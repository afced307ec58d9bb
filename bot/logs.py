"""Logging set-up: readable text by default, JSON lines for log collectors (`LOG_FORMAT=json`).

Every record logged while an update is being handled carries that update's id (set by
`bot.concurrency` through `update_context`), so a collector can group one update's lines. Log
calls never pass message text, names or Telegram ids; the JSON form adds only fixed fields.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_UPDATE_ID: ContextVar[int | None] = ContextVar("tracebot_update_id", default=None)


@contextmanager
def update_context(update_id: int | None) -> Iterator[None]:
    """Tag every record logged inside the block (and tasks started there) with `update_id`."""
    token = _UPDATE_ID.set(update_id)
    try:
        yield
    finally:
        _UPDATE_ID.reset(token)


def current_update_id() -> int | None:
    return _UPDATE_ID.get()


class UpdateIdFilter(logging.Filter):
    """Copies the current update id onto each record as `record.update_id` (None outside an update)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = _UPDATE_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, update_id, exception."""

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
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The human-readable default; adds `[update N]` while an update is handled."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        update_id = getattr(record, "update_id", None)
        if update_id is None:
            return line
        head, sep, tail = line.partition(": ")
        return f"{head} [update {update_id}]{sep}{tail}"


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(UpdateIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-request chatter from the HTTP stacks drowns what matters.
    for noisy in ("httpx", "aiohttp.access", "telegram.ext.Updater", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # At DEBUG these print whole updates, Bot API parameters and SQL parameters: message text and
    # Telegram ids. LOG_LEVEL=DEBUG is for Tracebot's own records; theirs stay at INFO and above.
    for leaky in ("telegram", "aiosqlite", "asyncpg", "hpack"):
        logging.getLogger(leaky).setLevel(max(logging.INFO, root.level))
