"""Compose the dashboard (/review/) and the API (/api/) as sub-applications of the main web app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from review import (
    admin_views,
    announcements,
    auth,
    campaign_views,
    catalog_views,
    export,
    followup_views,
    funnel_views,
    link_views,
    object_views,
    queue,
    tip_views,
)
from review.aggregates import AGGREGATES, AggregateCache
from review.api import build_api
from review.appkeys import MEDIA_ROOT
from review.config import DashboardConfig
from review.context import (
    CONFIG,
    OPTIONS,
    PASSWORDS,
    TEMPLATES,
    THROTTLE,
    FilterOptionsCache,
    Handler,
    config,
    current_moderator,
)
from review.render import build_templates, error_page
from review.roles import landing, role_middleware
from review.security import Passwords, add_security_headers
from review.text_guard import refuse_unstorable_text
from review.throttle import LoginThrottle

STATIC = Path(__file__).with_name("static")


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(landing(current_moderator(request).role))


UPLOAD_ROUTES = frozenset({"review.object_create", "review.object_save"})
SMALL_FORM_BYTES = 256 * 1024


@web.middleware
async def small_forms(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only the image upload forms may send a big body; the rest are refused before anything is read."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        upload = request.match_info.route.name in UPLOAD_ROUTES
        limit = (config(request).max_upload_mb * 1024 + 64) * 1024 if upload else SMALL_FORM_BYTES
        if request.content_length is None and request.body_exists:
            raise web.HTTPLengthRequired()
        if (request.content_length or 0) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length or 0)
    return await handler(request)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Dashboard errors as readable HTML pages (redirects pass through)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 403, 405, 400, 411, 413):
            message = (exc.text or "") if exc.status == 403 else _MESSAGES.get(exc.status, "")
            return error_page(request, exc.status, exc.reason, message)
        raise


_MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing here. It may have been moved or never existed.",
    405: "That is not how this page is used.",
    411: "The form was sent without a length. Send it from the dashboard page.",
    413: "That was too large.",
}


def build_dashboard(config: DashboardConfig, media_dir: Path) -> web.Application:
    dashboard = web.Application(
        middlewares=[error_pages, small_forms, refuse_unstorable_text, auth.session_middleware, role_middleware]
    )
    dashboard[CONFIG] = config
    dashboard[TEMPLATES] = build_templates()
    dashboard[PASSWORDS] = _passwords(config)
    dashboard.cleanup_ctx.append(_prepared_passwords)
    dashboard[THROTTLE] = LoginThrottle(config)
    dashboard[OPTIONS] = FilterOptionsCache()
    dashboard[AGGREGATES] = AggregateCache()
    dashboard.router.add_get("/", home, name="review.home")
    dashboard.router.add_static("/static", STATIC, name="review.static", follow_symlinks=False)
    auth.setup_routes(dashboard)
    queue.setup_routes(dashboard)
    tip_views.setup_routes(dashboard)
    followup_views.setup_routes(dashboard)
    catalog_views.setup_routes(dashboard, media_dir)
    object_views.setup_routes(dashboard)
    campaign_views.setup_routes(dashboard)
    link_views.setup_routes(dashboard)
    funnel_views.setup_routes(dashboard)
    export.setup_routes(dashboard)
    admin_views.setup_routes(dashboard)
    announcements.setup_routes(dashboard)
    return dashboard


async def _prepared_passwords(dashboard: web.Application) -> AsyncIterator[None]:
    """The dummy password hash is made in a worker thread while the server starts serving."""
    preparing = asyncio.create_task(dashboard[PASSWORDS].prepare())
    yield
    await preparing


def _passwords(config: DashboardConfig) -> Passwords:
    return Passwords(time_cost=config.argon2_time_cost, memory_kib=config.argon2_memory_kib)


def mount_dashboard(app: web.Application, config: DashboardConfig) -> None:
    """Called from `review.setup`: the app already holds MEDIA_ROOT; the DATABASE arrives at start-up."""
    app.add_subapp("/review", build_dashboard(config, app[MEDIA_ROOT]))
    app.add_subapp("/api", build_api())
    app.on_response_prepare.append(add_security_headers)
