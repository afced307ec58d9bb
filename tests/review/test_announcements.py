"""Announcements in the dashboard: compose, machine-translate for review, preview, send, pause, cancel."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

import review
from review.appkeys import TRANSLATOR
from storage.models import AuditEvent, ModeratorRole, OutboxMessage, Reporter
from storage.uow import Database
from tests.review.support import (
    CHEAP,
    PASSWORD,
    Seeded,
    dashboard_app,
    make_config,
    make_settings,
    page_csrf,
    seed,
    sign_in,
)
from tests.review.test_browser import ARTIFACTS
from tests.support.argos_models import build_argos_package, toy_translate
from translations.engine import TranslationEngine
from translations.models import install_package_files

ENGLISH = "The red car and the blue bag"


@pytest.fixture
async def packages(tmp_path: Path) -> Path:
    folder = tmp_path / "argos-packages"
    await asyncio.to_thread(install_package_files, [build_argos_package("en", "de", "tiny")], folder)
    return folder


@pytest.fixture
async def announcer(
    migrated_url: str, media_dir: Path, packages: Path, aiohttp_client: Any
) -> tuple[TestClient[Any, Any], Database, Seeded]:
    """An admin on a dashboard with a real (tiny) en→de argos model; three reporters want news."""
    app = dashboard_app(make_settings(migrated_url, media_dir), make_config())
    app[TRANSLATOR] = TranslationEngine(packages)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    database = client.app[review.DATABASE]
    seeded = await seed(database, media_dir)
    async with database.unit_of_work() as uow:
        ids = list((await uow.session.scalars(select(Reporter.id).order_by(Reporter.id))).all())
        await uow.session.execute(
            update(Reporter).where(Reporter.id.in_(ids[:3])).values(wants_news=True, opted_in_at=datetime.now(UTC))
        )
        await uow.session.execute(update(Reporter).where(Reporter.id == ids[1]).values(language="de"))
        await uow.session.execute(update(Reporter).where(Reporter.id == ids[2]).values(language="ja"))
        await uow.commit()
    assert (await sign_in(client)).status == 303
    return client, database, seeded


def textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>([^<]*)</textarea>', html)
    assert match, f"no textarea {name}"
    return match.group(1)


async def post(client: TestClient[Any, Any], path: str, csrf: str, **fields: str) -> Any:
    return await client.post(path, data={"csrf_token": csrf, **fields}, allow_redirects=False)


async def outbox(database: Database) -> list[tuple[str, str, Any]]:
    async with database.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.kind, OutboxMessage.state, OutboxMessage.payload).order_by(OutboxMessage.id)
        )
        return [(kind, state, payload) for kind, state, payload in rows.all()]


async def test_compose_translate_preview_send_pause_cancel(
    announcer: tuple[TestClient[Any, Any], Database, Seeded],
) -> None:
    client, database, _ = announcer
    csrf = await page_csrf(client, "/review/announcements/new")
    page = await (await client.get("/review/announcements/new")).text()
    assert "3 reporters want news" in page and 'id="text_de"' in page and 'id="text_ja"' in page

    created = await post(client, "/review/announcements", csrf, text_en=ENGLISH, object_id="")
    assert created.status == 303
    url = created.headers["Location"]

    translated = await post(client, f"{url}/translate", csrf)
    assert translated.status == 200
    html = await translated.text()
    german = toy_translate(ENGLISH, "en", "de")
    assert german != ENGLISH and textarea(html, "text_de") == german
    assert textarea(html, "text_ja") == "" and "No translation model for: ja" in html
    assert await outbox(database) == [], "translating sends nothing and saves nothing"

    reviewed = german + " (geprüft)"
    saved = await post(client, url, csrf, text_en=ENGLISH, text_de=reviewed, text_ja="", object_id="")
    assert saved.status == 303
    assert textarea(await (await client.get(url)).text(), "text_de") == reviewed

    assert (await post(client, f"{url}/preview", csrf, language="de")).status == 303
    assert await outbox(database) == [("preview", "queued", {"language": "de"})]

    assert (await post(client, f"{url}/send", csrf)).status == 303
    rows = await outbox(database)
    assert [(kind, state) for kind, state, _ in rows[1:]] == [("announcement", "queued")] * 3
    assert (await post(client, f"{url}/send", csrf)).status == 409, "sending twice is refused"
    assert (await post(client, url, csrf, text_en="changed")).status == 409, "a sent text is not edited"

    assert (await post(client, f"{url}/pause", csrf)).status == 303
    page = await (await client.get(url)).text()
    assert "(paused)" in page and re.search(r'data-count="remaining">3<', page)
    assert (await post(client, f"{url}/resume", csrf)).status == 303
    assert (await post(client, f"{url}/cancel", csrf)).status == 303
    page = await (await client.get(url)).text()
    assert re.search(r'data-count="cancelled">3<', page) and re.search(r'data-count="remaining">0<', page)

    async with database.unit_of_work() as uow:
        actions = (
            await uow.session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("announcement.%")).order_by(AuditEvent.id)
            )
        ).all()
    assert actions == [
        "announcement.create",
        "announcement.edit",
        "announcement.preview",
        "announcement.send",
        "announcement.pause",
        "announcement.resume",
        "announcement.cancel",
    ]
    listing = await (await client.get("/review/announcements")).text()
    assert ENGLISH in listing


async def test_hostile_forms_get_a_clear_4xx(announcer: tuple[TestClient[Any, Any], Database, Seeded]) -> None:
    client, database, _ = announcer
    csrf = await page_csrf(client, "/review/announcements/new")
    too_long = await post(client, "/review/announcements", csrf, text_en="x" * 5000, object_id="")
    assert too_long.status == 400 and "at most 4096" in await too_long.text()
    emoji = await post(client, "/review/announcements", csrf, text_en="\U0001f50e" * 2100, object_id="")
    assert emoji.status == 400, "2,100 emoji are 4,200 UTF-16 units: over Telegram's 4,096"
    forged_object = await post(client, "/review/announcements", csrf, text_en="Hi", object_id="99999999999999999999")
    assert forged_object.status == 400 and "Choose an object" in await forged_object.text()
    empty = await post(client, "/review/announcements", csrf, text_en="   ", object_id="")
    assert empty.status == 400
    created = await post(client, "/review/announcements", csrf, text_en="Hi", object_id="")
    url = created.headers["Location"]
    assert (await post(client, f"{url}/preview", csrf, language="xx-evil")).status == 400
    assert (await client.get("/review/announcements/99999999999999999999999")).status == 404
    assert (await post(client, "/review/announcements/424242/send", csrf)).status == 404
    assert [row for row in await outbox(database)] == []


async def test_a_broken_model_leaves_the_english_text(
    announcer: tuple[TestClient[Any, Any], Database, Seeded], packages: Path
) -> None:
    client, _, _ = announcer
    models = await asyncio.to_thread(lambda: list(packages.rglob("model.bin")))
    assert models
    for model in models:
        await asyncio.to_thread(model.write_bytes, b"corrupted")  # a real engine failure, not a stand-in
    csrf = await page_csrf(client, "/review/announcements/new")
    url = (await post(client, "/review/announcements", csrf, text_en=ENGLISH, object_id="")).headers["Location"]
    translated = await post(client, f"{url}/translate", csrf)
    assert translated.status == 200
    html = await translated.text()
    assert textarea(html, "text_de") == "" and "No translation model for: de" in html


async def test_moderators_may_read_but_not_send(
    announcer: tuple[TestClient[Any, Any], Database, Seeded], make_client: Callable[..., Any]
) -> None:
    admin, _, _ = announcer
    csrf = await page_csrf(admin, "/review/announcements/new")
    url = (await post(admin, "/review/announcements", csrf, text_en="Hi", object_id="")).headers["Location"]
    moderator: TestClient[Any, Any] = await make_client()
    assert (await sign_in(moderator, "bob")).status == 303
    assert (await moderator.get(url)).status == 200
    bob_csrf = await page_csrf(moderator, url)
    for action in ("", "/send", "/preview", "/translate", "/cancel"):
        assert (await post(moderator, url + action, bob_csrf, text_en="Hi", language="en")).status == 403


async def test_campaign_managers_write_announcements(
    announcer: tuple[TestClient[Any, Any], Database, Seeded], make_client: Callable[..., Any]
) -> None:
    _, database, _ = announcer
    async with database.unit_of_work() as uow:
        await uow.moderators.add("carol", CHEAP.hash(PASSWORD), ModeratorRole.CAMPAIGN_MANAGER)
        await uow.commit()
    manager: TestClient[Any, Any] = await make_client()
    assert (await sign_in(manager, "carol")).status == 303
    csrf = await page_csrf(manager, "/review/announcements/new")
    created = await post(manager, "/review/announcements", csrf, text_en="New objects are online", object_id="")
    assert created.status == 303
    assert re.fullmatch(r"/review/announcements/\d+", created.headers["Location"])
    assert (await post(manager, created.headers["Location"] + "/cancel", csrf)).status != 403


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_admin_writes_translates_and_sends_in_a_browser(
    announcer: tuple[TestClient[Any, Any], Database, Seeded],
    browser_page: Any,
) -> None:
    client, database, seeded = announcer
    page, base = browser_page, str(client.make_url("")).rstrip("/")
    await page.goto(f"{base}/review/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit].primary")
    await page.click("nav a[href='/review/announcements']")
    await page.click("a[href='/review/announcements/new']")

    await page.fill("#text_en", ENGLISH + " <script>alert(1)</script>")
    await page.select_option("#object_id", str(seeded.objects["TAO-0001"]))
    await page.click("#compose button[type=submit]")
    await page.wait_for_url("**/review/announcements/1")
    await page.click("form[action$='/translate'] button")
    german = await page.locator("#text_de").input_value()
    assert german.startswith(toy_translate(ENGLISH, "en", "de"))
    await page.click("#compose button[type=submit]")  # keep the reviewed translation
    await page.wait_for_url("**notice=announcement_saved")
    assert await page.locator("#text_de").input_value() == german

    await page.click("form[action$='/send'] button")
    await page.wait_for_url("**notice=announcement_send")
    assert await page.locator("[data-count=remaining]").inner_text() == "3"
    assert "<script>alert(1)</script>" in await page.locator("blockquote").inner_text()
    await page.click("form[action$='/pause'] button")
    await page.wait_for_url("**notice=announcement_pause")
    await page.click("form[action$='/cancel'] button")
    await page.wait_for_url("**notice=announcement_cancel")
    assert await page.locator("[data-count=cancelled]").inner_text() == "3"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "announcement.png"), full_page=True)
    assert [state for _, state, _ in await outbox(database)] == ["cancelled"] * 3
