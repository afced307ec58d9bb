"""Prometheus metrics, exposed at /metrics. Labels stay few and bounded (no ids, no text)."""

from __future__ import annotations

import functools
import re

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_UPDATES = Counter("tracebot_webhook_updates_total", "Updates accepted on the webhook")
WEBHOOK_REJECTED = Counter("tracebot_webhook_rejected_total", "Webhook requests refused", ["reason"])

UPDATES_HANDLED = Counter(
    "tracebot_updates_handled_total", "Updates handled by this process (polling or webhook)", ["kind"]
)
UPDATE_SECONDS = Histogram(
    "tracebot_update_handling_seconds",
    "Time from taking an update to finishing its handlers (database and replies included)",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
BOT_API_ERRORS = Counter(
    "tracebot_bot_api_errors_total",
    "Bot API calls that failed, by method and HTTP status ('network' or 'timeout' without an answer)",
    ["method", "status"],
)
TRANSLATION_QUEUE_DEPTH = Gauge(
    "tracebot_translation_queue_depth", "Tips waiting for translation (read from the database at each scrape)"
)
TRANSLATION_OLDEST_PENDING = Gauge(
    "tracebot_translation_oldest_pending_seconds",
    "Age of the oldest tip waiting for translation, 0 when none waits (read at each scrape)",
)
OUTBOX_SENDS = Counter(
    "tracebot_outbox_sends_total",
    "Outbox messages this process tried, by kind (announcement, thanks, preview) and outcome",
    ["kind", "outcome"],
)

UPDATE_KINDS = ("message", "edited_message", "callback_query")
_METHOD = re.compile(r"[A-Za-z]{1,40}")


def update_kind(update: object) -> str:
    """The label for an update: which of the fields Tracebot subscribes to it carries."""
    for kind in UPDATE_KINDS:
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


@functools.cache  # one of four kinds: the labelled children looked up once, not twice per update
def handled_metrics(kind: str) -> tuple[Histogram, Counter]:
    """The handling-time histogram and the handled counter of one update kind."""
    return UPDATE_SECONDS.labels(kind=kind), UPDATES_HANDLED.labels(kind=kind)


def api_method(url: str) -> str:
    """The Bot API method of a request URL (`.../bot<token>/sendMessage`), `file` for downloads."""
    method = url.rstrip("/").rsplit("/", 1)[-1]
    return method if _METHOD.fullmatch(method) and "/file/" not in url else "file"
