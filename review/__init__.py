"""The moderator dashboard (aiohttp + jinja2, server-rendered) and its read-only JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from review.appkeys import DATABASE, MEDIA_ROOT

if TYPE_CHECKING:
    from review.config import DashboardConfig

__all__ = ["DATABASE", "MEDIA_ROOT", "setup", "setup_with"]


def setup(app: web.Application) -> None:
    """Mount the dashboard under /review/ and the API under /api/ (settings from the environment)."""
    setup_with()(app)


def setup_with(config: DashboardConfig | None = None) -> Callable[[web.Application], None]:
    """A `setup` with explicit settings, e.g. `DashboardConfig(cookie_secure=False)` for the local demo."""

    def mount(app: web.Application) -> None:
        # Imported when mounted: the dashboard's modules (templates, routes) load only when used.
        from review.app import mount_dashboard
        from review.config import DashboardConfig

        mount_dashboard(app, config or DashboardConfig())

    return mount
