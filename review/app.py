"""Compose the dashboard (/review/) and the API (/api/) as sub-applications of the main web app."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from review import admin_views, auth, catalog_views, export, queue, tip_views
from review.aggregates import AGGREGATES, AggregateCache
from review.api import build_api
from review.appkeys import MEDIA_ROOT
from review.config import DashboardConfig
from review.context import CONFIG, OPTIONS, PASSWORDS, TEMPLATES, THROTTLE, FilterOptionsCache, Handler
from review.render import build_templates, error_page
from review.security import DEFAULT_LANDING, Passwords, add_security_headers
from review.text_guard import refuse_unstorable_text
from review.throttle import LoginThrottle

STATIC = Path(__file__).with_name("static")


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(DEFAULT_LANDING)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Dashboard errors as readable HTML pages (redirects pass through)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 403, 405, 400, 413):
            message = (exc.text or "") if exc.status == 403 else _MESSAGES.get(exc.status, "")
            return error_page(request, exc.status, exc.reason, message)
        raise


_MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing here. It may have been moved or never existed.",
    405: "That is not how this page is used.",
    413: "That was too large.",
}


def build_dashboard(config: DashboardConfig, media_dir: Path) -> web.Application:
    dashboard = web.Application(middlewares=[error_pages, refuse_unstorable_text, auth.session_middleware])
    dashboard[CONFIG] = config
    dashboard[TEMPLATES] = build_templates()
    dashboard[PASSWORDS] = _passwords(config)
    dashboard[THROTTLE] = LoginThrottle(config)
    dashboard[OPTIONS] = FilterOptionsCache()
    dashboard[AGGREGATES] = AggregateCache()
    dashboard.router.add_get("/", home, name="review.home")
    dashboard.router.add_static("/static", STATIC, name="review.static", follow_symlinks=False)
    auth.setup_routes(dashboard)
    queue.setup_routes(dashboard)
    tip_views.setup_routes(dashboard)
    catalog_views.setup_routes(dashboard, media_dir)
    export.setup_routes(dashboard)
    admin_views.setup_routes(dashboard)
    return dashboard


def _passwords(config: DashboardConfig) -> Passwords:
    return Passwords(time_cost=config.argon2_time_cost, memory_kib=config.argon2_memory_kib)


def mount_dashboard(app: web.Application, config: DashboardConfig) -> None:
    """Called from `review.setup`: the app already holds MEDIA_ROOT; the DATABASE arrives at start-up."""
    app.add_subapp("/review", build_dashboard(config, app[MEDIA_ROOT]))
    app.add_subapp("/api", build_api())
    app.on_response_prepare.append(add_security_headers)
