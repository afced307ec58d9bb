"""Dashboard settings, read once (environment variables prefixed `DASHBOARD_`, or `.env`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardConfig(BaseSettings):
    """Knobs of the moderator dashboard; defaults are the safe production choices."""

    model_config = SettingsConfigDict(
        env_prefix="DASHBOARD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Secure cookies need HTTPS; only the http://localhost demo turns this off.
    cookie_secure: bool = True
    session_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 12
    idle_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 120
    # Per account: this many consecutive failures lock it for `lock_minutes`.
    lock_after_failures: Annotated[int, Field(ge=2, le=100)] = 5
    lock_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    # Per client address: this many failures are free, then each doubles the wait, up to the maximum.
    ip_free_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    ip_max_backoff_seconds: Annotated[int, Field(ge=1, le=24 * 3600)] = 300
    page_size: Annotated[int, Field(ge=10, le=500)] = 50
    # argon2id cost; stored hashes carry their own parameters and are upgraded at the next login.
    argon2_time_cost: Annotated[int, Field(ge=1, le=20)] = 3
    argon2_memory_kib: Annotated[int, Field(ge=1024, le=4 * 1024 * 1024)] = 64 * 1024
