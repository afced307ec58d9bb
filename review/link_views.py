"""Links and QR codes for a campaign, an object, or both, with an optional channel tag."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from handlers.deeplinks import make_payload
from review.context import config, unit_of_work
from review.filters import FilterError, parse_id
from review.qrcodes import qr_png, qr_svg
from review.render import error_page, render


@dataclass(frozen=True, slots=True)
class LinkChoice:
    campaign_id: int | None
    object_id: int | None
    channel: str


@dataclass(frozen=True, slots=True)
class BuiltLink:
    url: str | None
    problem: str | None
    query: str  # the choice as a query string, for the download links


def _choice(query: MultiMapping[str]) -> LinkChoice:
    try:
        campaign_id = parse_id(query.get("campaign") or None, "campaign")
        object_id = parse_id(query.get("object") or None, "object")
    except FilterError:
        raise web.HTTPBadRequest() from None
    return LinkChoice(campaign_id, object_id, query.get("channel", "").strip()[:64])


async def build_link(request: web.Request, choice: LinkChoice) -> BuiltLink:
    """The t.me link, or why there is none (no bot username, a bad channel tag, too long)."""
    async with unit_of_work(request) as uow:
        campaign = await uow.campaigns.get(choice.campaign_id) if choice.campaign_id else None
        obj = await uow.objects.get(choice.object_id) if choice.object_id else None
    if (choice.campaign_id and campaign is None) or (choice.object_id and obj is None):
        raise web.HTTPNotFound()
    params = {"campaign": choice.campaign_id or "", "object": choice.object_id or "", "channel": choice.channel}
    query = urlencode({key: value for key, value in params.items() if value})
    username = config(request).bot_username
    if not username:
        return BuiltLink(None, "Set DASHBOARD_BOT_USERNAME to the bot's username to make links.", query)
    try:
        payload = make_payload(
            campaign.code if campaign else None, obj.reference if obj else None, choice.channel or None
        )
    except ValueError as exc:
        return BuiltLink(None, f"This combination does not fit in a Telegram link: {exc}.", query)
    return BuiltLink(f"https://t.me/{username}" + (f"?start={payload}" if payload else ""), None, query)


async def links_page(request: web.Request) -> web.StreamResponse:
    choice = _choice(request.query)
    link = await build_link(request, choice)
    async with unit_of_work(request) as uow:
        campaigns, objects = await uow.campaigns.all(), await uow.objects.all()
    return render(request, "links.html", choice=choice, link=link, campaigns=campaigns, objects=objects)


async def link_code(request: web.Request) -> web.StreamResponse:
    """The QR code as a download: PNG or SVG."""
    choice = _choice(request.query)
    link = await build_link(request, choice)
    if link.url is None:
        return error_page(request, 400, "No link", link.problem or "")
    kind = request.match_info["kind"]
    name = "tracebot-" + link.url.rpartition("=")[2] if "?start=" in link.url else "tracebot"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    if kind == "png":
        body = await asyncio.to_thread(qr_png, link.url)
        return web.Response(body=body, content_type="image/png", headers=headers)
    return web.Response(text=await asyncio.to_thread(qr_svg, link.url), content_type="image/svg+xml", headers=headers)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/links", links_page, name="review.links")
    app.router.add_get(r"/links/code.{kind:png|svg}", link_code, name="review.link_code")
