"""Prometheus metrics the handlers count themselves (the web app exposes the registry at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter

TIPS_COMMITTED = Counter("tracebot_tips_committed_total", "Tips committed by this process")
