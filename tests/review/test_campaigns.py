"""Campaign managers: least privilege, object uploads without metadata, campaigns, links and QR codes."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image
from sqlalchemy import select

import review
from handlers.deeplinks import DeepLink, parse_payload
from review.roles import ROUTE_ROLES, TIPS
from storage.models import Campaign, CampaignStatus, ModeratorRole
from storage.repositories.catalog import CampaignFields
from storage.uow import Database
from tests.review.support import CHEAP, PASSWORD, Seeded, csrf_of, page_csrf, sign_in
from tests.review.test_access import PUBLIC, concrete, dashboard_routes
from tests.support.images import has_metadata, jpeg_with_gps
from tests.support.qr import decode_qr, needs_zbar

MANAGER = "carol"
ALIAS = re.compile(r"(?<![\w-])R-[A-HJ-NP-Z2-9]{8}(?![\w-])")  # storage.repositories.reporters.new_alias


async def add_manager(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await uow.moderators.add(MANAGER, CHEAP.hash(PASSWORD), ModeratorRole.CAMPAIGN_MANAGER)
        await uow.commit()


@pytest.fixture
async def manager(make_client: Any, seeded: Seeded, database: Database) -> TestClient[Any, Any]:
    await add_manager(database)
    client: TestClient[Any, Any] = await make_client(bot_username="TracebotTestBot")
    response = await sign_in(client, MANAGER)
    assert response.status == 303 and response.headers["Location"] == "/review/objects"
    return client


def test_every_route_has_its_roles(client: TestClient[Any, Any]) -> None:
    names = {
        route.name
        for route in client.app.router.routes()
        if route.name and route.name.startswith("review.") and route.method != "HEAD"
    }
    public = {"review.login", "review.login_submit", "review.static"}
    assert names - public == set(ROUTE_ROLES), "a route without roles is refused to everyone"


async def test_campaign_manager_is_refused_tip_content(manager: TestClient[Any, Any], seeded: Seeded) -> None:
    token = await page_csrf(manager, "/review/objects")
    names = {
        (route.method, resource.canonical): route.name or ""
        for route in manager.app.router.routes()
        if (resource := route.resource) is not None
    }
    refused = 0
    for method, path in dashboard_routes(manager.app):
        if (method, path) in PUBLIC or path.startswith("/api"):
            continue
        if ModeratorRole.CAMPAIGN_MANAGER in ROUTE_ROLES[names[method, path]]:
            continue
        data = {"csrf_token": token} if method == "POST" else None
        response = await manager.request(method, concrete(path), data=data, allow_redirects=False)
        assert response.status == 403, (method, path, response.status)
        refused += 1
    assert refused >= 12  # tips, notes, exports, the queue, object pages with tips, audit, accounts
    for path in ("/review/tips", f"/review/tips/{seeded.tips[0]}", "/review/export.csv", "/review/export.json"):
        body = await (await manager.get(path)).text()
        assert "Blaue Tasse" not in body
        assert not ALIAS.search(body)  # a tipster's alias (a bare "R-" may occur inside a CSRF token)
    # The API takes only bearer tokens: a dashboard session opens nothing there.
    assert (await manager.get("/api/tips")).status == 401
    # Aggregate statistics are open, but not a text search (counts would reveal what tips say).
    stats = await manager.get("/review/stats")
    assert stats.status == 200 and "Blaue Tasse" not in await stats.text()
    assert (await manager.get("/review/stats?q=Tasse")).status == 403
    assert (await manager.get("/review/funnel")).status == 200
    objects = await (await manager.get("/review/objects")).text()
    assert "/review/tips?object=" not in objects and "/edit" in objects
    note = await manager.post(
        f"/review/tips/{seeded.tips[0]}/notes", data={"csrf_token": token, "text": "x"}, allow_redirects=False
    )
    assert note.status == 403


async def test_moderator_cannot_manage_the_catalog(client: TestClient[Any, Any], seeded: Seeded) -> None:
    assert (await sign_in(client, "bob")).status == 303
    token = await page_csrf(client)
    assert (await client.get("/review/objects/new")).status == 403
    assert (await client.get("/review/links")).status == 403
    response = await client.post(
        "/review/campaigns/new", data={"csrf_token": token, "code": "x", "title": "x"}, allow_redirects=False
    )
    assert response.status == 403
    assert ModeratorRole.MODERATOR in TIPS and (await client.get("/review/tips")).status == 200


async def upload(client: TestClient[Any, Any], path: str, image: bytes, **fields: str) -> Any:
    token = csrf_of(await (await client.get("/review/objects/new")).text())
    form = FormData()
    form.add_field("csrf_token", token)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("image", image, filename="photo.jpg", content_type="image/jpeg")
    return await client.post(path, data=form, allow_redirects=False)


async def test_upload_is_reencoded_without_metadata(
    manager: TestClient[Any, Any], database: Database, media_dir: Path
) -> None:
    original = jpeg_with_gps()
    response = await upload(
        manager,
        "/review/objects/new",
        original,
        reference="TAO-0900",
        question="Where is this red tile from?",
        translations="de | Woher stammt diese rote Fliese? | Etwa 5 cm",
    )
    assert response.status == 303, await response.text()
    async with database.unit_of_work() as uow:
        row = await uow.objects.by_reference("TAO-0900")
    assert row is not None and row.status == "active"
    assert row.translations == {"de": {"question": "Woher stammt diese rote Fliese?", "hint": "Etwa 5 cm"}}
    stored = await asyncio.to_thread((media_dir / row.image_path).read_bytes)
    assert stored != original and not has_metadata(stored)
    kept = await asyncio.to_thread(lambda: [path.read_bytes() for path in media_dir.iterdir()])
    assert original not in kept, "the uploaded bytes are never kept"
    served = await (await manager.get(f"/review/objects/{row.id}/image")).read()
    assert served == stored
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\0" * 100, "not a PNG, JPEG or WebP"),
        (b"\xff\xd8\xff" + b"\0" * 50, "not a PNG, JPEG or WebP"),
    ],
)
async def test_bad_uploads_are_refused(manager: TestClient[Any, Any], data: bytes, message: str) -> None:
    response = await upload(manager, "/review/objects/new", data, reference="TAO-0901", question="Which shop?")
    page = await response.text()
    assert response.status == 400 and message in page
    assert 'value="TAO-0901"' in page and ">Which shop?</textarea>" in page, "what was typed is kept"


async def test_oversized_dimensions_and_bodies_are_refused(manager: TestClient[Any, Any]) -> None:
    buffer = io.BytesIO()
    Image.new("L", (7000, 20)).save(buffer, "PNG")
    response = await upload(manager, "/review/objects/new", buffer.getvalue(), reference="TAO-0902", question="Q?")
    assert response.status == 400 and "16-6000 pixels" in await response.text()
    token = await page_csrf(manager, "/review/objects")
    big = await manager.post(
        "/review/campaigns/new", data={"csrf_token": token, "title": "x" * 300_000}, allow_redirects=False
    )
    assert big.status == 413


async def make_campaign(client: TestClient[Any, Any], **fields: str) -> Any:
    token = await page_csrf(client, "/review/campaigns/new")
    data = {"csrf_token": token, "status": "active", **fields}
    return await client.post("/review/campaigns/new", data=data, allow_redirects=False)


async def test_campaign_form_saves_order_dates_and_intro(manager: TestClient[Any, Any], database: Database) -> None:
    response = await make_campaign(
        manager,
        code="spring26",
        title="Spring 2026",
        objects="tao-0002, TAO-0001",
        starts_on="2026-03-01",
        ends_on="2026-05-31",
        intro="en | Thanks for helping!\nde | Danke!",
    )
    assert response.status == 303, await response.text()
    async with database.unit_of_work() as uow:
        campaign = await uow.campaigns.by_code("spring26")
        assert campaign is not None
        ids = await uow.campaigns.object_ids(campaign.id)
        references = [(await uow.objects.get(object_id)).reference for object_id in ids]  # type: ignore[union-attr]
    assert references == ["TAO-0002", "TAO-0001"] and not campaign.all_active
    assert campaign.intro == {"en": "Thanks for helping!", "de": "Danke!"}
    assert str(campaign.starts_on) == "2026-03-01" and str(campaign.ends_on) == "2026-05-31"
    for bad, message in [
        ({"code": "spring26", "title": "Again"}, "taken"),
        ({"code": "no spaces", "title": "x"}, "letters, digits or hyphens"),
        ({"code": "c2", "title": "x", "objects": "TAO-9999"}, "Unknown objects: TAO-9999"),
        ({"code": "c3", "title": "x", "starts_on": "2026-05-01", "ends_on": "2026-04-01"}, "before the start"),
        ({"code": "c4", "title": "x", "intro": "english | hi"}, "language code"),
        ({"code": "c5", "title": "x", "status": "deleted"}, "active, paused or ended"),
    ]:
        refused = await make_campaign(manager, **bad)
        page = await refused.text()
        assert refused.status in (400, 409) and message in page, bad
        assert f'value="{bad["code"]}"' in page, "what was typed is kept"
    async with database.unit_of_work() as uow:
        assert len(list(await uow.session.scalars(select(Campaign.code)))) == 2  # the seeded one and spring26


@needs_zbar
async def test_links_and_qr_codes(manager: TestClient[Any, Any], seeded: Seeded, tmp_path: Path) -> None:
    query = f"campaign={seeded.campaign_id}&object={seeded.objects['TAO-0002']}&channel=insta"
    page = await (await manager.get(f"/review/links?{query}")).text()
    url = "https://t.me/TracebotTestBot?start=c-spring_o-TAO-0002_s-insta"
    assert url in page
    png = await manager.get(f"/review/links/code.png?{query}")
    assert png.status == 200 and png.headers["Content-Type"] == "image/png"
    assert "attachment" in png.headers["Content-Disposition"]
    decoded = await asyncio.to_thread(decode_qr, await png.read(), tmp_path)
    assert decoded == url
    assert parse_payload(decoded.partition("start=")[2]) == DeepLink("spring", "TAO-0002", "insta")
    svg = await (await manager.get(f"/review/links/code.svg?{query}")).text()
    assert svg.startswith("<svg") and f">{url.replace('&', '&amp;')}</text>" in svg and "<path" in svg
    # Too long for Telegram: said on the page, and no code is made.
    async with manager.app[review.DATABASE].unit_of_work() as uow:
        fields = CampaignFields("c" * 32, "Long", CampaignStatus.ACTIVE, True, None, None, {}, [])
        await uow.campaigns.save(seeded.campaign_id, fields)
        long_object = await uow.objects.create(
            reference="LONGREFS-12345678",
            question="Q?",
            hint=None,
            translations={},
            image_path="x.png",
            image_sha256="",
        )
        await uow.commit()
    assert long_object is not None
    long_channel = f"campaign={seeded.campaign_id}&object={long_object.id}&channel=" + "a" * 16
    too_long = await (await manager.get(f"/review/links?{long_channel}")).text()
    assert "does not fit in a Telegram link" in too_long and "Telegram allows 64" in too_long
    assert (await manager.get(f"/review/links/code.png?{long_channel}")).status == 400
    bad_tag = await (await manager.get(f"/review/links?campaign={seeded.campaign_id}&channel=no_under")).text()
    assert "channel tag" in bad_tag


async def test_admin_makes_a_campaign_manager(
    admin: TestClient[Any, Any], seeded: Seeded, make_client: Any, database: Database
) -> None:
    token = await page_csrf(admin, "/review/accounts")
    response = await admin.post(
        f"/review/accounts/{seeded.moderator_id}",
        data={"csrf_token": token, "change": "make_campaign_manager"},
        allow_redirects=False,
    )
    assert response.status == 303
    async with database.unit_of_work() as uow:
        account = await uow.moderators.get(seeded.moderator_id)
    assert account is not None and account.role == ModeratorRole.CAMPAIGN_MANAGER
    bob: TestClient[Any, Any] = await make_client()
    assert (await sign_in(bob, "bob")).status == 303
    assert (await bob.get("/review/tips")).status == 403
    assert (await bob.get("/review/objects/new")).status == 200
