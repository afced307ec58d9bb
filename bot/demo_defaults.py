"""The demo's embedded token and secret key: public on purpose, so `tracebot run` and the doctor refuse them."""

from __future__ import annotations

DEMO_TOKEN = "123456789:TRACEBOT-demo-token-not-a-secret"  # noqa: S105 - public demo value
DEMO_SECRET_KEY = "tracebot-demo-secret-key-not-for-production-use"  # noqa: S105 - public demo value
