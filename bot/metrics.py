"""Prometheus metrics, exposed at /metrics."""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOK_UPDATES = Counter("tracebot_webhook_updates_total", "Updates accepted on the webhook")
WEBHOOK_REJECTED = Counter("tracebot_webhook_rejected_total", "Webhook requests refused", ["reason"])
