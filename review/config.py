"""Dashboard settings, read once (environment variables prefixed `DASHBOARD_`, or `.env`)."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Network = IPv4Network | IPv6Network
MAX_REQUEST_MB = 11  # the web app's body limit (`bot.web`); other dashboard forms are held far smaller


class DashboardConfig(BaseSettings):
    """Knobs of the moderator dashboard; defaults are the safe production choices."""

    model_config = SettingsConfigDict(
        env_prefix="DASHBOARD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Secure cookies need HTTPS; only the http://localhost demo turns this off.
    cookie_secure: bool = True
    session_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 12
    idle_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 120
    # Reverse proxies (IPs or CIDR networks, comma-separated) whose X-Forwarded-For is believed.
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()
    # Per account and client (address, or a browser that signed in before): this many failures are
    # free, then each further one doubles the wait before the next try, up to the maximum.
    login_free_failures: Annotated[int, Field(ge=2, le=100)] = 5
    login_max_delay_seconds: Annotated[int, Field(ge=1, le=24 * 3600)] = 900
    # Ceilings over all clients of one account, and over all accounts from one address; they slow
    # only browsers that have not signed in to the account before, and never by more than the maximum.
    ceiling_free_failures: Annotated[int, Field(ge=2, le=10_000)] = 20
    ceiling_max_delay_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    # How long a browser that signed in stays exempt from the ceilings (its own counter still applies).
    trusted_browser_days: Annotated[int, Field(ge=1, le=365)] = 90
    page_size: Annotated[int, Field(ge=10, le=500)] = 50
    # For the links and QR codes the dashboard makes: t.me/<bot_username>?start=...
    bot_username: Annotated[str, Field(pattern=r"^([A-Za-z][A-Za-z0-9_]{4,31})?$")] = ""
    # Object image uploads; the web server accepts request bodies up to `MAX_REQUEST_MB` for them.
    max_upload_mb: Annotated[int, Field(ge=1, le=MAX_REQUEST_MB - 1)] = 10
    # argon2id cost; stored hashes carry their own parameters and are upgraded at the next login.
    argon2_time_cost: Annotated[int, Field(ge=1, le=20)] = 3
    argon2_memory_kib: Annotated[int, Field(ge=1024, le=4 * 1024 * 1024)] = 64 * 1024

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        """`10.0.0.0/8, 192.0.2.7` from the environment; host bits set (`10.0.0.1/8`) is an error."""
        if isinstance(value, str):
            return tuple(ip_network(item.strip(), strict=True) for item in value.split(",") if item.strip())
        return value
