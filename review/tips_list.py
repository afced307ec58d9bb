"""A read-only list of stored tips, mounted by the demo until the full dashboard lands."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from review import DATABASE

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=jinja2.select_autoescape(default=True),
    enable_async=False,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def tips_page(request: web.Request) -> web.Response:
    try:
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError:
        raise web.HTTPBadRequest(text="'before' must be a tip id") from None
    async with request.app[DATABASE].unit_of_work() as uow:
        tips = await uow.tips.newest(limit=100, before_id=before)
    body = TEMPLATES.get_template("tips.html").render(tips=tips)
    return web.Response(text=body, content_type="text/html", headers=SECURITY_HEADERS)


def setup(app: web.Application) -> None:
    app.router.add_get("/tips", tips_page)
